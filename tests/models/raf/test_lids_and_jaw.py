"""The rig's eyelid and jaw steps side by side (forked children) give the rig the steps give in turn, bit for bit."""

from __future__ import annotations

import os

import numpy as np
import pytest

from facerig.geometry.eyelids import close_blinks
from facerig.geometry.face_parts import find_layout
from facerig.geometry.jaw import open_jaw
from facerig.geometry.rigid import rigid_part_deltas
from facerig.models.raf.lids_and_jaw import lids_and_jaw
from fixtures.face_plate import MOUTH_Y, synthetic_head
from fixtures.profile_head import LIP_Y, profile_head

NAMES = ["browInnerUp", "eyeBlinkLeft", "eyeBlinkRight", "jawOpen", "mouthClose"]


def _rig(v: np.ndarray, lids: list, lip_y: float, seed: int) -> np.ndarray:
    """A network-like rig (5, V, 3) float32: blinks that stop short (the upper lid rows a third / half of
    the way down), a jawOpen that drops the lower face with both lips (the mouth stays shut), and a
    browInnerUp that moves everything a little (the eyeballs too: made rigid by the step)."""
    rng = np.random.default_rng(seed)
    d = np.zeros((len(NAMES), len(v), 3), np.float32)
    d[0] = 0.02 * rng.normal(size=(len(v), 3))
    for k, (lid, share) in enumerate(zip(lids, (0.3, 0.5))):
        d[1 + k, lid, 1] = -0.5 * share
    d[3, v[:, 1] < lip_y + 0.5, 1] = -0.3
    return d


def _heads():
    v, f, ix = synthetic_head(eye_z=-0.5)  # eye openings: both blinks completed; its slit mouth is stitched shut
    yield "face plate", v, f, _rig(v, ix["lids"], MOUTH_Y, 0)
    v, f, _ = profile_head("fold")  # a mouth fold the jaw step opens
    yield "profile head", v, f, _rig(v, [np.zeros(0, np.int64)] * 2, LIP_Y, 1)


def _in_turn(v, f, names, deltas, labels):
    """The steps as rig_raf ran them before: rigid eyeballs, close_blinks, then open_jaw."""
    lay = find_layout(v, f, labels)
    d = deltas.copy()
    for p in lay.eyeball_parts:
        d = rigid_part_deltas(v, d, labels == p, copy=False)
    d, lids = close_blinks(v, f, names, d, layout=lay)
    d, jaw = open_jaw(v, f, names, d, layout=lay)
    return d, lids, jaw


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("head", ["face plate", "profile head"])
def test_side_by_side_is_the_same_rig_as_in_turn(head, allow_fork, monkeypatch):
    from facerig import parallel

    name, v, f, deltas = next(h for h in _heads() if h[0] == head)
    labels = find_layout(v, f).labels
    want, want_lids, want_jaw = _in_turn(v, f, NAMES, deltas, labels)
    forks = []
    real = parallel.fork_call
    monkeypatch.setattr(parallel, "fork_call", lambda fn, *a: forks.append(fn.__name__) or real(fn, *a))
    monkeypatch.setattr(parallel, "spare_cores", lambda: 1)  # (the machine's load decides otherwise)
    monkeypatch.setitem(parallel._SETTINGS, "beside", True)  # (off by default)
    timings: dict = {}
    got, lids, jaw = lids_and_jaw(v, f, NAMES, deltas.copy(), labels, side_by_side=True, timings=timings)
    assert forks == ["_jaw_rows", "_blink_rows"]  # the jaw step and the second eye in children
    alone, lids1, jaw1 = lids_and_jaw(v, f, NAMES, deltas.copy(), labels, side_by_side=False)
    assert len(forks) == 2
    for out, rl, rj in ((got, lids, jaw), (alone, lids1, jaw1)):
        assert out.dtype == np.float32 and out.tobytes() == want.tobytes()
        assert rl == want_lids and list(rl) == list(want_lids) and rj == want_jaw
    assert {"eyelids", "jaw"} <= set(timings)
    # the steps did something here: the rig is not the network's
    changed = [n for i, n in enumerate(NAMES) if not np.array_equal(want[i], deltas[i])]
    if head == "face plate":
        assert want_lids["eyeBlinkLeft"]["completed"] and want_lids["eyeBlinkRight"]["completed"]
        assert {"eyeBlinkLeft", "eyeBlinkRight", "browInnerUp"} <= set(changed)
    else:
        assert want_jaw["status"] == "replaced" and {"jawOpen", "mouthClose"} <= set(changed)


def test_without_fork_or_either_step(monkeypatch):
    """Where the host did not allow forking the steps run in turn; each step can be left out."""
    _, v, f, deltas = next(h for h in _heads() if h[0] == "face plate")
    labels = find_layout(v, f).labels
    monkeypatch.setenv("FACERIG_NO_FORK", "1")
    want, want_lids, want_jaw = _in_turn(v, f, NAMES, deltas, labels)
    got, lids, jaw = lids_and_jaw(v, f, NAMES, deltas.copy(), labels, side_by_side=True)
    assert got.tobytes() == want.tobytes() and lids == want_lids and jaw == want_jaw
    only_jaw, no_lids, jaw2 = lids_and_jaw(v, f, NAMES, deltas.copy(), labels, close_eyes=False)
    assert no_lids is None and jaw2 == open_jaw(v, f, NAMES, deltas, layout=find_layout(v, f, labels))[1]
    np.testing.assert_array_equal(only_jaw[1:3], deltas[1:3])  # blinks untouched
    only_lids, lids3, no_jaw = lids_and_jaw(v, f, NAMES, deltas.copy(), labels, open_mouth=False)
    assert no_jaw is None and lids3 == want_lids and only_lids.tobytes() == want.tobytes()

"""How open an eye is, as facerig check measures it: one implementation for the check and the eyelid step."""

from __future__ import annotations

import numpy as np

from facerig.eval.check import check_rig
from facerig.geometry.eye_closure import blink_open_rays, eye_front
from facerig.geometry.eyelids import close_blinks
from facerig.geometry.face_parts import find_layout
from facerig.io.rig import Rig
from fixtures.face_plate import synthetic_head

NAMES = ["eyeBlinkLeft", "eyeBlinkRight", "jawOpen"]


def _blinks(v, ix, scale):
    """eyeBlinkLeft / Right / jawOpen deltas (3, V, 3): the upper lid rows come down ``scale`` x 0.5."""
    deltas = np.zeros((3, len(v), 3), np.float32)
    for k, lid in enumerate(ix["lids"]):
        deltas[k, lid, 1] = -0.5 * scale
    return deltas


def _check_closure(v, f, out):
    res = check_rig(Rig(names=NAMES, deltas=out, neutral=v, faces=f), checks=("eyelid_closure",))
    return {r["shape"]: r["value"] for r in res["rows"]}


def test_open_rays_before_and_after_a_blink():
    v, f, ix = synthetic_head(eye_z=-0.5)
    lay = find_layout(v, f)
    skin = np.flatnonzero(lay.face_part == lay.skin)
    eye = [e for e in lay.eyes if e.side == "Left"][0]
    turn = eye_front(v, f, eye, skin)
    before, after, total = blink_open_rays(v, f, eye, skin, np.zeros_like(v), turn)
    assert 0.1 * total <= before <= total and after == before  # no blink: the opening it had
    deltas = _blinks(v, ix, 0.6)
    _, part, _ = blink_open_rays(v, f, eye, skin, deltas[0], turn)
    _, full, _ = blink_open_rays(v, f, eye, skin, _blinks(v, ix, 1.0)[0], turn)
    assert full < part < before  # lids further down cover more of the eye
    # the check's eyelid closure is this measure
    assert _check_closure(v, f, deltas)["eyeBlinkLeft"] == 1.0 - part / before


def test_a_blink_within_the_margin_of_the_checks_limit_is_completed():
    v, f, ix = synthetic_head(eye_z=-0.5)  # lids outside the eyeballs
    deltas = _blinks(v, ix, 0.6)  # the lids come part of the way: ~0.2 of the eye left open
    # with a limit of 0.25 left open and no margin the step leaves these blinks as they are ...
    out0, rep0 = close_blinks(v, f, NAMES, deltas, closed=0.25, margin=0.0)
    left0 = rep0["eyeBlinkLeft"]["check_open_after"]
    assert 0.15 < left0 <= 0.25 and not rep0["eyeBlinkLeft"].get("completed")
    # ... a margin of 0.1 under it completes them until the check's own measure passes with it
    out, rep = close_blinks(v, f, NAMES, deltas, closed=0.25, margin=0.1)
    closure = _check_closure(v, f, out)
    full, _ = close_blinks(v, f, NAMES, deltas, closed=0.1, margin=0.0)  # the step's completion all the way
    for k, name in enumerate(("eyeBlinkLeft", "eyeBlinkRight")):
        assert rep[name].get("completed") and rep[name]["check_open_after"] <= 0.15
        # only as far as the margin takes: part of the added motion, leaving more open than all of it
        assert 0 < rep[name]["margin_share"] < 1
        assert np.abs(out[k] - deltas[k]).max() < np.abs(full[k] - deltas[k]).max()
        assert np.isclose(1.0 - closure[name], rep[name]["check_open_after"], atol=1e-3)  # the check agrees
    assert np.array_equal(out[2], deltas[2])  # other shapes untouched
    assert closure["eyeBlinkLeft"] > 1.0 - left0

"""The jaw step: a jawOpen that leaves a mouth closed turns the jaw about a hinge; mouthClose follows."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.geometry.face_parts import find_layout
from facerig.geometry.jaw import jaw_weights, open_jaw, turn_deltas
from facerig.geometry.lip_gap import opening
from facerig.geometry.mouth import find_mouth
from fixtures.face_plate import synthetic_head
from fixtures.profile_head import LIP_Y, profile_head

NAMES = ["eyeBlinkLeft", "jawOpen", "mouthClose"]


def _closed_jaw_rig(v: np.ndarray, ns: int) -> np.ndarray:
    """A network-like failure: jawOpen drops the whole lower face and the upper lip alike (the lips
    never part); mouthClose does nothing."""
    d = np.zeros((len(NAMES), len(v), 3), np.float32)
    low = (np.arange(len(v)) < ns) & (v[:, 1] < LIP_Y + 0.5)
    d[1, low, 1] = -0.3
    d[0, 0, 0] = 0.01  # another shape, to see it untouched
    return d


def test_turn_keeps_distances_to_the_hinge():
    v = np.random.default_rng(0).normal(size=(50, 3))
    w = np.linspace(0, 1, 50)
    hinge = np.array([0.2, -1.0])
    d = turn_deltas(v, w, hinge, 0.3)
    axis = lambda p: np.hypot(p[:, 1] - hinge[0], p[:, 2] - hinge[1])  # noqa: E731
    np.testing.assert_allclose(axis(v + d), axis(v), atol=1e-12)
    assert np.all(d[:, 0] == 0) and np.abs(d[0]).max() == 0
    front = (v[:, 2] > hinge[1] + 0.5) & (w > 0.5)
    assert np.all(d[front, 1] < 0)  # the front of the jaw goes down


def test_jaw_region_is_below_the_lips_and_takes_the_fold_apart():
    v, f, ns = profile_head("fold")
    lay = find_layout(v, f)
    mouth, _ = find_mouth(v, f, lay)
    w, lip, hinge = jaw_weights(v, f, lay, mouth)
    skin = np.arange(len(v)) < ns
    front = skin & (np.abs(v[:, 2]) < 1e-9)
    assert np.all(w[front & (v[:, 1] > LIP_Y + 0.9)] == 0)  # forehead .. upper lip stay
    assert np.all(w[front & (v[:, 1] > LIP_Y + 0.05)] < 0.1)  # the upper lip's edge follows a little at most
    assert np.all(w[front & (v[:, 1] < LIP_Y - 0.1) & (v[:, 1] > LIP_Y - 0.8)] > 0.99)  # lower lip, chin turn
    assert np.all(w[front & (v[:, 1] < LIP_Y - 1.6 * lay.scale)] == 0)  # the neck stays
    # the fold's upper wall stays, its lower wall turns with the jaw
    upper_wall = skin & (v[:, 2] < -0.1) & (v[:, 1] > LIP_Y) & (v[:, 2] > -0.7)  # the back of the fold parts
    lower_wall = skin & (v[:, 2] < -0.1) & (v[:, 1] < LIP_Y) & (v[:, 2] > -0.7)
    assert w[upper_wall].max() < 0.2 and w[lower_wall].min() > 0.8
    assert np.all(w[ns:] == 0)  # eyeballs never move
    assert hinge[0] > LIP_Y and hinge[1] < -1.0
    assert lip[front & (v[:, 1] < LIP_Y - 1.0)].max() == 0


def test_open_jaw_opens_a_closed_fold_and_mouth_close_closes_it():
    v, f, ns = profile_head("fold")
    lay = find_layout(v, f)
    d = _closed_jaw_rig(v, ns)
    keep = d.copy()
    out, rep = open_jaw(v, f, NAMES, d, layout=lay)
    np.testing.assert_array_equal(d, keep)  # input untouched
    mouth, _ = find_mouth(v, f, lay)
    assert rep["status"] == "replaced" and rep["network_opening"] < 0.1
    assert opening(v, f, lay, out[1].astype(float), mouth.inside) >= 0.1 + opening(v, f, lay, d[1].astype(float))
    assert rep["opening_after"] >= 0.1
    gap = opening(v, f, lay, out[1].astype(float), mouth.inside)
    closed = opening(v, f, lay, (out[1] + out[2]).astype(float), mouth.inside)
    assert closed <= 0.3 * gap and rep["close_after"] >= 0.7
    np.testing.assert_array_equal(out[0], d[0])  # other shapes untouched
    assert out.dtype == d.dtype and out.shape == d.shape


def test_a_jaw_that_opens_the_mouth_is_kept():
    v, f, ns = profile_head("fold")
    lay = find_layout(v, f)
    mouth, _ = find_mouth(v, f, lay)
    w, lip, hinge = jaw_weights(v, f, lay, mouth)
    d = np.zeros((len(NAMES), len(v), 3))
    d[1] = turn_deltas(v, w, hinge, 0.4)  # a jaw that opens well
    d[2] = -lip[:, None] * d[1]  # and a mouthClose that closes it
    out, rep = open_jaw(v, f, NAMES, d, layout=lay)
    assert out is d and rep["status"] == "kept" and rep["network_opening"] >= 0.12
    assert rep["network_close"] >= 0.7 and "close_after" not in rep
    # a mouthClose that leaves the lips apart is rebuilt, jawOpen kept
    d[2] = 0.0
    out, rep = open_jaw(v, f, NAMES, d, layout=lay)
    np.testing.assert_array_equal(out[1], d[1])
    assert rep["network_close"] < 0.7 <= rep["close_after"]


def test_a_zero_width_slit_is_stitched_shut_and_left_alone():
    v, f, ix = synthetic_head()
    d = np.zeros((len(NAMES), len(v), 3), np.float32)
    d[1, ix["lower"], 1] = -0.5 * ix["jaw"]
    # its lips coincide: stitched like a seam (facerig rig --seam-tolerance 0 keeps it cut)
    out, rep = open_jaw(v, f, NAMES, d)
    assert out is d and rep["status"] == "no mouth opening"


def test_no_mouth_opening_leaves_the_rig_alone():
    v, f, ns = profile_head("notch")
    d = _closed_jaw_rig(v, ns)
    out, rep = open_jaw(v, f, NAMES, d)
    assert out is d and rep["status"] == "no mouth opening"
    out, rep = open_jaw(v, f, ["eyeBlinkLeft"], d[:1])
    assert out is d[:1] or np.array_equal(out, d[:1])
    assert rep["status"] == "no jawOpen"


def test_a_rough_lip_assignment_is_blended_along_the_line():
    """A synthetic mouth whose lip-line vertices are given to the two lips in alternate columns
    (the spikes of a noisy rule): blending along the line leaves no vertex torn away from its
    neighbours along it, away from the line the field is as it was."""
    from facerig.geometry.jaw import _along_line_smooth
    from facerig.geometry.lip_tear import REACH, along_line_edges

    v, f, ns = profile_head("fold")
    lay = find_layout(v, f)
    mouth, _ = find_mouth(v, f, lay)
    S = lay.scale
    skin = np.arange(len(v)) < ns
    depth = mouth.line_y(v[:, 0]) - v[:, 1]
    side = (depth > 0).astype(float)
    band = skin & (np.abs(depth) < 0.2 * S)
    cols = np.unique(np.round(v[band, 0], 6))
    odd = np.isin(np.round(v[:, 0], 6), cols[::2])
    side[band & odd] = 1.0 - side[band & odd]  # every other column on the wrong lip
    e = along_line_edges(v, f[np.all(skin[f], 1)], mouth, S, reach=REACH)
    assert len(e) > 10
    jump = lambda s: np.abs(s[e[:, 0]] - s[e[:, 1]]).max()  # noqa: E731
    smooth = _along_line_smooth(v, f[np.all(skin[f], 1)], mouth, S, side)
    assert jump(side) == 1.0 and jump(smooth) < 0.3
    far = skin & (np.abs(depth) > 0.6 * S) & (np.abs(depth) < 0.8 * S)
    np.testing.assert_array_equal(smooth[far], side[far])  # away from the line: as it was


def test_a_nodding_snout_opens_in_the_frame_that_shows_its_mouth():
    """weboji_kangaroo (1,915 vertices) nodded 15 degrees: its snout hangs in front of the lips at
    their height, so its own frame shows no mouth; pitched back it does, and the jaw opens there."""
    from facerig.config import data_root
    from facerig.geometry.frame import pitch_matrix
    from facerig.io import read_mesh

    path = data_root() / "heads" / "weboji_kangaroo.obj"
    if not path.exists():
        pytest.skip("needs DATA/heads/weboji_kangaroo.obj (FACERIG_DATA)")
    m = read_mesh(path)
    v0, f = np.asarray(m.vertices, np.float64), m.faces
    c = 0.5 * (v0.min(0) + v0.max(0))
    P = pitch_matrix(15.0)
    v = (v0 - c) @ P.T + c
    lay = find_layout(v, f)
    assert find_mouth(v, f, lay)[0] is None
    d = np.zeros((len(NAMES), len(v), 3), np.float32)
    d[0, 0, 0] = 0.01
    assert open_jaw(v, f, NAMES, d, layout=lay, pitches=())[1]["status"] == "no mouth opening"
    out, rep = open_jaw(v, f, NAMES, d, layout=lay)
    assert rep["status"] == "replaced" and rep["pitch_deg"] in (-10.0, -20.0)
    np.testing.assert_array_equal(out[0], d[0])  # other shapes untouched
    # judged upright (the head turned back), the lips part and mouthClose closes them
    lay0 = find_layout(v0, f)
    mouth0, _ = find_mouth(v0, f, lay0)
    jaw, close = (out[k].astype(np.float64) @ P for k in (1, 2))
    gap = opening(v0, f, lay0, jaw, mouth0.inside)
    assert gap >= 0.2 and opening(v0, f, lay0, jaw + close, mouth0.inside) <= 0.3 * gap

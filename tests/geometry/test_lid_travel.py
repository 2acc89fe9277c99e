"""How far each lid travels in a blink, and where the lids meet (facerig.geometry.lid_travel)."""

from __future__ import annotations

import numpy as np

from facerig.geometry.face_parts import find_layout
from facerig.geometry.lid_travel import lid_travel
from fixtures.face_plate import EYES, HOLE, synthetic_head


def _rows(v, n_plate, ex, ey, above):
    """Plate vertices (ids) in the row just above (or below) an eye opening."""
    y = ey + HOLE[1] if above else ey - HOLE[1]
    sel = (np.abs(v[:, 0] - ex) <= HOLE[0] + 0.05) & (np.abs(v[:, 1] - y) <= 0.06)
    return np.flatnonzero(sel & (np.arange(len(v)) < n_plate))


def _setup():
    v, f, ix = synthetic_head(eye_z=-0.5)
    lay = find_layout(v, f)
    eye = next(e for e in lay.eyes if e.side == "Left")
    skin = np.flatnonzero(lay.face_part == lay.skin)
    n_plate = ix["teeth"][0]
    ex, ey = EYES[0]
    return v, f, eye, skin, _rows(v, n_plate, ex, ey, True), _rows(v, n_plate, ex, ey, False)


def test_an_upper_lid_blink_meets_at_the_lower_margin():
    v, f, eye, skin, up, low = _setup()
    blink = np.zeros_like(v)
    blink[up, 1] = -2 * HOLE[1]  # the upper margin comes down onto the lower one
    t = lid_travel(v, f, skin, eye.faces, blink, 1.0)
    assert t is not None and t.upper_n >= 3 and t.lower_n >= 3
    assert t.upper > 0.5 and abs(t.lower) < 1e-9 and abs(t.meet) < 1e-9


def test_lids_that_meet_half_way():
    v, f, eye, skin, up, low = _setup()
    blink = np.zeros_like(v)
    blink[up, 1] = -HOLE[1]
    blink[low, 1] = HOLE[1]  # both margins go to the middle
    t = lid_travel(v, f, skin, eye.faces, blink, 1.0)
    assert t.upper > 0.25 and t.lower > 0.25 and 0.35 < t.meet < 0.65
    half = lid_travel(v, f, skin, eye.faces, 0.5 * blink, 1.0)  # half the motion: half the travel
    np.testing.assert_allclose([half.upper, half.lower], [t.upper / 2, t.lower / 2], rtol=0.25)


def test_no_motion_and_the_other_eye():
    v, f, eye, skin, up, low = _setup()
    t = lid_travel(v, f, skin, eye.faces, np.zeros_like(v), 1.0)
    assert t.upper == 0 and t.lower == 0 and np.isnan(t.meet)
    blink = np.zeros_like(v)
    blink[up, 1] = -2 * HOLE[1]  # the left eye's blink moves nothing around the right eye
    right = next(e for e in find_layout(v, f).eyes if e.side == "Right")
    r = lid_travel(v, f, skin, right.faces, blink, -1.0)
    assert r.upper == 0 and r.lower == 0

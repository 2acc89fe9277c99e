"""Eyelids that close: the procedural blink and when it replaces the network's."""

from __future__ import annotations

import numpy as np

from facerig.geometry.eyelids import blink_deltas, close_blinks, eye_opening, lid_progress, seen_share
from facerig.geometry.face_parts import find_layout
from fixtures.face_plate import EYES, synthetic_head


def _eye(v, f, lay, side):
    eye = [e for e in lay.eyes if e.side == side][0]
    skin = np.flatnonzero(lay.face_part == lay.skin)
    return eye, skin, eye_opening(v, f, skin, eye.faces)


def test_opening_of_the_plate_eyes():
    v, f, _ = synthetic_head()
    lay = find_layout(v, f)
    eye, skin, op = _eye(v, f, lay, "Left")
    assert op is not None and 0.2 < op.seen < 0.9
    np.testing.assert_allclose(op.center, [*EYES[0], -0.6], atol=0.02)  # the sphere's centre
    assert np.all(op.top > op.bot)


def test_blink_closes_the_eye_without_entering_the_eyeball():
    v, f, _ = synthetic_head(eye_z=-0.3)  # lids hugging the eyeball, as real and cartoon heads have them
    lay = find_layout(v, f)
    eye, skin, op = _eye(v, f, lay, "Left")
    movable = ~np.isin(lay.labels, lay.eyeball_parts)
    d, w = blink_deltas(v, movable, op)
    assert seen_share(v + d, f, skin, eye.faces, op.center, op.radius) < 0.05 * op.seen
    # turning about the centre keeps distances to it; eyeballs and the other eye do not move
    rho0 = np.linalg.norm(v - op.center, axis=1)
    np.testing.assert_allclose(np.linalg.norm(v + d - op.center, axis=1), rho0, atol=1e-9)
    assert np.abs(d[~movable]).max() == 0
    assert np.abs(d[v[:, 0] < 0]).max() == 0
    assert 0 < w.max() <= 1 and lid_progress(d, d, w) == 1.0 and lid_progress(0 * d, d, w) == 0.0


def test_only_blinks_that_fail_are_replaced():
    v, f, ix = synthetic_head(eye_z=-0.3)
    names = ["eyeBlinkLeft", "eyeBlinkRight", "jawOpen"]
    deltas = np.zeros((3, len(v), 3), np.float32)
    for k, lid in enumerate(ix["lids"]):  # a lid row that comes all the way down
        deltas[k, lid, 1] = -0.5
    good, rep = close_blinks(v, f, names, deltas)
    assert good is deltas and not any(r.get("replaced") for r in rep.values())
    weak = deltas.copy()
    weak[0] *= 0.05  # the left blink hardly moves: replaced; the right one kept
    out, rep = close_blinks(v, f, names, weak)
    assert rep["eyeBlinkLeft"]["replaced"] and not rep["eyeBlinkRight"].get("replaced")
    assert rep["eyeBlinkLeft"]["open_after"] < 0.1 and rep["eyeBlinkLeft"]["network_open_after"] > 0.6
    np.testing.assert_array_equal(out[1:], weak[1:])

"""A head's parts: skin, eyeballs or eye holes, mouth parts."""

from __future__ import annotations

import pytest

from facerig.geometry.face_parts import boundary_loops, find_layout, fit_sphere
from fixtures.face_plate import synthetic_head


def test_layout_finds_eyeballs_and_scale():
    v, f, ix = synthetic_head()
    lay = find_layout(v, f)
    assert [e.side for e in lay.eyes] == ["Left", "Right"] and all(e.kind == "eyeball" for e in lay.eyes)
    assert lay.eyes[0].center[0] > 0 > lay.eyes[1].center[0]
    assert lay.scale == pytest.approx(2.0, abs=0.05)
    assert lay.eye_y == pytest.approx(1.0, abs=0.05)
    assert lay.mouth_parts == [int(lay.labels[ix["teeth"][0]])]
    _c, r, res = fit_sphere(v[ix["balls"][0][0] : ix["balls"][0][1]])
    assert r == pytest.approx(0.5, rel=0.02) and res < 0.02


def test_layout_eye_holes_without_eyeballs():
    v, f, ix = synthetic_head()
    plate = f[(f < ix["balls"][0][0]).all(1)]
    lay = find_layout(v, plate)
    assert [e.kind for e in lay.eyes] == ["hole", "hole"]
    assert lay.eyes[0].center[0] == pytest.approx(1.0, abs=0.05)
    # the plate's loops: outline, two eyes, the mouth slit
    assert len(boundary_loops(plate)) == 4


def test_part_rows_are_the_rows_of_each_label():
    import numpy as np

    from facerig.geometry.face_parts import _PartRows

    labels = np.random.default_rng(4).integers(0, 7, size=500)
    parts = _PartRows(labels)
    for p in range(8):  # label 7: none
        np.testing.assert_array_equal(parts.rows(p), np.flatnonzero(labels == p))

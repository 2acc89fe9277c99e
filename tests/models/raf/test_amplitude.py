"""Mouth shapes sized to a mouth past the training range (facerig.models.raf.amplitude)."""

from __future__ import annotations

import numpy as np
import pytest
from _raf_helpers import _head, _rig

from facerig.arkit import ARKIT52
from facerig.models.raf import amplitude as A


def _smiling_rig(half_width: float):
    """A flat grid (V,3) and one-hot-like deltas (52,V,3): mouthSmileLeft moves a patch about x =
    +half_width, mouthSmileRight one about -half_width, mouthPucker and eyeBlinkLeft others."""
    xs, ys = np.meshgrid(np.linspace(-1, 1, 41), np.linspace(-1, 1, 41))
    v = np.stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)], 1)
    names = list(ARKIT52)
    d = np.zeros((len(names), len(v), 3), np.float32)

    def bump(cx, cy):
        return np.exp(-((v[:, 0] - cx) ** 2 + (v[:, 1] - cy) ** 2) / 0.01)

    d[names.index("mouthSmileLeft"), :, 1] = bump(half_width, -0.5)
    d[names.index("mouthSmileRight"), :, 1] = bump(-half_width, -0.5)
    d[names.index("mouthPucker"), :, 2] = bump(0.0, -0.5)
    d[names.index("eyeBlinkLeft"), :, 1] = -bump(0.3, 0.4)
    return v, names, d


def test_smile_span_is_the_distance_between_the_smiles():
    v, names, d = _smiling_rig(0.3)
    assert A.smile_span(v, names, d) == pytest.approx(0.6, abs=0.01)
    assert A.smile_span(v * 2.0, names, d) == pytest.approx(1.2, abs=0.02)
    d[names.index("mouthSmileRight")] = 0
    assert A.smile_span(v, names, d) is None
    assert A.smile_span(v, [n for n in names if n != "mouthSmileLeft"] + ["x"], d) is None


def test_a_mouth_within_the_training_range_is_left_alone():
    v, names, d = _smiling_rig(0.3)
    before = d.copy()
    unit = 0.6 / (0.9 * A.SPAN_MAX)  # span 0.9 SPAN_MAX frame units
    out, report = A.scale_mouth(v, names, d, unit)
    assert np.array_equal(out, before)
    assert report["span"] == pytest.approx(0.9 * A.SPAN_MAX, rel=0.02)
    assert "factors" not in report


def test_a_wider_mouth_scales_the_mouth_shapes_only():
    v, names, d = _smiling_rig(0.3)
    before = d.copy()
    unit = 0.6 / (1.3 * A.SPAN_MAX)  # span 1.3 SPAN_MAX
    out, report = A.scale_mouth(v, names, d, unit)
    span = report["span"] / A.SPAN_MAX
    assert span == pytest.approx(1.3, rel=0.02)
    for group, shapes in A.SHAPES.items():
        f = span ** A.GAMMA[group]
        assert report["factors"][group] == pytest.approx(f, rel=1e-3)
        for n in shapes:
            np.testing.assert_allclose(out[names.index(n)], before[names.index(n)] * f, rtol=1e-3, atol=1e-7)
    mouth = {n for s in A.SHAPES.values() for n in s}
    for i, n in enumerate(names):
        if n not in mouth:
            assert np.array_equal(out[i], before[i]), n
    assert report["factors"]["lips"] > report["factors"]["corners"] > 1.0  # the sweep's exponents


def test_a_mouth_normal_for_its_face_is_left_alone():
    """A span past the range in head-frame units but not over the face's size (a head cropped to
    its face: a small head frame) changes nothing; past both, the smaller ratio sets the factor."""
    v, names, d = _smiling_rig(0.3)
    before = d.copy()
    unit = 0.6 / (1.3 * A.SPAN_MAX)
    out, report = A.scale_mouth(v, names, d, unit, face_size=0.6 / (0.95 * A.SPAN_FACE_MAX))
    assert np.array_equal(out, before) and "factors" not in report
    assert report["span_face"] == pytest.approx(0.95 * A.SPAN_FACE_MAX, rel=0.02)
    out, report = A.scale_mouth(v, names, d, unit, face_size=0.6 / (1.1 * A.SPAN_FACE_MAX))
    assert report["factors"]["corners"] == pytest.approx(
        (report["span_face"] / A.SPAN_FACE_MAX) ** A.GAMMA["corners"], rel=1e-3
    )
    assert 1.0 < report["factors"]["corners"] < 1.15


def test_factors_are_continuous_at_the_range_and_capped():
    assert A.mouth_factors(A.SPAN_MAX) == {g: 1.0 for g in A.SHAPES}
    assert A.mouth_factors(0.5 * A.SPAN_MAX) == {g: 1.0 for g in A.SHAPES}
    near = A.mouth_factors(A.SPAN_MAX * 1.001)
    assert all(1.0 < f < 1.01 for f in near.values())
    assert all(f == A.FACTOR_MAX for f in A.mouth_factors(10 * A.SPAN_MAX).values())
    assert A.mouth_factors(2 * A.SPAN_MAX, 0.9 * A.SPAN_FACE_MAX) == {g: 1.0 for g in A.SHAPES}
    assert A.mouth_factors(2 * A.SPAN_MAX, 1.2 * A.SPAN_FACE_MAX) == A.mouth_factors(1.2 * A.SPAN_MAX)


def test_rig_raf_scales_the_mouth_shapes_past_the_range(tiny_head, random_weights, monkeypatch):
    """In the pipeline: with the option on, the mouth shapes are the option-off rig's times the
    factors the meta reports, every other shape the same (the range lowered so the random
    network's mouth is past it); with the range as shipped nothing changes on this head."""
    v, f = _head(tiny_head)
    off = _rig(v, f, random_weights, mouth_amplitude=False)
    on = _rig(v, f, random_weights)
    assert "mouth_amplitude" not in off.meta["raf"]
    if "mouth_amplitude" not in on.meta["raf"]:
        assert np.array_equal(on.deltas, off.deltas)
    monkeypatch.setattr(A, "SPAN_MAX", 1e-6)
    monkeypatch.setattr(A, "SPAN_FACE_MAX", 1e-6)
    on = _rig(v, f, random_weights)
    factors = on.meta["raf"]["mouth_amplitude"]["factors"]
    mouth = {n: g for g, s in A.SHAPES.items() for n in s}
    for i, n in enumerate(on.names):
        if n in mouth:
            np.testing.assert_allclose(on.deltas[i], off.deltas[i] * factors[mouth[n]], rtol=2e-3, atol=1e-6)
        else:
            np.testing.assert_allclose(on.deltas[i], off.deltas[i], rtol=0, atol=1e-6)
    assert any(factors[g] > 1 for g in factors)

"""Metrics: errors in mm, active / relative / scale-invariant numbers, interpenetration."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from facerig.eval.metrics import (
    boundary_ratio,
    head_summary,
    interpenetration,
    penetration_setup,
    shape_errors,
)


def _gt(seed: int = 0, K: int = 3, V: int = 50) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(K, V, 3)) * 0.1
    d[:, V // 2 :] = 0.0  # half the vertices never move
    return d


def test_perfect_prediction_is_zero():
    gt = _gt()
    m = shape_errors(gt, gt, mm_per_unit=10.0)
    for k in ("mean_mm", "active_mm", "q95_mm", "relative", "si_mm", "si_active_mm"):
        assert np.allclose(m[k], 0.0), k
    assert np.allclose(m["si_scale"], 1.0)


def test_zero_rig_relative_is_one_and_units_scale():
    gt = _gt()
    z = np.zeros_like(gt)
    m1 = shape_errors(z, gt, mm_per_unit=1.0, active_mm=0.0)
    m10 = shape_errors(z, gt, mm_per_unit=10.0, active_mm=0.0)
    assert np.allclose(m10["mean_mm"], 10 * m1["mean_mm"])
    assert np.allclose(m10["relative"], 1.0)
    assert np.allclose(m10["active_mm"], m10["zero_active_mm"])
    # active = only moving vertices: the mean over all vertices is about half the active mean
    assert np.all(m10["mean_mm"] < m10["active_mm"])
    mag = np.linalg.norm(gt, axis=2) * 10
    assert np.allclose(m10["active_mm"], [mag[k][mag[k] > 0].mean() for k in range(3)])


def test_active_threshold_in_mm():
    gt = np.zeros((1, 4, 3))
    gt[0, :, 0] = [0.01, 0.04, 0.06, 0.2]  # units; mm_per_unit 10 -> 0.1, 0.4, 0.6, 2 mm
    pred = np.zeros_like(gt)
    m = shape_errors(pred, gt, mm_per_unit=10.0)
    assert m["active_vertices"][0] == 2
    assert m["active_mm"][0] == pytest.approx((0.6 + 2.0) / 2)


def test_scale_invariant_error():
    gt = _gt()
    m = shape_errors(2.0 * gt, gt, mm_per_unit=1.0)
    assert np.allclose(m["si_scale"], 0.5)
    assert np.allclose(m["si_mm"], 0.0, atol=1e-12)
    assert np.all(m["mean_mm"] > 0)
    # a prediction pointing the wrong way gets scale 0 (non-negative): error = zero rig's
    m = shape_errors(-gt, gt, mm_per_unit=1.0, active_mm=0.0)
    assert np.allclose(m["si_scale"], 0.0)
    assert np.allclose(m["si_active_mm"], m["zero_active_mm"])


def test_no_active_vertex_is_nan_and_skipped_in_summary():
    gt = _gt()
    gt[1] = 0.0
    m = shape_errors(np.zeros_like(gt), gt, mm_per_unit=10.0)
    assert np.isnan(m["active_mm"][1]) and np.isnan(m["relative"][1])
    s = head_summary(m)
    assert s["relative"] == pytest.approx(1.0)
    assert s["q95_mm"] == pytest.approx(np.percentile(m["errors"], 95))


def test_shape_mismatch_raises():
    with pytest.raises(ValueError):
        shape_errors(np.zeros((2, 5, 3)), np.zeros((2, 6, 3)))


def _eye_and_lid():
    """A closed "eyeball" (r = 10 mm) and an open "lid" patch 2 mm in front of it, plus a far sphere."""
    eye = trimesh.creation.icosphere(subdivisions=3, radius=10.0)
    lid = trimesh.creation.icosphere(subdivisions=3, radius=12.0)
    keep = lid.triangles_center[:, 2] > 9.0  # a cap in front of the eye (z > 0)
    lid = trimesh.Trimesh(lid.vertices, lid.faces[keep], process=False)
    lid.remove_unreferenced_vertices()
    far = trimesh.creation.icosphere(subdivisions=1, radius=2.0)
    far.apply_translation([200.0, 0, 0])
    v = np.concatenate([eye.vertices, lid.vertices, far.vertices])
    o1, o2 = len(eye.vertices), len(eye.vertices) + len(lid.vertices)
    f = np.concatenate([eye.faces, lid.faces + o1, far.faces + o2])
    return v, f, (0, o1, o2, len(v))


def test_boundary_ratio():
    s = trimesh.creation.icosphere(subdivisions=1)
    assert boundary_ratio(s.faces) == 0.0
    assert boundary_ratio(s.faces[:10]) > 0.3


def test_interpenetration_lid_through_eyeball():
    v, f, (a, b, c, d) = _eye_and_lid()
    setup = penetration_setup(v, f, mm_per_unit=1.0)
    assert setup.num_candidates > 0
    # the far sphere has no vertex near anything: never a candidate
    assert not any(np.any(ci >= c) for ci in setup.cand)
    K = 4
    deltas = np.zeros((K, len(v), 3))
    deltas[1, b:c, 2] = -4.0  # lid pushed 4 mm back: into the eyeball
    deltas[2, b:c, 2] = +3.0  # lid pulled forward: no contact
    deltas[3, a:b] = 0.0
    deltas[3, b:c, 2] = -4.0  # the eye moves back with the lid: no penetration
    deltas[3, a:b, 2] = -4.0
    r = interpenetration(v, f, deltas, mm_per_unit=1.0, setup=setup)
    assert r[0] == 0.0 and r[2] == 0.0 and r[3] == 0.0
    assert r[1] > 0.3
    # units: the same head in cm (mm_per_unit 10) gives the same ratios
    r_cm = interpenetration(v / 10, f, deltas / 10, mm_per_unit=10.0)
    assert np.allclose(r_cm, r)


def test_interpenetration_no_candidates_is_zero():
    s = trimesh.creation.icosphere(subdivisions=2)
    d = np.random.default_rng(0).normal(size=(2, len(s.vertices), 3))
    assert np.all(interpenetration(s.vertices, s.faces, d) == 0.0)


def test_completion_measures_how_far_the_motion_goes():
    from facerig.eval.metrics import completion

    rng = np.random.default_rng(0)
    g = rng.normal(size=(3, 200, 3))
    g[:, 20:] *= 0.01  # the top 5 % are among the first 20 vertices
    p = np.stack([g[0], 0.4 * g[1], np.zeros_like(g[2])])
    c = completion(p, g)
    np.testing.assert_allclose(c, [1.0, 0.4, 0.0], atol=1e-12)
    assert np.isnan(completion(np.zeros((1, 5, 3)), np.zeros((1, 5, 3)))[0])

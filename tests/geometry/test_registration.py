"""Umeyama similarity, Laplacian-regularised non-rigid ICP, part following."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from facerig.geometry.correspondence import closest_points
from facerig.geometry.registration import (
    fit_parts_to_skin,
    nonrigid_icp,
    umeyama,
    uniform_laplacian,
    vertex_normals,
)


def test_umeyama_recovers_similarity():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(30, 3))
    R = Rotation.from_euler("xyz", [20, -70, 130], degrees=True).as_matrix()
    dst = 3.5 * src @ R.T + [1.0, 2.0, -3.0]
    s, R2, t = umeyama(src, dst)
    assert s == pytest.approx(3.5)
    assert np.allclose(R2, R) and np.allclose(t, [1, 2, -3])
    s1, _, _ = umeyama(src, dst, with_scale=False)
    assert s1 == 1.0


def test_umeyama_never_reflects():
    rng = np.random.default_rng(1)
    src = rng.normal(size=(10, 3))
    dst = src * [-1, 1, 1]  # a mirror image: best proper rotation, det +1
    _, R, _ = umeyama(src, dst)
    assert np.linalg.det(R) == pytest.approx(1.0)


def test_uniform_laplacian_rows_sum_to_zero():
    m = trimesh.creation.icosphere(subdivisions=1)
    L = uniform_laplacian(len(m.vertices), m.faces)
    assert np.allclose(np.asarray(L.sum(1)).ravel(), 0)
    assert np.allclose(L.diagonal(), 1)


def test_vertex_normals_point_out_of_a_sphere():
    m = trimesh.creation.icosphere(subdivisions=2)
    n = vertex_normals(m.vertices, m.faces)
    assert np.all(np.einsum("ij,ij->i", n, m.vertices) > 0.99)


def test_nonrigid_icp_fits_an_ellipsoid_with_landmarks():
    src = trimesh.creation.icosphere(subdivisions=3, radius=1.0)
    A = np.diag([1.25, 0.85, 1.1])
    tgt_v = src.vertices @ A.T
    # the target is a differently triangulated copy of the ellipsoid
    tgt = trimesh.creation.icosphere(subdivisions=4, radius=1.0)
    tgt_v2 = tgt.vertices @ A.T
    lm = np.array([0, 5, 17, 40, 77, 120, 200, 333, 500, 600])
    res = nonrigid_icp(src.vertices, src.faces, tgt_v2, tgt.faces, src_landmarks=lm, tgt_points=tgt_v[lm])
    _, _, dist = closest_points(res.vertices, tgt_v2, tgt.faces)
    before = closest_points(src.vertices, tgt_v2, tgt.faces)[2]
    assert dist.max() < 0.01 and dist.mean() < 0.1 * before.mean()
    # and it is close to the true correspondence (the affine map), not just on the surface
    err = np.linalg.norm(res.vertices - tgt_v, axis=1).mean()
    assert err < 0.05 and err < 0.35 * np.linalg.norm(src.vertices - tgt_v, axis=1).mean()
    assert res.matched.mean() > 0.95 and res.iterations > 0


def test_parts_follow_the_skin_rigidly():
    skin = trimesh.creation.icosphere(subdivisions=2, radius=10.0)
    eye = trimesh.creation.icosphere(subdivisions=1, radius=1.0)
    eye.apply_translation([0, 0, 8.0])
    v = np.concatenate([skin.vertices, eye.vertices])
    parts = np.r_[np.zeros(len(skin.vertices)), np.ones(len(eye.vertices))].astype(int)
    mask = parts == 0
    R = Rotation.from_euler("y", 30, degrees=True).as_matrix()
    posed = v.copy()
    posed[mask] = 2.0 * v[mask] @ R.T + [1, 2, 3]
    out = fit_parts_to_skin(v, posed, mask, parts, radius=4.0)
    assert np.allclose(out[~mask], 2.0 * v[~mask] @ R.T + [1, 2, 3], atol=1e-9)
    assert np.array_equal(out[mask], posed[mask])

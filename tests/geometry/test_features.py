"""Local descriptors: boundary and other-part proximity, invariances."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from facerig.geometry.features import NUM_LOCAL_FEATURES, boundary_vertices, cross_part_operator, local_features


def _grid(n=6):
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    v = np.c_[x.ravel(), y.ravel(), np.zeros(n * n)]
    i = np.arange(n * n).reshape(n, n)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, :-1].ravel(), i[1:, 1:].ravel()
    return v, np.r_[np.c_[a, b, d], np.c_[a, d, c]]


def test_boundary_vertices_of_a_grid_and_a_sphere():
    v, f = _grid(6)
    b = boundary_vertices(len(v), f)
    assert len(b) == 20  # the 4n - 4 rim vertices
    assert set(b) == set(np.flatnonzero((v[:, 0] % 1 == 0) | (v[:, 1] % 1 == 0)))
    s = trimesh.creation.icosphere(2)
    assert boundary_vertices(len(s.vertices), s.faces).size == 0


def test_closed_single_part_has_only_normals():
    s = trimesh.creation.icosphere(2)
    F = local_features(s.vertices, s.faces)
    assert F.shape == (len(s.vertices), NUM_LOCAL_FEATURES) and F.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(F[:, :3], axis=1), 1, atol=1e-5)
    np.testing.assert_allclose((F[:, :3] * s.vertices).sum(1) / np.linalg.norm(s.vertices, axis=1), 1, atol=0.05)
    assert np.all(F[:, 3:] == 0)


def test_other_part_proximity_points_at_the_other_part():
    a = trimesh.creation.icosphere(2, radius=0.2)
    b = trimesh.creation.icosphere(2, radius=0.2)
    b.vertices += (0.41, 0.0, 0.0)  # 0.01 apart along +x
    v = np.r_[a.vertices, b.vertices]
    f = np.r_[a.faces, b.faces + len(a.vertices)]
    F = local_features(v, f)
    i = np.argmax(a.vertices[:, 0])  # the point of a closest to b
    assert F[i, 8] > 0.3 and F[i, 10] > 0.5  # close, and the direction is +x
    j = np.argmin(a.vertices[:, 0])  # far side of a: 0.41 + 0.2 away
    assert F[j, 8] < 1e-10


def test_translation_scale_and_permutation_invariance():
    v, f = _grid(7)
    v = v + np.random.default_rng(1).normal(0, 1e-3, v.shape)  # no exact ties between neighbours
    v2 = np.r_[v, v[:5] + (0.1, 0.1, 0.05)]  # a small second part (a disconnected triangle fan)
    f2 = np.r_[f, np.array([[0, 1, 2], [2, 3, 4]]) + len(v)]
    F = local_features(v2, f2)
    np.testing.assert_allclose(local_features(v2 + (5.0, -2.0, 1.0), f2), F, atol=1e-5)
    perm = np.random.default_rng(0).permutation(len(v2))
    inv = np.argsort(perm)
    np.testing.assert_allclose(local_features(v2[perm], inv[f2]), F[perm], atol=1e-5)


def _two_spheres(gap=0.01):
    a = trimesh.creation.icosphere(2, radius=0.2)
    b = trimesh.creation.icosphere(2, radius=0.2)
    b.vertices += (0.4 + gap, 0.0, 0.0)
    return np.r_[a.vertices, b.vertices], np.r_[a.faces, b.faces + len(a.vertices)], len(a.vertices)


def test_cross_part_operator_averages_only_nearby_other_parts():
    v, f, na = _two_spheres(0.01)
    S = cross_part_operator(v, f)
    assert S.shape == (len(v), len(v)) and S.dtype == np.float32
    rows = np.asarray(S.sum(1)).ravel()
    assert np.all((np.abs(rows - 1) < 1e-5) | (rows == 0))  # a weighted mean, or nothing
    coo = S.tocoo()
    assert np.all((coo.row < na) != (coo.col < na))  # never the vertex's own part
    assert np.all(np.linalg.norm(v[coo.row] - v[coo.col], axis=1) <= 0.04 + 1e-9)  # within the radius
    i = np.argmax(v[:na, 0])  # a's point facing b has b's features
    assert rows[i] == pytest.approx(1.0)
    assert rows[np.argmin(v[:na, 0])] == 0  # the far side reads nothing
    in_b = (np.arange(len(v)) >= na).astype(float)
    x = np.c_[1 - in_b, in_b]  # a one-hot "which part" feature
    np.testing.assert_allclose((S @ x)[i], [0.0, 1.0], atol=1e-6)


def test_cross_part_operator_invariances_and_single_part():
    v, f, na = _two_spheres(0.005)
    S = cross_part_operator(v, f).toarray()
    np.testing.assert_allclose(cross_part_operator(v + (3.0, -1.0, 2.0), f).toarray(), S, atol=1e-6)
    perm = np.random.default_rng(0).permutation(len(v))
    inv = np.argsort(perm)
    np.testing.assert_allclose(cross_part_operator(v[perm], inv[f]).toarray(), S[np.ix_(perm, perm)], atol=1e-6)
    s = trimesh.creation.icosphere(2)
    assert cross_part_operator(s.vertices, s.faces).nnz == 0


def test_directions_at_a_tie_move_smoothly_with_the_input():
    # vertex 0 of a small triangle sits midway between two other parts' vertices: the nearest of
    # them flips under 1e-7 noise, the direction column must not (it is their weighted mean)
    tri = np.array([[0, 0, 0], [0, 0.01, 0], [0.0, 0, 0.01]])
    out = np.array([[0, 0, 0], [0.02, 0.01, 0], [0.02, 0, 0.01]])  # pointing away: one clear nearest vertex each
    v = np.r_[tri, out * [-1, 1, 1] + [-0.05, 0, 0], out + [0.05, 0, 0]]
    f = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    rng = np.random.default_rng(0)
    cols = [local_features(v + rng.uniform(-1e-7, 1e-7, v.shape), f)[0, 10:13] for _ in range(6)]
    assert max(np.abs(c - cols[0]).max() for c in cols) < 0.01
    assert abs(cols[0][0]) < 0.01  # left and right cancel across x


def test_direction_to_a_clear_nearest_vertex_is_unchanged():
    tri = np.array([[0, 0, 0], [0, 0.01, 0], [0.0, 0, 0.01]])
    other = np.array([[0.03, 0, 0], [0.05, 0.01, 0], [0.05, 0, 0.01]])  # one vertex clearly nearest
    v = np.r_[tri, other]
    f = np.array([[0, 1, 2], [3, 4, 5]])
    out = local_features(v, f)
    assert np.allclose(out[0, 10:13], np.array([1, 0, 0]) * np.exp(-0.03 / 0.04), atol=1e-6)


def test_direction_to_a_touching_vertex_fades_out():
    tri = np.array([[0, 0, 0], [0, 0.01, 0], [0.0, 0, 0.01]])
    v = np.r_[tri, tri + [1e-6, 0, 0]]  # two parts touching (a lash root on a lid)
    f = np.array([[0, 1, 2], [3, 4, 5]])
    out = local_features(v, f)
    assert np.abs(out[:, 10:13]).max() < 0.01
    assert np.allclose(out[:, 8], 1, atol=1e-3)  # the proximity itself stays

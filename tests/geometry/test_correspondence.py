"""closest_points: exact vs brute force, part restriction, normal-aware search."""

from __future__ import annotations

import numpy as np
import trimesh

from facerig.geometry.correspondence import (
    closest_point_on_triangles,
    closest_points,
    closest_points_among,
    nearest_vertex,
)


def _brute(points, v, f):
    cp, _ = closest_point_on_triangles(points[:, None, :], v[f][None])
    return np.linalg.norm(cp - points[:, None, :], axis=2).min(axis=1)


def _concentric(r_in=1.0, r_out=1.05):
    a = trimesh.creation.icosphere(subdivisions=2, radius=r_in)
    b = trimesh.creation.icosphere(subdivisions=2, radius=r_out)
    v = np.concatenate([a.vertices, b.vertices])
    f = np.concatenate([a.faces, b.faces + len(a.vertices)])
    vparts = np.repeat([0, 1], [len(a.vertices), len(b.vertices)])
    return v, f, vparts, vparts[f[:, 0]]


def test_matches_brute_force_and_bary_reconstructs():
    m = trimesh.creation.icosphere(subdivisions=2)
    v, f = np.asarray(m.vertices) * [1.0, 2.0, 0.5], np.asarray(m.faces)
    rng = np.random.default_rng(0)
    p = rng.normal(size=(400, 3)) * 1.5
    fi, b, d = closest_points(p, v, f)
    np.testing.assert_allclose(d, _brute(p, v, f), atol=1e-12)
    assert np.all(b >= -1e-12) and np.allclose(b.sum(1), 1)
    q = np.einsum("pk,pkc->pc", b, v[f[fi]])
    np.testing.assert_allclose(np.linalg.norm(q - p, axis=1), d, atol=1e-12)
    # points on the surface map to themselves
    fi2, b2, d2 = closest_points(v, v, f)
    assert d2.max() < 1e-12


def test_mixed_triangle_sizes():
    # a fan of tiny triangles next to one huge triangle
    v = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0]], float)
    small = trimesh.creation.icosphere(1, radius=0.1).vertices + [3, 3, 0.5]
    sf = trimesh.creation.icosphere(1).faces + 3
    V = np.concatenate([v, small])
    F = np.concatenate([[[0, 1, 2]], sf])
    p = np.random.default_rng(1).uniform(-1, 6, size=(300, 3))
    _, _, d = closest_points(p, V, F)
    np.testing.assert_allclose(d, _brute(p, V, F), atol=1e-12)


def test_parts_restrict_search():
    v, f, vparts, fparts = _concentric()
    rng = np.random.default_rng(2)
    dirs = rng.normal(size=(200, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    p = dirs * 1.1  # outside both, nearest to the outer sphere
    fi, _, _ = closest_points(p, v, f)
    assert np.all(fparts[fi] == 1)
    fi, b, d = closest_points(p, v, f, point_parts=np.zeros(200, int), face_parts=fparts)
    assert np.all(fparts[fi] == 0)
    assert np.all(d > 0.08)


def test_normal_aware_search_picks_facing_sheet():
    # two parallel sheets 0.01 apart facing each other (like closed lips)
    x, y = np.meshgrid(np.linspace(0, 1, 6), np.linspace(0, 1, 6), indexing="ij")
    base = np.stack([x.ravel(), y.ravel(), np.zeros(36)], 1)
    idx = np.arange(36).reshape(6, 6)
    a, b_, c, d_ = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    up = np.concatenate([np.stack([a, b_, c], 1), np.stack([a, c, d_], 1)])  # normal +z
    v = np.concatenate([base, base + [0, 0, 0.01]])
    f = np.concatenate([up, up[:, ::-1] + 36])  # lower sheet faces +z, upper sheet faces -z
    p = np.random.default_rng(3).uniform(0.1, 0.9, size=(50, 3)) * [1, 1, 0] + [0, 0, 0.008]
    fi, _, _ = closest_points(p, v, f)
    assert np.all(fi >= len(up))  # plain search: the upper sheet is closer
    n = np.tile([0.0, 0.0, 1.0], (50, 1))
    fi, _, d = closest_points(p, v, f, point_normals=n)
    assert np.all(fi < len(up)) and np.allclose(d, 0.008)


def test_closest_among_and_nearest_vertex():
    m = trimesh.creation.icosphere(subdivisions=1)
    v, f = np.asarray(m.vertices), np.asarray(m.faces)
    p = v[:5] * 1.2
    fi, b, d = closest_points_among(p, v, f, np.arange(5), np.array([0, 1, 2, 3, 4]))
    np.testing.assert_array_equal(fi, np.arange(5))
    idx, dist = nearest_vertex(p, v)
    np.testing.assert_array_equal(idx, np.arange(5))
    np.testing.assert_allclose(dist, 0.2)
    vp = np.zeros(len(v), int)
    vp[:5] = 1
    idx, _ = nearest_vertex(p, v, point_parts=np.zeros(5, int), vertex_parts=vp)
    assert np.all(idx >= 5)

"""The one vertex_normals: unit area-weighted normals, a defined answer on degenerate vertices."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from facerig.geometry.normals import vertex_normals


def test_unit_normals_of_a_sphere_point_outward():
    import trimesh

    s = trimesh.creation.icosphere(3)
    n = vertex_normals(s.vertices, s.faces)
    v = np.asarray(s.vertices)
    assert np.allclose(np.linalg.norm(n, axis=1), 1)
    assert np.einsum("ij,ij->i", n, v / np.linalg.norm(v, axis=1, keepdims=True)).min() > 0.99


def test_area_weighting():
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 3], [0, -1, 0.0]])
    f = np.array([[0, 1, 2], [0, 4, 3]])  # a small xy triangle and a large xz one
    n = vertex_normals(v, f)[0]
    fn = np.cross(v[1] - v[0], v[2] - v[0]) + np.cross(v[4] - v[0], v[3] - v[0])
    assert np.allclose(n, fn / np.linalg.norm(fn))


def test_isolated_and_cancelling_vertices():
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [5, 5, 5.0]])
    f = np.array([[0, 1, 2], [0, 2, 1]])  # two faces with opposite windings cancel everywhere
    n = vertex_normals(v, f)
    assert np.allclose(n, [0, 0, 1])  # no usable normal anywhere: +Z
    # with neighbours: the plane through them (here the xy plane) for the cancelling ones
    adj = sp.csr_matrix(np.array([[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]]))
    v2 = np.vstack([v, [[1, 1, 0]]])
    adj2 = sp.block_diag([adj, sp.csr_matrix((1, 1))]).tolil()
    adj2[0, 4] = adj2[4, 0] = 1
    n2 = vertex_normals(v2, f, adj2)
    assert np.allclose(np.abs(n2[0]), [0, 0, 1])
    assert np.allclose(n2[3], [0, 0, 1])  # isolated, no neighbours: +Z


def _sheet(n=6):
    """A grid and its back face (same vertices, opposite winding) as one double-sided sheet."""
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    v = np.c_[x.ravel(), y.ravel(), np.zeros(n * n)]
    i = np.arange(n * n).reshape(n, n)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, :-1].ravel(), i[1:, 1:].ravel()
    f = np.r_[np.c_[a, b, d], np.c_[a, d, c]]
    return v, np.r_[f, f[:, ::-1]]


def test_fade_keeps_ordinary_normals_exactly():
    import trimesh

    s = trimesh.creation.icosphere(3)
    v = np.asarray(s.vertices) * [1.0, 0.6, 1.3]
    assert np.array_equal(vertex_normals(v, s.faces, fade=0.2), vertex_normals(v, s.faces))


def test_fade_makes_cancelling_normals_stable_under_tiny_noise():
    v, f = _sheet()
    rng = np.random.default_rng(0)
    noisy = [v + rng.uniform(-1e-6, 1e-6, v.shape) for _ in range(4)]
    plain = [vertex_normals(x, f) for x in noisy]
    faded = [vertex_normals(x, f, fade=0.2) for x in noisy]
    # the plain normals of a back-to-back sheet are the noise's: they turn by up to 180 degrees
    assert max(np.linalg.norm(p - plain[0], axis=1).max() for p in plain[1:]) > 0.5
    assert max(np.linalg.norm(p - faded[0], axis=1).max() for p in faded[1:]) < 0.01
    assert np.allclose(faded[0], [0, 0, 1], atol=0.01)  # the fallback (+Z without neighbours)
    assert np.allclose(np.linalg.norm(faded[0], axis=1), 1)


def test_fade_makes_normals_of_degenerate_faces_stable():
    # vertex 3 lies on vertex 1 (a zero-length edge): its only face has no normal
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 0.0]])
    f = np.array([[0, 1, 2], [1, 3, 4]])
    rng = np.random.default_rng(1)
    n = [vertex_normals(v + rng.uniform(-1e-6, 1e-6, v.shape), f, fade=0.2)[3] for _ in range(4)]
    assert max(np.linalg.norm(x - n[0]) for x in n) < 0.01
    plain = [vertex_normals(v + rng.uniform(-1e-6, 1e-6, v.shape), f)[3] for _ in range(4)]
    assert max(np.linalg.norm(x - plain[0]) for x in plain) > 0.5

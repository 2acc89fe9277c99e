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

"""Decimated vertices thrown off a flat-faceted surface are put back on it (robustness sweep: a
subdivided head's proxy spanned hundreds of head widths)."""

import numpy as np
import trimesh

from facerig.geometry.decimate import snap_collapsed
from facerig.geometry.proxy import build_proxy


def _subdivided_icosphere(levels=3):
    m = trimesh.creation.icosphere(0)
    v, f = m.vertices, m.faces
    for _ in range(levels):  # midpoint subdivision: the same flat facets, many coplanar triangles
        v, f = trimesh.remesh.subdivide(v, f)
    return np.asarray(v, np.float64), np.asarray(f, np.int64)


def test_proxy_of_a_flat_faceted_mesh_stays_on_it():
    v, f = _subdivided_icosphere()
    proxy = build_proxy(v, f, target_vertices=len(v) // 8, weld=0.0)
    assert not proxy.identity
    lo, hi = v.min(0), v.max(0)
    assert (proxy.vertices >= lo - 1e-6).all() and (proxy.vertices <= hi + 1e-6).all()
    # and every input vertex reads a point near itself
    full = proxy.to_full(proxy.vertices[None])[0]
    assert np.linalg.norm(full - v, axis=1).max() < 0.5


def test_snap_collapsed_moves_only_vertices_far_from_their_cluster():
    v = np.array([[0.0, 0, 0], [0.1, 0, 0], [1.0, 0, 0], [1.1, 0, 0], [2.0, 1, 0]])
    origin = np.array([0, 0, 1, 1, 2])
    points = np.array([[0.05, 0.01, 0], [40.0, 3.0, 0], [2.0, 1.0, 0]])  # cluster 1 thrown off
    out, moved = snap_collapsed(points, v, origin)
    assert moved == 1
    np.testing.assert_array_equal(out[[0, 2]], points[[0, 2]])
    np.testing.assert_array_equal(out[1], v[3])  # its member nearest to where it was thrown
    same, none = snap_collapsed(points[[0, 0, 2]], v, np.array([0, 0, 1, 1, -1]) * 0)
    assert none == 0 and np.array_equal(same, points[[0, 0, 2]])

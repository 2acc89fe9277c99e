"""Rigging a coarse head on a subdivided copy of it (``rig_raf``'s ``densify`` option).

The network runs on the head itself when it has fewer than ~9.6k vertices (no proxy,
:func:`facerig.geometry.proxy.build_proxy`), so a 1.5k-vertex head is seen at 1.5k vertices,
where its DiffusionNet operators, heat-kernel signatures and local descriptors are coarse. In
family, on validation heads re-triangulated at 1-5k vertices with their ground truth carried
exactly (``benchmarks/resolution_study.py``, BENCHMARKS.md "Mesh resolution"), a coarse head's
rig is a little less accurate than the same head rigged at full resolution, but its motion is
neither broader nor stronger.

:func:`rig_densified` rigs the head's midpoint subdivision (:func:`midpoint_subdivide`: every
triangle split in four, the input's vertices kept first, in place and in order, so the surface
is unchanged) and keeps the rows of the input's own vertices: same vertex count and order. In
family it takes back part of a coarse head's loss (mean relative error over 8 validation heads
re-triangulated at ~1.1k vertices 0.238 -> 0.218, ~1.6k 0.208 -> 0.199, full resolution 0.17; none at
~2.1k, hence :data:`DENSIFY_BELOW`); out of family it does not help (relative 0.827 -> 0.831 over the
author heads, one Rocketbox head's blink completion 0.94 -> 0.72) and the Rocketbox heads' mouth shapes
stay 3-4 times their authors' (not a resolution effect), so it is off by default
(``facerig rig --densify``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: Vertex count below which ``rig_raf`` rigs a subdivided copy when ``densify=True``: between the
#: in-family study's ~1.6k-vertex heads (densified: lower error) and its ~2.1k ones (no gain).
DENSIFY_BELOW = 1800


def midpoint_subdivide(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One midpoint subdivision (``trimesh.remesh.subdivide``): every triangle split in four.

    Args:
        vertices: (V, 3) positions. faces: (F, 3) int triangles.

    Returns:
        ``(vertices (V + E, 3) float64, faces (4F, 3) int64)``: rows ``0..V-1`` are the input's
        vertices, unchanged and in order, then one vertex at the middle of each of the E edges.
    """
    import trimesh

    v = np.asarray(vertices, np.float64)
    sv, sf = trimesh.remesh.subdivide(v, np.asarray(faces, np.int64))
    return np.asarray(sv, np.float64), np.asarray(sf, np.int64)


def rig_densified(rig: Callable[..., Any], mesh, options: dict, below: int = DENSIFY_BELOW) -> Any:
    """``rig(dense_mesh, **options)`` on ``mesh``'s midpoint subdivision, cut back to ``mesh``'s vertices.

    Args:
        rig: the rigging function (``rig_raf``), returning a ``MethodOutput`` with deltas (Q, V', 3).
        mesh: the input :class:`facerig.io.mesh.Mesh` (V vertices; only vertices and faces are used).
        options: ``rig``'s keyword options for the subdivided head (``densify`` off; ``probe_vertices``
            is set to 0: the face probe runs on the subdivided head, not on a decimation of it).
        below: the vertex count below which the caller densifies (recorded in the meta).

    Returns:
        The output with deltas (Q, V, 3) float32 (the input's rows) and ``meta["raf"]["densified"]``
        (``{"vertices": V', "below": below}``).
    """
    from facerig.io.mesh import Mesh

    V = int(np.asarray(mesh.vertices).shape[0])
    sv, sf = midpoint_subdivide(mesh.vertices, mesh.faces)
    # the face probe on the subdivided head itself: a quadric decimation of its flat facets can
    # leave a singular Laplacian (a 1.7k-vertex Rocketbox head's probe mesh did)
    out = rig(Mesh(vertices=sv, faces=sf), **{**options, "probe_vertices": 0})
    out.deltas = np.ascontiguousarray(out.deltas[:, :V])
    out.meta.setdefault("raf", {})["densified"] = {"vertices": int(sv.shape[0]), "below": int(below)}
    return out

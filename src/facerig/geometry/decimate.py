"""Quadric decimation whose vertices stay on the input surface.

:func:`facerig.geometry.proxy.build_proxy` decimates with ``fast_simplification.simplify`` and
rebuilds the result with ``replay_simplification`` (which also gives each input vertex the proxy
vertex it was collapsed into). On flat regions (a subdivided low-poly head, a planar patch of a
scan, a CAD-like robot) the replay places some collapsed vertices far off the surface, where the
quadric error's minimum is ill-conditioned: a 120k-vertex midpoint subdivision of a 2k-vertex head
gave a proxy spanning 600 head widths and the face probe found no face; an icosphere subdivided
three times, decimated to an eighth, spans 12 times its size (``simplify`` alone stays on it).

:func:`snap_collapsed` puts such a vertex back: a decimated vertex lying farther from the input
vertices collapsed into it than their own extent (plus :data:`SLACK`) is moved to the nearest of
them (a point of the input surface, as the decimation's topology expects). Vertices placed
sensibly are kept as they are: no proxy vertex of the public or validation heads moves.
"""

from __future__ import annotations

import numpy as np

#: How far beyond its cluster's extent a decimated vertex may lie, as a fraction of the mesh's
#: bounding-box diagonal, before :func:`snap_collapsed` moves it.
SLACK = 0.02


def snap_collapsed(points: np.ndarray, vertices: np.ndarray, origin: np.ndarray) -> tuple[np.ndarray, int]:
    """Decimated vertices thrown off their cluster, moved back onto it.

    Args:
        points: (P, 3) decimated vertices. vertices: (V, 3) input vertices. origin: (V,) int the
            decimated vertex each input vertex was collapsed into (-1: none, ignored).

    Returns:
        ``(points (P, 3) float64, number moved)``: a copy where each decimated vertex farther
        than its cluster's bounding-box diagonal (plus :data:`SLACK` x the mesh's size and the
        decimation's float32 rounding) from the cluster's bounding box is replaced by its
        cluster's input vertex nearest to it.
    """
    p = np.array(points, dtype=np.float64)
    v = np.asarray(vertices, dtype=np.float64)
    origin = np.asarray(origin, dtype=np.int64)
    ok = (origin >= 0) & (origin < len(p))
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return p, 0
    o = origin[idx]
    lo = np.full_like(p, np.inf)
    hi = np.full_like(p, -np.inf)
    np.minimum.at(lo, o, v[idx])
    np.maximum.at(hi, o, v[idx])
    has = np.isfinite(lo[:, 0])
    diag = np.where(has, np.linalg.norm(np.where(has[:, None], hi - lo, 0.0), axis=1), 0.0)
    outside = np.linalg.norm(np.maximum(lo - p, 0) + np.maximum(p - hi, 0), axis=1)
    outside = np.where(has, outside, 0.0)
    # allow 2 % of the mesh's size (and the decimation's float32 rounding): no vertex of the public
    # or validation heads' proxies moves (their worst is 1.3 %); the thrown-off ones are far beyond
    slack = SLACK * float(np.linalg.norm(np.ptp(v[idx], axis=0))) + 1e-5 * float(np.abs(v[idx]).max())
    bad = has & ((outside > diag + slack) | ~np.isfinite(p).all(1))
    if not bad.any():
        return p, 0
    sel = idx[bad[o]]
    so = origin[sel]
    d = np.linalg.norm(v[sel] - np.where(np.isfinite(p[so]), p[so], 0.0), axis=1)
    order = np.lexsort((d, so))  # per cluster, its nearest input vertex first
    first = order[np.r_[True, so[order][1:] != so[order][:-1]]]
    p[so[first]] = v[sel[first]]
    return p, int(bad.sum())

"""Closest points on a triangle surface (optionally restricted to the same part).

``closest_points(points, vertices, faces)`` is exact (not approximate): an upper bound per point
comes from its nearest face centroids (``scipy.spatial.cKDTree``); faces are binned by
circumradius and a ball query per bin (radius = bound + the bin's largest circumradius) returns
every face that could be closer; exact point-triangle distances decide. With ``point_parts`` /
``face_parts`` each point only sees the faces of its own part.

Optionally ``point_normals`` (P,3) make the search normal-aware: faces whose unit normal has
``dot(face_normal, point_normal) < min_normal_dot`` are skipped (so a point on the upper lip does
not snap onto the touching lower lip). A point with no such face among its nearest candidates
falls back to the unrestricted closest face. ``closest_points_among`` searches explicit
(point, face) candidate pairs (``remesh`` uses it with each vertex's origin patch).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def closest_point_on_triangles(points: np.ndarray, tris: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closest point of each point to its paired triangle (Ericson, Real-Time Collision Detection).

    points (...,3), tris (...,3,3) broadcastable -> (closest (...,3), bary (...,3)) with
    ``closest = sum_k bary[...,k] * tris[...,k,:]``, bary >= 0 summing to 1. Degenerate
    triangles are handled (the result is still on the triangle's convex hull).
    """
    p = np.asarray(points, dtype=np.float64)
    a, b, c = tris[..., 0, :], tris[..., 1, :], tris[..., 2, :]
    shape = np.broadcast_shapes(p.shape[:-1], a.shape[:-1])
    ab, ac, ap = b - a, c - a, p - a
    d1 = np.einsum("...i,...i->...", ab, ap)
    d2 = np.einsum("...i,...i->...", ac, ap)
    bp = p - b
    d3 = np.einsum("...i,...i->...", ab, bp)
    d4 = np.einsum("...i,...i->...", ac, bp)
    cp = p - c
    d5 = np.einsum("...i,...i->...", ab, cp)
    d6 = np.einsum("...i,...i->...", ac, cp)
    vc = d1 * d4 - d3 * d2
    vb = d5 * d2 - d1 * d6
    va = d3 * d6 - d5 * d4

    bary = np.zeros(shape + (3,))
    done = np.zeros(shape, dtype=bool)

    def put(mask, u, v, w):
        nonlocal done
        m = mask & ~done
        bary[..., 0] = np.where(m, u, bary[..., 0])
        bary[..., 1] = np.where(m, v, bary[..., 1])
        bary[..., 2] = np.where(m, w, bary[..., 2])
        done = done | m

    with np.errstate(divide="ignore", invalid="ignore"):
        one, zero = np.ones(shape), np.zeros(shape)
        # vertex regions
        put((d1 <= 0) & (d2 <= 0), one, zero, zero)
        put((d3 >= 0) & (d4 <= d3), zero, one, zero)
        put((d6 >= 0) & (d5 <= d6), zero, zero, one)
        # edge regions
        t = np.clip(d1 / (d1 - d3), 0, 1)
        put((vc <= 0) & (d1 >= 0) & (d3 <= 0), 1 - t, t, zero)
        t = np.clip(d2 / (d2 - d6), 0, 1)
        put((vb <= 0) & (d2 >= 0) & (d6 <= 0), 1 - t, zero, t)
        t = np.clip((d4 - d3) / ((d4 - d3) + (d5 - d6)), 0, 1)
        put((va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0), zero, 1 - t, t)
        # interior
        denom = va + vb + vc
        v = vb / denom
        w = vc / denom
        ok = np.isfinite(v) & np.isfinite(w)
        put(ok, 1 - v - w, v, w)
        # anything left (degenerate): nearest vertex
        if not done.all():
            dists = np.stack(
                [np.linalg.norm(p - a, axis=-1), np.linalg.norm(p - b, axis=-1), np.linalg.norm(p - c, axis=-1)], -1
            )
            nv = np.argmin(dists, -1)
            e = np.eye(3)[nv]
            put(np.ones(shape, bool), e[..., 0], e[..., 1], e[..., 2])
    closest = np.einsum("...k,...ki->...i", bary, tris)
    return closest, bary


def _face_normals(tris: np.ndarray) -> np.ndarray:
    n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    ln = np.linalg.norm(n, axis=1, keepdims=True)
    return n / np.where(ln > 0, ln, 1.0)


def _closest_single(points, tris, normals=None, point_normals=None, min_dot=0.0, seeds=8):
    """Exact closest face in ``tris`` (F,3,3) for points (P,3) -> (local face (P,), bary, dist).

    1. An upper bound ``ub`` per point from its ``seeds`` nearest face centroids.
    2. Faces are binned by circumradius R (powers of two of the median); per bin a KD-tree over
       centroids returns every face with centroid distance <= ub + R_max(bin) -- a superset of
       the faces that can be closer than ``ub``. 3. Exact distances on those pairs, min per point.
    """
    P, F = points.shape[0], tris.shape[0]
    cent = tris.mean(axis=1)
    R = np.linalg.norm(tris - cent[:, None, :], axis=2).max(axis=1)
    tree = cKDTree(cent)
    use_normals = point_normals is not None and normals is not None

    kk = int(min(seeds, F))
    _, ic = tree.query(points, k=kk)
    ic = ic.reshape(P, kk)
    cp, _ = closest_point_on_triangles(points[:, None, :], tris[ic])
    d = np.linalg.norm(cp - points[:, None, :], axis=2)
    filt = np.zeros(P, dtype=bool)  # points searched among normal-compatible faces only
    if use_normals:
        ok = np.einsum("pkc,pc->pk", normals[ic], point_normals) >= min_dot
        filt = ok.any(axis=1)
        d = np.where(filt[:, None] & ~ok, np.inf, d)
    ub = d.min(axis=1) * (1 + 1e-9) + 1e-12

    med = float(np.median(R)) if F else 0.0
    med = med if med > 0 else 1.0
    bins = np.maximum(0, np.ceil(np.log2(np.maximum(R, 1e-300) / med))).astype(int)
    pts_list, face_list = [], []
    for b in np.unique(bins):
        fb = np.flatnonzero(bins == b)
        tb = cKDTree(cent[fb])
        lists = tb.query_ball_point(points, ub + R[fb].max())
        counts = np.fromiter((len(x) for x in lists), dtype=np.int64, count=P)
        if counts.sum() == 0:
            continue
        flat = np.fromiter((i for x in lists for i in x), dtype=np.int64, count=int(counts.sum()))
        pts_list.append(np.repeat(np.arange(P), counts))
        face_list.append(fb[flat])
    face = ic[np.arange(P), np.argmin(d, axis=1)]
    pi = np.concatenate(pts_list) if pts_list else np.zeros(0, np.int64)
    fi = np.concatenate(face_list) if face_list else np.zeros(0, np.int64)
    # always include the seed winner so every point has a candidate
    pi = np.concatenate([pi, np.arange(P)])
    fi = np.concatenate([fi, face])
    reject = None
    if use_normals:
        okp = np.einsum("nc,nc->n", normals[fi], point_normals[pi]) >= min_dot
        reject = filt[pi] & ~okp
    return _best_pairs(points, tris, pi, fi, reject)


def _best_pairs(points, tris, pi, fi, reject=None):
    """Best of candidate (point pi[n], face fi[n]) pairs -> (face (P,), bary (P,3), dist (P,)).

    Every point 0..P-1 must appear in ``pi``. ``reject`` (n,) bool marks pairs to skip.
    """
    cpp, bcc = closest_point_on_triangles(points[pi], tris[fi])
    dd = np.linalg.norm(cpp - points[pi], axis=1)
    if reject is not None:
        dd = np.where(reject, np.inf, dd)
    order = np.lexsort((dd, pi))
    first = np.ones(order.size, dtype=bool)
    first[1:] = pi[order[1:]] != pi[order[:-1]]
    sel = order[first]  # one per point, in point order
    if sel.size != points.shape[0]:
        raise ValueError("every point needs at least one candidate face")
    return fi[sel], bcc[sel], dd[sel]


def closest_points_among(
    points: np.ndarray,
    vertices: np.ndarray,
    faces: np.ndarray,
    point_index: np.ndarray,
    face_index: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closest point of each point among its own candidate faces.

    points (P,3), vertices (V,3), faces (F,3); candidate pairs point_index (n,) / face_index (n,)
    (every point needs at least one) -> face_idx (P,), bary (P,3), dist (P,) as in
    :func:`closest_points`.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    tris = np.asarray(vertices, dtype=np.float64)[np.asarray(faces, dtype=np.int64)]
    return _best_pairs(points, tris, np.asarray(point_index, np.int64), np.asarray(face_index, np.int64))


def closest_points(
    points: np.ndarray,
    vertices: np.ndarray,
    faces: np.ndarray,
    *,
    point_parts: np.ndarray | None = None,
    face_parts: np.ndarray | None = None,
    point_normals: np.ndarray | None = None,
    min_normal_dot: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closest point on the surface for each query point.

    points (P,3), vertices (V,3), faces (F,3) int; optional point_parts (P,) and face_parts (F,)
    int labels (both or neither): each point only considers faces of its own part (a point whose
    part has no faces falls back to all faces). Optional point_normals (P,3): normal-aware search,
    see the module doc.

    Returns face_idx (P,) int64, bary (P,3) f64 (closest = sum_k bary[:,k] * vertices[faces[face_idx,k]]),
    dist (P,) f64 Euclidean distance.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    P = points.shape[0]
    if faces.shape[0] == 0:
        raise ValueError("closest_points needs at least one face")
    tris = vertices[faces]
    normals = _face_normals(tris) if point_normals is not None else None
    pn = None
    if point_normals is not None:
        pn = np.asarray(point_normals, dtype=np.float64).reshape(-1, 3)
    face_idx = np.zeros(P, dtype=np.int64)
    bary = np.zeros((P, 3))
    dist = np.zeros(P)
    if P == 0:
        return face_idx, bary, dist
    if (point_parts is None) != (face_parts is None):
        raise ValueError("give both point_parts and face_parts, or neither")
    if point_parts is None:
        groups = [(np.arange(P), np.arange(faces.shape[0]))]
    else:
        point_parts = np.asarray(point_parts).reshape(-1)
        face_parts = np.asarray(face_parts).reshape(-1)
        groups = []
        all_faces = np.arange(faces.shape[0])
        for part in np.unique(point_parts):
            pi = np.flatnonzero(point_parts == part)
            fi = np.flatnonzero(face_parts == part)
            groups.append((pi, fi if fi.size else all_faces))
    for pi, fi in groups:
        f, b, d = _closest_single(
            points[pi],
            tris[fi],
            None if normals is None else normals[fi],
            None if pn is None else pn[pi],
            min_normal_dot,
        )
        face_idx[pi] = fi[f]
        bary[pi] = b
        dist[pi] = d
    return face_idx, bary, dist


def nearest_vertex(
    points: np.ndarray,
    vertices: np.ndarray,
    *,
    point_parts: np.ndarray | None = None,
    vertex_parts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest vertex for each point: points (P,3), vertices (V,3) -> (index (P,) int64, dist (P,)).

    With point_parts (P,) and vertex_parts (V,) each point only considers vertices of its part.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    vertices = np.asarray(vertices, dtype=np.float64)
    idx = np.zeros(points.shape[0], dtype=np.int64)
    dist = np.zeros(points.shape[0])
    if point_parts is None:
        d, i = cKDTree(vertices).query(points)
        return i.astype(np.int64), d
    point_parts = np.asarray(point_parts)
    vertex_parts = np.asarray(vertex_parts)
    for part in np.unique(point_parts):
        pi = np.flatnonzero(point_parts == part)
        vi = np.flatnonzero(vertex_parts == part)
        if vi.size == 0:
            vi = np.arange(vertices.shape[0])
        d, i = cKDTree(vertices[vi]).query(points[pi])
        idx[pi], dist[pi] = vi[i], d
    return idx, dist

"""Random re-triangulation of a (multi-part) mesh whose vertices stay exactly on the source surface.

``remesh(vertices, faces, target_vertices, parts=None, seed=0)`` gives a new mesh with about
``target_vertices`` vertices and a different triangulation, built part by part:

1. the vertex budget is split over parts by surface area (each part gets at least
   ``min(min_part_vertices, its own vertex count)``);
2. a part whose budget is more than half its vertex count is first refined by midpoint
   subdivision (vectorised here, tracking which source face each new vertex lies on) until it
   has >= 2x its budget, so every part is decimated by at least 2x;
3. its vertices are jittered tangentially (random, by ``seed``) and the part is decimated with
   quadric edge collapse (``fast_simplification.simplify`` + ``replay_simplification``, which
   also says which input vertices collapsed into each output vertex), then relaxed by a couple
   of tangential smoothing steps (boundaries fixed) to remove most slivers and fold-overs;
4. every new vertex is projected onto the closest point of its *origin patch*: the source faces
   under the vertices that collapsed into it, grown by one ring of source faces
   (:func:`facerig.geometry.correspondence.closest_points_among`). The patch is connected on
   the source surface and lies in the vertex's own part, so a vertex can never land on another
   part, nor jump across a closed mouth slit onto the touching other lip of the same component.
   This gives its source triangle ``src_face`` and barycentrics ``bary``;
5. vertex order is shuffled.

So ``interpolate(values, faces, out.src_face, out.bary)`` carries any per-vertex quantity
(positions, blendshape deltas) exactly onto the new mesh within each part. ``Remeshed.info``
reports the projection distance relative to the local edge length (``max_rel_dist``) and the
number of vertices beyond ``outlier_rel_dist`` (``outliers``); those still lie on the surface,
only the decimated shape was off there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from facerig.geometry.components import connected_components
from facerig.geometry.normals import vertex_normals


@dataclass
class Remeshed:
    """A remeshed surface (V' vertices, F' faces).

    vertices (V',3) f64 on the source surface, faces (F',3) i64, parts (V',) labels of the
    source part each vertex lies on, src_face (V',) i64 index into the source faces,
    bary (V',3) f64 barycentrics in that face, info dict (per-part counts, projection stats).
    """

    vertices: np.ndarray
    faces: np.ndarray
    parts: np.ndarray
    src_face: np.ndarray
    bary: np.ndarray
    info: dict = field(default_factory=dict)


def interpolate(values: np.ndarray, src_faces: np.ndarray, src_face: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """Barycentric transfer of per-vertex values onto remeshed vertices.

    values (...,V,C), src_faces (F,3) int, src_face (V',) int, bary (V',3) -> (...,V',C)
    (same dtype as ``values`` for floating input).
    """
    values = np.asarray(values)
    idx = np.asarray(src_faces)[np.asarray(src_face)]  # (V',3)
    b = np.asarray(bary)
    out_dtype = values.dtype if np.issubdtype(values.dtype, np.floating) else np.float64
    b = b.astype(out_dtype, copy=False)
    g = values[..., idx, :]  # (...,V',3,C)
    return np.einsum("...vkc,vk->...vc", g, b).astype(out_dtype, copy=False)


def _unique_pairs(a: np.ndarray, b: np.ndarray, **kw):
    """np.unique over rows (a, b) of non-negative ints via a 1-D int64 key (much faster than axis=0).

    a, b (n,) -> (rows (k,2), *extras from ``return_index`` / ``return_inverse``)."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    base = int(b.max()) + 1 if b.size else 1
    key = a * base + b
    if not kw:  # sort + diff: faster than np.unique's hash path on large int arrays
        key = np.sort(key)
        res = (key[np.concatenate([[True], key[1:] != key[:-1]])] if key.size else key,)
    else:
        res = np.unique(key, **kw)
    key = res[0]
    rows = np.stack([key // base, key % base], 1)
    return (rows, *res[1:]) if kw else rows


def _edges(f: np.ndarray) -> np.ndarray:
    """Unique undirected edges (E,2), sorted per row, of faces f (m,3)."""
    e = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    return _unique_pairs(e[:, 0], e[:, 1])


def _allocate(target: int, areas: np.ndarray, counts: np.ndarray, min_part: int) -> np.ndarray:
    """Vertex budget per part (P,) from target, areas (P,), vertex counts (P,)."""
    floor = np.minimum(min_part, counts)
    budget = floor.astype(float)
    free = np.ones(len(areas), dtype=bool)
    for _ in range(len(areas) + 1):  # water-fill: parts whose share is below the floor keep it
        rest = target - budget[~free].sum()
        share = rest * areas[free] / max(areas[free].sum(), 1e-300)
        low = share < floor[free]
        if not low.any():
            budget[free] = share
            break
        idx = np.flatnonzero(free)[low]
        budget[idx] = floor[idx]
        free[idx] = False
    return np.maximum(np.round(budget).astype(np.int64), floor)


def _subdivide(v: np.ndarray, f: np.ndarray, fsrc: np.ndarray, vsrc: np.ndarray):
    """One midpoint subdivision, tracking source faces.

    v (n,3), f (m,3), fsrc (m,) source face of each face, vsrc (n,) a source face of each vertex
    -> (v (n+E,3), f (4m,3), fsrc (4m,), vsrc (n+E,)); midpoints lie exactly on their source face.
    """
    n, m = v.shape[0], f.shape[0]
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])  # (3m,2) edge k of face i at k*m+i
    e_sorted = np.sort(e, axis=1)
    uniq, first, inv = _unique_pairs(e_sorted[:, 0], e_sorted[:, 1], return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    mid = n + inv.reshape(3, m)  # (3,m): midpoint of edge (0,1), (1,2), (2,0)
    nv = np.concatenate([v, 0.5 * (v[uniq[:, 0]] + v[uniq[:, 1]])])
    ab, bc, ca = mid
    a, b, c = f[:, 0], f[:, 1], f[:, 2]
    nf = np.concatenate(
        [np.stack([a, ab, ca], 1), np.stack([b, bc, ab], 1), np.stack([c, ca, bc], 1), np.stack([ab, bc, ca], 1)]
    )
    nfsrc = np.tile(fsrc, 4)
    nvsrc = np.concatenate([vsrc, fsrc[first % m]])
    return nv, nf, nfsrc, nvsrc


def _relax(v: np.ndarray, f: np.ndarray, iters: int, lam: float = 0.5) -> np.ndarray:
    """Tangential umbrella smoothing (boundary vertices fixed): v (n,3), f (m,3) -> (n,3).

    Evens out slivers and undoes most fold-overs quadric decimation leaves; the vertices are
    projected back onto the source afterwards, so only the in-surface distribution changes.
    """
    n = v.shape[0]
    if iters <= 0 or f.shape[0] == 0:
        return v
    e = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    key = np.sort(e[:, 0] * n + e[:, 1])
    first = np.concatenate([[True], key[1:] != key[:-1]])
    last = np.concatenate([key[1:] != key[:-1], [True]])
    uniq = key[first]
    single = key[first & last]  # edges used by one face: boundary
    boundary = np.zeros(n, dtype=bool)
    boundary[single // n] = True
    boundary[single % n] = True
    a, b = uniq // n, uniq % n
    A = sp.csr_matrix((np.ones(2 * a.size), (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    deg = np.maximum(np.asarray(A.sum(axis=1)).ravel(), 1)[:, None]
    for _ in range(iters):
        nrm = vertex_normals(v, f)
        d = A @ v / deg - v
        d -= np.sum(d * nrm, axis=1, keepdims=True) * nrm
        d[boundary] = 0.0
        v = v + lam * d
    return v


def _remesh_part(
    v: np.ndarray, f: np.ndarray, budget: int, rng: np.random.Generator, jitter: float, smooth_iters: int = 2
):
    """Re-triangulate one part: v (n,3), f (m,3) -> (new v (n',3), new f (m',3), pairs (2,K)).

    ``pairs`` lists (new vertex, local source face) candidates: the source faces under the
    vertices that were collapsed into each new vertex (the new vertex's origin patch).
    """
    import fast_simplification

    n, m = v.shape[0], f.shape[0]
    vsrc = np.zeros(n, dtype=np.int64)
    vsrc[f.ravel()] = np.repeat(np.arange(m), 3)
    if n <= 4 or m < 2:  # too small to re-triangulate meaningfully
        return v, f, np.stack([np.arange(n), vsrc])
    cur_v, cur_f, fsrc = v, f, np.arange(m)
    levels = 0
    while cur_v.shape[0] < 2 * budget and levels < 4:
        cur_v, cur_f, fsrc, vsrc = _subdivide(cur_v, cur_f, fsrc, vsrc)
        levels += 1
    if jitter > 0:
        e = _edges(cur_f)
        h = float(np.mean(np.linalg.norm(cur_v[e[:, 0]] - cur_v[e[:, 1]], axis=1)))
        nrm = vertex_normals(cur_v, cur_f)
        noise = np.clip(rng.normal(scale=jitter * h, size=cur_v.shape), -3 * jitter * h, 3 * jitter * h)
        noise -= np.sum(noise * nrm, axis=1, keepdims=True) * nrm
        cur_v = cur_v + noise
    mapping = np.arange(cur_v.shape[0])
    if cur_v.shape[0] > budget:
        ratio = cur_f.shape[0] / cur_v.shape[0]
        tcount = int(max(2, round(budget * ratio)))
        if tcount < cur_f.shape[0]:
            try:
                tris32 = np.ascontiguousarray(cur_f, dtype=np.int32)
                _, _, coll = fast_simplification.simplify(
                    cur_v, tris32, target_count=tcount, return_collapses=True, preserve_border=False
                )
                nv, nf, mp = fast_simplification.replay_simplification(cur_v, tris32, coll)
                nv, nf, mp = np.asarray(nv, np.float64), np.asarray(nf, np.int64), np.asarray(mp, np.int64)
                if nf.shape[0] >= 1:
                    cur_v, cur_f, mapping = nv, nf, mp
            except Exception:  # pragma: no cover - keep the refined part
                pass
    # compact (drop degenerate faces, unreferenced vertices) and follow the mapping
    cur_f = cur_f[(cur_f[:, 0] != cur_f[:, 1]) & (cur_f[:, 1] != cur_f[:, 2]) & (cur_f[:, 2] != cur_f[:, 0])]
    used = np.unique(cur_f)
    remap = np.full(cur_v.shape[0], -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    out_v, out_f = cur_v[used], remap[cur_f]
    if out_v.shape[0] >= 100:  # tiny, strongly curved parts (teeth, lashes) are left alone
        out_v = _relax(out_v, out_f, smooth_iters)
    tgt = np.where(mapping >= 0, remap[np.clip(mapping, 0, None)], -1)
    ok = tgt >= 0
    pairs = _unique_pairs(tgt[ok], vsrc[ok]).T
    return out_v, out_f, pairs


def _dilate_pairs(pairs: np.ndarray, n_out: int, f: np.ndarray, n_src_v: int) -> np.ndarray:
    """Grow each new vertex's candidate faces by one ring: pairs (2,K) -> (2,K'). f (m,3) local."""
    m = f.shape[0]
    A = sp.csr_matrix((np.ones(pairs.shape[1]), (pairs[0], pairs[1])), shape=(n_out, m))
    FV = sp.csr_matrix((np.ones(3 * m), (np.repeat(np.arange(m), 3), f.ravel())), shape=(m, n_src_v))
    B = ((A @ FV) @ FV.T).tocoo()
    return np.stack([B.row.astype(np.int64), B.col.astype(np.int64)])


def remesh(
    vertices: np.ndarray,
    faces: np.ndarray,
    target_vertices: int,
    *,
    parts: np.ndarray | None = None,
    seed: int = 0,
    min_part_vertices: int = 8,
    jitter: float = 0.1,
    smooth_iters: int = 2,
    outlier_rel_dist: float = 0.5,
) -> Remeshed:
    """Randomly re-triangulate a mesh to about ``target_vertices`` vertices (see module doc).

    vertices (V,3), faces (F,3) int, parts (V,) int labels (default: connected components);
    each face belongs to the part of its first vertex. ``jitter`` is the standard deviation of the
    tangential noise before decimation in units of the mean edge length (clipped at 3 sigma;
    larger values vary the triangulation more but leave more slivers). ``min_part_vertices``:
    budget floor per part (a part smaller than that keeps its size). ``smooth_iters`` rounds of
    tangential smoothing after decimation (fewer slivers and fold-overs). Vertices farther than
    ``outlier_rel_dist`` x local edge length from where decimation put them are counted in
    ``info["outliers"]`` (they are still exactly on the surface). Deterministic for a given
    ``seed``.
    Returns :class:`Remeshed` (vertices (V',3), faces (F',3), parts (V',), src_face (V',),
    bary (V',3), info).
    """
    from facerig.geometry.correspondence import closest_points, closest_points_among

    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    V = vertices.shape[0]
    if faces.shape[0] == 0:
        raise ValueError("remesh needs a mesh with faces")
    parts = connected_components(V, faces) if parts is None else np.asarray(parts).reshape(-1)
    if parts.shape[0] != V:
        raise ValueError(f"parts has {parts.shape[0]} labels for {V} vertices")
    face_parts = parts[faces[:, 0]]
    labels = np.unique(face_parts)
    tri = vertices[faces]
    farea = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    areas = np.array([farea[face_parts == p].sum() for p in labels])
    counts = np.array([np.unique(faces[face_parts == p]).size for p in labels])
    budget = _allocate(int(target_vertices), areas, counts, min_part_vertices)

    rng = np.random.default_rng(seed)
    out_v, out_f, out_p, out_sf, out_b, out_d, out_h = [], [], [], [], [], [], []
    offset = 0
    n_orphans = 0
    for p, bud in zip(labels, budget):
        fidx = np.flatnonzero(face_parts == p)
        used = np.unique(faces[fidx])  # local face i == source face fidx[i]
        pv, pf = vertices[used], np.searchsorted(used, faces[fidx])
        nv, nf, pairs = _remesh_part(pv, pf, int(bud), rng, jitter, smooth_iters)
        pairs = _dilate_pairs(pairs, nv.shape[0], pf, pv.shape[0])
        orphan = np.setdiff1d(np.arange(nv.shape[0]), pairs[0])
        if orphan.size:  # no origin patch (should not happen): search the whole part
            of, _, _ = closest_points(nv[orphan], pv, pf)
            pairs = np.concatenate([pairs, np.stack([orphan, of])], axis=1)
        sf, b, d = closest_points_among(nv, pv, pf, pairs[0], pairs[1])
        n_orphans += int(orphan.size)
        e = _edges(nf)
        el = np.linalg.norm(nv[e[:, 0]] - nv[e[:, 1]], axis=1)
        h = np.bincount(e.ravel(), np.repeat(el, 2), minlength=nv.shape[0]) / np.maximum(
            np.bincount(e.ravel(), minlength=nv.shape[0]), 1
        )
        out_v.append(np.einsum("vk,vkc->vc", b, tri[fidx[sf]]))
        out_f.append(nf + offset)
        out_p.append(np.full(nv.shape[0], p, dtype=parts.dtype))
        out_sf.append(fidx[sf])
        out_b.append(b)
        out_d.append(d)
        out_h.append(h)
        offset += nv.shape[0]

    verts = np.concatenate(out_v)
    fcs = np.concatenate(out_f)
    # The decimator can leave folded duplicates (same 3 vertices twice) and zero-area slivers at
    # sharp folds; a remeshed head must be a mesh a user could bring, so drop them here.
    from facerig.io.validate import degenerate_triangles, duplicate_triangles

    bad = degenerate_triangles(verts, fcs)
    bad |= duplicate_triangles(fcs) & ~bad
    n_dropped = int(bad.sum())
    fcs = fcs[~bad]
    keep_v = np.zeros(verts.shape[0], dtype=bool)
    keep_v[fcs.ravel()] = True
    vparts, vsf, vb = np.concatenate(out_p), np.concatenate(out_sf), np.concatenate(out_b)
    if not keep_v.all():  # vertices only the dropped faces used
        remap = np.cumsum(keep_v) - 1
        fcs = remap[fcs]
        verts, vparts, vsf, vb = verts[keep_v], vparts[keep_v], vsf[keep_v], vb[keep_v]
        part_keep = np.split(keep_v, np.cumsum([len(a) for a in out_d])[:-1])
        out_d = [a[k] for a, k in zip(out_d, part_keep)]
        out_h = [a[k] for a, k in zip(out_h, part_keep)]
    perm = rng.permutation(verts.shape[0])  # new position -> old index
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    d = np.concatenate(out_d)
    h = np.concatenate(out_h)
    rel = d / np.maximum(h, 1e-300)
    src_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    src_n /= np.maximum(np.linalg.norm(src_n, axis=1, keepdims=True), 1e-300)
    sfc = vsf
    new_t = verts[fcs]
    new_n = np.cross(new_t[:, 1] - new_t[:, 0], new_t[:, 2] - new_t[:, 0])
    flipped = int(np.sum(np.einsum("fc,fc->f", new_n, src_n[sfc[fcs]].sum(axis=1)) < 0))
    info = {
        "seed": int(seed),
        "target_vertices": int(target_vertices),
        "num_vertices": int(verts.shape[0]),
        "num_faces": int(fcs.shape[0]),
        "part_budget": {int(p): int(b) for p, b in zip(labels, budget)},
        "max_rel_dist": float(rel.max()) if rel.size else 0.0,
        "mean_rel_dist": float(rel.mean()) if rel.size else 0.0,
        "outliers": int(np.sum(rel > outlier_rel_dist)),
        "orphans": n_orphans,
        "dropped_faces": n_dropped,
        "flipped_faces": flipped,  # normal opposes the source normals under its corners (slivers at sharp folds)
        "outliers_per_part": {
            int(p): int(np.sum(dd / np.maximum(hh, 1e-300) > outlier_rel_dist))
            for p, dd, hh in zip(labels, out_d, out_h)
            if np.any(dd / np.maximum(hh, 1e-300) > outlier_rel_dist)
        },
    }
    return Remeshed(
        vertices=verts[perm],
        faces=inv[fcs],
        parts=vparts[perm],
        src_face=vsf[perm].astype(np.int64),
        bary=vb[perm],
        info=info,
    )

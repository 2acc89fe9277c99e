"""Simplified proxy meshes for the network, the normalised head frame, and transfer back.

The network runs on a proxy of any input (:data:`facerig.models.raf.config.RIG_PROXY_VERTICES`
vertices when rigging; ~5k in the training pool). :func:`build_proxy` decimates with
quadric edge collapses (``fast_simplification``) and keeps the collapse history: every input
vertex ``i`` knows the proxy vertex ``origin[i]`` it was collapsed into. Edge collapses only
merge vertices joined by an edge, so ``origin`` never crosses a connected component and, on a
face, never jumps across the mouth slit or between the eyelids (a lower-lip vertex collapses into
a lower-lip proxy vertex).

Transfer back (:meth:`Proxy.to_full`) interpolates proxy values at the closest point to each
input vertex on the proxy triangles around ``origin[i]`` (its one-ring): smooth, local, and
within the vertex's own part. Training targets on the proxy (:meth:`Proxy.from_full`) use the
closest point on the input surface within the same part and with a compatible normal.

:func:`head_frame` gives the translation and scale that normalise a head (+Y up, face toward +Z)
independently of its units, position and framing (face only, head, head and neck).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facerig.geometry.components import connected_components
from facerig.geometry.correspondence import closest_point_on_triangles
from facerig.geometry.decimate import snap_collapsed
from facerig.geometry.normals import vertex_normals
from facerig.geometry.rows import cross_rows, norm_rows
from facerig.geometry.weld import DEFAULT_WELD_TOLERANCE

DEFAULT_PROXY_VERTICES = 5000
PRESERVE_BORDER = True


@dataclass
class Proxy:
    """A proxy of an input mesh (V input vertices, P proxy vertices).

    vertices (P,3) f64, faces (G,3) i64, origin (V,) i64 proxy vertex each input vertex was
    collapsed into, parts (P,) i64 component label (of the input) of each proxy vertex,
    full_face (V,) / full_bary (V,3): where each input vertex samples the proxy (proxy face and
    barycentrics), identity (bool): proxy is the input itself.
    """

    vertices: np.ndarray
    faces: np.ndarray
    origin: np.ndarray
    parts: np.ndarray
    full_face: np.ndarray
    full_bary: np.ndarray
    identity: bool = False

    @property
    def num_vertices(self) -> int:
        return int(self.vertices.shape[0])

    def to_full(self, values: np.ndarray) -> np.ndarray:
        """Proxy values (...,P,C) -> input values (...,V,C) (barycentric interpolation)."""
        if self.identity:
            return values
        import scipy.sparse as sp

        V, P = self.full_face.shape[0], self.num_vertices
        W = sp.csr_matrix(
            (
                self.full_bary.astype(values.dtype).ravel(),
                self.faces[self.full_face].ravel(),
                np.arange(0, 3 * V + 1, 3),
            ),
            shape=(V, P),
        )  # (V,P), 3 weights per row
        if values.ndim == 3 and values.shape[-1] > 1:  # (Q,P,C): one product per query, straight into (Q,V,C)
            # (each output entry sums its row's 3 weighted values in the same order as one product for
            # all channels would: the same numbers, without transposing (P,Q*C) and (V,Q*C) copies)
            out = np.empty((values.shape[0], V, values.shape[2]), np.result_type(W.dtype, values.dtype))
            for q in range(values.shape[0]):
                out[q] = W @ values[q]
            return out
        x = np.moveaxis(values, -2, 0)  # (P,...,C)
        y = W @ np.ascontiguousarray(x).reshape(P, -1)  # one sparse product for all channels
        return np.ascontiguousarray(np.moveaxis(y.reshape((V,) + x.shape[1:]), 0, -2))

    def from_full(
        self,
        full_vertices: np.ndarray,
        full_faces: np.ndarray,
        values: np.ndarray,
        full_parts: np.ndarray | None = None,
    ) -> np.ndarray:
        """Input values (...,V,C) -> proxy values (...,P,C), sampled at the closest point of the
        input surface (same part, normal-compatible) to each proxy vertex."""
        if self.identity:
            return values
        face, bary = self.sample_full(full_vertices, full_faces, full_parts)
        idx = np.asarray(full_faces)[face]
        return np.einsum("...pkc,pk->...pc", values[..., idx, :], bary.astype(values.dtype))

    def sample_full(self, full_vertices, full_faces, full_parts=None):
        """(face (P,), bary (P,3)): closest point on the input surface to each proxy vertex."""
        from facerig.geometry.correspondence import closest_points

        full_faces = np.asarray(full_faces, dtype=np.int64)
        if full_parts is None:
            full_parts = connected_components(len(full_vertices), full_faces)
        face_parts = np.asarray(full_parts)[full_faces[:, 0]]
        normals = vertex_normals(self.vertices, self.faces)
        face, bary, _ = closest_points(
            self.vertices,
            full_vertices,
            full_faces,
            point_parts=self.parts,
            face_parts=face_parts,
            point_normals=normals,
            min_normal_dot=0.3,
        )
        return face, bary


def _vertex_faces_csr(num_vertices: int, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Incident faces as CSR: (indptr (V+1,), face_ids): faces of v are face_ids[indptr[v]:indptr[v+1]]."""
    f = np.asarray(faces).ravel()
    order = np.argsort(f, kind="stable")
    counts = np.bincount(f, minlength=num_vertices)
    return np.concatenate([[0], np.cumsum(counts)]), (order // 3).astype(np.int64)


def _vertex_faces(num_vertices: int, faces: np.ndarray) -> np.ndarray:
    """Padded incident-face table (V, maxdeg) (-1 = none)."""
    f = faces.ravel()
    fid = np.repeat(np.arange(len(faces)), 3)
    order = np.argsort(f, kind="stable")
    f, fid = f[order], fid[order]
    counts = np.bincount(f, minlength=num_vertices)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    maxdeg = int(counts.max()) if counts.size else 0
    table = np.full((num_vertices, max(maxdeg, 1)), -1, dtype=np.int64)
    col = np.arange(len(f)) - start[f]
    table[f, col] = fid
    return table


def build_proxy(
    vertices: np.ndarray,
    faces: np.ndarray,
    target_vertices: int = DEFAULT_PROXY_VERTICES,
    parts: np.ndarray | None = None,
    weld: float = DEFAULT_WELD_TOLERANCE,
) -> Proxy:
    """Decimate ``vertices`` (V,3), ``faces`` (F,3) to about ``target_vertices`` (see module doc).

    Meshes already at or below 1.2 x target are used as they are (``identity=True``).
    ``parts`` (V,) component labels (computed when not given). ``weld``: open seams
    (boundary edges lying on another one within ``weld`` x the bounding-box diagonal,
    :func:`facerig.geometry.weld.weld_seams`) are stitched first, so the proxy's surface is
    closed there; every input vertex still gets its own row in :meth:`Proxy.to_full` (the
    vertices of a stitched seam read the same point). 0 disables it.
    """
    import fast_simplification as fs

    vertices = np.ascontiguousarray(vertices, dtype=np.float64)
    faces = np.ascontiguousarray(faces, dtype=np.int64)
    V = vertices.shape[0]
    if parts is None:
        parts = connected_components(V, faces)
    wv, wf, wparts, index = _weld(vertices, faces, parts, weld)
    if index is not None:
        return _lift(build_proxy(wv, wf, target_vertices, parts=wparts, weld=0.0), index)
    if V <= 1.2 * target_vertices:
        ar = np.arange(V)
        return Proxy(vertices, faces, ar, np.asarray(parts), np.zeros(V, np.int64), np.zeros((V, 3)), identity=True)
    target_faces = int(2 * target_vertices * len(faces) / max(2 * V, 1))
    _, _, collapses = fs.simplify(
        vertices,
        faces.astype(np.int32),
        target_count=max(target_faces, 4),
        return_collapses=True,
        preserve_border=PRESERVE_BORDER,
    )
    pv, pf, origin = fs.replay_simplification(vertices, faces.astype(np.int32), collapses)
    pf = np.asarray(pf, dtype=np.int64)
    origin = np.asarray(origin, dtype=np.int64)
    pv, _ = snap_collapsed(pv, vertices, origin)  # flat regions: the quadric solve can throw vertices far off
    P = pv.shape[0]
    lost = origin < 0  # vertices used by no face: the decimation gives them no proxy vertex
    pparts = np.zeros(P, dtype=np.int64)
    pparts[origin[~lost]] = np.asarray(parts)[~lost]
    if lost.any():  # they sample the proxy around its nearest vertex
        from scipy.spatial import cKDTree

        origin[lost] = cKDTree(pv).query(vertices[lost])[1]
    full_face, full_bary = sample_one_ring(vertices, faces, pv, pf, origin)
    return Proxy(pv, pf, origin, pparts, full_face, full_bary)


def sample_one_ring(
    vertices: np.ndarray, faces: np.ndarray, pv: np.ndarray, pf: np.ndarray, origin: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where each input vertex samples the proxy (:meth:`Proxy.to_full`): the closest point on the
    proxy faces around the proxy vertex it was collapsed into.

    Args:
        vertices: (V, 3) input vertices. faces: (F, 3) input faces. pv: (P, 3) proxy vertices.
        pf: (G, 3) proxy faces. origin: (V,) int proxy vertex of each input vertex.

    Returns:
        ``(full_face (V,) int64, full_bary (V, 3) float64)``: a proxy face of ``origin[i]``'s one-ring
        (preferring faces facing the input vertex's way, then the closest) and barycentrics there.
        A degenerate proxy face (its barycentrics undefined) is never picked while another face of
        the one-ring gives finite ones; a vertex with none reads ``origin[i]`` itself.
    """
    V, P = len(vertices), len(pv)
    # where each input vertex samples the proxy: closest point on the one-ring of origin[i],
    # evaluated on the flat list of (input vertex, candidate proxy face) pairs
    indptr, face_ids = _vertex_faces_csr(P, pf)
    cnt = (indptr[1:] - indptr[:-1])[origin]  # (V,) candidates per input vertex
    pair_v = np.repeat(np.arange(V), cnt)
    first = np.cumsum(cnt) - cnt
    pair_f = face_ids[indptr[origin][pair_v] + (np.arange(pair_v.size) - first[pair_v])]
    cp, bary = closest_point_on_triangles(vertices[pair_v], pv[pf[pair_f]])
    d = norm_rows(cp - vertices[pair_v])  # = np.linalg.norm(axis=1), faster
    # prefer proxy faces facing the same way as the input vertex (the inner upper lip faces
    # down, the inner lower lip up; eyelids likewise), else any face of the one-ring
    tri = pv[pf]
    fn = cross_rows(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    fn /= np.maximum(norm_rows(fn)[:, None], 1e-30)
    ok = np.einsum("pc,pc->p", fn[pair_f], vertex_normals(vertices, faces)[pair_v]) >= 0.3
    any_ok = np.bincount(pair_v, ok, minlength=V) > 0
    d = np.where(ok | ~any_ok[pair_v], d, np.inf)
    d = np.where(np.isnan(d) | ~np.isfinite(bary).all(1), np.inf, d)  # a degenerate face: no barycentrics
    # the pairs are grouped by input vertex (pair_v is sorted): per group, the first pair with
    # the group's smallest d (what a stable sort by (vertex, d) would put first)
    starts = first[cnt > 0]
    low = np.minimum.reduceat(d, starts) if starts.size else np.zeros(0)
    hit = np.flatnonzero(d <= np.repeat(low, cnt[cnt > 0]))
    best = hit[np.r_[True, pair_v[hit[1:]] != pair_v[hit[:-1]]]] if hit.size else hit
    full_face = np.zeros(V, dtype=np.int64)
    full_bary = np.zeros((V, 3))
    has = cnt > 0
    full_face[has] = pair_f[best]
    full_bary[has] = bary[best]
    fix = ~has | ~np.isfinite(full_bary).all(1)
    if fix.any():  # origin lost all its faces, or kept only degenerate ones: copy its value (a face's corner)
        any_face = np.maximum(_vertex_faces(P, pf)[:, 0], 0)
        for i in np.flatnonzero(fix):
            if not has[i]:
                full_face[i] = any_face[origin[i]]
            full_bary[i] = 0.0
            corner = np.flatnonzero(pf[full_face[i]] == origin[i])
            full_bary[i, corner[0] if corner.size else 0] = 1.0
    return full_face, full_bary


def _weld(vertices: np.ndarray, faces: np.ndarray, parts: np.ndarray, weld: float):
    """(vertices, faces, parts, index) with the ends of zero-length edges merged
    (:func:`~facerig.geometry.short_edges.merge_short_edges`) and open seams stitched
    (:func:`weld_seams`), both at ``weld``; index is None when nothing was welded (the inputs come back as they are). Parts joined by a seam
    become one part (labels renumbered)."""
    if weld <= 0:
        return vertices, faces, np.asarray(parts), None
    from facerig.geometry.short_edges import merge_short_edges
    from facerig.geometry.weld import weld_seams

    # zero-length edges first (faces of coincident corners: no normal, noise-driven network
    # inputs), then the seams of the merged mesh
    mv, mf, first = merge_short_edges(vertices, faces, weld)
    wv, wf, index = weld_seams(mv, mf, weld)
    index = index[first]
    if wv.shape[0] == vertices.shape[0]:
        return vertices, faces, np.asarray(parts), None
    parts = np.asarray(parts, dtype=np.int64)
    # labels joined through a stitched vertex group become one label
    rep = np.full(wv.shape[0], -1, dtype=np.int64)
    rep[index] = np.arange(len(index))  # one input vertex of each welded vertex
    joined = np.stack([parts, parts[rep[index]]], axis=1)
    label = connected_components(int(parts.max()) + 1, joined)[parts]
    wparts = np.zeros(wv.shape[0], dtype=np.int64)
    wparts[index] = label
    return wv, wf, wparts, index


def _lift(proxy: Proxy, index: np.ndarray) -> Proxy:
    """A proxy of a welded mesh (W vertices) as a proxy of the unwelded input (V vertices):
    input vertex ``i`` samples where welded vertex ``index[i]`` does."""
    if proxy.identity:  # each welded vertex reads itself: a corner of one of its faces, weight 1
        W = proxy.num_vertices
        table = _vertex_faces(W, proxy.faces)
        face = np.maximum(table[:, 0], 0)
        bary = (proxy.faces[face] == np.arange(W)[:, None]).astype(np.float64)  # zero row if unused
        origin = np.arange(W)
    else:
        face, bary, origin = proxy.full_face, proxy.full_bary, proxy.origin
    return Proxy(proxy.vertices, proxy.faces, origin[index], proxy.parts, face[index], bary[index])


def head_frame(vertices: np.ndarray, iterations: int = 3) -> tuple[np.ndarray, float]:
    """Translation and scale of the normalised head frame: ``(center (3,), scale)``.

    vertices (V,3) with +Y up and the face toward +Z. ``center`` is the nose tip height/depth
    (frontmost vertex) and the mid-line of the head slab at that height; ``scale`` is the
    head's width (X extent) within a horizontal slab around the nose tip, refined
    ``iterations`` times, so that a neck, shoulders or a missing back of the head barely move
    it. Normalised points are ``(vertices - center) / scale``: the frame is exactly
    equivariant to translation and uniform scaling of the input.
    """
    v = np.asarray(vertices, dtype=np.float64)
    lo, hi = v.min(0), v.max(0)
    width = float(hi[0] - lo[0]) or float(np.linalg.norm(hi - lo)) or 1.0
    # nose tip: frontmost vertex in the upper part of the mesh (below the top of the head)
    height = hi[1] - lo[1]
    upper = v[:, 1] > hi[1] - max(height, 1e-12) * 0.9 if height > 1.5 * width else np.ones(len(v), bool)
    cand = np.flatnonzero(upper)
    nose = v[cand[np.argmax(v[cand, 2])]]
    cx = nose[0]
    for _ in range(iterations):
        slab = (np.abs(v[:, 1] - nose[1]) < 0.25 * width) & (v[:, 2] > nose[2] - 1.2 * width)
        if slab.sum() < 3:
            break
        xs = v[slab, 0]
        width = float(np.percentile(xs, 99.5) - np.percentile(xs, 0.5)) or width
        cx = 0.5 * float(np.percentile(xs, 99.5) + np.percentile(xs, 0.5))
    center = np.array([cx, nose[1], nose[2]])
    return center, float(width)


@dataclass
class PreparedHead:
    """What the network needs from one input mesh.

    proxy: the :class:`Proxy`; center (3,), scale: the head frame (normalised = (x-center)/scale);
    xyz (P,3) f64 normalised proxy vertices; ops: ``facerig.geometry.operators.Operators`` of
    the normalised proxy; timings: seconds per stage; welded: number of input vertices that
    seam stitching merged into another one (0 for a mesh without open seams).
    """

    proxy: Proxy
    center: np.ndarray
    scale: float
    xyz: np.ndarray
    ops: object
    timings: dict
    welded: int = 0  # input vertices merged into another one by seam stitching

    def rescaled(self, a: float) -> PreparedHead:
        """The same head in a frame ``a`` times wider (``scale * a``, ``xyz / a``), with its
        operators rescaled exactly rather than recomputed
        (:meth:`facerig.geometry.operators.Operators.rescaled`)."""

        return PreparedHead(
            self.proxy,
            self.center,
            self.scale * float(a),
            self.xyz / float(a),
            self.ops.rescaled(a),
            dict(self.timings),
            self.welded,
        )

    def with_operators(self, ops) -> PreparedHead:
        """This head with ``ops`` (the operators of ``xyz``, e.g. computed on another thread
        after ``prepare_head(..., operators=False)``)."""
        return PreparedHead(self.proxy, self.center, self.scale, self.xyz, ops, dict(self.timings), self.welded)


def prepare_head(
    vertices: np.ndarray,
    faces: np.ndarray,
    *,
    parts: np.ndarray | None = None,
    proxy_vertices: int = DEFAULT_PROXY_VERTICES,
    k: int = 128,
    cache: bool = True,
    weld: float = DEFAULT_WELD_TOLERANCE,
    frame_scale: float = 1.0,
    operators: bool = True,
) -> PreparedHead:
    """Proxy + head frame + operators for a mesh: vertices (V,3), faces (F,3) -> PreparedHead.

    Open seams are stitched first (``weld``, see :func:`build_proxy`), for the proxy and for the
    head frame alike: a head split along a seam is prepared as the closed head. ``frame_scale``
    multiplies the frame's scale (the head width of :func:`head_frame`; 1 = as measured).
    ``operators=False`` leaves ``ops`` None (compute them with
    :func:`facerig.geometry.operators.compute_operators` on ``xyz`` and ``proxy.faces``, then
    :meth:`PreparedHead.with_operators`: how ``facerig rig`` overlaps them with other work)."""
    import time

    from facerig.geometry.operators import compute_operators

    t = {}
    t0 = time.perf_counter()
    vertices = np.ascontiguousarray(vertices, dtype=np.float64)
    faces = np.ascontiguousarray(faces, dtype=np.int64)
    if parts is None:
        parts = connected_components(len(vertices), faces)
    wv, wf, wparts, index = _weld(vertices, faces, parts, weld)
    t["seams"] = time.perf_counter() - t0
    proxy = build_proxy(wv, wf, proxy_vertices, parts=wparts, weld=0.0)
    if index is not None:
        proxy = _lift(proxy, index)
    t["proxy"] = time.perf_counter() - t0
    center, scale = head_frame(wv)
    if not (np.isfinite(frame_scale) and frame_scale > 0):
        raise ValueError(f"frame_scale must be a positive number, got {frame_scale!r}")
    scale *= float(frame_scale)
    xyz = (proxy.vertices - center) / scale
    if not operators:
        return PreparedHead(proxy, center, scale, xyz, None, t, welded=len(vertices) - len(wv))
    t0 = time.perf_counter()
    ops = compute_operators(xyz, proxy.faces, k=k, cache=cache, timings=t)
    t["operators"] = time.perf_counter() - t0
    return PreparedHead(proxy, center, scale, xyz, ops, t, welded=len(vertices) - len(wv))

"""Stitching open seams: boundary edges that lie on another boundary edge become one edge.

Meshes from modelling packages and game pipelines are often split along seams that are not
openings of the face: a mirrored head whose two halves were never merged along the mid-line, UV
or hard-normal seams duplicated by FBX/glTF exporters (which give every UV island its own
vertices, so a head often arrives as several disconnected pieces). Geometrically the surface is
closed there, but topologically it is cut: Laplacian eigenvectors, heat kernels and distances
to the mesh boundary all see a slit (down the nose, around the face island), and a network that
uses them no longer finds the face. The external ``johnsmith_head`` rig is split along its
mid-line by gaps of up to 0.04 mm, and the bundled ICT head split at its UV seams as a glTF
exporter does has 86 parts instead of 56; ``benchmarks/seams.py`` and BENCHMARKS.md ("Open
seams") measure what stitching changes on both.

:func:`weld_seams` stitches a *boundary edge* to the one boundary edge of opposite orientation
lying on it (both ends within a small distance relative to the bounding-box diagonal), the
configuration an exporter's split leaves. Interior vertices are never moved, so a closed
surface is returned unchanged; real openings (the mouth slit, eyelid fissures) stay open, their
two sides being millimetres apart, orders of magnitude above the tolerance; and pieces that
merely touch or overlap stay apart: ICT FaceKit's stacked eyelash strips and the lacrimal
pieces against them share coincident vertices but no such edge pairs, and nothing is stitched
on any of the 24 ICT-family and MakeHuman validation heads. (Merging every coincident boundary
vertex instead glued those strips together.) A mouth or eye cut as a zero-width slit (its two borders coinciding) looks exactly like
a seam and is stitched shut too; ``facerig rig --seam-tolerance 0`` turns stitching off for such
a head. The input's vertex count and order are kept through ``index``: welded values are read
back per input vertex as ``values[..., index, :]``.
"""

from __future__ import annotations

import numpy as np

from facerig.geometry.components import connected_components

#: weld distance as a fraction of the bounding-box diagonal (0.06 mm on a 300 mm head)
DEFAULT_WELD_TOLERANCE = 2e-4


def _edge_keys(faces: np.ndarray, num_vertices: int) -> np.ndarray:
    """One int64 key ``lo * V + hi`` per face edge (F*3,), edges as unordered vertex pairs."""
    f = np.asarray(faces, dtype=np.int64)
    a = f.ravel()
    b = f[:, [1, 2, 0]].ravel()
    return np.minimum(a, b) * num_vertices + np.maximum(a, b)


def _edge_uses(a: np.ndarray, b: np.ndarray, num_vertices: int) -> np.ndarray:
    """How many faces use the edge of each half-edge ``a[i] -> b[i]`` (int64 arrays): counted in a
    sparse matrix, which sums repeated entries in linear time (np.unique's counts need a sort)."""
    import scipy.sparse as sp

    lo, hi = np.minimum(a, b), np.maximum(a, b)
    m = sp.csr_matrix((np.ones(len(a), np.int64), (lo, hi)), shape=(num_vertices, num_vertices))
    return np.asarray(m[lo, hi]).ravel()


def boundary_edges(faces: np.ndarray) -> np.ndarray:
    """Edges used by exactly one face: faces (F,3) -> (B,2) int64, each row sorted."""
    f = np.asarray(faces, dtype=np.int64)
    if f.size == 0:
        return np.zeros((0, 2), np.int64)
    V = int(f.max()) + 1
    keys, counts = np.unique(_edge_keys(f, V), return_counts=True)
    b = keys[counts == 1]
    return np.stack([b // V, b % V], axis=1)


def _duplicate_faces(faces: np.ndarray, n: int) -> np.ndarray:
    """(F,) bool: faces (F, 3) (indices < n) whose vertex set equals an earlier face's."""
    f = np.asarray(faces, np.int64)
    if len(f) == 0:
        return np.zeros(0, bool)
    if n < 2**21:  # a face's corners as one integer key: np.unique(rows, axis=0)'s first faces, faster
        lo = np.minimum(np.minimum(f[:, 0], f[:, 1]), f[:, 2])
        hi = np.maximum(np.maximum(f[:, 0], f[:, 1]), f[:, 2])
        _, first = np.unique((lo * n + (f.sum(1) - lo - hi)) * n + hi, return_index=True)
    else:
        _, first = np.unique(np.sort(f, axis=1), axis=0, return_index=True)
    dup = np.ones(len(f), bool)
    dup[first] = False
    return dup


def weld_seams(
    vertices: np.ndarray, faces: np.ndarray, tol: float = DEFAULT_WELD_TOLERANCE, parts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stitch open seams: boundary edges that lie on another boundary edge.

    A boundary edge ``x -> y`` (as its face orients it) is stitched to a boundary edge
    ``y' -> x'`` (of the same part, if ``parts`` is given) when ``y'`` lies within ``tol`` of ``y`` and ``x'`` within
    ``tol`` of ``x`` (or is ``x`` itself, where a slit ends), and that partner is its only
    candidate: the two faces then sit on either side of one edge, as on a closed surface.
    Coincident vertices that no such edge pair joins (stacked duplicates, clusters left by a
    remesher) are left alone, and stitches that would collapse or duplicate a face, or give an
    edge more faces than any edge of the input has (two on a manifold mesh), are not made, so
    every face survives and the result is never less manifold than the input.

    Args:
        vertices: (V,3) float positions.
        faces: (F,3) int triangles.
        tol: stitch distance as a fraction of the bounding-box diagonal (0 disables it).
        parts: optional (V,) labels: when given, only vertices with the same label are merged
            (by default seams are stitched across parts too, which is how UV islands arrive).

    Returns:
        ``(welded_vertices (W,3) float64, welded_faces (G,3) int64, index (V,) int64)``:
        ``index[i]`` is the welded vertex of input vertex ``i``; welded vertices are numbered
        by their lowest input vertex, so with nothing to weld the output equals the input
        (``index`` is ``arange(V)``). A merged vertex sits at the mean of its group; the faces
        are the input's, renumbered (none is dropped).
    """
    from scipy.spatial import cKDTree

    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    V = v.shape[0]
    identity = (v, f, np.arange(V, dtype=np.int64))
    if V == 0 or f.size == 0 or tol <= 0:
        return identity
    a, b = f.ravel(), f[:, [1, 2, 0]].ravel()  # half-edges a -> b, in the order of _edge_keys
    uses = _edge_uses(a, b, V)  # faces on each half-edge's edge
    border = uses == 1
    ha, hb = a[border], b[border]  # boundary half-edges
    bv = np.unique(np.concatenate([ha, hb]))
    if bv.size < 2:
        return identity
    diag = float(np.linalg.norm(v.max(0) - v.min(0)))
    close = cKDTree(v[bv]).query_pairs(tol * diag, output_type="ndarray")
    if close.size == 0:
        return identity
    close = bv[close]
    if parts is not None:
        parts = np.asarray(parts)
        close = close[parts[close[:, 0]] == parts[close[:, 1]]]
        if close.size == 0:
            return identity
    near: dict[int, list[int]] = {}
    for x, y in close.tolist():
        near.setdefault(x, []).append(y)
        near.setdefault(y, []).append(x)
    half = set(zip(ha.tolist(), hb.tolist()))
    pairs = []
    for x, y in zip(ha.tolist(), hb.tolist()):
        if x not in near and y not in near:
            continue
        cands = [
            (yp, xp)
            for yp in near.get(y, []) + [y]
            for xp in near.get(x, []) + [x]
            if (yp, xp) != (y, x) and (yp, xp) in half
        ]
        if len(cands) == 1:
            yp, xp = cands[0]
            pairs += [(x, xp), (y, yp)]
    pairs = np.array([p for p in pairs if p[0] != p[1]], dtype=np.int64).reshape(-1, 2)
    limit = max(2, int(uses.max()))
    dup_input = None  # the input's duplicate faces, found once (below)
    for _ in range(3):  # drop stitches that would collapse a face or overload an edge, then retry
        if pairs.size == 0:
            return identity
        index = connected_components(V, pairs)  # groups numbered by their lowest vertex
        n = int(index.max()) + 1
        wf = index[f]
        bad = (wf[:, 0] == wf[:, 1]) | (wf[:, 1] == wf[:, 2]) | (wf[:, 0] == wf[:, 2])
        # Only faces with a corner in a merged group can become duplicates or overload an edge: a
        # face without one keeps its vertices, so it duplicates exactly the faces it duplicated
        # before (none with such a corner), and its edges keep their faces (edge counts were <=
        # limit). So the faces with one are looked at alone: the same result as over every face.
        merged = (np.bincount(index, minlength=n) > 1)[index]  # (V,) in a group of several
        mf = merged[f]
        near = np.flatnonzero(mf[:, 0] | mf[:, 1] | mf[:, 2])
        if dup_input is None:
            dup_input = _duplicate_faces(f, V)
        far = np.ones(len(f), bool)
        far[near] = False
        bad |= dup_input & far
        if near.size:
            dup = _duplicate_faces(wf[near], n)
            bad[near[dup]] = True
            _, ui, uc = np.unique(_edge_keys(wf[near], n), return_inverse=True, return_counts=True)
            bad[near[(uc[ui] > limit).reshape(-1, 3).any(1)]] = True
        if not bad.any():
            wcounts = np.bincount(index, minlength=n).astype(np.float64)
            wv = np.stack([np.bincount(index, v[:, c], minlength=n) for c in range(3)], axis=1) / wcounts[:, None]
            return wv, wf, index
        touched = np.isin(index, np.unique(index[f[bad]]))  # every input vertex of an offending group
        pairs = pairs[~(touched[pairs[:, 0]] | touched[pairs[:, 1]])]
    return identity

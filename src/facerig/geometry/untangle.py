"""Folds: triangles a shape turns over, and removing them with the smallest local change.

A blendshape folds the surface where a triangle's normal turns against the one it has at neutral
(its posed area, projected on its neutral normal, falls below ``min_ratio`` of its neutral area):
the chin folding under itself in a jawOpen, a lip rolled through the one next to it. Rendered, a
fold is a dark crease or patch. :func:`folded_faces` finds them; :func:`untangle` smooths the
displacement (not the positions: the neutral's own detail stays) over the folded triangles'
vertices and a ring or two around them, with everything outside that region held, until no fold
is left or a fixed number of rounds has run. Smoothing with the region's border held tends to the
harmonic interpolation of the displacement from the border, which does not fold a small patch;
the region grows by a ring each round a fold survives. Vertices outside it, rigid parts (eyeballs
and teeth: their own connected pieces, which a rigid motion never folds, so no region reaches
them) and ``frozen`` vertices keep their deltas. Coincident vertices that the rig moves together
(an exporter's seam) are smoothed as one, so no crack opens; those it moves apart (two lips of a
mouth modelled as a closed slit) stay apart.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: :func:`untangle` defaults: a triangle is folded when its posed area projected on its neutral
#: normal is below ``min_ratio`` x its neutral area; the region is the folded triangles'
#: vertices grown by ``rings`` rings (and one more each round a fold survives); ``steps``
#: Jacobi smoothing steps (each vertex moves halfway to its neighbours' mean displacement) per
#: round, at most ``rounds`` rounds.
UNTANGLE = {"min_ratio": 0.0, "rings": 2, "steps": 10, "rounds": 16}

#: :func:`folded_faces` tests this many triangles of every shape at a time ((chunk, 3, K) float32
#: temporaries: about 1 MB each for a 52-shape rig, within a core's cache: 20-30 % less time than
#: 8192 on the example and 60k heads, ``benchmarks/blink_fold_cost.py``; each triangle's test is its
#: own, so the chunk changes no result).
_CHUNK = 2048


def _cross(p: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Triangle normals times twice their area: p (..., V, 3), faces (F, 3) -> (..., F, 3)."""
    a, b, c = p[..., faces[:, 0], :], p[..., faces[:, 1], :], p[..., faces[:, 2], :]
    return np.cross(b - a, c - a)


def folded_faces(
    vertices: np.ndarray, faces: np.ndarray, deltas: np.ndarray, min_ratio: float = UNTANGLE["min_ratio"]
) -> np.ndarray:
    """Triangles each shape folds over: (K, F) bool.

    vertices (V, 3) neutral, faces (F, 3), deltas (K, V, 3). A triangle is folded in a shape when
    its posed normal x area, projected on its neutral unit normal, is below ``min_ratio`` x its
    neutral area (0: turned over; a small positive value also counts near-collapsed ones).
    Triangles degenerate at neutral (area below 1e-12 of the largest) never count."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    d = np.asarray(deltas)
    if d.ndim == 2:
        d = d[None]
    # in units of the mesh's size: the test is scale-free, and float32 products of the edges'
    # changes must not overflow on a mesh in light years nor underflow in femtometres
    size = float(np.linalg.norm(v.max(0) - v.min(0))) if len(v) else 1.0
    size = size if np.isfinite(size) and size > 0 else 1.0
    v = (v - v.mean(0)) / size
    c0 = _cross(v, f)
    a0 = np.einsum("fi,fi->f", c0, c0)
    ok = a0 > 1e-12 * (a0.max() if a0.size else 0.0)
    # posed normal . neutral normal = (e1 + g1) x (e2 + g2) . c0 with e the neutral edges and g
    # the edges' change: (e1 x e2) . c0 = a0, and the rest is linear in e x c0 and c0 x g
    e1, e2 = v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]
    # in float32, scaled so the neutral term is 1 (the sign test needs no more precision)
    scale = 1.0 / np.where(ok, a0, 1.0)
    u1 = (np.cross(e2, c0) * scale[:, None]).astype(np.float32)  # (g1 x e2) . c0 = g1 . (e2 x c0)
    u2 = (np.cross(c0, e1) * scale[:, None]).astype(np.float32)  # (e1 x g2) . c0 = g2 . (c0 x e1)
    n0 = (c0 * scale[:, None]).astype(np.float32)
    K, F = d.shape[0], len(f)
    # all shapes at once: (V, 3, K) float32, a chunk of triangles' corners gathered as whole rows
    # (one memory read per corner for every shape), so every product below runs over K shapes at
    # a time; the same float32 operations in the same order as one shape and one triangle at a
    # time (bit-identical)
    dd = np.empty((len(v), 3, K), np.float32)
    for k in range(K):
        dd[:, :, k] = (np.asarray(d[k], np.float64) / size).astype(np.float32)
    out = np.zeros((F, K), bool)
    for s in range(0, F, _CHUNK):
        sl = slice(s, s + _CHUNK)
        g0 = np.take(dd, f[sl, 0], axis=0)  # (chunk, 3, K)
        g1 = np.take(dd, f[sl, 1], axis=0) - g0
        g2 = np.take(dd, f[sl, 2], axis=0) - g0
        a, b, c = u1[sl, :, None], u2[sl, :, None], n0[sl, :, None]
        dot = g1[:, 0] * a[:, 0]
        dot += g1[:, 1] * a[:, 1]
        dot += g1[:, 2] * a[:, 2]
        t = g2[:, 0] * b[:, 0]
        t += g2[:, 1] * b[:, 1]
        t += g2[:, 2] * b[:, 2]
        dot += t
        dot += (g1[:, 1] * g2[:, 2] - g1[:, 2] * g2[:, 1]) * c[:, 0]
        dot += (g1[:, 2] * g2[:, 0] - g1[:, 0] * g2[:, 2]) * c[:, 1]
        dot += (g1[:, 0] * g2[:, 1] - g1[:, 1] * g2[:, 0]) * c[:, 2]
        out[sl] = ok[sl, None] & (dot < min_ratio - 1.0)
    return np.ascontiguousarray(out.T)


#: Triangles x shapes from which :func:`_folded_faces_halves` tests half of the shapes in a forked child.
_SPLIT_MIN = 1_000_000


def _folded_faces_halves(vertices: np.ndarray, faces: np.ndarray, deltas: np.ndarray, min_ratio: float) -> np.ndarray:
    """:func:`folded_faces` (K, F) bool of deltas (K, V, 3), the second half of the shapes tested in a
    forked child beside the first (:func:`facerig.parallel.fork_beside`: where the host process allows it
    and a core is idle, for at least :data:`_SPLIT_MIN` triangles x shapes). The same result: each
    shape's test is its own (the same float32 operations whichever shapes go with it)."""
    from facerig.parallel import fork_beside

    K = len(deltas)
    job = None
    if K >= 2 and len(faces) * K >= _SPLIT_MIN:
        job = fork_beside(folded_faces, vertices, faces, deltas[K // 2 :], min_ratio)
    if job is None:
        return folded_faces(vertices, faces, deltas, min_ratio)
    with job:
        first = folded_faces(vertices, faces, deltas[: K // 2], min_ratio)
        return np.concatenate([first, job.result()])


def _nodes(vertices: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """(V,) node of each vertex: coincident vertices with the same deltas in every shape share
    one (a seam the rig moves as one surface), any other vertex is its own."""
    v = np.ascontiguousarray(np.asarray(vertices, np.float64))
    n = len(v)
    node = np.arange(n)
    if n == 0:
        return node
    order = np.lexsort((v[:, 2], v[:, 1], v[:, 0]))
    s = v[order]
    same = (s[1:] == s[:-1]).all(1)
    if not same.any():
        return node
    start = np.ones(n, bool)
    start[1:] = ~same
    group = np.cumsum(start) - 1
    first = order[np.flatnonzero(start)][group]  # (n,) the first vertex (in order) of each one's group
    shared = order[first != order]
    equal = (np.asarray(deltas)[:, shared] == np.asarray(deltas)[:, first[first != order]]).all(axis=(0, 2))
    node[shared[equal]] = first[first != order][equal]
    return node


def untangle(
    vertices: np.ndarray,
    faces: np.ndarray,
    deltas: np.ndarray,
    *,
    shapes: np.ndarray | None = None,
    frozen: np.ndarray | None = None,
    where: np.ndarray | None = None,
    min_area: float = 0.0,
    min_ratio: float = UNTANGLE["min_ratio"],
    rings: int = UNTANGLE["rings"],
    steps: int = UNTANGLE["steps"],
    rounds: int = UNTANGLE["rounds"],
) -> tuple[np.ndarray, dict]:
    """Deltas with the folds the shapes make smoothed away (see module doc).

    All folding shapes are smoothed together (one sparse product per step for all of them), each
    on its own region, and each stops as soon as it has no fold left.

    Args:
        vertices: (V, 3) neutral.
        faces: (F, 3) triangles.
        deltas: (K, V, 3) the rig; never modified.
        shapes: (K,) bool, the shapes to untangle (default all; e.g. leave blinks, whose lid
            authors tuck into its crease, alone).
        frozen: (V,) bool, vertices that keep their deltas (default none).
        where: (F,) bool, the triangles whose folds count (default all), or ``"largest"``: those
            of the largest connected piece (coincident vertices the rig moves as one joined), the
            head's outer surface, not a mouth bag or teeth, whose folds nobody sees.
        min_area: a shape whose folded triangles (among ``where``) cover less area than this is
            left alone: authors' rigs fold a little here and there (lip corners, the inside of the
            lips), and smoothing those changes the shape for nothing anyone sees.
        min_ratio, rings, steps, rounds: see :data:`UNTANGLE`.

    Returns:
        (K, V, 3) deltas (``deltas`` itself when nothing folds, else a float32 copy) and info:
        ``folded_before`` / ``folded_after`` (K,) folded triangle counts of the untangled
        shapes (0 elsewhere), ``vertices_changed`` (K,).
    """
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    K = deltas.shape[0]
    todo = np.ones(K, bool) if shapes is None else np.asarray(shapes, bool).copy()
    folded = np.zeros((K, len(f)), bool)
    if todo.any() and len(f):
        folded[todo] = _folded_faces_halves(v, f, deltas[todo], min_ratio)
    node = _nodes(v, deltas) if todo.any() and folded.any() else np.arange(len(v))
    fn = node[f]  # faces on nodes
    if isinstance(where, str) and where == "largest":
        from facerig.geometry.components import connected_components

        piece = connected_components(len(v), fn)[fn[:, 0]]
        where = piece == np.bincount(piece).argmax()
    if where is not None:
        where = np.asarray(where, bool)
        folded &= where[None]
    before = folded.sum(1)
    info = {"folded_before": before.tolist(), "folded_after": before.tolist(), "vertices_changed": [0] * K}
    if min_area > 0:
        area = 0.5 * np.linalg.norm(_cross(v, f), axis=1)
        todo &= folded.astype(np.float64) @ area >= min_area
    todo &= before > 0
    if not todo.any():
        return deltas, info
    V, F = len(v), len(f)
    i = np.concatenate([fn[:, 0], fn[:, 1], fn[:, 2], fn[:, 1], fn[:, 2], fn[:, 0]])
    j = np.concatenate([fn[:, 1], fn[:, 2], fn[:, 0], fn[:, 0], fn[:, 1], fn[:, 2]])
    keep = i != j
    A = sp.csr_matrix((np.ones(int(keep.sum())), (i[keep], j[keep])), shape=(V, V))
    A.sum_duplicates()
    A.data[:] = 1.0  # an edge of two triangles counts once
    deg = np.asarray(A.sum(1)).ravel()
    W = sp.diags(1.0 / np.maximum(deg, 1.0)) @ A  # row-normalised: mean of the neighbours
    VF = sp.csr_matrix((np.ones(fn.size), (fn.ravel(), np.repeat(np.arange(F), 3))), shape=(V, F))
    movable = deg > 0
    if frozen is not None:
        movable[node[np.asarray(frozen, bool)]] = False  # a frozen copy freezes its node
    c0 = _cross(v, f)
    a0 = np.einsum("fi,fi->f", c0, c0)
    ok = a0 > 1e-12 * a0.max()
    ks = np.flatnonzero(todo)
    n = len(ks)
    counts = np.maximum(np.bincount(node, minlength=V), 1)[:, None, None]
    d = np.zeros((V, n, 3))  # node displacements of the shapes being untangled
    np.add.at(d, node, np.asarray(deltas[ks], np.float64).transpose(1, 0, 2))
    d /= counts
    fk = folded[ks].T.astype(np.float64)  # (F, n) folded now
    region = np.zeros((V, n), bool)
    live = np.ones(n, bool)
    best = fk.sum(0)  # (n,) fewest folds so far, and rounds since it last fell
    stall = np.zeros(n, np.int64)
    for r in range(rounds):
        ln = np.flatnonzero(live)
        seed = VF @ sp.csc_matrix(fk[:, ln])  # sparse: a region is a small part of the mesh
        for _ in range(rings + r):  # the region grows around what still folds
            seed = seed + A @ seed
        reg = region[:, ln] | ((seed.toarray() > 0) & movable[:, None])
        region[:, ln] = reg
        rows = np.flatnonzero(reg.any(1))
        Wr = W[rows]
        m = 0.5 * reg[rows][:, :, None]
        dl = np.ascontiguousarray(d[:, ln])  # (V, n', 3) the shapes still folding
        flat = dl.reshape(V, -1)  # a view
        mr = np.repeat(m[:, :, 0], 3, axis=1)
        for _ in range(steps):
            x = flat[rows]
            flat[rows] = x + mr * (Wr @ flat - x)
        d[:, ln] = dl
        near = np.unique(VF[rows].indices)  # only these triangles moved
        q = [v[fn[near, c], None, :] + dl[fn[near, c]] for c in range(3)]
        c = np.cross(q[1] - q[0], q[2] - q[0])  # (Fn, n', 3)
        still = ok[near, None] & (np.einsum("fki,fi->fk", c, c0[near]) < min_ratio * a0[near, None])
        if where is not None:
            still &= where[near, None]
        fk[:, ln] = 0.0
        fk[np.ix_(near, ln)] = still
        count = still.sum(0)
        stall[ln] = np.where(count < best[ln], 0, stall[ln] + 1)
        best[ln] = np.minimum(best[ln], count)
        live[ln[(count == 0) | (stall[ln] >= 3)]] = False  # unfolded, or no better for 3 rounds
        if not live.any():
            break
    new = d[node].transpose(1, 0, 2).astype(np.float32)
    after = before.copy()
    after[ks] = fk.sum(0)  # every triangle a shape changed was tested in its last round
    worse = after[ks] >= before[ks]  # smoothing made new folds elsewhere: keep the shape as it was
    new[worse] = np.asarray(deltas[ks[worse]], np.float32)
    after[ks[worse]] = before[ks[worse]]
    out = np.array(deltas, dtype=np.float32, copy=True)
    changed = np.zeros(K, np.int64)
    changed[ks] = (new != out[ks]).any(2).sum(1)
    out[ks] = new
    info["folded_after"] = after.tolist()
    info["vertices_changed"] = changed.tolist()
    return out, info


def folded_area(
    vertices: np.ndarray,
    faces: np.ndarray,
    deltas: np.ndarray,
    *,
    where: np.ndarray | str | None = None,
    min_ratio: float = UNTANGLE["min_ratio"],
) -> np.ndarray:
    """Area (neutral, in the mesh's units squared) of the triangles each shape folds: (K,).

    vertices (V, 3), faces (F, 3), deltas (K, V, 3); ``where`` as for :func:`untangle` ((F,) bool,
    ``"largest"``: the largest connected piece, coincident vertices the rig moves as one joined,
    or None: all): the quantity :func:`untangle`'s ``min_area`` is compared with."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    d = np.asarray(deltas)
    if d.ndim == 2:
        d = d[None]
    if not len(f):
        return np.zeros(d.shape[0])
    folded = folded_faces(v, f, d, min_ratio)
    if isinstance(where, str) and where == "largest":
        from facerig.geometry.components import connected_components

        fn = _nodes(v, d)[f]
        piece = connected_components(len(v), fn)[fn[:, 0]]
        where = piece == np.bincount(piece).argmax()
    if where is not None:
        folded &= np.asarray(where, bool)[None]
    return folded.astype(np.float64) @ (0.5 * np.linalg.norm(_cross(v, f), axis=1))

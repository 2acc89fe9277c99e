"""Consistent face winding for meshes whose triangles point every which way.

Exports and repairs sometimes leave part of a mesh's triangles wound the other way (flipped
normals). The network reads vertex normals, and the eyelid and jaw steps read which way a surface
faces, so a head with half its faces flipped lost its blink or its jaw (``benchmarks/robustness_sweep.py``).

:func:`consistent_winding` re-winds the triangles of each connected surface so that neighbours
agree (a breadth-first walk over edges shared by exactly two triangles), and turns each surface it
re-wound so that it encloses positive volume about its centroid (outward normals on a head).
A mesh whose triangles already agree almost everywhere (at most :data:`TOLERANCE` of its shared
edges disagree: remeshing leaves a few) is returned as it is.
"""

from __future__ import annotations

import numpy as np

#: Fraction of shared edges whose two triangles may disagree before the mesh is re-wound.
TOLERANCE = 0.01


def _shared_edges(faces: np.ndarray):
    """Pairs of triangles sharing an edge used by exactly two triangles: (a (E,), b (E,), agree (E,) bool)."""
    f = np.asarray(faces, dtype=np.int64)
    n = len(f)
    directed = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    owner = np.tile(np.arange(n), 3)
    key = np.sort(directed, axis=1)
    order = np.lexsort((key[:, 1], key[:, 0]))
    ks = key[order]
    new = np.r_[True, (ks[1:] != ks[:-1]).any(1)]
    start = np.flatnonzero(new)
    count = np.diff(np.r_[start, len(ks)])
    two = start[count == 2]
    i, j = order[two], order[two + 1]
    agree = directed[i, 0] != directed[j, 0]  # opposite directions along the shared edge
    return owner[i], owner[j], agree


def consistent_winding(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, int]:
    """Triangles (F, 3) re-wound to agree with their neighbours (module doc), and how many changed.

    Args:
        vertices: (V, 3). faces: (F, 3) int triangles.

    Returns:
        ``(faces (F, 3) int64, flipped)``: ``faces`` itself and 0 when at most :data:`TOLERANCE` of
        the shared edges disagree; else a copy with ``flipped`` rows reversed.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    f = np.asarray(faces, dtype=np.int64)
    v = np.asarray(vertices, dtype=np.float64)
    # neighbours across seams too: vertices at the same position count as one
    if len(v):
        key = np.round(v / max(float(np.linalg.norm(np.ptp(v, axis=0))) * 1e-9, 1e-300))
        same = np.unique(key, axis=0, return_inverse=True)[1].ravel()
    else:
        same = np.arange(0)
    a, b, agree = _shared_edges(same[f] if len(f) else f)
    if len(a) == 0 or (~agree).sum() <= TOLERANCE * len(a):
        return f, 0
    n = len(f)
    sign = np.where(agree, 1, -1)
    g = coo_matrix((np.r_[sign, sign], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    ncomp, comp = connected_components(g, directed=False)
    s = np.zeros(n, np.int8)
    rows, cols, vals = g.indptr, g.indices, g.data
    for c in range(ncomp):
        members = np.flatnonzero(comp == c)
        if len(members) == 1:
            s[members] = 1
            continue
        order, pred = breadth_first_order(g, members[0], directed=False, return_predecessors=True)
        s[order[0]] = 1
        for k in order[1:].tolist():  # each face's sign follows its BFS parent across the shared edge
            p = pred[k]
            lo, hi = rows[p], rows[p + 1]
            e = vals[lo:hi][cols[lo:hi] == k][0]
            s[k] = s[p] * e
    out = f.copy()
    out[s < 0] = out[s < 0][:, ::-1]
    for c in range(ncomp):  # each re-wound surface: outward (positive volume about its centroid)
        members = np.flatnonzero(comp == c)
        if (s[members] > 0).all():
            continue
        t = v[out[members]]
        t = t - t.reshape(-1, 3).mean(0)
        if np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum() < 0:
            out[members] = out[members][:, ::-1]
    flipped = int((out != f).any(1).sum())
    return out, flipped


class _Beside:
    """:func:`consistent_winding` of a mesh computed in a forked child (``job``) or, without one, here
    when asked (:func:`winding_beside`)."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, job):
        self._args, self._job = (vertices, faces), job

    def result(self) -> tuple[np.ndarray, int]:
        """:func:`consistent_winding`'s ``(faces, flipped)`` (``faces`` itself when none flipped)."""
        if self._job is None:
            return consistent_winding(*self._args)
        rows, flipped = self._job.result()
        return (self._args[1] if rows is None else rows), flipped

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self._job is not None:
            self._job.cancel()  # (a child whose answer was not asked for is killed and reaped)


def _changed(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray | None, int]:
    """:func:`consistent_winding`, the faces sent back only where they changed (None otherwise)."""
    out, flipped = consistent_winding(vertices, faces)
    return (None if out is faces else out), flipped


def winding_beside(vertices: np.ndarray, faces: np.ndarray):
    """:func:`consistent_winding` of vertices (V, 3), faces (F, 3) int64 started in a forked child
    (:func:`facerig.parallel.fork_beside`: where the host process allows it and a core is idle) while
    the caller works on: use it ``with`` it, ``result()`` giving ``(faces, flipped)`` as
    :func:`consistent_winding` (computed here when there is no child); leaving the block reaps the child."""
    from facerig.parallel import fork_beside

    f = np.asarray(faces, dtype=np.int64)
    job = fork_beside(_changed, vertices, f)
    return _Beside(vertices, f, job)

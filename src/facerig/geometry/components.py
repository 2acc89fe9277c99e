"""Connected components of a triangle mesh (the "parts": face skin, eyeballs, teeth, ...)."""

from __future__ import annotations

import numpy as np

#: :func:`connected_components` keeps the labels of the last mesh with at least this many face
#: corners: ``facerig rig`` asks for the same mesh's parts three times (the summary line, the
#: proxy, the rig's parts).
_CACHE_MIN_CORNERS = 30_000
_LAST: dict = {}


def connected_components(num_vertices: int, faces: np.ndarray) -> np.ndarray:
    """Label each vertex with its connected component (vertices sharing a face edge path).

    Args:
        num_vertices: V.
        faces: (F, 3) int triangles (any (F, n) polygon array works too).

    Returns:
        (V,) int64 labels in ``0..P-1``, numbered by each component's lowest vertex index
        (vertex 0 is always in part 0). A vertex no face uses is its own part. A new array on
        every call (the last large mesh's labels are kept, keyed by a hash of its faces).
    """
    V = int(num_vertices)
    if V == 0:
        return np.zeros(0, np.int64)
    f = np.asarray(faces, dtype=np.int64)
    if f.size == 0:
        return np.arange(V, dtype=np.int64)
    f = f.reshape(len(f), -1)
    if f.size < _CACHE_MIN_CORNERS:
        return _components(V, f)
    import hashlib

    key = (V, f.shape, hashlib.blake2b(np.ascontiguousarray(f).data, digest_size=16).digest())
    last = _LAST.get("labels")  # one read: another thread may replace it
    if last is None or last[0] != key:
        last = (key, _components(V, f))
        _LAST["labels"] = last
    return last[1].copy()


def _components(V: int, f: np.ndarray) -> np.ndarray:
    """:func:`connected_components` of faces f (F, n) int64, F > 0, computed."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as _cc

    a = f.ravel()
    b = np.roll(f, -1, axis=1).ravel()  # each corner linked to the next one
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(V, V)).tocsr()
    _, labels = _cc(graph, directed=False)
    # relabel by lowest vertex index of each component
    first = np.full(labels.max() + 1, V, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(V, dtype=np.int64))
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[labels]


def boundary_ratio(faces: np.ndarray) -> float:
    """Share of a triangle set's (F, 3) edges that are boundary edges (used by one face): 0 for a
    closed surface, 1 for no faces."""
    f = np.asarray(faces, dtype=np.int64)
    if len(f) == 0:
        return 1.0
    e = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    n = int(e.max()) + 1
    if e.min() >= 0 and n < 2**31:  # each edge as one integer: the same counts, far faster
        _, counts = np.unique(e[:, 0] * n + e[:, 1], return_counts=True)
    else:
        _, counts = np.unique(e, axis=0, return_counts=True)
    return float((counts == 1).sum() / counts.size)


def outline_ratio(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Isoperimetric ratio ``L**2 / (4 pi A)`` of a triangle set: L the length of its boundary edges
    (used by one face), A its area; vertices (V, 3), faces (F, 3). 0 for a closed surface, 0.5 for a
    hemisphere, 1 for a flat disc, ``length / (pi width)`` for a long strip, inf for no area. Unlike
    :func:`boundary_ratio` (a share of edges, which halves at each subdivision), it depends on the
    shape only, not on how finely it is meshed."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if len(f) == 0:
        return float("inf")
    area = 0.5 * float(np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]), axis=1).sum())
    e = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    u, counts = np.unique(e, axis=0, return_counts=True)
    b = u[counts == 1]
    length = float(np.linalg.norm(v[b[:, 0]] - v[b[:, 1]], axis=1).sum())
    if area <= 0:
        return 0.0 if length == 0 else float("inf")
    return length * length / (4.0 * np.pi * area)

"""Connected components of a triangle mesh (the "parts": face skin, eyeballs, teeth, ...)."""

from __future__ import annotations

import numpy as np


def connected_components(num_vertices: int, faces: np.ndarray) -> np.ndarray:
    """Label each vertex with its connected component (vertices sharing a face edge path).

    Args:
        num_vertices: V.
        faces: (F, 3) int triangles (any (F, n) polygon array works too).

    Returns:
        (V,) int64 labels in ``0..P-1``, numbered by each component's lowest vertex index
        (vertex 0 is always in part 0). A vertex no face uses is its own part.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as _cc

    V = int(num_vertices)
    if V == 0:
        return np.zeros(0, np.int64)
    f = np.asarray(faces, dtype=np.int64)
    if f.size == 0:
        return np.arange(V, dtype=np.int64)
    f = f.reshape(len(f), -1)
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
    _, counts = np.unique(e, axis=0, return_counts=True)
    return float((counts == 1).sum() / counts.size)

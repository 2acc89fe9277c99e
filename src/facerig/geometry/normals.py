"""Vertex normals: the one implementation every module uses."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from facerig.geometry.rows import cross_rows, norm_rows


def vertex_normals(vertices: np.ndarray, faces: np.ndarray, neighbours: sp.spmatrix | None = None) -> np.ndarray:
    """Unit area-weighted vertex normals: vertices (V, 3), faces (F, 3) -> (V, 3) float64.

    A vertex without a usable normal (used by no face, or whose faces' normals cancel: summed
    normal at most 1e-12 times the median vertex's) gets the normal of the plane through its
    neighbours when ``neighbours`` (V, V), any sparse matrix whose row i is nonzero at i's
    neighbours (a Laplacian, an adjacency), is given and it has at least two; else +Z.
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    fn = cross_rows(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])  # (F, 3), |fn| = 2 area (= np.cross)
    n = np.zeros_like(v)
    for c in range(3):
        np.add.at(n, f[:, c], fn)
    norm = norm_rows(n)
    scale = np.median(norm[norm > 0]) if np.any(norm > 0) else 1.0
    bad = norm <= 1e-12 * scale
    n[~bad] /= norm[~bad, None]
    if bad.any():
        n[bad] = (0.0, 0.0, 1.0)
        if neighbours is not None:
            adj = sp.csr_matrix(neighbours)
            for i in np.flatnonzero(bad):
                nb = adj.indices[adj.indptr[i] : adj.indptr[i + 1]]
                nb = nb[nb != i]
                if nb.size >= 2:
                    p = v[nb] - v[i]
                    _, _, vt = np.linalg.svd(p - p.mean(0), full_matrices=True)
                    n[i] = vt[-1]
    return n

"""Vertex normals: the one implementation every module uses."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from facerig.geometry.rows import cross_rows, norm_rows

#: The ``fade`` the network's inputs use (:func:`vertex_normals`): normals whose faces cancel to
#: under a fifth of their summed length blend into +Z (none on a smooth surface; 90-degree creases
#: keep 0.7).
NORMAL_FADE = 0.2
#: With ``fade``: a vertex whose faces are slivers (twice their area over their longest edge
#: squared under this; 0.87 for an equilateral triangle) also blends into +Z, in proportion.
SLIVER_FADE = 0.02


def vertex_normals(
    vertices: np.ndarray, faces: np.ndarray, neighbours: sp.spmatrix | None = None, fade: float = 0.0
) -> np.ndarray:
    """Unit area-weighted vertex normals: vertices (V, 3), faces (F, 3) -> (V, 3) float64.

    A vertex without a usable normal (used by no face, or whose faces' normals cancel: summed
    normal at most 1e-12 times the median vertex's) gets the normal of the plane through its
    neighbours when ``neighbours`` (V, V), any sparse matrix whose row i is nonzero at i's
    neighbours (a Laplacian, an adjacency), is given and it has at least two; else +Z.

    ``fade`` > 0: the normals that nearly cancel (the rim of a folded or back-to-back
    double-sided sheet: lash cards, eye shells) are blended smoothly into +Z (``neighbours`` is
    then not used: the plane through a sheet rim's neighbours turns under noise as well)
    instead of jumping at the 1e-12 threshold: with
    ``r = |summed normal| / summed face-normal lengths`` (1 on a flat patch, 0 where they
    cancel), the normal is ``normalise(w u + (1 - w) Z)``, ``w = min(r / fade, 1)`` (which has
    no direction only where ``u = -Z`` at ``w = 1/2``).
    A vertex whose faces are slivers or needles (summed twice-areas under :data:`SLIVER_FADE`
    times their summed longest edges squared: faces with coincident or collinear corners) blends
    likewise, ``w`` times that ratio over :data:`SLIVER_FADE`. Vertices with
    ``r >= fade`` and faces of ordinary shape keep their plain normal exactly; on a cancelling vertex the
    plain normal is noise (0.001 of an edge moves it by up to 180 degrees), the faded one moves
    by about that noise over ``fade`` (:func:`facerig.geometry.features.local_features` and the
    network's operators use ``fade=`` :data:`NORMAL_FADE`).
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    fn = cross_rows(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])  # (F, 3), |fn| = 2 area (= np.cross)
    n = np.zeros_like(v)
    for c in range(3):
        np.add.at(n, f[:, c], fn)
    norm = norm_rows(n)
    if fade > 0:
        return _faded(v, n, norm, fn, f, float(fade))
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


def _faded(v, n, norm, fn, f, fade: float) -> np.ndarray:
    """:func:`vertex_normals` with ``fade`` (see there): (V, 3) unit normals."""
    total = np.zeros(len(v))
    fl = norm_rows(fn)
    for c in range(3):
        np.add.at(total, f[:, c], fl)
    r = np.divide(norm, total, out=np.zeros_like(norm), where=total > 0)
    w = np.minimum(r / fade, 1.0)
    # vertices whose faces are all needles or slivers (two coincident corners, three in a row):
    # their normal is noise too, so it fades as 2 x area / longest edge^2 of their faces falls
    # under SLIVER_FADE (0.87 for an equilateral triangle)
    e2 = np.stack([norm_rows(v[f[:, a]] - v[f[:, b]]) ** 2 for a, b in ((0, 1), (1, 2), (2, 0))], 1).max(1)
    long2 = np.zeros(len(v))
    for c in range(3):
        np.add.at(long2, f[:, c], e2)
    w *= np.minimum(np.divide(total, SLIVER_FADE * long2, out=np.zeros_like(total), where=long2 > 0), 1.0)
    u = np.divide(n, norm[:, None], out=np.zeros_like(n), where=norm[:, None] > 0)
    low = np.flatnonzero(w < 1)
    if low.size == 0:
        return u
    fb = np.array([0.0, 0.0, 1.0])
    m = w[low, None] * u[low] + (1 - w[low, None]) * fb
    u[low] = m / np.maximum(norm_rows(m)[:, None], 1e-30)
    return u

"""Merging the two ends of (nearly) zero-length edges, so that the network's proxy has no faces
of coincident corners.

Some exported heads carry faces with two coincident corners (johnsmith's head has two: a
zero-length edge inside the skin). Such a face has no normal, no cotangent weights and no
tangent plane; moving the head by 0.01 mm gives it an arbitrary one, and the network's inputs
(normals, Laplacian, gradients) at its vertices, and with them the rig there, jump by millimetres
(``benchmarks/rig_stability.py``). :func:`merge_short_edges` merges the ends of every edge shorter
than a tolerance (the seam-weld tolerance by default: far above 0.01-mm noise, far below any real
edge of a head) and drops the faces left with a repeated corner; the input's vertex count and
order are kept through ``index`` as :func:`facerig.geometry.weld.weld_seams` does.
"""

from __future__ import annotations

import numpy as np

from facerig.geometry.components import connected_components


def merge_short_edges(vertices: np.ndarray, faces: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge the ends of edges shorter than ``tol`` x the bounding-box diagonal.

    Args:
        vertices: (V, 3) float positions. faces: (F, 3) int triangles.
        tol: edge length as a fraction of the bounding-box diagonal (0 disables it).

    Returns:
        ``(merged_vertices (W, 3) float64, merged_faces (G, 3) int64, index (V,) int64)``:
        ``index[i]`` is the merged vertex of input vertex ``i``, merged vertices numbered by their
        lowest input vertex and placed at the mean of their group; faces with a repeated corner
        after merging are dropped. With no short edge the input comes back as it is (``index`` =
        ``arange(V)``).
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    V = v.shape[0]
    identity = (v, f, np.arange(V, dtype=np.int64))
    if V == 0 or f.size == 0 or tol <= 0:
        return identity
    diag = float(np.linalg.norm(v.max(0) - v.min(0)))
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    short = e[np.linalg.norm(v[e[:, 0]] - v[e[:, 1]], axis=1) < tol * diag]
    short = short[short[:, 0] != short[:, 1]]
    if short.size == 0:
        return identity
    # groups joined by short edges, numbered by their lowest vertex
    index = connected_components(V, np.concatenate([short, short[:, :1]], axis=1))
    W = int(index.max()) + 1
    count = np.bincount(index, minlength=W).astype(np.float64)
    wv = np.zeros((W, 3))
    np.add.at(wv, index, v)
    wv /= count[:, None]
    wf = index[f]
    keep = (wf[:, 0] != wf[:, 1]) & (wf[:, 1] != wf[:, 2]) & (wf[:, 2] != wf[:, 0])
    return wv, wf[keep], index

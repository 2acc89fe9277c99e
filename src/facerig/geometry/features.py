"""Local geometric descriptors of a head mesh (input features of the RigAnyFace network).

The spectral diffusion of the network works in a truncated eigenbasis (k = 128 over a
multi-part head), so it only sees coarse context; the parts that move most (eyelids, lips) are
thin features next to an opening of the skin and next to another part (eyeball, teeth, lashes).
:func:`local_features` describes exactly that, per vertex and at full resolution:

- the unit vertex normal (3);
- the distance ``r_b`` to the nearest *boundary* vertex (edges used by one face: the eye and
  mouth openings, the neck cut, the rims of lash strips), encoded as ``exp(-r_b / s)`` at two
  scales and the unit direction towards it times ``exp(-r_b / DIR_SCALE)`` (2 + 3);
- the same for the nearest vertex of *another connected part* (2 + 3).

Every column is invariant to translation and vertex order; given head-frame coordinates (head
width 1, :func:`facerig.geometry.proxy.head_frame`) they are also invariant to the input's
units. A mesh without boundary (or with a single part) gets zeros in those columns.

:func:`cross_part_operator` is the matching operator for learned features: a sparse average
over the nearby vertices of *other* parts, so a network whose diffusion stays inside each
connected part (teeth, lashes, eyeballs, eye-occlusion shells) can read its neighbours' features.
"""

from __future__ import annotations

import numpy as np

NUM_LOCAL_FEATURES = 13
SCALES = (0.01, 0.04)  # head widths (~1.5 mm and ~6 mm on an adult head)
DIR_SCALE = 0.04


def boundary_vertices(num_vertices: int, faces: np.ndarray) -> np.ndarray:
    """Indices of the vertices on boundary edges (edges used by exactly one face): (B,) int64."""
    f = np.asarray(faces, np.int64)
    if f.size == 0:
        return np.zeros(0, np.int64)
    e = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    key = e[:, 0] * int(num_vertices) + e[:, 1]
    uniq, counts = np.unique(key, return_counts=True)
    b = uniq[counts == 1]
    return np.unique(np.concatenate([b // int(num_vertices), b % int(num_vertices)]))


def _proximity(points: np.ndarray, r: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    """Columns [exp(-r/s) for s in SCALES] + unit direction * exp(-r/DIR_SCALE): (V, 5)."""
    d = nearest - points
    n = np.linalg.norm(d, axis=1, keepdims=True)
    unit = np.divide(d, n, out=np.zeros_like(d), where=n > 1e-12)
    cols = [np.exp(-r / s)[:, None] for s in SCALES]
    return np.concatenate(cols + [unit * np.exp(-r / DIR_SCALE)[:, None]], axis=1)


def local_features(
    vertices: np.ndarray, faces: np.ndarray, parts: np.ndarray | None = None, normals: np.ndarray | None = None
) -> np.ndarray:
    """Per-vertex local descriptors (see module doc).

    Args:
        vertices: (V, 3) head-frame positions.
        faces: (F, 3) int triangles.
        parts: (V,) part label per vertex (connected components if None).
        normals: (V, 3) unit normals (area-weighted vertex normals if None).

    Returns:
        (V, 13) float32: normal (3), boundary proximity (5), other-part proximity (5).
    """
    from scipy.spatial import cKDTree

    from facerig.geometry.components import connected_components
    from facerig.geometry.normals import vertex_normals

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    V = len(v)
    out = np.zeros((V, NUM_LOCAL_FEATURES), np.float32)
    if V == 0:
        return out
    out[:, :3] = vertex_normals(v, f) if normals is None else normals
    b = boundary_vertices(V, f)
    if b.size:
        r, j = cKDTree(v[b]).query(v)
        out[:, 3:8] = _proximity(v, r, v[b[j]])
    lab = connected_components(V, f) if parts is None else np.asarray(parts)
    if np.unique(lab).size > 1:
        r, near = _nearest_other_part(v, lab)
        out[:, 8:13] = _proximity(v, r, near)
    return out


CROSS_RADIUS = 0.04  # head widths (~6 mm on an adult head)
CROSS_SIGMA = 0.015  # head widths (~2 mm)


def cross_part_operator(
    vertices: np.ndarray,
    faces: np.ndarray,
    parts: np.ndarray | None = None,
    radius: float = CROSS_RADIUS,
    sigma: float = CROSS_SIGMA,
    k: int = 16,
):
    """Sparse averaging over the nearby vertices of other parts: ``(S x)_i`` is the Gaussian-
    weighted mean of ``x_j`` over the vertices ``j`` of another part within ``radius`` of ``i``
    (weights ``exp(-|v_i - v_j|^2 / (2 sigma^2))``, normalised per row), among the ``k`` nearest
    vertices of ``i`` (one k-NN query: a vertex deep inside its own part has no row).

    Args:
        vertices: (V, 3) head-frame positions; faces: (F, 3) int triangles.
        parts: (V,) part label per vertex (connected components of ``faces`` if None).
        radius, sigma: in the units of ``vertices`` (head widths in the head frame).

    Returns:
        scipy CSR (V, V) float32. Rows of vertices with no other part within ``radius`` are
        empty (so ``S x`` is 0 there), others sum to 1. Vertex-order equivariant.
    """
    import scipy.sparse as sp
    from scipy.spatial import cKDTree

    from facerig.geometry.components import connected_components

    v = np.asarray(vertices, np.float64)
    V = len(v)
    if V == 0:
        return sp.csr_matrix((0, 0), dtype=np.float32)
    lab = connected_components(V, np.asarray(faces, np.int64)) if parts is None else np.asarray(parts)
    kk = min(k, V)
    d, j = cKDTree(v).query(v, k=kk, distance_upper_bound=radius)
    d, j = d.reshape(V, kk), j.reshape(V, kk)
    ok = np.isfinite(d)
    jj = np.where(ok, j, 0)
    ok &= lab[jj] != lab[:, None]
    if not ok.any():
        return sp.csr_matrix((V, V), dtype=np.float32)
    rows = np.broadcast_to(np.arange(V)[:, None], (V, kk))[ok]
    w = np.exp(-0.5 * (d[ok] / sigma) ** 2)
    W = sp.csr_matrix((w, (rows, jj[ok])), shape=(V, V))
    tot = np.asarray(W.sum(1)).ravel()
    inv = np.divide(1.0, tot, out=np.zeros_like(tot), where=tot > 0)
    return sp.csr_matrix(sp.diags(inv) @ W, dtype=np.float32)


def network_inputs(vertices: np.ndarray, faces: np.ndarray, *, local: bool = True, cross: bool = True):
    """The per-head geometric inputs of the RigAnyFace network, from one connected-components
    pass: ``(local_features (V,13) or None, cross_part_operator (V,V) or None)``."""
    from facerig.geometry.components import connected_components

    if not (local or cross):
        return None, None
    parts = connected_components(len(vertices), np.asarray(faces, np.int64))
    return (
        local_features(vertices, faces, parts) if local else None,
        cross_part_operator(vertices, faces, parts) if cross else None,
    )


def _nearest_other_part(
    v: np.ndarray, lab: np.ndarray, k: int = 32, cutoff: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (V,) and position (V,3) of each vertex's nearest vertex with another label.

    One k-NN query over all vertices resolves most vertices; the rest are solved per part, but
    only where another part can be closer than ``cutoff`` head widths. Beyond it the encoded
    proximity would be below exp(-cutoff / DIR_SCALE) ~ 0.002; such vertices get r = inf (all
    proximity columns exactly 0)."""
    from scipy.spatial import cKDTree

    V = len(v)
    kk = min(k, V)
    d, j = cKDTree(v).query(v, k=kk)
    d, j = d.reshape(V, kk), j.reshape(V, kk)
    diff = lab[j] != lab[:, None]
    has = diff.any(1)
    first = np.argmax(diff, axis=1)
    r = np.full(V, np.inf)
    near = v.copy()
    rows = np.flatnonzero(has)
    r[rows] = d[rows, first[rows]]
    near[rows] = v[j[rows, first[rows]]]
    todo = np.flatnonzero(~has & (d[:, -1] < cutoff))
    for c in np.unique(lab[todo]):
        other = np.flatnonzero(lab != c)
        q = todo[lab[todo] == c]
        rc, jc = cKDTree(v[other]).query(v[q])
        r[q], near[q] = rc, v[other[jc]]
    return r, near

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

The directions are shared among candidates within a few :data:`TIE` of the nearest one and fade
out under :data:`NEAR`, so that 0.01 mm of noise cannot flip them (``benchmarks/rig_stability.py``).

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


#: Head widths (~0.08 mm on an adult head): candidates for the nearest boundary / other-part vertex
#: this much farther than the nearest one still share the direction columns, with weight
#: ``exp(-extra / TIE)``, so a vertex equidistant from two (the mid-line of a symmetric head, a
#: vertex between two lash tips) gets a direction that moves smoothly with the input instead of
#: flipping between them under 0.01-mm noise. A candidate ~1 mm farther weighs under 1e-5.
TIE = 0.0005
TIE_CANDIDATES = 4
#: Head widths (~0.15 mm): closer than this, the direction columns fade linearly to 0 with the
#: distance. A vertex lying on another one (a lash root on the lid, an eyeball vertex touching the
#: lid, unwelded duplicates) has no meaningful direction to it: 0.01-mm noise turns it anywhere.
NEAR = 0.001


def _proximity(points: np.ndarray, r: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    """Columns [exp(-r/s) for s in SCALES] + unit direction * exp(-r/DIR_SCALE): (V, 5).

    ``r`` (V,) or (V, C) and ``nearest`` (V, 3) or (V, C, 3): the nearest vertex, or C candidates
    nearest first (distance inf: none), whose unit directions are averaged with weights
    ``exp(-(r_c - r_0) / TIE)`` (not renormalised: two opposite candidates at a tie cancel
    continuously), and fade to 0 under :data:`NEAR`."""
    r = np.asarray(r, np.float64)
    if r.ndim == 1:
        r, nearest = r[:, None], np.asarray(nearest)[:, None, :]
    d = nearest - points[:, None, :]
    n = np.linalg.norm(d, axis=2, keepdims=True)
    unit = np.divide(d, n, out=np.zeros_like(d), where=n > 1e-12)
    r0 = r[:, 0]
    with np.errstate(invalid="ignore"):
        extra = np.where(np.isfinite(r), r - r0[:, None], np.inf)
    w = np.exp(-np.where(np.isfinite(extra), extra, np.inf) / TIE)
    w[~np.isfinite(r0)] = 0.0
    tot = w.sum(1, keepdims=True)
    direction = np.einsum("vc,vcd->vd", np.divide(w, tot, out=np.zeros_like(w), where=tot > 0), unit)
    direction *= np.clip(r0 / NEAR, 0.0, 1.0)[:, None]  # no direction to a vertex lying on this one
    cols = [np.exp(-r0 / s)[:, None] for s in SCALES]
    return np.concatenate(cols + [direction * np.exp(-r0 / DIR_SCALE)[:, None]], axis=1)


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
    from facerig.geometry.normals import NORMAL_FADE, vertex_normals

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    V = len(v)
    out = np.zeros((V, NUM_LOCAL_FEATURES), np.float32)
    if V == 0:
        return out
    out[:, :3] = vertex_normals(v, f, fade=NORMAL_FADE) if normals is None else normals
    b = boundary_vertices(V, f)
    if b.size:
        kb = min(TIE_CANDIDATES, b.size)
        r, j = cKDTree(v[b]).query(v, k=kb)
        r, j = r.reshape(V, kb), j.reshape(V, kb)
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
    """Distances (V, C) and positions (V, C, 3) of each vertex's :data:`TIE_CANDIDATES` nearest
    vertices with another label, nearest first (inf / the vertex itself where there are fewer).

    One k-NN query over all vertices resolves most vertices; the rest are solved per part, but
    only where another part can be closer than ``cutoff`` head widths. Beyond it the encoded
    proximity would be below exp(-cutoff / DIR_SCALE) ~ 0.002; such vertices get r = inf (all
    proximity columns exactly 0)."""
    from scipy.spatial import cKDTree

    V = len(v)
    C = TIE_CANDIDATES
    kk = min(k, V)
    d, j = cKDTree(v).query(v, k=kk)
    d, j = d.reshape(V, kk), j.reshape(V, kk)
    diff = lab[j] != lab[:, None]
    has = diff.any(1)
    # per row, the first C other-label columns in distance order (a stable sort puts them first)
    order = np.argsort(~diff, axis=1, kind="stable")[:, :C]
    ok = np.take_along_axis(diff, order, 1)
    r = np.where(ok, np.take_along_axis(d, order, 1), np.inf)
    if r.shape[1] < C:
        r = np.pad(r, ((0, 0), (0, C - r.shape[1])), constant_values=np.inf)
        order = np.pad(order, ((0, 0), (0, C - order.shape[1])))
    near = np.where(np.isfinite(r)[..., None], v[np.take_along_axis(j, order[:, :C], 1)], v[:, None, :])
    todo = np.flatnonzero(~has & (d[:, -1] < cutoff))
    for c in np.unique(lab[todo]):
        other = np.flatnonzero(lab != c)
        q = todo[lab[todo] == c]
        kc = min(C, other.size)
        rc, jc = cKDTree(v[other]).query(v[q], k=kc)
        rc, jc = rc.reshape(q.size, kc), jc.reshape(q.size, kc)
        r[q] = np.inf
        r[q, :kc], near[q, :kc] = rc, v[other[jc]]
    return r, near

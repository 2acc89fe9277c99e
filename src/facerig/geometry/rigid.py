"""Rigid parts stay rigid: each shape's motion of a part replaced by its best rigid motion."""

from __future__ import annotations

import numpy as np


def kabsch(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rotation R (3, 3) and translation t (3,) that best take points p (N, 3) to q (N, 3)
    in the least-squares sense (``q ~ p @ R.T + t``; no reflection)."""
    pc, qc = p.mean(0), q.mean(0)
    u, _, vt = np.linalg.svd((p - pc).T @ (q - qc))
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return r, qc - pc @ r.T


def rigid_part_deltas(vertices: np.ndarray, deltas: np.ndarray, part: np.ndarray, copy: bool = True) -> np.ndarray:
    """Deltas (K, V, 3) with the vertices of ``part`` (V,) bool moving rigidly in every shape.

    vertices (V, 3) neutral. Each shape's motion of the part is replaced by the rigid motion
    (rotation + translation, :func:`kabsch`) closest to it; other vertices keep theirs. A part
    that a shape does not move stays still. ``copy`` False: ``deltas`` (an array) is changed in
    place and returned (a caller that owns it saves a copy of every shape)."""
    v = np.asarray(vertices, np.float64)
    idx = np.flatnonzero(part)
    if idx.size < 4:
        return deltas
    out = np.array(deltas, copy=True) if copy else deltas
    p = v[idx]
    for k in range(out.shape[0]):
        d = out[k, idx].astype(np.float64)
        if not np.any(d):
            continue
        r, t = kabsch(p, p + d)
        out[k, idx] = (p @ r.T + t - p).astype(out.dtype)
    return out


#: A mouth part with more than this share of a head's vertices is a mouth bag or a tongue, not teeth.
TEETH_MAX_SHARE = 0.02


def teeth_parts(layout, vertices: np.ndarray) -> list[int]:
    """Labels of a head's mouth parts that are teeth: small (at most :data:`TEETH_MAX_SHARE` of the
    vertices each) and not glued to another part (no vertex at exactly the position of another
    part's vertex: such a piece is a patch of a larger surface, whose coincident vertices a rig
    moves together, not a separate body). ``layout``: a :class:`facerig.geometry.face_parts.Layout`
    (labels (V,)); vertices (V, 3) neutral."""
    labels = np.asarray(layout.labels)
    small = [p for p in layout.mouth_parts if (labels == p).sum() <= TEETH_MAX_SHARE * labels.size]
    if not small:
        return []
    v = np.ascontiguousarray(np.asarray(vertices, np.float64))
    _, inverse = np.unique(v, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    first = np.full(inverse.max() + 1, -1, np.int64)  # the part of one vertex at each position ...
    first[inverse] = labels
    mixed = np.zeros(inverse.max() + 1, bool)  # ... and whether parts differ there
    mixed[inverse[first[inverse] != labels]] = True
    return [p for p in small if not mixed[inverse[labels == p]].any()]

"""Loose pieces that are not part of the head: stray geometry far away, a floor or a backdrop.

Downloaded and scanned heads often carry such pieces: a few triangles left far from the model, a
ground plane under a bust, a backdrop card behind a scan. Measured with them, the head's frame
(its width, its nose tip) and the face probe see a much larger or differently shaped object, and a
valid head was refused as "no plausible face" (``benchmarks/robustness_sweep.py``).

:func:`loose_junk` finds them among the connected parts (after stitching open seams, so a head
split along its UV seams is one part):

- the head is the part with the most vertices (a face mask may be flat: it is still the head);
- a part is junk when its bounding box lies farther from the head's than half the head's
  bounding-box diagonal (stray pieces), or when it is flat (its thinnest principal extent under
  2 % of its largest) and larger than the head (its largest extent above the head's: a floor or a
  backdrop).

Everything near the head stays: eyeballs, teeth, lashes, ears, hair cards, a separate neck or
torso, a bust's base that is not a thin sheet.
"""

from __future__ import annotations

import numpy as np

#: A part whose bounding box lies farther than this times the head's bounding-box diagonal from
#: the head's is a stray piece.
FAR = 0.5
#: A part is flat when its thinnest principal extent is under this fraction of its largest.
FLAT = 0.02


def _extents(p: np.ndarray) -> np.ndarray:
    """(3,) principal extents (largest first) of points (N, 3)."""
    q = p - p.mean(0)
    if len(q) < 3:
        return np.sort(np.r_[np.linalg.norm(np.ptp(q, axis=0)), 0.0, 0.0])[::-1]
    _, _, vt = np.linalg.svd(q, full_matrices=False)
    return np.sort(np.ptp(q @ vt.T, axis=0))[::-1]


def loose_junk(vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """(V,) bool: True on the vertices of loose pieces that are not part of the head (module doc).

    Args:
        vertices: (V, 3). faces: (F, 3) int triangles. labels: (V,) part of each vertex (default:
            :func:`facerig.geometry.face_parts.part_labels`, parts after stitching open seams).

    Returns:
        (V,) bool; all False when the mesh is one part or nothing qualifies. Vertices no face uses
        are never junk.
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    junk = np.zeros(len(v), bool)
    if len(f) == 0:
        return junk
    if labels is None:  # connected parts first (cheap); stitched parts to confirm what they flag
        from facerig.geometry.components import connected_components
        from facerig.geometry.face_parts import part_labels

        if not _judge(v, f, connected_components(len(v), f)).any():
            return junk
        labels = part_labels(v, f)
    return _judge(v, f, np.asarray(labels, dtype=np.int64))


def _judge(v: np.ndarray, f: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(V,) bool junk mask of :func:`loose_junk` for given part labels (V,)."""
    junk = np.zeros(len(v), bool)
    used = np.zeros(len(v), bool)
    used[f.ravel()] = True
    ids, counts = np.unique(labels[used], return_counts=True)
    if len(ids) < 2:
        return junk
    idx = np.flatnonzero(used)
    idx = idx[np.argsort(labels[idx], kind="stable")]
    members = dict(zip(ids.tolist(), np.split(idx, np.cumsum(counts)[:-1])))
    ext = {p: _extents(v[m]) for p, m in members.items()}
    flat = {p: e[0] > 0 and e[2] < FLAT * e[0] for p, e in ext.items()}
    head = int(ids[int(np.argmax(counts))])
    hv = v[members[head]]
    diag = float(np.linalg.norm(np.ptp(hv, axis=0)))
    if diag <= 0:
        return junk
    hlo, hhi = hv.min(0), hv.max(0)
    for p, m in members.items():
        if p == head:
            continue
        if flat[p] and ext[p][0] > ext[head][0]:
            junk[m] = True
            continue
        lo, hi = v[m].min(0), v[m].max(0)
        gap = np.linalg.norm(np.maximum(hlo - hi, 0) + np.maximum(lo - hhi, 0))  # <= the points' distance
        if gap > FAR * diag:
            junk[m] = True
    return junk

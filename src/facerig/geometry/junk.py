"""Loose pieces that are not part of the head: stray geometry far away, a floor or a backdrop.

Downloaded and scanned heads often carry such pieces: a few triangles left far from the model, a
ground plane under a bust, a backdrop card behind a scan. Measured with them, the head's frame
(its width, its nose tip) and the face probe see a much larger or differently shaped object, and a
valid head was refused as "no plausible face" (``benchmarks/robustness_sweep.py``).

:func:`loose_junk` finds them among the connected parts:

- the head is the part with the most vertices (a face mask may be flat: it is still the head);
- the head grows by every part whose bounding box lies within half the grown head's bounding-box
  diagonal (a head split into islands joins up island by island);
- a part is junk when it stays out of the grown head (stray pieces), or when it is flat (its
  thinnest principal extent under 2 % of its largest) and larger than the whole head (its largest
  extent above the grown head's largest bounding-box side: a floor or a backdrop).

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
    """(3,) principal extents (largest first) of points (N, 3) (of every k-th point past 4000)."""
    p = p[:: max(1, len(p) // 4000)]
    q = p - p.mean(0)
    if len(q) < 3:
        return np.sort(np.r_[np.linalg.norm(np.ptp(q, axis=0)), 0.0, 0.0])[::-1]
    _, _, vt = np.linalg.svd(q, full_matrices=False)
    return np.sort(np.ptp(q @ vt.T, axis=0))[::-1]


def loose_junk(vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """(V,) bool: True on the vertices of loose pieces that are not part of the head (module doc).

    Args:
        vertices: (V, 3). faces: (F, 3) int triangles. labels: (V,) part of each vertex (default:
            connected components).

    Returns:
        (V,) bool; all False when the mesh is one part or nothing qualifies. Vertices no face uses
        are never junk.
    """
    from facerig.geometry.components import connected_components

    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    junk = np.zeros(len(v), bool)
    if len(f) == 0:
        return junk
    labels = connected_components(len(v), f) if labels is None else np.asarray(labels, dtype=np.int64)
    used = np.zeros(len(v), bool)
    used[f.ravel()] = True
    ids, counts = np.unique(labels[used], return_counts=True)
    if len(ids) < 2:
        return junk
    idx = np.flatnonzero(used)
    idx = idx[np.argsort(labels[idx], kind="stable")]
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    lo = np.minimum.reduceat(v[idx], starts)
    hi = np.maximum.reduceat(v[idx], starts)
    head = int(np.argmax(counts))
    head_ext = _extents(v[idx[starts[head] : starts[head] + counts[head]]])[0]
    if head_ext <= 0:
        return junk
    flat_size = np.zeros(len(ids))  # largest extent of flat parts larger than the biggest part
    for k in np.flatnonzero(np.linalg.norm(hi - lo, axis=1) > head_ext):
        if k != head:
            e = _extents(v[idx[starts[k] : starts[k] + counts[k]]])
            flat_size[k] = e[0] if e[0] > head_ext and e[2] < FLAT * e[0] else 0.0

    def grow(out: np.ndarray) -> np.ndarray:
        """The head grown by every part near it (a head split into islands joins island by island)."""
        member = np.zeros(len(ids), bool)
        member[head] = True
        while True:
            clo, chi = lo[member].min(0), hi[member].max(0)
            gap = np.linalg.norm(np.maximum(clo - hi, 0) + np.maximum(lo - chi, 0), axis=1)
            add = ~member & ~out & (gap <= FAR * np.linalg.norm(chi - clo))
            if not add.any():
                return member
            member |= add

    member = grow(flat_size > 0)
    size = float(np.max(hi[member].max(0) - lo[member].min(0)))
    member = grow(flat_size > size)  # flat parts larger than the whole head: a floor, a backdrop
    bad = ids[~member]
    if bad.size:
        junk[used] = np.isin(labels[used], bad)
    return junk

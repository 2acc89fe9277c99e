"""Hair cards: many small open sheets around the top, sides and back of a head.

Game and VTuber heads often carry hair as alpha-textured cards: small open quads or strips floating
on the scalp. The network took them for lashes and moved them, and the face probe's eyes tilted
(``benchmarks/robustness_sweep.py``, variant ``junk_hair``). :func:`hair_cards` finds them so that
the rig can leave them out of the network's input and move them with the scalp under them
(:func:`facerig.models.registry.rig_mesh`).

A part (connected after stitching open seams, :func:`facerig.geometry.face_parts.part_labels`) is a
card when it is not the skin (the part with the largest bounding box) and

- open: it has boundary edges (eyeballs, teeth, a closed helmet are closed);
- thin: its thinnest principal extent is under :data:`THIN` of its largest (a sheet or a strip);
- small: its largest extent is under :data:`SMALL` of the skin's bounding-box diagonal;
- away from the eyes: its centre is farther than :data:`EYE_CLEAR` eye distances from both eyes
  (when :func:`~facerig.geometry.face_parts.find_layout` finds them: lash cards stay in the rig);
- above the eyes' level or behind the face, :data:`BEHIND` eye distances behind the eyes (in the
  ``up`` / ``forward`` frame; without eyes: the skin's mid-height and mid-depth stand for theirs).

Cards come in numbers: nothing is hair unless at least :data:`MIN_CARDS` parts qualify (a pair of
lash sheets, a tear line or a few eyebrow cards never do).
"""

from __future__ import annotations

import numpy as np

#: A card's thinnest principal extent is under this fraction of its largest.
THIN = 0.25
#: A card's largest extent is under this fraction of the skin's bounding-box diagonal.
SMALL = 0.3
#: Cards' centres lie farther than this many eye distances from both eyes' centres.
EYE_CLEAR = 0.75
#: Cards behind the face lie more than this many eye distances behind the eyes.
BEHIND = 1.0
#: Fewer qualifying parts than this are not hair.
MIN_CARDS = 16


def hair_cards(
    vertices: np.ndarray,
    faces: np.ndarray,
    up: str = "+y",
    forward: str = "+z",
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """(V,) bool: True on the vertices of hair cards (module doc).

    Args:
        vertices: (V, 3). faces: (F, 3) int triangles. up, forward: the head's axes in the mesh
            (``"+y"``, ``"-z"`` ...). exclude: (V,) bool, vertices already left out (loose junk):
            their parts are never cards.

    Returns:
        (V,) bool; all False when fewer than :data:`MIN_CARDS` parts qualify.
    """
    from facerig.geometry.face_parts import find_layout, part_labels
    from facerig.geometry.frame import orientation_matrix
    from facerig.geometry.junk import _extents

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    out = np.zeros(len(v), bool)
    if len(f) < 2 * MIN_CARDS:
        return out
    # cheap screen: enough open parts on the raw connectivity (welding only merges parts)
    e = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), 1)
    key, ec = np.unique(e[:, 0] * len(v) + e[:, 1], return_counts=True)
    bnd = key[ec == 1] // len(v)  # one vertex of each boundary edge
    if len(bnd) == 0:
        return out
    labels = part_labels(v, f)
    open_parts = np.unique(labels[bnd])
    if len(open_parts) < MIN_CARDS:
        return out
    used = np.zeros(len(v), bool)
    used[f.ravel()] = True
    parts = np.unique(labels[used])
    skip = set() if exclude is None else set(np.unique(labels[np.asarray(exclude, bool)]).tolist())
    # the skin: the largest bounding box among the parts kept
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.r_[parts, parts[-1] + 1])
    members = {int(p): order[bounds[i] : bounds[i + 1]] for i, p in enumerate(parts)}
    members = {p: m[used[m]] for p, m in members.items()}
    diag = {p: float(np.linalg.norm(np.ptp(v[m], axis=0))) if p not in skip else -1.0 for p, m in members.items()}
    skin = max(diag, key=diag.get)
    skin_diag = diag[skin]
    if skin_diag <= 0:
        return out
    cand = []
    for p in open_parts.tolist():
        if p == skin or p in skip or p not in members:
            continue
        pv = v[members[p]]
        ext = _extents(pv)
        if ext[0] < SMALL * skin_diag and ext[2] < THIN * ext[0]:
            cand.append(p)
    if len(cand) < MIN_CARDS:
        return out
    R = orientation_matrix(up, forward)  # rows: right, up, forward
    w = v @ R.T
    keep_faces = f[~np.isin(labels[f[:, 0]], cand)]
    lay = find_layout(w, keep_faces, labels)  # eyes without the cards in the way
    skin_w = w[members[skin]]
    lo, hi = skin_w.min(0), skin_w.max(0)
    eye_up = lay.eye_y if lay.eye_y is not None else 0.5 * (lo[1] + hi[1])
    eye_fw = lay.eye_z if lay.eye_z is not None else 0.5 * (lo[2] + hi[2])
    eyes = np.array([e.center for e in lay.eyes]) if lay.eyes else np.zeros((0, 3))
    hair = []
    for p in cand:
        c = w[members[p]].mean(0)
        if len(eyes) and np.min(np.linalg.norm(eyes - c, axis=1)) < EYE_CLEAR * lay.scale:
            continue
        if c[1] > eye_up or c[2] < eye_fw - BEHIND * lay.scale:
            hair.append(p)
    if len(hair) < MIN_CARDS:
        return out
    out[used] = np.isin(labels[used], hair)
    return out


def scalp_motion(vertices: np.ndarray, faces: np.ndarray, deltas: np.ndarray, cards: np.ndarray) -> np.ndarray:
    """Deltas of the card vertices read at the closest point of the rest of the surface.

    Args:
        vertices: (V, 3). faces: (F, 3) the surface the method rigged (no card faces).
        deltas: (K, V, 3) the rig. cards: (V,) bool, the card vertices.

    Returns:
        (K, V, 3) float32 copy with the card rows replaced by the barycentric blend of the deltas
        at each card vertex's closest point on ``faces`` (far from the face that is ~0).
    """
    from facerig.geometry.correspondence import closest_points

    out = np.array(deltas, dtype=np.float32, copy=True)
    idx = np.flatnonzero(cards)
    if idx.size == 0 or len(faces) == 0:
        return out
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    fi, bc, _ = closest_points(v[idx], v, f)
    out[:, idx] = np.einsum("klcd,lc->kld", out[:, f[fi]], bc.astype(np.float32))
    return out

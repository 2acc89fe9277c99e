"""Skin through eyeballs and teeth, for ``facerig check`` (a fast side test, no ground truth).

The *blockers* are the eyeballs and the teeth found by :func:`facerig.geometry.face_parts.find_layout`.
The *candidates* are the vertices of every other part (skin, lids, lips, tongue) lying between
``margin`` and ``near`` (in eye distances ``S``) from a blocker at neutral. A candidate's side of
a blocker is the sign of ``(p - q) . n_q``, with ``q`` its nearest blocker vertex and ``n_q`` that
vertex's area-weighted normal; in a posed shape a candidate *penetrates* when its side has
changed and it lies more than ``margin`` past the blocker's surface (either way, so normals may
point in or out). The ratio per shape is the share of candidates that penetrate any blocker.

This is the same idea as :func:`facerig.eval.metrics.interpenetration` (which ``facerig eval``
reports) with the nearest blocker *vertex* instead of the nearest point on its triangles and the
eyeballs and teeth as the only blockers: about 20x faster, so the check of a 27k-vertex rig stays
within seconds; values are close but not identical (``benchmarks/check_calibration.py``).
"""

from __future__ import annotations

import numpy as np


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals (V, 3) (not normalised) of vertices (V, 3), faces (F, 3)."""
    fn = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    vn = np.zeros_like(vertices)
    for c in range(3):
        np.add.at(vn, faces[:, c], fn)
    return vn


def penetration_ratios(
    neutral: np.ndarray,
    faces: np.ndarray,
    deltas: np.ndarray,
    labels: np.ndarray,
    blockers: list[int],
    scale: float,
    *,
    near: float = 0.08,
    margin: float = 0.003,
) -> tuple[np.ndarray, int]:
    """Share of candidate vertices pushed through an eyeball or a tooth, per shape (see module doc).

    Args:
        neutral: (V, 3). faces: (F, 3) int. deltas: (K, V, 3). labels: (V,) part labels.
        blockers: labels of the blocker parts. scale: the eye distance S.
        near, margin: candidate band and dead band, in units of S (0.08 S ~ 5 mm, 0.003 S ~ 0.2 mm).

    Returns:
        ``(ratios (K,), number of candidates)``; ratios are 0 where there are no candidates.
    """
    from scipy.spatial import cKDTree

    v0 = np.asarray(neutral, np.float64)
    f = np.asarray(faces, np.int64)
    K = len(deltas)
    out = np.zeros(K)
    near, margin = near * scale, margin * scale
    is_blocker = np.isin(labels, blockers)
    others = np.flatnonzero(~is_blocker)
    setups = []
    union: set[int] = set()
    for b in blockers:
        bv = np.flatnonzero(labels == b)
        bf = f[np.isin(f[:, 0], bv)]
        if len(bv) < 4 or len(bf) == 0 or len(others) == 0:
            continue
        local = np.full(len(v0), -1, np.int64)
        local[bv] = np.arange(len(bv))
        lf = local[bf]
        dist, j = cKDTree(v0[bv]).query(v0[others], distance_upper_bound=near)
        inside_band = np.isfinite(dist)
        cand, j = others[inside_band], j[inside_band]
        if cand.size == 0:
            continue
        n = vertex_normals(v0[bv], lf)
        side0 = np.einsum("ij,ij->i", v0[cand] - v0[bv][j], n[j]) / np.maximum(np.linalg.norm(n[j], axis=1), 1e-30)
        keep = np.abs(side0) > margin
        if not keep.any():
            continue
        setups.append((bv, lf, cand[keep], np.sign(side0[keep]), np.abs(side0[keep]), bv[j[keep]]))
        union.update(cand[keep].tolist())
    if not union:
        return out, 0
    for k in range(K):
        d = np.asarray(deltas[k], np.float64)
        hit: set[int] = set()
        for bv, lf, cand, s0, gap0, q0 in setups:
            # a candidate moving less than half its gap relative to its nearest blocker vertex cannot cross
            move = np.linalg.norm(d[cand] - d[q0], axis=1) >= 0.5 * gap0
            if not move.any():
                continue
            cand, s0 = cand[move], s0[move]
            pb = v0[bv] + d[bv]
            pc = v0[cand] + d[cand]
            _, j = cKDTree(pb).query(pc)
            n = vertex_normals(pb, lf)[j]
            side = np.einsum("ij,ij->i", pc - pb[j], n) / np.maximum(np.linalg.norm(n, axis=1), 1e-30)
            through = (np.sign(side) != s0) & (np.abs(side) > margin)
            hit.update(cand[through].tolist())
        out[k] = len(hit) / len(union)
    return out, len(union)

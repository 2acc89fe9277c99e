"""How far each eyelid travels in a blink, and where the two lids meet.

A blink closes the eye by bringing the upper lid down and the lower lid up. Rigs differ in who
does the work: :data:`facerig.geometry.eyelids.MEET` says where the eyelid step makes the lids
meet, as a share of the neutral opening above the lower margin. This module measures the same
on any rig's eyeBlink (an author's or the network's), so that choice can be read off the authors'
own rigs (``benchmarks/lid_meet.py``; BENCHMARKS.md "Eyelids").

Measured about the eyeball's sphere, in the eye's own front (:func:`facerig.geometry.eyelids.eye_yaw`):
the neutral opening (:func:`facerig.geometry.eyelids.eye_opening`) spans the elevation angles
``[bot(u), top(u)]`` per horizontal position ``u``; the lid margins are the skin vertices just
outside it (the nearest above ``top`` and below ``bot`` per horizontal bin, over the middle of the
eye where the opening is at least half its tallest). Each margin vertex's travel is its change of
elevation in the blink as a share of the opening's height there; a lid's travel is the median over
its margin vertices. ``meet = lower / (upper + lower)``: 0 the lower lid stays and the upper closes
the eye, 0.5 both go half way.

Everything is in the canonical frame (+Y up, face toward +Z): vertices (V, 3), faces (F, 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LidTravel:
    """One eyeBlink's lid motion (see module doc).

    Attributes:
        upper, lower: share of the neutral opening the upper lid travels down and the lower one up;
        meet: ``lower / (upper + lower)`` (NaN when neither moves); upper_n, lower_n: margin
        vertices measured.
    """

    upper: float
    lower: float
    meet: float
    upper_n: int
    lower_n: int


def lid_travel(
    vertices: np.ndarray,
    faces: np.ndarray,
    skin_faces: np.ndarray,
    eyeball_faces: np.ndarray,
    blink: np.ndarray,
    side: float,
    band: float = 0.5,
) -> LidTravel | None:
    """How far the lids of one eye travel in ``blink`` (see module doc), or None where the eye's
    opening cannot be measured (closed at neutral, hardly seen) or no margin vertex is found.

    vertices (V, 3) neutral, faces (F, 3); skin_faces (Fs,), eyeball_faces (Fe,): rows of
    ``faces``; blink (V, 3) the eyeBlink of this eye; ``side`` +1 for the left eye (+X), -1 for
    the right; ``band``: margin vertices are looked for within this share of the opening's height
    outside it."""
    from facerig.geometry.eyelids import _yaw_matrix, eye_opening, eye_yaw, eyeball_sphere

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    skin_faces = np.asarray(skin_faces, np.int64)
    eyeball_faces = np.asarray(eyeball_faces, np.int64)
    sphere = eyeball_sphere(v[np.unique(f[eyeball_faces])])
    c, r = sphere
    yaw, seen0 = eye_yaw(v, f, skin_faces, eyeball_faces, sphere, side)
    if seen0 < 0.005:
        return None
    R = _yaw_matrix(yaw)
    d0 = (v - c) @ R.T
    op = eye_opening(d0 + c, f, skin_faces, eyeball_faces, sphere=sphere)
    if op is None:
        return None
    d1 = d0 + np.asarray(blink, np.float64) @ R.T
    height = op.top - op.bot
    mid = height >= 0.5 * height.max()
    bu, btop, bbot, bh = op.u[mid], op.top[mid], op.bot[mid], height[mid]
    step = float(op.u[1] - op.u[0]) if len(op.u) > 1 else 2.0
    skin = np.zeros(len(v), bool)
    skin[np.unique(f[skin_faces])] = True
    rho = np.linalg.norm(d0, axis=1) / r
    u = d0[:, 0] / r
    phi0 = np.arctan2(d0[:, 1], d0[:, 2])
    phi1 = np.arctan2(d1[:, 1], d1[:, 2])
    cand = skin & (d0[:, 2] > 0) & (rho > 0.85) & (rho < 1.5)
    ups, lows = [], []
    for uc, t, b, h in zip(bu, btop, bbot, bh):
        inbin = cand & (np.abs(u - uc) <= 0.5 * step)
        above = np.flatnonzero(inbin & (phi0 >= t) & (phi0 <= t + band * h))
        below = np.flatnonzero(inbin & (phi0 <= b) & (phi0 >= b - band * h))
        if len(above):
            i = above[np.argmin(phi0[above])]
            ups.append((phi0[i] - phi1[i]) / h)
        if len(below):
            i = below[np.argmax(phi0[below])]
            lows.append((phi1[i] - phi0[i]) / h)
    if not ups and not lows:
        return None
    up = float(np.median(ups)) if ups else 0.0
    low = float(np.median(lows)) if lows else 0.0
    total = up + low
    meet = low / total if total > 1e-6 else float("nan")
    return LidTravel(up, low, meet, len(ups), len(lows))

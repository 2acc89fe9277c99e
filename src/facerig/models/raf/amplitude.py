"""Mouth motion sized to a mouth larger than the training heads' (issue 24).

The network's mouth shapes follow the mouth's size within the range its training heads span (the
validation heads' ground truth over the rig's: 1.0 whatever their mouth width), but past it they
stay about training-sized: on ICT and MakeHuman heads whose lower face is scaled up about the mouth
(exact ground truth carried through the warp, ``benchmarks/amplitude_sweep.py``), the best scale of
the rig's mouth shapes grows from 1.0 to 1.35-1.45 (smile, stretch, frown, dimple) and 1.55-1.7
(pucker, funnel, rolls) as the mouth grows 1.9 times (to 0.55 frame units).

The mouth's size is read from the rig itself: the distance between where its mouthSmileLeft and
mouthSmileRight move (:func:`smile_span`, the face probe's motion centroid), in head-frame units
(the frame the network saw) and over the face's size the face probe found. Past :data:`SPAN_MAX`
and :data:`SPAN_FACE_MAX` both (just above every validation head's, so ICT / MakeHuman rigs are
unchanged) the mouth shapes are scaled by ``(span / SPAN_MAX) ** gamma`` (the smaller ratio)
(:data:`GAMMA`, fitted on the warped in-family heads past that span, never on other authors' heads),
at most :data:`FACTOR_MAX`.
"""

from __future__ import annotations

import numpy as np

#: Smile span (head-frame units) up to which nothing changes: the largest over the 56 validation
#: heads (ICT, MakeHuman, 48 stylised) is 0.343 (``benchmarks/results/amplitude_study_s6.json``).
SPAN_MAX = 0.345
#: The same over the face's size ``sqrt(iod * eye_mouth)`` the face probe measured: the largest
#: over the validation heads is 0.817. A head is changed only past both (a head cropped to its
#: face has a small head frame and a span large in it, its mouth no larger for its face).
SPAN_FACE_MAX = 0.82
#: Exponent per group of shapes: least squares through (SPAN_MAX, 1) of log si_scale (the
#: group's median) on log(span / SPAN_MAX) over the 19 warped ICT and MakeHuman heads past
#: SPAN_MAX (``amplitude_sweep_unseen_off.json``, ``amplitude_sweep_makehuman_off.json``; ICT alone
#: 1.29 / 1.94, MakeHuman alone 0.86 / 1.23, each halving the other family's log residual).
GAMMA = {"corners": 1.0, "lips": 1.5}
#: Largest factor applied.
FACTOR_MAX = 2.0
#: The shapes each exponent applies to.
SHAPES = {
    "corners": (
        "mouthSmileLeft",
        "mouthSmileRight",
        "mouthStretchLeft",
        "mouthStretchRight",
        "mouthFrownLeft",
        "mouthFrownRight",
        "mouthDimpleLeft",
        "mouthDimpleRight",
    ),
    "lips": (
        "mouthPucker",
        "mouthFunnel",
        "mouthRollUpper",
        "mouthRollLower",
        "mouthShrugUpper",
        "mouthShrugLower",
        "mouthPressLeft",
        "mouthPressRight",
        "mouthUpperUpLeft",
        "mouthUpperUpRight",
        "mouthLowerDownLeft",
        "mouthLowerDownRight",
    ),
}


def motion_centroid(vertices: np.ndarray, delta: np.ndarray) -> np.ndarray | None:
    """Where a shape moves: the centroid of ``vertices`` (V,3) weighted by |delta|^2 (delta (V,3))
    over the vertices moving more than 30 % of its largest motion -> (3,), None if nothing moves."""
    s = np.linalg.norm(np.asarray(delta, np.float64), axis=1)
    if not s.size or not s.max() > 0:
        return None
    w = np.where(s > 0.3 * s.max(), s**2, 0.0)
    return (w[:, None] * np.asarray(vertices, np.float64)).sum(0) / w.sum()


def smile_span(vertices: np.ndarray, names: list[str], deltas: np.ndarray) -> float | None:
    """Distance between where mouthSmileLeft and mouthSmileRight move: vertices (V,3), deltas
    (K,V,3) of ``names`` -> float in the vertices' units, None without both or where one is still."""
    if "mouthSmileLeft" not in names or "mouthSmileRight" not in names:
        return None
    a = motion_centroid(vertices, deltas[names.index("mouthSmileLeft")])
    b = motion_centroid(vertices, deltas[names.index("mouthSmileRight")])
    if a is None or b is None:
        return None
    return float(np.linalg.norm(a - b))


def mouth_factors(span: float, span_face: float | None = None) -> dict[str, float]:
    """Scale per group of :data:`SHAPES` for a smile span in head-frame units (``span``) and over
    the face's size (``span_face``, None: not measured): with ``over`` the smaller of
    ``span / SPAN_MAX`` and ``span_face / SPAN_FACE_MAX``, 1 up to ``over`` 1, then
    ``over ** GAMMA[group]``, at most :data:`FACTOR_MAX`."""
    over = float(span) / SPAN_MAX
    if span_face is not None:
        over = min(over, float(span_face) / SPAN_FACE_MAX)
    over = max(over, 1.0)
    return {g: float(min(over ** GAMMA[g], FACTOR_MAX)) for g in SHAPES}


def scale_mouth(
    vertices: np.ndarray, names: list[str], deltas: np.ndarray, frame_unit: float, face_size: float | None = None
) -> tuple[np.ndarray, dict]:
    """Scale the mouth shapes of a rig whose mouth is past the training range (module doc).

    vertices (V,3) neutral, deltas (K,V,3) of ``names`` in the same units and axes, ``frame_unit``
    the head frame's unit in those units, ``face_size`` the face probe's ``sqrt(iod * eye_mouth)``
    in those units (None: not measured). Returns ``(deltas, report)``: the same array, scaled in
    place where a factor applies; report ``{"span": ..., "span_face": ..., "factors": {...}}``
    (factors only where applied; empty report without both smiles)."""
    span = smile_span(vertices, names, deltas)
    if span is None or not frame_unit > 0:
        return deltas, {}
    span_face = span / float(face_size) if face_size else None
    span /= float(frame_unit)
    report: dict = {"span": round(span, 4)}
    if span_face is not None:
        report["span_face"] = round(span_face, 4)
    factors = mouth_factors(span, span_face)
    if all(f == 1.0 for f in factors.values()):
        return deltas, report
    for group, shapes in SHAPES.items():
        for n in shapes:
            if n in names:
                deltas[names.index(n)] *= np.asarray(factors[group], deltas.dtype)
    report["factors"] = {g: round(f, 3) for g, f in factors.items()}
    return deltas, report

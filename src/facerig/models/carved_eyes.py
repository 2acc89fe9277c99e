"""Where a head without eyeballs or eye holes (carved eyes: a statue, a bust, a sculpt) has its eyes.

The rig's far-from-face and eye falloffs (:func:`facerig.models.finish.face_falloff`,
:func:`facerig.models.eye_falloff.eye_falloff`) take the eyes from the centroid of the rig's own
blinks (:func:`facerig.models.raf.probe.landmarks_from_motion`: the squared motion of every vertex
moving more than 0.3 of the blink's largest). On a statue (``heads/nefertiti_bust``) the network's
blink spreads over the whole bust and that centroid lands in the crown, with the eyes 0.6 of an eye
distance apart in height and 0.8 in depth: the eye falloff then keeps the crown's motion and fades
the eye's. Every eye shape of a side (blink, squint, wide, look) moves its eye most, while their
spread elsewhere differs from shape to shape: the eye is where their motion, each normalised by its
largest, is strongest on average (:func:`eyes_from_eye_shapes`).

:func:`carved_eyes` gives those eyes only where the head has no eyeball or eye hole
(:func:`facerig.geometry.face_parts.find_layout` finds none) and the blinks' centroids do not look
like a face (:func:`facerig.models.raf.probe.face_check` says ``error``) while the eye shapes' peaks
do: any other head keeps the eyes the falloffs found before, bit for bit. There the eye falloff
also uses the tighter radii :data:`CARVED_FALLOFF`.
"""

from __future__ import annotations

import numpy as np

#: The eye falloff's radii (face sizes, as :data:`facerig.models.eye_falloff.EYE_FALLOFF`) on a head
#: with carved eyes, whose blinks spread far (their centroids fail the face check): the network's
#: motion away from the eye is not to be trusted there. Within 1.0 face size of its eye lies at least
#: 94 % (on average 99.4 %) of every eye shape's motion in the validation set's ground truth
#: (``benchmarks/eye_reach.py``, ``eye_reach.json``: share_beyond_1.0 max 0.061, ICT's eyeSquint
#: into the cheek; mean 0.0057); the general radii (1.5 / 2.0) keep half the bust's face moving.
#: ``midline``: each eye shape also fades to zero at the mid-plane between the eyes from 0.15 eye
#: distances on its own side (:func:`facerig.models.eye_falloff.eye_falloff`): with a face size
#: about one eye distance, ``inner`` alone keeps the other eye moving.
CARVED_FALLOFF = {"inner": 1.0, "outer": 1.5, "midline": 0.15}

#: A side's eye is the centroid (weights: score^2) of the vertices whose mean normalised eye-shape
#: motion is over this share of its largest (:func:`eyes_from_eye_shapes`).
PEAK_SHARE = 0.7


def _side_shapes(names: list[str], side: str) -> list[str]:
    from facerig.models.eye_falloff import EYE_PREFIXES

    return [n for n in names if n.startswith(EYE_PREFIXES) and n.endswith(side)]


def eyes_from_eye_shapes(vertices: np.ndarray, deltas: np.ndarray, names: list[str]) -> np.ndarray | None:
    """Eyes (2, 3) [left, right] where each side's eye shapes move most together, or None.

    ``vertices`` (V, 3), ``deltas`` (K, V, 3), ``names`` (K,). For each side, the score of a vertex
    is the mean over that side's eye shapes (eyeBlink*, eyeSquint*, eyeWide*, eyeLook*) of its
    motion divided by the shape's largest; the eye is the score^2-weighted centroid of the vertices
    scoring over :data:`PEAK_SHARE` of the best. None when a side has no moving eye shape."""
    v = np.asarray(vertices, np.float64)
    names = list(names)
    eyes = []
    for side in ("Left", "Right"):
        score = np.zeros(len(v))
        count = 0
        for n in _side_shapes(names, side):
            m = np.linalg.norm(np.asarray(deltas[names.index(n)], np.float64), axis=1)
            if m.max() > 0:
                score += m / m.max()
                count += 1
        if not count:
            return None
        w = np.where(score > PEAK_SHARE * score.max(), score**2, 0.0)
        eyes.append((w[:, None] * v).sum(0) / w.sum())
    return np.stack(eyes)


def carved_eyes(
    vertices: np.ndarray,
    faces: np.ndarray,
    deltas: np.ndarray,
    names: list[str],
    up: str = "+y",
    forward: str = "+z",
) -> tuple[np.ndarray | None, dict]:
    """The eyes (2, 3) of a head with carved eyes for the eye falloff, or None to keep the blinks'.

    ``vertices`` (V, 3) and ``deltas`` (K, V, 3) in the input's axes (``up`` / ``forward`` strings,
    as ``facerig rig``), ``faces`` (F, 3). Returns ``(eyes, info)``: eyes from the eye shapes
    (:func:`eyes_from_eye_shapes`) when the blinks' centroids fail the face check, the head has no
    eyeball and no eye hole, and those eyes pass it; else ``(None, {})``. ``info``: the check's
    reasons before and the eye distance after."""
    from facerig.geometry.face_parts import find_layout
    from facerig.geometry.frame import orientation_matrix
    from facerig.models.finish import FACE_SHAPES
    from facerig.models.raf.probe import face_check, landmarks_from_motion

    names = list(names)
    if not (isinstance(up, str) and isinstance(forward, str)) or not set(FACE_SHAPES) <= set(names):
        return None, {}
    probe = np.stack([np.asarray(deltas[names.index(n)], np.float64) for n in FACE_SHAPES])
    if not all(np.abs(s).max() > 0 for s in probe):
        return None, {}
    rot = orientation_matrix(up, forward)
    v = np.asarray(vertices, np.float64) @ rot.T  # canonical frame: +Y up, face toward +Z
    lm = landmarks_from_motion(v, probe @ rot.T)
    status, reasons = face_check(lm)
    if status != "error":
        return None, {}
    eyes = eyes_from_eye_shapes(v, deltas, names)
    if eyes is None:
        return None, {}
    new = dict(lm, eye_left=eyes[0], eye_right=eyes[1])
    new["iod"] = float(np.linalg.norm(eyes[0] - eyes[1]))
    new["eye_mouth"] = float(np.linalg.norm(eyes.mean(0) - lm["mouth"]))
    if face_check(new)[0] == "error":
        return None, {}
    if find_layout(v, np.asarray(faces, np.int64)).eyes:  # eyeballs or eye holes: the blinks place the eyes
        return None, {}
    info = {"blink_check": reasons, "iod": round(new["iod"], 6)}
    return eyes @ rot, info

"""Eye shapes stay at their eye: each eye shape's motion fades out beyond a radius of its own eye.

A head without eyeballs or eye holes (a statue: ``nefertiti_bust``) gives the eyelid step nothing
to close and the network's blink spreads over the whole head, crown included. Authors' eye
shapes (eyeBlink*, eyeSquint*, eyeWide*, eyeLook*) move nothing far from their eye
(``benchmarks/eye_reach.py``: ICT FaceKit and MakeHuman ground truth), so beyond
:data:`EYE_FALLOFF` face sizes from its own eye a shape is faded to zero, with the same eyes,
face size and cosine fade as the rig's far-from-face falloff
(:func:`facerig.models.finish.face_falloff`). A rig whose eye shapes already stay at the eyes is
left as it was.
"""

from __future__ import annotations

import numpy as np

#: Each eye shape keeps its motion in full within ``inner`` face sizes (sqrt(eye distance x
#: eye-to-mouth distance), as :func:`facerig.models.finish.face_falloff`) of its own eye and
#: fades to zero (cosine) at ``outer``. From the validation set's ground truth (ICT FaceKit and
#: MakeHuman; ``benchmarks/eye_reach.py``, ``benchmarks/results/eye_reach.json``): ``inner`` is the
#: 0.99 quantile over heads and eye shapes of how far from its eye a shape moves more than 5 % of
#: its largest motion (1.52; at most 1.5 % of a shape's motion, 0.1 % on average, lies beyond it),
#: ``outer`` the farthest any moves more than 1 % (2.01: ICT's eyeSquint, into the cheek).
EYE_FALLOFF = {"inner": 1.5, "outer": 2.0}

#: Name prefixes of the shapes :func:`eye_falloff` confines to their eye.
EYE_PREFIXES = ("eyeBlink", "eyeSquint", "eyeWide", "eyeLook")


def eye_shape_names(names: list[str]) -> list[str]:
    """The eye shapes among ``names`` (those starting with one of :data:`EYE_PREFIXES`)."""
    return [n for n in names if n.startswith(EYE_PREFIXES)]


def own_eye(vertices: np.ndarray, motion: np.ndarray, eyes: np.ndarray) -> int:
    """Index (0 or 1) of the eye of ``eyes`` (2, 3) nearest the centroid of ``motion`` (V,)
    (|delta| per vertex) over ``vertices`` (V, 3), weighted as the face probe weighs it (the
    squared motion of the vertices moving more than 0.3 of the largest)."""
    w = np.where(motion > 0.3 * motion.max(), motion**2, 0.0)
    c = (w[:, None] * vertices).sum(0) / max(w.sum(), 1e-30)
    return int(np.argmin(np.linalg.norm(eyes - c, axis=1)))


def eye_falloff(
    vertices: np.ndarray,
    deltas: np.ndarray,
    names: list[str],
    inner: float | None = None,
    outer: float | None = None,
    eyes: np.ndarray | None = None,
    midline: float | None = None,
) -> tuple[np.ndarray, dict]:
    """Deltas (K, V, 3) with each eye shape faded out beyond ``inner`` face sizes of its own eye.

    The eyes and the face size come from the rig's own blink and lip shapes
    (:func:`facerig.models.raf.probe.landmarks_from_motion`, as
    :func:`facerig.models.finish.face_falloff`); a shape's own eye is the one nearest its motion
    (:func:`own_eye`). ``eyes`` (2, 3): the eyes to use instead of the blinks' (a head with carved
    eyes: :func:`facerig.models.carved_eyes.carved_eyes`), the face size then from them and the lip
    shapes' mouth. With ``midline`` (eye distances), each eye shape also fades to zero at the
    mid-plane between the eyes, from ``midline`` on its own eye's side (a cosine): ARKit's one-eye
    shapes move their own side. Weights are 1 within ``inner`` x size of that eye, 0 beyond ``outer`` x
    size, a cosine in between (:func:`facerig.models.finish._fade`; :data:`EYE_FALLOFF`).
    ``vertices`` (V, 3), ``deltas`` (K, V, 3) -> (deltas, info): ``deltas`` itself when nothing
    changed (no eye shapes, no face found, or all motion within ``inner``), a float32 copy
    otherwise; info ``{"inner", "outer", "shapes": {name: share of its motion removed}}`` for the
    shapes changed, empty when none."""
    from facerig.models.finish import FACE_SHAPES, _fade
    from facerig.models.raf.probe import landmarks_from_motion

    inner = EYE_FALLOFF["inner"] if inner is None else float(inner)
    outer = EYE_FALLOFF["outer"] if outer is None else float(outer)
    names = list(names)
    eye_names = eye_shape_names(names)
    if not eye_names or not set(FACE_SHAPES) <= set(names):
        return deltas, {}
    v = np.asarray(vertices, np.float64)
    probe = np.stack([np.asarray(deltas[names.index(n)], np.float64) for n in FACE_SHAPES])
    if not all(np.abs(s).max() > 0 for s in probe):
        return deltas, {}
    lm = landmarks_from_motion(v, probe)
    given = eyes is not None
    if given:
        e = np.asarray(eyes, np.float64)
        lm = dict(lm, eye_left=e[0], eye_right=e[1], iod=float(np.linalg.norm(e[0] - e[1])))
        lm["eye_mouth"] = float(np.linalg.norm(e.mean(0) - lm["mouth"]))
    size = float(np.sqrt(lm["iod"] * lm["eye_mouth"]))
    if not (np.isfinite(size) and size > 0):
        return deltas, {}
    eyes = np.stack([lm["eye_left"], lm["eye_right"]])
    dist = np.linalg.norm(v[None] - eyes[:, None], axis=2) / size  # (2, V) face sizes
    weights = [_fade(dist[0], inner, outer), _fade(dist[1], inner, outer)]
    if midline is not None:  # one eye's shape stays on its side of the plane between the eyes
        mid, axis = eyes.mean(0), (eyes[0] - eyes[1]) / lm["iod"]
        s = (v - mid) @ axis / lm["iod"]  # (V,) eye distances toward eyes[0]
        weights = [weights[0] * _fade(-s, -float(midline), 0.0), weights[1] * _fade(s, -float(midline), 0.0)]
    out = None
    changed: dict[str, float] = {}
    for n in eye_names:
        k = names.index(n)
        m = np.linalg.norm(np.asarray(deltas[k], np.float64), axis=1)
        if m.max() <= 0:
            continue
        if given and n.endswith(("Left", "Right")):  # given eyes: [the Left shapes' eye, the Right shapes']
            w = weights[0 if n.endswith("Left") else 1]
        else:
            w = weights[own_eye(v, m, eyes)]
        if not (m[w < 1] > 0).any():
            continue
        if out is None:
            out = np.array(deltas, dtype=np.float32, copy=True)
        out[k] *= w[:, None].astype(np.float32)
        changed[n] = round(float((m * (1 - w)).sum() / m.sum()), 6)
    if out is None:
        return deltas, {}
    info = {"inner": inner, "outer": outer, "face_size": round(size, 6), "shapes": changed}
    if midline is not None:
        info["midline"] = float(midline)
    if given:
        info["eyes"] = [[round(float(c), 6) for c in e] for e in eyes]
    return out, info

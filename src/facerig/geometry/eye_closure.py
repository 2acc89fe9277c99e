"""How open an eye is, as ``facerig check`` measures it: one implementation for the check and the rig.

``facerig check``'s eyelid closure (:mod:`facerig.eval.check`) and the rig's eyelid step
(:func:`facerig.geometry.eyelids.close_blinks`) both ask how much of an eye a blink leaves open.
The step measures the gap between the lids its own way (the eyeball's least-squares sphere, a
disc of 0.95 radii, rays through the lids only, against the rest pose); the check counts rays
that meet the eyeball before the skin over a disc of 0.9 radii about the layout's eye centre. The
two differ by a few hundredths (johnsmith's left eye: 0.286 left by the step's measure, 0.299 by
the check's; the check fails above 0.3), so the step asks this module, the check's own measure,
whether its blink passes the check with a margin (:data:`facerig.geometry.eyelids.MARGIN`).

Everything is in the head's canonical frame (+Y up, face toward +Z): vertices (V, 3), faces (F, 3).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facerig.geometry.eye_holes import open_rays
from facerig.geometry.face_parts import Eye
from facerig.geometry.raycast import Grid, first_hits

#: Eye opening at neutral below this share of the window: the eye is closed at neutral (the check: n/a).
EYE_OPEN_MIN = 0.1


def eye_open_rays(
    vertices: np.ndarray, faces: np.ndarray, eye: Eye, neutral: np.ndarray, skin_faces: np.ndarray, n: int = 41
) -> tuple[int, int]:
    """How much of an eye is seen from the front: ``(open rays, rays in the window)``.

    Args:
        vertices: (V, 3) posed vertices. faces: (F, 3). eye: the eye (window from the neutral).
        neutral: (V, 3) neutral vertices (for the hole's outline). skin_faces: (Fs,) rows of
            ``faces`` that are skin. n: rays across the window.

    An eyeball's window is the disc of 0.9 x its radius around its centre; a ray is open when
    it meets the eyeball before the skin (other parts are ignored). A hole's window is the
    hole's outline at neutral; a ray is open when it hits nothing or only surfaces more than
    the hole's radius behind it.
    """
    c, r = eye.center, eye.radius
    if eye.kind != "eyeball":
        return open_rays(vertices, faces, neutral[eye.loop], c, r, n)
    grid = Grid.around(c[0] - r, c[0] + r, c[1] - r, c[1] + r, 2 * r / (n - 1))
    X, Y = grid.points()
    window = (X - c[0]) ** 2 + (Y - c[1]) ** 2 <= (0.9 * r) ** 2
    # the skin and this eyeball only: lashes, tear films and occlusion shells are no lids
    sub = np.concatenate([skin_faces, eye.faces])
    hit, _ = first_hits(vertices, faces[sub], grid)
    opened = hit >= len(skin_faces)
    return int((opened & window).sum()), int(window.sum())


def eye_front(
    v0: np.ndarray, faces: np.ndarray, eye: Eye, skin_faces: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """``(V, 3) -> (V, 3)``: vertices turned about the vertical through an eyeball's centre so that
    the direction it looks out of its opening (:func:`facerig.geometry.eyelids.eye_yaw`, measured at
    neutral v0 (V, 3)) faces the rays (+Z). A person's eyes look ahead (no turn); a llama's or a
    triceratops' look out to the sides, where rays from the head's front see the opening edge-on
    and through the meeting lids. The eyelid step of the rig measures its eyes the same way. An eye
    hole (a face mask) is seen from the front."""
    if eye.kind != "eyeball":
        return lambda v: v
    from facerig.geometry.eyelids import eye_yaw, eyeball_sphere

    sphere = eyeball_sphere(v0[np.unique(faces[eye.faces])])
    yaw, _ = eye_yaw(v0, faces, skin_faces, eye.faces, sphere, 1.0 if eye.side == "Left" else -1.0)
    return turn_about(eye, yaw)


def turn_about(eye: Eye, yaw: float) -> Callable[[np.ndarray], np.ndarray]:
    """``(V, 3) -> (V, 3)``: vertices turned by ``yaw`` (radians, :func:`facerig.geometry.eyelids.eye_yaw`)
    about the vertical through the eye's centre (``eye.center``), as :func:`eye_front` turns them."""
    if yaw == 0.0:
        return lambda v: v
    from facerig.geometry.eyelids import _yaw_matrix

    R, c = _yaw_matrix(yaw), np.asarray(eye.center, np.float64)
    return lambda v: (np.asarray(v, np.float64) - c) @ R.T + c


def blink_open_rays(
    v0: np.ndarray,
    faces: np.ndarray,
    eye: Eye,
    skin_faces: np.ndarray,
    blink: np.ndarray,
    turn: Callable[[np.ndarray], np.ndarray] | None = None,
    neutral: tuple[int, int] | None = None,
) -> tuple[int, int | None, int]:
    """An eye's opening before and after a blink, as ``facerig check`` measures it: ``(open rays at
    neutral, open rays after the blink, rays in the window)``; ``after`` None where the eye is closed
    at neutral (fewer than :data:`EYE_OPEN_MIN` of the window open). The check's eyelid closure is
    ``1 - after / before``; the share the blink leaves open ``after / before``.

    v0 (V, 3) neutral, faces (F, 3), eye (:class:`facerig.geometry.face_parts.Eye`), skin_faces
    (Fs,) rows of ``faces``, blink (V, 3) the eyeBlink's deltas; ``turn``: :func:`eye_front` of the
    eye when already known; ``neutral``: ``(open rays at neutral, rays in the window)`` of this
    eye and turn when already measured (an earlier call's first and last values)."""
    v0 = np.asarray(v0, np.float64)
    f = np.asarray(faces, np.int64)
    turn = eye_front(v0, f, eye, skin_faces) if turn is None else turn
    before, total = eye_open_rays(turn(v0), f, eye, v0, skin_faces) if neutral is None else neutral
    if total == 0 or before < EYE_OPEN_MIN * total:
        return before, None, total
    after, _ = eye_open_rays(turn(v0 + np.asarray(blink, np.float64)), f, eye, v0, skin_faces)
    return before, after, total

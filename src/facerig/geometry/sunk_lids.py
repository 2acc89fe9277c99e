"""Lids that met inside the eyeball: a blink whose lids sink into the eyeball instead of sliding over it.

The network moves a blinking upper lid about straight down in the frame it sees the head in (it
was trained on upright heads). On a head nodded up 10-20 degrees (a scan not quite upright) that
direction points into the face: the lids come down through the eyeball and meet inside it
(``benchmarks/nod_blink.py``: the example head's upper lids move 10-12 degrees into the face
upright, 28-29 pitched -15 degrees, -5 pitched +15: the nod, one for one). Measured between the lids only
(:func:`facerig.geometry.eyelids.seen_share` with ``through_skin=False``), such an eye counts as
closed, as the authors' closed eyes that show the eyeball through lids met inside it do; but half
of the eyeball shows through, and ``facerig check`` fails the blink.

:func:`lift_sunk_lids` brings such lids out, the least change first: out to the eyeball's sphere
(:func:`facerig.geometry.eyelids.keep_outside`), else over its surface
(:func:`facerig.geometry.eyelids.keep_over_surface`, the motion of the whole blink counted as
added), else with the skin tucked under it at rest too; lids that no longer meet there are
completed from where they lie (:func:`facerig.geometry.eyelids.complete_blink`). It is asked for
only where more than ``closed`` (the check's limit) of the eyeball shows through the lids, so a
blink that shows less is never changed. Besides nodded heads this changes the blinks of two of the 26
validation heads (unseen_003, makehuman_001: the network's lids sink into the eyeballs upright
too): ``facerig check`` fails them before and passes them after, and their eyeBlinks move a little
away from the ground truth (relative error 0.16 -> 0.19, 0.24 -> 0.27; BENCHMARKS.md, "Nodded
heads"). Everything is in the eye's frame of :func:`~facerig.geometry.eyelids.complete_blink`:
vertices (V, 3), faces (F, 3).
"""

from __future__ import annotations

import numpy as np


def lift_sunk_lids(
    vertices: np.ndarray,
    faces: np.ndarray,
    skin_faces: np.ndarray,
    eyeball_faces: np.ndarray,
    movable: np.ndarray,
    blink: np.ndarray,
    sphere: tuple[np.ndarray, float],
    seen0: float,
    closed: float,
    passes: int,
    meet: float,
    pieces: np.ndarray | None = None,
) -> tuple[np.ndarray, float, float]:
    """A blink (V, 3) whose lids met inside the eyeball, brought out over it: ``(blink (V, 3),
    seen before, seen after)``, the shares of the neutral opening ``seen0`` where the eyeball is
    seen from the front through the lids (:func:`~facerig.geometry.eyelids.seen_share`) before and
    after; the blink unchanged (and ``after == before``) where that does not lower the share.

    vertices (V, 3) neutral, faces (F, 3), skin_faces (Fs,) / eyeball_faces (Fe,) rows of
    ``faces``, movable (V,) bool, blink (V, 3), ``sphere`` ``(centre (3,), radius)``, ``closed``,
    ``passes``, ``meet``, ``pieces``: as :func:`~facerig.geometry.eyelids.complete_blink`."""
    from facerig.geometry.eyelids import complete_blink, keep_outside, keep_over_surface, seen_share

    v = np.asarray(vertices, np.float64)
    b = np.asarray(blink, np.float64)
    c, r = sphere

    def shows(d: np.ndarray) -> float:
        return seen_share(v + d, faces, skin_faces, eyeball_faces, c, r) / seen0

    before = shows(b)
    tri = v[np.asarray(faces, np.int64)[eyeball_faces]]
    tri = tri[(tri[:, :, 2] > c[2] - 0.5 * r).any(axis=1)]  # the lids lie over the front
    # the least change first: lids out to the eyeball's sphere, then over its surface, then skin
    # tucked under it at rest too; lids that no longer meet there are completed from where they lie
    best, after = b, before
    for lifted in (
        lambda: keep_outside(v, b, movable, sphere),
        lambda: keep_over_surface(v, b, b, movable, sphere, tri),
        lambda: keep_over_surface(v, b, b, movable, sphere, tri, tucked=True),
    ):
        new, _, _ = complete_blink(
            v,
            faces,
            skin_faces,
            eyeball_faces,
            movable,
            lifted(),
            sphere,
            seen0,
            closed,
            passes,
            meet,
            pieces=pieces,
            lift=False,
        )
        now = shows(new)
        if now < after:
            best, after = new, now
        if after <= closed:
            break
    return best, before, after

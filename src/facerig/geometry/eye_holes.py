"""Blinks that close a face mask's eye holes (eyes without eyeballs).

A face mask has no eyeballs: its eyes are holes in the skin, boundary loops
(:func:`facerig.geometry.face_parts.find_layout`, ``eye.kind == "hole"``). How open such an eye is
(:func:`hole_open_share`) is measured like ``facerig check`` does: rays from the front through the
hole's neutral outline that hit nothing, or only surfaces more than the hole's radius behind it.

Where a rig's eyeBlink leaves more than :data:`HOLE_CLOSED` of the hole open,
:func:`complete_hole_blink` adds the shortfall: the two margins of the loop (the loop's vertices
above and below the hole's centre line) move vertically, from where the blink left them, toward
meeting at :data:`HOLE_MEET` of the opening between them above the lower margin (each margin's
height interpolated at the other's x), until nothing is seen through the hole from the front; the
upper margin only comes down, the lower only goes up. The skin beyond each margin follows with a
smooth falloff (full at the margin, none by :data:`facerig.geometry.eyelids.UPPER_FADE` hole heights
above (at neutral) the upper / half a hole height below the lower margin, or half a hole width past
its corners), so nothing tears. The blink's own motion is kept.

Everything is in the canonical frame (+Y up, face toward +Z): vertices (V, 3), faces (F, 3).
"""

from __future__ import annotations

import numpy as np

from facerig.geometry.eyelids import UPPER_FADE

#: A hole counts as closed when a blink leaves at most this share of its neutral open rays open
#: (:data:`HOLE_RAYS` across it); a blink that leaves more is completed until the margins meet
#: (:func:`complete_hole_blink`). None: a hole seen through is an eye left open, and its measure,
#: unlike an eyeball's (skin tucked under it, lids met inside it), sees nothing else. The one
#: author rig of a face mask with eye holes (Weboji's facecustom_human) leaves 0.017 and 0.0 of its
#: holes open, the network's blinks 0.28 and 0.29. It was 0.1, and a completion stopped where half
#: of that was left (bisection): the margins stopped short and a slit of the hole stayed open
#: (issue 24, "every eye closes").
HOLE_CLOSED = 0.0
#: Where a hole's margins meet, as a fraction of the opening above the lower margin: the upper lid
#: comes down to the lower one, as the in-family ground truth's lids do (ICT FaceKit 0.015 over 34
#: eyes, MakeHuman 0.0 over 8: ``python benchmarks/lid_meet.py``, ``benchmarks/results/lid_meet_s4.json``).
#: It was the eyeballs' :data:`facerig.geometry.eyelids.MEET` (0.25, picked by hand on the Weboji
#: creatures' eyeballs): the lower margin rose where no author's does and the upper one stopped short
#: (weboji_facecustom_human's blink completion 0.765 with it, 0.833 with this; relative error 0.6822
#: and 0.6819: ``python benchmarks/out_of_family.py --tag s7blinks``, ``out_of_family_s7blinks.json``
#: at eb4e07e and after; BENCHMARKS.md "Every eye closes").
HOLE_MEET = 0.015
#: Rays across a hole's window for the step's measure (:func:`complete_hole_blink`): twice as fine as
#: ``facerig check``'s 41, which miss a slit under a fortieth of the hole's width high (the face
#: plate's mask with its upper margins brought down 0.375 of 0.5: 0 of 41 x 41 rays open, 198 of
#: 101 x 101).
HOLE_RAYS = 81
#: Bisection steps for the least share of the meeting motion that closes a hole (:func:`complete_hole_blink`).
BISECT = 6


def hole_open_share(
    vertices: np.ndarray, faces: np.ndarray, loop: np.ndarray, neutral: np.ndarray, n: int = 41
) -> tuple[int, int]:
    """How much of an eye hole is seen through from the front: ``(open rays, rays in the window)``.

    vertices (V, 3) posed (or neutral), faces (F, 3), loop (L,) the hole's boundary vertex ids,
    neutral (V, 3). :func:`open_rays` over the loop's neutral outline, centred on its XY box with
    a radius of half the box's larger side."""
    ring = np.asarray(neutral, np.float64)[np.asarray(loop, np.int64)]
    lo, hi = ring.min(0), ring.max(0)
    return open_rays(vertices, faces, ring, 0.5 * (lo + hi), 0.5 * float((hi - lo)[:2].max()), n)


def open_rays(
    vertices: np.ndarray, faces: np.ndarray, ring: np.ndarray, center: np.ndarray, radius: float, n: int = 41
) -> tuple[int, int]:
    """Rays from the front through a hole: ``(open rays, rays in the window)``.

    vertices (V, 3) posed, faces (F, 3), ring (L, 3) the hole's outline at neutral (the window),
    ``n`` rays across ``center`` (3,) +- ``radius`` in X and Y. A ray is open when it hits nothing
    or only surfaces more than ``radius`` behind the ring's mean depth (``facerig check``'s
    eye_opening of a hole uses the same rays)."""
    from facerig.geometry.raycast import Grid, first_hits, inside_polygon

    c, r = center, radius
    grid = Grid.around(c[0] - r, c[0] + r, c[1] - r, c[1] + r, 2 * r / (n - 1))
    X, Y = grid.points()
    window = inside_polygon(X, Y, ring[:, :2])
    hit, depth = first_hits(np.asarray(vertices, np.float64), np.asarray(faces, np.int64), grid)
    opened = (hit < 0) | (depth < ring[:, 2].mean() - r)
    return int((opened & window).sum()), int(window.sum())


def _smooth_fall(t: np.ndarray) -> np.ndarray:
    """1 for t <= 0, 0 for t >= 1, smoothstep between."""
    t = np.clip(t, 0.0, 1.0)
    return 1.0 - t * t * (3.0 - 2.0 * t)


def _margin(x: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """A margin's height (M,) at x (M,), interpolated along its vertices (px, py) (K,) (ends held)."""
    o = np.argsort(px, kind="stable")
    return np.interp(x, px[o], py[o])


def hole_blink_deltas(
    vertices: np.ndarray, neutral: np.ndarray, loop: np.ndarray, movable: np.ndarray, meet: float
) -> np.ndarray:
    """The vertical motion (V, 3) that closes an eye hole from the posed ``vertices`` (V, 3).

    neutral (V, 3) (which loop vertices form the upper margin: above the centre line at neutral,
    and the hole's size); loop (L,); movable (V,) bool: vertices that may move; ``meet``: where the
    margins meet, as a fraction of the opening above the lower margin."""
    p = np.asarray(vertices, np.float64)
    v0 = np.asarray(neutral, np.float64)
    loop = np.asarray(loop, np.int64)
    ring = v0[loop]
    lo, hi = ring.min(0), ring.max(0)
    cy = 0.5 * (lo[1] + hi[1])
    height = max(float(hi[1] - lo[1]), 1e-9)
    width = max(float(hi[0] - lo[0]), 1e-9)
    depth_reach = max(height, 0.5 * width)
    up_ix, low_ix = loop[ring[:, 1] > cy], loop[ring[:, 1] <= cy]
    out = np.zeros_like(p)
    if len(up_ix) < 2 or len(low_ix) < 2:
        return out
    ux, uy = p[up_ix, 0], p[up_ix, 1]
    lx, ly = p[low_ix, 0], p[low_ix, 1]
    # the meeting height at each margin vertex's x: the lower margin plus ``meet`` of the opening above it
    up_meet = _margin(ux, lx, ly) + meet * np.maximum(uy - _margin(ux, lx, ly), 0.0)
    low_up = _margin(lx, ux, uy)
    low_meet = ly + meet * np.maximum(low_up - ly, 0.0)
    d_up = np.minimum(up_meet - uy, 0.0)  # the upper margin only comes down
    d_low = np.maximum(low_meet - ly, 0.0)  # the lower margin only goes up
    x = p[:, 0]
    beyond = np.maximum(lo[0] - v0[:, 0], v0[:, 0] - hi[0])
    w_x = _smooth_fall(beyond / (0.5 * width))
    w_z = _smooth_fall((np.abs(v0[:, 2] - ring[:, 2].mean()) - 0.5 * depth_reach) / depth_reach)
    near = movable & (w_x > 0) & (w_z > 0)
    above = near & (v0[:, 1] > cy)
    below = near & (v0[:, 1] <= cy)
    # each margin's shortfall at each x, fading with the neutral height above (below) the neutral margin
    x0, y0 = v0[:, 0], v0[:, 1]
    w_up = _smooth_fall((y0 - _margin(x0, v0[up_ix, 0], v0[up_ix, 1])) / (UPPER_FADE * height)) * w_x * w_z
    out[above, 1] = (_margin(x, ux, d_up) * w_up)[above]
    w_low = _smooth_fall((_margin(x0, v0[low_ix, 0], v0[low_ix, 1]) - y0) / (0.5 * height)) * w_x * w_z
    out[below, 1] = (_margin(x, lx, d_low) * w_low)[below]
    out[up_ix, 1] = np.where(movable[up_ix], d_up, 0.0)
    out[low_ix, 1] = np.where(movable[low_ix], d_low, 0.0)
    return out


def complete_hole_blink(
    vertices: np.ndarray,
    faces: np.ndarray,
    loop: np.ndarray,
    movable: np.ndarray,
    blink: np.ndarray,
    closed: float,
    meet: float,
    passes: int = 3,
    n: int = HOLE_RAYS,
) -> tuple[np.ndarray, float, float, float]:
    """Finish a blink that leaves an eye hole open: ``(blink (V, 3), open before, open after, open at neutral)``.

    vertices (V, 3) neutral, faces (F, 3), loop (L,) the hole's boundary vertex ids, movable (V,)
    bool, blink (V, 3) the rig's eyeBlink of this eye. Open shares (:func:`hole_open_share`) are
    relative to the neutral's open rays (``n`` across the window); the neutral share is of the window.
    Where the blink leaves more than ``closed``, :func:`hole_blink_deltas` of the posed head is added
    (up to ``passes`` times, while it closes more); where the whole of it would leave nothing seen
    through, only the least share of it that does (bisection, :data:`BISECT` steps): the margins come
    together until no ray passes, no further. (Bringing them all the way to the meeting line, a trial
    run at the eyeballs' ``MEET``, took the eyeBlinks of the validation head whose eyeballs were taken
    out, parts_removed_000, where the holes are the sockets behind the lids, from 1.0 to 1.7 mm; this
    keeps them at 1.06: BENCHMARKS.md, "Every eye closes".)
    """
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    out = np.asarray(blink, np.float64)
    open0, total = hole_open_share(v, f, loop, v, n)
    if total == 0 or open0 == 0:
        return out, 0.0, 0.0, 0.0
    before = after = hole_open_share(v + out, f, loop, v, n)[0] / open0
    if before <= closed:
        return out, before, after, open0 / total

    def left(d: np.ndarray) -> float:
        return hole_open_share(v + d, f, loop, v, n)[0] / open0

    for _ in range(passes):
        d = hole_blink_deltas(v + out, v, loop, movable, meet)
        if not np.any(d):
            break
        now = left(out + d)
        if now > after:
            break
        if now <= 0:  # the least share of the step that leaves nothing seen through (bisection)
            lo_s, hi_s = 0.0, 1.0
            for _ in range(BISECT):
                mid = 0.5 * (lo_s + hi_s)
                if left(out + mid * d) <= 0:
                    hi_s = mid
                else:
                    lo_s = mid
            d = hi_s * d
            now = left(out + d)
        out, after = out + d, now
        if after <= 0:
            break
    return out, before, after, open0 / total

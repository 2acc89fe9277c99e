"""Eyelids that close: a blink built from the eye's own geometry.

The network's eyeBlink moves the right vertices on heads like its training families, but on
heads made by other people the motion often goes only part of the way (BENCHMARKS.md, "Out of
family"). A real eyelid slides over the eyeball: it turns about the eyeball's centre. Given an
eyeball (a separate part, or any sphere) this module closes the lids that way:

1. the eyeball's sphere (least squares over its vertices) gives the centre ``c`` and radius
   ``r``;
2. rays from the front (:func:`facerig.geometry.raycast.first_hits`) find where the eyeball is
   seen through the skin: per horizontal position ``u = (x - c_x) / r`` the opening spans the
   elevation angles ``[phi_bot(u), phi_top(u)]`` about the eyeball's horizontal axis
   (``phi = atan2(y - c_y, z - c_z)``);
3. the lids meet at ``phi_meet = phi_bot + meet * (phi_top - phi_bot)``: the upper lid turns down
   by ``phi_meet - phi_top``, the lower lid up by ``phi_meet - phi_bot``, each fading with the
   angular distance from its margin, with the distance from the eyeball surface and past the eye
   corners. Turning about the centre keeps every vertex's distance to it, so lids never pass
   into the eyeball.

A rig's eyeBlink is **completed**, not replaced (:func:`close_blinks`): each eye is looked at along
its own front (:func:`eye_yaw`: a llama's eyes look out to the sides), the gap the blink leaves
between the lids is measured with the same rays on the posed head (rays that meet the eyeball
where the lids have met inside it are not a gap; skin tucked behind the eyeball at rest is no
such lids), and where more than :data:`CLOSED` of the opening is left, the lids turn on
about the centre from where the blink left them until they meet (steps 2-3 on the posed head;
which lid a vertex belongs to is read on the neutral head), lashes following the skin they grow
from (:func:`follow_lids`). The eyeballs stay still in a blink. A blink that closes the eye is
kept as it is; one that goes part of the way keeps its own motion, and only the rest is added. A
blink that ``facerig check``'s own measure of the eye (:mod:`facerig.geometry.eye_closure`) finds
within :data:`MARGIN` of the check's limit is completed from a lower share left until it passes
with that margin. The completed lids are then kept over the eyeball's own surface
(:func:`keep_over_surface`, found by rays from the centre: :func:`surface_radius`), not only its
sphere: a shallow-cap eyeball bulges past its sphere and coarse lids stretch over it as chords, and
the eyeball would show through lids meeting inside it.

Everything here is in the canonical frame (+Y up, face toward +Z) of the head: vertices (V, 3),
faces (F, 3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from facerig.geometry.rows import norm_rows

#: Where the lids meet, as a fraction of the opening from the lower margin. Picked by hand (with
#: :data:`RADIAL`, among a few settings, looking at the out-of-family author rigs' blinks). The
#: authors' own blinks meet at 0.0 (MakeHuman, Rocketbox), 0.015 (ICT FaceKit), 0.28 (johnsmith)
#: and 0.38 (Weboji) (:func:`facerig.geometry.lid_travel.lid_travel`; ``python
#: benchmarks/lid_meet.py``, ``benchmarks/results/lid_meet_s4.json``): their median, 0.015, scored
#: leave-one-author-out on the one author whose blinks this step completes (Weboji: 0.007 without
#: it) raises blink completion (lama 0.52 -> 0.62, boy 0.86 -> 1.0) but brings the upper lid too
#: far and makes every completed eyeBlink's error larger (relative: tiger 0.73 -> 1.40, kangaroo
#: 0.78 -> 1.28, lama 0.85 -> 0.96, boy 0.43 -> 0.55), so it is not used: where lids meet is the
#: author's style, and the one author whose lids the step completes meets higher than the rest.
MEET = 0.25
#: Radial extent of the lid region, in eyeball radii from the centre: full motion up to
#: ``RADIAL[0]``, none past ``RADIAL[1]``.
RADIAL = (1.15, 1.35)
#: How far above the upper margin the upper lid's motion fades out, in heights of the opening
#: (smoothstep, at least 0.5 radians): half the motion a quarter of the opening above the margin.
#: Picked on the in-family ground truth (``python benchmarks/lid_fade.py``,
#: ``benchmarks/results/lid_fade.json``): the ICT FaceKit eyeBlinks of the validation set (32 eyes)
#: keep under half of the margin's motion from 0.15-0.25 of the opening above it and next to none
#: from 0.45; MakeHuman's (8) fade far more slowly, their skin folding up to the brow; among the
#: other authors johnsmith and Weboji fall under half by 0.15, Rocketbox by 0.4. It was 1.2 (half
#: at 0.6): the rows above the completed margins of the Weboji heads came down with them.
UPPER_FADE = 0.5


@dataclass
class EyeOpening:
    """Where an eyeball is seen through the skin from the front.

    Attributes:
        center: (3,) eyeball sphere centre; radius: its radius.
        u: (B,) horizontal bin centres (in radii from the centre); top, bot: (B,) elevation angles
            (radians about the horizontal axis through the centre) of the upper and lower margins;
        seen: share of the window (the eyeball's front disc) where the eyeball is seen.
    """

    center: np.ndarray
    radius: float
    u: np.ndarray
    top: np.ndarray
    bot: np.ndarray
    seen: float


def eyeball_sphere(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre (3,) and radius of the least-squares sphere through an eyeball's vertices (N, 3)."""
    from facerig.geometry.face_parts import fit_sphere

    c, r, res = fit_sphere(np.asarray(points, np.float64))
    if not (np.isfinite(r) and r > 0) or res > 0.2:
        lo, hi = points.min(0), points.max(0)
        c, r = 0.5 * (lo + hi), 0.5 * float((hi - lo).max())
    return np.asarray(c, np.float64), float(r)


def _eye_rays(
    vertices: np.ndarray,
    faces: np.ndarray,
    skin_faces: np.ndarray,
    eyeball_faces: np.ndarray,
    center: np.ndarray,
    radius: float,
    n: int,
    through_skin: bool = True,
    rest: np.ndarray | None = None,
    memo: dict | None = None,
    front: list | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rays from the front over an eyeball's disc: ``(X, Y, depth, seen, window)``, each (n, n).

    vertices (V, 3) (posed or neutral), faces (F, 3); skin_faces (Fs,), eyeball_faces (Fe,): rows
    of ``faces``; ``center`` (3,), ``radius``: the eyeball's sphere. ``seen``: rays inside the
    window (the disc of 0.95 radii) that meet the eyeball before the skin, at z ``depth``. With
    ``through_skin`` False a ray is not counted where skin lies inside the eyeball's front half
    behind that hit (the eyeball showing through lids that have met, as some authors' closed
    eyes do): only rays through a gap between the lids are seen. ``rest`` (V, 3): the neutral
    vertices of a posed head; a ray that meets the eyeball and then skin inside its front half at
    rest (skin tucked under an eyeball cap, as the Rocketbox heads have it behind most of the
    opening, and moving with the lids) is then counted where it meets the eyeball first: such skin
    behind the eyeball is no lid met inside it, and the eyeball shows there. ``memo``: a dict kept
    between calls with the same faces, eye, ``rest`` and ``through_skin`` (the rest pose's rays
    cast once per ``n``). ``front``: a list the rays that meet the eyeball before the skin at all
    (``seen`` with ``through_skin`` True: the same cast) are appended to."""
    from facerig.geometry.raycast import Grid, first_hits, over_rays

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    c, r = center, radius
    grid = Grid.around(c[0] - r, c[0] + r, c[1] - r, c[1] + r, 2 * r / (n - 1))
    X, Y = grid.points()
    window = (X - c[0]) ** 2 + (Y - c[1]) ** 2 <= (0.95 * r) ** 2
    skin = _near(v, f, np.asarray(skin_faces), c, 2.0 * r)
    hit, depth = first_hits(v, f[np.concatenate([skin, eyeball_faces])], grid)
    seen = (hit >= len(skin)) & window
    if front is not None:
        front.append(seen)
    if not through_skin and seen.any():
        # the skin's depth counts only where seen: the skin faces over those rays' box suffice
        cols, rows = np.flatnonzero(seen.any(0)), np.flatnonzero(seen.any(1))
        box = (int(cols[0]), int(cols[-1]), int(rows[0]), int(rows[-1]))
        _, skin_depth = first_hits(v, f[skin[over_rays(v, f[skin], grid, box)]], grid)
        floor = c[2]
        if rest is not None and memo is not None and ("floor", n) in memo:
            floor = memo["floor", n]
        elif rest is not None:  # skin tucked inside the front half at rest: the lids must come in front of it
            w = np.asarray(rest, np.float64)
            rest_skin = _near(w, f, np.asarray(skin_faces), c, 2.0 * r)
            hit0, _ = first_hits(w, f[np.concatenate([rest_skin, eyeball_faces])], grid)
            _, rest_depth = first_hits(w, f[rest_skin], grid)
            tucked = (hit0 >= len(rest_skin)) & np.isfinite(rest_depth) & (rest_depth > c[2])
            floor = np.where(tucked, np.inf, c[2])
            if memo is not None:
                memo["floor", n] = floor
        seen = seen & ~(skin_depth > floor)
    return X, Y, depth, seen, window


def gap_rays(seen: np.ndarray, column_bin: np.ndarray, front: Callable[[], np.ndarray] | None = None) -> np.ndarray:
    """The rays of one gap per horizontal bin: ``seen`` (ny, nx) bool, rays through the gap between
    the lids (:func:`_eye_rays` with ``through_skin`` False); ``column_bin`` (ny, nx) int, the
    horizontal bin of each ray; ``front``: a function giving (ny, nx) bool, the rays that meet the
    eyeball before the skin at all (through lids met inside it too), which join patches of ``seen``
    (default ``seen``: called only where ``seen`` is in more than one patch). Per bin, only the rays of
    the largest patch (8-connected in ``front``) among those in that bin are kept (ny, nx) bool.

    A bin's opening spans its highest to its lowest seen ray (:func:`eye_opening`); where a posed
    blink leaves the eyeball seen in two places of one bin with a lid in front of the eyeball between
    them, a slit between the lids and a ray or two above the upper lid, that span would be most of
    the neutral opening, and the completion would turn the upper lid down by all of it again
    (``python benchmarks/ict_blink_gaps.py``: the validation set's remeshed_003, one ray above the
    lid and a one-ray slit along the lower lid, its margin turned 3.4 mm past the network's where
    0.8 mm closed it). A patch a lid separates from the slit is a gap of its own: the next pass
    closes it from its own span. Patches joined by lids met inside the eyeball (a head nodded up:
    :mod:`facerig.geometry.sunk_lids`) are one opening."""
    from scipy import ndimage

    eight = np.ones((3, 3), bool)
    labels, k = ndimage.label(seen, structure=eight)
    if k <= 1:
        return seen
    if front is not None:
        labels, k = ndimage.label(np.asarray(front(), bool) | seen, structure=eight)
        if k <= 1:
            return seen
    size = np.bincount(labels[seen], minlength=k + 1)
    keep = np.zeros_like(seen)
    for b in np.unique(column_bin[seen]):
        here = seen & (column_bin == b)
        ids = np.unique(labels[here])
        keep |= here & (labels == ids[np.argmax(size[ids])])
    return keep


def eye_opening(
    vertices: np.ndarray,
    faces: np.ndarray,
    skin_faces: np.ndarray,
    eyeball_faces: np.ndarray,
    n: int = 61,
    bins: int = 13,
    sphere: tuple[np.ndarray, float] | None = None,
    through_skin: bool = True,
    rest: np.ndarray | None = None,
    memo: dict | None = None,
) -> EyeOpening | None:
    """The opening of one eye (see :class:`EyeOpening`), or None where the eyeball is hardly seen.

    vertices (V, 3) (neutral, or posed with the neutral's ``sphere``), faces (F, 3); skin_faces
    (Fs,), eyeball_faces (Fe,): rows of ``faces``. ``n`` rays across the eyeball's diameter;
    ``bins`` horizontal bins; ``sphere``: ``(centre (3,), radius)`` (default: fitted to the
    eyeball's vertices); ``through_skin``, ``rest``, ``memo``: see :func:`_eye_rays`."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    if sphere is None:
        c, r = eyeball_sphere(v[np.unique(f[eyeball_faces])])
    else:
        c, r = np.asarray(sphere[0], np.float64), float(sphere[1])
    front: list = []  # the rays that meet the eyeball before the skin at all (the same cast)
    X, Y, depth, seen, window = _eye_rays(v, f, skin_faces, eyeball_faces, c, r, n, through_skin, rest, memo, front)
    share = float(seen.sum() / max(window.sum(), 1))
    if seen.sum() < 6:
        return None
    edges = np.linspace(-1, 1, bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    if not through_skin:  # one gap per bin: patches that lids in front of the eyeball separate (gap_rays)
        column_bin = np.clip(np.digitize((X - c[0]) / r, edges) - 1, 0, bins - 1)
        seen = gap_rays(seen, column_bin, lambda: front[0])
    phi = np.arctan2(Y[seen] - c[1], depth[seen] - c[2])
    u = (X[seen] - c[0]) / r
    which = np.clip(np.digitize(u, edges) - 1, 0, bins - 1)
    top = np.full(bins, np.nan)
    bot = np.full(bins, np.nan)
    for b in range(bins):
        m = which == b
        if m.sum() >= 2:
            top[b], bot[b] = phi[m].max(), phi[m].min()
    ok = np.isfinite(top)
    if ok.sum() < 2:
        return None
    return EyeOpening(c, r, centres[ok], top[ok], bot[ok], share)


def _near(vertices: np.ndarray, faces: np.ndarray, rows: np.ndarray, center: np.ndarray, reach: float) -> np.ndarray:
    """The rows of ``faces`` (F, 3) among ``rows`` with a corner within ``reach`` of ``center``
    in XY: the only faces rays over an eye's disc can meet (the rest are skipped, so the cost
    does not grow with the head's size)."""
    near = np.hypot(vertices[:, 0] - center[0], vertices[:, 1] - center[1]) <= reach
    fr = faces[rows]
    return rows[near[fr[:, 0]] | near[fr[:, 1]] | near[fr[:, 2]]]  # = near[fr].any(axis=1), faster


def _about_eye(
    vertices: np.ndarray,
    faces: np.ndarray,
    skin_faces: np.ndarray,
    eyeball_faces: np.ndarray,
    center,
    reach: float,
    lift: np.ndarray | None = None,
    extra: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The part of a head that rays over an eye can meet whichever way the head turns about the
    vertical through ``center`` (3,): ``(rows (N,), faces (S + E, 3), skin (S,), eyeball (E,))``.

    The skin faces (rows of ``faces`` among ``skin_faces``, in their order) with a corner within
    ``reach`` of the centre's height, at neutral or lifted by ``lift`` (V,) (a pose's heights;
    a turn about the vertical keeps heights, and :func:`_near` keeps only faces with a corner
    within ``reach`` of the centre in XY), and the eyeball's faces, on the vertices ``rows`` of
    ``vertices`` (V, 3) they use and those of ``extra`` (V,) bool, renumbered in order; ``skin``
    and ``eyeball`` index the new faces. The same rays over the part meet the same faces as over
    the whole head, so :func:`eye_yaw` and :func:`close_blinks` turn and pose only these vertices."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    cy = float(center[1])

    def within(y: np.ndarray) -> np.ndarray:  # a margin far above the rounding of a turn's (y - c) + c
        return np.abs(y - cy) <= reach + 1e-6 * (reach + abs(cy) + np.abs(y))

    band = within(v[:, 1])
    if lift is not None:
        band |= within(v[:, 1] + lift)
    sk = np.asarray(skin_faces, np.int64)
    fs = f[sk]
    sk = sk[band[fs[:, 0]] | band[fs[:, 1]] | band[fs[:, 2]]]
    ef = np.asarray(eyeball_faces, np.int64)
    sub = f[np.concatenate([sk, ef])]
    used = np.zeros(len(v), bool) if extra is None else np.array(extra, bool)
    used[sub.ravel()] = True
    rows = np.flatnonzero(used)
    renumber = np.cumsum(used) - 1
    return rows, renumber[sub], np.arange(len(sk)), np.arange(len(sk), len(sk) + len(ef))


def _smooth_fall(t: np.ndarray) -> np.ndarray:
    """1 for t <= 0, 0 for t >= 1, smoothstep between."""
    t = np.clip(t, 0.0, 1.0)
    return 1.0 - t * t * (3.0 - 2.0 * t)


def blink_deltas(
    vertices: np.ndarray,
    movable: np.ndarray,
    opening: EyeOpening,
    meet: float = MEET,
    upper: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The lid motion that closes one eye: ``(deltas (V, 3), weight (V,))``.

    vertices (V, 3); movable (V,) bool: vertices that may move (skin, lashes: not the eyeballs);
    opening: :func:`eye_opening` of the eye. ``weight`` (V,) in [0, 1] is the lid region (where
    this motion replaces another blink's). ``upper`` (V,) bool: the upper lid's vertices where
    already known (:func:`complete_blink`: from the neutral head), else those above the meeting line."""
    v = np.asarray(vertices, np.float64)
    c, r = opening.center, opening.radius
    d = v - c
    rho = norm_rows(d)
    u = d[:, 0] / r
    phi = np.arctan2(d[:, 1], d[:, 2])
    lo_u, hi_u = opening.u.min(), opening.u.max()
    uc = np.clip(u, lo_u, hi_u)
    top = np.interp(uc, opening.u, opening.top)
    bot = np.interp(uc, opening.u, opening.bot)
    height = np.maximum(top - bot, 1e-3)
    meet_phi = bot + meet * height
    w_rho = _smooth_fall((rho / r - RADIAL[0]) / (RADIAL[1] - RADIAL[0]))
    beyond = np.maximum(lo_u - u, u - hi_u)  # past the eye corners, in radii
    w_u = _smooth_fall(beyond / 0.45)
    front = d[:, 2] > -0.35 * r
    region = movable & front & (rho > 0.5 * r) & (w_rho > 0) & (w_u > 0)
    upper = phi >= meet_phi if upper is None else np.asarray(upper, bool)
    span_up = np.maximum(UPPER_FADE * height, 0.5)
    span_low = np.maximum(0.8 * height, 0.35)
    w_up = _smooth_fall((phi - top) / span_up)
    w_low = _smooth_fall((bot - phi) / span_low)
    angle = np.where(upper, (meet_phi - top) * w_up, (meet_phi - bot) * w_low)
    weight = np.where(region, w_rho * w_u, 0.0)
    angle = np.where(region, angle * weight, 0.0)
    # turn about the horizontal axis through the centre: (y, z) rotated by angle
    ca, sa = np.cos(angle), np.sin(angle)
    y = ca * d[:, 1] + sa * d[:, 2]
    z = ca * d[:, 2] - sa * d[:, 1]
    out = np.zeros_like(v)
    out[:, 1] = y - d[:, 1]
    out[:, 2] = z - d[:, 2]
    return out, weight * (upper | (w_low > 0))


def seen_share(
    vertices: np.ndarray,
    faces: np.ndarray,
    skin_faces: np.ndarray,
    eyeball_faces: np.ndarray,
    center: np.ndarray,
    radius: float,
    n: int = 41,
    through_skin: bool = True,
    rest: np.ndarray | None = None,
    memo: dict | None = None,
) -> float:
    """Share of an eyeball's front disc (``center`` (3,), ``radius``) seen through the skin from the front
    for vertices (V, 3) (posed or neutral); ``through_skin``, ``rest``, ``memo``: see :func:`_eye_rays`."""
    _, _, _, seen, window = _eye_rays(
        vertices, faces, skin_faces, eyeball_faces, center, radius, n, through_skin, rest, memo
    )
    return float(seen.sum() / max(window.sum(), 1))


#: An eye counts as closed when its lids leave at most this share of its neutral opening seen
#: between them (:func:`seen_share` with ``through_skin=False``, along the eye's own front); a blink
#: that leaves more is completed until the lids meet. The authors' own closed eyes: the eyeBlinks of
#: the MakeHuman ground truth of the validation heads leave 0.0, johnsmith's, the Rocketbox and the
#: Weboji rigs' at most 0.046 (``python benchmarks/eyelids.py EVALSET``,
#: ``benchmarks/results/eyelids.json``); only the ICT FaceKit ground truth's blinks stop short (up to
#: 0.30 left, a slit of the eyeball seen under the upper lid). That slit is real: ICT FaceKit's eyeBlink
#: is one displacement added to every identity's neutral; it closes an opening about 10 mm tall (the
#: generic head: 0.05 left) and leaves the rest of a taller one between the skin lids, from any pitch
#: within 10 degrees, hidden only by ICT's eyelash cards (``python benchmarks/ict_blink_gaps.py``:
#: unseen_003's 13 mm openings keep 4.3 mm, 0.28-0.30; 24 drawn identities leave a median 0.10).
#: It was 0.3, ``facerig check``'s limit, and completions stopped just under it (:data:`MARGIN`): johnsmith's and the Rocketbox
#: heads' closed eyes kept a slit a quarter of the eye high (issue 24, "every eye closes"). The
#: price is the validation set's ICT FaceKit blinks that stop short as their ground truth does:
#: they are closed too (BENCHMARKS.md, "Every eye closes").
CLOSED = 0.05
#: A completed blink's eyeball may still show this share of its neutral opening from the front
#: (through lids that met inside it) before skin tucked under it at rest is lifted over it
#: (:func:`keep_over_surface`). A judgement between the authors' closed eyes (the out-of-family
#: authors' show at most 0.09, ICT FaceKit's up to 0.59: ``benchmarks/results/eyelids.json``) and
#: ``facerig check``'s limit (0.3 left): lifting tucked skin is counted as passing through the
#: eyeball by the check's interpenetration (weboji_triceratops 0.02 -> 0.12 had it been 0.1).
SHOWS = 0.2
#: How far under the limit (``closed`` of the eye left open), measured the check's way
#: (:mod:`facerig.geometry.eye_closure`), the completed blinks stay (:func:`close_blinks`). The step
#: measures the gap between the lids on the eyeball's fitted sphere, the check the rays that meet the
#: eyeball first over a slightly smaller disc about the layout's centre; the two differ by a few
#: hundredths (johnsmith's left eye: 0.286 by the step's, 0.299 by the check's, the check's eyelid
#: closure 0.701 against its 0.7), so a blink completed to the step's limit can sit just on the
#: wrong side of the check's; and the check, run on the written rig, finds its own layout (unseen_003:
#: 0.279 here, 0.284 there). A blink the check's measure finds within the margin of its limit gets
#: the least share of a further completion that takes it under (:func:`_least_share`): the lids meet
#: only where the check asks, so the validation set's ICT FaceKit blinks that stop short as their
#: ground truth does are left short (completing them all the way: unseen 0.3477 -> 0.3546 mm, see
#: :data:`CLOSED`). 0.02 is 4 of johnsmith's 211 rays open at neutral
#: (``benchmarks/results/eval_raf_s6margin_{before,after}.json``, BENCHMARKS.md "Blinks with a margin").
MARGIN = 0.02
#: Completion passes at most (each closes the gap its predecessor left; one is usually enough).
PASSES = 3


def lid_progress(blink: np.ndarray, closing: np.ndarray, weight: np.ndarray) -> float:
    """How far a blink (V, 3) goes along the lid motion that closes the eye (``closing`` (V, 3),
    ``weight`` (V,) from :func:`blink_deltas`): the weighted projection ``sum w (b . c) / sum w
    (c . c)`` (1: all the way, 0: the lids do not move toward closing)."""
    w = np.asarray(weight, np.float64)
    cc = float((w * np.einsum("vc,vc->v", closing, closing)).sum())
    if cc <= 0:
        return 1.0
    return float((w * np.einsum("vc,vc->v", np.asarray(blink, np.float64), closing)).sum()) / cc


def keep_outside(
    vertices: np.ndarray, blink: np.ndarray, movable: np.ndarray, sphere: tuple[np.ndarray, float]
) -> np.ndarray:
    """A blink (V, 3) whose lids do not sink into the eyeball: every movable (V,) bool vertex near
    the eye (within :data:`RADIAL` ``[1]`` radii of the ``sphere`` ``(centre (3,), radius)``, in
    front of its back third, farther than 0.8 radii from the centre: the lids and the skin around
    them, not the inner corner's folds) keeps at least ``min(its neutral distance to the centre,
    radius)`` from the centre, moved out along its direction from the centre where the blink takes
    it closer; the rest unchanged. vertices (V, 3) neutral."""
    v = np.asarray(vertices, np.float64)
    c, r = sphere
    d0 = v - c
    rho0 = norm_rows(d0)
    floor = np.minimum(rho0, r)
    p = d0 + np.asarray(blink, np.float64)
    rho = norm_rows(p)
    near = movable & (rho0 > 0.8 * r) & (rho0 < RADIAL[1] * r) & (d0[:, 2] > -0.35 * r)
    inside = near & (rho < floor) & (rho > 0)
    if not inside.any():
        return np.asarray(blink, np.float64)
    out = np.array(blink, np.float64)
    out[inside] = p[inside] * (floor[inside] / rho[inside])[:, None] - d0[inside]
    return out


def surface_radius(center: np.ndarray, directions: np.ndarray, triangles: np.ndarray, k: int = 12) -> np.ndarray:
    """Distance (M,) from ``center`` (3,) to an eyeball's surface along each unit direction (M, 3):
    the farthest hit of the ray from the centre with its triangles (T, 3, 3) (Moller-Trumbore over
    the ``k`` triangles whose centroids lie nearest in direction), NaN where a ray meets none of
    them (an open shell's back). An eyeball's mesh bulges past its least-squares sphere in places
    (a shallow cap, coarse faces): this is where its surface is."""
    from scipy.spatial import cKDTree

    c = np.asarray(center, np.float64)
    t0 = np.asarray(triangles, np.float64) - c
    dirs = np.asarray(directions, np.float64)
    if not len(t0) or not len(dirs):
        return np.full(len(dirs), np.nan)
    cen = t0.mean(axis=1)
    cen /= np.maximum(np.linalg.norm(cen, axis=1, keepdims=True), 1e-300)
    k = min(k, len(t0))
    _, j = cKDTree(cen).query(dirs, k=k)
    j = np.asarray(j).reshape(len(dirs), k)
    a0, e1, e2 = t0[j, 0], t0[j, 1] - t0[j, 0], t0[j, 2] - t0[j, 0]  # (M, k, 3)
    q = np.broadcast_to(dirs[:, None, :], e1.shape)
    p = np.cross(q, e2)
    det = np.einsum("mkc,mkc->mk", p, e1)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    tv = -a0  # the origin (the centre) minus the first corner
    a = np.einsum("mkc,mkc->mk", tv, p) * inv
    qv = np.cross(tv, e1)
    b = np.einsum("mkc,mkc->mk", q, qv) * inv
    t = np.einsum("mkc,mkc->mk", qv, e2) * inv
    hit = ok & (a >= -1e-9) & (b >= -1e-9) & (a + b <= 1 + 1e-9) & (t > 0)
    far = np.where(hit, t, -np.inf).max(axis=1)
    return np.where(np.isfinite(far), far, np.nan)


#: Clearance a completed blink's lids keep over the eyeball's surface, in eyeball radii (at most
#: their clearance at rest; skin tucked under the eyeball at rest comes out to a third of it): lids
#: that close over an eyeball which bulges past its sphere (a shallow cap), or whose faces stretch
#: over it as chords, would otherwise dip into it, and the eyeball would show through them.
CLEARANCE = 0.1


def keep_over_surface(
    vertices: np.ndarray,
    blink: np.ndarray,
    added: np.ndarray,
    movable: np.ndarray,
    sphere: tuple[np.ndarray, float],
    triangles: np.ndarray,
    clearance: float = CLEARANCE,
    tucked: bool = False,
) -> np.ndarray:
    """A completed blink (V, 3) whose lids lie over the eyeball's surface (not only its sphere).

    Movable (V,) bool vertices near the eye (as :func:`keep_outside`) are moved out along their
    direction from the centre to ``clearance`` radii over the surface (:func:`surface_radius` of
    the eyeball's triangles (T, 3, 3)) where the blink leaves them closer: a vertex outside the
    eyeball at rest keeps ``min(its rest clearance, clearance)``; with ``tucked``, one hidden under
    the eyeball at rest (skin tucked under a shallow cap) comes out too, to ``clearance / 3``, in
    proportion to how far the completion moved it (``added`` (V, 3), the motion the completion
    added: full from 0.15 radii), so lids that slide over the eyeball cover it while the skin around it stays (``facerig
    check`` counts such a vertex as passing through the eyeball: :func:`complete_blink` asks for it
    only where the eyeball still shows through the closed lids). vertices (V, 3) neutral;
    ``sphere`` ``(centre (3,), radius)``."""
    v = np.asarray(vertices, np.float64)
    c, r = sphere
    d0 = v - c
    rho0 = np.linalg.norm(d0, axis=1)
    p = d0 + np.asarray(blink, np.float64)
    rho = np.linalg.norm(p, axis=1)
    near = movable & (rho0 > 0.5 * r) & (rho0 < RADIAL[1] * r) & (d0[:, 2] > -0.35 * r) & (rho > 0)
    amount = 1.0 - _smooth_fall(np.linalg.norm(np.asarray(added, np.float64), axis=1) / (0.15 * r))
    idx = np.flatnonzero(near & (amount > 0))
    out = np.array(blink, np.float64)
    if not len(idx):
        return out
    rest = surface_radius(c, d0[idx] / rho0[idx, None], triangles)
    now = surface_radius(c, p[idx] / rho[idx, None], triangles)
    outside = np.isfinite(rest) & (rho0[idx] > rest)
    gap = np.where(outside, np.minimum(rho0[idx] - np.where(outside, rest, 0.0), clearance * r), clearance * r / 3)
    share = np.where(outside, 1.0, amount[idx] if tucked else 0.0)
    lift = np.where(np.isfinite(now), np.maximum(now + gap - rho[idx], 0.0), 0.0) * share
    low = lift > 0
    i = idx[low]
    out[i] = p[i] * ((rho[i] + lift[low]) / rho[i])[:, None] - d0[i]
    return out


#: Reach of :func:`follow_lids`, in eyeball radii from the centre: lashes about as long as the
#: eyeball's radius (a person's: 8-12 mm, an eyeball's 12) growing from lid margins up to
#: :data:`RADIAL` ``[0]`` out (and the part of the head :func:`close_blinks` completes reaches 2 radii).
LASH_REACH = 2.0


def follow_lids(
    vertices: np.ndarray,
    faces: np.ndarray,
    skin_faces: np.ndarray,
    movable: np.ndarray,
    blink: np.ndarray,
    completed: np.ndarray,
    sphere: tuple[np.ndarray, float],
    pieces: np.ndarray | None = None,
) -> np.ndarray:
    """A completed blink (V, 3) whose separate pieces about the eye (lashes, a lid's lining: movable
    (V,) bool vertices on no skin face, in front of the eyeball's back third and within
    :data:`LASH_REACH` radii of its centre) move as the nearest skin (at neutral) does: the
    completion's motion (``completed - blink``, both (V, 3)) of a lash is its lid margin's, the mean
    over the skin vertices within twice the nearest one's distance, weighted down to 0 there
    (vertices on no face keep theirs). Lashes
    stick out from the margin past the lid region (:data:`RADIAL`), and would be left behind as
    the lids close (Rocketbox's). vertices (V, 3) neutral, faces (F, 3), skin_faces (Fs,) rows of
    ``faces``; ``sphere`` ``(centre (3,), radius)``; ``pieces`` (V,) bool: the vertices on a face
    but on no skin face where ``faces`` is only part of the head's (default: found on ``faces``)."""
    from itertools import chain

    from scipy.spatial import cKDTree

    v = np.asarray(vertices, np.float64)
    c, r = sphere
    f = np.asarray(faces, np.int64)
    on_skin = np.zeros(len(v), bool)
    on_skin[f[np.asarray(skin_faces, np.int64)].ravel()] = True
    if pieces is None:
        pieces = np.zeros(len(v), bool)
        pieces[f.ravel()] = True
        pieces &= ~on_skin
    d0 = v - c
    piece = movable & pieces & (norm_rows(d0) < LASH_REACH * r) & (d0[:, 2] > -0.35 * r)
    skin = np.flatnonzero(on_skin & (norm_rows(d0) < (LASH_REACH + 1.0) * r))
    if not piece.any() or not len(skin):
        return completed
    tree = cKDTree(v[skin])
    near, _ = tree.query(v[piece])
    added = np.asarray(completed, np.float64) - blink
    out = np.array(completed, np.float64)
    rows = np.flatnonzero(piece)
    balls = tree.query_ball_point(v[piece], 2.0 * near + 1e-9 * r)
    # the skin within twice the nearest distance of each piece vertex, weighted down to 0 there (no ties)
    counts = np.fromiter((len(b) for b in balls), np.int64, len(balls))
    k = np.repeat(np.arange(len(rows)), counts)  # (N,) which piece vertex
    j = skin[np.fromiter(chain.from_iterable(balls), np.int64, int(counts.sum()))]  # (N,) which skin vertex
    w = np.maximum(1.0 - norm_rows(v[j] - v[rows[k]]) / (2.0 * near[k] + 1e-9 * r), 0.0)
    wa = w[:, None] * added[j]
    num = np.stack([np.bincount(k, weights=wa[:, c], minlength=len(rows)) for c in range(3)], 1)
    den = np.bincount(k, weights=w, minlength=len(rows))
    out[rows] = blink[rows] + num / np.maximum(den, 1e-300)[:, None]
    return out


def complete_blink(
    vertices: np.ndarray,
    faces: np.ndarray,
    skin_faces: np.ndarray,
    eyeball_faces: np.ndarray,
    movable: np.ndarray,
    blink: np.ndarray,
    sphere: tuple[np.ndarray, float],
    seen0: float,
    closed: float = CLOSED,
    passes: int = PASSES,
    meet: float = MEET,
    pieces: np.ndarray | None = None,
    lift: bool = True,
    memo: dict | None = None,
) -> tuple[np.ndarray, float, float]:
    """Finish a blink whose lids stop short: ``(blink (V, 3), open before, open after)``.

    vertices (V, 3) neutral, faces (F, 3), skin_faces (Fs,) and eyeball_faces (Fe,) rows of
    ``faces``, movable (V,) bool (not the eyeballs), blink (V, 3) the rig's eyeBlink of this eye,
    ``sphere`` the eyeball's ``(centre (3,), radius)`` and ``seen0`` the share of its disc seen at
    neutral (:func:`seen_share`). Where the posed blink leaves more than ``closed`` of that opening
    seen between the lids, the gap it leaves (:func:`eye_opening` of the posed head, rays through
    the lids only) is closed by :func:`blink_deltas` of the posed head: the lids turn on about the
    eyeball's centre from where the blink left them until they meet, so the blink's own motion is
    kept and only the rest is added (meeting at ``meet`` of the gap above the lower lid); lashes
    and other pieces on the lids follow them (:func:`follow_lids`; ``pieces`` as there). The
    completed lids are then kept over the eyeball's surface (:func:`keep_over_surface`; skin
    tucked under the eyeball at rest too where the eyeball still shows through the closed lids).
    Open shares are relative to ``seen0``. The gaps are always measured against the rest pose
    (``rest`` of :func:`_eye_rays`): where skin lay behind the eyeball inside its front half at rest
    (tucked under an eyeball cap, Rocketbox; lids whose margins run inside the eyeball's sphere, the
    Weboji llama and triceratops), rays that meet the eyeball before it go through the opening; had
    it counted as lids met inside the eyeball, the gap would be measured short at both margins, the
    lids turned too little and the motion faded from the wrong rows, leaving the margins'
    neighbours behind (llama: blink completion 0.51 -> 1.06). Which lid a vertex belongs to is
    read on the neutral head (above or below the middle of the neutral opening), not on the posed
    one: where the blink has brought the upper lid down close to the lower, the lower margin, in
    front of the eyeball, lies above the bottom of the gap as rays meet the eyeball behind it, and
    would be turned down with the upper lid (johnsmith's lower lids went down by 0.6 mm). With
    ``lift``, lids that met only inside the eyeball while more than ``closed`` of it shows through
    them (a head nodded up: the lids came down into the eyeball) are brought out over it and
    completed there (:func:`facerig.geometry.sunk_lids.lift_sunk_lids`; the shares are then of the
    eyeball seen through the lids). ``memo``: a dict kept between calls with the same arguments
    but ``closed`` (empty at first): what does not depend on ``closed`` is measured once."""
    v = np.asarray(vertices, np.float64)
    c, r = sphere
    out = np.asarray(blink, np.float64)
    memo = {} if memo is None else memo
    rest = v  # skin tucked behind the eyeball at rest is no lid: the gaps are measured against the rest pose
    rays = memo.setdefault("rays", {})  # the rest pose's rays (_eye_rays), cast once

    def left(d: np.ndarray) -> float:
        share = seen_share(v + d, faces, skin_faces, eyeball_faces, c, r, through_skin=False, rest=rest, memo=rays)
        return share / seen0

    if "seen" not in memo:  # at least what is seen between the lids
        memo["seen"] = seen_share(v + out, faces, skin_faces, eyeball_faces, c, r) / seen0
    seen = memo["seen"]
    if seen <= closed:
        return out, seen, seen
    if "before" not in memo:
        memo["before"] = left(out)
    before = after = memo["before"]
    if before <= closed:
        if lift:  # the eyeball shows through lids met inside it (seen > closed): lids sunk into it
            from facerig.geometry.sunk_lids import lift_sunk_lids

            return lift_sunk_lids(
                v, faces, skin_faces, eyeball_faces, movable, out, sphere, seen0, closed, passes, meet, pieces
            )
        return out, before, after
    if "completed" in memo:  # from here on nothing depends on ``closed``
        done, after = memo["completed"]
        return done.copy(), before, after
    out = keep_outside(v, out, movable, sphere)  # lids that sank into the eyeball come out first
    upper = None  # which lid a vertex belongs to, from the neutral head (see the docstring)
    rest_gap = eye_opening(v, faces, skin_faces, eyeball_faces, sphere=sphere, through_skin=False, rest=rest, memo=rays)
    if rest_gap is not None:
        d0 = v - c
        u0 = np.clip(d0[:, 0] / r, rest_gap.u.min(), rest_gap.u.max())
        top0, bot0 = np.interp(u0, rest_gap.u, rest_gap.top), np.interp(u0, rest_gap.u, rest_gap.bot)
        upper = np.arctan2(d0[:, 1], d0[:, 2]) >= 0.5 * (top0 + bot0)
    for _ in range(passes):
        gap = eye_opening(
            v + out, faces, skin_faces, eyeball_faces, sphere=sphere, through_skin=False, rest=rest, memo=rays
        )
        if gap is None:
            break
        d, _ = blink_deltas(v + out, movable, gap, meet, upper)
        now = left(out + d)
        if now >= after:
            break
        out, after = out + d, now
    if after < before:  # pieces growing from the lids (lashes) go with them
        out = follow_lids(v, faces, skin_faces, movable, np.asarray(blink, np.float64), out, sphere, pieces)
        after = left(out)
    if after < before:  # lids that met inside a bulging eyeball come out over its surface
        tri = v[np.asarray(faces, np.int64)[eyeball_faces]]
        tri = tri[(tri[:, :, 2] > c[2] - 0.5 * r).any(axis=1)]  # the lids lie over the front
        added = out - np.asarray(blink, np.float64)
        lifted = keep_over_surface(v, out, added, movable, sphere, tri)
        if seen_share(v + lifted, faces, skin_faces, eyeball_faces, c, r) / seen0 > SHOWS:  # still shows through
            lifted = keep_over_surface(v, out, added, movable, sphere, tri, tucked=True)
        if not np.array_equal(lifted, out):
            out, after = lifted, left(lifted)
    memo["completed"] = (out.copy(), after)
    return out, before, after


#: Yaws tried for an eye's own front (:func:`eye_yaw`): 0 to 75 degrees toward its side, by 15.
YAWS_DEG = (0.0, 15.0, 30.0, 45.0, 60.0, 75.0)


def _yaw_matrix(yaw: float) -> np.ndarray:
    """(3, 3) rotation about +Y taking the direction ``(sin yaw, 0, cos yaw)`` to +Z."""
    ca, sa = np.cos(yaw), np.sin(yaw)
    return np.array([[ca, 0.0, -sa], [0.0, 1.0, 0.0], [sa, 0.0, ca]])


def eye_yaw(
    vertices: np.ndarray,
    faces: np.ndarray,
    skin_faces: np.ndarray,
    eyeball_faces: np.ndarray,
    sphere: tuple[np.ndarray, float],
    side: float,
    yaws_deg: tuple[float, ...] = YAWS_DEG,
) -> tuple[float, float]:
    """The direction an eye looks out of its opening: ``(yaw, share)``, a yaw (radians) about the
    vertical through the eyeball's centre and the share of the eyeball's disc seen along it. Among
    ``yaws_deg`` toward the eye's side (``side`` +1 for the left eye at +X, -1 for the right),
    turning from 0 while more of the eyeball is seen through the skin (:func:`seen_share`): the
    first peak, so an opening seen edge-on from far to the side (a
    cropped head's back) does not win. A person's eyes look ahead (0); a llama's or a
    triceratops' look out to the sides, where rays from the front see the opening edge-on.
    vertices (V, 3) neutral, faces (F, 3), skin_faces / eyeball_faces: rows of ``faces``; sphere
    ``(centre (3,), radius)``."""
    v = np.asarray(vertices, np.float64)
    c, r = sphere
    # only the skin about the eye's height can be met by its rays, turned or not (_about_eye): the
    # turns below are of those vertices only (each row turned as in the whole head)
    rows, sub_f, sub_skin, sub_eye = _about_eye(v, faces, skin_faces, eyeball_faces, c, 2.0 * r)
    sv = v[rows]
    best, best_share = 0.0, -1.0
    for deg in yaws_deg:
        yaw = side * np.radians(deg)
        share = seen_share((sv - c) @ _yaw_matrix(yaw).T + c, sub_f, sub_skin, sub_eye, c, r)
        if share <= best_share:
            break
        best, best_share = yaw, share
    return float(best), float(best_share)


def _check_open(
    vertices: np.ndarray,
    faces: np.ndarray,
    eye,
    skin_faces: np.ndarray,
    blink: np.ndarray,
    yaw: float,
    memo: dict | None = None,
) -> float | None:
    """Share of an eye's neutral opening a blink (V, 3) leaves open, measured as ``facerig check``
    does (:func:`facerig.geometry.eye_closure.blink_open_rays`, the eye turned by ``yaw`` to its own
    front); None where the check finds the eye closed at neutral. vertices (V, 3), faces (F, 3);
    ``memo``: a dict kept between calls for the same eye and yaw (the neutral opening measured once)."""
    from facerig.geometry.eye_closure import blink_open_rays, turn_about

    memo = {} if memo is None else memo
    turn = turn_about(eye, yaw)
    before, after, total = blink_open_rays(vertices, faces, eye, skin_faces, blink, turn, memo.get("neutral"))
    memo["neutral"] = (before, total)
    return None if after is None else after / before


def _least_share(
    vertices: np.ndarray,
    faces: np.ndarray,
    eye,
    skin_faces: np.ndarray,
    base: np.ndarray,
    new: np.ndarray,
    yaw: float,
    target: float,
    open_new: float,
    steps: int = 7,
    memo: dict | None = None,
) -> tuple[float, float]:
    """The least share ``t`` in (0, 1] of a completion's added motion ``new - base`` (blinks (V, 3))
    that leaves at most ``target`` of the eye open as ``facerig check`` measures it (:func:`_check_open`):
    ``(t, share left open at t)``, by bisection (``steps`` halvings); ``open_new``: the share left by
    ``new`` (at most ``target``). vertices (V, 3), faces (F, 3), eye, skin_faces, yaw: as
    :func:`_check_open` (``memo`` too)."""
    lo, hi, at_hi = 0.0, 1.0, open_new
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        now = _check_open(vertices, faces, eye, skin_faces, base + mid * (new - base), yaw, memo)
        if now is not None and now <= target:
            hi, at_hi = mid, now
        else:
            lo = mid
    return hi, at_hi


def close_blinks(
    vertices: np.ndarray,
    faces: np.ndarray,
    names: list[str],
    deltas: np.ndarray,
    layout=None,
    labels: np.ndarray | None = None,
    closed: float = CLOSED,
    meet: float = MEET,
    margin: float = MARGIN,
    hole_meet: float | None = None,
    sides: tuple[str, ...] | None = None,
) -> tuple[np.ndarray, dict]:
    """Make every eyeBlink of a rig close its eye: ``(deltas (K, V, 3), report)``.

    vertices (V, 3) neutral and faces (F, 3) in the canonical frame; names (K,), deltas (K, V, 3)
    in the same frame. For each eye with an eyeball (:func:`facerig.geometry.face_parts.find_layout`)
    whose eyeBlink leaves more than ``closed`` of its opening seen between the lids, the blink is
    completed (:func:`complete_blink`); an eye hole (a face mask) whose blink leaves more than
    ``min(closed, HOLE_CLOSED)`` of it open is closed by its margins meeting
    (:func:`facerig.geometry.eye_holes.complete_hole_blink`; report ``kind: "hole"``). ``report``: per eye, ``yaw_deg`` (:func:`eye_yaw`), the share
    left open after the blink (``open_after``: between the lids, or seen at all where that is
    already under ``closed``), and for a ``completed`` blink the rig's own (``network_open_after``).
    ``labels`` (V,): part of each vertex when already known (seams stitched), else found here;
    ``meet``: where the lids meet (:data:`MEET`); ``hole_meet``: where a hole's margins meet (default
    :data:`facerig.geometry.eye_holes.HOLE_MEET`); ``sides``: only the eyes of these sides
    (``"Left"``, ``"Right"``; default both: each eye's step is independent of the other's, so two
    processes can share them, :mod:`facerig.models.raf.lids_and_jaw`). An eyeball's blink that ``facerig
    check``'s own measure (:func:`facerig.geometry.eye_closure.blink_open_rays`) finds leaving more
    than ``closed - margin`` of the eye open (:data:`MARGIN`) is completed again from lower shares
    left (``closed - margin``, ``closed - 2 margin``, ... :data:`PASSES` tries) until the check's
    measure passes with the margin, then only the least share of the added motion that passes is
    kept (report ``margin_share``); it is kept as it was where no try passes (report
    ``check_open_after``: the share the check's measure leaves open). The eyeballs (every eyeball
    part) stay still in both eyeBlinks, before any completion (``eyeballs_still`` where the rig moved
    them): a blink moves the lids only; no author's eyeBlink among the ICT FaceKit and MakeHuman
    ground truth of the validation set (``/work/evalset``) moves an eyeball vertex, nor
    johnsmith's, Rocketbox's or Weboji's (one Weboji head's eyeball part carries lid vertices), while
    the network's turn them up to 0.6-1.3 mm (johnsmith: 290 vertices of the other eye moving 0.56
    mm were a quarter of its eyeBlinkLeft's motion)."""
    from facerig.geometry.face_parts import find_layout

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    lay = find_layout(v, f, labels) if layout is None else layout
    report: dict = {}
    out = deltas
    skin_faces = np.flatnonzero(lay.face_part == lay.skin)
    movable = ~np.isin(lay.labels, lay.eyeball_parts)
    pieces = np.zeros(len(v), bool)  # vertices on a face but on no skin face: lashes and such (follow_lids)
    pieces[f.ravel()] = True
    pieces[f[skin_faces].ravel()] = False
    stilled = set()
    if not movable.all():  # a blink moves the lids, not the eyeballs (every author's eyeBlink here keeps them still)
        for name in ("eyeBlinkLeft", "eyeBlinkRight"):
            if name in names and np.any(deltas[names.index(name)][~movable]):
                if out is deltas:
                    out = deltas.copy()
                out[names.index(name)][~movable] = 0
                stilled.add(name)
    for eye in lay.eyes:
        name = "eyeBlink" + eye.side
        if name not in names or (sides is not None and eye.side not in sides):
            continue
        if eye.kind == "hole":  # a face mask's eye hole: the margins meet (facerig.geometry.eye_holes)
            from facerig.geometry.eye_holes import HOLE_CLOSED, HOLE_MEET, complete_hole_blink

            k = names.index(name)
            blink = np.asarray(out[k], np.float64)
            new, before, after, share0 = complete_hole_blink(
                v, f, eye.loop, movable, blink, min(closed, HOLE_CLOSED), HOLE_MEET if hole_meet is None else hole_meet
            )
            if share0 < 0.005:
                report[name] = {"status": "closed at neutral"}
                continue
            entry = {"kind": "hole", "open_after": round(after, 3)}
            if after < before:
                if out is deltas:
                    out = deltas.copy()
                out[k] = new.astype(out.dtype)
                entry.update(completed=True, network_open_after=round(before, 3))
            report[name] = entry
            continue
        if eye.kind != "eyeball":
            continue
        k = names.index(name)
        sphere = eyeball_sphere(v[np.unique(f[eye.faces])])
        yaw, seen0 = eye_yaw(v, f, skin_faces, eye.faces, sphere, 1.0 if eye.side == "Left" else -1.0)
        if seen0 < 0.005:  # fewer than about 6 of the ~1,100 rays over the eyeball's disc
            report[name] = {"status": "closed at neutral"}
            continue
        R = _yaw_matrix(yaw)
        c = sphere[0]
        # the eye looking along +Z; only the part of the head its rays can meet, at neutral or
        # blinking, and every vertex the completion may move (within RADIAL[1] radii of the
        # centre at neutral or blinking: lids, lashes) is turned and completed (_about_eye; each
        # row as in the whole head)
        dk = np.asarray(out[k], np.float64)
        ball = 2.0 * sphere[1]
        moves = (norm_rows(v - c) <= ball) | (norm_rows(v + dk - c) <= ball)
        rows, sub_f, sub_skin, sub_eye = _about_eye(v, f, skin_faces, eye.faces, c, ball, lift=dk[:, 1], extra=moves)
        vr = (v[rows] - c) @ R.T + c
        blink = dk[rows] @ R.T

        kw = dict(
            vertices=vr,
            faces=sub_f,
            skin_faces=sub_skin,
            eyeball_faces=sub_eye,
            movable=movable[rows],
            blink=blink,
            sphere=sphere,
            seen0=seen0,
            meet=meet,
            pieces=pieces[rows],
        )

        memo: dict = {}  # complete_blink's, kept between this eye's tries

        def attempt(target: float, kw=kw, dk=dk, R=R, rows=rows, memo=memo) -> tuple[np.ndarray | None, float, float]:
            """The blink (V, 3) completed from ``target`` left (None: unchanged), open before, after
            (what does not depend on ``target`` measured once: ``memo`` of :func:`complete_blink`)."""
            new, before, after = complete_blink(closed=target, memo=memo, **kw)
            if not after < before:
                return None, before, after
            full = dk @ R.T
            full[rows] = new
            return full @ R, before, after

        done, before, after = attempt(closed)
        # the check's own measure (facerig.geometry.eye_closure): a blink it finds within ``margin`` of
        # its limit (``closed``) is completed from lower shares left until it passes with the margin,
        # then only as far as that takes (the least share of the added motion, by bisection)
        base = dk if done is None else done
        check = {}  # the check's neutral opening of this eye, measured once
        check_open = _check_open(v, f, eye, skin_faces, base, yaw, check)
        share = None
        if check_open is not None and margin > 0 and check_open > closed - margin:
            for j in range(1, PASSES + 1):
                new, b, _ = attempt(closed - j * margin)
                now = None if new is None else _check_open(v, f, eye, skin_faces, new, yaw, check)
                if now is not None and now <= closed - margin:  # passes with the margin; else kept as it was
                    share, check_open = _least_share(
                        v, f, eye, skin_faces, base, new, yaw, closed - margin, now, memo=check
                    )
                    if done is None:  # the step had left the rig's own blink as it was
                        before = b
                    done = base + share * (new - base)
                    break
        entry = {"open_after": round(after, 3), "yaw_deg": round(float(np.degrees(yaw)), 1)}
        if check_open is not None:
            entry["check_open_after"] = round(check_open, 3)
        if share is not None:
            entry["margin_share"] = round(share, 3)
        if done is not None:
            if out is deltas:
                out = deltas.copy()
            out[k] = done.astype(out.dtype)
            entry.update(completed=True, network_open_after=round(before, 3))
        report[name] = entry
    for name in stilled:
        if name in report:
            report[name]["eyeballs_still"] = True
    return out, report

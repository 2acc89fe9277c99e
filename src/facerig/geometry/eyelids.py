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

Everything here is in the canonical frame (+Y up, face toward +Z) of the head: vertices (V, 3),
faces (F, 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Where the lids meet, as a fraction of the opening from the lower margin: the upper lid does
#: most of a blink (ARKit's eyeBlink; the lower lid rises a little). :data:`MEET` and
#: :data:`RADIAL` were picked by hand among a few settings, looking at the out-of-family author
#: rigs' blinks (``benchmarks/out_of_family.py``; BENCHMARKS.md "Eyelids").
MEET = 0.25
#: Radial extent of the lid region, in eyeball radii from the centre: full motion up to
#: ``RADIAL[0]``, none past ``RADIAL[1]``.
RADIAL = (1.15, 1.35)


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


def eye_opening(
    vertices: np.ndarray,
    faces: np.ndarray,
    skin_faces: np.ndarray,
    eyeball_faces: np.ndarray,
    n: int = 61,
    bins: int = 13,
) -> EyeOpening | None:
    """The opening of one eye (see :class:`EyeOpening`), or None where the eyeball is hardly seen.

    vertices (V, 3), faces (F, 3); skin_faces (Fs,), eyeball_faces (Fe,): rows of ``faces``.
    ``n`` rays across the eyeball's diameter; ``bins`` horizontal bins."""
    from facerig.geometry.raycast import Grid, first_hits

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    ev = v[np.unique(f[eyeball_faces])]
    c, r = eyeball_sphere(ev)
    grid = Grid.around(c[0] - r, c[0] + r, c[1] - r, c[1] + r, 2 * r / (n - 1))
    X, Y = grid.points()
    window = (X - c[0]) ** 2 + (Y - c[1]) ** 2 <= (0.95 * r) ** 2
    skin_faces = _near(v, f, np.asarray(skin_faces), c, 2.0 * r)
    sub = np.concatenate([skin_faces, eyeball_faces])
    hit, depth = first_hits(v, f[sub], grid)
    seen = (hit >= len(skin_faces)) & window
    share = float(seen.sum() / max(window.sum(), 1))
    if seen.sum() < 6:
        return None
    phi = np.arctan2(Y[seen] - c[1], depth[seen] - c[2])
    u = (X[seen] - c[0]) / r
    edges = np.linspace(-1, 1, bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
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
    return rows[near[faces[rows]].any(axis=1)]


def _smooth_fall(t: np.ndarray) -> np.ndarray:
    """1 for t <= 0, 0 for t >= 1, smoothstep between."""
    t = np.clip(t, 0.0, 1.0)
    return 1.0 - t * t * (3.0 - 2.0 * t)


def blink_deltas(
    vertices: np.ndarray, movable: np.ndarray, opening: EyeOpening, meet: float = MEET
) -> tuple[np.ndarray, np.ndarray]:
    """The lid motion that closes one eye: ``(deltas (V, 3), weight (V,))``.

    vertices (V, 3); movable (V,) bool: vertices that may move (skin, lashes: not the eyeballs);
    opening: :func:`eye_opening` of the eye. ``weight`` (V,) in [0, 1] is the lid region (where
    this motion replaces another blink's)."""
    v = np.asarray(vertices, np.float64)
    c, r = opening.center, opening.radius
    d = v - c
    rho = np.linalg.norm(d, axis=1)
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
    upper = phi >= meet_phi
    span_up = np.maximum(1.2 * height, 0.5)
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
) -> float:
    """Share of an eyeball's front disc (``center`` (3,), ``radius``) seen through the skin from the front
    for vertices (V, 3) (posed or neutral)."""
    from facerig.geometry.raycast import Grid, first_hits

    c, r = center, radius
    grid = Grid.around(c[0] - r, c[0] + r, c[1] - r, c[1] + r, 2 * r / (n - 1))
    X, Y = grid.points()
    window = (X - c[0]) ** 2 + (Y - c[1]) ** 2 <= (0.95 * r) ** 2
    faces = np.asarray(faces)
    skin_faces = _near(np.asarray(vertices), faces, np.asarray(skin_faces), c, 2.0 * r)
    hit, _ = first_hits(vertices, faces[np.concatenate([skin_faces, eyeball_faces])], grid)
    return float(((hit >= len(skin_faces)) & window).sum() / max(window.sum(), 1))


#: A blink is replaced in the lid region by :func:`blink_deltas` (when that closes the eye
#: further) only when it fails both ways: it leaves more than :data:`OPEN_AFTER_BLINK` of the
#: neutral's opening seen from the front, and its lids go less than :data:`MIN_PROGRESS` of the
#: way :func:`blink_deltas` would take them (:func:`lid_progress`). Authors' own blinks pass: the
#: ICT and MakeHuman ground truth of the validation heads leave up to 0.59 seen (an ICT identity
#: whose eyeballs show through the closed lids) and go 0.23-2.1 of the way; the network's blinks
#: on those heads leave up to 0.69 seen and go 0.28-2.2 of the way. On the out-of-family Weboji
#: creatures they leave 0.87-1.0 seen and go -0.002-0.19 of the way (``python
#: benchmarks/eyelids.py EVALSET``, ``benchmarks/results/eyelids.json``). Between the two, a
#: blink that goes 0.4-0.5 of the way (weboji_boy, one ICT identity) is kept: the measure cannot
#: tell a weak blink from an unusual lid there.
OPEN_AFTER_BLINK = 0.6
MIN_PROGRESS = 0.3


def lid_progress(blink: np.ndarray, closing: np.ndarray, weight: np.ndarray) -> float:
    """How far a blink (V, 3) goes along the lid motion that closes the eye (``closing`` (V, 3),
    ``weight`` (V,) from :func:`blink_deltas`): the weighted projection ``sum w (b . c) / sum w
    (c . c)`` (1: all the way, 0: the lids do not move toward closing)."""
    w = np.asarray(weight, np.float64)
    cc = float((w * np.einsum("vc,vc->v", closing, closing)).sum())
    if cc <= 0:
        return 1.0
    return float((w * np.einsum("vc,vc->v", np.asarray(blink, np.float64), closing)).sum()) / cc


def close_blinks(
    vertices: np.ndarray,
    faces: np.ndarray,
    names: list[str],
    deltas: np.ndarray,
    layout=None,
    labels: np.ndarray | None = None,
    limit: float = OPEN_AFTER_BLINK,
    min_progress: float = MIN_PROGRESS,
) -> tuple[np.ndarray, dict]:
    """Make every eyeBlink of a rig close its eye: ``(deltas (K, V, 3), report)``.

    vertices (V, 3) neutral and faces (F, 3) in the canonical frame; names (K,), deltas (K, V, 3)
    in the same frame. For each eye with an eyeball (:func:`facerig.geometry.face_parts.find_layout`)
    whose eyeBlink leaves more than ``limit`` of its opening seen and goes less than
    ``min_progress`` of the way (:func:`lid_progress`), the lid region's motion is replaced by
    :func:`blink_deltas` (kept where it does not close the eye further). ``report``: per eye, the
    share left open, the progress, and whether it was replaced. ``labels`` (V,): part of each vertex when
    already known (seams stitched), else found here."""
    from facerig.geometry.face_parts import find_layout

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    lay = find_layout(v, f, labels) if layout is None else layout
    report: dict = {}
    out = deltas
    skin_faces = np.flatnonzero(lay.face_part == lay.skin)
    movable = ~np.isin(lay.labels, lay.eyeball_parts)
    for eye in lay.eyes:
        name = "eyeBlink" + eye.side
        if eye.kind != "eyeball" or name not in names:
            continue
        k = names.index(name)
        opening = eye_opening(v, f, skin_faces, eye.faces)
        if opening is None or opening.seen <= 0:
            report[name] = {"status": "closed at neutral"}
            continue
        c, r = opening.center, opening.radius
        left = seen_share(v + deltas[k], f, skin_faces, eye.faces, c, r) / opening.seen
        entry = {"open_after": round(left, 3)}
        if left <= limit:
            report[name] = entry
            continue
        d, w = blink_deltas(v, movable, opening)
        progress = lid_progress(deltas[k], d, w)
        entry["progress"] = round(progress, 3)
        if progress < min_progress:
            new = deltas[k] * (1.0 - w[:, None]).astype(np.float32) + d.astype(np.float32)
            after = seen_share(v + new, f, skin_faces, eye.faces, c, r) / opening.seen
            if after < left:
                if out is deltas:
                    out = deltas.copy()
                out[k] = new
                entry.update(replaced=True, open_after=round(after, 3), network_open_after=round(left, 3))
        report[name] = entry
    return out, report

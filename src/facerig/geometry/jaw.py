"""A jaw that opens the mouth: jawOpen built from the mouth's own geometry.

On heads unlike its training families the network's jawOpen often moves the chin without parting
the lips (the cartoon creatures of ``shared/data/heads``: BENCHMARKS.md, "Rig check"). A jaw
turns about a hinge behind the mouth; this module opens it that way where the head has a mouth
opening (:func:`facerig.geometry.mouth.find_mouth`: a cut or a fold between the lips) and the
network's jawOpen leaves it (nearly) closed:

1. the lip line ``y_lip(x)`` comes from the mouth's sections; the hinge is a horizontal (X) axis
   :data:`HINGE_UP` eye distances ``S`` above the lip line at the mid-plane and behind the lips
   by :data:`HINGE_BACK` S (or 1 S behind the eyes, if that is further back: long snouts);
2. the jaw region: skin below the lip line (the skin seen from the front more than
   :data:`LINE_BAND` S below it, and the inside of the mouth by its distances along the surface to
   the skin above and below the line, :func:`jaw_weights`), in front of the hinge (fading over the first :data:`FRONT_FADE` of the way from the hinge
   to the lips), fading out :data:`DEPTH` S below the lip line (the neck stays); mouth parts
   (teeth, tongue) below the lip line turn with it rigidly; eyeballs never move;
   the weight is blended along the lip line (:data:`ALONG_SMOOTH`), so where the rule switches
   lips along it (a fold's crumpled walls) the jaw does not tear the lips into vertical slits;
3. the jaw turns by the angle that drops the lower lip by :data:`TARGET_GAP` S (the authors'
   rigs open 0.16-0.55 S, BENCHMARKS.md "Rig check"), wider (:data:`GROW`, up to
   :data:`MAX_ANGLE`) until the lips part that much as the check measures it (a fold's inside
   is hidden behind its lips until the jaw drops far enough), replacing the network's motion in
   the region and :data:`KEEP_ABOVE` the lip line (a network jawOpen that leaves the lips
   together moves the upper lip with the lower one);
4. mouthClose takes jawOpen back over the lips (:data:`LIP_DEPTH` above and below the lip line)
   where jawOpen was replaced or the network's mouthClose leaves the lips apart
   (:data:`CLOSE_MIN`), so jawOpen + mouthClose closes the lips as ARKit defines it.

A jawOpen that already opens the lips by :data:`OPEN_MIN` S (the check's ``mouth_open``,
:func:`facerig.geometry.lip_gap.opening`) is kept as it is. Everything is in the canonical frame
(+Y up, face toward +Z): vertices (V, 3), faces (F, 3), deltas (K, V, 3).
"""

from __future__ import annotations

import numpy as np

#: A network jawOpen opening the lips by at least this (S, the check's mouth_open) is kept.
OPEN_MIN = 0.12
#: Where jawOpen is kept, a mouthClose that closes less than this share of its lip gap is rebuilt.
#: Below the check's 0.7 on purpose: a network mouthClose that nearly closes is closer to the
#: authors' than the rebuilt one (rebuilding stylised_001's, which closes 0.68, cost its validation
#: group 0.018 mm active error; the tiger's closes 0.5).
CLOSE_MIN = 0.6
#: How far the jaw step parts the lips (S, as the check measures it). The authors' jawOpen part
#: them 0.16-0.55 S (BENCHMARKS.md "Rig check"); 0.25 was picked on ``benchmarks/out_of_family.py``
#: among 0.15-0.3: on the three heads where the step acts it brings jawOpen's completion closer to
#: the author's extent than the network's (0.3 overshoots the lama's author).
TARGET_GAP = 0.25
#: If the lips part less, the angle grows GROW times at a time, up to MAX_ANGLE (radians).
GROW, MAX_ANGLE = 1.4, np.radians(30.0)
#: Hinge: this far above the lip line (S)...
HINGE_UP = 0.4
#: ...and this far behind the lips (S), or 1 S behind the eyes if further back.
HINGE_BACK = 1.3
#: Inside the mouth (hidden from the front, within MOUTH_REACH S of the lip line), walls whose
#: normal's y is beyond +-WALL belong to the jaw (facing up) or to the upper lip (facing down).
MOUTH_REACH, WALL = 0.5, 0.5
#: The jaw weight is averaged this many times with its neighbours along the lip line (0: off).
ALONG_SMOOTH = 8
#: Weight across the lip line: 0 at the line, 1 this far (S) below it.
LINE_BAND = 0.05
#: The jaw region fades out from DEPTH[0] to DEPTH[1] S below the lip line.
DEPTH = (0.9, 1.5)
#: ...and from the hinge (0) to this fraction of the way to the lips (1).
FRONT_FADE = 0.5
#: Where the jaw step replaces jawOpen, the network's motion is dropped up to KEEP_ABOVE[0] S above
#: the lip line and kept from KEEP_ABOVE[1] S above it (it moves the upper lip with the lower one).
KEEP_ABOVE = (0.4, 1.0)
#: mouthClose brings back the lips: fully within LIP_DEPTH[0] S of the lip line, not past LIP_DEPTH[1].
LIP_DEPTH = (0.25, 0.5)
#: Where the head's own frame shows no mouth opening, it is looked for with the head pitched by
#: these angles (degrees about +X, nearest first), and the jaw opens in the first that shows one:
#: a snout nodded over the mouth puts skin in front of the lips at their height, which the mouth
#: finder reads as lips deep inside the head (``weboji_kangaroo`` pitched 15 degrees).
MOUTH_PITCHES = (-10.0, 10.0, -20.0, 20.0)


def _smooth(t: np.ndarray) -> np.ndarray:
    """0 for t <= 0, 1 for t >= 1, smoothstep between."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _front_seen(vertices: np.ndarray, faces: np.ndarray, scale: float) -> np.ndarray:
    """(V,) bool: vertices of the faces (F, 3) seen from the front (rays along -Z, S / 60 apart)."""
    from facerig.geometry.raycast import Grid, first_hits

    v = np.asarray(vertices, np.float64)
    used = np.unique(faces)
    lo, hi = v[used].min(0), v[used].max(0)
    step = max(scale / 60, float((hi - lo)[:2].max()) / 600)
    hit, _ = first_hits(v, faces, Grid.around(lo[0], hi[0], lo[1], hi[1], step))
    seen = np.zeros(len(v), bool)
    seen[faces[np.unique(hit[hit >= 0])].ravel()] = True
    return seen


def _split(vertices: np.ndarray, faces: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """(V,) in [0, 1]: d_up / (d_up + d_low), the distances along the edges of faces (F, 3) to the
    ``upper`` and ``lower`` (V,) bool seeds (0 at the upper seeds, 1 at the lower ones)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    v = np.asarray(vertices, np.float64)
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    ln = np.linalg.norm(v[e[:, 0]] - v[e[:, 1]], axis=1) + 1e-12
    g = coo_matrix((ln, (e[:, 0], e[:, 1])), shape=(len(v), len(v))).tocsr()
    du = dijkstra(g, directed=False, indices=np.flatnonzero(upper), min_only=True)
    dl = dijkstra(g, directed=False, indices=np.flatnonzero(lower), min_only=True)
    with np.errstate(invalid="ignore"):
        t = du / (du + dl)
    t[~np.isfinite(t)] = np.where(np.isfinite(dl), 1.0, 0.0)[~np.isfinite(t)]
    return np.clip(t, 0.0, 1.0)


def _along_line_smooth(v: np.ndarray, faces: np.ndarray, mouth, scale: float, side: np.ndarray) -> np.ndarray:
    """``side`` (V,) averaged :data:`ALONG_SMOOTH` times with its neighbours along the lip line
    (edges of faces (F, 3) near the line and running along it,
    :func:`facerig.geometry.lip_tear.along_line_edges`): where the rule of
    :func:`jaw_weights` switches lips along the line (a fold's walls facing up and down in turn,
    the mouth's corners) the jaw's turn blends over several vertices instead of tearing a
    vertical slit, while the step across the line stays."""
    from scipy.sparse import coo_matrix

    from facerig.geometry.lip_tear import along_line_edges

    e = along_line_edges(v, faces, mouth, scale, reach=MOUTH_REACH)
    if not len(e) or ALONG_SMOOTH <= 0:
        return side
    n = len(v)
    a = coo_matrix((np.ones(2 * len(e)), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n)).tocsr()
    deg = np.asarray(a.sum(1)).ravel()
    out = np.asarray(side, np.float64)
    for _ in range(ALONG_SMOOTH):
        out = (out + a @ out) / (1.0 + deg)
    return out


def jaw_weights(vertices: np.ndarray, faces: np.ndarray, lay, mouth) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The jaw region: ``(weight (V,), lip weight (V,), hinge (y, z) (2,))``.

    vertices (V, 3) neutral, faces (F, 3); lay: :class:`~facerig.geometry.face_parts.Layout`;
    mouth: :class:`~facerig.geometry.mouth.Mouth`. ``weight`` in [0, 1] is how much of the jaw's
    turn a vertex takes; ``lip weight`` the lips' region (for mouthClose).

    Which side of the mouth a vertex is on is read along the surface: the skin seen from the
    front is upper (0) above the lip line and lower (1) below it; inside the mouth (hidden from
    the front, within :data:`MOUTH_REACH` S of the lip line) a wall facing down (a roof, the
    upper lip's inside) is upper and a wall facing up (a floor, the lower lip's inside) is lower
    (normal's y beyond :data:`WALL`); across a fold the skin traced from each lip in the
    mouth's sections decides instead of the height (between its corners, within
    :data:`~facerig.geometry.mouth.LIP_ARC` of the lip line: an overbite or a beak reaches below
    the lip line); the rest takes ``d_up / (d_up + d_low)`` of its
    distances along the edges to the two, so the mouth parts at the back of a fold, not at the
    lips."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    S = lay.scale
    m = mouth.mid
    lip_y, lip_z = float(mouth.y[m]), float(mouth.z[m])
    hinge_z = lip_z - HINGE_BACK * S
    if lay.eye_z is not None:
        hinge_z = min(hinge_z, lay.eye_z - 1.0 * S)
    hinge = np.array([lip_y + HINGE_UP * S, hinge_z])
    labels = lay.labels
    skin = labels == lay.skin
    sf = f[lay.face_part == lay.skin]
    depth = mouth.line_y(v[:, 0]) - v[:, 1]  # below the lip line at each vertex's x: > 0
    from facerig.geometry.mouth import LIP_ARC
    from facerig.geometry.normals import vertex_normals

    seen = _front_seen(v, sf, S) & skin
    ny = vertex_normals(v, sf)[:, 1]
    near = np.abs(depth) < MOUTH_REACH * S
    inside = skin & ~seen & near  # the inside of the mouth: its walls
    upper, lower = seen & (depth < -LINE_BAND * S), seen & (depth > LINE_BAND * S)
    if mouth.upper.any() and mouth.lower.any():  # a fold's lips, traced in its sections
        lo, hi = mouth.corners
        across = (np.abs(depth) < LIP_ARC * S) & (v[:, 0] >= lo) & (v[:, 0] <= hi)
        upper = (upper & ~across) | mouth.upper
        lower = (lower & ~across & ~mouth.upper) | mouth.lower
    upper |= inside & (ny < -WALL)
    lower |= inside & (ny > WALL) & ~upper
    side = _along_line_smooth(v, sf, mouth, S, _split(v, sf, upper, lower))
    w_deep = 1.0 - _smooth((depth - DEPTH[0] * S) / ((DEPTH[1] - DEPTH[0]) * S))
    w_front = _smooth((v[:, 2] - hinge_z) / (FRONT_FADE * (lip_z - hinge_z)))
    w = np.where(skin, side * w_deep * w_front, 0.0)
    for p in lay.mouth_parts:  # teeth and tongue below the lip line ride with the jaw, rigidly
        sel = labels == p
        c = v[sel].mean(0)
        w[sel] = float(mouth.line_y(np.array([c[0]]))[0] > c[1])
    near = 1.0 - _smooth((np.abs(depth) - LIP_DEPTH[0] * S) / ((LIP_DEPTH[1] - LIP_DEPTH[0]) * S))
    lip = np.where(skin | (w > 0), near, 0.0)
    return w, lip, hinge


def turn_deltas(vertices: np.ndarray, weight: np.ndarray, hinge: np.ndarray, angle: float) -> np.ndarray:
    """Displacements (V, 3) of vertices (V, 3) turned about the X axis through ``hinge`` (y, z) by
    ``angle * weight`` (V,) radians, the front going down."""
    v = np.asarray(vertices, np.float64)
    a = angle * np.asarray(weight, np.float64)
    y, z = v[:, 1] - hinge[0], v[:, 2] - hinge[1]
    ca, sa = np.cos(a), np.sin(a)
    out = np.zeros_like(v)
    out[:, 1] = (ca * y - sa * z) - y
    out[:, 2] = (sa * y + ca * z) - z
    return out


def open_jaw(
    vertices: np.ndarray,
    faces: np.ndarray,
    names: list[str],
    deltas: np.ndarray,
    layout=None,
    open_min: float = OPEN_MIN,
    target: float = TARGET_GAP,
    close_min: float = CLOSE_MIN,
    pitches=MOUTH_PITCHES,
) -> tuple[np.ndarray, dict]:
    """Make a rig's jawOpen open the mouth: ``(deltas (K, V, 3), report)`` (see module doc).

    vertices (V, 3) neutral and faces (F, 3) in the canonical frame; names (K,), deltas (K, V, 3)
    in the same frame (not modified; a copy is returned when anything changes). ``report``: the
    mouth found (or why none), the network's opening, and, where replaced, the angle and the
    opening after; the network's mouthClose closure and, where rebuilt, the closure after.

    mouthClose is rebuilt (``(1 - lip) * mouthClose - lip * jawOpen``, lip: the lips' region of
    :func:`jaw_weights`) where jawOpen was replaced, or where it closes less than ``close_min``
    of jawOpen's gap (:data:`CLOSE_MIN`). Where the head's own frame shows no mouth opening, the
    head pitched by each of ``pitches`` in turn (:data:`MOUTH_PITCHES`; report ``pitch_deg``)."""
    from facerig.geometry.face_parts import find_layout, pitched_layout
    from facerig.geometry.frame import pitch_matrix
    from facerig.geometry.lip_gap import opening_measure
    from facerig.geometry.mouth import find_mouth

    if "jawOpen" not in names:
        return deltas, {"status": "no jawOpen"}
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    lay = find_layout(v, f) if layout is None else layout
    mouth, note = find_mouth(v, f, lay)
    if mouth is None:
        for deg in pitches:  # a nodding head (MOUTH_PITCHES): the jaw opens in the frame that shows its mouth
            P = pitch_matrix(deg)
            vp, lp = v @ P.T, pitched_layout(lay, P)
            if find_mouth(vp, f, lp)[0] is None:
                continue
            dp = (np.asarray(deltas, np.float64) @ P.T).astype(deltas.dtype)
            new, report = open_jaw(vp, f, names, dp, lp, open_min, target, close_min, pitches=())
            out = deltas
            for i in range(len(names)):
                if not np.array_equal(new[i], dp[i]):  # turned back: only the shapes the step changed
                    out = deltas.copy() if out is deltas else out
                    out[i] = (np.asarray(new[i], np.float64) @ P).astype(deltas.dtype)
            return out, {**report, "pitch_deg": float(deg)}
        return deltas, {"status": "no mouth opening", "note": note}
    k = names.index("jawOpen")
    jaw0 = np.asarray(deltas[k], np.float64)
    opening = opening_measure(v, f, lay, mouth.inside)
    before = opening(jaw0)
    report: dict = {"mouth": mouth.kind, "network_opening": round(before, 3)}
    weights = None
    jaw, opened = jaw0, before
    if before >= open_min:
        report["status"] = "kept"
    else:
        weights = jaw_weights(v, f, lay, mouth)
        jaw, opened = _turn(v, lay, mouth, jaw0, weights, target, opening, report)
        if opened <= before:
            report.update(status="kept (the jaw step did not open the lips further)", opening_after=round(opened, 3))
            jaw, opened = jaw0, before
    out = deltas
    if jaw is not jaw0:
        out = deltas.copy()
        out[k] = jaw.astype(deltas.dtype)
    if "mouthClose" in names and opened > 0:
        c = names.index("mouthClose")
        close0 = np.asarray(deltas[c], np.float64)
        closure = 1.0 - opening(jaw + close0) / opened
        report["network_close"] = round(closure, 3)
        if jaw is not jaw0 or closure < close_min:  # mouthClose takes jawOpen back over the lips
            lip = (weights or jaw_weights(v, f, lay, mouth))[1][:, None]
            if out is deltas:
                out = deltas.copy()
            out[c] = ((1.0 - lip) * close0 - lip * jaw).astype(deltas.dtype)
            report["close_after"] = round(1.0 - opening(jaw + out[c]) / opened, 3)
    return out, report


def _turn(v, lay, mouth, jaw0: np.ndarray, weights: tuple, target: float, opening, report: dict) -> tuple:
    """jawOpen (V, 3) turned about the hinge, wider until the lips part by ``target`` S as
    ``opening`` (delta -> S) measures it, and that opening; the angles tried go into ``report``."""
    S = lay.scale
    w, _, hinge = weights
    reach = float(mouth.z[mouth.mid] - hinge[1])  # lever of the lower lip about the hinge
    angle = target * S / max(reach, 1e-9)
    # the network's jawOpen is dropped around the mouth (it moves both lips alike) and kept higher up
    depth = mouth.line_y(v[:, 0]) - v[:, 1]
    drop = _smooth((depth + KEEP_ABOVE[1] * S) / ((KEEP_ABOVE[1] - KEEP_ABOVE[0]) * S))
    base = jaw0 * (1.0 - np.maximum(w, drop)[:, None])
    tried = []
    while True:  # wider until the lips part by ``target`` (a fold hides its inside longer)
        new = base + turn_deltas(v, w, hinge, angle)
        after = opening(new)
        tried.append((round(float(np.degrees(angle)), 1), round(after, 3)))
        if after >= target or angle * GROW > MAX_ANGLE:
            break
        angle *= GROW
    report.update(status="replaced", angle_deg=tried[-1][0], opening_after=round(after, 3), tried=tried)
    return new, after

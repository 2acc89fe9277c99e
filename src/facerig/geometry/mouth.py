"""Where a head's mouth opens, found from its geometry: a cut or a fold between the lips.

A rig can open a mouth only where the lips are two surfaces: a *hole* (a boundary loop of the
skin between the lips: a face mask's mouth, a mouth bag left open at the back) or a *fold* (the
skin turns inward between the lips and comes back out: a closed mouth bag, or a cartoon
creature's mouth modelled as a deep crease). A statue's lips, or a face mesh whose lips are
joined by faces (the MediaPipe face mesh), are one sheet of skin: no rig opens them without
tearing the mesh, and :func:`find_mouth` says so.

The test runs on vertical sections of the skin (the plane ``x = x0`` cut through the stitched
skin, :func:`section_chains`), in the face frame (+Y up, face toward +Z). In a section, the lips
meet at a pair of points (``entrance``) that are close together (at most :data:`FOLD_CHORD`
eye distances ``S``) yet either

- far apart along the skin: the path between them dips at least :data:`FOLD_DEPTH` behind the
  pair and is at least :data:`FOLD_ARC` long (a fold), or
- on two separate pieces of the section (a hole: a cut between the lips), or both ends of the
  section (within :data:`HOLE_CHORD`: a face mask's mouth hole),

with the pair below the eyes (:data:`BAND`, in ``S`` below the eye line; without eyes, below the
most forward point of the mid-line, the nose tip) and near the front of the face (at most
:data:`FRONT` behind the most forward skin at its height). The mouth is found when the sections
at the mid-plane and 0.1 S to either side agree (two of three); the lip line is then traced
sideways column by column until a section finds no entrance (the mouth corners).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

#: Lip pair of a fold: at most this far apart (in eye distances S)...
FOLD_CHORD = 0.3
#: ...with the skin between them at least this long...
FOLD_ARC = 0.3
#: ...and reaching at least this far behind the pair (S).
FOLD_DEPTH = 0.1
#: ...and at least this many times the gap between them (a deep fold, not a shallow notch).
FOLD_RATIO = 1.5
#: Lip pair of a hole: two ends of the skin's section at most this far apart (S).
HOLE_CHORD = 0.5
#: Where the lips may meet: from BAND[0] to BAND[1] eye distances below the eye line.
BAND = (0.35, 2.2)
#: The lips' meeting point lies at most this far (S) behind the most forward skin at its height.
FRONT = 0.3
#: A fold's walls count as the inside of the mouth from this far (S) behind the lips' meeting point.
INSIDE_BEHIND = 0.02
#: How far (S) along the section from each lip of a fold its skin is marked upper / lower.
LIP_ARC = 0.4
#: Sections across the mouth, spaced this far apart (S), for the lip line.
COLUMN_STEP = 0.1


@dataclass
class Mouth:
    """A mouth opening (see module doc).

    Attributes:
        kind: "hole" or "fold" (the mid-plane section's kind).
        x: (C,) section positions across the mouth, increasing; y, z: (C,) the lips' meeting point
            in each (the lip line); gap: (C,) distance between the two lips there.
        mid: index into ``x`` of the mid-plane section.
        inside: (V,) bool, the walls of a fold between the lips (vertices the sections' paths
            between the lips cross, more than :data:`INSIDE_BEHIND` S behind the lips' meeting
            point): the inside of the mouth, even where seen from the front at neutral.
        upper, lower: (V,) bool, the skin leading away from a fold's upper and lower lip in the
            sections (:data:`LIP_ARC` S along it): which lip is which where they overlap.
    """

    kind: str
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    gap: np.ndarray
    mid: int
    inside: np.ndarray
    upper: np.ndarray
    lower: np.ndarray

    @property
    def corners(self) -> tuple[float, float]:
        """x of the mouth corners (the outermost sections that found the lips)."""
        return float(self.x[0]), float(self.x[-1])

    def line_y(self, x: np.ndarray) -> np.ndarray:
        """Height of the lip line at x (N,) -> (N,), held constant past the corners."""
        return np.interp(x, self.x, self.y)


def section_chains(vertices: np.ndarray, faces: np.ndarray, x0: float, with_edges: bool = False) -> list[tuple]:
    """The cut of a triangle mesh by the plane ``x = x0``: a list of ``(points (N, 2), closed)``,
    points as (y, z) in order along each connected piece of the cut (``with_edges``: ``(points,
    closed, edges (N, 2))``, the mesh edge each point lies on).

    vertices (V, 3), faces (F, 3). A vertex on the plane counts as on its +X side."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64).reshape(-1, 3)
    side = v[:, 0] >= x0
    fs = side[f]
    cut = (fs[:, 0] | fs[:, 1] | fs[:, 2]) & ~(fs[:, 0] & fs[:, 1] & fs[:, 2])  # = fs.any(1) & ~fs.all(1)
    if not cut.any():
        return []
    fc = f[cut]
    V = len(v)
    edges = []
    for a, b in ((0, 1), (1, 2), (2, 0)):
        ea, eb = fc[:, a], fc[:, b]
        crosses = side[ea] != side[eb]
        edges.append(np.where(crosses, np.minimum(ea, eb) * V + np.maximum(ea, eb), -1))
    e = np.stack(edges, 1)  # (Fc, 3): key of each crossing edge, -1 elsewhere
    ends = np.sort(e, 1)[:, 1:]  # the two crossing edges of each face
    keys, inv = np.unique(ends, return_inverse=True)
    inv = inv.reshape(-1, 2)
    lo, hi = keys // V, keys % V
    t = (x0 - v[lo, 0]) / (v[hi, 0] - v[lo, 0])
    pts = v[lo] + t[:, None] * (v[hi] - v[lo])
    # each point's neighbours (the other crossing edge of its faces), in the order of the faces
    flat, other = inv.ravel(), inv[:, ::-1].ravel()
    by = np.argsort(flat, kind="stable")
    deg = np.bincount(flat, minlength=len(keys))
    slot = np.arange(len(flat)) - np.repeat(np.cumsum(deg) - deg, deg)
    table = np.full((len(keys), max(int(deg.max()), 1)), -1, np.int64)
    table[flat[by], slot] = other[by]
    nbr = table.tolist()  # each point's neighbours in the order of its faces, then -1s
    seen = [False] * len(keys)
    chains = []
    order = np.argsort(deg != 1, kind="stable").tolist()  # open pieces from an end
    for s in order:
        if seen[s]:
            continue
        chain, prev, cur = [s], -1, s
        seen[s] = True
        while True:
            for n in nbr[cur]:  # the first neighbour not come from and not seen
                if n >= 0 and n != prev and not seen[n]:
                    break
            else:
                closed = len(chain) > 2 and s in nbr[cur]
                break
            prev, cur = cur, n
            seen[cur] = True
            chain.append(cur)
        chains.append((pts[chain][:, 1:], closed) + ((np.c_[lo[chain], hi[chain]],) if with_edges else ()))
    return chains


def _front(all_pts: np.ndarray, y: float, tol: float) -> float:
    """Most forward z of section points (N, 2) within ``tol`` of height y."""
    near = np.abs(all_pts[:, 0] - y) <= tol
    return float(all_pts[near, 1].max()) if near.any() else -np.inf


def _range_max(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """max(x[lo[k] : hi[k] + 1]) for each k: x (N,), lo, hi (K,) with lo <= hi (a sparse table)."""
    table = [np.asarray(x, np.float64)]
    while (1 << len(table)) <= len(x):
        t, h = table[-1], 1 << (len(table) - 1)
        table.append(np.maximum(t[:-h], t[h:]))
    n = hi - lo + 1
    lev = np.floor(np.log2(np.maximum(n, 1))).astype(np.int64)
    out = np.empty(len(lo))
    for e in np.flatnonzero(np.bincount(lev)):  # the levels present (np.unique(lev))
        s = lev == e
        out[s] = np.maximum(table[e][lo[s]], table[e][hi[s] - (1 << e) + 1])
    return out


def _walls(pts, arc, edges, reach: float, p: int, q: int, wrap: bool, first: int, last: int) -> dict:
    """A fold's walls in one section (see :func:`lip_pairs`): the edges' vertices of the path
    between points p < q of one piece (``wrap``: the way round through ``last`` and ``first``) and
    of the skin leading away from each lip over ``reach``."""
    path = np.r_[q : last + 1, first : p + 1] if wrap else np.arange(p, q + 1)
    up, low = (p, q) if pts[p, 0] >= pts[q, 0] else (q, p)
    out = {"inside": np.unique(edges[path])}
    for name, at in (("upper", up), ("lower", low)):
        back = (at == p) != wrap  # away from the pocket: toward the piece's start
        run = np.arange(at, first - 1, -1) if back else np.arange(at, last + 1)
        out[name] = np.unique(edges[run[np.abs(arc[run] - arc[at]) <= reach]])
    return out


def lip_pairs(chains: list[tuple], y_lo: float, y_hi: float, scale: float) -> list[tuple]:
    """Every lip pair in one section (see module doc) between heights ``y_lo`` and ``y_hi``:
    a list of ``(kind, (y, z) midpoint (2,), gap, walls)``; ``walls()``: for a fold, the mesh
    vertices on the edges the skin's path crosses, as a dict: ``inside`` between the two lips,
    ``upper`` / ``lower`` from each lip outward over :data:`LIP_ARC` S (:func:`_walls`; None for
    a hole, or for chains without edges, :func:`section_chains`)."""
    found = _pair_arrays(chains, y_lo, y_hi, scale)
    return [] if found is None else [found[3](t) for t in range(len(found[0]))]


def _pair_arrays(chains: list[tuple], y_lo: float, y_hi: float, scale: float):
    """:func:`lip_pairs` as arrays: ``(midpoints (P, 2), gaps (P,), fold (P,) bool, pair)`` in the
    list's order, ``pair(t)`` the list's entry t (built only where asked: a dense section holds
    tens of thousands of fold pairs), or None for no pair."""
    from scipy.spatial import cKDTree

    if not chains:
        return None
    S = scale
    pts = np.concatenate([ch[0] for ch in chains])
    cid = np.concatenate([np.full(len(ch[0]), i) for i, ch in enumerate(chains)])
    arc = np.concatenate([np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(ch[0], axis=0), axis=1))] for ch in chains])
    edges = np.concatenate([ch[2] for ch in chains]) if len(chains[0]) > 2 else None
    total = np.array(
        [
            a[-1] + (np.linalg.norm(c[-1] - c[0]) if closed else 0.0)
            for (c, closed, *_), a in zip(chains, np.split(arc, np.cumsum([len(ch[0]) for ch in chains])[:-1]))
        ]
    )
    closed = np.array([ch[1] for ch in chains])
    is_end = np.zeros(len(pts), bool)
    starts = np.cumsum([0] + [len(ch[0]) for ch in chains])
    for i, ch in enumerate(chains):
        if not ch[1] and len(ch[0]) > 2:
            is_end[starts[i]] = is_end[starts[i + 1] - 1] = True
    idx = np.flatnonzero((pts[:, 0] >= y_lo) & (pts[:, 0] <= y_hi))
    if len(idx) < 2:
        return None

    def apart(pr: np.ndarray) -> np.ndarray:  # pairs (n, 2) that may be lips: ends, two pieces, or far along one
        i, j = pr[:, 0], pr[:, 1]
        direct = np.abs(arc[i] - arc[j])
        along = np.minimum(direct, np.where(closed[cid[i]], total[cid[i]] - direct, np.inf))
        return pr[(is_end[i] & is_end[j]) | (cid[i] != cid[j]) | (along >= FOLD_ARC * S)]

    pr = apart(idx[cKDTree(pts[idx]).query_pairs(FOLD_CHORD * S, output_type="ndarray")].reshape(-1, 2))
    ends = idx[is_end[idx]]
    if HOLE_CHORD > FOLD_CHORD and len(ends) > 1:  # a hole's two ends may lie further apart
        far = ends[cKDTree(pts[ends]).query_pairs(HOLE_CHORD * S, output_type="ndarray")].reshape(-1, 2)
        both = np.sort(np.concatenate([pr, far]), axis=1)
        key = np.unique(both[:, 0] * len(pts) + both[:, 1])  # the rows of np.unique(axis=0), in order
        pr = np.c_[key // len(pts), key % len(pts)]
    if len(pr) == 0:
        return None
    i, j = pr[:, 0], pr[:, 1]
    dp = pts[i] - pts[j]
    chord = np.sqrt(dp[:, 0] * dp[:, 0] + dp[:, 1] * dp[:, 1])  # = np.linalg.norm(dp, axis=1), bit for bit
    # only pairs that may be a hole's or a fold's lips go on (most are neighbours along one piece)
    same = cid[i] == cid[j]
    direct = np.abs(arc[i] - arc[j])
    around = np.where(closed[cid[i]], total[cid[i]] - direct, np.inf)
    along = np.minimum(direct, around)
    cand = (is_end[i] & is_end[j] & (chord <= HOLE_CHORD * S)) | (
        (chord <= FOLD_CHORD * S) & (~same | (along >= FOLD_ARC * S))
    )
    if not cand.any():
        return None
    i, j, chord, same, direct, around, along = (x[cand] for x in (i, j, chord, same, direct, around, along))
    m = 0.5 * (pts[i] + pts[j])
    # the front at each pair's height: most forward section point within 0.05 S of it
    order = np.argsort(pts[:, 0])
    ys = pts[order, 0]
    lo = np.searchsorted(ys, m[:, 0] - 0.05 * S)
    hi = np.searchsorted(ys, m[:, 0] + 0.05 * S) - 1
    front = np.where(hi >= lo, _range_max(pts[order, 1], lo, np.maximum(hi, lo)), -np.inf)
    near_front = m[:, 1] >= front - FRONT * S
    hole = ((is_end[i] & is_end[j] & (chord <= HOLE_CHORD * S)) | (~same & (chord <= FOLD_CHORD * S))) & near_front
    if hole.any():  # across a cut, each lip's point pairs with its nearest point on the other lip
        best = np.full(len(pts), np.inf)
        np.minimum.at(best, i[hole], chord[hole])
        np.minimum.at(best, j[hole], chord[hole])
        hole &= (chord <= best[i]) & (chord <= best[j])
    maybe = same & ~hole & near_front & (chord <= FOLD_CHORD * S) & (along >= FOLD_ARC * S)
    holes = np.flatnonzero(hole)
    k = np.flatnonzero(maybe)
    args = np.zeros((0, 5), np.int64)  # p, q, wrap, first, last of each fold
    if len(k):
        p, q = np.minimum(i[k], j[k]), np.maximum(i[k], j[k])  # indices into pts, same piece
        deepest = -_range_max(-pts[:, 1], p, q)  # the path between them (direct)
        first = starts[cid[p]]
        last = starts[cid[p] + 1] - 1
        wrap = np.minimum(-_range_max(-pts[:, 1], q, last), -_range_max(-pts[:, 1], first, p))
        deepest = np.where(around[k] < direct[k], wrap, deepest)
        depth = m[k, 1] - deepest
        ok = depth >= np.maximum(FOLD_DEPTH * S, FOLD_RATIO * chord[k])
        k = k[ok]
        args = np.c_[p[ok], q[ok], (around[k] < direct[k]), first[ok], last[ok]].astype(np.int64)
    rows = np.r_[holes, k]
    if len(rows) == 0:
        return None

    def pair(t: int) -> tuple:
        r = rows[t]
        if t < len(holes):
            return ("hole", m[r], float(chord[r]), None)
        pp, qq, wr, a, b = (int(x) for x in args[t - len(holes)])
        walls = None if edges is None else partial(_walls, pts, arc, edges, S * LIP_ARC, pp, qq, bool(wr), a, b)
        return ("fold", m[r], float(chord[r]), walls)

    return m[rows], chord[rows], np.arange(len(rows)) >= len(holes), pair


def lip_pair(chains: list[tuple], y_lo: float, y_hi: float, scale: float, near_y: float | None = None) -> tuple | None:
    """The lips' meeting point in one section: ``(kind, (y, z) midpoint (2,), gap, walls)`` or None.

    Of the lip pairs (:func:`lip_pairs`), those of the lowest opening (within 0.3 S of the lowest
    pair: a nostril lies above the mouth), or with ``near_y`` of the opening nearest that
    height, and of those the most forward (the lips' front, not the inside of the mouth)."""
    found = _pair_arrays(chains, y_lo, y_hi, scale)
    if found is None:
        return None
    mid, pair = found[0], found[3]
    y = mid[:, 0]
    ref = y.min() if near_y is None else y[int(np.argmin(np.abs(y - near_y)))]
    group = np.flatnonzero(np.abs(y - ref) <= 0.3 * scale)
    return pair(int(group[np.argmax(mid[group, 1])]))  # the first of the most forward, as max() picks


def _band(vertices: np.ndarray, skin_faces: np.ndarray, lay) -> tuple[float, float] | None:
    """Heights where the lips may meet: (y_lo, y_hi)."""
    S = lay.scale
    if lay.eye_y is not None:
        return lay.eye_y - BAND[1] * S, lay.eye_y - BAND[0] * S
    chains = section_chains(vertices, skin_faces, lay.mid_x)
    if not chains:
        return None
    pts = np.concatenate([ch[0] for ch in chains])
    nose = pts[int(np.argmax(pts[:, 1]))]
    return float(nose[0] - (BAND[1] - BAND[0]) * S), float(nose[0])


def find_mouth(
    vertices: np.ndarray, faces: np.ndarray, lay, motion: np.ndarray | None = None
) -> tuple[Mouth | None, str]:
    """The mouth opening of a head, or None and why: ``(mouth, note)``.

    Args:
        vertices: (V, 3) neutral in the face frame. faces: (F, 3). lay: its
            :class:`~facerig.geometry.face_parts.Layout`.
        motion: optional (V, 3) displacement of a shape that opens the mouth (a rig's jawOpen).
            Open seams are stitched before the sections are cut (UV islands are no openings),
            which also closes a mouth cut as a zero-width slit (its two lips coinciding); with
            ``motion``, the two sides of a seam that it moves apart stay cut.
    """
    from facerig.geometry.weld import weld_seams

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    sf = f[lay.face_part == lay.skin]
    if len(sf) == 0:
        return None, "no skin"
    parts = None
    if motion is not None:  # vertices moved alike (to 0.001 S) may be stitched together
        q = np.round(np.asarray(motion, np.float64) / (1e-3 * lay.scale)).astype(np.int64)
        parts = np.unique(q, axis=0, return_inverse=True)[1].ravel()
    wv, wf, index = weld_seams(v, sf, parts=parts)  # UV seams are no openings
    S = lay.scale
    band = _band(wv, wf, lay)
    if band is None:
        return None, "the mid-plane does not cut the skin"

    fx = wv[:, 0][wf]
    fx_lo = np.minimum(np.minimum(fx[:, 0], fx[:, 1]), fx[:, 2])  # = fx.min(1), several times faster
    fx_hi = np.maximum(np.maximum(fx[:, 0], fx[:, 1]), fx[:, 2])

    def at(x: float, near_y: float | None = None):  # the plane x cuts only the faces spanning it (same chains)
        cut = wf[(fx_lo < x) & (fx_hi >= x)]
        return lip_pair(section_chains(wv, cut, x, with_edges=True), band[0], band[1], S, near_y)

    c0 = at(lay.mid_x)  # the lowest opening on the mid-plane; beside it, the one nearest its height
    near = None if c0 is None else c0[1][0]
    centre = [at(lay.mid_x - COLUMN_STEP * S, near), c0, at(lay.mid_x + COLUMN_STEP * S, near)]
    if sum(c is not None for c in centre) < 2:
        where = "below the eyes" if lay.eye_y is not None else "below the nose"
        return None, f"no mouth opening (no cut or fold between the lips on the mid-line {where})"
    cols = {k: c for k, c in zip((-1, 0, 1), centre) if c is not None}
    for sgn in (-1, 1):  # trace the lip line to the corners, each step near the last
        k = sgn
        while abs(k) < 40:
            k += sgn
            last = cols.get(k - sgn)
            if last is None:
                break
            c = at(lay.mid_x + k * COLUMN_STEP * S, last[1][0])
            if c is None or abs(c[1][0] - last[1][0]) > 0.25 * S:
                break
            cols[k] = c
    ks = sorted(cols)
    mid = ks.index(0) if 0 in cols else ks.index(min(ks, key=abs))
    # the inside of a fold: vertices on its walls (behind the lips' meeting point), from the
    # sections across the mouth and a few more near the mid-plane (where the check looks)
    extra = [at(lay.mid_x + t * S, cols[ks[mid]][1][0]) for t in (-0.15, -0.075, -0.03, 0.03, 0.075, 0.15)]
    inside_w, upper_w, lower_w = (np.zeros(len(wv), bool) for _ in range(3))
    for c in list(cols.values()) + [c for c in extra if c is not None]:
        if c[3] is not None:
            walls = c[3]()
            ids = walls["inside"]
            inside_w[ids[wv[ids, 2] < c[1][1] - INSIDE_BEHIND * S]] = True
            upper_w[walls["upper"]] = True
            lower_w[walls["lower"]] = True
    both = upper_w & lower_w
    upper_w &= ~both
    lower_w &= ~both
    kind = cols[ks[mid]][0]
    return (
        Mouth(
            kind,
            np.array([lay.mid_x + k * COLUMN_STEP * S for k in ks]),
            np.array([cols[k][1][0] for k in ks]),
            np.array([cols[k][1][1] for k in ks]),
            np.array([cols[k][2] for k in ks]),
            mid,
            inside_w[index],
            upper_w[index],
            lower_w[index],
        ),
        f"mouth {kind}, {len(ks)} sections across ({(ks[-1] - ks[0]) * COLUMN_STEP:.1f} S wide)",
    )

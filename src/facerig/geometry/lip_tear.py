"""Tearing along the lip line: ``facerig check``'s ``lip_tear`` measure.

A mouth that opens cleanly is a step in the displacement field *across* the lip line (the lower
lip goes down with the jaw, the upper lip stays), smooth *along* it: neighbours along the line
move alike. A rig that assigns the lip-line vertices to the two lips unevenly (a closed slit's
two lips given one delta, a fold's walls split by a noisy rule) tears the lips into vertical
spikes: along the line a vertex goes down with the jaw while its neighbours stay up. The
measure is the largest difference of motion between the two ends of an edge running along the
lip line near it, in eye distances ``S``; a stretch ratio cannot tell this from a clean opening
(a fold's walls stretch many times in the authors' rigs too), the direction of the jump can.

Everything is in the canonical frame (+Y up, face toward +Z): vertices (V, 3), faces (F, 3).
"""

from __future__ import annotations

import numpy as np

#: Edges within this distance (S) of the lip line (in height and in depth at their x) ...
REACH = 0.25
#: ... and at most this far (S) beyond the mouth's corners ...
CORNER_MARGIN = 0.1
#: ... running within this angle (degrees) of the lip line's direction are "along the line".
ALONG_DEG = 30.0


def line_tangent(mouth, x: np.ndarray) -> np.ndarray:
    """Unit tangents (N, 3) of the lip line (``mouth.x``, ``mouth.y``, ``mouth.z``) at x (N,)."""
    mx = np.asarray(mouth.x, np.float64)
    if len(mx) < 2:
        t = np.zeros((len(x), 3))
        t[:, 0] = 1.0
        return t
    dy = np.gradient(np.asarray(mouth.y, np.float64), mx)
    dz = np.gradient(np.asarray(mouth.z, np.float64), mx)
    t = np.stack([np.ones(len(x)), np.interp(x, mx, dy), np.interp(x, mx, dz)], 1)
    return t / np.linalg.norm(t, axis=1, keepdims=True)


def along_line_edges(vertices: np.ndarray, faces: np.ndarray, mouth, scale: float, reach: float = REACH) -> np.ndarray:
    """Edges (E, 2) of faces (F, 3) near the lip line of ``mouth``
    (:class:`facerig.geometry.mouth.Mouth`; within ``reach`` S, :data:`REACH`) and running along
    it (:data:`CORNER_MARGIN`, :data:`ALONG_DEG`); vertices (V, 3) neutral, ``scale`` = S."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    lo, hi = mouth.corners
    mx = np.asarray(mouth.x, np.float64)
    near = (
        (v[:, 0] >= lo - CORNER_MARGIN * scale)
        & (v[:, 0] <= hi + CORNER_MARGIN * scale)
        & (np.abs(v[:, 1] - mouth.line_y(v[:, 0])) < reach * scale)
        & (np.abs(v[:, 2] - np.interp(v[:, 0], mx, np.asarray(mouth.z, np.float64))) < reach * scale)
    )
    sub = f[near[f].all(1)]
    if not len(sub):
        return np.zeros((0, 2), np.int64)
    e = np.unique(np.sort(np.concatenate([sub[:, [0, 1]], sub[:, [1, 2]], sub[:, [2, 0]]]), 1), axis=0)
    d = v[e[:, 1]] - v[e[:, 0]]
    ln = np.linalg.norm(d, axis=1)
    e, d, ln = e[ln > 0], d[ln > 0], ln[ln > 0]
    t = line_tangent(mouth, 0.5 * (v[e[:, 0], 0] + v[e[:, 1], 0]))
    cos = np.abs((d * t).sum(1)) / ln
    return e[cos >= np.cos(np.radians(ALONG_DEG))]


#: Neighbours up to this many steps along the line on each side are compared (a fang k vertices
#: wide sticks out from those k steps away). 1: with 2 the authors' own rigs reach 0.244 S
#: (MakeHuman hm08 mouthClose), above the torn jaw step on weboji_lama (0.215 S), so the
#: check could not tell them apart (BENCHMARKS.md, "Rig check").
HOPS = 1


def along_line_pairs(vertices: np.ndarray, edges: np.ndarray, mouth, hops: int = HOPS) -> np.ndarray:
    """Quadruples (T, 4) ``(left, centre, right, k)``: vertices ``k`` steps (1..``hops``) to the
    left and to the right of ``centre`` along the lip line of ``mouth`` through the along-line
    ``edges`` (E, 2) (:func:`along_line_edges`); vertices (V, 3) neutral."""
    v = np.asarray(vertices, np.float64)
    if not len(edges):
        return np.zeros((0, 4), np.int64)
    a = np.concatenate([edges[:, 0], edges[:, 1]])
    b = np.concatenate([edges[:, 1], edges[:, 0]])
    side = ((v[b] - v[a]) * line_tangent(mouth, v[a, 0])).sum(1) > 0  # b is to the right of a
    step: list[dict] = [{}, {}]  # one step to the left / to the right
    for c, n, r in zip(a.tolist(), b.tolist(), side.tolist()):
        step[int(r)].setdefault(c, set()).add(n)
    out = []
    reach = [{c: {c} for c in step[0]}, {c: {c} for c in step[1]}]
    for k in range(1, hops + 1):
        for s in (0, 1):
            reach[s] = {c: set().union(*(step[s].get(n, set()) for n in ns)) for c, ns in reach[s].items()}
        for c, ls in reach[0].items():
            for lt in ls:
                for rt in reach[1].get(c, ()):
                    out.append((lt, c, rt, k))
    return np.array(out, np.int64).reshape(-1, 4)


def lip_tear(deltas: np.ndarray, triples: np.ndarray, scale: float) -> np.ndarray:
    """Spikes along the lip line per shape (S): deltas (K, V, 3) or (V, 3) -> (K,) or a float.

    For each vertex and each number of steps k along the line (``triples`` (T, 4),
    :func:`along_line_pairs`), the smaller of its motion's differences from a vertex k steps to
    its left and one k steps to its right when it sticks out from both (``(d_c - d_l) . (d_c -
    d_r) > 0``; 0 otherwise), over its most even such pair; the largest over k and the vertices.
    A clean opening, a ramp at a mouth corner or a step between the lips has a neighbour on the
    same side (about 0); a vertex (or a fang up to k vertices wide) torn away from the line on
    both sides is a spike. 0 with no triples."""
    d = np.asarray(deltas)
    one = d.ndim == 2
    d = d[None] if one else d
    out = np.zeros(len(d))
    if len(triples):
        lt, c, rt, hop = triples[:, 0], triples[:, 1], triples[:, 2], triples[:, 3]
        key = c * (int(hop.max()) + 1) + hop  # one vertex at one number of steps
        for k in range(len(d)):
            dk = np.asarray(d[k], np.float64)
            a, b = dk[c] - dk[lt], dk[c] - dk[rt]
            val = np.where((a * b).sum(1) > 0, np.minimum(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)), 0.0)
            best = np.full(int(key.max()) + 1, np.inf)
            np.minimum.at(best, key, val)  # the most even pair of neighbours k steps away
            out[k] = best[np.isfinite(best)].max() / scale
    return float(out[0]) if one else out

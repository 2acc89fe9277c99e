"""Rig error metrics (plain numpy). All distances are reported in millimetres.

Per shape ``k`` (``e_v = ||pred_kv - gt_kv|| * mm_per_unit``, ``g_v = ||gt_kv|| * mm_per_unit``):

- ``mean_mm``: mean of ``e_v`` over all V vertices.
- ``active_mm``: mean of ``e_v`` over *active* vertices, ``g_v > active_mm_threshold`` (0.5 mm).
  NaN when the shape has no active vertex (excluded from averages).
- ``q95_mm``: 95th percentile of ``e_v`` over all vertices.
- ``relative``: ``active_mm / zero_active_mm`` where ``zero_active_mm`` = mean ``g_v`` over the
  active vertices (the zero rig's active error): 1.0 = no better than doing nothing.
- ``si_mm`` / ``si_active_mm``: scale-invariant error: the prediction is first multiplied by the
  single non-negative scale ``c* = max(0, <p, g> / <p, p>)`` (closed-form least squares over all
  vertex coordinates of the shape), then ``mean_mm`` / ``active_mm`` are taken. ``si_scale`` = c*.
- ``max_mm``: largest ``e_v``.

Per head (:func:`head_summary`): the mean over shapes of each per-shape number (NaNs skipped),
except ``q95_mm``, which is the 95th percentile of ``e_v`` pooled over all shapes and vertices.

Interpenetration (:func:`interpenetration`) follows RigAnyFace's "ratio of interpenetrating
vertices" between disconnected components; the exact definition is in its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from facerig.geometry.components import boundary_ratio, connected_components

ACTIVE_MM = 0.5

SHAPE_KEYS = (
    "mean_mm",
    "active_mm",
    "q95_mm",
    "max_mm",
    "relative",
    "si_mm",
    "si_active_mm",
    "si_scale",
    "zero_active_mm",
    "zero_mean_mm",
    "active_vertices",
)


def shape_errors(
    pred: np.ndarray, gt: np.ndarray, mm_per_unit: float = 1.0, active_mm: float = ACTIVE_MM
) -> dict[str, np.ndarray]:
    """Per-shape error numbers.

    Args:
        pred: (K, V, 3) predicted deltas; gt: (K, V, 3) ground-truth deltas (same units).
        mm_per_unit: millimetres per mesh unit.
        active_mm: GT motion (mm) above which a vertex is active.

    Returns:
        dict of (K,) float64 arrays keyed by :data:`SHAPE_KEYS` (see module doc), plus
        ``errors`` (K, V) per-vertex errors in mm.
    """
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    if p.shape != g.shape or p.ndim != 3:
        raise ValueError(f"pred {p.shape} and gt {g.shape} must both be (K, V, 3)")
    s = float(mm_per_unit)
    err = np.linalg.norm(p - g, axis=2) * s  # (K,V)
    mag = np.linalg.norm(g, axis=2) * s
    act = mag > active_mm
    n_act = act.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        active = np.where(n_act > 0, (err * act).sum(1) / n_act, np.nan)
        zero_active = np.where(n_act > 0, (mag * act).sum(1) / n_act, np.nan)
        relative = active / zero_active
        pp = np.einsum("kvc,kvc->k", p, p)
        pg = np.einsum("kvc,kvc->k", p, g)
        scale = np.where(pp > 0, np.maximum(pg / np.where(pp > 0, pp, 1.0), 0.0), 0.0)
        err_si = np.linalg.norm(scale[:, None, None] * p - g, axis=2) * s
        si_active = np.where(n_act > 0, (err_si * act).sum(1) / n_act, np.nan)
    return {
        "mean_mm": err.mean(1),
        "active_mm": active,
        "q95_mm": np.percentile(err, 95, axis=1),
        "max_mm": err.max(1),
        "relative": relative,
        "si_mm": err_si.mean(1),
        "si_active_mm": si_active,
        "si_scale": scale,
        "zero_active_mm": zero_active,
        "zero_mean_mm": mag.mean(1),
        "active_vertices": n_act.astype(np.float64),
        "errors": err,
    }


def completion(pred: np.ndarray, gt: np.ndarray, top: float = 0.05) -> np.ndarray:
    """How far each predicted shape goes along its ground truth: (K,) float64.

    pred, gt (K, V, 3). Over the ``top`` share of vertices the ground truth moves most,
    ``sum(p . g) / sum(g . g)``: 1 when the motion goes all the way, 0 when nothing moves (or it
    moves across), above 1 when it overshoots. NaN for a shape that does not move."""
    p = np.asarray(pred, np.float64)
    g = np.asarray(gt, np.float64)
    if p.shape != g.shape or p.ndim != 3:
        raise ValueError(f"pred {p.shape} and gt {g.shape} must both be (K, V, 3)")
    mag = np.linalg.norm(g, axis=2)
    n = max(1, int(round(top * g.shape[1])))
    out = np.full(g.shape[0], np.nan)
    for k in range(g.shape[0]):
        idx = np.argpartition(-mag[k], n - 1)[:n]
        gg = float(np.einsum("vc,vc->", g[k, idx], g[k, idx]))
        if gg > 0:
            out[k] = float(np.einsum("vc,vc->", p[k, idx], g[k, idx])) / gg
    return out


def head_summary(per_shape: dict[str, np.ndarray]) -> dict[str, float]:
    """Head-level numbers from :func:`shape_errors` output (mean over shapes, pooled q95)."""
    out: dict[str, float] = {}
    for k in ("mean_mm", "active_mm", "relative", "si_mm", "si_active_mm", "zero_active_mm", "zero_mean_mm"):
        v = per_shape[k]
        out[k] = float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
    out["q95_mm"] = float(np.percentile(per_shape["errors"], 95)) if per_shape["errors"].size else float("nan")
    out["max_mm"] = float(np.max(per_shape["max_mm"])) if per_shape["max_mm"].size else float("nan")
    return out


# ----------------------------------------------------------------------------- interpenetration


@dataclass
class PenetrationSetup:
    """Precomputed candidate pairs for :func:`interpenetration` on one head (neutral).

    blockers: list of (part label, face indices (Fb,)) parts that can be penetrated (only the
    patch of faces within 3 x ``near`` of the candidates);
    cand: list per blocker of candidate vertex indices (n_b,) of *other* parts near it;
    side0: list per blocker of (n_b,) signed distances at neutral; near_vertex0: their nearest
    blocker vertex at neutral; num_candidates: size of the union; margin: dead band (units).
    """

    blockers: list[tuple[int, np.ndarray]]
    cand: list[np.ndarray]
    side0: list[np.ndarray]
    near_vertex0: list[np.ndarray]
    num_candidates: int
    margin: float


def _signed_distance(points: np.ndarray, vertices: np.ndarray, faces: np.ndarray, k: int = 4):
    """Signed distance to a triangle set (local exact search; blockers are dense meshes).

    The closest point is searched exactly among the faces incident to the ``k`` nearest
    vertices of the set; the sign is that of the offset along the barycentrically interpolated
    (area-weighted) vertex normal at the closest point (positive = the side normals point to).

    points (P,3) -> (signed (P,), nearest vertex index into ``vertices`` (P,)).
    """
    from facerig.geometry.correspondence import closest_point_on_triangles

    used = np.unique(faces)
    fn = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    vn = np.zeros((vertices.shape[0], 3))
    for c in range(3):
        np.add.at(vn, faces[:, c], fn)
    kk = int(min(k, used.size))
    _, j = cKDTree(vertices[used]).query(points, k=kk)
    j = j.reshape(len(points), kk)
    q = used[j]  # (P,kk)
    # vertex -> incident faces, padded with -1
    fv = faces.ravel()
    order = np.argsort(fv, kind="stable")
    counts = np.bincount(fv, minlength=vertices.shape[0])
    start = np.concatenate([[0], np.cumsum(counts)])
    maxdeg = int(counts.max()) if counts.size else 0
    inc = -np.ones((vertices.shape[0], maxdeg), np.int64)
    rank = np.arange(fv.size) - start[fv[order]]
    inc[fv[order], rank] = order // 3
    cand = inc[q].reshape(len(points), -1)  # (P, kk*maxdeg)
    valid = cand >= 0
    cf = np.where(valid, cand, 0)
    tris = vertices[faces[cf]]  # (P,C,3,3)
    cp, bary = closest_point_on_triangles(points[:, None, :], tris)
    d = np.linalg.norm(cp - points[:, None, :], axis=2)
    d = np.where(valid, d, np.inf)
    best = np.argmin(d, axis=1)
    ar = np.arange(len(points))
    dist = d[ar, best]
    bf = cf[ar, best]
    n = np.einsum("pk,pkc->pc", bary[ar, best], vn[faces[bf]])
    sign = np.sign(np.einsum("pc,pc->p", points - cp[ar, best], n))
    sign[sign == 0] = 1
    return sign * dist, q[:, 0]


def penetration_setup(
    neutral: np.ndarray,
    faces: np.ndarray,
    parts: np.ndarray | None = None,
    *,
    mm_per_unit: float = 1.0,
    near_mm: float = 5.0,
    margin_mm: float = 0.2,
    max_boundary_ratio: float = 0.1,
    min_faces: int = 20,
) -> PenetrationSetup:
    """Find the part pairs that matter for interpenetration at neutral (see :func:`interpenetration`).

    Args:
        neutral: (V, 3); faces: (F, 3) int; parts: (V,) labels (default: connected components).
        mm_per_unit: mm per mesh unit; near_mm: candidate radius; margin_mm: dead band.
        max_boundary_ratio: parts with at most this share of boundary edges are "nearly
            closed" blockers (eyeballs, teeth); the largest part (the skin) is always a blocker.
        min_faces: smaller parts are never blockers.
    """
    v = np.asarray(neutral, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    parts = connected_components(len(v), f) if parts is None else np.asarray(parts, dtype=np.int64)
    fpart = parts[f[:, 0]]
    labels, fcounts = np.unique(fpart, return_counts=True)
    near = near_mm / mm_per_unit
    margin = margin_mm / mm_per_unit
    largest = int(labels[np.argmax(fcounts)]) if labels.size else -1
    blockers, cand, side0, nf0 = [], [], [], []
    union: set[int] = set()
    all_tree = cKDTree(v)
    for lab, cnt in zip(labels, fcounts):
        if cnt < min_faces:
            continue
        fb = np.flatnonzero(fpart == lab)
        if lab != largest and boundary_ratio(f[fb]) > max_boundary_ratio:
            continue
        bv = np.unique(f[fb])
        hits = all_tree.query_ball_point(v[bv], r=near)
        near_idx = (
            np.unique(np.concatenate([np.asarray(h, dtype=np.int64) for h in hits]))
            if len(hits)
            else np.zeros(0, np.int64)
        )
        near_idx = near_idx[parts[near_idx] != lab]
        if near_idx.size == 0:
            continue
        sd, qv = _signed_distance(v[near_idx], v, f[fb])
        keep = (np.abs(sd) > margin) & (np.abs(sd) < near)
        if not keep.any():
            continue
        # only the blocker faces around the candidates can be crossed: keep that patch
        ci = near_idx[keep]
        fc = v[f[fb]].mean(1)
        hits = cKDTree(v[ci]).query(fc, distance_upper_bound=3 * near)[0]
        local = np.isfinite(hits)
        fb_local = fb[local]
        ok = np.isin(qv[keep], np.unique(f[fb_local]))
        if not ok.any():
            continue
        blockers.append((int(lab), fb_local))
        cand.append(ci[ok])
        side0.append(sd[keep][ok])
        nf0.append(qv[keep][ok])
        union.update(ci[ok].tolist())
    return PenetrationSetup(blockers, cand, side0, nf0, len(union), margin)


def interpenetration(
    neutral: np.ndarray,
    faces: np.ndarray,
    deltas: np.ndarray,
    parts: np.ndarray | None = None,
    *,
    mm_per_unit: float = 1.0,
    setup: PenetrationSetup | None = None,
    **setup_kw: Any,
) -> np.ndarray:
    """Interpenetration ratio per shape (RigAnyFace's "ratio of interpenetrating vertices").

    Definition (exact):

    1. Parts are connected components (or ``parts``). A part is a *blocker* if it has >= 20
       faces and is closed or nearly closed (<= 10 % boundary edges: eyeballs, teeth, gums) or
       is the largest part (the skin, whose mouth/eye sockets enclose the teeth and eyeballs).
    2. For each blocker B, the *candidates* are vertices of other parts whose distance to B at
       neutral is between ``margin`` (0.2 mm) and ``near`` (5 mm): only parts that are near each
       other at neutral count (eyeball vs lids, teeth vs lips/gums); tiny or far-apart parts
       never do. Distance and side of a candidate are measured to its closest point ``c`` on B
       (searched among the faces around its 4 nearest B vertices): distance ``|p - c|``, side =
       sign of ``(p - c) . n_c`` with ``n_c`` the interpolated area-weighted vertex normal of B.
    3. In a posed shape (neutral + delta, B posed too), a candidate *penetrates* B if its side
       changed and it lies more than ``margin`` from posed B. (Either direction counts, so the
       metric does not depend on the mesh's normal orientation; a candidate whose relative
       motion to its neutral nearest vertex of B is below ``0.5 * |distance at neutral|``
       cannot cross and is skipped for speed.)
    4. Ratio per shape = number of distinct candidate vertices penetrating any blocker /
       number of distinct candidate vertices. 0 when the head has no candidates.

    Args:
        neutral: (V, 3); faces: (F, 3); deltas: (K, V, 3) (same units); parts: (V,) or None.
        mm_per_unit: mm per unit; setup: reuse a :func:`penetration_setup` (e.g. for GT and
            prediction of the same head); setup_kw: passed to :func:`penetration_setup`.

    Returns:
        (K,) float64 ratios in [0, 1].
    """
    v = np.asarray(neutral, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    d = np.asarray(deltas, dtype=np.float64)
    if setup is None:
        setup = penetration_setup(v, f, parts, mm_per_unit=mm_per_unit, **setup_kw)
    K = d.shape[0]
    out = np.zeros(K)
    if setup.num_candidates == 0:
        return out
    for k in range(K):
        posed = v + d[k]
        hit: set[int] = set()
        for (_lab, fb), ci, s0, nv in zip(setup.blockers, setup.cand, setup.side0, setup.near_vertex0):
            bd = d[k][nv]  # blocker motion at the nearest blocker vertex
            rel = np.linalg.norm(d[k][ci] - bd, axis=1)
            move = rel >= 0.5 * np.abs(s0)
            if not move.any():
                continue
            sd, _ = _signed_distance(posed[ci[move]], posed, f[fb])
            flipped = (np.sign(sd) != np.sign(s0[move])) & (np.abs(sd) > setup.margin)
            hit.update(ci[move][flipped].tolist())
        out[k] = len(hit) / setup.num_candidates
    return out

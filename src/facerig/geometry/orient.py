"""Which way a head mesh faces, from its shape alone: a cheap ranking of the 24 axis-aligned
orientations (``up``, ``forward``), for the head check and ``--auto-orient`` (which confirms it
with the network's face probe on the first few only).

The mesh's open seams are stitched first (:func:`facerig.geometry.weld.weld_seams`, as the rig
does): an exporter's polygon soup (every quad its own piece) otherwise has no parts, creases or
boundary to speak of. Two kinds of evidence, both exact under the 24 rotations (signed
permutations of the axes):

1. **Symmetry** (:func:`symmetry_residuals`): a head is mirror-symmetric across its mid-plane.
   Surface samples are reflected across the plane perpendicular to each coordinate axis (its
   offset fitted by a few ICP-like steps) and matched to their nearest samples; the axis with the
   smallest mean residual is the left-right one, which leaves 8 of the 24 candidates
   (:func:`mirror_axis`).
2. **Shape cues** (:func:`orientation_features`): 3-vectors that turn with the mesh: where the
   mesh's vertices are denser than its area (faces carry the detail: eyes, nostrils, lips), where
   its sharp creases are, where its eyeball-like parts sit (small separate near-spheres: in front
   and above the middle on every head that has them), where its open boundary is (a neck cut,
   the back of a face mask), where its convex hull is flat (a neck cut or a bust's base), its
   skewness along each axis and the odd moment of its normals (the flatter face against the
   rounder skull). Their expected directions in the canonical frame (+Y up, face toward +Z) are
   :data:`CUE_STATS`, measured on generated validation heads (``benchmarks/orientation.py
   --fit``), never on the public heads the benchmark scores.

:func:`rank_orientations` adds the two: the candidates whose left-right axis is the symmetric
one first, ordered by how well the cues agree with an upright, forward-facing head.
"""

from __future__ import annotations

import numpy as np

from facerig.geometry.rows import cross_rows, norm_rows

#: The 24 orientations (``up``, ``forward``) of a mesh whose axes are the coordinate axes (as
#: :data:`facerig.models.raf.probe.ORIENTATIONS`).
ORIENTATIONS = tuple(
    (u, f) for u in ("+y", "+z", "-y", "-z", "+x", "-x") for f in ("+z", "-y", "-z", "+y", "+x", "-x") if u[1] != f[1]
)

CUES = ("detail", "crease", "eyes", "boundary", "hull", "skew", "normal3")

#: Each cue's mean and standard deviation (x, y, z) over the 24 generated validation heads
#: (``facerig data make-eval``'s output less its ``external`` group, which holds public heads) in
#: their canonical frame (``benchmarks/orientation.py --fit``, never the public heads the
#: benchmark scores). :func:`cue_score` standardises a candidate's canonical cue by them, clips it
#: to +-:data:`CLIP` (one odd mesh feature, a robot's box edges, cannot outvote the rest) and
#: weighs it by mean / deviation, at most :data:`WEIGHT_CAP`; x, the left-right axis, carries no
#: evidence and is skipped.
CUE_STATS = {
    "detail": ((0.000258, 0.01527, 0.07552), (0.002135, 0.01418, 0.01911)),
    "crease": ((-1.541e-05, -0.01086, 0.05659), (0.001605, 0.01826, 0.01762)),
    "eyes": ((0.0002699, 0.08845, 0.09815), (0.009077, 0.02435, 0.03753)),
    "boundary": ((-0.0001834, -0.05466, 0.04057), (0.001735, 0.06629, 0.02706)),
    "hull": ((0.004432, -0.05193, -0.08589), (0.01384, 0.04442, 0.0422)),
    "skew": ((-0.01239, 0.01304, -0.3819), (0.05881, 0.265, 0.1677)),
    "normal3": ((0.001691, 0.06661, 0.02855), (0.007267, 0.03187, 0.03456)),
}
CLIP = 2.0

#: The largest weight (mean / deviation) of one cue component: the validation heads are one
#: family, so a cue's spread there understates its spread over heads in general (with no cap the
#: eye cue's height alone would outvote every other cue).
WEIGHT_CAP = 2.0

#: How much a candidate loses per unit of its left-right axis's mirror residual above the best
#: axis's (relative): an axis twice as asymmetric as the best one costs ``SYMMETRY_WEIGHT``.
SYMMETRY_WEIGHT = 10.0

#: Eyeball-like parts (:func:`eyeball_parts`): separate parts under this fraction of the area,
#: with at least :data:`EYE_MIN_VERTICES` vertices, whose vertices lie on a sphere (radius
#: deviation over mean radius under :data:`EYE_SPHERE_CV`) of radius under
#: :data:`EYE_MAX_RADIUS` of the bounding-box diagonal.
EYE_MAX_AREA = 0.15
EYE_MIN_VERTICES = 12
EYE_SPHERE_CV = 0.1
EYE_MAX_RADIUS = 0.2

#: Convex-hull facets within this many degrees of an axis count as flat support along it
#: (:func:`hull_flatness`).
HULL_FLAT_DEGREES = 20.0


def surface_samples(
    vertices: np.ndarray, faces: np.ndarray, n: int = 4000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Area-weighted random points on the surface and their face normals: (n, 3), (n, 3)."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    tri = v[f]
    cross = cross_rows(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # = np.cross, np.linalg.norm(axis=1)
    area = norm_rows(cross)
    rng = np.random.default_rng(seed)
    p = area / area.sum() if area.sum() > 0 else np.full(len(f), 1.0 / len(f))
    idx = rng.choice(len(f), size=n, p=p)
    r1, r2 = rng.random(n), rng.random(n)
    s = np.sqrt(r1)
    bary = np.stack([1 - s, s * (1 - r2), s * r2], 1)
    pts = np.einsum("nk,nkc->nc", bary, tri[idx])
    nrm = cross[idx] / np.maximum(area[idx], 1e-300)[:, None]
    return pts, nrm


def symmetry_residuals(points: np.ndarray, iterations: int = 4) -> np.ndarray:
    """(3,) mean distance from each sample reflected across the plane perpendicular to axis
    x, y, z (its offset refined by ICP-like steps) to the nearest sample, over the samples'
    bounding-box diagonal: small for the mirror axis of a symmetric shape. points (N, 3)."""
    from scipy.spatial import cKDTree

    p = np.asarray(points, np.float64)
    diag = float(np.linalg.norm(p.max(0) - p.min(0))) or 1.0
    tree = cKDTree(p)
    out = np.zeros(3)
    for a in range(3):
        m = float(np.median(p[:, a]))
        for it in range(iterations + 1):
            q = p.copy()
            q[:, a] = 2 * m - q[:, a]
            d, i = tree.query(q)
            if it < iterations:
                m += 0.5 * float(np.median(p[i, a] - q[:, a]))
        out[a] = float(d.mean()) / diag
    return out


def eyeball_parts(vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Eyeball-like parts of a mesh: (E, 4) rows of part area and sphere centre (x, y, z), one per
    separate part that is small (under :data:`EYE_MAX_AREA` of the area), has at least
    :data:`EYE_MIN_VERTICES` vertices and lies on a sphere (:data:`EYE_SPHERE_CV`,
    :data:`EYE_MAX_RADIUS`): eyeballs, cornea shells, a robot's eye domes. vertices (V, 3),
    faces (F, 3), labels (V,) part of each vertex, area (F,) face areas."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    fl = labels[f[:, 0]]
    part_area = np.bincount(fl, area)
    total = float(area.sum()) or 1.0
    used = np.unique(f)
    diag = float(np.linalg.norm(v[used].max(0) - v[used].min(0))) or 1.0
    cand = np.flatnonzero((part_area > 0) & (part_area < EYE_MAX_AREA * total))
    counts = np.bincount(labels[used], minlength=len(part_area))
    rows = []
    for c in cand[counts[cand] >= EYE_MIN_VERTICES]:
        p = v[used[labels[used] == c]]
        A = np.c_[2 * p, np.ones(len(p))]
        sol = np.linalg.lstsq(A, (p**2).sum(1), rcond=None)[0]
        r = np.linalg.norm(p - sol[:3], axis=1)
        rm = float(r.mean())
        if rm > 0 and float(r.std()) < EYE_SPHERE_CV * rm and rm < EYE_MAX_RADIUS * diag:
            rows.append((part_area[c], *sol[:3]))
    return np.array(rows, np.float64).reshape(-1, 4)


def hull_flatness(vertices: np.ndarray) -> np.ndarray:
    """(3,) how much flatter the convex hull of vertices (V, 3) is on the + side of each axis than
    on the - side: the area of hull facets facing within :data:`HULL_FLAT_DEGREES` of +axis minus
    that of those facing -axis, over the hull's area (a neck cut or a bust's base is a flat
    bottom; zeros for a flat or degenerate point set)."""
    from scipy.spatial import ConvexHull, QhullError

    v = np.asarray(vertices, np.float64)
    try:
        hull = ConvexHull(v)
    except (QhullError, ValueError):
        return np.zeros(3)
    tri = v[hull.simplices]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    normal = hull.equations[:, :3]  # outward unit normals
    cos = np.cos(np.radians(HULL_FLAT_DEGREES))
    total = float(area.sum()) or 1.0
    return np.array([(area[normal[:, a] > cos].sum() - area[normal[:, a] < -cos].sum()) / total for a in range(3)])


def orientation_features(
    vertices: np.ndarray, faces: np.ndarray, n_samples: int = 4000, seed: int = 0, weld: float | None = None
) -> dict[str, np.ndarray]:
    """The shape cues of the module doc, each a (3,) vector in the mesh's own axes, lengths
    over the bounding-box diagonal: ``detail``, ``crease``, ``parts`` (small separate parts of
    any shape; not scored), ``eyes`` (:func:`eyeball_parts`), ``boundary``, ``hull``
    (:func:`hull_flatness`), ``skew``, ``normal3``, plus ``symmetry`` (3,)
    (:func:`symmetry_residuals`). vertices (V, 3), faces (F, 3) (only the vertices faces use
    count); open seams are stitched first within ``weld`` of the diagonal (default
    :data:`facerig.geometry.weld.DEFAULT_WELD_TOLERANCE`; 0: as they are)."""
    from facerig.geometry.components import connected_components
    from facerig.geometry.weld import DEFAULT_WELD_TOLERANCE, weld_seams

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    v, f, _ = weld_seams(v, f, DEFAULT_WELD_TOLERANCE if weld is None else float(weld))
    used = np.unique(f)
    lo, hi = v[used].min(0), v[used].max(0)
    diag = float(np.linalg.norm(hi - lo)) or 1.0
    tri = v[f]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(cross, axis=1)
    A = float(area.sum()) or 1.0
    c_area = (area[:, None] * tri.mean(1)).sum(0) / A
    out: dict[str, np.ndarray] = {}
    out["detail"] = (v[used].mean(0) - c_area) / diag
    # creases: edges weighted by length x dihedral angle
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    fid = np.tile(np.arange(len(f)), 3)
    key = np.sort(e, axis=1)
    order = np.lexsort((key[:, 1], key[:, 0]))
    ks, fs = key[order], fid[order]
    same = (ks[1:] == ks[:-1]).all(1)
    i0 = np.flatnonzero(same)
    fn = cross / np.maximum(area, 1e-300)[:, None]
    ang = np.arccos(np.clip(np.einsum("ij,ij->i", fn[fs[i0]], fn[fs[i0 + 1]]), -1, 1))
    mid = 0.5 * (v[ks[i0, 0]] + v[ks[i0, 1]])
    w = ang * np.linalg.norm(v[ks[i0, 0]] - v[ks[i0, 1]], axis=1)
    out["crease"] = ((w[:, None] * mid).sum(0) / w.sum() - c_area) / diag if w.sum() > 0 else np.zeros(3)
    # open boundary: edges used by one face
    counts_first = np.r_[True, ~same] & np.r_[~same, True]
    b = ks[counts_first]
    if len(b):
        bl = np.linalg.norm(v[b[:, 0]] - v[b[:, 1]], axis=1)
        bm = 0.5 * (v[b[:, 0]] + v[b[:, 1]])
        out["boundary"] = ((bl[:, None] * bm).sum(0) / max(bl.sum(), 1e-300) - c_area) / diag
    else:
        out["boundary"] = np.zeros(3)
    # small separate parts (eyeballs, teeth, ...): area-weighted centroid of parts under 15 % of the area
    labels = connected_components(len(v), f)
    fl = labels[f[:, 0]]
    part_area = np.bincount(fl, area)
    small = part_area[fl] < EYE_MAX_AREA * A
    if small.any() and area[small].sum() > 0:
        out["parts"] = ((area[small, None] * tri[small].mean(1)).sum(0) / area[small].sum() - c_area) / diag
    else:
        out["parts"] = np.zeros(3)
    eyes = eyeball_parts(v, f, labels, area)
    if len(eyes):
        out["eyes"] = ((eyes[:, :1] * eyes[:, 1:]).sum(0) / eyes[:, 0].sum() - c_area) / diag
    else:
        out["eyes"] = np.zeros(3)
    out["hull"] = hull_flatness(v[used])
    pts, nrm = surface_samples(v, f, n_samples, seed)
    x = pts - pts.mean(0)
    sd = x.std(0)
    out["skew"] = (x**3).mean(0) / np.maximum(sd, 1e-300) ** 3
    out["normal3"] = (nrm**3).mean(0)
    out["symmetry"] = symmetry_residuals(pts)
    return out


def mirror_axis(features: dict) -> tuple[int, float]:
    """The mirror (left-right) axis of :func:`orientation_features` (0, 1, 2 for x, y, z) and how
    clear it is: the second-smallest mirror residual over the smallest (about 1 for a shape with
    no mirror plane or several; 1.7, a robot's boxy head, to 7.3 on the validation and public heads)."""
    sym = np.asarray(features["symmetry"], np.float64)
    order = np.argsort(sym)
    return int(order[0]), float(sym[order[1]] / max(float(sym[order[0]]), 1e-12))


def _axis_index(axis: str) -> tuple[int, float]:
    return "xyz".index(axis[1]), (1.0 if axis[0] == "+" else -1.0)


def candidate_matrix(up: str, forward: str) -> np.ndarray:
    """(3, 3) rotation taking the mesh's axes to the canonical ones (rows: right, up, forward),
    as :func:`facerig.geometry.frame.orientation_matrix`."""
    from facerig.geometry.frame import orientation_matrix

    return orientation_matrix(up, forward)


def cue_score(features: dict[str, np.ndarray], up: str, forward: str, stats: dict | None = None) -> float:
    """How well the shape cues agree with ``up``/``forward`` (higher is better): the sum over
    cues and canonical y, z components of clip(mean / sd, +-WEIGHT_CAP) x clip((R @ cue) / sd,
    +-CLIP) (:data:`CUE_STATS`)."""
    stats = CUE_STATS if stats is None else stats
    R = candidate_matrix(up, forward)
    total = 0.0
    for k, (mean, sd) in stats.items():
        if k not in features:
            continue
        mean, sd = np.asarray(mean, np.float64), np.asarray(sd, np.float64)
        z = np.clip((R @ np.asarray(features[k], np.float64)) / sd, -CLIP, CLIP)
        total += float(np.clip(mean / sd, -WEIGHT_CAP, WEIGHT_CAP)[1:] @ z[1:])
    return total


def rank_orientations(
    vertices: np.ndarray, faces: np.ndarray, *, features: dict | None = None, stats: dict | None = None
) -> list[tuple[str, str, float]]:
    """The 24 :data:`ORIENTATIONS` ranked by the shape evidence: ``(up, forward, score)`` best
    first (higher score is better): :func:`cue_score` minus :data:`SYMMETRY_WEIGHT` x the
    relative excess mirror residual of the candidate's left-right axis over the smallest one.
    vertices (V, 3), faces (F, 3); ``features`` from :func:`orientation_features` when known."""
    feats = orientation_features(vertices, faces) if features is None else features
    sym = np.asarray(feats["symmetry"], np.float64)
    best = max(float(sym.min()), 1e-12)
    rows = []
    for up, fwd in ORIENTATIONS:
        right = candidate_matrix(up, fwd)[0]
        axis = int(np.argmax(np.abs(right)))
        penalty = SYMMETRY_WEIGHT * (sym[axis] / best - 1.0)
        rows.append((up, fwd, cue_score(feats, up, fwd, stats) - penalty))
    return sorted(rows, key=lambda r: -r[2])

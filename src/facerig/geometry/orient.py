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
   its sharp creases are, where its eyeball-like parts sit (small separate near-spheres), relative
   to the area centroid and in the bounding box (at the front surface), where its open boundary is
   (a neck cut, the back of a face mask), where its convex hull is flat (a neck cut or a bust's
   base), its skewness along each axis, the odd moment of its normals (the flatter face against
   the rounder skull) and where it is wide (a cranium above a narrower jaw and neck); and where
   it ends forward (the nose, a snout, a beak or the chin: below the eyes).

:func:`rank_orientations` adds the two: the candidates whose left-right axis is the symmetric
one first, ordered by a model's log-odds that the cues, turned into the candidate's frame, are
those of an upright head facing +Z (:func:`prior_score`, :data:`PRIOR_MODEL`: a softmax over the
24 candidates fitted on generated heads, human and creature-like, by
``benchmarks/orientation_fit.py``; never on the public heads the benchmark scores).
"""

from __future__ import annotations

import numpy as np

from facerig.geometry.rows import cross_rows, norm_rows

#: The 24 orientations (``up``, ``forward``) of a mesh whose axes are the coordinate axes (as
#: :data:`facerig.models.raf.probe.ORIENTATIONS`).
ORIENTATIONS = tuple(
    (u, f) for u in ("+y", "+z", "-y", "-z", "+x", "-x") for f in ("+z", "-y", "-z", "+y", "+x", "-x") if u[1] != f[1]
)

CUES = ("detail", "crease", "eyes", "boundary", "hull", "skew", "normal3", "width", "eyebox")

#: Cues scored also by how typical their value is (a clipped Gaussian log-likelihood, not only its
#: sign), with the canonical components (1: y, 2: z) scored so: where the eyes sit from the area
#: centroid (``eyes``: above it and in front), how far forward in the bounding box (``eyebox``: at
#: the front surface, not in the middle of the depth; its height is left out, as ears, horns,
#: hair and necks stretch the box up and down) and which side of the hull is flat (``hull``: the
#: bottom, a base or a neck cut).
TYPICAL_CUES = {"eyes": (1, 2), "eyebox": (2,), "hull": (1,)}

#: Standardised cue values are clipped to +-CLIP (one odd mesh feature, a robot's box edges, cannot
#: outvote the rest).
CLIP = 3.0

#: A :data:`TYPICAL_CUES` cue counts as atypical, no more, beyond this many spreads from its mean
#: (a Nefertiti's flat-topped crown is as atypical as any other flat top).
TYPICAL_CLIP = 2.0

#: The prior's model (:func:`prior_terms`, :func:`prior_score`): a softmax over the 24 candidates
#: fitted on generated heads in their canonical frame (``python benchmarks/orientation_fit.py``:
#: ICT and MakeHuman identities, default and ``--style strong`` stylisation (creature warps, anime
#: eyes, snouts, face-mask cuts), never the public heads the benchmark scores). ``scale``: each
#: cue's (y, z) spread over all candidates; ``linear``: the weight of each clipped, standardised
#: (y, z) component; ``typical``: the (y, z) mean and spread of a :data:`TYPICAL_CUES` cue on
#: upright heads that have it; ``quadratic``: the weight of its typicality.
PRIOR_MODEL: dict = {
    "scale": {
        "detail": (0.04281, 0.04281),
        "crease": (0.03105, 0.03105),
        "eyes": (0.07308, 0.07308),
        "boundary": (0.06851, 0.06851),
        "hull": (0.09775, 0.09775),
        "skew": (0.3081, 0.3081),
        "normal3": (0.07453, 0.07453),
        "width": (0.2386, 0.2386),
        "eyebox": (0.1516, 0.1516),
        "snout": 0.1509,
    },
    "linear": {
        "detail": (0.4369, 0.641),
        "crease": (-0.3674, 0.4921),
        "eyes": (0.4496, 0.1188),
        "boundary": (-0.5708, 0.2944),
        "hull": (-0.1482, -0.4524),
        "skew": (0.5142, -0.3098),
        "normal3": (0.5365, 0.4173),
        "width": (0.5094, -0.3125),
        "eyebox": (0.0587, 0.3062),
        "snout": -0.1887,
    },
    "typical": {
        "eyes": ((0.07169, 0.08084), (0.0489, 0.06473)),
        "eyebox": ((0.09747, 0.2058), (0.08778, 0.1393)),
        "hull": ((-0.03788, -0.1188), (0.05259, 0.1001)),
    },
    "quadratic": {"eyes": (0.3268, 0.0999), "eyebox": (0.0228,), "hull": (0.3598,)},
}

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

#: :func:`extreme_points`: the slab, as a fraction of the extent, that makes a direction's end.
TIP_DEPTH = 0.1

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
    return mirror_planes(points, iterations)[0]


def mirror_planes(points: np.ndarray, iterations: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """:func:`symmetry_residuals` (3,) and the fitted offset (3,) of each axis's mirror plane
    (the plane is coordinate ``a`` = offset ``a``). points (N, 3)."""
    from scipy.spatial import cKDTree

    p = np.asarray(points, np.float64)
    diag = float(np.linalg.norm(p.max(0) - p.min(0))) or 1.0
    tree = cKDTree(p)
    out, offset = np.zeros(3), np.zeros(3)
    for a in range(3):
        m = float(np.median(p[:, a]))
        for it in range(iterations + 1):
            q = p.copy()
            q[:, a] = 2 * m - q[:, a]
            d, i = tree.query(q)
            if it < iterations:
                m += 0.5 * float(np.median(p[i, a] - q[:, a]))
        out[a], offset[a] = float(d.mean()) / diag, m
    return out, offset


def width_profile(points: np.ndarray, axis: int, offset: float) -> np.ndarray:
    """(3,) where a head is wide: for each axis b other than the mirror ``axis`` (component 0
    there), the correlation over the samples between coordinate b and the distance from the
    mirror plane (coordinate ``axis`` = ``offset``): positive when the shape widens toward +b (a
    cranium above a narrower jaw and neck). points (N, 3)."""
    p = np.asarray(points, np.float64)
    dist = np.abs(p[:, axis] - offset)
    out = np.zeros(3)
    if dist.std() <= 0:
        return out
    for b in range(3):
        if b != axis and p[:, b].std() > 0:
            out[b] = float(np.corrcoef(p[:, b], dist)[0, 1])
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


def extreme_points(points: np.ndarray, centre: np.ndarray, diag: float) -> np.ndarray:
    """(6, 3) where a shape ends in each direction +x, -x, +y, -y, +z, -z: the mean of the samples
    within :data:`TIP_DEPTH` of the extent from the extreme along it, relative to ``centre``, over
    ``diag`` (forward: the nose, a snout, a beak or the chin). points (N, 3)."""
    p = np.asarray(points, np.float64)
    lo, hi = p.min(0), p.max(0)
    out = np.zeros((6, 3))
    for a in range(3):
        for j, sign in enumerate((1.0, -1.0)):
            x = sign * p[:, a]
            out[2 * a + j] = (p[x >= x.max() - TIP_DEPTH * (hi[a] - lo[a])].mean(0) - centre) / diag
    return out


def _direction_row(vector: np.ndarray) -> int:
    """The row of :func:`extreme_points` for an axis-aligned unit vector (3,)."""
    a = int(np.argmax(np.abs(vector)))
    return 2 * a + (0 if vector[a] > 0 else 1)


def orientation_features(
    vertices: np.ndarray, faces: np.ndarray, n_samples: int = 4000, seed: int = 0, weld: float | None = None
) -> dict[str, np.ndarray]:
    """The shape cues of the module doc, each a (3,) vector in the mesh's own axes, lengths
    over the bounding-box diagonal: ``detail``, ``crease``, ``parts`` (small separate parts of
    any shape; not scored), ``eyes`` (:func:`eyeball_parts`; from the area centroid),
    ``eyebox`` (the eyes' centre from the bounding box's, over its extent per axis), ``boundary``,
    ``hull`` (:func:`hull_flatness`), ``skew``, ``normal3``, ``width`` (:func:`width_profile`,
    a correlation), plus ``tips`` (6, 3) (:func:`extreme_points`) and ``symmetry`` (3,)
    (:func:`symmetry_residuals`); zeros for the eye cues of a head with no eyeball-like parts.
    vertices (V, 3), faces (F, 3) (only the vertices faces use
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
        eye_centre = (eyes[:, :1] * eyes[:, 1:]).sum(0) / eyes[:, 0].sum()
        out["eyes"] = (eye_centre - c_area) / diag
        out["eyebox"] = (eye_centre - 0.5 * (lo + hi)) / np.maximum(hi - lo, 1e-12 * diag)
    else:
        out["eyes"] = np.zeros(3)
        out["eyebox"] = np.zeros(3)
    out["hull"] = hull_flatness(v[used])
    pts, nrm = surface_samples(v, f, n_samples, seed)
    x = pts - pts.mean(0)
    sd = x.std(0)
    out["skew"] = (x**3).mean(0) / np.maximum(sd, 1e-300) ** 3
    out["normal3"] = (nrm**3).mean(0)
    out["tips"] = extreme_points(pts, c_area, diag)
    out["symmetry"], planes = mirror_planes(pts)
    axis = int(np.argmin(out["symmetry"]))
    out["width"] = width_profile(pts, axis, float(planes[axis]))
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


def prior_terms(features: dict[str, np.ndarray], up: str, forward: str, model: dict | None = None) -> np.ndarray:
    """(2 len(CUES) + 1 + the number of typical components,) the prior's evidence terms for
    ``up``/``forward``: each cue turned into the candidate's frame (R @ cue; x, the left-right
    axis, carries no evidence and is dropped), its (y, z) divided by the model's ``scale`` and
    clipped to +-:data:`CLIP`; the height of the front end (``tips`` in the forward direction)
    over the eyes, scaled and clipped alike; then for each :data:`TYPICAL_CUES` component
    -min(((R @ cue - mean) / spread)^2, TYPICAL_CLIP^2). Terms of cues the mesh lacks (a head with
    no eyeball-like parts) are 0."""
    model = PRIOR_MODEL if model is None else model
    R = candidate_matrix(up, forward)
    out = []
    for k in CUES:
        v = (R @ np.asarray(features.get(k, np.zeros(3)), np.float64))[1:]
        out += list(np.clip(v / np.asarray(model["scale"][k], np.float64), -CLIP, CLIP))
    eyes = np.asarray(features.get("eyes", np.zeros(3)), np.float64)
    if "tips" in features and eyes.any():  # the front end (nose, snout, beak, chin) below the eyes
        tip = np.asarray(features["tips"], np.float64)[_direction_row(R[2])]
        out.append(float(np.clip(R[1] @ (tip - eyes) / model["scale"]["snout"], -CLIP, CLIP)))
    else:
        out.append(0.0)
    for k in TYPICAL_CUES:
        cue = np.asarray(features.get(k, np.zeros(3)), np.float64)
        comps = list(TYPICAL_CUES[k])
        if not cue.any():
            out += [0.0] * len(comps)
            continue
        mean, sd = (np.asarray(x, np.float64) for x in model["typical"][k])
        v = (R @ cue)[1:]
        out += list(-np.minimum((v - mean) ** 2 / sd**2, TYPICAL_CLIP**2)[[c - 1 for c in comps]])
    return np.asarray(out, np.float64)


def prior_weights(model: dict | None = None) -> np.ndarray:
    """The weights of :func:`prior_terms`, in its order."""
    model = PRIOR_MODEL if model is None else model
    w = [x for k in CUES for x in model["linear"][k]] + [model["linear"]["snout"]]
    w += [x for k in TYPICAL_CUES for x in model["quadratic"][k]]
    return np.asarray(w, np.float64)


def prior_score(features: dict[str, np.ndarray], up: str, forward: str, model: dict | None = None) -> float:
    """How well the shape cues agree with ``up``/``forward`` (higher is better; the model's
    log-odds, up to a constant): :func:`prior_terms` @ :func:`prior_weights`."""
    return float(prior_terms(features, up, forward, model) @ prior_weights(model))


def rank_orientations(
    vertices: np.ndarray, faces: np.ndarray, *, features: dict | None = None, model: dict | None = None
) -> list[tuple[str, str, float]]:
    """The 24 :data:`ORIENTATIONS` ranked by the shape evidence: ``(up, forward, score)`` best
    first (higher score is better): :func:`prior_score` minus :data:`SYMMETRY_WEIGHT` x the
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
        rows.append((up, fwd, prior_score(feats, up, fwd, model) - penalty))
    return sorted(rows, key=lambda r: -r[2])

"""Random training / evaluation heads with exact ground-truth ARKit deltas.

:func:`generate_sample` composes independent steps, each a plain function
``step(sample, rng, config) -> Sample`` that training code can also call on its own:

(a) :func:`identity_sample`  random identity from a :class:`~facerig.data.families.HeadFamily`
    (sometimes exaggerated: PCA weights ~ N(0, e^2), e up to 3).
(b) :func:`remove_parts`     drop interior parts by region (eyeballs, teeth/tongue, lashes, eye
    extras = sockets/occlusion/lacrimal/blend, mouth socket).
(c) :func:`reframe`          cut the skin by planes in the canonical frame (+Y up, face +Z): face
    mask only, head without neck, back of head removed (ICT has no shoulders, so "with shoulders"
    does not exist; the full ICT head = head with neck).
(d) :func:`stylise`          smooth random space warp ``W`` (per-axis stretch + a few Gaussian
    displacement bumps, Lipschitz-bounded so it stays injective); GT = W(neutral + delta) - W(neutral).
(e) :func:`remesh_sample`    remesh to 1k-50k vertices (``facerig.geometry.remesh``), GT by
    barycentric interpolation within the same part; landmarks -> closest new vertex in the part.
(f) :func:`change_units`     random units (mm, cm, dm, m, in, arbitrary) and translation;
    ``mm_per_unit`` updated, deltas scaled.

Every step records what it did in ``sample.info["steps"][name]``. Each step draws from its own
random stream (``SeedSequence([seed, split]).spawn``), so a sample is a pure function of
``(family, seed, config)`` and switching one step off does not change the others' draws.
Removed/cut vertices are dropped with their faces (and unreferenced vertices), and the GT rows
follow (:func:`subset`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from facerig.data.families import SPLIT_TAGS, HeadFamily

#: Removable interior part groups -> region names (regions a family lacks are ignored).
PART_GROUPS: dict[str, tuple[str, ...]] = {
    "eyeballs": ("eyeball_left", "eyeball_right"),
    "teeth_tongue": ("teeth", "gums_tongue"),
    "lashes": ("eyelashes_left", "eyelashes_right"),
    "eye_extras": (
        "eye_socket_left",
        "eye_socket_right",
        "eye_occlusion_left",
        "eye_occlusion_right",
        "lacrimal_left",
        "lacrimal_right",
        "eye_blend_left",
        "eye_blend_right",
    ),
    "mouth_socket": ("mouth_socket",),
}
#: Regions that are outer skin (cut by :func:`reframe`).
SKIN_REGIONS: tuple[str, ...] = ("face", "head_neck", "skin")
#: Unit name -> millimetres per unit ("arbitrary" is drawn log-uniformly in [0.01, 100]).
UNITS: dict[str, float] = {"mm": 1.0, "cm": 10.0, "dm": 100.0, "m": 1000.0, "in": 25.4}
FRAMINGS: tuple[str, ...] = ("face", "no_neck", "back_removed")
STEPS: tuple[str, ...] = ("identity", "remove_parts", "reframe", "stylise", "remesh", "units")


@dataclass
class SampleConfig:
    """Probabilities and ranges of each augmentation (all lengths relative to head size)."""

    split: str = "train"
    # (a) identity
    p_exaggerate: float = 0.3
    exaggeration: tuple[float, float] = (1.5, 3.0)
    # (b) parts removal: with p_remove_parts, each group of `removable` goes with p_remove_each
    p_remove_parts: float = 0.5
    p_remove_each: float = 0.5
    removable: tuple[str, ...] = tuple(PART_GROUPS)
    # (c) framing
    p_reframe: float = 0.5
    framings: tuple[str, ...] = FRAMINGS
    # (d) stylisation warp
    p_warp: float = 0.4
    warp_amplitude: tuple[float, float] = (0.04, 0.2)  # max bump displacement / head size
    warp_centers: tuple[int, int] = (2, 8)
    warp_radius: tuple[float, float] = (0.06, 0.35)  # Gaussian sigma / head size
    warp_stretch: tuple[float, float] = (0.8, 1.25)  # per-axis scale factor range
    # (d') feature warps after the random warp (heads with landmarks only; 0 = off, draws nothing):
    # eyes enlarged about their centres (anime eyes) and the nose/mouth pushed forward (a snout)
    p_feature_warp: float = 0.0
    eye_scale: tuple[float, float] = (1.3, 2.0)  # factor at each eye's centre
    snout: tuple[float, float] = (0.04, 0.18)  # forward push of nose and mouth / head size
    # (e) remeshing
    p_remesh: float = 0.3
    remesh_vertices: tuple[int, int] = (1000, 50000)  # log-uniform
    # (f) units / placement
    p_units: float = 0.5
    units: tuple[str, ...] = ("mm", "cm", "dm", "m", "in", "arbitrary")
    translation: float = 1.0  # max |t| per axis, in head sizes


@dataclass
class Sample:
    """One generated head with its ground truth.

    Attributes:
        vertices: (V, 3) float64 neutral, in units of ``mm_per_unit``.
        faces: (F, 3) int64 triangles.
        names: (K,) ARKit names.
        deltas: (K, V, 3) float32 GT displacements (mesh units).
        parts: (V,) int64 connected-component labels (ordered by lowest vertex index).
        regions: (V,) int64 index into ``region_names``.
        landmarks68: (68,) int64 vertex of each Multi-PIE landmark, -1 = absent.
        mm_per_unit: millimetres per unit.
        info: JSON-able record of each step.
        region_names: the family's region names.
        polygons / uv / uv_faces: original polygons (quads) and UVs while the topology is the
            family's (subsets keep them; remeshing drops them), else None.
        source_vertex: (V,) int64 family-template vertex of each vertex, -1 after remeshing.
    """

    vertices: np.ndarray
    faces: np.ndarray
    names: list[str]
    deltas: np.ndarray
    parts: np.ndarray
    regions: np.ndarray
    landmarks68: np.ndarray
    mm_per_unit: float
    info: dict[str, Any] = field(default_factory=dict)
    region_names: tuple[str, ...] = ()
    polygons: list[np.ndarray] | None = None
    uv: np.ndarray | None = None
    uv_faces: list[np.ndarray] | None = None
    source_vertex: np.ndarray | None = None

    @property
    def num_vertices(self) -> int:
        return int(self.vertices.shape[0])


def _step(sample: Sample, name: str, record: dict[str, Any]) -> None:
    sample.info.setdefault("steps", {})[name] = record


def _rngs(seed: int, split: str) -> dict[str, np.random.Generator]:
    if split not in SPLIT_TAGS:
        raise ValueError(f"unknown split {split!r}")
    ss = np.random.SeedSequence([int(seed), SPLIT_TAGS[split]])
    return {n: np.random.default_rng(s) for n, s in zip(STEPS, ss.spawn(len(STEPS)))}


# --------------------------------------------------------------------------- generic helpers


def subset(sample: Sample, keep: np.ndarray) -> Sample:
    """Keep vertices ``keep`` (V,) bool: faces with any dropped vertex go, then unreferenced
    vertices go. GT rows, parts, regions, landmarks (-1 if dropped), polygons follow."""
    keep = np.asarray(keep, dtype=bool)
    poly_keep = None
    if sample.polygons is not None:
        counts = np.fromiter((len(p) for p in sample.polygons), dtype=np.int64, count=len(sample.polygons))
        if int((counts - 2).sum()) == sample.faces.shape[0]:  # faces = fan triangulation of polygons
            flat = np.concatenate(sample.polygons)
            poly_keep = np.logical_and.reduceat(keep[flat], np.concatenate([[0], np.cumsum(counts)[:-1]]))
            fk = np.repeat(poly_keep, counts - 2)
        else:
            fk = keep[sample.faces].all(axis=1)
    else:
        fk = keep[sample.faces].all(axis=1)
    faces = sample.faces[fk]
    used = np.zeros(sample.num_vertices, dtype=bool)
    used[faces.ravel()] = True
    remap = np.full(sample.num_vertices, -1, dtype=np.int64)
    remap[used] = np.arange(int(used.sum()))
    out = replace(
        sample,
        vertices=sample.vertices[used],
        faces=remap[faces],
        deltas=np.ascontiguousarray(sample.deltas[:, used]),
        parts=sample.parts[used],
        regions=sample.regions[used],
        landmarks68=np.where(sample.landmarks68 >= 0, remap[np.maximum(sample.landmarks68, 0)], -1),
        info=copy.deepcopy(sample.info),
        source_vertex=None if sample.source_vertex is None else sample.source_vertex[used],
    )
    if poly_keep is not None:
        idx = np.flatnonzero(poly_keep)
        out.polygons = [remap[sample.polygons[i]] for i in idx]
        out.uv_faces = None if sample.uv_faces is None else [sample.uv_faces[i] for i in idx]
    else:
        out.polygons = out.uv = out.uv_faces = None
    return out


def component_labels(num_vertices: int, faces: np.ndarray) -> np.ndarray:
    """(V,) int64 connected components ordered by lowest vertex index."""
    from facerig.geometry.components import connected_components

    return connected_components(num_vertices, faces)


def _region_mask(sample: Sample, names: tuple[str, ...]) -> np.ndarray:
    ids = [i for i, n in enumerate(sample.region_names) if n in names]
    return np.isin(sample.regions, ids)


# --------------------------------------------------------------------------- (a) identity


def identity_sample(family: HeadFamily, rng: np.random.Generator, config: SampleConfig) -> Sample:
    """Random identity of ``family`` (exaggerated with probability ``p_exaggerate``)."""
    exaggerated = bool(rng.random() < config.p_exaggerate)
    e = float(rng.uniform(*config.exaggeration)) if exaggerated else 1.0
    neutral = np.asarray(family.sample_neutral(rng, e), dtype=np.float64)
    deltas = np.array(family.deltas_for(neutral), dtype=np.float32)  # a copy: never alias the family's
    V = neutral.shape[0]
    lm = family.landmarks68
    s = Sample(
        vertices=neutral,
        faces=np.asarray(family.faces, dtype=np.int64),
        names=list(family.names),
        deltas=deltas,
        parts=np.asarray(family.parts, dtype=np.int64),
        regions=np.asarray(family.regions, dtype=np.int64),
        landmarks68=np.full(68, -1, np.int64) if lm is None else np.asarray(lm, dtype=np.int64),
        mm_per_unit=float(family.mm_per_unit),
        info={"family": family.name, "steps": {}},
        region_names=tuple(family.region_names),
        polygons=getattr(family, "polygons", None),
        uv=getattr(family, "uv", None),
        uv_faces=getattr(family, "uv_faces", None),
        source_vertex=np.arange(V, dtype=np.int64),
    )
    if hasattr(family, "frame_points"):  # reference points for reframe() when no landmarks
        s.info["frame"] = family.frame_points(neutral)
    _step(s, "identity", {"exaggeration": e, "exaggerated": exaggerated})
    return s


# --------------------------------------------------------------------------- (b) parts removal


def remove_parts(
    sample: Sample, rng: np.random.Generator, config: SampleConfig, groups: tuple[str, ...] | None = None
) -> Sample:
    """Drop interior part groups (:data:`PART_GROUPS`); ``groups`` forces a choice."""
    if groups is None:
        if rng.random() >= config.p_remove_parts:
            _step(sample, "remove_parts", {"removed": []})
            return sample
        groups = tuple(g for g in config.removable if rng.random() < config.p_remove_each)
        if not groups and config.removable:  # the step was chosen: remove at least one group
            groups = (config.removable[int(rng.integers(len(config.removable)))],)
    names = tuple(r for g in groups for r in PART_GROUPS[g])
    drop = _region_mask(sample, names)
    out = subset(sample, ~drop) if drop.any() else sample
    _step(out, "remove_parts", {"removed": list(groups), "vertices_removed": int(drop.sum())})
    return out


# --------------------------------------------------------------------------- (c) framing


def _face_frame(sample: Sample) -> dict[str, np.ndarray | float]:
    """Reference points in the canonical frame: chin, nose tip, ear level, brow, face height."""
    lm = sample.landmarks68
    skin = _region_mask(sample, SKIN_REGIONS)
    P = sample.vertices[skin] if skin.any() else sample.vertices
    if (lm[[0, 8, 16, 30] + list(range(17, 27))] >= 0).all():
        v = sample.vertices
        chin, nose = v[lm[8]], v[lm[30]]
        ear = 0.5 * (v[lm[0]] + v[lm[16]])
        brow_y = float(v[lm[17:27], 1].max())
        half_width = 0.5 * float(abs(v[lm[16], 0] - v[lm[0], 0]))
    elif "frame" in sample.info:  # the family's reference points (valid before warp/units)
        f = sample.info["frame"]
        chin, nose, ear = (np.asarray(f[k], dtype=np.float64) for k in ("chin", "nose", "ear"))
        brow_y, half_width = float(f["brow_y"]), float(f["half_width"])
    else:  # no landmarks: bounding-box proportions of a head (+Y up, face +Z)
        lo, hi = P.min(0), P.max(0)
        cx = 0.5 * (lo[0] + hi[0])
        chin = np.array([cx, lo[1] + 0.35 * (hi[1] - lo[1]), hi[2] - 0.15 * (hi[2] - lo[2])])
        nose = np.array([cx, lo[1] + 0.55 * (hi[1] - lo[1]), hi[2]])
        ear = np.array([cx, lo[1] + 0.65 * (hi[1] - lo[1]), lo[2] + 0.55 * (hi[2] - lo[2])])
        brow_y = float(lo[1] + 0.75 * (hi[1] - lo[1]))
        half_width = 0.4 * float(hi[0] - lo[0])
    return {
        "chin": chin,
        "nose": nose,
        "ear": ear,
        "brow_y": brow_y,
        "h": max(brow_y - float(chin[1]), 1e-9),
        "half_width": half_width,
    }


def reframe(sample: Sample, rng: np.random.Generator, config: SampleConfig, framing: str | None = None) -> Sample:
    """Cut the skin (regions :data:`SKIN_REGIONS`) by planes; keep its largest piece.

    Must run before :func:`stylise` / :func:`change_units` (reference points are landmarks, or
    the family's ``frame_points`` recorded at identity time).
    Framings: ``face`` (front face mask: in front of a coronal plane, below the hairline, above the
    chin, within the cheeks), ``no_neck`` (below-chin plane, tilted up toward the nape),
    ``back_removed`` (coronal plane behind the ears, slightly tilted). Interior parts are kept.
    """
    if framing is None:
        if rng.random() >= config.p_reframe or not config.framings:
            _step(sample, "reframe", {"framing": "full"})
            return sample
        framing = config.framings[int(rng.integers(len(config.framings)))]
    fr = _face_frame(sample)
    v = sample.vertices
    h = float(fr["h"])
    chin, nose, ear = fr["chin"], fr["nose"], fr["ear"]
    skin = _region_mask(sample, SKIN_REGIONS)
    rec: dict[str, Any] = {"framing": framing}
    if framing == "face":
        z0 = float(ear[2] + rng.uniform(-0.1, 0.35) * (nose[2] - ear[2]))
        y_lo = float(chin[1] - rng.uniform(0.0, 0.12) * h)
        y_hi = float(fr["brow_y"] + rng.uniform(0.2, 0.55) * h)
        x_max = float(fr["half_width"] * rng.uniform(0.85, 1.15))
        inside = (v[:, 2] > z0) & (v[:, 1] > y_lo) & (v[:, 1] < y_hi) & (np.abs(v[:, 0] - chin[0]) < x_max)
        rec.update(z=z0, y_min=y_lo, y_max=y_hi, x_max=x_max)
    elif framing == "no_neck":
        theta = float(np.deg2rad(rng.uniform(0.0, 20.0)))
        y0 = float(chin[1] - rng.uniform(0.05, 0.3) * h)
        n = np.array([0.0, math.cos(theta), math.sin(theta)])
        inside = (v - np.array([chin[0], y0, chin[2]])) @ n > 0
        rec.update(y=y0, tilt_deg=float(np.rad2deg(theta)))
    elif framing == "back_removed":
        theta = float(np.deg2rad(rng.uniform(-15.0, 15.0)))
        z0 = float(ear[2] + rng.uniform(-0.5, 0.0) * h)
        n = np.array([0.0, math.sin(theta), math.cos(theta)])
        inside = (v - np.array([ear[0], ear[1], z0])) @ n > 0
        rec.update(z=z0, tilt_deg=float(np.rad2deg(theta)))
    elif framing == "full":
        _step(sample, "reframe", rec)
        return sample
    else:
        raise ValueError(f"unknown framing {framing!r} (expected one of {FRAMINGS} or 'full')")
    keep = ~skin | inside
    # keep only the largest skin-bearing piece (no islands left by the cut)
    fk = keep[sample.faces].all(1)
    lab = component_labels(sample.num_vertices, sample.faces[fk])
    used = np.zeros(sample.num_vertices, bool)
    used[sample.faces[fk].ravel()] = True
    skin_lab = lab[skin & keep & used]
    if skin_lab.size:
        counts = np.bincount(skin_lab, minlength=lab.max() + 1)
        big = int(np.argmax(counts))
        bad = np.flatnonzero(counts > 0)
        bad = bad[bad != big]
        keep &= ~np.isin(lab, bad)
    out = subset(sample, keep)
    rec["vertices_removed"] = int(sample.num_vertices - out.num_vertices)
    _step(out, "reframe", rec)
    return out


# --------------------------------------------------------------------------- (d) stylisation


@dataclass
class SpaceWarp:
    """Smooth map R^3 -> R^3: ``W(x) = c + S (x - c) + sum_j a_j exp(-|x - p_j|^2 / (2 s_j^2))``.

    Attributes:
        center: (3,) stretch centre c. stretch: (3,) per-axis factors S.
        centers: (J, 3) bump centres p_j. sigmas: (J,) radii s_j. amplitudes: (J, 3) a_j.
    """

    center: np.ndarray
    stretch: np.ndarray
    centers: np.ndarray
    sigmas: np.ndarray
    amplitudes: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Warp points (..., 3) -> (..., 3) float64."""
        x = np.asarray(x, dtype=np.float64)
        out = self.center + (x - self.center) * self.stretch
        for p, s, a in zip(self.centers, self.sigmas, self.amplitudes):
            r2 = ((x - p) ** 2).sum(-1)
            out = out + np.exp(-r2 / (2.0 * s * s))[..., None] * a
        return out

    def lipschitz_bound(self) -> float:
        """Upper bound of the bumps' Lipschitz constant (< min(stretch) keeps W injective)."""
        return float(np.sum(np.linalg.norm(self.amplitudes, axis=1) / self.sigmas) * math.exp(-0.5))

    def to_json(self) -> dict[str, Any]:
        return {
            k: np.asarray(getattr(self, k)).tolist() for k in ("center", "stretch", "centers", "sigmas", "amplitudes")
        }


def random_warp(rng: np.random.Generator, vertices: np.ndarray, config: SampleConfig) -> SpaceWarp:
    """A random :class:`SpaceWarp` over the bounding box of ``vertices`` (V, 3)."""
    lo, hi = vertices.min(0), vertices.max(0)
    size = float(np.linalg.norm(hi - lo))
    J = int(rng.integers(config.warp_centers[0], config.warp_centers[1] + 1))
    # bump centres near the surface (random vertices, jittered) so features get reshaped
    centers = vertices[rng.integers(vertices.shape[0], size=J)] + rng.normal(scale=0.03 * size, size=(J, 3))
    sigmas = rng.uniform(*config.warp_radius, size=J) * size
    amp_max = float(rng.uniform(*config.warp_amplitude)) * size
    dirs = rng.normal(size=(J, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    amps = dirs * (amp_max * rng.uniform(0.3, 1.0, size=J))[:, None]
    stretch = np.exp(rng.uniform(np.log(config.warp_stretch[0]), np.log(config.warp_stretch[1]), size=3))
    w = SpaceWarp(0.5 * (lo + hi), stretch, centers, sigmas, amps)
    lim = 0.5 * float(stretch.min())
    if w.lipschitz_bound() > lim:  # keep the warp a diffeomorphism (no fold-overs)
        w.amplitudes = w.amplitudes * (lim / w.lipschitz_bound())
    return w


def apply_warp(sample: Sample, warp: SpaceWarp | FeatureWarp, chunk: int = 8) -> Sample:
    """Warp the neutral and the posed shapes: GT_k = W(neutral + delta_k) - W(neutral), exactly
    (vertices a shape does not move keep delta 0)."""
    n = sample.vertices
    wn = warp(n)
    d = np.empty_like(sample.deltas)
    for k0 in range(0, d.shape[0], chunk):
        dk = sample.deltas[k0 : k0 + chunk].astype(np.float64)
        g = warp(n[None] + dk) - wn[None]
        g[(dk == 0).all(-1)] = 0.0
        d[k0 : k0 + chunk] = g
    out = replace(sample, vertices=wn, deltas=d, info=copy.deepcopy(sample.info))
    return out


@dataclass
class FeatureWarp:
    """Smooth map R^3 -> R^3 enlarging regions about centres and pushing one region:
    ``F(x) = x + sum_i g_i (x - q_i) exp(-|x - q_i|^2 / (2 r_i^2)) + b exp(-|x - p|^2 / (2 s^2))``.

    Attributes:
        centres: (I, 3) q_i. radii: (I,) r_i. gains: (I,) g_i (factor 1 + g_i at q_i).
        push_centre: (3,) p. push_radius: s. push: (3,) b.

    The symmetric part of the Jacobian stays positive definite (so ``F`` is injective) while
    :meth:`negative_bound` < 1; :func:`feature_warp` scales the terms to keep it below 0.9.
    """

    centres: np.ndarray
    radii: np.ndarray
    gains: np.ndarray
    push_centre: np.ndarray
    push_radius: float
    push: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Warp points (..., 3) -> (..., 3) float64."""
        x = np.asarray(x, dtype=np.float64)
        out = x.copy()
        for q, r, g in zip(self.centres, self.radii, self.gains):
            dq = x - q
            out = out + g * dq * np.exp(-(dq**2).sum(-1) / (2.0 * r * r))[..., None]
        r2 = ((x - self.push_centre) ** 2).sum(-1)
        return out + np.exp(-r2 / (2.0 * self.push_radius**2))[..., None] * self.push

    def negative_bound(self) -> float:
        """Bound on how far the Jacobian's symmetric part can fall below the identity: each radial
        term's lowest eigenvalue is ``-2 e^{-3/2} g`` (at ``r = sqrt(3) r_i``), the push's norm
        ``|b| / s e^{-1/2}``."""
        radial = 2.0 * math.exp(-1.5) * float(np.abs(self.gains).sum())
        return radial + float(np.linalg.norm(self.push)) / self.push_radius * math.exp(-0.5)

    def to_json(self) -> dict[str, Any]:
        return {
            k: np.asarray(getattr(self, k)).tolist()
            for k in ("centres", "radii", "gains", "push_centre", "push_radius", "push")
        }


def feature_warp(rng: np.random.Generator, sample: Sample, config: SampleConfig) -> FeatureWarp | None:
    """Anime eyes and a snout from the landmarks (canonical frame, face +Z): each eye enlarged by
    a factor in ``eye_scale`` about its centre (radius 0.6 eye widths), nose and mouth pushed
    forward by ``snout`` head sizes (radius 0.12 head sizes). None without eye/nose/mouth landmarks."""
    lm = sample.landmarks68
    need = list(range(36, 48)) + [30, 51, 57]
    if (lm[need] < 0).any():
        return None
    v = sample.vertices
    size = float(np.linalg.norm(v.max(0) - v.min(0)))
    eyes = [v[lm[36:42]], v[lm[42:48]]]
    centres = np.stack([e.mean(0) for e in eyes])
    widths = np.array([np.linalg.norm(v[lm[39]] - v[lm[36]]), np.linalg.norm(v[lm[45]] - v[lm[42]])])
    gains = np.full(2, rng.uniform(*config.eye_scale) - 1.0)
    push_centre = (v[lm[30]] + v[lm[51]] + v[lm[57]]) / 3.0
    push = np.array([0.0, 0.0, rng.uniform(*config.snout) * size])
    w = FeatureWarp(centres, 0.6 * widths, gains, push_centre, 0.12 * size, push)
    nb = w.negative_bound()
    if nb > 0.9:
        w.gains, w.push = w.gains * (0.9 / nb), w.push * (0.9 / nb)
    return w


def stylise(sample: Sample, rng: np.random.Generator, config: SampleConfig, force: bool = False) -> Sample:
    """With probability ``p_warp`` (or ``force``), apply a :func:`random_warp`; then, with
    probability ``p_feature_warp`` (when > 0), a :func:`feature_warp` (composed: the GT stays exact)."""
    if not force and rng.random() >= config.p_warp:
        out = sample
        rec: dict[str, Any] = {"warped": False}
    else:
        w = random_warp(rng, sample.vertices, config)
        out = apply_warp(sample, w)
        rec = {"warped": True, "warp": w.to_json(), "lipschitz": w.lipschitz_bound()}
    if config.p_feature_warp > 0 and rng.random() < config.p_feature_warp:
        fw = feature_warp(rng, out, config)
        if fw is not None:
            out = apply_warp(out, fw)
            rec["feature_warp"] = fw.to_json()
    _step(out, "stylise", rec)
    return out


# --------------------------------------------------------------------------- (e) remeshing


def remesh_sample(
    sample: Sample, rng: np.random.Generator, config: SampleConfig, target_vertices: int | None = None
) -> Sample:
    """Remesh (``facerig.geometry.remesh``) within parts; GT/landmarks/regions transferred."""
    if target_vertices is None:
        if rng.random() >= config.p_remesh:
            _step(sample, "remesh", {"target_vertices": None})
            return sample
        a, b = config.remesh_vertices
        target_vertices = int(round(math.exp(rng.uniform(math.log(a), math.log(b)))))
    from facerig.geometry.remesh import interpolate, remesh

    seed = int(rng.integers(2**31 - 1))
    rm = remesh(sample.vertices, sample.faces, int(target_vertices), parts=sample.parts, seed=seed)
    src_face = np.asarray(rm.src_face, dtype=np.int64)
    bary = np.asarray(rm.bary, dtype=np.float64)
    deltas = np.asarray(interpolate(sample.deltas, sample.faces, src_face, bary), dtype=np.float32)
    corner = sample.faces[src_face, np.argmax(bary, axis=1)]
    new_v = np.asarray(rm.vertices, dtype=np.float64)
    new_parts = sample.parts[corner]
    lm = np.full(68, -1, dtype=np.int64)
    for i, old in enumerate(sample.landmarks68):
        if old < 0:
            continue
        cand = np.flatnonzero(new_parts == sample.parts[old])
        if cand.size == 0:
            cand = np.arange(new_v.shape[0])
        lm[i] = cand[np.argmin(((new_v[cand] - sample.vertices[old]) ** 2).sum(1))]
    out = replace(
        sample,
        vertices=new_v,
        faces=np.asarray(rm.faces, dtype=np.int64),
        deltas=deltas,
        parts=new_parts,
        regions=sample.regions[corner],
        landmarks68=lm,
        info=copy.deepcopy(sample.info),
        polygons=None,
        uv=None,
        uv_faces=None,
        source_vertex=np.full(new_v.shape[0], -1, dtype=np.int64),
    )
    _step(out, "remesh", {"target_vertices": int(target_vertices), "vertices": int(new_v.shape[0]), "seed": seed})
    return out


# --------------------------------------------------------------------------- (f) units


def change_units(sample: Sample, rng: np.random.Generator, config: SampleConfig, unit: str | None = None) -> Sample:
    """Rescale to a random unit and translate: v' = s v + t, delta' = s delta,
    s = old mm_per_unit / new mm_per_unit; |t| per axis up to ``translation`` head sizes."""
    if unit is None:
        if rng.random() >= config.p_units or not config.units:
            _step(sample, "units", {"unit": None})
            return sample
        unit = config.units[int(rng.integers(len(config.units)))]
    if unit == "arbitrary":
        mm = float(10.0 ** rng.uniform(-2.0, 2.0))
    elif unit in UNITS:
        mm = UNITS[unit]
    else:
        raise ValueError(f"unknown unit {unit!r} (expected one of {list(UNITS)} or 'arbitrary')")
    s = sample.mm_per_unit / mm
    v = sample.vertices * s
    t = rng.uniform(-1.0, 1.0, size=3) * config.translation * float(np.linalg.norm(v.max(0) - v.min(0)))
    out = replace(
        sample,
        vertices=v + t,
        deltas=(sample.deltas * np.float32(s)).astype(np.float32),
        mm_per_unit=mm,
        info=copy.deepcopy(sample.info),
    )
    _step(out, "units", {"unit": unit, "mm_per_unit": mm, "scale": s, "translation": t.tolist()})
    return out


# --------------------------------------------------------------------------- all together


def finalize(sample: Sample) -> Sample:
    """Recompute ``parts`` as connected components of the final mesh."""
    sample.parts = component_labels(sample.num_vertices, sample.faces)
    return sample


def generate_sample(family: HeadFamily, seed: int, config: SampleConfig | None = None) -> Sample:
    """One random head of ``family`` (deterministic in ``(seed, config)``), see module doc."""
    config = config or SampleConfig()
    r = _rngs(seed, config.split)
    s = identity_sample(family, r["identity"], config)
    s.info.update(seed=int(seed), split=config.split)
    s = remove_parts(s, r["remove_parts"], config)
    s = reframe(s, r["reframe"], config)
    s = stylise(s, r["stylise"], config)
    s = remesh_sample(s, r["remesh"], config)
    s = change_units(s, r["units"], config)
    return finalize(s)

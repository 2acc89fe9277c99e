"""Training images for image-based rig inversion: heads rendered with known ARKit-52 weights.

Every image comes from the project's one rasteriser (:func:`facerig.render.render_mesh`): a
Lambert-shaded RGB image under 1-3 random directional lights (per-vertex albedo: a random skin
tone with smooth variation, dark irises, lashes and mouth interior where the head's regions say
so; no head in the data ships a texture image), the camera-space normal map (RGB = (n + 1) / 2)
and the antialiased mask. Background compositing, colour jitter and mirroring happen at training
time (:mod:`facerig.train.image_inversion`), so a cached image is stored on black.

- :class:`RenderHead`: one rigged head with its 52 ARKit deltas (zero rows for shapes it lacks).
- :func:`head_from_sample` (the generator's ICT / MakeHuman heads with stylised warps and
  remeshes), :func:`head_from_rig` (any :class:`facerig.io.rig.Rig`), :func:`rocketbox_heads`.
- :func:`sample_weights`: expressions resampled from a real take plus jitter, isolated shapes,
  neutral faces, gaze.
- :func:`render_head`: N images of one head (small head pose, camera field of view, framing from
  face-only to head and shoulders).
- :func:`negative_images`: images with no head (blobs, boxes, noise) for the head-presence output.
- :func:`build_dataset`: pre-render many heads into one NPZ (uint8 images).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facerig.arkit import ARKIT52, canonical_name
from facerig.errors import FacerigError

#: Side of the square training images (pixels).
RENDER_SIZE = 96
#: The real take whose frames give realistic co-activation.
TAKE_NAME = "livelink_rom_a.csv"
_GAZE = {n: ARKIT52.index(n) for n in ARKIT52 if n.startswith("eyeLook")}


@dataclass
class RenderHead:
    """A rigged head ready to render.

    Attributes:
        name: identifier (family and seed, or file stem).
        vertices: (V, 3) float64 neutral, +Y up, face toward +Z.
        faces: (F, 3) int64 triangles.
        deltas: (52, V, 3) float32 ARKit deltas in :data:`ARKIT52` order (zero for absent shapes).
        present: (52,) bool shapes the rig has.
        mm_per_unit: millimetres per mesh unit.
        albedo_class: (V,) int8 0 skin, 1 eyeball, 2 dark (lashes, brows), 3 mouth interior, 4 teeth.
        family: "ict", "makehuman", "rocketbox", "rig", ...
    """

    name: str
    vertices: np.ndarray
    faces: np.ndarray
    deltas: np.ndarray
    present: np.ndarray
    mm_per_unit: float
    albedo_class: np.ndarray
    family: str = ""
    info: dict = field(default_factory=dict)

    def face_box(self) -> tuple[np.ndarray, float]:
        """(centre (3,), size) of the vertices the rig moves (the face), in mesh units."""
        m = np.linalg.norm(self.deltas, axis=2).max(0)
        moving = m > 0.08 * max(float(m.max()), 1e-12)
        if moving.sum() < 10:
            moving = np.ones(len(m), bool)
        p = self.vertices[moving]
        lo, hi = np.percentile(p, 2, axis=0), np.percentile(p, 98, axis=0)
        centre = 0.5 * (lo + hi)
        centre[2] = hi[2]
        return centre, float(max(hi[0] - lo[0], hi[1] - lo[1]))

    def gram(self) -> np.ndarray:
        """(52, 52) mean over the face's vertices of d_j . d_k in mm^2: the rebuilt-mesh error of a
        weight error e is ``sqrt(e @ G @ e)`` (RMS vertex distance, mm)."""
        m = np.linalg.norm(self.deltas, axis=2).max(0)
        moving = m > 0.02 * max(float(m.max()), 1e-12)
        d = self.deltas[:, moving].reshape(52, -1).astype(np.float64) * self.mm_per_unit
        return (d @ d.T / max(int(moving.sum()), 1)).astype(np.float32)


def to_arkit52(names, deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rig shapes (K,), (K, V, 3) -> (52, V, 3) float32 in :data:`ARKIT52` order, present (52,) bool."""
    V = deltas.shape[1]
    out = np.zeros((52, V, 3), np.float32)
    present = np.zeros(52, bool)
    for k, n in enumerate(names):
        c = canonical_name(str(n))
        if c is not None and not present[ARKIT52.index(c)]:
            out[ARKIT52.index(c)] = deltas[k]
            present[ARKIT52.index(c)] = True
    return out, present


_CLASS_OF_REGION = {
    "eyeball": 1,
    "eyelashes": 2,
    "lashes": 2,
    "mouth_socket": 3,
    "gums_tongue": 3,
    "teeth": 4,
    "eye_occlusion": 5,
    "eye_blend": 5,
    "lacrimal": 0,
    "eye_socket": 3,
}


def _region_class(name: str) -> int:
    for key, c in _CLASS_OF_REGION.items():
        if name.startswith(key):
            return c
    return 0


def head_from_sample(sample, name: str = "") -> RenderHead:
    """A :class:`facerig.data.generator.Sample` -> :class:`RenderHead` (regions give the albedo classes)."""
    deltas, present = to_arkit52(sample.names, sample.deltas)
    cls = np.zeros(sample.num_vertices, np.int8)
    if len(sample.region_names):
        lut = np.array([_region_class(r) for r in sample.region_names], np.int8)
        cls = lut[np.clip(sample.regions, 0, len(lut) - 1)]
    return RenderHead(
        name or f"sample{sample.info.get('seed', '')}",
        np.asarray(sample.vertices, np.float64),
        np.asarray(sample.faces, np.int64),
        deltas,
        present,
        float(sample.mm_per_unit),
        cls,
        family=str(sample.info.get("family", "")),
        info={"steps": list(sample.info.get("steps", {}))},
    )


def head_from_rig(rig, name: str = "rig", family: str = "rig") -> RenderHead:
    """Any :class:`facerig.io.rig.Rig` with faces (+Y up, face toward +Z) -> :class:`RenderHead`."""
    if rig.faces is None:
        raise FacerigError("the rig has no faces to render")
    deltas, present = to_arkit52(rig.names, rig.deltas)
    if not present.any():
        raise FacerigError("the rig has no ARKit-named shapes to learn")
    mm = float(rig.meta.get("mm_per_unit", 10.0)) if isinstance(rig.meta, dict) else 10.0
    return RenderHead(
        name,
        np.asarray(rig.neutral, np.float64),
        np.asarray(rig.faces, np.int64),
        deltas,
        present,
        mm,
        _eyeball_classes(rig.neutral, rig.faces),
        family=family,
    )


def _eyeball_classes(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V,) albedo classes of a head without regions: small round components near the eyes = eyeballs."""
    from facerig.geometry.components import connected_components

    V = len(vertices)
    cls = np.zeros(V, np.int8)
    lab = connected_components(V, faces)
    size = np.ptp(vertices, axis=0).max()
    for c in np.unique(lab):
        idx = np.flatnonzero(lab == c)
        if len(idx) < 20 or len(idx) > 0.2 * V:
            continue
        ext = np.ptp(vertices[idx], axis=0)
        if ext.max() < 0.12 * size and ext.min() > 0.6 * ext.max():  # roughly a ball
            cls[idx] = 1
    return cls


def author_heads(
    pattern: str = "rocketbox_*", data_root: str | Path | None = None, names: tuple[str, ...] | None = None
) -> list[RenderHead]:
    """Heads by other authors in ``DATA/heads`` (``NAME.obj`` + ``NAME.blendshapes.npz`` +
    ``NAME.parts.json``) whose name matches ``pattern``, with their authors' shapes."""
    from facerig.config import data_root as _root
    from facerig.io.obj import read_obj

    root = Path(data_root) if data_root else _root() / "heads"
    out = []
    for npz in sorted(root.glob(f"{pattern}.blendshapes.npz")):
        stem = npz.name.split(".")[0]
        if names is not None and stem not in names:
            continue
        mesh = read_obj(root / f"{stem}.obj")
        d = np.load(npz)
        deltas, present = to_arkit52(list(d["names"]), d["deltas"])
        cls = np.zeros(len(mesh.vertices), np.int8)
        pj = root / f"{stem}.parts.json"
        parts = json.loads(pj.read_text())["parts"] if pj.exists() else {}
        for pname, ranges in parts.items():
            c = (
                1
                if pname.startswith("eyeball")
                else 2
                if pname.startswith(("lash", "brow"))
                else 3
                if pname.startswith("mouth_interior")
                else 0
            )
            for a, b in ranges:
                cls[a:b] = c
        out.append(
            RenderHead(
                stem,
                mesh.vertices,
                mesh.faces,
                deltas,
                present,
                float(d["mm_per_unit"]),
                cls,
                family=stem.split("_")[0],
            )
        )
    return out


def rocketbox_heads(data_root: str | Path | None = None, names: tuple[str, ...] | None = None) -> list[RenderHead]:
    """The Rocketbox avatars in ``DATA/heads`` with their authors' ARKit-52 shapes."""
    return author_heads("rocketbox_*", data_root, names)


def warped_head(head: RenderHead, seed: int) -> RenderHead:
    """A stylised copy of ``head``: the generator's smooth random space warp on the neutral and posed shapes."""
    from facerig.data.generator import SampleConfig, random_warp

    rng = np.random.default_rng(seed)
    warp = random_warp(rng, head.vertices, SampleConfig())
    v = warp(head.vertices)
    d = np.stack([warp(head.vertices + head.deltas[k]) - v if head.present[k] else head.deltas[k] for k in range(52)])
    return RenderHead(
        f"{head.name}_warp{seed}",
        v,
        head.faces,
        d.astype(np.float32),
        head.present,
        head.mm_per_unit,
        head.albedo_class,
        family=head.family,
        info={"warp": seed},
    )


# --------------------------------------------------------------------------- expressions


def take_frames(path: str | Path | None = None) -> np.ndarray:
    """(T, 52) weights of the real take (``DATA/takes/livelink_rom_a.csv``)."""
    from facerig.config import data_root
    from facerig.io.takes import read_take

    return read_take(Path(path) if path else data_root() / "takes" / TAKE_NAME).weights.astype(np.float32)


def sample_weights(
    rng: np.random.Generator,
    n: int,
    frames: np.ndarray,
    present: np.ndarray | None = None,
    p_isolated: float = 0.2,
    p_neutral: float = 0.05,
    p_gaze: float = 0.3,
    jitter: float = 0.05,
) -> np.ndarray:
    """(n, 52) random expressions.

    Most are frames of the real take (``frames`` (T, 52)), scaled by U(0.6, 1.4), sometimes mixed
    with a second frame, with Gaussian jitter on the active shapes; ``p_isolated`` are 1-3 shapes
    alone at U(0.3, 1); ``p_neutral`` are all zero; ``p_gaze`` get a random consistent gaze.
    Shapes the head lacks (``present`` False) are zero. Clipped to [0, 1].
    """
    W = np.zeros((n, 52), np.float32)
    kind = rng.random(n)
    for i in range(n):
        if kind[i] < p_neutral:
            continue
        if kind[i] < p_neutral + p_isolated:
            ks = rng.choice(52, size=rng.integers(1, 4), replace=False)
            W[i, ks] = rng.uniform(0.3, 1.0, len(ks))
            if rng.random() < 0.5:  # symmetric partner too (both blinks, both smiles)
                from facerig.arkit import mirror_permutation

                W[i, np.asarray(mirror_permutation())[ks]] = W[i, ks]
            continue
        w = frames[rng.integers(len(frames))].copy()
        if rng.random() < 0.3:
            a = rng.uniform(0.2, 0.8)
            w = a * w + (1 - a) * frames[rng.integers(len(frames))]
        w = w * rng.uniform(0.6, 1.4)
        active = w > 0.02
        w = w + active * rng.normal(0, jitter, 52)
        W[i] = w
    gaze = rng.random(n) < p_gaze
    for i in np.flatnonzero(gaze):
        for n_ in _GAZE:
            W[i, _GAZE[n_]] = 0.0
        h, v = rng.uniform(-1, 1), rng.uniform(-1, 1)  # + = look to the character's left / up
        W[i, _GAZE["eyeLookOutLeft"]] = W[i, _GAZE["eyeLookInRight"]] = max(h, 0)
        W[i, _GAZE["eyeLookInLeft"]] = W[i, _GAZE["eyeLookOutRight"]] = max(-h, 0)
        W[i, _GAZE["eyeLookUpLeft"]] = W[i, _GAZE["eyeLookUpRight"]] = max(v, 0)
        W[i, _GAZE["eyeLookDownLeft"]] = W[i, _GAZE["eyeLookDownRight"]] = max(-v, 0)
    W = np.clip(W, 0.0, 1.0)
    if present is not None:
        W[:, ~present] = 0.0
    return W


# --------------------------------------------------------------------------- rendering


@dataclass
class RenderConfig:
    """Camera, pose, framing and light ranges."""

    size: int = RENDER_SIZE
    face_fraction: tuple[float, float] = (0.35, 0.95)  # face box / image height (head-and-shoulders .. face only)
    shift: float = 0.06  # max face-centre offset, fraction of the image
    yaw: float = 15.0  # degrees, max |angle|
    pitch: float = 10.0
    roll: float = 8.0
    fov: tuple[float, float] = (12.0, 50.0)
    lights: tuple[int, int] = (1, 3)
    ambient: tuple[float, float] = (0.1, 0.45)


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """(3, 3) rotation from angles in degrees (yaw about +Y, pitch about +X, roll about +Z)."""
    a, b, c = np.radians([yaw, pitch, roll])
    Ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    Rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    Rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return Rz @ Rx @ Ry


def vertex_albedo(head: RenderHead, rng: np.random.Generator) -> np.ndarray:
    """(V, 3) random albedo: skin tone with smooth variation, eyeballs with a dark iris toward +Z,
    dark lashes, mouth interior, teeth."""
    v = head.vertices
    size = float(np.ptp(v, axis=0).max()) or 1.0
    tone = rng.uniform(0.15, 1.0)
    skin = np.array([0.95, 0.78, 0.66]) * tone + np.array([0.05, 0.03, 0.02]) + rng.normal(0, 0.04, 3)
    k = rng.normal(0, 4.0 / size, (3, 3))
    phase = rng.uniform(0, 2 * np.pi, 3)
    var = sum(np.sin(v @ k[j] + phase[j]) for j in range(3)) / 3.0
    col = np.clip(skin[None] * (1 + rng.uniform(0.0, 0.25) * var[:, None]), 0, 1)
    cls = head.albedo_class
    eye = cls == 1
    if eye.any():
        from facerig.geometry.components import connected_components

        lab = connected_components(len(v), head.faces)
        iris = rng.uniform(0.05, 0.45, 3) * np.array([1.0, 0.8, 0.7])
        for c in np.unique(lab[eye]):
            idx = np.flatnonzero((lab == c) & eye)
            p = v[idx]
            cen = p.mean(0)
            r = np.linalg.norm(p - cen, axis=1).max() + 1e-12
            front = (p[:, 2] - cen[2]) / r
            col[idx] = np.where(front[:, None] > 0.8, iris[None], np.array([0.92, 0.9, 0.88])[None])
            col[idx[front > 0.95]] = 0.03
    col[cls == 2] = rng.uniform(0.02, 0.2) * np.array([1.0, 0.85, 0.7])
    col[cls == 3] = np.array([0.35, 0.08, 0.08])
    col[cls == 4] = np.array([0.9, 0.88, 0.8])
    col[cls == 5] = skin * 0.6
    return col.astype(np.float32)


def render_head(
    head: RenderHead,
    weights: np.ndarray,
    rng: np.random.Generator,
    config: RenderConfig | None = None,
    *,
    neighbours=None,
    batch: int = 16,
) -> dict[str, np.ndarray]:
    """Render ``head`` posed by ``weights`` (N, 52): one random camera, pose and lights per image.

    Returns:
        {"rgb": (N, S, S, 3) uint8 on black, "normals": (N, S, S, 3) uint8 ((n + 1) / 2, background 0),
        "mask": (N, S, S) uint8 soft mask (0-255)}.
    """
    import torch

    from facerig.render import PerspectiveCameras, face_neighbours, render_mesh

    cfg = config or RenderConfig()
    S = cfg.size
    N = len(weights)
    centre, fsize = head.face_box()
    faces = torch.as_tensor(head.faces, dtype=torch.int64)
    nb = face_neighbours(faces) if neighbours is None else neighbours
    out = {
        "rgb": np.zeros((N, S, S, 3), np.uint8),
        "normals": np.zeros((N, S, S, 3), np.uint8),
        "mask": np.zeros((N, S, S), np.uint8),
    }
    d = head.deltas.reshape(52, -1).astype(np.float32)
    for s in range(0, N, batch):
        w = weights[s : s + batch].astype(np.float32)
        n = len(w)
        posed = head.vertices[None].astype(np.float32) + (w @ d).reshape(n, -1, 3)
        verts = np.empty_like(posed)
        eyes, ats, fovs, dirs, cols, amb, albedo = [], [], [], [], [], [], []
        for i in range(n):
            R = _rotation(
                rng.uniform(-cfg.yaw, cfg.yaw), rng.uniform(-cfg.pitch, cfg.pitch), rng.uniform(-cfg.roll, cfg.roll)
            )
            verts[i] = (posed[i] - centre) @ R.T.astype(np.float32)
            fov = rng.uniform(*cfg.fov)
            frac = rng.uniform(*cfg.face_fraction)
            dist = fsize / (frac * 2 * math.tan(math.radians(fov) / 2)) + 0.5 * fsize
            off = rng.uniform(-cfg.shift, cfg.shift, 2) * fsize / frac
            eyes.append([off[0], off[1], dist])
            ats.append([off[0], off[1], 0.0])
            fovs.append(fov)
            L = int(rng.integers(cfg.lights[0], cfg.lights[1] + 1))
            ld = np.zeros((3, 3), np.float32)
            lc = np.zeros((3, 3), np.float32)
            for j in range(L):
                a = rng.normal(0, 1, 3)
                a[2] = abs(a[2]) + 0.5  # from the camera's side
                ld[j] = a / np.linalg.norm(a)
                lc[j] = rng.uniform(0.4, 0.9) * (1 + rng.normal(0, 0.08, 3)) / math.sqrt(L)
            ld[L:] = ld[0]
            dirs.append(ld)
            cols.append(lc)
            amb.append(rng.uniform(*cfg.ambient))
            albedo.append(vertex_albedo(head, rng))
        cams = PerspectiveCameras.look_at(
            eye=torch.tensor(eyes, dtype=torch.float32),
            at=torch.tensor(ats, dtype=torch.float32),
            fov_y=torch.tensor(fovs, dtype=torch.float32),
        )
        with torch.no_grad():
            r = render_mesh(
                torch.from_numpy(verts),
                faces,
                cams,
                (S, S),
                vertex_colors=torch.from_numpy(np.stack(albedo)),
                light_dirs=torch.from_numpy(np.stack(dirs)),
                light_colors=torch.from_numpy(np.stack(cols)),
                ambient=0.0,
                neighbours=nb,
            )
            a = torch.tensor(amb, dtype=torch.float32)[:, None, None, None]
            alb = r.image  # shaded with ambient 0; add ambient * albedo on covered pixels
            from facerig.render import interpolate_packed, unpack_pixels

            base = unpack_pixels(r.fragments, interpolate_packed(r.fragments, torch.from_numpy(np.stack(albedo))), 0.0)
            img = (alb + a * base).clamp(0, 1)
            soft = r.soft_mask.clamp(0, 1)
        out["rgb"][s : s + n] = (img.numpy() * 255 + 0.5).astype(np.uint8)
        out["normals"][s : s + n] = (r.normal_map.clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
        out["mask"][s : s + n] = (soft.numpy() * 255 + 0.5).astype(np.uint8)
    return out


def negative_images(rng: np.random.Generator, n: int, size: int = RENDER_SIZE) -> dict[str, np.ndarray]:
    """(n) images with no head: rendered blobs and boxes (with their normal maps), smooth noise, flat colours."""
    import torch
    import trimesh

    from facerig.render import PerspectiveCameras, render_mesh

    out = {
        "rgb": np.zeros((n, size, size, 3), np.uint8),
        "normals": np.zeros((n, size, size, 3), np.uint8),
        "mask": np.zeros((n, size, size), np.uint8),
    }
    for i in range(n):
        kind = rng.integers(3)
        if kind < 2:
            m = trimesh.creation.icosphere(3) if kind == 0 else trimesh.creation.box()
            v = np.asarray(m.vertices, np.float32) * rng.uniform(0.3, 1.5, 3).astype(np.float32)
            if kind == 0:
                v = v + 0.2 * np.sin(v @ rng.normal(0, 3, (3, 3)).astype(np.float32))
            v = v @ _rotation(*rng.uniform(-90, 90, 3)).T.astype(np.float32)
            cams = PerspectiveCameras.look_at(eye=((0.0, 0.0, rng.uniform(3, 6)),), fov_y=40.0)
            with torch.no_grad():
                r = render_mesh(
                    torch.from_numpy(v),
                    torch.as_tensor(np.asarray(m.faces), dtype=torch.int64),
                    cams,
                    (size, size),
                    vertex_colors=torch.from_numpy(np.tile(rng.uniform(0.1, 1, 3).astype(np.float32), (len(v), 1))),
                )
            out["rgb"][i] = (r.image[0].clamp(0, 1).numpy() * 255).astype(np.uint8)
            out["normals"][i] = (r.normal_map[0].clamp(0, 1).numpy() * 255).astype(np.uint8)
            out["mask"][i] = (r.soft_mask[0].clamp(0, 1).numpy() * 255).astype(np.uint8)
        else:
            g = rng.uniform(0, 1, (2, 6, 6, 3))
            up = np.kron(g, np.ones((1, size // 6 + 1, size // 6 + 1, 1)))[:, :size, :size]
            out["rgb"][i] = (up[0] * 255).astype(np.uint8)
            out["normals"][i] = (up[1] * 255).astype(np.uint8) if rng.random() < 0.5 else 0
            out["mask"][i] = 255
    return out


# --------------------------------------------------------------------------- dataset


def build_dataset(
    heads,
    per_head: int,
    seed: int,
    frames: np.ndarray,
    *,
    negatives: int = 0,
    config: RenderConfig | None = None,
    log=None,
    weights_options: dict | None = None,
) -> dict[str, np.ndarray]:
    """Render ``per_head`` images of every head (an iterable of :class:`RenderHead` or callables
    returning one) plus ``negatives`` head-free images (``weights_options``: keyword arguments of
    :func:`sample_weights`, e.g. ``p_isolated``).

    Returns arrays: rgb, normals (M, S, S, 3) uint8, mask (M, S, S) uint8, weights (M, 52) float32,
    head (M,) int32 index into gram / present (-1 for negatives), gram (H, 52, 52) float32,
    present (H, 52) bool, is_head (M,) bool, head_names (H,).
    """
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {k: [] for k in ("rgb", "normals", "mask", "weights", "head")}
    grams, presents, names = [], [], []
    for h, item in enumerate(heads):
        head = item() if callable(item) else item
        W = sample_weights(rng, per_head, frames, head.present, **(weights_options or {}))
        imgs = render_head(head, W, rng, config)
        for k in ("rgb", "normals", "mask"):
            parts[k].append(imgs[k])
        parts["weights"].append(W)
        parts["head"].append(np.full(per_head, h, np.int32))
        grams.append(head.gram())
        presents.append(head.present)
        names.append(head.name)
        if log:
            log(f"{h + 1} heads rendered ({head.name}, {len(head.vertices)} vertices)")
    if negatives:
        neg = negative_images(rng, negatives, (config or RenderConfig()).size)
        for k in ("rgb", "normals", "mask"):
            parts[k].append(neg[k])
        parts["weights"].append(np.zeros((negatives, 52), np.float32))
        parts["head"].append(np.full(negatives, -1, np.int32))
    out = {k: np.concatenate(v) for k, v in parts.items()}
    out["is_head"] = out["head"] >= 0
    out["gram"] = np.asarray(grams, np.float32).reshape(-1, 52, 52)
    out["present"] = np.asarray(presents, bool).reshape(-1, 52)
    out["head_names"] = np.array(names)
    return out

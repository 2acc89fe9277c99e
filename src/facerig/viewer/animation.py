"""Read an animation (blendshape weights over time) for the viewer.

Sources, by file suffix:

- ``.json`` with ``names``: ``{"fps": 30, "names": [...], "frames": [[w, ...], ...]}``
  (optionally ``"times": [...]`` in seconds instead of ``fps``);
- ``.glb`` / ``.gltf``: the first glTF animation channel that drives morph ``weights``; target
  names from ``mesh.extras.arkitNames`` / ``targetNames`` (or the primitive's extras);
- anything else (Live Link Face CSV, MediaPipe JSON, ``{"fps", "frames": [{name: w}]}``...):
  :func:`facerig.io.takes.read_take`. Without that module, JSON ``{name: weight}`` frames
  are read here (missing names = 0; a bare list of frames at 30 fps).

Names are matched to the rig's by ARKit canonical name (``EyeBlinkLeft`` = ``eyeBlink_L`` =
``eyeBlinkLeft``); animation channels the rig lacks are reported in ``unmatched``.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facerig.arkit import ARKIT52, canonical_name
from facerig.errors import FacerigError


@dataclass
class Animation:
    """Weights over time, already mapped onto rig shape names.

    names: (C,) rig shape names driven; times: (N,) seconds, increasing;
    weights: (N, C) float32; unmatched: animation channel names the rig does not have.
    """

    names: list[str]
    times: np.ndarray
    weights: np.ndarray
    source: str = ""
    fps: float | None = None
    unmatched: list[str] = field(default_factory=list)
    interpolation: str = "LINEAR"  # or "STEP" (glTF sampler)

    @property
    def duration(self) -> float:
        return float(self.times[-1] - self.times[0]) if len(self.times) else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "names": self.names,
            "fps": self.fps,
            "num_frames": len(self.times),
            "duration": round(self.duration, 6),
            "times": [round(float(t), 6) for t in self.times],
            "weights": np.round(self.weights.astype(np.float64), 4).tolist(),
            "unmatched": self.unmatched,
            "interpolation": self.interpolation,
        }


def _match(
    anim_names: list[str], weights: np.ndarray, times: np.ndarray, rig_names: list[str], source: str, fps: float | None
) -> Animation:
    rig_index: dict[str, int] = {}
    for i, n in enumerate(rig_names):
        rig_index.setdefault(n, i)
        c = canonical_name(n)
        if c is not None:
            rig_index.setdefault(c, i)
    cols: dict[int, int] = {}  # rig index -> animation column
    unmatched = []
    for j, n in enumerate(anim_names):
        i = rig_index.get(n, rig_index.get(canonical_name(n) or "", -1))
        if i < 0:
            unmatched.append(n)
        elif i not in cols:
            cols[i] = j
    if not cols:
        raise FacerigError(
            f"{source}: none of the animation's {len(anim_names)} channels "
            f"({', '.join(anim_names[:4])}...) match a rig shape name"
        )
    order = sorted(cols)
    w = np.asarray(weights, dtype=np.float32)[:, [cols[i] for i in order]]
    t = np.asarray(times, dtype=np.float64)
    if len(t) != len(w) or len(t) == 0:
        raise FacerigError(f"{source}: animation has {len(t)} times for {len(w)} frames")
    if np.any(np.diff(t) < 0) or not np.all(np.isfinite(t)) or not np.all(np.isfinite(w)):
        raise FacerigError(f"{source}: animation times must increase and weights be finite")
    return Animation(
        names=[rig_names[i] for i in order], times=t - t[0], weights=w, source=source, fps=fps, unmatched=unmatched
    )


def _from_json(path: Path, rig_names: list[str]) -> Animation:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise FacerigError(f"{path}: cannot read animation JSON ({e})") from None
    if isinstance(doc, list):
        doc = {"frames": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("frames"), list) or not doc["frames"]:
        raise FacerigError(f"{path}: animation JSON needs a non-empty 'frames' list")
    frames = doc["frames"]
    if isinstance(frames[0], dict):
        names: list[str] = []
        for fr in frames:
            names.extend(k for k in fr if k not in names)
        weights = np.array([[float(fr.get(n, 0.0)) for n in names] for fr in frames])
    else:
        names = [str(n) for n in doc.get("names", [])]
        try:
            weights = np.asarray(frames, dtype=np.float64)
        except (TypeError, ValueError):
            raise FacerigError(f"{path}: 'frames' must be lists of numbers or name->weight objects") from None
        if weights.ndim != 2 or weights.shape[1] != len(names):
            raise FacerigError(f"{path}: frames have shape {weights.shape} but there are {len(names)} names")
    fps = doc.get("fps")
    if "times" in doc:
        times = np.asarray(doc["times"], dtype=np.float64)
    else:
        fps = float(fps or 30.0)
        if fps <= 0:
            raise FacerigError(f"{path}: fps must be positive")
        times = np.arange(len(weights)) / fps
    return _match(names, weights, times, rig_names, str(path), float(fps) if fps else None)


# --- glTF --------------------------------------------------------------------------------------


def _from_gltf(path: Path, rig_names: list[str]) -> Animation:
    from facerig.io.gltf import read_gltf_accessor, read_gltf_document

    try:
        doc, buffers = read_gltf_document(path)
    except (OSError, ValueError, KeyError, struct.error) as e:
        raise FacerigError(f"{path}: cannot read glTF ({e.__class__.__name__}: {e})") from None
    nodes, meshes = doc.get("nodes", []), doc.get("meshes", [])
    for anim in doc.get("animations", []):
        for ch in anim.get("channels", []):
            target = ch.get("target", {})
            if target.get("path") != "weights" or "node" not in target:
                continue
            mesh_i = nodes[target["node"]].get("mesh")
            if mesh_i is None:
                continue
            mesh = meshes[mesh_i]
            extras = mesh.get("extras") or {}
            names = extras.get("arkitNames") or extras.get("targetNames")
            if not names:
                prims = mesh.get("primitives", [])
                names = (prims[0].get("extras") or {}).get("targetNames") if prims else None
            ntargets = len(mesh.get("primitives", [{}])[0].get("targets", [])) or (len(names) if names else 0)
            if not names:
                names = [f"target{i}" for i in range(ntargets)]
            sampler = anim["samplers"][ch["sampler"]]
            times = read_gltf_accessor(doc, buffers, sampler["input"]).astype(np.float64).ravel()
            values = read_gltf_accessor(doc, buffers, sampler["output"]).astype(np.float32).ravel()
            K = len(names)
            if sampler.get("interpolation") == "CUBICSPLINE":
                values = values.reshape(len(times), 3, K)[:, 1, :]  # keep the values, drop tangents
            if values.size != len(times) * K:
                raise FacerigError(
                    f"{path}: weights animation has {values.size} values for {len(times)} keys x {K} targets"
                )
            anim = _match([str(n) for n in names], values.reshape(len(times), K), times, rig_names, str(path), None)
            anim.interpolation = "STEP" if sampler.get("interpolation") == "STEP" else "LINEAR"
            return anim
    raise FacerigError(f"{path}: no morph-weights animation in this glTF")


def _from_take(path: Path, rig_names: list[str]) -> Animation:
    """Through :func:`facerig.io.takes.read_take` (Live Link Face / MediaPipe / CSV / JSON takes)."""
    from facerig.io.takes import read_take

    take = read_take(path)
    present = np.asarray(take.present, dtype=bool)
    names = [n for n, p in zip(ARKIT52, present) if p]
    anim = _match(
        names,
        np.asarray(take.weights)[:, present],
        np.asarray(take.times, np.float64),
        rig_names,
        str(path),
        float(take.fps) if take.fps else None,
    )
    anim.unmatched = list(take.unknown) + anim.unmatched
    return anim


def _simple_json(path: Path) -> bool:
    """True for the viewer's own ``{"names": [...], "frames": [[...], ...]}`` JSON."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):
        return False  # not the viewer's JSON: the takes reader reports what is wrong with it
    return (
        isinstance(doc, dict)
        and "names" in doc
        and isinstance(doc.get("frames"), list)
        and bool(doc["frames"])
        and isinstance(doc["frames"][0], list)
    )


def load_animation(path: str | os.PathLike, rig_names: list[str]) -> Animation:
    """Read an animation file and map its channels onto ``rig_names`` (see module doc)."""
    p = Path(path)
    if not p.is_file():
        raise FacerigError(f"{p}: animation file not found")
    suffix = p.suffix.lower()
    if suffix in (".glb", ".gltf"):
        return _from_gltf(p, rig_names)
    if suffix == ".json" and _simple_json(p):
        return _from_json(p, rig_names)
    return _from_take(p, rig_names)

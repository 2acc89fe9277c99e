"""RigAnyFace weights: the shipped file's format, where it is found, loading and exporting.

Weights file (``.npz``, :func:`save_weights` / :func:`read_weights`): ``config`` (JSON of
:class:`facerig.models.raf.config.RAFConfig`), ``meta`` (JSON: step, wall time, validation,
trained shapes, ...) and one ``param/<state-dict key>`` float32 array per parameter. Training
checkpoints (``.pt``) are read too when torch is installed. The shipped weights are
``src/facerig/weights/raf.npz`` (model card beside them); ``FACERIG_RAF_WEIGHTS`` points
elsewhere (:func:`facerig.config.raf_weights_override`).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from facerig.arkit import ARKIT52
from facerig.errors import FacerigError

_PREFIX = "param/"


def save_weights(path: str | os.PathLike, config: dict, state: dict[str, Any], meta: dict | None = None) -> Path:
    """Write ``config``, ``meta`` and the parameters ``state`` (name -> array or tensor) as a
    float32 NPZ, atomically."""
    from facerig.io.atomic import atomic_path

    arrays = {"config": np.array(json.dumps(config)), "meta": np.array(json.dumps(meta or {}, default=str))}
    for k, v in state.items():
        a = v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)
        arrays[_PREFIX + k] = a.astype(np.float32)
    path = Path(path)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return path


def checkpoint_weights(ckpt: dict) -> dict:
    """The weights a training checkpoint rigs with: its moving average of the weights
    (``ema_state_dict``, written when the run averages, see ``TrainConfig.ema``), else the raw
    ``state_dict`` (what the optimiser resumes from)."""
    return ckpt.get("ema_state_dict") or ckpt["state_dict"]


def read_weights(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray], dict]:
    """``(config, params, meta)`` from a weights ``.npz`` or a torch checkpoint/export ``.pt``."""
    path = Path(path)
    if path.suffix == ".pt":
        import torch

        ck = torch.load(path, map_location="cpu", weights_only=False)
        params = {k: v.float().numpy() for k, v in checkpoint_weights(ck).items()}
        meta = dict(ck.get("meta", {}))
        meta.setdefault("step", ck.get("step"))
        meta.setdefault("train_config", ck.get("train_config"))
        return dict(ck["config"]), params, meta
    with np.load(path, allow_pickle=False) as z:
        config = json.loads(str(z["config"]))
        meta = json.loads(str(z["meta"])) if "meta" in z else {}
        params = {k[len(_PREFIX) :]: np.ascontiguousarray(z[k], np.float32) for k in z.files if k.startswith(_PREFIX)}
    return config, params, meta


WEIGHTS_PATH = Path(__file__).resolve().parents[2] / "weights" / "raf.npz"


def weights_path() -> Path:
    """Shipped weights (``FACERIG_RAF_WEIGHTS`` overrides)."""
    from facerig.config import raf_weights_override

    override = raf_weights_override()
    return override if override is not None else WEIGHTS_PATH


def weights_available() -> bool:
    """True when the weights file exists (inference needs NumPy/SciPy only; a ``.pt``
    checkpoint also needs torch)."""
    p = weights_path()
    if p.suffix == ".pt":
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            return False
    return p.is_file()


@functools.lru_cache(maxsize=4)
def load_model(path: str | None = None):
    """(:class:`~facerig.models.raf.runtime.RigAnyFaceRuntime`, meta dict) from a weights
    ``.npz`` (or a training checkpoint ``.pt``)."""
    from facerig.models.raf.runtime import RigAnyFaceRuntime

    p = Path(path) if path else weights_path()
    if not p.is_file():
        raise FacerigError(f"RigAnyFace weights not found at {p}; train them (`facerig train`) or use --method dt")
    model = RigAnyFaceRuntime.load(p)
    if p.suffix == ".pt":  # a training checkpoint: the shapes its pool supervised, as `train export` records
        model.meta["trained_shapes"] = _trained_shapes(model.meta)
    return model, model.meta


def export_weights(checkpoint: str | os.PathLike, output: str | os.PathLike | None = None, note: str = "") -> Path:
    """Strip a training checkpoint to the shipped ``.npz`` (config, float32 parameters, meta)."""
    import torch

    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    out = Path(output) if output else WEIGHTS_PATH
    out.parent.mkdir(parents=True, exist_ok=True)
    trained = _trained_shapes({**ck.get("meta", {}), "train_config": ck.get("train_config")})
    meta = {
        "step": int(ck.get("step", 0)),
        "wall_s": float(ck.get("wall_s", 0.0)),
        "val": ck.get("val"),
        "train_config": ck.get("train_config"),
        "trained_shapes": trained,
        "note": note,
    }
    save_weights(out, ck["config"], checkpoint_weights(ck), meta)
    load_model.cache_clear()
    return out


def _trained_shapes(meta: dict) -> list[str]:
    """A checkpoint's trained shapes: recorded in its meta, else those its pool supervised."""
    return meta.get("trained_shapes") or _pool_shapes((meta.get("train_config") or {}).get("pool_dir"))


def _pool_shapes(pool_dir: str | None) -> list[str]:
    """ARKit shapes supervised by at least one item of a training pool (all but tongueOut if the
    pool cannot be read)."""
    mask = np.zeros(len(ARKIT52), bool)
    for p in sorted(Path(pool_dir).glob("train_*.npz")) if pool_dir and Path(pool_dir).is_dir() else []:
        with np.load(p) as z:
            mask |= z["shape_mask"]
    if not mask.any():
        return [n for n in ARKIT52 if n != "tongueOut"]
    return [n for n, m in zip(ARKIT52, mask) if m]

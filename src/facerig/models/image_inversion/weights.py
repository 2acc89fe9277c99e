"""The weights file: NPZ with ``config`` (JSON), ``meta`` (JSON) and ``param/<state-dict key>`` float32 arrays."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from facerig.errors import FacerigError
from facerig.models.image_inversion.config import ImageInversionConfig

WEIGHTS_NAME = "image_inversion.npz"


def weights_path() -> Path:
    """The shipped weights: ``facerig/weights/image_inversion.npz``."""
    return Path(__file__).resolve().parents[2] / "weights" / WEIGHTS_NAME


def require_torch():
    """Import torch or raise a one-line FacerigError saying how to get it."""
    try:
        import torch
    except ImportError as exc:
        raise FacerigError(
            "image inversion needs PyTorch, which is not installed: pip install torch "
            "(CPU build: pip install torch --index-url https://download.pytorch.org/whl/cpu)"
        ) from exc
    return torch


def save_weights(path: str | os.PathLike, model, meta: dict | None = None, calibration=None, tta=None) -> None:
    """Write ``model`` (an :class:`~facerig.models.image_inversion.network.ImageInversionNet`) as NPZ, atomically,
    with ``calibration`` (an :class:`~facerig.models.image_inversion.calibration.OutputCalibration` fitted for
    these weights) and ``tta`` (a :class:`~facerig.models.image_inversion.tta.TestTimeAugmentation` chosen for
    them) when given; a model's own ``calibration`` / ``tta`` is not carried over (new weights need new ones)."""
    from facerig.io.atomic import atomic_path

    arrays = {
        f"param/{k}": v.detach().cpu().numpy().astype(np.float32)
        for k, v in model.state_dict().items()
        if v.dtype.is_floating_point
    }
    arrays["config"] = np.array(json.dumps(model.config.to_dict()))
    arrays["meta"] = np.array(json.dumps(meta or {}))
    if calibration is not None:
        arrays.update(calibration.to_arrays())
    if tta is not None:
        arrays.update(tta.to_arrays())
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def read_weights(path: str | os.PathLike) -> tuple[ImageInversionConfig, dict, dict[str, np.ndarray]]:
    """``(config, meta, params)`` of a weights file; FacerigError when it is missing or not one."""
    p = Path(path)
    if not p.is_file():
        raise FacerigError(f"image inversion weights not found: {p}")
    try:
        with np.load(p, allow_pickle=False) as z:
            cfg = ImageInversionConfig.from_dict(json.loads(str(z["config"])))
            meta = json.loads(str(z["meta"]))
            params = {k[len("param/") :]: z[k] for k in z.files if k.startswith("param/")}
    except (OSError, ValueError, KeyError) as exc:
        raise FacerigError(f"{p.name} is not an image inversion weights file ({exc})") from exc
    return cfg, meta, params


def read_calibration(path: str | os.PathLike):
    """The output calibration stored in a weights file
    (:class:`~facerig.models.image_inversion.calibration.OutputCalibration`), or None when it has none."""
    from facerig.models.image_inversion.calibration import OutputCalibration

    try:
        with np.load(Path(path), allow_pickle=False) as z:
            return OutputCalibration.from_arrays(z)
    except (OSError, ValueError, KeyError) as exc:
        raise FacerigError(f"{Path(path).name}: unreadable output calibration ({exc})") from exc


def read_tta(path: str | os.PathLike):
    """The test-time augmentation stored in a weights file
    (:class:`~facerig.models.image_inversion.tta.TestTimeAugmentation`), or None when it has none."""
    from facerig.models.image_inversion.tta import TestTimeAugmentation

    try:
        with np.load(Path(path), allow_pickle=False) as z:
            return TestTimeAugmentation.from_arrays(z)
    except (OSError, ValueError, KeyError) as exc:
        raise FacerigError(f"{Path(path).name}: unreadable test-time augmentation ({exc})") from exc


def model_from_weights(path: str | os.PathLike | None = None):
    """A fresh torch :class:`ImageInversionNet` in eval mode with the weights of ``path`` (default shipped);
    ``model.calibration`` is the file's output calibration (:func:`read_calibration`) or None, ``model.tta`` its
    test-time augmentation (:func:`read_tta`) or None."""
    torch = require_torch()
    from facerig.models.image_inversion.network import ImageInversionNet

    cfg, meta, params = read_weights(path or weights_path())
    model = ImageInversionNet(cfg)
    state = model.state_dict()
    for k, v in params.items():
        if k not in state or tuple(state[k].shape) != v.shape:
            raise FacerigError(f"weights do not fit the network ({k})")
        state[k] = torch.from_numpy(v)
    model.load_state_dict(state)
    model.eval()
    model.meta = meta
    model.calibration = read_calibration(path or weights_path())
    model.tta = read_tta(path or weights_path())
    return model


@lru_cache(maxsize=2)
def _cached(path: str, mtime: float):
    return model_from_weights(path)


def load_model(path: str | os.PathLike | None = None):
    """:func:`model_from_weights`, cached per file (do not train the returned model; use
    :func:`model_from_weights` for a copy to fine-tune)."""
    p = Path(path or weights_path()).resolve()
    if not p.is_file():
        raise FacerigError(f"image inversion weights not found: {p}")
    return _cached(str(p), p.stat().st_mtime)

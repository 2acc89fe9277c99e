"""Where the expression encoder's shipped weights are, and loading them.

The file format is RigAnyFace's (:func:`facerig.models.raf.weights.save_weights` /
:func:`~facerig.models.raf.weights.read_weights`: ``config`` JSON of
:class:`facerig.models.encoder.config.EncoderConfig`, ``meta`` JSON, ``param/<name>`` float32
arrays). Shipped: ``src/facerig/weights/encoder.npz`` (model card ``ENCODER.md`` beside it);
``FACERIG_ENCODER_WEIGHTS`` points elsewhere.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from facerig.errors import FacerigError

WEIGHTS_PATH = Path(__file__).resolve().parents[2] / "weights" / "encoder.npz"


def weights_path() -> Path:
    """The encoder weights used by default (``FACERIG_ENCODER_WEIGHTS`` overrides the shipped file)."""
    from facerig.config import encoder_weights_override

    override = encoder_weights_override()
    return override if override is not None else WEIGHTS_PATH


def load_encoder(path: str | os.PathLike | None = None):
    """:class:`~facerig.models.encoder.runtime.EncoderRuntime` from a weights ``.npz`` (default
    :func:`weights_path`), read once per path. Raises FacerigError when the file is missing."""
    return _load(str(Path(path) if path else weights_path()))


@functools.lru_cache(maxsize=4)
def _load(path: str):
    from facerig.models.encoder.runtime import EncoderRuntime

    p = Path(path)
    if not p.is_file():
        raise FacerigError(
            f"expression encoder weights not found at {p}; train them (`facerig train encoder`) or give --neutral"
        )
    return EncoderRuntime.load(p)

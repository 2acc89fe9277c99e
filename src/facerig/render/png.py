"""Write images as PNG with the standard library only (zlib + struct), atomically."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

from facerig.errors import FacerigError
from facerig.io.atomic import write_bytes_atomic


def encode_png(image) -> bytes:
    """(H, W), (H, W, 3) or (H, W, 4) array or tensor, float in [0, 1] (clipped) or uint8 -> PNG bytes (8 bit)."""
    a = image.detach().cpu().numpy() if hasattr(image, "detach") else np.asarray(image)
    if a.dtype != np.uint8:
        a = (np.clip(np.nan_to_num(a.astype(np.float64)), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or 0 in a.shape:
        raise FacerigError(f"cannot write an image of shape {tuple(a.shape)} as PNG")
    h, w, c = a.shape
    color_type = {1: 0, 3: 2, 4: 6}[c]
    raw = np.concatenate([np.zeros((h, 1), np.uint8), a.reshape(h, w * c)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def write_png(path: str | os.PathLike, image) -> None:
    """Write an (H, W[, C]) image (see :func:`encode_png`) to ``path`` atomically."""
    write_bytes_atomic(path, encode_png(image))

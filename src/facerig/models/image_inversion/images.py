"""Reading and preparing input images: any size (centre square crop, then resize), alpha or not,
grayscale RGB, 8 or 16 bit (Pillow).

A prepared image is (S, S, 3) float32 in [0, 1]. RGB images with alpha are composited on mid
grey, normal maps with alpha on black (the training background of normal maps).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from facerig.errors import FacerigError
from facerig.models.image_inversion.mirror import normals_foreground

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")


def _pil():
    try:
        from PIL import Image
    except ImportError as exc:
        raise FacerigError("reading images needs Pillow, which is not installed: pip install Pillow") from exc
    return Image


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file -> (H, W, C) float32 in [0, 1], C = 1 (gray), 2 (gray + alpha), 3 or 4 (RGBA)."""
    Image = _pil()
    p = Path(path)
    if not p.is_file():
        raise FacerigError(f"image not found: {p}")
    if p.stat().st_size == 0:
        raise FacerigError(f"{p.name} is empty")
    try:
        with Image.open(p) as im:
            im.load()
            return image_array(im)
    except FacerigError:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for a broken file
        raise FacerigError(f"{p.name} is not a readable image ({type(exc).__name__}: {exc})") from exc


def image_array(im) -> np.ndarray:
    """A PIL image in any mode -> (H, W, C) float32 in [0, 1] (see :func:`read_image`)."""
    if im.width == 0 or im.height == 0:
        raise FacerigError("the image is empty (0 pixels)")
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im, dtype=np.float64)
        return (a / (65535.0 if a.max() > 255 else 255.0)).astype(np.float32)[..., None]
    if mode == "F":
        return np.clip(np.asarray(im, np.float32), 0, 1)[..., None]
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode in ("1", "L"):
        im = im.convert("L")
    elif mode == "LA" or mode == "RGBA":
        pass
    elif mode == "PA":
        im = im.convert("RGBA")
    else:
        im = im.convert("RGB")
    a = np.asarray(im, dtype=np.float32) / 255.0
    return a[..., None] if a.ndim == 2 else a


def split_alpha(a: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """(H, W, C) -> (colour (H, W, 3), alpha (H, W) or None, was_gray)."""
    if a.ndim != 3 or a.shape[0] == 0 or a.shape[1] == 0:
        raise FacerigError(f"an image must be (H, W[, C]) with pixels, not {tuple(a.shape)}")
    c = a.shape[2]
    alpha = a[..., -1] if c in (2, 4) else None
    col = a[..., :1] if c in (1, 2) else a[..., :3]
    gray = col.shape[2] == 1
    if gray:
        col = np.repeat(col, 3, axis=2)
    return col.astype(np.float32), alpha, gray


def square_resize(a: np.ndarray, size: int) -> np.ndarray:
    """(H, W, C) float -> (size, size, C): centre square crop, then an antialiased resize."""
    Image = _pil()
    H, W = a.shape[:2]
    s = min(H, W)
    y0, x0 = (H - s) // 2, (W - s) // 2
    a = a[y0 : y0 + s, x0 : x0 + s]
    if s == size:
        return np.ascontiguousarray(a, dtype=np.float32)
    chans = [
        np.asarray(
            Image.fromarray(a[..., k].astype(np.float32), mode="F").resize(
                (size, size), Image.BILINEAR if s < size else Image.BOX
            )
        )
        for k in range(a.shape[2])
    ]
    return np.stack(chans, axis=-1).astype(np.float32)


def prepare_pair(
    rgb: np.ndarray | None, normals: np.ndarray | None, size: int, names: tuple[str, str] = ("RGB image", "normal map")
) -> dict:
    """Prepare one frame: RGB and/or normal map arrays (H, W, C) in [0, 1] -> network inputs.

    Returns:
        {"rgb": (S, S, 3) or None, "normals": (S, S, 3) or None, "normals_foreground": (S, S) soft head
        mask of the normal map (unit normals, and alpha) when one is given, "foreground": fraction of head
        pixels where it can be told (alpha, or valid unit normals), else NaN, "notes": [...]}.
    """
    if rgb is None and normals is None:
        raise FacerigError("give an RGB image, a normal map or both")
    notes: list[str] = []
    fg = float("nan")
    out: dict = {"rgb": None, "normals": None}
    if rgb is not None and normals is not None and rgb.shape[:2] != normals.shape[:2]:
        raise FacerigError(
            f"the {names[0]} is {rgb.shape[1]}x{rgb.shape[0]} but the {names[1]} is "
            f"{normals.shape[1]}x{normals.shape[0]}: give them the same size"
        )
    if rgb is not None:
        col, alpha, gray = split_alpha(np.asarray(rgb, np.float32))
        if gray:
            notes.append("grayscale image read as RGB")
        if alpha is not None:
            col = col * alpha[..., None] + 0.5 * (1 - alpha[..., None])
            fg = float((alpha > 0.5).mean())
        out["rgb"] = np.clip(square_resize(col, size), 0, 1)
    if normals is not None:
        col, alpha, gray = split_alpha(np.asarray(normals, np.float32))
        if gray:
            raise FacerigError(f"the {names[1]} is grayscale: a normal map has 3 channels, RGB = (n + 1) / 2")
        unit = normals_foreground(col) > 0.5
        if alpha is not None:
            col = col * alpha[..., None]
            unit &= alpha > 0.5
        fg = float(unit.mean()) if np.isnan(fg) else min(fg, float(unit.mean()) + 0.05)
        out["normals"] = np.clip(square_resize(col, size), 0, 1)
        out["normals_foreground"] = np.clip(square_resize(unit.astype(np.float32)[..., None], size)[..., 0], 0, 1)
    out["foreground"] = fg
    out["notes"] = notes
    return out

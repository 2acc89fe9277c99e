"""The Python API: ARKit-52 weights from images.

>>> from facerig.models.image_inversion.infer import invert_image_files
>>> res = invert_image_files(["face.png"])            # doctest: +SKIP
>>> res.as_dicts()[0]["weights"]["jawOpen"]           # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facerig.arkit import ARKIT52
from facerig.errors import FacerigError
from facerig.models.image_inversion.images import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    prepare_pair,
    read_image,
)
from facerig.models.image_inversion.weights import load_model, require_torch

#: Below this head probability (the network's head-presence output) a frame is flagged.
MIN_HEAD_PROBABILITY = 0.5
#: Below this share of head pixels (from alpha or a normal map) a frame is flagged.
MIN_FOREGROUND = 0.03


@dataclass
class ImageInversion:
    """Weights of N frames.

    Attributes:
        weights: (N, 52) float64 in [0, 1], :data:`facerig.arkit.ARKIT52` order.
        head_probability: (N,) the network's belief that a head is in the frame.
        foreground: (N,) share of head pixels where alpha or a normal map tells it, else NaN.
        low_confidence: (N,) bool, True when a frame is unlikely to show a head: do not trust its weights.
        sources: (N,) file names (or "" for arrays).
        modalities: "rgb", "normals" or "rgb+normals".
        notes: per-run notes (grayscale input, ...).
    """

    weights: np.ndarray
    head_probability: np.ndarray
    foreground: np.ndarray
    low_confidence: np.ndarray
    sources: list[str]
    modalities: str
    notes: list[str] = field(default_factory=list)

    def as_dicts(self) -> list[dict]:
        """Per frame: {"source", "weights": {ARKit name: weight}, "head_probability", "low_confidence"}."""
        out = []
        for i in range(len(self.weights)):
            named = {n: round(float(w), 5) for n, w in zip(ARKIT52, self.weights[i])}
            d = {
                "source": self.sources[i],
                "weights": named,
                "head_probability": round(float(self.head_probability[i]), 4),
                "low_confidence": bool(self.low_confidence[i]),
            }
            if np.isfinite(self.foreground[i]):
                d["foreground"] = round(float(self.foreground[i]), 4)
            out.append(d)
        return out


def invert_arrays(
    rgb: list[np.ndarray] | None = None,
    normals: list[np.ndarray] | None = None,
    *,
    model=None,
    weights: str | os.PathLike | None = None,
    batch: int = 64,
    sources: list[str] | None = None,
    threads: int | None = None,
    mirror: bool = True,
    calibrate: bool = True,
    tta: bool = True,
) -> ImageInversion:
    """Weights of frames given as arrays.

    Args:
        rgb: N arrays (H, W[, C]) in [0, 1] (C = 1, 2, 3, 4: gray, gray + alpha, RGB, RGBA), or None.
        normals: N camera-space normal maps (H, W, 3[+alpha]) RGB = (n + 1) / 2, or None.
        model: a loaded network (default: :func:`load_model` of ``weights`` or the shipped file).
        threads: torch intra-op threads for this call (restored after); None keeps torch's setting.
        mirror: mirror test-time augmentation (:func:`network_pass`): each frame is also read mirrored.
        calibrate: map the weights through the weights file's output calibration (:mod:`.calibration`), if any.
        tta: the weights file's test-time augmentation (:mod:`.tta`: shifted / zoomed views, modality blend), if any.
    """
    torch = require_torch()
    if rgb is None and normals is None:
        raise FacerigError("give RGB images, normal maps or both")
    n = len(rgb if rgb is not None else normals)
    if rgb is not None and normals is not None and len(normals) != n:
        raise FacerigError(f"{len(rgb)} RGB images but {len(normals)} normal maps")
    if n == 0:
        raise FacerigError("no images to read")
    model = model or load_model(weights)
    S = model.config.size
    prep = [prepare_pair(None if rgb is None else rgb[i], None if normals is None else normals[i], S) for i in range(n)]
    x = np.zeros((n, S, S, 3), np.float32)
    nm = np.zeros((n, S, S, 3), np.float32)
    for i, p in enumerate(prep):
        if p["rgb"] is not None:
            x[i] = p["rgb"]
        if p["normals"] is not None:
            nm[i] = p["normals"]
    use = np.array([[rgb is not None, normals is not None]] * n, np.float32)
    nfg = np.stack([p["normals_foreground"] for p in prep]) if normals is not None else None
    prev = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        W, logit = network_pass(
            model, x, nm, use, batch=batch, mirror=mirror, foreground=nfg, calibrate=calibrate, tta=tta
        )
    finally:
        if threads:
            torch.set_num_threads(prev)
    prob = 1 / (1 + np.exp(-logit))
    fg = np.array([p["foreground"] for p in prep])
    low = (prob < MIN_HEAD_PROBABILITY) | (np.nan_to_num(fg, nan=1.0) < MIN_FOREGROUND)
    notes = sorted({t for p in prep for t in p["notes"]})
    mod = "+".join(m for m, a in (("rgb", rgb), ("normals", normals)) if a is not None)
    return ImageInversion(np.clip(W, 0, 1), prob, fg, low, list(sources or [""] * n), mod, notes)


def network_pass(
    model,
    rgb: np.ndarray,
    normals: np.ndarray,
    use: np.ndarray,
    *,
    batch: int = 64,
    mirror: bool = True,
    foreground: np.ndarray | None = None,
    calibrate: bool = True,
    tta: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The network on prepared frames, with or without the mirror test-time augmentation.

    Args:
        rgb, normals: (N, S, S, 3) float32 in [0, 1] (zeros for a missing modality).
        use: (N, 2) modality flags (RGB, normals).
        mirror: also read each frame's mirror image (:mod:`.mirror`: columns flipped, the normal maps' x
            negated on the head) and average its Left / Right-swapped weights with the frame's, and the two
            head logits (:func:`.mirror.combine_head_logits`). Twice the network cost.
        foreground: (N, S, S) soft head mask of the normal maps (default: read from the maps).
        calibrate: map the (mirror-averaged) weights through ``model.calibration``
            (:class:`.calibration.OutputCalibration`, from the weights file) when the model has one; the head
            logits are never calibrated.
        tta: when the model has a test-time augmentation (``model.tta``, :class:`.tta.TestTimeAugmentation` from
            the weights file), read every frame in its views (each mirrored when ``mirror``), average, blend the
            modality readings of frames given both, and calibrate with its own calibration (fitted on readings
            taken this way) instead of ``model.calibration``. The head logits stay those of the first (identity)
            view, so the head-presence flags do not change. False: the plain (mirror) reading.

    Returns:
        (weights (N, 52) float64 in [0, 1], head logits (N,) float64).
    """
    import torch

    aug = getattr(model, "tta", None)
    if tta and aug is not None:
        from facerig.models.image_inversion.tta import tta_pass

        return tta_pass(
            model, aug, rgb, normals, use, batch=batch, mirror=mirror, foreground=foreground, calibrate=calibrate
        )

    from facerig.models.image_inversion.mirror import combine_head_logits, mirror_images, unmirror_weights

    n = len(use)
    W, logit = np.zeros((n, 52)), np.zeros(n)
    with torch.no_grad():
        for s in range(0, n, batch):
            sl = slice(s, min(n, s + batch))
            x, nm, u = rgb[sl], normals[sl], use[sl]
            if mirror:
                xm, nmm = mirror_images(x, nm, None if foreground is None else foreground[sl])
                x, nm, u = np.concatenate([x, xm]), np.concatenate([nm, nmm]), np.concatenate([u, u])
            w, h = model(
                torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32)),
                torch.from_numpy(np.ascontiguousarray(nm.transpose(0, 3, 1, 2), dtype=np.float32)),
                torch.from_numpy(np.asarray(u, np.float32)),
            )
            w, h = w.double().numpy(), h.double().numpy()
            if mirror:
                k = sl.stop - sl.start
                w = 0.5 * (w[:k] + unmirror_weights(w[k:]))
                h = combine_head_logits(h[:k], h[k:])
            W[sl], logit[sl] = w, h
    cal = getattr(model, "calibration", None)
    if calibrate and cal is not None:
        W = cal.apply(W, use)
    return np.clip(W, 0, 1), logit


def list_frames(path: str | os.PathLike) -> list[Path]:
    """An image file, a folder of images (natural order) or a video -> image paths.

    Videos need a maintained reader; none is a facerig dependency, so a video raises a FacerigError
    that says how to extract its frames.
    """
    import re

    p = Path(path)
    if p.is_dir():
        files = [f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()]
        if not files:
            raise FacerigError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {p}")
        key = lambda f: [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", f.name)]
        return sorted(files, key=key)
    if p.suffix.lower() in VIDEO_SUFFIXES:
        raise FacerigError(
            f"{p.name}: video input needs a video reader (imageio or OpenCV), which facerig does not "
            f"install; extract the frames first: ffmpeg -i {p.name} frames/%05d.png"
        )
    if not p.exists():
        raise FacerigError(f"image not found: {p}")
    return [p]


def invert_image_files(
    images: list[str | os.PathLike] | str | os.PathLike | None,
    normals: list[str | os.PathLike] | str | os.PathLike | None = None,
    **kw,
) -> ImageInversion:
    """Weights of image files: ``images`` and/or ``normals`` each a file, a folder or a list of files
    (same number and sizes when both are given). Keywords as :func:`invert_arrays`."""

    def expand(a):
        if a is None:
            return None
        if isinstance(a, (str, os.PathLike)):
            return list_frames(a)
        return [Path(x) for x in a]

    ri, ni = expand(images), expand(normals)
    if ri is not None and ni is not None and len(ri) != len(ni):
        raise FacerigError(f"{len(ri)} RGB images but {len(ni)} normal maps")
    rgb = None if ri is None else [read_image(f) for f in ri]
    nrm = None if ni is None else [read_image(f) for f in ni]
    srcs = [f.name for f in (ri if ri is not None else ni)]
    return invert_arrays(rgb, nrm, sources=srcs, **kw)

"""Test-time augmentation beyond the mirror: each frame read in a few shifted / zoomed / brightened views, the
readings averaged, and (RGB + normals given) a per-shape blend of the RGB-only, normals-only and both readings.

The training jittered the framing (face box 35-95 % of the image, centre offset up to 6 %) and the brightness,
so a frame moved by a few pixels, zoomed a little or made brighter is an image the network was trained to read;
its reading differs by the network's noise, which averaging over views lowers. The branches' features are
computed once per view and the network's MLP read three times on them (RGB only: the normal branch's features
replaced by the learned missing vector, normals only the same way, both), so the blend costs no extra
convolution.

What is used (:class:`TestTimeAugmentation`: the views, the blend and an output calibration fitted on readings
taken this way) is stored in the weights file under ``tta/`` (:meth:`TestTimeAugmentation.to_arrays`) and was
chosen on the ``calib`` split of training identities only (``benchmarks/image_inversion_tta.py``); a weights file
without it reads with the mirror alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Columns of a view row: shift right (px), shift down (px), zoom (> 1 magnifies about the centre), RGB gain.
VIEW_COLUMNS = ("dx", "dy", "zoom", "gain")
#: Modality readings in :func:`modality_readings` order (as :data:`.calibration.MODALITIES`).
READINGS = ("rgb", "normals", "both")


def view_images(images: np.ndarray, view, *, gain: bool = False) -> np.ndarray:
    """(B, S, S, C) float images in [0, 1] seen in one view -> (B, S, S, C) float32.

    Args:
        view: (dx, dy, zoom, gain) (:data:`VIEW_COLUMNS`): the content moved ``dx`` pixels right and ``dy`` down,
            magnified ``zoom`` times about the image centre (bilinear, edges replicated).
        gain: multiply by the view's gain (RGB images; a normal map keeps its values), clipped to [0, 1].
    """
    dx, dy, zoom, g = (float(v) for v in view)
    x = np.asarray(images, np.float32)
    if zoom == 1 and dx == int(dx) and dy == int(dy):
        if dx or dy:  # whole pixels: a copy with the edge rows / columns repeated
            S = x.shape[1]
            rows = np.clip(np.arange(S) - int(dy), 0, S - 1)
            cols = np.clip(np.arange(x.shape[2]) - int(dx), 0, x.shape[2] - 1)
            x = x[:, rows][:, :, cols]
    else:
        import torch
        import torch.nn.functional as F

        B, S = x.shape[0], x.shape[1]
        # output pixel at normalised p samples the input at p / zoom - shift (align_corners=False units: 2 / S per px)
        theta = torch.tensor([[1 / zoom, 0, -2 * dx / S], [0, 1 / zoom, -2 * dy / S]], dtype=torch.float32)
        t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        grid = F.affine_grid(theta.expand(B, 2, 3), list(t.shape), align_corners=False)
        t = F.grid_sample(t, grid, mode="bilinear", padding_mode="border", align_corners=False)
        x = t.numpy().transpose(0, 2, 3, 1)
    if gain and g != 1:
        x = np.clip(x * g, 0, 1)
    return np.ascontiguousarray(x, dtype=np.float32)


def modality_readings(model, rgb, normals, need=(True, True, True)):
    """The network's three readings of a batch from one convolution pass per branch.

    Args:
        model: an :class:`~.network.ImageInversionNet` in eval mode; rgb, normals: (B, 3, S, S) torch tensors.
        need: which of RGB only, normals only, both (:data:`READINGS`) to read.

    Returns:
        ({reading: (B, 52) weights in [0, 1]}, {reading: (B,) head logits}) numpy float64, for the needed readings.
    """
    import torch

    B = rgb.shape[0]
    use_r = need[0] or need[2]
    use_n = need[1] or need[2]
    f_r = model.rgb(rgb) if use_r else None
    f_n = model.normals(normals) if use_n else None
    W, H = {}, {}
    for name, want, (a, b) in zip(READINGS, need, ((1, 0), (0, 1), (1, 1))):
        if not want:
            continue
        fr = f_r if a else model.missing[0].expand(B, -1)
        fn = f_n if b else model.missing[1].expand(B, -1)
        u = torch.tensor([[float(a), float(b)]], dtype=fr.dtype).expand(B, 2)
        out = model.mlp(torch.cat([fr, fn, u], dim=1))
        W[name] = out[:, :-1].clamp(0.0, 1.0).double().numpy()
        H[name] = out[:, -1].double().numpy()
    return W, H


@dataclass
class TestTimeAugmentation:
    """Views, modality blend and output calibration of the test-time augmentation.

    Attributes:
        views: (V, 4) rows (dx, dy, zoom, gain) (:data:`VIEW_COLUMNS`); the first must be the identity (its head
            logit is the frame's: the head-presence flag is that of the plain mirror reading).
        blend: (52, 3) per-shape non-negative weights summing to 1 of the RGB-only, normals-only and both readings
            for frames given both modalities (``[0, 0, 1]`` rows: the both reading alone).
        calibration: an :class:`~.calibration.OutputCalibration` fitted on readings taken this way, or None.
    """

    __test__ = False  # not a pytest class

    views: np.ndarray
    blend: np.ndarray
    calibration: object | None = None

    def __post_init__(self):
        self.views = np.asarray(self.views, np.float64).reshape(-1, 4)
        self.blend = np.asarray(self.blend, np.float64)
        if len(self.views) == 0 or not np.allclose(self.views[0], (0, 0, 1, 1)):
            raise ValueError("the first test-time view must be the identity (0, 0, 1, 1)")
        if self.blend.ndim != 2 or self.blend.shape[1] != 3 or np.any(self.blend < 0):
            raise ValueError(f"blend of shape {self.blend.shape}: want (n_out, 3) non-negative weights")
        if not np.allclose(self.blend.sum(1), 1):
            raise ValueError("each shape's blend weights must sum to 1")

    @classmethod
    def plain(cls, n_out: int = 52) -> TestTimeAugmentation:
        """One identity view, the both reading alone, no calibration (the mirror reading)."""
        b = np.zeros((n_out, 3))
        b[:, 2] = 1
        return cls(np.array([[0, 0, 1, 1]]), b)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for the weights file: ``tta/views`` (V, 4), ``tta/blend`` (52, 3), ``tta/calibration/*``."""
        out = {"tta/views": self.views.astype(np.float32), "tta/blend": self.blend.astype(np.float32)}
        if self.calibration is not None:
            out.update({f"tta/{k}": v for k, v in self.calibration.to_arrays().items()})
        return out

    @classmethod
    def from_arrays(cls, arrays) -> TestTimeAugmentation | None:
        """The test-time augmentation stored by :meth:`to_arrays` in a mapping (an open NPZ), or None."""
        from facerig.models.image_inversion.calibration import OutputCalibration

        keys = set(getattr(arrays, "files", arrays))
        if not {"tta/views", "tta/blend"} <= keys:
            return None
        cal = None
        if {"tta/calibration/grid", "tta/calibration/values"} <= keys:
            cal = OutputCalibration(arrays["tta/calibration/grid"], arrays["tta/calibration/values"])
        return cls(arrays["tta/views"], arrays["tta/blend"], cal)


def read_views(
    model,
    rgb: np.ndarray,
    normals: np.ndarray,
    views: np.ndarray,
    *,
    mirror: bool = True,
    foreground: np.ndarray | None = None,
    need=(True, True, True),
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Every view's readings of one batch (uncalibrated, each mirror-averaged when ``mirror``).

    Args:
        rgb, normals: (B, S, S, 3) float32 in [0, 1]; views: (V, 4) (:data:`VIEW_COLUMNS`).
        foreground: (B, S, S) soft head mask of the normal maps (default read from each view's maps).
        need: readings wanted (:data:`READINGS`).

    Returns:
        ({reading: (V, B, 52)}, {reading: (V, B) head logits}).
    """
    import torch

    from facerig.models.image_inversion.mirror import combine_head_logits, mirror_images, unmirror_weights

    B = len(rgb)
    Ws: dict[str, list] = {r: [] for r, n in zip(READINGS, need) if n}
    Hs: dict[str, list] = {r: [] for r in Ws}
    for view in np.asarray(views, np.float64).reshape(-1, 4):
        x = view_images(rgb, view, gain=True)
        nm = view_images(normals, view)
        fg = None
        if foreground is not None:
            fg = view_images(np.asarray(foreground, np.float32)[..., None], view)[..., 0]
        if mirror:
            xm, nmm = mirror_images(x, nm, fg)
            x, nm = np.concatenate([x, xm]), np.concatenate([nm, nmm])
        with torch.no_grad():
            W, H = modality_readings(
                model,
                torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))),
                torch.from_numpy(np.ascontiguousarray(nm.transpose(0, 3, 1, 2))),
                need,
            )
        for r in Ws:
            w, h = W[r], H[r]
            if mirror:
                w = 0.5 * (w[:B] + unmirror_weights(w[B:]))
                h = combine_head_logits(h[:B], h[B:])
            Ws[r].append(w)
            Hs[r].append(h)
    return {r: np.stack(v) for r, v in Ws.items()}, {r: np.stack(v) for r, v in Hs.items()}


def combine(readings: dict[str, np.ndarray], use: np.ndarray, blend: np.ndarray) -> np.ndarray:
    """Averaged view readings -> (N, 52) weights per frame's modalities.

    Args:
        readings: {reading: (N, 52)} view-averaged weights (:data:`READINGS`; a frame's own modality reading must
            be there, and all three for frames given both).
        use: (N, 2) modality flags (RGB, normals); blend: (52, 3) (:class:`TestTimeAugmentation`).
    """
    from facerig.models.image_inversion.calibration import modality_rows

    rows = modality_rows(use)
    some = next(iter(readings.values()))
    out = np.zeros_like(some)
    for m, name in enumerate(READINGS):
        sel = rows == m
        if not sel.any():
            continue
        if name == "both" and all(r in readings for r in READINGS):
            out[sel] = sum(blend[None, :, j] * readings[r][sel] for j, r in enumerate(READINGS))
        else:
            out[sel] = readings[name][sel]
    return out


def tta_pass(
    model,
    aug: TestTimeAugmentation,
    rgb: np.ndarray,
    normals: np.ndarray,
    use: np.ndarray,
    *,
    batch: int = 64,
    mirror: bool = True,
    foreground: np.ndarray | None = None,
    calibrate: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`.infer.network_pass` with the test-time augmentation ``aug`` (arguments as there).

    Returns:
        (weights (N, 52) float64 in [0, 1], head logits (N,) float64: the identity view's).
    """
    from facerig.models.image_inversion.calibration import modality_rows

    n = len(use)
    rows = modality_rows(use)
    W, logit = np.zeros((n, aug.blend.shape[0])), np.zeros(n)
    for m, name in enumerate(READINGS):
        idx = np.flatnonzero(rows == m)
        need = (True, True, True) if name == "both" else tuple(r == name for r in READINGS)
        for s in range(0, len(idx), batch):
            sl = idx[s : s + batch]
            fg = None if foreground is None else foreground[sl]
            R, H = read_views(model, rgb[sl], normals[sl], aug.views, mirror=mirror, foreground=fg, need=need)
            avg = {r: v.mean(0) for r, v in R.items()}
            W[sl] = combine(avg, use[sl], aug.blend)
            logit[sl] = H[name][0]
    if calibrate and aug.calibration is not None:
        W = aug.calibration.apply(W, use)
    return np.clip(W, 0, 1), logit

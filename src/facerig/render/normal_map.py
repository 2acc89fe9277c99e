"""Camera-space normal maps, encoded RGB = (n + 1) / 2."""

from __future__ import annotations

import torch

from facerig.errors import FacerigError
from facerig.render.cameras import PerspectiveCameras
from facerig.render.normals import normalize


def normal_map(
    normals: torch.Tensor,
    mask: torch.Tensor | None,
    cameras: PerspectiveCameras,
    background: float | torch.Tensor = 0.0,
    batch_index: torch.Tensor | None = None,
) -> torch.Tensor:
    """Encode world-space pixel normals as a camera-space normal map.

    Args:
        normals: (N, H, W, 3) world-space per-pixel normals (renormalised here), or packed
            (M, 3) pixels with ``batch_index``.
        mask: (N, H, W) bool covered pixels (the rest gets ``background``), or None.
        cameras: N (or 1) cameras; camera space is +X right, +Y up, +Z toward the viewer, so a
            surface facing the camera is (0.5, 0.5, 1) (the usual light-blue normal map).
        background: scalar or (3,) value of uncovered pixels.
        batch_index: (M,) long, the image of each packed pixel (``fragments.pix_idx // (H * W)``).

    Returns:
        (N, H, W, 3) or (M, 3) in [0, 1]; differentiable.
    """
    n = normalize(normals)
    if n.dim() == 2:
        if batch_index is None:
            raise FacerigError("packed normals need the batch index of each pixel")
        R = cameras.R.to(dtype=n.dtype, device=n.device)
        R = R.expand(1, 3, 3) if len(cameras) == 1 else R.index_select(0, batch_index)  # (1 or M, 3, 3)
        nx, ny, nz = n[:, None, :].unbind(-1)
        rgb = (R[..., 0] * nx + R[..., 1] * ny + R[..., 2] * nz + 1.0) * 0.5  # rows of R dotted with n
    else:
        rgb = (cameras.world_to_view_normals(n) + 1.0) * 0.5
    if mask is None:
        return rgb
    bg = torch.as_tensor(background, dtype=rgb.dtype, device=rgb.device).expand(3)
    return torch.where(mask[..., None], rgb, bg)

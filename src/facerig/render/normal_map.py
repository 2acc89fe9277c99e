"""Camera-space normal maps, encoded RGB = (n + 1) / 2."""

from __future__ import annotations

import torch

from facerig.render.cameras import PerspectiveCameras
from facerig.render.normals import normalize


def normal_map(
    normals: torch.Tensor, mask: torch.Tensor, cameras: PerspectiveCameras, background: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """Encode world-space pixel normals as a camera-space normal map.

    Args:
        normals: (N, H, W, 3) world-space per-pixel normals (renormalised here).
        mask: (N, H, W) bool covered pixels.
        cameras: N (or 1) cameras; camera space is +X right, +Y up, +Z toward the viewer, so a
            surface facing the camera is (0.5, 0.5, 1) (the usual light-blue normal map).
        background: scalar or (3,) value of uncovered pixels.

    Returns:
        (N, H, W, 3) in [0, 1]; differentiable.
    """
    n = normalize(normals)
    rgb = (cameras.world_to_view_normals(n) + 1.0) * 0.5
    bg = torch.as_tensor(background, dtype=rgb.dtype, device=rgb.device).expand(3)
    return torch.where(mask[..., None], rgb, bg)

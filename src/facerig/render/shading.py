"""Lambertian shading with an ambient term and directional lights."""

from __future__ import annotations

import torch

from facerig.render.normals import normalize


def lambert_shade(
    normals: torch.Tensor, mask: torch.Tensor, albedo: torch.Tensor | None = None,
    light_dirs: torch.Tensor | tuple = ((0.0, 0.0, 1.0),), light_colors: torch.Tensor | tuple | None = None,
    ambient: float | torch.Tensor = 0.25, background: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """Shade pixels: ``albedo * (ambient + sum_l color_l * max(0, n . l))``.

    Args:
        normals: (N, H, W, 3) per-pixel normals (interpolated vertex normals; renormalised here),
            in the frame of ``light_dirs`` (world space in :func:`facerig.render.renderer.render_mesh`).
        mask: (N, H, W) bool, covered pixels; the rest gets ``background``.
        albedo: (N, H, W, 3) per-pixel albedo (e.g. interpolated vertex colours) or None for 1.
        light_dirs: (L, 3) or (N, L, 3) directions from the surface toward each light.
        light_colors: (L, 3) or (N, L, 3) intensities (default 0.75 white each).
        ambient: scalar or (3,) ambient intensity.
        background: scalar or (3,) colour of uncovered pixels.

    Returns:
        (N, H, W, 3) shaded image; differentiable w.r.t. normals, albedo and lights.
    """
    N = normals.shape[0]
    kw = {"dtype": normals.dtype, "device": normals.device}
    d = torch.as_tensor(light_dirs, **kw)
    while d.dim() < 3:
        d = d[None]
    d = torch.nn.functional.normalize(d, dim=-1).expand(N, -1, -1)  # (N, L, 3)
    col = torch.full_like(d, 0.75) if light_colors is None else torch.as_tensor(light_colors, **kw)
    while col.dim() < 3:
        col = col[None]
    col = col.expand_as(d)
    nx, ny, nz = normalize(normals).unbind(-1)
    light = torch.as_tensor(ambient, **kw).expand(3)
    for k in range(d.shape[1]):  # a handful of lights; per component, as size-3 reductions are slow
        dk = d[:, None, None, k]  # (N, 1, 1, 3)
        dx, dy, dz = dk.unbind(-1)
        cos = (nx * dx + ny * dy + nz * dz).clamp(min=0)
        light = light + cos[..., None] * col[:, None, None, k]
    img = light if albedo is None else light * albedo
    bg = torch.as_tensor(background, **kw).expand(3)
    return torch.where(mask[..., None], img, bg)

"""Lambertian shading with an ambient term and directional lights."""

from __future__ import annotations

import torch

from facerig.render.normals import normalize


def lambert_shade(
    normals: torch.Tensor,
    mask: torch.Tensor | None = None,
    albedo: torch.Tensor | None = None,
    light_dirs: torch.Tensor | tuple = ((0.0, 0.0, 1.0),),
    light_colors: torch.Tensor | tuple | None = None,
    ambient: float | torch.Tensor = 0.25,
    background: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """Shade pixels: ``albedo * (ambient + sum_l color_l * max(0, n . l))``.

    Args:
        normals: (N, H, W, 3) per-pixel normals (interpolated vertex normals; renormalised here),
            in the frame of ``light_dirs`` (world space in :func:`facerig.render.renderer.render_mesh`);
            or any (..., 3), e.g. packed (M, 3) pixels.
        mask: (N, H, W) bool covered pixels, the rest gets ``background``; None: shade all.
        albedo: (..., 3) like ``normals`` (e.g. interpolated vertex colours), or None for 1.
        light_dirs: (L, 3) shared or (N, L, 3) per image (for (N, H, W, 3) normals), or any
            shape broadcastable to (..., L, 3): directions from the surface toward each light.
        light_colors: like ``light_dirs``, intensities (default 0.75 white each).
        ambient: scalar or (3,) ambient intensity.
        background: scalar or (3,) colour of uncovered pixels.

    Returns:
        (..., 3) shaded colours; differentiable w.r.t. normals, albedo and lights.
    """
    kw = {"dtype": normals.dtype, "device": normals.device}
    d = torch.as_tensor(light_dirs, **kw)
    if d.dim() == 1:
        d = d[None]
    if normals.dim() == 4 and d.dim() == 3:  # per image -> broadcast over pixels
        d = d[:, None, None]
    d = normalize(d)
    col = torch.full_like(d, 0.75) if light_colors is None else torch.as_tensor(light_colors, **kw)
    if col.dim() == 3 and normals.dim() == 4:
        col = col[:, None, None]
    nx, ny, nz = normalize(normals).unbind(-1)
    light = torch.as_tensor(ambient, **kw).expand(3)
    for k in range(d.shape[-2]):  # a handful of lights; per component, as size-3 reductions are slow
        dx, dy, dz = d[..., k, :].unbind(-1)
        cos = (nx * dx + ny * dy + nz * dz).clamp(min=0)
        light = light + cos[..., None] * col[..., k, :]
    img = light if albedo is None else light * albedo
    if mask is None:
        return img
    bg = torch.as_tensor(background, **kw).expand(3)
    return torch.where(mask[..., None], img, bg)

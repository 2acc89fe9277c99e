"""Interpolation of per-vertex attributes over the rasterised pixels (differentiable)."""

from __future__ import annotations

import torch

from facerig.errors import FacerigError
from facerig.render.rasterize import Fragments


def interpolate_vertex_attributes(
    fragments: Fragments, attributes: torch.Tensor, background: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """Per-pixel attributes of the visible surface.

    Args:
        fragments: the rasteriser's output for N images of H x W (from meshes with V vertices).
        attributes: (N, V, C) per-mesh or (V, C) shared per-vertex values (colours, normals,
            2D displacement, ...).
        background: value of uncovered pixels, a scalar or (C,).

    Returns:
        (N, H, W, C): ``sum_k bary_k * attribute[face vertex k]`` with the perspective-correct
        barycentrics; differentiable w.r.t. the attributes and (through the barycentrics) the
        vertex positions.
    """
    N, (H, W) = fragments.pix_to_face.shape[0], fragments.image_size
    if attributes.dim() == 2:
        attributes = attributes[None].expand(N, -1, -1)
    if attributes.dim() != 3 or attributes.shape[0] not in (1, N):
        raise FacerigError(f"attributes must be (V, C) or ({N}, V, C), got {tuple(attributes.shape)}")
    attributes = attributes.expand(N, -1, -1)
    C = attributes.shape[-1]
    bary = fragments.pix_bary
    dtype = torch.promote_types(attributes.dtype, bary.dtype)
    vals = attributes.reshape(-1, C).to(dtype).index_select(0, fragments.pix_verts.reshape(-1)).reshape(-1, 3, C)
    b0, b1, b2 = bary.to(dtype)[..., None].unbind(1)
    v0, v1, v2 = vals.unbind(1)
    vals = b0 * v0 + b1 * v1 + b2 * v2  # (M, C); unbind + adds: faster than a size-3 reduction on the CPU
    bg = torch.as_tensor(background, dtype=dtype, device=vals.device).expand(C)
    out = bg.expand(N * H * W, C).index_put((fragments.pix_idx,), vals)
    return out.reshape(N, H, W, C)

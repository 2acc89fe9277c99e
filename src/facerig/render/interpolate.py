"""Interpolation of per-vertex attributes over the rasterised pixels (differentiable).

Two forms: image-shaped (N, H, W, C), and packed (M, C) over the M covered pixels
(``fragments.pix_idx`` order), which is cheaper when further per-pixel work (shading) follows;
:func:`unpack_pixels` turns packed values into images.
"""

from __future__ import annotations

import torch

from facerig.errors import FacerigError
from facerig.render.rasterize import Fragments


def interpolate_packed(fragments: Fragments, attributes: torch.Tensor) -> torch.Tensor:
    """Attributes of the visible surface at the M covered pixels.

    Args:
        fragments: the rasteriser's output for N images (from meshes with V vertices).
        attributes: (N, V, C) per-mesh or (V, C) shared per-vertex values.

    Returns:
        (M, C): ``sum_k bary_k * attribute[face vertex k]`` with the perspective-correct
        barycentrics, in ``fragments.pix_idx`` order; differentiable w.r.t. the attributes and
        (through the barycentrics) the vertex positions.
    """
    N = fragments.pix_to_face.shape[0]
    if attributes.dim() == 2:
        attributes = attributes[None]
    if attributes.dim() != 3 or attributes.shape[0] not in (1, N):
        raise FacerigError(f"attributes must be (V, C) or ({N}, V, C), got {tuple(attributes.shape)}")
    C = attributes.shape[-1]
    bary = fragments.pix_bary
    dtype = torch.promote_types(attributes.dtype, bary.dtype)
    idx = fragments.pix_verts.reshape(-1)
    if attributes.shape[0] == 1 and N > 1:  # shared: flat n * V + v -> v
        idx = idx % attributes.shape[1]
    vals = attributes.reshape(-1, C).to(dtype).index_select(0, idx).reshape(-1, 3, C)
    b0, b1, b2 = bary.to(dtype)[..., None].unbind(1)
    v0, v1, v2 = vals.unbind(1)
    return b0 * v0 + b1 * v1 + b2 * v2  # unbind + adds: faster than a size-3 reduction on the CPU


def unpack_pixels(fragments: Fragments, values: torch.Tensor, background: float | torch.Tensor = 0.0) -> torch.Tensor:
    """Packed per-pixel values (M, C) -> images (N, H, W, C), ``background`` (scalar or (C,)) elsewhere."""
    N, (H, W) = fragments.pix_to_face.shape[0], fragments.image_size
    C = values.shape[-1]
    bg = torch.as_tensor(background, dtype=values.dtype, device=values.device).expand(C)
    return bg.expand(N * H * W, C).index_put((fragments.pix_idx,), values).reshape(N, H, W, C)


def interpolate_vertex_attributes(
    fragments: Fragments,
    attributes: torch.Tensor,
    background: float | torch.Tensor = 0.0,
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
    return unpack_pixels(fragments, interpolate_packed(fragments, attributes), background)

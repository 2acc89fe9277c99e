"""Silhouette antialiasing (nvdiffrast-style) and the soft silhouette mask built on it.

The hard rasteriser is piecewise constant in the vertex positions, so a mask loss gives no
gradient. Like nvdiffrast's ``antialias``, every pair of horizontally or vertically adjacent
pixels where one is covered (foreground, face f) and the other is not (background) is looked
at: the segment between their centres leaves triangle f through one edge, at a fraction
``t`` in [0, 1] of the way from the foreground centre, computed from f's projected vertices and
therefore differentiable. With a box filter across that edge the foreground pixel's coverage is
``0.5 + t`` (when t < 0.5) or the background pixel gets ``t - 0.5`` of the foreground (t > 0.5),
and the two pixels' values are blended accordingly. Each edge is handled by the pairs across its
dominant direction (horizontal pairs for edges steeper than 45 degrees, vertical ones for the
others), which makes the coverage exact for a straight edge crossing the pixel. Occlusion
boundaries between two faces are not antialiased (only the silhouette against the background).
"""

from __future__ import annotations

import torch

from facerig.render.rasterize import Fragments, batch_faces, edge_functions


def _pairs(mask: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat indices (K,) of (foreground, background) neighbours along ``dim`` (2 = rows, 1 = columns)."""
    N, H, W = mask.shape
    idx = torch.arange(N * H * W, device=mask.device).reshape(N, H, W)
    a = mask.narrow(dim, 0, mask.shape[dim] - 1)
    b = mask.narrow(dim, 1, mask.shape[dim] - 1)
    ia = idx.narrow(dim, 0, mask.shape[dim] - 1)
    ib = idx.narrow(dim, 1, mask.shape[dim] - 1)
    diff = a != b
    fa = a[diff]
    pa, pb = ia[diff], ib[diff]
    return torch.where(fa, pa, pb), torch.where(fa, pb, pa)


def silhouette_crossings(
    fragments: Fragments, verts_screen: torch.Tensor, faces: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Where silhouette edges cross between neighbouring foreground / background pixel centres.

    Args:
        fragments: the rasteriser's output for ``verts_screen`` / ``faces``.
        verts_screen: (N, V, 3) pixel x, pixel y, depth (the rasteriser's input).
        faces: (F, 3) or (N, F, 3).

    Returns:
        fg (K,), bg (K,) flat pixel indices (``n * H * W + y * W + x``) and t (K, 1): the
        crossing's fraction of the way from the foreground centre, differentiable w.r.t. ``verts_screen``.
    """
    N, H, W = fragments.pix_to_face.shape
    V = verts_screen.shape[1]
    mask = fragments.pix_to_face >= 0
    fg_h, bg_h = _pairs(mask, 2)
    fg_v, bg_v = _pairs(mask, 1)
    fg = torch.cat([fg_h, fg_v])
    bg = torch.cat([bg_h, bg_v])
    horizontal = torch.arange(fg.shape[0], device=fg.device) < fg_h.shape[0]
    fb = batch_faces(faces.to(verts_screen.device), N, V)
    n = fg // (H * W)
    face = fragments.pix_to_face.reshape(-1)[fg]
    vid = fb[n, face] + (n * V)[:, None]  # (K, 3) flat vertex ids
    tri = verts_screen.reshape(N * V, 3)[vid][..., :2]  # (K, 3, 2)
    dt = tri.dtype

    def centre(p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r = p % (H * W)
        return (r % W).to(dt) + 0.5, (r // W).to(dt) + 0.5

    e_fg = edge_functions(tri, *centre(fg))
    area = (e_fg[:, 0] + e_fg[:, 1] + e_fg[:, 2])[:, None]  # 2A, the same at any point
    w_fg = e_fg / area  # (K, 3) barycentrics at the foreground centre (>= 0)
    w_bg = edge_functions(tri, *centre(bg)) / area
    leaving = w_bg < 0  # edge k (opposite vertex k) separates the two centres
    denom = torch.where(leaving, w_fg - w_bg, torch.ones_like(w_fg))
    t_all = torch.where(leaving, w_fg / denom, torch.full_like(w_fg, 2.0))
    with torch.no_grad():
        k = t_all.argmin(-1)  # the first edge the segment crosses
        e = tri.roll(-2, dims=1) - tri.roll(-1, dims=1)  # edge k runs v_k+1 -> v_k+2
        ek = e[torch.arange(e.shape[0], device=e.device), k]
        steep = ek[:, 1].abs() >= ek[:, 0].abs()
        use = leaving.any(-1) & (steep == horizontal)
    sel = use.nonzero()[:, 0]
    t = t_all[sel, k[sel]].clamp(0.0, 1.0)[:, None]
    return fg[sel], bg[sel], t


def antialias(
    image: torch.Tensor, fragments: Fragments, verts_screen: torch.Tensor, faces: torch.Tensor,
    crossings: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Blend colours across silhouette edges so the image depends smoothly on vertex positions.

    Args:
        image: (N, H, W, C) rendered values (foreground from the fragments, background elsewhere).
        fragments: the rasteriser's output for ``verts_screen`` / ``faces``.
        verts_screen: (N, V, 3) pixel x, pixel y, depth (the rasteriser's input).
        faces: (F, 3) or (N, F, 3).
        crossings: :func:`silhouette_crossings` of these, if already computed.

    Returns:
        (N, H, W, C) antialiased image; differentiable w.r.t. ``image`` and ``verts_screen``.
    """
    N, H, W, C = image.shape
    fg, bg, t = crossings if crossings is not None else silhouette_crossings(fragments, verts_screen, faces)
    flat = image.reshape(N * H * W, C)
    v_fg, v_bg = flat[fg], flat[bg]
    d_fg = (v_bg - v_fg) * (0.5 - t).clamp(min=0)
    d_bg = (v_fg - v_bg) * (t - 0.5).clamp(min=0)
    return flat.index_add(0, fg, d_fg).index_add(0, bg, d_bg).reshape(N, H, W, C)


def soft_silhouette(
    fragments: Fragments, verts_screen: torch.Tensor, faces: torch.Tensor,
    crossings: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Antialiased coverage mask (N, H, W) in [0, 1], differentiable w.r.t. ``verts_screen`` (N, V, 3).

    1 inside, 0 outside, the box-filtered edge coverage in the pixels next to the silhouette;
    a mask loss on it moves silhouette vertices. ``crossings`` as in :func:`antialias`.
    """
    hard = fragments.mask.to(verts_screen.dtype)[..., None]
    return antialias(hard, fragments, verts_screen, faces, crossings)[..., 0].clamp(0.0, 1.0)

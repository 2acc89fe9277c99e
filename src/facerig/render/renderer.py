"""One call from world-space meshes to every image the losses and the rig inversion use."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from facerig.render.antialias import antialias, silhouette_crossings, soft_silhouette
from facerig.render.cameras import PerspectiveCameras
from facerig.render.interpolate import interpolate_packed, unpack_pixels
from facerig.render.normal_map import normal_map
from facerig.render.normals import vertex_normals
from facerig.render.rasterize import Fragments, rasterize_meshes
from facerig.render.shading import lambert_shade


@dataclass
class Rendering:
    """Images of N meshes, H x W each.

    Attributes:
        image: (N, H, W, 3) Lambert-shaded colour (silhouette antialiased when asked).
        normal_map: (N, H, W, 3) camera-space normals as (n + 1) / 2, background 0.
        depth: (N, H, W) distance along the viewing axis, 0 on the background.
        mask: (N, H, W) bool hard silhouette.
        soft_mask: (N, H, W) antialiased silhouette in [0, 1] (differentiable at the boundary).
        fragments: the rasteriser's :class:`Fragments`.
        verts_screen: (N, V, 3) projected vertices (pixel x, pixel y, depth).
    """

    image: torch.Tensor
    normal_map: torch.Tensor
    depth: torch.Tensor
    mask: torch.Tensor
    soft_mask: torch.Tensor
    fragments: Fragments
    verts_screen: torch.Tensor


def _per_pixel(a: torch.Tensor, bidx: torch.Tensor, n: int) -> torch.Tensor:
    """(L, 3) shared or (N, L, 3) per-image light values -> broadcastable to packed (M, L, 3)."""
    if a.dim() == 3 and a.shape[0] > 1:
        return a.index_select(0, bidx)
    return a.reshape(-1, 3)


def project_and_rasterize(
    verts: torch.Tensor,
    faces: torch.Tensor,
    cameras: PerspectiveCameras,
    image_size: tuple[int, int],
    cull_backfaces: bool = False,
) -> tuple[Fragments, torch.Tensor]:
    """Project world (N, V, 3) vertices and rasterise -> (fragments, verts_screen (N, V, 3))."""
    vs = cameras.transform_points_screen(verts, image_size)
    return rasterize_meshes(vs, faces, image_size, cull_backfaces=cull_backfaces), vs


def render_mesh(
    verts: torch.Tensor,
    faces: torch.Tensor,
    cameras: PerspectiveCameras,
    image_size: tuple[int, int],
    vertex_colors: torch.Tensor | None = None,
    light_dirs: torch.Tensor | tuple | None = None,
    light_colors: torch.Tensor | tuple | None = None,
    ambient: float | torch.Tensor = 0.25,
    background: float | torch.Tensor = 0.0,
    antialias_image: bool = True,
    cull_backfaces: bool = False,
    neighbours: torch.Tensor | None = None,
) -> Rendering:
    """Render N meshes: shaded image, normal map, depth, hard and soft silhouettes.

    Args:
        verts: (N, V, 3) world positions (or (V, 3) for one mesh).
        faces: (F, 3) shared or (N, F, 3) per mesh.
        cameras: N or 1 :class:`PerspectiveCameras`.
        image_size: (H, W).
        vertex_colors: (N, V, 3) or (V, 3) albedo, default white.
        light_dirs: (L, 3) or (N, L, 3) world directions toward the lights; default one light
            from the camera (its view +Z in world space).
        light_colors, ambient, background: see :func:`facerig.render.shading.lambert_shade`.
        antialias_image: blend the shaded image across the silhouette like the soft mask.
        cull_backfaces: skip faces turned away from the camera.
        neighbours: :func:`facerig.render.topology.face_neighbours` of ``faces``, to skip
            recomputing it when the same topology is rendered many times.

    Returns:
        :class:`Rendering`; every image is differentiable w.r.t. ``verts`` and ``vertex_colors``.
    """
    if verts.dim() == 2:
        verts = verts[None]
    frags, vs = project_and_rasterize(verts, faces, cameras, image_size, cull_backfaces)
    N, (H, W) = verts.shape[0], image_size
    # shading and normal map on the M covered pixels only, then one scatter into the images
    vn = vertex_normals(verts, faces)
    pn = interpolate_packed(frags, vn)  # (M, 3)
    mask = frags.mask
    bidx = frags.pix_idx // (H * W)
    albedo = None if vertex_colors is None else interpolate_packed(frags, vertex_colors)
    if light_dirs is None:
        light_dirs = cameras.view_to_world_normals(verts.new_tensor([0.0, 0.0, 1.0]).expand(len(cameras), 1, 3))
    lights, colors = [
        torch.as_tensor(a, dtype=verts.dtype, device=verts.device) if a is not None else None
        for a in (light_dirs, light_colors)
    ]
    lights = _per_pixel(lights, bidx, N)
    colors = None if colors is None else _per_pixel(colors, bidx, N)
    shaded = lambert_shade(pn, None, albedo, lights, colors, ambient)
    img = unpack_pixels(frags, shaded, background)
    nmap = unpack_pixels(frags, normal_map(pn, None, cameras, batch_index=bidx), 0.0)
    cross = silhouette_crossings(frags, vs, faces, neighbours=neighbours)
    if antialias_image:
        img = antialias(img, frags, vs, faces, cross)
    return Rendering(
        image=img,
        normal_map=nmap,
        depth=frags.zbuf,
        mask=mask,
        soft_mask=soft_silhouette(frags, vs, faces, cross),
        fragments=frags,
        verts_screen=vs,
    )

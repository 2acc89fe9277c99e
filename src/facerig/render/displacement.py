"""2D displacement (optical-flow-like) fields of a deformation, for RigAnyFace's 2D displacement loss."""

from __future__ import annotations

import torch

from facerig.render.cameras import PerspectiveCameras
from facerig.render.interpolate import interpolate_vertex_attributes
from facerig.render.rasterize import Fragments, rasterize_meshes


def displacement_2d(
    verts: torch.Tensor,
    deformed: torch.Tensor,
    faces: torch.Tensor,
    cameras: PerspectiveCameras,
    image_size: tuple[int, int],
    fragments: Fragments | None = None,
) -> torch.Tensor:
    """Per-pixel screen motion of the neutral surface under a deformation (supplementary B of the paper).

    Each vertex's screen displacement (pixels, x right, y down) is interpolated over the
    rasterised *neutral* mesh, so pixel (x, y) says where the surface point seen there moves.

    Args:
        verts: (N, V, 3) neutral world positions; deformed: (N, V, 3) posed positions.
        faces: (F, 3) or (N, F, 3).
        cameras: N (or 1) cameras.
        image_size: (H, W).
        fragments: the neutral mesh's fragments if already rasterised.

    Returns:
        (N, H, W, 2) pixels, 0 on the background; differentiable w.r.t. ``deformed`` (and ``verts``).
    """
    s0 = cameras.transform_points_screen(verts, image_size)
    s1 = cameras.transform_points_screen(deformed, image_size)
    if fragments is None:
        fragments = rasterize_meshes(s0, faces, image_size)
    return interpolate_vertex_attributes(fragments, s1[..., :2] - s0[..., :2])

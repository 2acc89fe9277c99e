"""Per-vertex normals of batched triangle meshes (torch, differentiable)."""

from __future__ import annotations

import torch

from facerig.render.rasterize import batch_faces


def normalize(v: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Unit vectors (..., 3) -> (..., 3); zero stays zero, with a finite gradient (the square is
    clamped before the root; written per component: faster on the CPU)."""
    x, y, z = v.unbind(-1)
    n = (x * x + y * y + z * z).clamp(min=eps * eps).sqrt()
    return v / n[..., None]


def face_normals(verts: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Area-weighted face normals: verts (N, V, 3), faces (F, 3) or (N, F, 3) -> (N, F, 3).

    The length is twice the face area; the direction follows the right-hand rule
    (counter-clockwise v0, v1, v2 points the normal at the viewer). Padding faces give 0.
    """
    N, V, _ = verts.shape
    fb = batch_faces(faces.to(verts.device), N, V)
    tri = torch.gather(verts, 1, fb.clamp(min=0).reshape(N, -1, 1).expand(-1, -1, 3)).reshape(N, -1, 3, 3)
    fn = torch.linalg.cross(tri[:, :, 1] - tri[:, :, 0], tri[:, :, 2] - tri[:, :, 0], dim=-1)
    return fn * (fb >= 0).all(-1, keepdim=True)


def vertex_normals(verts: torch.Tensor, faces: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Unit vertex normals, the area-weighted mean of the adjacent face normals.

    verts (N, V, 3), faces (F, 3) or (N, F, 3) -> (N, V, 3); a vertex in no face gets 0.
    """
    N, V, _ = verts.shape
    fb = batch_faces(faces.to(verts.device), N, V).clamp(min=0)
    fn = face_normals(verts, faces)  # (N, F, 3)
    idx = (fb + (torch.arange(N, device=verts.device) * V)[:, None, None]).reshape(-1)
    vn = verts.new_zeros(N * V, 3).index_add(0, idx, fn[:, :, None, :].expand(-1, -1, 3, -1).reshape(-1, 3))
    return normalize(vn.reshape(N, V, 3), eps)

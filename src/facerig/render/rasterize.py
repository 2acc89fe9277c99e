"""Rasterisation: per pixel the nearest face, its perspective-correct barycentrics and depth.

Two passes, as in nvdiffrast:

1. visibility (not differentiated): every face is enumerated over the pixels of its screen
   bounding box (one flat tensor of (face, pixel) candidates built with ``repeat_interleave``),
   candidates whose pixel centre lies inside the triangle keep their depth, and a z-buffer is a
   ``scatter_reduce(amin)`` over a 64-bit key (float32 depth bits << 32 | face id), so the
   nearest face wins and equal depths go to the lower face id. No Python loop over faces or pixels.
2. barycentrics and depth of the winning face at each covered pixel centre are recomputed from
   the projected vertex positions with autograd on: gradients reach vertex positions (and the
   camera) through them, and attributes interpolated with them (:mod:`facerig.render.interpolate`).

Faces with a vertex nearer than ``znear`` are culled (no clipping); degenerate faces (screen
area below 1e-12 px^2) are skipped. Memory grows with the summed bounding-box area of the
faces, so very large on-screen faces (a floor plane across the image) cost H x W candidates each
(a call fails with :class:`FacerigError` above :data:`MAX_CANDIDATES`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from facerig.errors import FacerigError

_NO_KEY = torch.iinfo(torch.int64).max
#: Most (face, pixel) candidates one call may enumerate (their summed bounding-box area); about
#: 13 GB of temporaries at the limit. Beyond it the call fails instead of exhausting memory.
MAX_CANDIDATES = 250_000_000


@dataclass
class Fragments:
    """What the rasteriser returns for N images of H x W pixels (M covered pixels in all).

    Attributes:
        pix_to_face: (N, H, W) long, the visible face of each pixel (index into that mesh's
            faces), -1 where no face covers the pixel centre.
        bary_coords: (N, H, W, 3) perspective-correct barycentrics of the visible face, 0 on the
            background; differentiable w.r.t. vertex positions.
        zbuf: (N, H, W) depth (distance along the viewing axis) of the visible surface, 0 on the
            background; differentiable.
        pix_idx: (M,) long, flat index ``n * H * W + y * W + x`` of each covered pixel.
        pix_verts: (M, 3) long, vertices of its face as flat indices ``n * V + v``.
        pix_bary: (M, 3) its perspective-correct barycentrics (differentiable).
        image_size: (H, W).
    """

    pix_to_face: torch.Tensor
    bary_coords: torch.Tensor
    zbuf: torch.Tensor
    pix_idx: torch.Tensor
    pix_verts: torch.Tensor
    pix_bary: torch.Tensor
    image_size: tuple[int, int]

    @property
    def mask(self) -> torch.Tensor:
        """(N, H, W) bool, pixels covered by a face (the hard silhouette)."""
        return self.pix_to_face >= 0


def batch_faces(faces: torch.Tensor, n: int, num_verts: int) -> torch.Tensor:
    """Shared (F, 3) or per-mesh (N, F, 3) faces -> (N, F, 3) long; rows with a negative index are padding.

    Raises :class:`FacerigError` for a wrong shape or an index >= ``num_verts``.
    """
    faces = torch.as_tensor(faces)
    if faces.dim() == 2:
        faces = faces[None].expand(n, -1, -1)
    if faces.dim() != 3 or faces.shape[-1] != 3 or faces.shape[0] not in (1, n):
        raise FacerigError(f"faces must be (F, 3) or ({n}, F, 3) triangles, got {tuple(faces.shape)}")
    faces = faces.expand(n, -1, -1).long()
    if faces.numel() and int(faces.max()) >= num_verts:
        raise FacerigError(f"a face refers to vertex {int(faces.max())} of a mesh with {num_verts} vertices")
    return faces


def edge_functions(tri: torch.Tensor, px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """Unnormalised screen barycentrics of points in triangles.

    tri (..., 3, 2) screen positions, px / py (...,) points -> (..., 3): entry k is twice the
    signed area of (p, v_{k+1}, v_{k+2}); dividing by their sum gives the barycentrics.
    (Written per component: reductions over a size-3 axis are slow on the CPU.)
    """
    xs, ys = tri.unbind(-1)  # unbind, not indexing: its backward is one stack, not three zero-filled copies
    x0, x1, x2 = (xs - px[..., None]).unbind(-1)
    y0, y1, y2 = (ys - py[..., None]).unbind(-1)
    return torch.stack([x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, x0 * y1 - x1 * y0], dim=-1)


def screen_barycentrics(tri: torch.Tensor, px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """Screen-space (affine) barycentrics of points (...,) in triangles tri (..., 3, 2) -> (..., 3)."""
    w = edge_functions(tri, px, py)
    w0, w1, w2 = w.unbind(-1)
    return w / (w0 + w1 + w2)[..., None]


@torch.no_grad()
def _candidates(tri: torch.Tensor, H: int, W: int, znear: float, cull_backfaces: bool) -> tuple[torch.Tensor, ...]:
    """Covered (face, pixel) pairs. tri (K, 3, 3) screen x, y, depth of K faces (NaN = skip).

    Returns face (P,) long index into the K faces, px (P,), py (P,) long pixel column / row and
    depth (P,) float32 at the pixel centre, for every pixel centre inside a face (edges included).
    """
    dev = tri.device
    t = tri.float()
    x, y, z = t[..., 0], t[..., 1], t[..., 2]
    x1, y1, x2, y2 = x.roll(-1, -1), y.roll(-1, -1), x.roll(-2, -1), y.roll(-2, -1)
    # w_k(p) = a_k px + b_k py + c_k is twice the signed area of (p, v_k+1, v_k+2); sum_k c_k = 2A
    a, b, c = y1 - y2, x2 - x1, x1 * y2 - x2 * y1
    area = c.sum(-1)
    za, zb, zc = z.unbind(-1)
    # a NaN / inf coordinate makes the area non-finite
    ok = torch.isfinite(area) & (torch.minimum(torch.minimum(za, zb), zc) > znear) & (area.abs() > 1e-12)
    if cull_backfaces:
        ok &= area < 0  # counter-clockwise seen from the camera is clockwise in y-down pixels
    x = torch.nan_to_num(x)
    y = torch.nan_to_num(y)
    (xa, xb, xc), (ya, yb, yc) = x.unbind(-1), y.unbind(-1)  # min / max over a size-3 axis are slow on the CPU
    i0 = torch.ceil(torch.minimum(torch.minimum(xa, xb), xc) - 0.5).clamp(0, W).long()
    i1 = torch.floor(torch.maximum(torch.maximum(xa, xb), xc) - 0.5).clamp(-1, W - 1).long()
    j0 = torch.ceil(torch.minimum(torch.minimum(ya, yb), yc) - 0.5).clamp(0, H).long()
    j1 = torch.floor(torch.maximum(torch.maximum(ya, yb), yc) - 0.5).clamp(-1, H - 1).long()
    bw, bh = (i1 - i0 + 1).clamp(min=0), (j1 - j0 + 1).clamp(min=0)
    counts = torch.where(ok, bw * bh, 0)
    keep = counts.nonzero()[:, 0]
    counts, i0, j0, bw = counts[keep], i0[keep], j0[keep], bw[keep]
    inv = 1.0 / area[keep, None]
    coef = torch.cat([a[keep] * inv, b[keep] * inv, c[keep] * inv, 1.0 / z[keep]], dim=1)  # (K', 12)
    total = int(counts.sum())
    if total > MAX_CANDIDATES:
        raise FacerigError(
            f"the faces' screen bounding boxes cover {total:,} pixels in all (limit {MAX_CANDIDATES:,}): "
            "render a smaller image or subdivide the faces that fill the screen"
        )
    if total == 0:
        e = torch.zeros(0, dtype=torch.long, device=dev)
        return e, e, e, torch.zeros(0, device=dev)
    cand = torch.repeat_interleave(torch.arange(keep.shape[0], device=dev), counts, output_size=total)
    start = torch.cumsum(counts, 0) - counts
    off = torch.arange(total, device=dev) - start[cand]
    wid = bw[cand]
    py = off // wid
    px = i0[cand] + (off - py * wid)
    py += j0[cand]
    cf = coef.index_select(0, cand)
    cx, cy = (px.float() + 0.5)[:, None], (py.float() + 0.5)[:, None]
    w = cf[:, 0:3] * cx + cf[:, 3:6] * cy + cf[:, 6:9]
    w0, w1, w2 = w.unbind(1)
    idx = ((w0 >= 0) & (w1 >= 0) & (w2 >= 0)).nonzero()[:, 0]
    w, cf = w.index_select(0, idx), cf.index_select(0, idx)
    depth = 1.0 / (w[:, 0] * cf[:, 9] + w[:, 1] * cf[:, 10] + w[:, 2] * cf[:, 11])
    return keep.index_select(0, cand.index_select(0, idx)), px.index_select(0, idx), py.index_select(0, idx), depth


def rasterize_meshes(
    verts_screen: torch.Tensor,
    faces: torch.Tensor,
    image_size: tuple[int, int],
    znear: float = 1e-6,
    cull_backfaces: bool = False,
) -> Fragments:
    """Rasterise N meshes given in screen space.

    Args:
        verts_screen: (N, V, 3) pixel x (right), pixel y (down) and positive depth per vertex
            (``PerspectiveCameras.transform_points_screen``); gradients flow back through it.
        faces: (F, 3) shared or (N, F, 3) per-mesh vertex indices; rows with a negative index
            are padding and never drawn.
        image_size: (H, W) in pixels (non-square allowed).
        znear: faces with a vertex at depth <= znear are culled.
        cull_backfaces: drop faces that are clockwise on screen (counter-clockwise triangles
            face the camera).

    Returns:
        :class:`Fragments`.
    """
    H, W = int(image_size[0]), int(image_size[1])
    if H <= 0 or W <= 0:
        raise FacerigError(f"image size must be positive, got {H} x {W}")
    if verts_screen.dim() != 3 or verts_screen.shape[-1] != 3:
        raise FacerigError(f"verts must be (N, V, 3), got {tuple(verts_screen.shape)}")
    N, V, _ = verts_screen.shape
    fb = batch_faces(faces.to(verts_screen.device), N, V)  # (N, F, 3)
    F = fb.shape[1]
    if N * F >= 2**31:
        raise FacerigError("too many faces to rasterise in one batch (2^31)")
    dev = verts_screen.device
    flat_verts = fb.clamp(min=0) + (torch.arange(N, device=dev) * V)[:, None, None]  # (N, F, 3)
    vflat = verts_screen.reshape(N * V, 3)
    with torch.no_grad():
        tri = vflat[flat_verts.reshape(-1)].reshape(N * F, 3, 3)
        valid = (fb >= 0).all(-1).reshape(-1)
        tri = torch.where(valid[:, None, None], tri, torch.nan)
        face_g, px, py, depth = _candidates(tri, H, W, znear, cull_backfaces)  # face_g: n * F + f
        pix = (face_g // max(F, 1)) * (H * W) + py * W + px
        bits = depth.view(torch.int32).to(torch.int64)  # positive float32 sort as their bit patterns
        key_buf = torch.full((N * H * W,), _NO_KEY, dtype=torch.int64, device=dev)
        key_buf.scatter_reduce_(0, pix, (bits << 32) | face_g, reduce="amin", include_self=True)
        covered = key_buf != _NO_KEY
        pix_idx = covered.nonzero()[:, 0]
        face_g = key_buf[pix_idx] & 0xFFFFFFFF
        pix_to_face = torch.full((N * H * W,), -1, dtype=torch.long, device=dev)
        pix_to_face[pix_idx] = face_g % F if F else face_g
        pix_verts = flat_verts.reshape(N * F, 3).index_select(0, face_g)  # (M, 3)
        rem = pix_idx % (H * W)
        cx = (rem % W).to(verts_screen.dtype) + 0.5
        cy = (rem // W).to(verts_screen.dtype) + 0.5
    # differentiable pass over the M covered pixels
    tv = vflat.index_select(0, pix_verts.reshape(-1)).reshape(-1, 3, 3)  # (M, 3, 3)
    w = edge_functions(tv[..., :2], cx, cy)
    w0, w1, w2 = w.unbind(1)
    z0, z1, z2 = tv[..., 2].unbind(1)
    q0, q1, q2 = w0 / z0, w1 / z1, w2 / z2
    wsum = q0 + q1 + q2
    bary = torch.stack([q0, q1, q2], dim=1) / wsum[:, None]
    depth = (w0 + w1 + w2) / wsum
    bary_img = bary.new_zeros(N * H * W, 3).index_put((pix_idx,), bary)
    zbuf = depth.new_zeros(N * H * W).index_put((pix_idx,), depth)
    return Fragments(
        pix_to_face=pix_to_face.reshape(N, H, W),
        bary_coords=bary_img.reshape(N, H, W, 3),
        zbuf=zbuf.reshape(N, H, W),
        pix_idx=pix_idx,
        pix_verts=pix_verts,
        pix_bary=bary,
        image_size=(H, W),
    )

"""Silhouette antialiasing (nvdiffrast-style) and the soft silhouette mask built on it.

The hard rasteriser is piecewise constant in the vertex positions, so a mask loss gives no
gradient. Like nvdiffrast's ``antialias``, every pair of horizontally or vertically adjacent
pixels across a silhouette is looked at: one pixel is covered by a face f in front (foreground)
and the other shows the background or a surface behind. The segment between their centres
leaves triangle f through one edge, at a fraction ``t`` in [0, 1] of the way from the
foreground centre, computed from f's projected vertices and therefore differentiable. With a
box filter across that edge the foreground pixel's coverage is ``0.5 + t`` (when t < 0.5) or
the other pixel gets ``t - 0.5`` of the foreground (t > 0.5), and the two pixels' values are
blended accordingly. Each edge is handled by the pairs across its dominant direction
(horizontal pairs for edges steeper than 45 degrees, vertical ones for the others), which makes
the coverage exact for a straight edge crossing the pixel.

Against the background any edge of f counts. Between two faces (an occlusion boundary, e.g. an
eyelid over the eyeball) the nearer pixel's face must leave through a silhouette edge of the
mesh: a boundary or non-manifold edge, or one whose neighbouring face turns the other way on
screen (front / back facing); edges inside a smooth surface are never blended.
"""

from __future__ import annotations

import torch

from facerig.render.rasterize import Fragments, batch_faces, edge_functions
from facerig.render.topology import face_neighbours


def _pairs(p2f: torch.Tensor, zbuf: torch.Tensor, dim: int, occlusion: bool) -> tuple[torch.Tensor, ...]:
    """Neighbours along ``dim`` (2 = rows, 1 = columns) that may straddle a silhouette.

    p2f (N, H, W) faces, zbuf (N, H, W) depths -> flat pixel indices fg (K,), bg (K,) (fg covered;
    bg uncovered, or covered by another face farther away) and occ (K,) bool (bg covered).
    """
    N, H, W = p2f.shape
    L = p2f.shape[dim] - 1
    idx = torch.arange(N * H * W, device=p2f.device).reshape(N, H, W)
    fa, fb = p2f.narrow(dim, 0, L), p2f.narrow(dim, 1, L)
    ma, mb = fa >= 0, fb >= 0
    pick = ma != mb
    if occlusion:
        pick = pick | (ma & mb & (fa != fb))
    a_front = (zbuf.narrow(dim, 0, L) <= zbuf.narrow(dim, 1, L)) if occlusion else ma
    a_front = torch.where(ma & mb, a_front, ma)[pick]
    pa, pb = idx.narrow(dim, 0, L)[pick], idx.narrow(dim, 1, L)[pick]
    return torch.where(a_front, pa, pb), torch.where(a_front, pb, pa), (ma & mb)[pick]


def silhouette_crossings(
    fragments: Fragments, verts_screen: torch.Tensor, faces: torch.Tensor, occlusion: bool = True,
    neighbours: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Where silhouette edges cross between neighbouring foreground / background pixel centres.

    Args:
        fragments: the rasteriser's output for ``verts_screen`` / ``faces``.
        verts_screen: (N, V, 3) pixel x, pixel y, depth (the rasteriser's input).
        faces: (F, 3) or (N, F, 3).
        occlusion: also look at occlusion boundaries between two faces (not needed for a mask).
        neighbours: ``face_neighbours(faces)`` ((F, 3) or (N, F, 3)) if already computed.

    Returns:
        fg (K,), bg (K,) flat pixel indices (``n * H * W + y * W + x``) and t (K, 1): the
        crossing's fraction of the way from the foreground centre, differentiable w.r.t. ``verts_screen``.
    """
    N, H, W = fragments.pix_to_face.shape
    V = verts_screen.shape[1]
    p2f, zbuf = fragments.pix_to_face, fragments.zbuf.detach()
    fg_h, bg_h, occ_h = _pairs(p2f, zbuf, 2, occlusion)
    fg_v, bg_v, occ_v = _pairs(p2f, zbuf, 1, occlusion)
    fg, bg, occ = torch.cat([fg_h, fg_v]), torch.cat([bg_h, bg_v]), torch.cat([occ_h, occ_v])
    horizontal = torch.arange(fg.shape[0], device=fg.device) < fg_h.shape[0]
    fb = batch_faces(faces.to(verts_screen.device), N, V)
    F = fb.shape[1]
    n = fg // (H * W)
    face = p2f.reshape(-1)[fg]
    sil_edges = None
    if occlusion and bool(occ.any()):
        with torch.no_grad():
            if neighbours is None:  # shared faces: once, not per mesh
                neighbours = face_neighbours(faces.to(fb.device).long())
            sil_edges = _edge_is_silhouette(fb, verts_screen, neighbours)  # (N * F, 3)
            keep = ~occ | sil_edges.any(-1)[n * F + face]  # most of a smooth surface has none
            fg, bg, occ, horizontal, n, face = (x[keep] for x in (fg, bg, occ, horizontal, n, face))
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
        if sil_edges is not None:  # between two faces: only through a silhouette edge of the front one
            use &= ~occ | sil_edges[n * F + face, k]
    sel = use.nonzero()[:, 0]
    t = t_all[sel, k[sel]].clamp(0.0, 1.0)[:, None]
    return fg[sel], bg[sel], t


def _orientation(fb: torch.Tensor, verts_screen: torch.Tensor) -> torch.Tensor:
    """(N * F,) sign of each face's signed screen area (0 for padding)."""
    N, V, _ = verts_screen.shape
    flat = (fb.clamp(min=0) + (torch.arange(N, device=fb.device) * V)[:, None, None]).reshape(-1)
    tri = verts_screen.reshape(N * V, 3)[flat].reshape(-1, 3, 3)[..., :2]
    w = edge_functions(tri, tri.new_zeros(tri.shape[0]), tri.new_zeros(tri.shape[0]))
    return torch.sign(w[:, 0] + w[:, 1] + w[:, 2]) * (fb >= 0).all(-1).reshape(-1)


def _edge_is_silhouette(fb: torch.Tensor, verts_screen: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
    """(N * F, 3) bool: edge k of each face is a boundary / non-manifold edge or its neighbour turns the other way."""
    N, F, _ = fb.shape
    nb = neighbours.to(fb.device).expand(N, F, 3)
    nb = torch.where(nb >= 0, nb + (torch.arange(N, device=fb.device) * F)[:, None, None], -1).reshape(-1, 3)
    orient = _orientation(fb, verts_screen)
    return (nb < 0) | (orient[nb.clamp(min=0)] != orient[:, None])


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
    if crossings is None:
        crossings = silhouette_crossings(fragments, verts_screen, faces, occlusion=False)
    return antialias(hard, fragments, verts_screen, faces, crossings)[..., 0].clamp(0.0, 1.0)

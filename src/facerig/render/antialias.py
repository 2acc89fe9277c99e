"""Silhouette antialiasing (nvdiffrast-style) and the soft silhouette mask built on it.

The hard rasteriser is piecewise constant in the vertex positions, so a mask loss gives no
gradient. Like nvdiffrast's ``antialias``, every pair of horizontally or vertically adjacent
pixels across a silhouette is looked at: one pixel is covered by a face f in front (foreground)
and the other shows the background or a surface behind. The segment between their centres
leaves the front surface through a silhouette edge of the mesh -- a boundary or non-manifold
edge, or one whose neighbouring face turns the other way on screen (front / back facing) --
found by following the segment from f across interior edges (up to 16 faces: faces can be
smaller than a pixel). The crossing lies at a fraction ``t`` in [0, 1] of the way from the
foreground centre, computed from the last face's projected vertices, so differentiable. With a
box filter across that edge the foreground pixel's coverage is ``0.5 + t`` (when t < 0.5) or
the other pixel gets ``t - 0.5`` of the foreground (t > 0.5), and the two pixels' values are
blended accordingly. Each edge is handled by the pairs across its dominant direction
(horizontal pairs for edges steeper than 45 degrees, vertical ones for the others), which makes
the coverage exact for a straight edge crossing the pixel.

Pairs between two faces (occlusion boundaries, e.g. an eyelid over the eyeball) are handled the
same way, the nearer pixel in front; where the segment reaches the other pixel's face without
crossing a silhouette edge (a smooth surface) nothing is blended.
"""

from __future__ import annotations

import torch

from facerig.render.rasterize import Fragments, batch_faces, edge_functions
from facerig.render.topology import face_neighbours

#: Most faces a pixel-to-pixel segment is followed through before its silhouette edge.
_MAX_WALK = 16
#: Occlusion pairs are looked at when the front face is this many face rings from a silhouette edge.
_NEAR_RINGS = 4


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
    fragments: Fragments,
    verts_screen: torch.Tensor,
    faces: torch.Tensor,
    occlusion: bool = True,
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
    vflat = verts_screen.reshape(N * V, 3)
    fv = (fb.clamp(min=0) + (torch.arange(N, device=fb.device) * V)[:, None, None]).reshape(-1, 3)  # (N*F, 3)
    n = fg // (H * W)
    dt = verts_screen.dtype

    def centre(p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r = p % (H * W)
        return (r % W).to(dt) + 0.5, (r // W).to(dt) + 0.5

    def exits(face_flat: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Per edge k of faces (K,): t_k where the segment a -> b (pixel ids) leaves them, whether it does,
        and (K,) twice the faces' signed screen areas."""
        tri = vflat[fv[face_flat]][..., :2]  # (K, 3, 2)
        e_a = edge_functions(tri, *centre(a))
        area = (e_a[:, 0] + e_a[:, 1] + e_a[:, 2])[:, None]  # 2A, the same at any point
        w_a, w_b = e_a / area, edge_functions(tri, *centre(b)) / area
        leaving = w_b < 0  # the segment ends beyond edge k (opposite vertex k)
        denom = torch.where(leaving, w_a - w_b, torch.ones_like(w_a))
        return torch.where(leaving, w_a / denom, torch.full_like(w_a, 2.0)), leaving, area[:, 0]

    def orientation(face_flat: torch.Tensor) -> torch.Tensor:
        """Sign of the signed screen area of faces (K,) (flat ``n * F + f``)."""
        p = vflat[fv[face_flat]]
        return torch.sign(
            (p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1])
            - (p[:, 2, 0] - p[:, 0, 0]) * (p[:, 1, 1] - p[:, 0, 1])
        )

    with torch.no_grad():
        # walk from the front pixel's face across interior edges until the segment leaves the
        # surface through a silhouette edge (a few steps: faces can be smaller than a pixel)
        if neighbours is None:  # shared faces: once, not per mesh
            neighbours = face_neighbours(faces.to(fb.device).long())
        nb = neighbours.to(fb.device).expand(N, F, 3)
        nb = torch.where(nb >= 0, nb + (torch.arange(N, device=fb.device) * F)[:, None, None], -1).reshape(-1, 3)
        cur = n * F + p2f.reshape(-1)[fg]
        if bool(occ.any()):
            # between two faces, only pairs whose front face is a few rings from a silhouette edge
            # can cross one (most such pairs lie on one smooth surface: skip their walks)
            ori = orientation(torch.arange(N * F, device=fb.device))
            near = ((nb < 0) | (ori[nb.clamp(min=0)] != ori[:, None])).any(-1)
            for _ in range(_NEAR_RINGS):
                near = near | (near[nb.clamp(min=0)] & (nb >= 0)).any(-1)
            keep = (~occ | near[cur]).nonzero()[:, 0]
            fg, bg, horizontal, cur = fg[keep], bg[keep], horizontal[keep], cur[keep]
        edge = torch.zeros_like(cur)
        found = torch.zeros_like(fg, dtype=torch.bool)
        todo = torch.arange(fg.shape[0], device=fg.device)
        for _ in range(_MAX_WALK):
            if todo.numel() == 0:
                break
            t_all, leaving, area = exits(cur[todo], fg[todo], bg[todo])
            k = t_all.argmin(-1)  # the first edge the segment crosses
            out = leaving.any(-1)
            nxt = nb[cur[todo], k]
            # a silhouette edge: boundary / non-manifold, or the face across turns the other way
            sil = (nxt < 0) | (orientation(nxt.clamp(min=0)) != torch.sign(area))
            edge[todo] = k
            found[todo] = out & sil
            walk = out & ~sil
            cur[todo[walk]] = nxt[walk]
            todo = todo[walk]
        found[todo] = False  # still inside after the last step
        ends = vflat[fv[cur]][..., :2]  # (K, 3, 2)
        e = ends.roll(-2, dims=1) - ends.roll(-1, dims=1)  # edge k runs v_k+1 -> v_k+2
        ek = e[torch.arange(e.shape[0], device=e.device), edge]
        steep = ek[:, 1].abs() >= ek[:, 0].abs()
        sel = (found & (steep == horizontal)).nonzero()[:, 0]
    t_all, _, _ = exits(cur[sel], fg[sel], bg[sel])  # differentiable
    t = t_all.gather(1, edge[sel, None]).clamp(0.0, 1.0)
    return fg[sel], bg[sel], t


def antialias(
    image: torch.Tensor,
    fragments: Fragments,
    verts_screen: torch.Tensor,
    faces: torch.Tensor,
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
    fragments: Fragments,
    verts_screen: torch.Tensor,
    faces: torch.Tensor,
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

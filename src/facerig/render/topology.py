"""Edge adjacency of triangle meshes (torch), for telling silhouette edges from interior ones."""

from __future__ import annotations

import torch


def face_neighbours(faces: torch.Tensor) -> torch.Tensor:
    """The face across each edge.

    Depends on the topology only: compute it once and pass it to
    :func:`facerig.render.renderer.render_mesh` / :func:`facerig.render.antialias.antialias` when
    the same faces are rendered many times.

    Args:
        faces: (F, 3) long vertex ids, or (N, F, 3) per mesh; rows with a negative id are padding.

    Returns:
        (F, 3) or (N, F, 3) long: entry (f, k) is the other face (same mesh) on edge k of face f
        (the edge from vertex k+1 to vertex k+2, opposite vertex k), -1 on boundary and
        non-manifold edges (three or more faces) and for padding rows.
    """
    if faces.dim() == 3:
        N, F, _ = faces.shape
        off = (int(faces.max()) + 1 if faces.numel() else 1) * torch.arange(N, device=faces.device)
        flat = torch.where(faces >= 0, faces + off[:, None, None], -1).reshape(-1, 3)
        nb = face_neighbours(flat).reshape(N, F, 3)
        return torch.where(nb >= 0, nb - (F * torch.arange(N, device=faces.device))[:, None, None], -1)
    K = faces.shape[0]
    dev = faces.device
    a, b = faces.roll(-1, dims=1), faces.roll(-2, dims=1)
    lo, hi = torch.minimum(a, b), torch.maximum(a, b)
    n = int(faces.max()) + 1 if K else 1
    key = (lo * n + hi).reshape(-1)  # (3K,) edge e = 3 f + k
    valid = (faces >= 0).all(1).repeat_interleave(3)
    key = torch.where(valid, key, -1 - torch.arange(3 * K, device=dev))  # padding never matches
    sk, order = torch.sort(key, stable=True)
    same = sk[1:] == sk[:-1]  # (3K - 1,) edge i and i + 1 of the sorted list are the same edge
    prev = torch.cat([same.new_zeros(1), same[:-1]])
    nxt = torch.cat([same[1:], same.new_zeros(1)])
    pair = (same & ~prev & ~nxt).nonzero()[:, 0]  # exactly two faces on this edge
    nb = torch.full((3 * K,), -1, dtype=torch.long, device=dev)
    e0, e1 = order[pair], order[pair + 1]
    nb[e0] = e1 // 3
    nb[e1] = e0 // 3
    return nb.reshape(K, 3)

"""Rendered 2D losses (rigged heads) and the losses that need no ground truth (unrigged heads).

Terms with ground truth (RigAnyFace's 2D supervision, rendered by :mod:`facerig.render` through
the fixed frontal camera of the head frame, :class:`facerig.render.camera.FrontalCamera`, at
``batch.image_size`` pixels, on the first ``batch.n2d`` queries):

- ``img``    mean squared difference of the Lambert-shaded renders of the predicted and the GT
  posed head (paper weight 10)
- ``mask``   mean squared difference of their soft (antialiased) silhouettes (paper weight 1)
- ``dis2d``  2D displacement fields over the rendered neutral (supplementary B), predicted vs GT,
  squared, in head widths at the nose's depth, mean over covered pixels (paper weight 1)
- ``reg``    mean squared predicted displacement (paper stage 1 regularisation, weight 1e-4)

Terms without ground truth (for unrigged heads; each is 0 when its query or data is missing):

- ``eye_close``  render-based eye closure: each eye is rendered in a close-up (the skin part only,
  the connected part holding the nose-tip landmark); the pixels inside the neutral eye contour
  (Multi-PIE 36-41 / 42-47) that show no skin (within ``EYE_DEPTH`` behind the contour) are the
  eye opening, and after a one-hot
  ``eyeBlinkLeft`` / ``eyeBlinkRight`` they should be covered: mean of ``1 - soft_mask`` over
  them (the soft silhouette carries the gradient to the lid edges)
- ``mouth_open`` ``jawOpen`` opens the mouth as the camera sees it: the projected inner-lip gap
  (61/67, 62/66, 63/65) should reach ``MOUTH_GAP`` x the outer eye-corner distance (ICT's
  ``jawOpen``: 0.35); hinge ``relu(target - gap) / eye distance``
- ``mirror``     a query and its mirror image (left/right shapes swapped) give mirrored
  displacements: ``d_q(v) = S d_q'(m(v))``, ``S = diag(-1, 1, 1)``, ``m`` the vertex nearest the
  reflection of ``v`` (only where that is within ``mirror_tol`` head widths)
- ``rigid``      parts marked rigid (eyeballs, teeth) keep their edge lengths: mean squared
  relative edge-length change
- ``smooth``     squared norm of the uniform graph Laplacian of the displacements

All take ``(pred (Q,V,3), batch, camera) -> scalar`` like :mod:`facerig.train.losses`. The per-head
data they need (faces, skin faces, edges, mirror map) is :class:`HeadGeometry`, computed once per
head by :func:`head_geometry`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from facerig.arkit import ARKIT52, mirror_permutation
from facerig.render.camera import FrontalCamera

#: Inner-lip landmark pairs (upper, lower) of Multi-PIE 68.
INNER_LIPS: tuple[tuple[int, int], ...] = ((61, 67), (62, 66), (63, 65))
#: Target ``jawOpen`` inner-lip gap / outer eye-corner distance (ICT's own is ~0.35).
MOUTH_GAP: float = 0.25
#: Eye contour landmarks (Multi-PIE 68) of each blink shape (the character's left eye is at +X).
EYE_CONTOURS: dict[str, tuple[int, ...]] = {
    "eyeBlinkLeft": tuple(range(42, 48)),
    "eyeBlinkRight": tuple(range(36, 42)),
}
#: Skin deeper than this (head widths) behind the eye contour is not rendered in the eye close-ups.
EYE_DEPTH: float = 0.03
_S = (-1.0, 1.0, 1.0)


@dataclass
class HeadGeometry:
    """Per-head data of the rendered and no-ground-truth terms (V vertices).

    faces (G,3) long; skin_faces (Gs,3) long faces of the skin part (all faces when no nose
    landmark); edges (E,2) long unique mesh edges; rigid_edges (Er,2) long edges inside rigid
    parts; mirror (V,) long mirror vertex; mirror_ok (V,) bool where the mirror map is trusted.
    """

    faces: torch.Tensor
    skin_faces: torch.Tensor
    edges: torch.Tensor
    rigid_edges: torch.Tensor
    mirror: torch.Tensor
    mirror_ok: torch.Tensor

    def to(self, device) -> HeadGeometry:
        return HeadGeometry(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


def head_geometry(
    xyz: np.ndarray,
    faces: np.ndarray,
    landmarks: np.ndarray | None = None,
    rigid: np.ndarray | None = None,
    mirror_tol: float = 0.01,
) -> HeadGeometry:
    """:class:`HeadGeometry` of a head-frame mesh: xyz (V,3), faces (G,3), landmarks (68,) (-1
    absent), rigid (V,) bool or None; ``mirror_tol`` in head widths (the frame's unit)."""
    from scipy.spatial import cKDTree

    from facerig.geometry.components import connected_components

    xyz = np.asarray(xyz, np.float64)
    faces = np.asarray(faces, np.int64)
    V = xyz.shape[0]
    e = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    edges = np.unique(e, axis=0)
    skin_faces = faces
    if landmarks is not None and int(landmarks[30]) >= 0:
        lab = connected_components(V, faces)
        skin_faces = faces[lab[faces[:, 0]] == lab[int(landmarks[30])]]
    rigid_edges = edges[np.asarray(rigid, bool)[edges].all(1)] if rigid is not None else np.zeros((0, 2), np.int64)
    dist, mirror = cKDTree(xyz).query(xyz * np.array(_S))
    t = torch.from_numpy
    return HeadGeometry(
        t(faces), t(skin_faces), t(edges), t(rigid_edges), t(mirror.astype(np.int64)), t(dist < mirror_tol)
    )


def _posed(batch, disp: torch.Tensor) -> torch.Tensor:
    return batch.neutral[None] + disp


def _renders(batch, pred: torch.Tensor, camera: FrontalCamera):
    """Shaded renders of the predicted and GT posed heads (first n2d queries), cached on the batch."""
    from facerig.render import render_mesh

    n = min(batch.n2d, pred.shape[0])
    key = (id(pred), n)
    if batch.cache.get("renders_of") != key:
        cam = camera.to_perspective(pred.dtype, pred.device)
        size = (batch.image_size, batch.image_size)
        f = batch.geometry.faces
        rp = render_mesh(_posed(batch, pred[:n]), f, cam, size)
        with torch.no_grad():
            rg = render_mesh(_posed(batch, batch.target[:n]), f, cam, size)
        batch.cache.update(renders_of=key, renders=(rp, rg))
    return batch.cache["renders"]


def _usable_2d(pred: torch.Tensor, batch) -> bool:
    return batch.geometry is not None and batch.target is not None and batch.n2d > 0 and pred.shape[0] > 0


def img(pred: torch.Tensor, batch, camera: FrontalCamera) -> torch.Tensor:
    """Shaded-image loss (see module doc); pred (Q,V,3) -> scalar."""
    if not _usable_2d(pred, batch):
        return pred.new_zeros(())
    rp, rg = _renders(batch, pred, camera)
    return ((rp.image - rg.image) ** 2).mean()


def mask(pred: torch.Tensor, batch, camera: FrontalCamera) -> torch.Tensor:
    """Silhouette loss (see module doc); pred (Q,V,3) -> scalar."""
    if not _usable_2d(pred, batch):
        return pred.new_zeros(())
    rp, rg = _renders(batch, pred, camera)
    return ((rp.soft_mask - rg.soft_mask) ** 2).mean()


def dis2d(pred: torch.Tensor, batch, camera: FrontalCamera) -> torch.Tensor:
    """2D displacement loss (see module doc); pred (Q,V,3) -> scalar."""
    if not _usable_2d(pred, batch):
        return pred.new_zeros(())
    from facerig.render import displacement_2d, rasterize_meshes

    n = min(batch.n2d, pred.shape[0])
    cam = camera.to_perspective(pred.dtype, pred.device)
    S = batch.image_size
    f = batch.geometry.faces
    neutral = batch.neutral[None].expand(n, -1, -1)
    with torch.no_grad():
        frags = rasterize_meshes(cam.transform_points_screen(neutral, (S, S)), f, (S, S))
        dg = displacement_2d(neutral, _posed(batch, batch.target[:n]), f, cam, (S, S), frags)
    dp = displacement_2d(neutral, _posed(batch, pred[:n]), f, cam, (S, S), frags)
    m = frags.mask
    if not bool(m.any()):
        return pred.new_zeros(())
    # one head width at the nose's depth spans focal / distance * S / 2 pixels
    px = camera.focal / camera.distance * S / 2
    return (((dp - dg) / px) ** 2).sum(-1)[m].mean()


def reg(pred: torch.Tensor, batch, camera: FrontalCamera) -> torch.Tensor:
    """Displacement magnitude regulariser: mean squared norm; pred (Q,V,3) -> scalar."""
    return (pred**2).sum(-1).mean()


def _one_hot_rows(batch, name: str) -> list[int]:
    if batch.queries is None:
        return []
    j = ARKIT52.index(name)
    a = batch.queries
    hit = (a[:, j] == 1) & ((a != 0).sum(1) == 1)
    return [int(i) for i in torch.nonzero(hit).flatten()]


def _eye_crop_camera(camera: FrontalCamera, centre: torch.Tensor, half: float, dtype, device):
    """The frontal camera zoomed so the NDC square ``centre +- half`` fills the image."""
    from facerig.render.cameras import PerspectiveCameras

    base = camera.to_perspective(dtype, device)
    return PerspectiveCameras(
        base.R, base.T, focal_length=camera.focal / half, principal_point=-centre / half, dtype=dtype, device=device
    )


def _inside_polygon(px: torch.Tensor, poly: torch.Tensor) -> torch.Tensor:
    """Points (M,2) inside a closed polygon (L,2) (even-odd rule) -> (M,) bool."""
    inside = torch.zeros(px.shape[0], dtype=torch.bool, device=px.device)
    a, b = poly, poly.roll(-1, 0)
    for (x0, y0), (x1, y1) in zip(a.tolist(), b.tolist()):
        cond = (y0 > px[:, 1]) != (y1 > px[:, 1])
        xint = x0 + (px[:, 1] - y0) * (x1 - x0) / ((y1 - y0) if y1 != y0 else 1e-12)
        inside ^= cond & (px[:, 0] < xint)
    return inside


def eye_opening(batch, contour: tuple[int, ...], camera: FrontalCamera, size: int):
    """The eye opening of the neutral skin in an eye close-up: (camera, opening (S,S) bool, used
    (U,) vertices rendered, faces (G',3) into ``used``) or None when a contour landmark is absent
    or no pixel of the opening shows."""
    from facerig.render import render_mesh

    idx = torch.tensor(contour, device=batch.neutral.device)
    lm = batch.landmarks[idx]
    if bool((lm < 0).any()):
        return None
    p = camera.project(batch.neutral[lm])  # (6,2) NDC
    centre = p.mean(0)
    half = float((p[:, 0].max() - p[:, 0].min()).clamp(min=1e-6)) * 0.75
    cam = _eye_crop_camera(camera, centre.detach(), half, batch.neutral.dtype, batch.neutral.device)
    # the skin near the lids only: through the opening a closed head shows its socket or the
    # inside of its back, which would count as covering the eye
    sf = batch.geometry.skin_faces
    z_ref = float(batch.neutral[lm, 2].min()) - EYE_DEPTH
    faces = sf[(batch.neutral[sf, 2] > z_ref).all(1)]
    if faces.shape[0] == 0:
        return None
    # a compact mesh: a vertex in no face would get a zero normal, whose gradient is NaN
    used, faces = torch.unique(faces, return_inverse=True)
    with torch.no_grad():
        r = render_mesh(batch.neutral[used], faces, cam, (size, size), antialias_image=False)
        c = (torch.arange(size, device=p.device, dtype=p.dtype) + 0.5) / size * 2 - 1  # NDC of pixel centres
        yy, xx = torch.meshgrid(-c, c, indexing="ij")
        poly = (p - centre) / half
        inside = _inside_polygon(torch.stack([xx.flatten(), yy.flatten()], 1), poly).reshape(size, size)
        opening = inside & ~r.mask[0]
    if int(opening.sum()) < 2:
        return None
    return cam, opening, used, faces


def eye_close(pred: torch.Tensor, batch, camera: FrontalCamera) -> torch.Tensor:
    """Render-based eye closure without ground truth (see module doc); pred (Q,V,3) -> scalar."""
    from facerig.render import render_mesh

    if batch.geometry is None:
        return pred.new_zeros(())
    size = batch.eye_image_size
    losses = []
    for name, contour in EYE_CONTOURS.items():
        rows = _one_hot_rows(batch, name)
        if not rows:
            continue
        key = ("eye", name)
        if key not in batch.cache:
            batch.cache[key] = eye_opening(batch, contour, camera, size)
        got = batch.cache[key]
        if got is None:
            continue
        cam, opening, used, faces = got
        r = render_mesh(_posed(batch, pred[rows])[:, used], faces, cam, (size, size))
        losses.append((1.0 - r.soft_mask)[:, opening].mean())
    if not losses:
        return pred.new_zeros(())
    return torch.stack(losses).mean()


def mouth_open(pred: torch.Tensor, batch, camera: FrontalCamera) -> torch.Tensor:
    """``jawOpen`` opens the mouth (see module doc); pred (Q,V,3) -> scalar."""
    rows = _one_hot_rows(batch, "jawOpen")
    lm = batch.landmarks
    need = [i for pair in INNER_LIPS for i in pair] + [36, 45]
    if not rows or bool((lm[need] < 0).any()):
        return pred.new_zeros(())
    eye = (camera.project(batch.neutral[lm[45]]) - camera.project(batch.neutral[lm[36]])).norm().clamp(min=1e-6)
    up = torch.tensor([u for u, _ in INNER_LIPS], device=lm.device)
    lo = torch.tensor([b for _, b in INNER_LIPS], device=lm.device)
    posed = _posed(batch, pred[rows])  # (R,V,3)
    gap = (camera.project(posed[:, lm[up]])[..., 1] - camera.project(posed[:, lm[lo]])[..., 1]).mean(-1)  # (R,)
    return (torch.relu(MOUTH_GAP * eye - gap) / eye).mean()


def mirror(pred: torch.Tensor, batch, camera: FrontalCamera) -> torch.Tensor:
    """Left/right consistency (see module doc); pred (Q,V,3) -> scalar."""
    g = batch.geometry
    if g is None or batch.queries is None or not bool(g.mirror_ok.any()):
        return pred.new_zeros(())
    a = batch.queries
    am = a[:, mirror_permutation()]  # each query's mirror image
    match = (am[:, None, :] - a[None, :, :]).abs().amax(-1) < 1e-6  # (Q,Q): row i's mirror is query j
    pairs = torch.nonzero(match)
    if pairs.numel() == 0:
        return pred.new_zeros(())
    S = pred.new_tensor(_S)
    ok = g.mirror_ok
    di = pred[pairs[:, 0]][:, ok]  # (M,V',3)
    dj = pred[pairs[:, 1]][:, g.mirror[ok]] * S
    return ((di - dj) ** 2).sum(-1).mean()


def rigid(pred: torch.Tensor, batch, camera: FrontalCamera) -> torch.Tensor:
    """Rigid parts keep their edge lengths (see module doc); pred (Q,V,3) -> scalar."""
    g = batch.geometry
    if g is None or g.rigid_edges.shape[0] == 0:
        return pred.new_zeros(())
    a, b = g.rigid_edges[:, 0], g.rigid_edges[:, 1]
    e0 = batch.neutral[b] - batch.neutral[a]  # (E,3)
    l0 = e0.norm(dim=-1).clamp(min=1e-9)
    e1 = e0[None] + pred[:, b] - pred[:, a]
    l1 = ((e1**2).sum(-1) + 1e-18).sqrt()
    return (((l1 - l0) / l0) ** 2).mean()


def smooth(pred: torch.Tensor, batch, camera: FrontalCamera) -> torch.Tensor:
    """Uniform-Laplacian smoothness of the displacements (see module doc); pred (Q,V,3) -> scalar."""
    g = batch.geometry
    if g is None or g.edges.shape[0] == 0:
        return pred.new_zeros(())
    a, b = g.edges[:, 0], g.edges[:, 1]
    V = pred.shape[1]
    deg = torch.zeros(V, dtype=pred.dtype, device=pred.device)
    deg.index_add_(0, a, torch.ones_like(a, dtype=pred.dtype)).index_add_(0, b, torch.ones_like(b, dtype=pred.dtype))
    nb = torch.zeros_like(pred)
    nb.index_add_(1, a, pred[:, b]).index_add_(1, b, pred[:, a])
    lap = pred - nb / deg.clamp(min=1.0)[None, :, None]
    return (lap**2).sum(-1)[:, deg > 0].mean()

"""Training losses (the paper's 3D-stage terms) and the place where 2D terms plug in.

All terms take the network output for Q queries on one head and a :class:`LossBatch`:

- ``mse3d``   vertex MSE of displacements (paper weight 100)
- ``lmk2d``   2D landmark loss: posed landmarks projected by the fixed frontal camera
  (paper weight 0.5)
- ``ec2d``    2D eye-closure loss: projected upper-minus-lower eyelid landmark vectors
  (paper weight 0.5)
- ``act3d``   not in the paper (weight 0 by default): mean error norm over each query's active
  vertices (GT motion above ``active_threshold``), the training form of the evaluation's
  active-vertex error; it weights a blink's few hundred lid and lash vertices like a jaw's
  thousands instead of letting the static majority dominate

The rendered terms (``img``, ``mask``, ``dis2d``, ``reg``) and the terms that need no ground
truth (``eye_close``, ``mouth_open``, ``mirror``, ``rigid``, ``smooth``) are in
:mod:`facerig.train.losses_2d`; every term has the signature ``term(pred, batch, camera) ->
scalar``, is listed in :data:`TERMS` and has a weight in :class:`LossWeights` (0 = off).
:func:`rig_loss` sums every term whose weight is non-zero that applies to the batch: a batch with
a ``target`` (a rigged head) gets the :data:`GT_TERMS` and ``reg``, a batch without one (an
unrigged head) the :data:`NO_GT_TERMS` and ``reg``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

from facerig.render.camera import FrontalCamera
from facerig.train import losses_2d as _l2

#: Multi-PIE 68 eyelid pairs (upper, lower): right eye 37/41, 38/40; left eye 43/47, 44/46.
EYELID_PAIRS: tuple[tuple[int, int], ...] = ((37, 41), (38, 40), (43, 47), (44, 46))


@dataclass
class LossBatch:
    """Ground truth for Q queries on one head (V proxy vertices, L landmarks).

    neutral (V,3) head-frame neutral; target (Q,V,3) GT displacements, or None for an unrigged
    head; vertex_weight (Q,V) or None (1 = supervised); landmarks (68,) long proxy vertex per
    Multi-PIE landmark (-1 absent); active_threshold: GT motion (head-frame units) above which a
    vertex counts as active (0.5 mm on a 160 mm-wide head by default). For the terms of
    :mod:`facerig.train.losses_2d`: geometry (a :class:`~facerig.train.losses_2d.HeadGeometry`),
    queries (Q,K) the FACS vectors behind ``pred``, n2d the number of queries rendered (the
    first ones), image_size / eye_image_size the render sizes (pixels), cache (per batch).
    """

    neutral: torch.Tensor
    target: torch.Tensor | None
    landmarks: torch.Tensor
    vertex_weight: torch.Tensor | None = None
    active_threshold: float = 0.5 / 160.0
    geometry: object | None = None
    queries: torch.Tensor | None = None
    n2d: int = 2
    image_size: int = 64
    eye_image_size: int = 32
    cache: dict = field(default_factory=dict)


@dataclass
class LossWeights:
    """Weight of each term (paper stage-2 3D values; rendered and no-ground-truth terms off by
    default; the paper's stage 1 had img 10, mask 1, dis2d 1, reg 1e-4)."""

    mse3d: float = 100.0
    lmk2d: float = 0.5
    ec2d: float = 0.5
    act3d: float = 0.0
    img: float = 0.0
    mask: float = 0.0
    dis2d: float = 0.0
    reg: float = 0.0
    eye_close: float = 0.0
    mouth_open: float = 0.0
    mirror: float = 0.0
    rigid: float = 0.0
    smooth: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def mse3d(pred: torch.Tensor, batch: LossBatch, camera: FrontalCamera) -> torch.Tensor:
    """Mean squared displacement error; pred (Q,V,3) -> scalar."""
    se = ((pred - batch.target) ** 2).sum(-1)  # (Q,V)
    if batch.vertex_weight is None:
        return se.mean()
    w = batch.vertex_weight
    return (se * w).sum() / w.sum().clamp(min=1.0)


def act3d(pred: torch.Tensor, batch: LossBatch, camera: FrontalCamera) -> torch.Tensor:
    """Active-vertex mean error norm, averaged over queries with active vertices -> scalar."""
    act = (batch.target.norm(dim=-1) > batch.active_threshold).to(pred.dtype)  # (Q,V)
    n = act.sum(1)
    if not bool((n > 0).any()):
        return pred.new_zeros(())
    err = (((pred - batch.target) ** 2).sum(-1) + 1e-12).sqrt()  # smooth at 0
    per = (err * act).sum(1) / n.clamp(min=1.0)
    return per[n > 0].mean()


def _projected_landmarks(disp: torch.Tensor, batch: LossBatch, camera: FrontalCamera):
    idx = batch.landmarks
    ok = idx >= 0
    posed = batch.neutral[idx.clamp(min=0)][None] + disp[:, idx.clamp(min=0)]  # (Q,68,3)
    return camera.project(posed), ok


def lmk2d(pred: torch.Tensor, batch: LossBatch, camera: FrontalCamera) -> torch.Tensor:
    """Mean 2D distance between projected predicted and GT posed landmarks -> scalar."""
    p, ok = _projected_landmarks(pred, batch, camera)
    g, _ = _projected_landmarks(batch.target, batch, camera)
    if not ok.any():
        return pred.new_zeros(())
    return (p - g).norm(dim=-1)[:, ok].mean()


def ec2d(pred: torch.Tensor, batch: LossBatch, camera: FrontalCamera) -> torch.Tensor:
    """Eye closure: 2D upper-minus-lower eyelid vectors, predicted vs GT -> scalar."""
    p, ok = _projected_landmarks(pred, batch, camera)
    g, _ = _projected_landmarks(batch.target, batch, camera)
    pairs = [(u, lo) for u, lo in EYELID_PAIRS if ok[u] and ok[lo]]
    if not pairs:
        return pred.new_zeros(())
    u = torch.tensor([a for a, _ in pairs], device=pred.device)
    lo = torch.tensor([b for _, b in pairs], device=pred.device)
    return ((p[:, u] - p[:, lo]) - (g[:, u] - g[:, lo])).norm(dim=-1).mean()


#: name -> term function.
TERMS: dict[str, Callable[[torch.Tensor, LossBatch, FrontalCamera], torch.Tensor]] = {
    "mse3d": mse3d,
    "lmk2d": lmk2d,
    "ec2d": ec2d,
    "act3d": act3d,
    "img": _l2.img,
    "mask": _l2.mask,
    "dis2d": _l2.dis2d,
    "reg": _l2.reg,
    "eye_close": _l2.eye_close,
    "mouth_open": _l2.mouth_open,
    "mirror": _l2.mirror,
    "rigid": _l2.rigid,
    "smooth": _l2.smooth,
}
#: Terms that compare with the ground truth (rigged heads only).
GT_TERMS: tuple[str, ...] = ("mse3d", "lmk2d", "ec2d", "act3d", "img", "mask", "dis2d")
#: Terms that need no ground truth (applied to unrigged heads).
NO_GT_TERMS: tuple[str, ...] = ("eye_close", "mouth_open", "mirror", "rigid", "smooth")
#: Terms that read the landmarks' meaning (the ``--no-semantic`` ablation switches them off).
SEMANTIC_TERMS: tuple[str, ...] = ("lmk2d", "ec2d", "eye_close", "mouth_open")
#: The rendered terms with ground truth (the ``--no-2d`` ablation switches them off).
RENDER_TERMS: tuple[str, ...] = ("img", "mask", "dis2d")


def rig_loss(
    pred: torch.Tensor, batch: LossBatch, weights: LossWeights | None = None, camera: FrontalCamera | None = None
) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted sum of the active terms; pred (Q,V,3) -> (total scalar, {term: value})."""
    weights = weights or LossWeights()
    camera = camera or FrontalCamera()
    total = pred.new_zeros(())
    parts: dict[str, float] = {}
    applies = set(GT_TERMS if batch.target is not None else NO_GT_TERMS) | {"reg"}
    for name, fn in TERMS.items():
        w = getattr(weights, name, 0.0)
        if w and name in applies:
            v = fn(pred, batch, camera)
            total = total + w * v
            parts[name] = float(v.detach())
    parts["total"] = float(total.detach())
    return total, parts

"""Training-time augmentation of pool items that needs no new pool: a misjudged head frame.

The network works in the head frame (:func:`facerig.geometry.proxy.head_frame`: positions and
displacements in head widths measured at nose height). A head whose width there is not
representative of its face (a caricature pinched at the nose, a head with large ears or hair at
that height) gets every shape too small or too large by one factor, and a network trained only on
frames measured as-is has never seen that error. :func:`rescale_item` shows it: the same head and
targets in a frame ``a`` times wider (``a`` > 1: the head looks smaller) or narrower, so the
network learns to read the size of the face from the geometry rather than from the frame.

Everything that depends on the frame is rescaled exactly: with ``x' = x / a`` the operators
follow :meth:`facerig.geometry.operators.Operators.rescaled`, targets are ``/ a``, and the
local descriptors and the cross-part operator (fixed radii in head widths) are recomputed from
``x'``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from facerig.geometry.operators import csr_tensor
from facerig.train.dataset import Item


def rescale_item(item: Item, a: float) -> Item:
    """The item in a head frame ``a`` times wider: xyz (P,3) / a, deltas (K,P,3) / a, operators
    and network inputs to match, ``scale * a`` (so millimetres are unchanged).

    Needs ``item.faces`` (items read by :class:`facerig.train.dataset.Pool` have them). The
    new inputs are computed on the CPU and placed on the item's device; the item is not changed."""
    from facerig.geometry.features import network_inputs

    if not (math.isfinite(a) and a > 0):
        raise ValueError(f"frame factor must be a positive number, got {a!r}")
    if a == 1.0:
        return item
    if item.faces is None:
        raise ValueError("rescaling an item needs its proxy faces (read it with facerig.train.dataset.load_item)")
    xyz = item.xyz / a
    dev = item.xyz.device
    local, cross = network_inputs(
        xyz.detach().cpu().numpy().astype(np.float64),
        item.faces,
        local=item.local is not None,
        cross=item.ops.cross is not None,
    )
    if local is not None:
        local = torch.from_numpy(np.asarray(local, np.float32)).to(dev)
    if cross is not None:
        cross = csr_tensor(cross.indptr, cross.indices, cross.data, cross.shape).to(dev)
    return Item(
        xyz,
        item.ops.rescaled(a, cross),
        item.deltas / a,
        item.shape_mask,
        item.landmarks,
        item.scale * a,
        item.mm_per_unit,
        item.name,
        local,
        item.faces,
        item.rigid,
    )


def sample_frame_factor(rng: np.random.Generator, spread: float, p: float) -> float:
    """A frame factor for one step: 1 with probability ``1 - p``, else log-uniform in
    ``[1 / spread, spread]`` (``spread`` >= 1; 1 or ``p`` = 0 turns the augmentation off)."""
    if spread <= 1.0 or p <= 0.0 or rng.random() >= p:
        return 1.0
    return float(math.exp(rng.uniform(-math.log(spread), math.log(spread))))

"""DiffusionNet layers (Sharp et al. 2022), written for facerig.

Geometry is kept apart from the layers: every layer takes the precomputed operators of one mesh
as torch tensors (:class:`facerig.geometry.operators.Operators`, :meth:`~Operators.to_torch`).
Features
carry a leading batch dimension ``B`` that shares the mesh (e.g. ``B`` FACS queries on one
head): ``x`` is ``(B, V, C)`` throughout.

Building blocks:

- :class:`LearnedTimeDiffusion`: spectral heat diffusion ``h_t = Phi diag(exp(-lambda t))
  Phi^T M x`` with one learned time ``t >= 0`` per channel (the truncated-eigenbasis form of
  ``(M + tL)^{-1} M x``).
- :class:`SpatialGradientFeatures`: per-vertex tangent gradients of every channel, a learned
  complex-linear map of them, and ``tanh`` of the dot product of the two (rotation-invariant
  scalar features: the layer does not depend on the choice of tangent frame).
- :class:`MiniMLP`: per-vertex MLP.
- :class:`DiffusionNetBlock`: diffusion + gradient features + MLP, residual; optionally also the
  features of nearby vertices of other parts (``ops.cross``), which diffusion cannot reach.
- :class:`DiffusionNet`: linear in, ``n_block`` blocks, linear out.

Everything is per vertex or uses mesh operators only, so the network is triangulation-agnostic
and equivariant to vertex permutations (permute the inputs and the operators alike and the
outputs permute alike).
"""

from __future__ import annotations

import torch
from torch import nn

from facerig.geometry.operators import Operators


class _SparseMM(torch.autograd.Function):
    """A @ x for a constant sparse A with a precomputed A^T for the backward pass (torch would
    transpose and re-sort the CSR matrix on every backward call)."""

    @staticmethod
    def forward(ctx, A, At, x):
        ctx.At = At
        return A @ x

    @staticmethod
    def backward(ctx, g):
        return None, None, ctx.At @ g


def _sparse_apply(A: torch.Tensor, x: torch.Tensor, ops: Operators | None = None) -> torch.Tensor:
    """Sparse (V,V) times batched features x (B,V,C) -> (B,V,C) (``ops`` holding A: its cached
    transpose serves the backward pass)."""
    B, V, C = x.shape
    flat = x.permute(1, 0, 2).reshape(V, B * C)
    if ops is not None and x.requires_grad:
        out = _SparseMM.apply(A, ops.cached(("transpose", id(A)), lambda: A.t().to_sparse_csr()), flat)
    else:
        out = A @ flat
    return out.reshape(V, B, C).permute(1, 0, 2)


def to_spectral(x: torch.Tensor, ops: Operators) -> torch.Tensor:
    """Project x (B,V,C) onto the eigenbasis: Phi^T M x -> (B,k,C)."""
    return torch.einsum("vk,bvc->bkc", ops.evecs, x * ops.mass[None, :, None])


def from_spectral(s: torch.Tensor, ops: Operators) -> torch.Tensor:
    """Back to vertices: Phi s, s (B,k,C) -> (B,V,C)."""
    return torch.einsum("vk,bkc->bvc", ops.evecs, s)


class LearnedTimeDiffusion(nn.Module):
    """Heat diffusion of each channel for a learned time (spectral acceleration).

    x (B,V,C) -> (B,V,C). Times are kept non-negative (clamped at 1e-8).
    """

    def __init__(self, channels: int, init_time: float = 0.0):
        super().__init__()
        self.channels = channels
        self.diffusion_time = nn.Parameter(torch.full((channels,), float(init_time)))

    def forward(self, x: torch.Tensor, ops: Operators) -> torch.Tensor:
        t = self.diffusion_time.clamp(min=1e-8)
        coefs = torch.exp(-ops.evals[:, None] * t[None, :])  # (k,C)
        return from_spectral(coefs[None] * to_spectral(x, ops), ops)


class SpatialGradientFeatures(nn.Module):
    """Rotation-invariant features from tangent gradients.

    gradients g (B,V,C,2) (x,y tangent components) -> tanh(<g, A g>) (B,V,C), where A is a
    learned complex-linear map acting across channels (a rotation/scaling in each tangent plane
    mixed across channels).
    """

    def __init__(self, channels: int):
        super().__init__()
        self.A_re = nn.Linear(channels, channels, bias=False)
        self.A_im = nn.Linear(channels, channels, bias=False)

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        gr, gi = g[..., 0], g[..., 1]
        br = self.A_re(gr) - self.A_im(gi)
        bi = self.A_re(gi) + self.A_im(gr)
        return torch.tanh(gr * br + gi * bi)


class MiniMLP(nn.Sequential):
    """Per-vertex MLP: sizes [in, hidden..., out], ReLU between, optional dropout.

    x (..., in) -> (..., out).
    """

    def __init__(self, sizes: list[int], dropout: float = 0.0, activation=nn.ReLU):
        layers: list[nn.Module] = []
        for i in range(len(sizes) - 1):
            last = i + 2 == len(sizes)
            if dropout > 0 and i > 0:
                layers.append(nn.Dropout(dropout))
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if not last:
                layers.append(activation())
        super().__init__(*layers)


def surface_gradients(x: torch.Tensor, ops: Operators) -> torch.Tensor:
    """Tangent gradient of every channel: x (B,V,C) -> (B,V,C,2)."""
    return torch.stack([_sparse_apply(ops.grad_x, x, ops), _sparse_apply(ops.grad_y, x, ops)], dim=-1)


class DiffusionNetBlock(nn.Module):
    """One DiffusionNet block: x (B,V,C) -> (B,V,C) (residual).

    features = [x, diffuse(x), gradient_features(diffuse(x))] -> MLP(3C -> hidden -> C) + x.
    With ``cross_part`` the features also hold ``ops.cross @ x`` (the mean of ``x`` over nearby
    vertices of other parts; 4C in all), the only path between touching parts besides pooling.
    """

    def __init__(
        self,
        width: int,
        mlp_hidden: list[int] | None = None,
        dropout: float = 0.0,
        with_gradient_features: bool = True,
        with_mlp: bool = True,
        cross_part: bool = False,
    ):
        super().__init__()
        self.width = width
        self.diffusion = LearnedTimeDiffusion(width)
        self.with_gradient_features = with_gradient_features
        self.cross_part = cross_part
        n_in = (3 if with_gradient_features else 2) * width + (width if cross_part else 0)
        if with_gradient_features:
            self.gradient_features = SpatialGradientFeatures(width)
        self.out_features = n_in
        if with_mlp:  # a conditional block brings its own MLP and uses :meth:`features` only
            self.mlp = MiniMLP([n_in] + list(mlp_hidden or [width]) + [width], dropout=dropout)

    def features(self, x: torch.Tensor, ops: Operators) -> torch.Tensor:
        """The block's concatenated features before its MLP: (B,V,C) -> (B,V,3C) (2C without
        gradient features, one C more with ``cross_part``)."""
        xd = self.diffusion(x, ops)
        parts = [x, xd]
        if self.with_gradient_features:
            parts.append(self.gradient_features(surface_gradients(xd, ops)))
        if self.cross_part:
            if ops.cross is None:
                raise ValueError("this network needs the cross-part operator (Operators.cross)")
            parts.append(_sparse_apply(ops.cross, x, ops))
        return torch.cat(parts, dim=-1)

    def forward(self, x: torch.Tensor, ops: Operators) -> torch.Tensor:
        return x + self.mlp(self.features(x, ops))


class DiffusionNet(nn.Module):
    """DiffusionNet: (B,V,C_in) -> (B,V,C_out); ``(V,C)`` inputs get B=1 added and removed.

    Args:
        c_in, c_out: channels in and out.
        width: internal channels; n_block: number of blocks.
        last_activation: optional callable applied to the output.
        cross_part: blocks also read nearby other-part features (needs ``ops.cross``).
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        width: int = 128,
        n_block: int = 4,
        mlp_hidden: list[int] | None = None,
        dropout: float = 0.0,
        with_gradient_features: bool = True,
        last_activation=None,
        cross_part: bool = False,
    ):
        super().__init__()
        self.first = nn.Linear(c_in, width)
        self.blocks = nn.ModuleList(
            [
                DiffusionNetBlock(width, mlp_hidden, dropout, with_gradient_features, cross_part=cross_part)
                for _ in range(n_block)
            ]
        )
        self.last = nn.Linear(width, c_out)
        self.last_activation = last_activation

    def forward(self, x: torch.Tensor, ops: Operators) -> torch.Tensor:
        squeeze = x.dim() == 2
        if squeeze:
            x = x[None]
        h = self.first(x)
        for b in self.blocks:
            h = b(h, ops)
        out = self.last(h)
        if self.last_activation is not None:
            out = self.last_activation(out)
        return out[0] if squeeze else out


def mass_weighted_mean(x: torch.Tensor, mass: torch.Tensor) -> torch.Tensor:
    """Global (area-weighted) average over vertices: x (B,V,C), mass (V,) -> (B,C)."""
    w = mass / mass.sum()
    return torch.einsum("bvc,v->bc", x, w)

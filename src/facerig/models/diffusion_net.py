"""DiffusionNet layers (Sharp et al. 2022), written for facerig.

Geometry is kept apart from the layers: every layer takes a :class:`SurfaceOps` holding the
precomputed operators of one mesh (``facerig.geometry.operators``) as torch tensors. Features
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

from dataclasses import dataclass

import warnings

import numpy as np
import torch
from torch import nn


def csr_tensor(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, shape: tuple[int, int],
               dtype: torch.dtype | None = None) -> torch.Tensor:
    """A torch sparse CSR tensor (shape ``shape``) from scipy-style CSR arrays.

    The arrays come from scipy (valid by construction), so torch's invariant checks are skipped,
    and its "invariant checks implicitly disabled" / "CSR is beta" warnings are kept out of
    user output.
    """
    values = torch.from_numpy(np.ascontiguousarray(data))
    if dtype is not None:
        values = values.to(dtype)
    return _csr(torch.from_numpy(np.asarray(indptr, dtype=np.int64)),
                torch.from_numpy(np.asarray(indices, dtype=np.int64)), values, shape)


def _csr(crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor, shape) -> torch.Tensor:
    """torch.sparse_csr_tensor from index arrays known to be valid, without its checks and warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, col, values, size=tuple(shape), check_invariants=False)


@dataclass
class SurfaceOps:
    """Operators of one mesh as torch tensors (V vertices, k eigenpairs).

    mass (V,), evals (k,), evecs (V,k), grad_x / grad_y sparse (V,V) (tangent-frame gradient
    components), optionally ``cross`` sparse (V,V): the average over nearby vertices of other
    parts (:func:`facerig.geometry.features.cross_part_operator`). Build with
    :meth:`from_operators`. Transposes of the sparse operators (for backward passes) are made
    once per mesh, on first use.
    """

    mass: torch.Tensor
    evals: torch.Tensor
    evecs: torch.Tensor
    grad_x: torch.Tensor
    grad_y: torch.Tensor
    cross: torch.Tensor | None = None

    def __post_init__(self):
        self._transposed: dict[int, torch.Tensor] = {}

    @property
    def num_vertices(self) -> int:
        return int(self.mass.shape[0])

    def transpose_of(self, A: torch.Tensor) -> torch.Tensor:
        """A^T for one of this mesh's sparse operators (cached)."""
        key = id(A)
        if key not in self._transposed:
            self._transposed[key] = A.t().to_sparse_csr()
        return self._transposed[key]

    @classmethod
    def from_operators(cls, ops, k: int | None = None, dtype: torch.dtype = torch.float32,
                       device: torch.device | str = "cpu", cross=None) -> "SurfaceOps":
        """From a ``facerig.geometry.operators.Operators`` (numpy/scipy); optionally keep the
        first ``k`` eigenpairs; ``cross`` an optional scipy (V,V) cross-part operator."""
        import scipy.sparse as sp

        kk = ops.evals.shape[0] if k is None else min(k, ops.evals.shape[0])

        def sparse(A):
            A = sp.csr_matrix(A)
            return csr_tensor(A.indptr, A.indices, A.data, A.shape, dtype=dtype).to(device)

        t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(dtype).to(device)  # noqa: E731
        return cls(mass=t(ops.mass), evals=t(ops.evals[:kk]), evecs=t(ops.evecs[:, :kk]),
                   grad_x=sparse(ops.grad_x), grad_y=sparse(ops.grad_y),
                   cross=None if cross is None else sparse(cross))

    def to(self, device) -> "SurfaceOps":
        return SurfaceOps(*(getattr(self, f).to(device) for f in ("mass", "evals", "evecs", "grad_x", "grad_y")),
                          cross=None if self.cross is None else self.cross.to(device))

    def rescaled(self, a: float, cross: torch.Tensor | None = None) -> "SurfaceOps":
        """The operators of the same mesh with its coordinates divided by ``a``: mass / a^2,
        evals * a^2, evecs * a (mass-orthonormal again), gradients * a. ``cross`` (V,V) replaces
        the cross-part operator, which depends on distances and is not rescaled here."""
        def grad(A):
            return _csr(A.crow_indices(), A.col_indices(), A.values() * a, A.shape)

        return SurfaceOps(self.mass / a ** 2, self.evals * a ** 2, self.evecs * a, grad(self.grad_x), grad(self.grad_y),
                          cross=cross)


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


def _sparse_apply(A: torch.Tensor, x: torch.Tensor, ops: SurfaceOps | None = None) -> torch.Tensor:
    """Sparse (V,V) times batched features x (B,V,C) -> (B,V,C) (``ops`` holding A: its cached
    transpose serves the backward pass)."""
    B, V, C = x.shape
    flat = x.permute(1, 0, 2).reshape(V, B * C)
    if ops is not None and x.requires_grad:
        out = _SparseMM.apply(A, ops.transpose_of(A), flat)
    else:
        out = A @ flat
    return out.reshape(V, B, C).permute(1, 0, 2)


def to_spectral(x: torch.Tensor, ops: SurfaceOps) -> torch.Tensor:
    """Project x (B,V,C) onto the eigenbasis: Phi^T M x -> (B,k,C)."""
    return torch.einsum("vk,bvc->bkc", ops.evecs, x * ops.mass[None, :, None])


def from_spectral(s: torch.Tensor, ops: SurfaceOps) -> torch.Tensor:
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

    def forward(self, x: torch.Tensor, ops: SurfaceOps) -> torch.Tensor:
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


def surface_gradients(x: torch.Tensor, ops: SurfaceOps) -> torch.Tensor:
    """Tangent gradient of every channel: x (B,V,C) -> (B,V,C,2)."""
    return torch.stack([_sparse_apply(ops.grad_x, x, ops), _sparse_apply(ops.grad_y, x, ops)], dim=-1)


class DiffusionNetBlock(nn.Module):
    """One DiffusionNet block: x (B,V,C) -> (B,V,C) (residual).

    features = [x, diffuse(x), gradient_features(diffuse(x))] -> MLP(3C -> hidden -> C) + x.
    With ``cross_part`` the features also hold ``ops.cross @ x`` (the mean of ``x`` over nearby
    vertices of other parts; 4C in all), the only path between touching parts besides pooling.
    """

    def __init__(self, width: int, mlp_hidden: list[int] | None = None, dropout: float = 0.0,
                 with_gradient_features: bool = True, with_mlp: bool = True, cross_part: bool = False):
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

    def features(self, x: torch.Tensor, ops: SurfaceOps) -> torch.Tensor:
        """The block's concatenated features before its MLP: (B,V,C) -> (B,V,3C) (2C without
        gradient features, one C more with ``cross_part``)."""
        xd = self.diffusion(x, ops)
        parts = [x, xd]
        if self.with_gradient_features:
            parts.append(self.gradient_features(surface_gradients(xd, ops)))
        if self.cross_part:
            if ops.cross is None:
                raise ValueError("this network needs the cross-part operator (SurfaceOps.cross)")
            parts.append(_sparse_apply(ops.cross, x, ops))
        return torch.cat(parts, dim=-1)

    def forward(self, x: torch.Tensor, ops: SurfaceOps) -> torch.Tensor:
        return x + self.mlp(self.features(x, ops))


class DiffusionNet(nn.Module):
    """DiffusionNet: (B,V,C_in) -> (B,V,C_out); ``(V,C)`` inputs get B=1 added and removed.

    Args:
        c_in, c_out: channels in and out.
        width: internal channels; n_block: number of blocks.
        last_activation: optional callable applied to the output.
        cross_part: blocks also read nearby other-part features (needs ``ops.cross``).
    """

    def __init__(self, c_in: int, c_out: int, width: int = 128, n_block: int = 4,
                 mlp_hidden: list[int] | None = None, dropout: float = 0.0,
                 with_gradient_features: bool = True, last_activation=None, cross_part: bool = False):
        super().__init__()
        self.first = nn.Linear(c_in, width)
        self.blocks = nn.ModuleList(
            [DiffusionNetBlock(width, mlp_hidden, dropout, with_gradient_features, cross_part=cross_part)
             for _ in range(n_block)])
        self.last = nn.Linear(width, c_out)
        self.last_activation = last_activation

    def forward(self, x: torch.Tensor, ops: SurfaceOps) -> torch.Tensor:
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

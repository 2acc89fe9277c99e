"""The RigAnyFace deformation network (Qin et al., NeurIPS 2025), adapted for CPU speed.

Input: a neutral head in the normalised head frame (see :func:`facerig.geometry.proxy.head_frame`)
with its operators, and a batch of Q FACS vectors ``a`` (Q,K) (ARKit order, K=52).
Output: per-vertex displacements ``d(a)`` (Q,V,3) in the same normalised frame.

Architecture (one head, Q queries)::

    f = [xyz, HKS, Fourier(xyz), local]             (V, C_in) input features
    h = trunk DiffusionNet(f)                       (V, W)    run once per head (with
                                                              ``cross_part``, its blocks also
                                                              read nearby other-part features)
    G0 = mean_mass(GlobalEncoder(f))                (C_g,)    2-block DiffusionNet + pooling
    basis = MLP([h, G0])                            (V, K, 3) linear "basis" head
    x = Linear(h) broadcast over queries            (Q, V, W_c)
    x = ConditionalDiffusionBlock(x, [a, G0]) x n   (Q, V, W_c)
    d(a) = basis . a + Linear(x)                    (Q, V, 3)

The conditional blocks are the paper's: the FACS vector concatenated with the global feature
G0, broadcast to every vertex, fused with the diffusion block's output and refined by a small
MLP. The unconditional trunk runs once per head, so a whole rig (Q=52 one-hot queries) costs one
trunk pass plus Q passes of the narrow conditional blocks. Diffusion stays inside each connected
part; information crosses disconnected parts (eyeballs, teeth, lashes) through G0 and, with
``cross_part``, through the trunk's cross-part averaging (``ops.cross``).
"""

from __future__ import annotations

import torch
from torch import nn

from facerig.geometry.operators import Operators
from facerig.models.diffusion_net import DiffusionNet, DiffusionNetBlock, MiniMLP, mass_weighted_mean
from facerig.models.raf.config import RAFConfig


def fourier_features(xyz: torch.Tensor, n: int) -> torch.Tensor:
    """Positional encoding of head-frame positions: xyz (V,3) -> (V, 6n) with
    ``sin/cos(2 pi 2^i x)`` for i < n (periods from 1 head width down to 2^-(n-1))."""
    if n == 0:
        return xyz.new_zeros((xyz.shape[0], 0))
    freqs = 2.0 * torch.pi * (2.0 ** torch.arange(n, dtype=xyz.dtype, device=xyz.device))
    ang = (xyz[:, :, None] * freqs).reshape(xyz.shape[0], -1)
    return torch.cat([torch.sin(ang), torch.cos(ang)], dim=-1)


def hks_features(ops: Operators, n: int) -> torch.Tensor:
    """Heat-kernel signature at ``n`` log-spaced times: (V, n).

    Times are relative to the head frame (the head is about 1 unit wide), from local (1e-3) to
    regional (1e-1) scales; each column is normalised by its mass-weighted mean so it does not
    depend on the head's size.
    """
    if n == 0:
        return ops.mass.new_zeros((ops.num_vertices, 0))
    ts = torch.logspace(-3, -1, n, dtype=ops.evals.dtype, device=ops.evals.device)
    h = torch.einsum("vk,kt->vt", ops.evecs**2, torch.exp(-ops.evals[:, None] * ts[None, :]))
    mean = (h * ops.mass[:, None]).sum(0) / ops.mass.sum()
    return torch.log(h / mean.clamp(min=1e-12) + 1e-6)


class GlobalEncoder(nn.Module):
    """2-block DiffusionNet + mass-weighted average pooling: f (V,C_in) -> G0 (C_g,)."""

    def __init__(self, c_in: int, width: int, c_out: int):
        super().__init__()
        self.net = DiffusionNet(c_in, c_out, width=width, n_block=2)

    def forward(self, f: torch.Tensor, ops: Operators) -> torch.Tensor:
        return mass_weighted_mean(self.net(f[None], ops), ops.mass)[0]


class ConditionalDiffusionBlock(nn.Module):
    """Diffusion block conditioned on a per-query vector.

    x (Q,V,W) or (1,V,W) (shared by all queries: its diffusion/gradient features are computed
    once), cond (Q,D) -> (Q,V,W): ``x + MLP([block_features(x), proj(cond) broadcast])``.
    """

    def __init__(self, width: int, cond_dim: int):
        super().__init__()
        self.block = DiffusionNetBlock(width, with_mlp=False)
        self.cond_proj = nn.Sequential(nn.Linear(cond_dim, width), nn.ReLU(), nn.Linear(width, width))
        self.fuse = MiniMLP([3 * width + width, width, width])

    def forward(self, x: torch.Tensor, cond: torch.Tensor, ops: Operators) -> torch.Tensor:
        # fuse(cat[feats, c]) with the first linear layer split into its feature and condition
        # columns: the same function, but the per-vertex product is computed once for a shared
        # x (B=1) and the condition enters as a per-query bias (no (Q,V,W) concatenation).
        feats = self.block.features(x, ops)  # (B,V,3W)
        first = self.fuse[0]
        n_f = feats.shape[-1]
        hf = nn.functional.linear(feats, first.weight[:, :n_f])  # (B,V,W)
        hc = nn.functional.linear(self.cond_proj(cond), first.weight[:, n_f:], first.bias)  # (Q,W)
        h = hf + hc[:, None, :]
        for layer in list(self.fuse)[1:]:
            h = layer(h)
        return x + h


class RigAnyFace(nn.Module):
    """FACS-conditioned displacement network (see module doc)."""

    def __init__(self, config: RAFConfig | None = None):
        super().__init__()
        self.config = cfg = config or RAFConfig()
        K = cfg.num_shapes
        self.trunk = DiffusionNet(cfg.c_in, cfg.width, width=cfg.width, n_block=cfg.n_trunk, cross_part=cfg.cross_part)
        gdim = cfg.global_dim if cfg.use_global else 0
        if cfg.use_global:
            self.global_encoder = GlobalEncoder(cfg.c_in, cfg.global_width, cfg.global_dim)
        if cfg.use_basis:
            self.basis_head = MiniMLP([cfg.width + gdim, cfg.width, K * 3])
        if cfg.n_cond > 0:
            self.cond_in = nn.Linear(cfg.width + gdim, cfg.cond_width)
            self.cond_blocks = nn.ModuleList(
                [ConditionalDiffusionBlock(cfg.cond_width, K + gdim) for _ in range(cfg.n_cond)]
            )
            self.cond_out = nn.Linear(cfg.cond_width, 3)
            nn.init.zeros_(self.cond_out.weight)
            nn.init.zeros_(self.cond_out.bias)

    # -- pieces -----------------------------------------------------------------------------
    def input_features(self, xyz: torch.Tensor, ops: Operators, local: torch.Tensor | None = None) -> torch.Tensor:
        """xyz (V,3) in the head frame, local (V, n_local) from
        :func:`facerig.geometry.features.local_features` -> f (V, c_in) (xyz, HKS, positional,
        local)."""
        parts = [xyz, hks_features(ops, self.config.n_hks), fourier_features(xyz, self.config.n_fourier)]
        if self.config.n_local:
            if local is None or local.shape != (xyz.shape[0], self.config.n_local):
                raise ValueError(f"this model needs local features (V, {self.config.n_local})")
            parts.append(local)
        return torch.cat(parts, dim=-1)

    def encode(self, xyz: torch.Tensor, ops: Operators, local: torch.Tensor | None = None) -> dict:
        """Per-head pass: xyz (V,3), local (V, n_local) or None -> ``h`` (V,W+G) trunk features
        with G0 appended, ``g0`` (G,), ``basis`` (V,K,3) or None."""
        f = self.input_features(xyz, ops, local)
        h = self.trunk(f[None], ops)[0]
        if self.config.use_global:
            g0 = self.global_encoder(f, ops)
            h = torch.cat([h, g0[None].expand(h.shape[0], -1)], dim=-1)
        else:
            g0 = h.new_zeros((0,))
        basis = None
        if self.config.use_basis:
            basis = self.basis_head(h).view(h.shape[0], self.config.num_shapes, 3) * self.config.output_scale
        return {"h": h, "g0": g0, "basis": basis}

    def decode(self, enc: dict, a: torch.Tensor, ops: Operators) -> torch.Tensor:
        """Queries a (Q,K) -> displacements (Q,V,3) given :meth:`encode`'s output."""
        h, g0, basis = enc["h"], enc["g0"], enc["basis"]
        Q, V = a.shape[0], h.shape[0]
        out = h.new_zeros((Q, V, 3))
        if basis is not None:
            out = out + torch.einsum("qk,vkc->qvc", a, basis)
        if self.config.n_cond > 0:
            x = self.cond_in(h)[None]  # (1,V,Wc): identical for every query until the first block
            cond = torch.cat([a, g0[None].expand(Q, -1)], dim=-1)
            for blk in self.cond_blocks:
                x = blk(x, cond, ops)
            out = out + self.cond_out(x) * self.config.output_scale
        return out

    def forward(
        self, xyz: torch.Tensor, ops: Operators, a: torch.Tensor, local: torch.Tensor | None = None
    ) -> torch.Tensor:
        """xyz (V,3) head-frame neutral, ops for that mesh, a (Q,K), local (V, n_local) -> d (Q,V,3)."""
        return self.decode(self.encode(xyz, ops, local), a, ops)

    # -- persistence ------------------------------------------------------------------------
    def checkpoint(self, **extra) -> dict:
        return {"config": self.config.to_dict(), "state_dict": self.state_dict(), **extra}

    def load_compatible(self, state_dict: dict) -> list[str]:
        """Load a state dict of a variant with other input widths: tensors of equal shape are
        copied; input layers with fewer input columns are copied into the first columns (new
        columns keep a zero init, so the loaded function is unchanged); layers with more input
        columns keep their first ones (e.g. dropping the trailing G0 columns for the no-global
        ablation). Returns the names that were padded or cut."""
        own = self.state_dict()
        padded = []
        with torch.no_grad():
            for k, v in state_dict.items():
                if k not in own:
                    continue
                if own[k].shape == v.shape:
                    own[k].copy_(v)
                elif own[k].dim() == 2 and own[k].shape[0] == v.shape[0] and own[k].shape[1] > v.shape[1]:
                    own[k].zero_()
                    own[k][:, : v.shape[1]] = v
                    padded.append(k)
                elif own[k].dim() == 2 and own[k].shape[0] == v.shape[0] and own[k].shape[1] < v.shape[1]:
                    own[k].copy_(v[:, : own[k].shape[1]])
                    padded.append(k)
        self.load_state_dict(own)
        return padded

    @classmethod
    def from_weights_file(cls, path) -> RigAnyFace:
        """A model from a shipped weights ``.npz`` or a checkpoint ``.pt``
        (:func:`facerig.models.raf.weights.read_weights`)."""
        from facerig.models.raf.weights import read_weights

        config, params, _ = read_weights(path)
        model = cls(RAFConfig.from_dict(config))
        model.load_state_dict({k: torch.from_numpy(v) for k, v in params.items()})
        return model

    @classmethod
    def from_checkpoint(cls, ckpt: dict) -> RigAnyFace:
        from facerig.models.raf.weights import checkpoint_weights

        model = cls(RAFConfig.from_dict(ckpt["config"]))
        model.load_state_dict(checkpoint_weights(ckpt))
        return model

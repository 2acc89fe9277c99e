"""The expression encoder (Neural Face Rigging's, Qin et al. 2023) as a torch network (training).

Input: a posed head's proxy in its own normalised head frame, ``xyz`` (B,V,3) (B poses sharing
one mesh's operators), with the operators of that proxy. Output: ARKit-52 weights (B,52) in
[0, 1] (sigmoid, or a linear output clamped: ``EncoderConfig.output``).

Architecture::

    f = [xyz, HKS(ops), Fourier(xyz), c (xyz - Phi Phi^T M xyz)]   (B, V, c_in)
    h = DiffusionNet(f)                    (B, V, W)   facerig's layers (triangulation-agnostic)
    g = mean_mass(h)                       (B, W)      mass-weighted global pooling (as RigAnyFace's
                                                       global encoder)
    a_j = sum_v softmax_v(h_v . u_j + log m_v) h_v
                                           (B, A*W)    optional attention pools (A = n_attn)
    r = mean_mass(cos(xyz Omega + phi))    (B, n_rff)  optional random Fourier features, fixed
    w = sigmoid(MLP([g, a, r]))            (B, 52)     or clamp(MLP(.), 0, 1) (output="linear")

The NumPy runtime (:mod:`facerig.models.encoder.runtime`) computes the same function.
"""

from __future__ import annotations

import torch
from torch import nn

from facerig.geometry.operators import Operators
from facerig.models.diffusion_net import DiffusionNet, MiniMLP, mass_weighted_mean
from facerig.models.encoder.config import EncoderConfig
from facerig.models.raf.network import hks_features


class ExpressionEncoder(nn.Module):
    """Posed proxy -> ARKit-52 weights (see module doc)."""

    def __init__(self, config: EncoderConfig | None = None):
        super().__init__()
        self.config = cfg = config or EncoderConfig()
        self.net = DiffusionNet(cfg.c_in, cfg.width, width=cfg.width, n_block=cfg.n_block)
        if cfg.output not in ("sigmoid", "linear"):
            raise ValueError(f"EncoderConfig.output must be 'sigmoid' or 'linear', not {cfg.output!r}")
        if cfg.n_attn:
            self.attn = nn.Linear(cfg.width, cfg.n_attn)
        self.head = MiniMLP([cfg.pooled, cfg.head_hidden, cfg.num_shapes])
        if cfg.disp_head:  # training only: per-vertex displacement from the neutral (the NumPy runtime skips it)
            self.disp = nn.Linear(cfg.width, 3)
        if cfg.n_rff:
            g = torch.Generator().manual_seed(1234)
            self.register_buffer("rff_omega", torch.randn(3, cfg.n_rff, generator=g) * cfg.rff_sigma)
            self.register_buffer("rff_phase", torch.rand(cfg.n_rff, generator=g) * 2 * torch.pi)

    def input_features(self, xyz: torch.Tensor, ops: Operators, hks: torch.Tensor | None = None) -> torch.Tensor:
        """xyz (B,V,3), hks (V, n_hks) or None (computed from ``ops``) -> (B, V, c_in)."""
        c = self.config
        if hks is None:
            hks = hks_features(ops, c.n_hks)
        parts = [xyz, hks[None].expand(xyz.shape[0], -1, -1).to(xyz.dtype)]
        if c.n_fourier:
            freqs = 2.0 * torch.pi * (2.0 ** torch.arange(c.n_fourier, dtype=xyz.dtype))
            ang = (xyz[..., None] * freqs).flatten(-2)
            parts += [torch.sin(ang), torch.cos(ang)]
        if c.highpass:
            spec = torch.einsum("vk,bvc->bkc", ops.evecs, xyz * ops.mass[:, None])
            proj = torch.einsum("vk,bkc->bvc", ops.evecs, spec)
            parts.append((xyz - proj) * c.highpass)
        return torch.cat(parts, dim=-1)

    def logits(self, xyz: torch.Tensor, ops: Operators, hks: torch.Tensor | None = None) -> torch.Tensor:
        """xyz (B,V,3) or (V,3) -> the head's raw outputs (B,52) (or (52,)): pre-sigmoid, or the
        unclamped weights of a linear output."""
        squeeze = xyz.dim() == 2
        out, _ = self.encode(xyz[None] if squeeze else xyz, ops, hks)
        return out[0] if squeeze else out

    def encode(
        self, x: torch.Tensor, ops: Operators, hks: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B,V,3) -> (:meth:`logits` (B,52), the displacement head's output (B,V,3) or None)."""
        h = self.net(self.input_features(x, ops, hks), ops)
        g = [mass_weighted_mean(h, ops.mass)]
        if self.config.n_attn:
            a = torch.softmax(self.attn(h) + torch.log(ops.mass.clamp(min=1e-12))[None, :, None], dim=1)  # (B,V,A)
            g.append(torch.einsum("bva,bvc->bac", a, h).flatten(1))
        if self.config.n_rff:
            g.append(mass_weighted_mean(torch.cos(x @ self.rff_omega + self.rff_phase), ops.mass))
        return self.head(torch.cat(g, dim=-1)), (self.disp(h) if self.config.disp_head else None)

    def weights(self, raw: torch.Tensor) -> torch.Tensor:
        """:meth:`logits` (B,52) -> weights (B,52) in [0, 1] (sigmoid, or clamp for a linear output)."""
        return raw.clamp(0.0, 1.0) if self.config.output == "linear" else torch.sigmoid(raw)

    def forward(self, xyz: torch.Tensor, ops: Operators, hks: torch.Tensor | None = None) -> torch.Tensor:
        """xyz (B,V,3) or (V,3) in the posed head's frame, ops of that proxy -> weights (B,52) in [0, 1]."""
        return self.weights(self.logits(xyz, ops, hks))

    def checkpoint(self, **extra) -> dict:
        return {"config": self.config.to_dict(), "state_dict": self.state_dict(), **extra}

    @classmethod
    def from_weights_file(cls, path) -> ExpressionEncoder:
        """A model from a weights ``.npz`` (:func:`facerig.models.raf.weights.read_weights`'s format)."""
        from facerig.models.raf.weights import read_weights

        config, params, _ = read_weights(path)
        model = cls(EncoderConfig.from_dict(config))
        model.load_state_dict({k: torch.from_numpy(v) for k, v in params.items()})
        return model

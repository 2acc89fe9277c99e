"""DiffusionNet layers: shapes, vertex-permutation equivariance, diffusion sanity."""

from __future__ import annotations

import numpy as np
import torch

from facerig.geometry.features import cross_part_operator
from facerig.geometry.operators import compute_operators
from facerig.models.diffusion_net import (
    DiffusionNet,
    DiffusionNetBlock,
    LearnedTimeDiffusion,
    _sparse_apply,
    mass_weighted_mean,
)


def _ops(v, f, k=16, cross=False):
    cross = cross_part_operator(v, f, radius=0.3, sigma=0.1) if cross else None
    return compute_operators(v, f, k=k, cache=False).with_cross(cross).to_torch()


def _permuted(v, f, seed=0):
    perm = np.random.default_rng(seed).permutation(len(v))
    inv = np.argsort(perm)
    return v[perm], inv[f], perm


def test_shapes(tiny_head):
    v, f = tiny_head(8, 12)
    ops = _ops(v, f)
    torch.manual_seed(0)
    net = DiffusionNet(3, 5, width=16, n_block=2)
    x = torch.from_numpy(v).float()
    assert net(x, ops).shape == (len(v), 5)
    assert net(x[None].expand(3, -1, -1), ops).shape == (3, len(v), 5)
    assert mass_weighted_mean(torch.ones(2, len(v), 4), ops.mass).shape == (2, 4)


def test_vertex_permutation_equivariance(tiny_head):
    v, f = tiny_head(8, 12)
    vp, fp, perm = _permuted(v, f)
    torch.manual_seed(0)
    net = DiffusionNet(3, 4, width=16, n_block=2)
    with torch.no_grad():
        for b in net.blocks:
            b.diffusion.diffusion_time.fill_(0.05)
        y = net(torch.from_numpy(v).float(), _ops(v, f))
        yp = net(torch.from_numpy(vp).float(), _ops(vp, fp))
    np.testing.assert_allclose(yp.numpy(), y.numpy()[perm], atol=2e-4)


def test_diffusion_zero_time_is_identity_and_long_time_averages(tiny_head):
    v, f = tiny_head(8, 12)
    ops = _ops(v, f, k=32)
    layer = LearnedTimeDiffusion(1)
    x = torch.from_numpy(v[:, :1]).float()[None]
    x = x - 0.0
    with torch.no_grad():
        layer.diffusion_time.fill_(1e3)
        y = layer(x, ops)
    # long diffusion: constant per connected component (here both parts -> their mean)
    head = slice(0, len(v) - 6)
    assert float(y[0, head].std()) < 1e-3
    # zero-ish time keeps the projection of x onto the eigenbasis (close to x for smooth fields)
    with torch.no_grad():
        layer.diffusion_time.fill_(0.0)
        y0 = layer(x, ops)
    assert float((y0 - x).abs().mean()) < 0.15


def test_block_gradients_flow(tiny_head):
    v, f = tiny_head()
    ops = _ops(v, f)
    blk = DiffusionNetBlock(8)
    x = torch.randn(2, len(v), 8, requires_grad=True)
    blk(x, ops).sum().backward()
    assert x.grad is not None and blk.diffusion.diffusion_time.grad is not None


def test_cross_part_block_is_permutation_equivariant_and_reads_the_other_part(tiny_head):
    v, f = tiny_head(8, 12)
    ops = _ops(v, f, cross=True)
    assert ops.cross is not None and ops.cross._nnz() > 0
    vp, fp, perm = _permuted(v, f)
    torch.manual_seed(0)
    net = DiffusionNet(3, 4, width=16, n_block=2, cross_part=True)
    with torch.no_grad():
        for b in net.blocks:
            b.diffusion.diffusion_time.fill_(0.05)
        y = net(torch.from_numpy(v).float(), ops)
        yp = net(torch.from_numpy(vp).float(), _ops(vp, fp, cross=True))
    np.testing.assert_allclose(yp.numpy(), y.numpy()[perm], atol=2e-4)
    # the block's cross features are the other part's features, averaged
    blk = net.blocks[0]
    x = torch.randn(1, len(v), 16)
    with torch.no_grad():
        feats = blk.features(x, ops)
    assert feats.shape == (1, len(v), 64)
    np.testing.assert_allclose(feats[0, :, 48:].numpy(), ops.cross @ x[0], atol=1e-5)
    try:
        with torch.no_grad():
            blk.features(x, _ops(v, f))
    except ValueError as e:
        assert "cross-part" in str(e)
    else:
        raise AssertionError("a cross-part block without the operator must fail")


def test_sparse_apply_backward_uses_the_transpose(tiny_head):
    v, f = tiny_head(8, 12)
    ops = _ops(v, f)
    x = torch.randn(2, len(v), 3, requires_grad=True)
    g = torch.randn(2, len(v), 3)
    (_sparse_apply(ops.grad_x, x, ops) * g).sum().backward()
    dense = ops.grad_x.to_dense()
    np.testing.assert_allclose(x.grad.numpy(), torch.einsum("uv,buc->bvc", dense, g).numpy(), atol=1e-5)

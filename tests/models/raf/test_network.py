"""RigAnyFace network: shapes, one-pass rig == per-query, permutation equivariance, global encoder."""

from __future__ import annotations

import numpy as np
import torch

from facerig.geometry.operators import compute_operators
from facerig.models.raf.config import RAFConfig
from facerig.models.raf.network import RigAnyFace

SMALL = dict(width=16, n_trunk=1, global_width=8, global_dim=8, cond_width=8, n_cond=1, n_hks=4, k_eig=16)


def _setup(v, f, **cfg):
    torch.manual_seed(0)
    model = RigAnyFace(RAFConfig(**{**SMALL, **cfg})).eval()
    with torch.no_grad():  # make the conditional path non-trivial
        torch.nn.init.normal_(model.cond_out.weight, std=0.5)
    ops = compute_operators(v, f, k=16, cache=False).to_torch()
    return model, ops, torch.from_numpy(v).float()


def test_output_shapes_and_batching(tiny_head):
    v, f = tiny_head(8, 12)
    model, ops, x = _setup(v, f)
    a = torch.eye(52)[:5]
    with torch.no_grad():
        d = model(x, ops, a)
        d1 = model(x, ops, a[2:3])
    assert d.shape == (5, len(v), 3)
    np.testing.assert_allclose(d[2:3].numpy(), d1.numpy(), atol=1e-5)  # queries are independent


def test_combinations_are_queried_not_summed(tiny_head):
    v, f = tiny_head(8, 12)
    model, ops, x = _setup(v, f)
    a = torch.zeros(3, 52)
    a[0, 3] = 1
    a[1, 7] = 1
    a[2, 3] = a[2, 7] = 1
    with torch.no_grad():
        d = model(x, ops, a)
    # the conditional correction makes the combination differ from the sum of its parts
    assert float((d[2] - d[0] - d[1]).abs().max()) > 1e-6


def test_permutation_equivariance(tiny_head):
    v, f = tiny_head(8, 12)
    perm = np.random.default_rng(1).permutation(len(v))
    inv = np.argsort(perm)
    model, ops, x = _setup(v, f)
    _, ops_p, x_p = _setup(v[perm], inv[f])
    a = torch.eye(52)[:4]
    with torch.no_grad():
        d = model(x, ops, a)
        dp = model(x_p, ops_p, a)
    np.testing.assert_allclose(dp.numpy(), d.numpy()[:, perm], atol=5e-4)


def test_global_encoder_links_disconnected_parts(tiny_head):
    """Moving only the separate 'eye' part changes the head's output through G0 only."""
    v, f = tiny_head(8, 12)
    v2 = v.copy()
    v2[-6:] += (0.0, 0.0, 0.2)
    a = torch.eye(52)[:2]
    outs = {}
    for use_global in (True, False):
        model, ops, x = _setup(v, f, use_global=use_global)
        _, ops2, x2 = _setup(v2, f, use_global=use_global)
        with torch.no_grad():
            outs[use_global] = float((model(x, ops, a)[:, :-6] - model(x2, ops2, a)[:, :-6]).abs().max())
    assert outs[True] > 1e-6
    assert outs[False] < 1e-6


def test_checkpoint_roundtrip(tiny_head):
    v, f = tiny_head()
    model, ops, x = _setup(v, f)
    m2 = RigAnyFace.from_checkpoint(model.checkpoint())
    a = torch.eye(52)[:2]
    with torch.no_grad():
        np.testing.assert_allclose(m2.eval()(x, ops, a).numpy(), model(x, ops, a).numpy(), atol=1e-6)


def test_widening_inputs_keeps_the_function(tiny_head):
    """Adding positional (Fourier) input channels to a trained model starts from the same output."""
    v, f = tiny_head(8, 12)
    model, ops, x = _setup(v, f)
    wide = RigAnyFace(RAFConfig(**{**SMALL, "n_fourier": 3})).eval()
    padded = wide.load_compatible(model.state_dict())
    assert "trunk.first.weight" in padded
    a = torch.eye(52)[:3]
    with torch.no_grad():
        np.testing.assert_allclose(wide(x, ops, a).numpy(), model(x, ops, a).numpy(), atol=1e-6)

"""Head-frame augmentation: a rescaled item is the item measured in a wider or narrower frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_train import SMALL, _sample, _write_pool

from facerig.train.augment import rescale_item, sample_frame_factor
from facerig.train.dataset import load_item, make_item


@pytest.fixture
def item(tmp_path, tiny_head):
    v, f = tiny_head(8, 12)
    np.savez(tmp_path / "train_tiny_000000.npz", **make_item(_sample(v, f, 0), k=16))
    return load_item(tmp_path / "train_tiny_000000.npz")


@pytest.mark.parametrize("a", [0.7, 1.4])
def test_rescaled_item_equals_the_item_prepared_in_that_frame(item, a):
    from facerig.geometry.features import network_inputs
    from facerig.geometry.operators import compute_operators

    x0, d0, m0 = item.xyz.clone(), item.deltas.clone(), item.ops.mass.clone()
    r = rescale_item(item, a)
    xyz = item.xyz.numpy().astype(np.float64) / a
    assert torch.allclose(r.xyz, item.xyz / a)
    ops = compute_operators(xyz, item.faces, k=16, cache=False)
    assert np.allclose(r.ops.mass.numpy(), ops.mass, rtol=1e-4)
    assert np.allclose(r.ops.evals.numpy()[1:], ops.evals[1:], rtol=1e-3)
    # eigenvectors up to sign: compare the projector onto the well-separated leading ones
    E1, E2 = r.ops.evecs.numpy()[:, :4].astype(np.float64), ops.evecs[:, :4]
    assert np.allclose(E1 @ E1.T, E2 @ E2.T, atol=1e-4 * np.abs(E2 @ E2.T).max())
    f = np.random.default_rng(0).normal(size=(len(xyz), 1))
    for ours, ref in ((r.ops.grad_x, ops.grad_x), (r.ops.grad_y, ops.grad_y)):
        g = ours.to_dense().numpy() @ f
        assert np.allclose(g, ref @ f, atol=1e-4 * np.abs(ref @ f).max())
    local, cross = network_inputs(xyz, item.faces)
    assert np.allclose(r.local.numpy(), local, atol=1e-5)
    assert np.allclose(r.ops.cross.to_dense().numpy(), cross.toarray(), atol=1e-6)
    # the targets are the same motion in millimetres, in the wider frame's units
    assert r.scale == pytest.approx(item.scale * a)
    assert torch.allclose(r.deltas * r.scale, item.deltas * item.scale, atol=1e-6)
    # the original item is untouched
    assert torch.equal(item.xyz, x0) and torch.equal(item.deltas, d0) and torch.equal(item.ops.mass, m0)


def test_factor_one_is_the_item_itself_and_bad_factors_fail(item):
    assert rescale_item(item, 1.0) is item
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="positive"):
            rescale_item(item, bad)
    item.faces = None
    with pytest.raises(ValueError, match="faces"):
        rescale_item(item, 1.2)


def test_frame_factor_share_and_range():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert sample_frame_factor(rng, 1.0, 0.5) == 1.0 and sample_frame_factor(rng, 1.5, 0.0) == 1.0
    assert rng.bit_generator.state == state  # off: the run's random stream is untouched
    fs = np.array([sample_frame_factor(rng, 1.5, 0.4) for _ in range(4000)])
    moved = fs[fs != 1.0]
    assert abs(len(moved) / len(fs) - 0.4) < 0.03
    assert moved.min() >= 1 / 1.5 and moved.max() <= 1.5
    assert abs(np.mean(np.log(moved))) < 0.03  # log-uniform: as often wider as narrower


def test_training_with_frame_augmentation_sees_rescaled_heads(tmp_path, tiny_head, monkeypatch):
    """``train run --frame-spread S --p-frame P`` reaches the loop: every step (P = 1) trains on a
    head rescaled by a factor within [1/S, S]."""
    import json

    import facerig.train.loop as loop
    from facerig.cli import main

    pool = tmp_path / "pool"
    pool.mkdir()
    _write_pool(pool, tiny_head, n=2)
    seen = []
    real = loop.rescale_item
    monkeypatch.setattr(loop, "rescale_item", lambda it, a: seen.append(a) or real(it, a))
    assert (
        main(
            [
                "train",
                "run",
                "--pool",
                str(pool),
                "--out",
                str(tmp_path / "run"),
                "--steps",
                "8",
                "--warmup",
                "1",
                "--lr",
                "1e-2",
                "--model",
                json.dumps(SMALL),
                "--frame-spread",
                "1.5",
                "--p-frame",
                "1",
            ]
        )
        == 0
    )
    assert len(seen) == 8 and all(1 / 1.5 <= a <= 1.5 for a in seen) and len(set(seen)) == 8
    ck = torch.load(tmp_path / "run" / "last.pt", weights_only=False)
    assert ck["train_config"]["p_frame"] == 1.0 and ck["train_config"]["frame_spread"] == 1.5
    assert all(torch.isfinite(v).all() for v in ck["state_dict"].values() if v.is_floating_point())

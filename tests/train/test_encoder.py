"""Expression-encoder training: expression sampling, posing, loss, and a short run on a tiny pool."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facerig.geometry.operators import compute_operators  # noqa: E402
from facerig.geometry.proxy import head_frame  # noqa: E402
from facerig.models.encoder.runtime import EncoderRuntime, posed_frame  # noqa: E402
from facerig.train.encoder import (  # noqa: E402
    EncoderTrainConfig,
    encoder_loss,
    export_encoder,
    load_head,
    pose_batch,
    sample_expressions,
    train_encoder,
)

SMALL = dict(width=16, n_block=2, head_hidden=32, n_hks=4, k_eig=16, n_fourier=0, n_rff=0)


def _take(n=300, seed=0):
    """A take-like set of frames: a few shapes co-active at a time, the rest near 0."""
    rng = np.random.default_rng(seed)
    W = np.zeros((n, 52), np.float32)
    for t in range(n):
        W[t, rng.choice(52, 6, replace=False)] = rng.uniform(0.2, 1.0, 6)
    return W


def _write_item(path, tiny_head, seed, n_shapes=6):
    """A pool item (facerig.train.dataset's layout) of the tiny head with smooth random deltas."""
    v, f = tiny_head(8, 12)
    c, s = head_frame(v)
    xyz = (v - c) / s
    ops = compute_operators(xyz, f, k=16, cache=False)
    rng = np.random.default_rng(seed)
    deltas = np.zeros((52, len(v), 3), np.float32)
    mask = np.zeros(52, bool)
    for k in range(n_shapes):  # shape k moves the vertices near one random point
        centre = xyz[rng.integers(len(v))]
        w = np.exp(-np.sum((xyz - centre) ** 2, 1) / 0.1)
        deltas[k] = (w[:, None] * rng.normal(0, 0.05, 3)).astype(np.float32)
        mask[k] = True
    item = {
        "xyz": xyz.astype(np.float32),
        "faces": f.astype(np.int32),
        "mass": ops.mass.astype(np.float32),
        "evals": ops.evals.astype(np.float32),
        "evecs": ops.evecs.astype(np.float32),
        "deltas": deltas,
        "shape_mask": mask,
    }
    for name, A in (("gx", ops.grad_x), ("gy", ops.grad_y)):
        item[f"{name}_data"], item[f"{name}_indices"], item[f"{name}_indptr"] = A.data, A.indices, A.indptr
    np.savez(path, **item)
    return path


def test_sample_expressions_co_activation():
    rng = np.random.default_rng(0)
    take = _take()
    mask = np.ones(52, bool)
    mask[-1] = False
    W = sample_expressions(rng, take, 4000, mask)
    assert W.shape == (4000, 52) and W.dtype == np.float32
    assert W.min() >= 0 and W.max() <= 1 and not W[:, -1].any()
    active = (W > 0.05).sum(1)
    assert 0.03 < np.mean(active == 0) < 0.12  # neutral poses
    assert 0.08 < np.mean(active == 1) < 0.2  # one-hot poses (and a few thinned frames)
    assert np.mean(active >= 3) > 0.6  # most poses combine shapes as the take does


def test_pose_batch_frame_and_loss(tmp_path, tiny_head):
    h = load_head(_write_item(tmp_path / "train_tiny_000000.npz", tiny_head, 0), 16, 4)
    W = np.zeros((3, 52), np.float32)
    W[1, 0] = 1.0
    W[2, :6] = 0.5
    xyz = pose_batch(h, W)
    assert xyz.shape == (3, len(h.xyz), 3)
    posed = h.xyz.double().numpy() + np.einsum("k,kpc->pc", W[2], h.deltas.numpy())
    c, s = head_frame(posed)
    np.testing.assert_allclose(xyz[2].numpy(), (posed - c) / s, atol=1e-6)  # each pose in its own head frame
    target = torch.from_numpy(W)
    exact = torch.logit(target.clamp(1e-7, 1 - 1e-7))
    _, parts = encoder_loss(exact, target, h, 100.0)
    assert parts["l1"] < 1e-6 and parts["mesh"] < 1e-6
    logits = exact.clone().requires_grad_(True)
    with torch.no_grad():
        logits[1, 0] = -30.0  # shape 0 missed entirely on pose 1, its sigmoid saturated
    loss, parts = encoder_loss(logits, target, h, 100.0)
    m = (h.ops.mass / h.ops.mass.sum()).numpy()
    mesh = (np.linalg.norm(h.deltas[0].numpy(), axis=1) * m).sum() / 3
    np.testing.assert_allclose(parts["mesh"], mesh, rtol=1e-4)
    np.testing.assert_allclose(parts["l1"], 1.0 / 3 / 6, rtol=1e-4)  # over the 6 shapes the head has
    loss.backward()
    # the cross-entropy still pulls a saturated logit up: d/dlogit = (sigmoid - target) / (poses x shapes)
    np.testing.assert_allclose(float(logits.grad[1, 0]), -1.0 / 3 / 6, rtol=1e-3)
    assert float(logits.grad[0, 10]) == 0.0  # a shape the head lacks is not supervised


def test_linear_output_loss(tmp_path, tiny_head):
    """A linear output trains on the unclamped weights with the L1: its gradient on an output far
    outside [0, 1] is still sign(w - w*) / (poses x shapes); the cross-entropy is refused."""
    h = load_head(_write_item(tmp_path / "train_tiny_000000.npz", tiny_head, 0), 16, 4)
    W = np.zeros((2, 52), np.float32)
    W[0, :6] = 0.5
    W[1, 2] = 1.0
    target = torch.from_numpy(W)
    _, parts = encoder_loss(target.clone(), target, h, 20.0, "l1", "linear")
    assert parts["l1"] < 1e-7 and parts["mesh"] < 1e-7
    out = target.clone()
    out[0, 1] = -5.0  # far below 0: a sigmoid would be saturated here
    out[1, 2] = 1.25  # above 1
    out = out.requires_grad_(True)
    _, parts = encoder_loss(out, target, h, 0.0, "l1", "linear")
    np.testing.assert_allclose(parts["l1"], (5.5 + 0.25) / 2 / 6, rtol=1e-5)
    (g,) = torch.autograd.grad(encoder_loss(out, target, h, 0.0, "l1", "linear")[0], out)
    np.testing.assert_allclose([float(g[0, 1]), float(g[1, 2])], [-1 / 12, 1 / 12], rtol=1e-5)
    assert float(g[0, 10]) == 0.0  # a shape the head lacks is not supervised
    with pytest.raises(ValueError, match="l1"):
        encoder_loss(out, target, h, 0.0, "bce", "linear")


@pytest.mark.slow
def test_short_run_learns_and_exports(tmp_path, tiny_head):
    pool = tmp_path / "pool"
    pool.mkdir()
    for i in range(3):
        _write_item(pool / f"train_tiny_{i:06d}.npz", tiny_head, 0)  # one head, three copies
    _write_item(pool / "eval_tiny_000000.npz", tiny_head, 0)
    cfg = EncoderTrainConfig(
        pool_dir=str(pool),
        out_dir=str(tmp_path / "run"),
        steps=150,
        lr=3e-3,
        warmup=10,
        weight_loss="l1",
        poses=8,
        rotate_deg=0.0,
        jitter=0.0,
        threads=1,
        log_every=50,
        eval_every_min=1e9,
        model=dict(SMALL),
    )
    best = train_encoder(cfg, log=lambda s: None, take=_take())
    recs = [json.loads(x) for x in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    steps = [r for r in recs if "l1" in r]
    assert steps[-1]["l1"] < 0.85 * steps[0]["l1"]
    final = recs[-1]["val"]["mae"]
    assert final < 0.1  # (with the cross-entropy loss this pool stays at ~0.14 in 150 steps)
    out = export_encoder(best, tmp_path / "enc.npz", note="test")
    rt = EncoderRuntime.load(out)
    assert rt.meta["step"] == 150 and rt.meta["note"] == "test"
    h = load_head(pool / "eval_tiny_000000.npz", 16, 4)
    W = _take(4, seed=5) * h.mask.numpy()
    xyz = pose_batch(h, W.astype(np.float32)).numpy()
    ops = compute_operators(h.xyz.numpy(), np.load(pool / "eval_tiny_000000.npz")["faces"], k=16, cache=False)
    pred = rt(xyz, ops.for_network(16))
    assert np.abs(pred - W)[:, h.mask.numpy()].mean() < 0.15
    # resuming a finished run does nothing more
    train_encoder(cfg, log=lambda s: None, take=_take())
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=False)["step"] == 150
    assert posed_frame(xyz.astype(np.float64))[0].shape == xyz.shape

"""The expression encoder: NumPy runtime == torch network, weights files, encode_frames."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from facerig.geometry.operators import compute_operators
from facerig.models.encoder.config import EncoderConfig
from facerig.models.encoder.runtime import EncoderRuntime, encode_frames, posed_frame
from facerig.models.encoder.weights import WEIGHTS_PATH

torch = pytest.importorskip("torch")
from facerig.models.encoder.network import ExpressionEncoder  # noqa: E402

SMALL = dict(width=16, n_block=2, head_hidden=16, n_hks=4, k_eig=16, proxy_vertices=5000, n_fourier=0, n_rff=0)


def _random_model(**over) -> ExpressionEncoder:
    torch.manual_seed(0)
    model = ExpressionEncoder(EncoderConfig(**{**SMALL, **over})).eval()
    with torch.no_grad():  # zero diffusion times would hide mistakes
        for name, p in model.named_parameters():
            p.add_(0.3 * torch.randn_like(p))
            if name.endswith("diffusion_time"):
                p.abs_()
    return model


def _runtime(model: ExpressionEncoder) -> EncoderRuntime:
    return EncoderRuntime(model.config.to_dict(), {k: v.numpy() for k, v in model.state_dict().items()})


def _poses(tiny_head, n: int = 3):
    v, f = tiny_head(8, 12)
    rng = np.random.default_rng(0)
    X = v[None] + rng.normal(0, 0.02, (n, *v.shape))
    xyz, _, _ = posed_frame(X)
    return v, f, xyz


@pytest.mark.parametrize(
    "over",
    [
        {},
        {"n_fourier": 3},
        {"highpass": 10.0},
        {"n_fourier": 2, "highpass": 5.0},
        {"n_rff": 32},
        {"n_attn": 4},
        {"n_attn": 3, "n_rff": 16, "output": "linear"},
    ],
)
def test_runtime_matches_torch(tiny_head, over):
    v, f, xyz = _poses(tiny_head)
    ops = compute_operators(xyz[0], f, k=16, cache=False)
    model = _random_model(**over)
    if over.get("output") == "linear":  # outputs around 0.5 so that the clamp leaves most inside
        with torch.no_grad():
            model.head[-1].bias.fill_(0.5)
            model.head[-1].weight.mul_(
                0.3 / model.logits(torch.from_numpy(xyz.astype(np.float32)), ops.to_torch()).std()
            )
    with torch.no_grad():
        ref = model(torch.from_numpy(xyz.astype(np.float32)), ops.to_torch()).numpy()
    out = _runtime(model)(xyz, ops.for_network(16))
    assert out.shape == ref.shape == (3, 52)
    # weights in [0, 1] that depend on the input (the test's large random parameters saturate a few)
    assert ((out >= 0) & (out <= 1)).all() and ((out > 0) & (out < 1)).mean() > 0.3 and out.std() > 1e-3
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_runtime(model)(xyz[1], ops.for_network(16)), out[1], rtol=1e-5, atol=1e-6)


def test_permutation_invariant(tiny_head):
    """Pooled outputs do not depend on vertex order (triangulation-agnostic layers)."""
    v, f, xyz = _poses(tiny_head, 2)
    perm = np.random.default_rng(1).permutation(len(v))
    inv = np.argsort(perm)
    rt = _runtime(_random_model())
    a = rt(xyz, compute_operators(xyz[0], f, k=16, cache=False).for_network(16))
    b = rt(xyz[:, perm], compute_operators(xyz[0][perm], inv[f], k=16, cache=False).for_network(16))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_weights_file_roundtrip(tmp_path, tiny_head):
    from facerig.models.raf.weights import save_weights

    v, f, xyz = _poses(tiny_head, 2)
    ops = compute_operators(xyz[0], f, k=16, cache=False).for_network(16)
    model = _random_model()
    p = save_weights(tmp_path / "enc.npz", model.config.to_dict(), model.state_dict(), {"note": "test"})
    rt = EncoderRuntime.load(p)
    assert rt.meta["note"] == "test" and rt.config.width == 16
    np.testing.assert_allclose(rt(xyz, ops), _runtime(model)(xyz, ops), rtol=1e-6)
    with torch.no_grad():
        ref = ExpressionEncoder.from_weights_file(p)(torch.from_numpy(xyz.astype(np.float32)), ops.to_torch()).numpy()
    np.testing.assert_allclose(rt(xyz, ops), ref, rtol=1e-4, atol=1e-5)


def test_encode_frames_sequence(tiny_head):
    """A sequence shares its first frame's proxy and operators: the first frame is as if encoded
    alone, a later frame differs from its own preparation only through the operators; a
    low-rank animation gives the dense frames' answer."""
    from facerig.invert.frames import Frames

    v, f = tiny_head(8, 12)
    rng = np.random.default_rng(2)
    D = rng.normal(0, 0.03, (4, len(v), 3))
    W = rng.uniform(0, 1, (5, 4))
    Y = v[None] + np.einsum("tk,kvc->tvc", W, D)
    rt = _runtime(_random_model())
    tm: dict = {}
    out = encode_frames(Y, f, model=rt, chunk=2, timings=tm)
    assert out.shape == (5, 52) and set(tm) == {"prepare", "network"}
    np.testing.assert_allclose(out[0], encode_frames(Y[:1], f, model=rt)[0], rtol=1e-5, atol=1e-6)
    own = encode_frames(Y[3:4], f, model=rt, per_frame_operators=True)[0]
    np.testing.assert_allclose(own, encode_frames(Y[3:4], f, model=rt)[0], rtol=1e-5, atol=1e-6)
    assert np.abs(out[3] - own).max() < 0.05  # small poses: the first frame's operators are close
    low = Frames(None, [str(t) for t in range(5)], lowrank=(Y[0], W - W[0], (D.reshape(4, -1))))
    np.testing.assert_allclose(encode_frames(low, f, model=rt, chunk=3), out, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not WEIGHTS_PATH.is_file(), reason="no shipped encoder weights")
def test_shipped_weights_run_without_torch(tmp_path, tiny_head):
    """The shipped weights load, match the torch network, and inference never imports torch."""
    v, f = tiny_head(8, 12)
    np.save(tmp_path / "v.npy", v)
    np.save(tmp_path / "f.npy", f)
    code = (
        "import sys, numpy as np; from facerig.models.encoder.runtime import encode_frames; "
        f"w = encode_frames(np.load(r'{tmp_path / 'v.npy'}'), np.load(r'{tmp_path / 'f.npy'}')); "
        "assert 'torch' not in sys.modules, 'torch imported'; print(w.shape, float(w.min()), float(w.max()))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "(1, 52)" in r.stdout
    rt = EncoderRuntime.load(WEIGHTS_PATH)
    c = rt.config
    xyz, _, _ = posed_frame(v[None])
    ops = compute_operators(xyz[0], f, k=c.k_eig, cache=False)
    with torch.no_grad():
        ref = ExpressionEncoder.from_weights_file(WEIGHTS_PATH)(
            torch.from_numpy(xyz.astype(np.float32)), ops.to_torch()
        ).numpy()
    np.testing.assert_allclose(rt(xyz, ops.for_network(c.k_eig)), ref, rtol=1e-4, atol=1e-5)


def test_encode_frames_restores_blas_threads(tiny_head):
    """One mesh and a sequence are read on one BLAS thread; the host's BLAS setting is back after."""
    from threadpoolctl import threadpool_info, threadpool_limits

    v, f = tiny_head(8, 12)
    rt = _runtime(_random_model())
    Y = v[None] + np.random.default_rng(3).normal(0, 0.01, (3, *v.shape))
    with threadpool_limits(2, user_api="blas"):
        before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        encode_frames(Y[0], f, model=rt)
        encode_frames(Y, f, model=rt, per_frame_operators=True)
        encode_frames(Y, f, model=rt)
        assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before

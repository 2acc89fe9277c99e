"""The NumPy inference runtime computes the torch RigAnyFace function (every config switch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facerig.geometry.features import NUM_LOCAL_FEATURES, cross_part_operator, local_features, network_inputs
from facerig.geometry.operators import compute_operators
from facerig.geometry.proxy import head_frame
from facerig.models.raf import runtime as raf_runtime
from facerig.models.raf.config import RAFConfig
from facerig.models.raf.network import RigAnyFace
from facerig.models.raf.runtime import RigAnyFaceRuntime
from facerig.models.raf.weights import read_weights, save_weights

SMALL = dict(width=16, n_trunk=2, global_width=8, global_dim=8, cond_width=8, n_cond=2, n_hks=4, k_eig=16)


def _head(tiny_head):
    v, f = tiny_head(8, 12)
    c, s = head_frame(v)
    xyz = (v - c) / s
    ops = compute_operators(xyz, f, k=16, cache=False)
    return xyz.astype(np.float32), f, ops


def _random_model(**over) -> RigAnyFace:
    torch.manual_seed(0)
    model = RigAnyFace(RAFConfig(**{**SMALL, **over})).eval()
    with torch.no_grad():  # zero-initialised outputs and times would hide mistakes
        for name, p in model.named_parameters():
            p.add_(0.3 * torch.randn_like(p))
            if name.endswith("diffusion_time"):
                p.abs_()
    return model


@pytest.mark.parametrize(
    "over",
    [
        {},
        {"use_global": False},
        {"use_basis": False},
        {"n_cond": 0},
        {"n_cond": 1},
        {"n_cond": 3},
        {"n_fourier": 3},
        {"n_local": NUM_LOCAL_FEATURES},
        {"cross_part": True},
    ],
)
def test_runtime_matches_torch(tiny_head, over):
    xyz, f, ops = _head(tiny_head)
    model = _random_model(**over)
    local = local_features(xyz, f) if model.config.n_local else None
    cross = cross_part_operator(xyz, f, radius=0.3, sigma=0.1) if model.config.cross_part else None
    assert cross is None or cross.nnz > 0
    a = np.eye(52, dtype=np.float32)[:7]
    a = np.concatenate([a, np.random.default_rng(0).uniform(0, 1, (3, 52)).astype(np.float32)])
    with torch.no_grad():
        ref = model(
            torch.from_numpy(xyz),
            ops.truncated(16).with_cross(cross).to_torch(),
            torch.from_numpy(a),
            None if local is None else torch.from_numpy(local),
        ).numpy()
    rt = RigAnyFaceRuntime(model.config.to_dict(), {k: v.numpy() for k, v in model.state_dict().items()})
    out = rt(xyz, ops.for_network(k=16, cross=cross), a, local, chunk=4)
    assert out.shape == ref.shape == (10, len(xyz), 3)
    assert np.abs(ref).max() > 1e-3
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())


def test_weights_file_roundtrip(tmp_path):
    model = _random_model(n_fourier=2)
    path = save_weights(tmp_path / "w.npz", model.config.to_dict(), model.state_dict(), {"step": 7})
    config, params, meta = read_weights(path)
    assert config == model.config.to_dict() and meta == {"step": 7}
    assert set(params) == set(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(params[k], v.numpy())
    # the torch model loads the same file (fine-tuning from shipped weights)
    m2 = RigAnyFace.from_weights_file(path)
    assert all(torch.equal(m2.state_dict()[k], v) for k, v in model.state_dict().items())


def test_runtime_needs_local_features_when_configured(tiny_head):
    xyz, f, ops = _head(tiny_head)
    model = _random_model(n_local=NUM_LOCAL_FEATURES)
    rt = RigAnyFaceRuntime(model.config.to_dict(), {k: v.numpy() for k, v in model.state_dict().items()})
    with pytest.raises(ValueError, match="local features"):
        rt(xyz, ops.for_network(k=16), np.eye(52, dtype=np.float32)[:1])


def test_shipped_weights_match_torch(tiny_head):
    from facerig.models.raf.weights import WEIGHTS_PATH

    assert WEIGHTS_PATH.is_file(), "the shipped weights are part of the package"
    config, params, _ = read_weights(WEIGHTS_PATH)
    model = RigAnyFace.from_weights_file(WEIGHTS_PATH).eval()
    v, f = tiny_head(10, 16)
    c, s = head_frame(v)
    xyz = ((v - c) / s).astype(np.float32)
    ops = compute_operators(xyz, f, k=model.config.k_eig, cache=False)
    local, cross = network_inputs(xyz, f, local=bool(model.config.n_local), cross=model.config.cross_part)
    a = np.eye(52, dtype=np.float32)
    with torch.no_grad():
        ref = model(
            torch.from_numpy(xyz),
            ops.truncated(model.config.k_eig).with_cross(cross).to_torch(),
            torch.from_numpy(a),
            None if local is None else torch.from_numpy(local),
        ).numpy()
    out = RigAnyFaceRuntime(config, params)(xyz, ops.for_network(k=model.config.k_eig, cross=cross), a, local)
    np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-4 * np.abs(ref).max())


def test_mirrored_ops_give_the_mirrored_mesh_answer(tiny_head):
    """Operators.mirrored() (same spectrum, gradients (gx, -gy)) computes what operators recomputed on
    the mirror image (x -> -x, winding reversed) give, with every feature the network reads."""
    xyz, f, ops = _head(tiny_head)
    model = _random_model(n_local=NUM_LOCAL_FEATURES, cross_part=True, n_fourier=2)
    rt = RigAnyFaceRuntime(model.config.to_dict(), {k: v.numpy() for k, v in model.state_dict().items()})
    mx, mf = xyz * np.float32([-1, 1, 1]), np.ascontiguousarray(f[:, ::-1])
    a = np.eye(52, dtype=np.float32)[:9]
    cross = cross_part_operator(xyz, f, radius=0.3, sigma=0.1)
    mlocal = local_features(mx, mf)
    ref = rt(
        mx,
        compute_operators(mx, mf, k=16, cache=False).for_network(
            k=16, cross=cross_part_operator(mx, mf, radius=0.3, sigma=0.1)
        ),
        a,
        mlocal,
    )
    out = rt(mx, ops.for_network(k=16, cross=cross).mirrored(), a, mlocal)
    assert np.abs(ref).max() > 1e-3
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    # the gradient sign matters: the unmirrored operators give another answer
    other = rt(mx, ops.for_network(k=16, cross=cross), a, mlocal)
    assert np.abs(other - ref).max() > 1e-3 * np.abs(ref).max()


def test_threaded_sparse_products_equal_sequential(tiny_head, monkeypatch):
    xyz, f, ops = _head(tiny_head)
    model = _random_model(cross_part=True)
    rt = RigAnyFaceRuntime(model.config.to_dict(), {k: v.numpy() for k, v in model.state_dict().items()})
    cross = cross_part_operator(xyz, f, radius=0.3, sigma=0.1)
    a = np.eye(52, dtype=np.float32)[:5]
    net = ops.for_network(k=16, cross=cross)
    one = rt(xyz, net, a, threads=1)
    monkeypatch.setattr(raf_runtime, "PARALLEL_MIN", 0)  # thread even these small products
    np.testing.assert_array_equal(rt(xyz, net, a, threads=2), one)

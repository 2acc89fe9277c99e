"""Test-time augmentation beyond the mirror: views (shift, zoom, gain), one convolution pass for the three
modality readings, the modality blend, storage in the weights file and use by the network pass."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facerig.models.image_inversion.calibration import GRID, OutputCalibration  # noqa: E402
from facerig.models.image_inversion.config import ImageInversionConfig  # noqa: E402
from facerig.models.image_inversion.infer import network_pass  # noqa: E402
from facerig.models.image_inversion.mirror import unmirror_weights  # noqa: E402
from facerig.models.image_inversion.network import ImageInversionNet  # noqa: E402
from facerig.models.image_inversion.tta import (  # noqa: E402
    TestTimeAugmentation,
    combine,
    modality_readings,
    read_views,
    view_images,
)
from facerig.models.image_inversion.weights import model_from_weights, save_weights  # noqa: E402

CFG = ImageInversionConfig(size=32, channels=(4, 8, 8, 8), convs=(1, 1, 1, 2), feature=16, hidden=16)
SHIFTS = [[0, 0, 1, 1], [2, 0, 1, 1], [-2, 0, 1, 1], [0, 2, 1, 1], [0, -2, 1, 1]]


def _model(seed: int = 0) -> ImageInversionNet:
    torch.manual_seed(seed)
    m = ImageInversionNet(CFG)
    with torch.no_grad():
        m.mlp[-1].bias.fill_(0.4)
        m.missing.normal_()
    return m.eval()


def _images(n: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (n, 32, 32, 3)).astype(np.float32)


def test_views_move_zoom_and_brighten():
    img = np.zeros((1, 32, 32, 1), np.float32)
    img[0, 10, 20] = 1
    assert np.argwhere(view_images(img, (3, 0, 1, 1))[0, ..., 0] > 0.5).tolist() == [[10, 23]]
    assert np.argwhere(view_images(img, (0, -2, 1, 1))[0, ..., 0] > 0.5).tolist() == [[8, 20]]
    # zoom > 1 magnifies about the centre (16, 16): the point moves away from it
    big = view_images(img, (0, 0, 2.0, 1))[0, ..., 0]
    r, c = np.unravel_index(big.argmax(), big.shape)
    assert r < 10 and c > 20
    x = _images(2)
    assert np.array_equal(view_images(x, (0, 0, 1, 1)), x)
    assert np.array_equal(view_images(x, (0, 0, 1, 1.2)), x)  # gain only for RGB
    assert np.allclose(view_images(x, (0, 0, 1, 0.5), gain=True), 0.5 * x)


def test_one_pass_gives_the_networks_three_readings():
    m = _model()
    x, n = _images(5, 1), _images(5, 2)
    tx, tn = (torch.from_numpy(a.transpose(0, 3, 1, 2).copy()) for a in (x, n))
    with torch.no_grad():
        W, H = modality_readings(m, tx, tn)
        for name, flags in (("rgb", (1, 0)), ("normals", (0, 1)), ("both", (1, 1))):
            w, h = m(tx, tn, torch.tensor([flags] * 5, dtype=torch.float32))
            assert np.allclose(W[name], w.numpy(), atol=1e-6) and np.allclose(H[name], h.numpy(), atol=1e-6)
        only, _ = modality_readings(m, tx, tn, need=(True, False, False))
    assert set(only) == {"rgb"} and np.allclose(only["rgb"], W["rgb"])


def test_combine_blends_only_frames_with_both_modalities():
    rng = np.random.default_rng(3)
    R = {k: rng.uniform(0, 1, (3, 52)) for k in ("rgb", "normals", "both")}
    use = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    blend = np.tile([0.2, 0.3, 0.5], (52, 1))
    out = combine(R, use, blend)
    assert np.allclose(out[0], R["rgb"][0]) and np.allclose(out[1], R["normals"][1])
    assert np.allclose(out[2], 0.2 * R["rgb"][2] + 0.3 * R["normals"][2] + 0.5 * R["both"][2])


def test_symmetric_views_keep_the_mirror_symmetry():
    """Views symmetric under mirroring (+-dx, +-dy): a mirrored RGB frame reads the Left / Right-swapped weights."""
    m = _model(1)
    x = _images(3, 4)
    W, _ = read_views(m, x, x, np.array(SHIFTS, np.float64), need=(True, False, False))
    Wm, _ = read_views(
        m, np.ascontiguousarray(x[:, :, ::-1]), x, np.array(SHIFTS, np.float64), need=(True, False, False)
    )
    assert np.allclose(W["rgb"].mean(0), unmirror_weights(Wm["rgb"].mean(0)), atol=1e-5)
    assert not np.allclose(W["rgb"][0], W["rgb"][1])  # the shifted view reads differently


def test_storage_round_trip_and_validation(tmp_path):
    rng = np.random.default_rng(5)
    blend = rng.dirichlet(np.ones(3), 52)
    g = np.asarray(GRID)
    cal = OutputCalibration(g, np.broadcast_to(g, (3, 52, len(g))).copy())
    aug = TestTimeAugmentation(SHIFTS, blend, cal)
    back = TestTimeAugmentation.from_arrays(aug.to_arrays())
    assert np.allclose(back.views, SHIFTS) and np.allclose(back.blend, blend, atol=1e-6)
    assert back.calibration is not None
    assert TestTimeAugmentation.from_arrays({"param/x": np.zeros(1)}) is None
    with pytest.raises(ValueError):
        TestTimeAugmentation([[2, 0, 1, 1]], blend)  # first view not the identity
    with pytest.raises(ValueError):
        TestTimeAugmentation(SHIFTS, np.ones((52, 3)))  # weights do not sum to 1
    m = _model()
    save_weights(tmp_path / "a.npz", m, tta=aug)
    save_weights(tmp_path / "b.npz", m)
    assert model_from_weights(tmp_path / "a.npz").tta is not None
    assert model_from_weights(tmp_path / "b.npz").tta is None


def test_network_pass_uses_the_files_tta(tmp_path):
    m = _model(2)
    x, n = _images(6, 6), _images(6, 7)
    use = np.array([[1, 0], [0, 1], [1, 1]] * 2, np.float32)
    plain = TestTimeAugmentation.plain()
    save_weights(tmp_path / "plain.npz", m, tta=plain)
    mp = model_from_weights(tmp_path / "plain.npz")
    w0, h0 = network_pass(mp, x, n, use, tta=False)
    w1, h1 = network_pass(mp, x, n, use)
    assert np.allclose(w0, w1, atol=1e-6) and np.allclose(h0, h1, atol=1e-6)  # one identity view: the mirror reading
    g = np.asarray(GRID)
    blend = np.zeros((52, 3))
    blend[:, 1] = 1  # frames with both modalities read as normals only
    halves = OutputCalibration(g, np.broadcast_to(0.5 * g, (3, 52, len(g))).copy())
    save_weights(tmp_path / "aug.npz", m, tta=TestTimeAugmentation(SHIFTS, blend, halves))
    ma = model_from_weights(tmp_path / "aug.npz")
    w2, h2 = network_pass(ma, x, n, use)
    assert np.allclose(h2, h0, atol=1e-6)  # head logits: the identity view's
    R, _ = read_views(ma, x, n, np.array(SHIFTS, np.float64))
    avg = {k: v.mean(0) for k, v in R.items()}
    want = np.where(use[:, :1] * (1 - use[:, 1:]) > 0, avg["rgb"], avg["normals"])
    assert np.allclose(w2, 0.5 * want, atol=1e-5)
    assert not np.allclose(avg["normals"], avg["both"])
    w3, _ = network_pass(ma, x, n, use, calibrate=False)
    assert np.allclose(w3, want, atol=1e-5)

"""The output calibration: fitting monotone maps (recovering a known shrinkage, identity where no readings),
per-modality application, mirror pairing, storage in the weights file and use by the network pass."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.arkit import ARKIT52
from facerig.models.image_inversion.calibration import (
    GRID,
    OutputCalibration,
    fit_calibration,
    fit_monotone,
    interpolation_matrix,
    modality_rows,
)

BLINK_L, BLINK_R, JAW = (ARKIT52.index(n) for n in ("eyeBlinkLeft", "eyeBlinkRight", "jawOpen"))


def test_interpolation_matrix_is_piecewise_linear_interpolation():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 50)
    v = np.sort(rng.uniform(0, 1, len(GRID)))
    assert np.allclose(interpolation_matrix(x, GRID) @ v, np.interp(x, GRID, v))


def test_fit_monotone_undoes_a_shrinkage_toward_the_mean():
    """Readings 0.1 + 0.5 t (+ noise) of weights t: the fitted map sends them back near t."""
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 1, 2000)
    read = np.clip(0.1 + 0.5 * t + rng.normal(0, 0.01, t.shape), 0, 1)
    v = fit_monotone(read, t)
    assert np.all(np.diff(v) >= 0) and v.min() >= 0 and v.max() <= 1
    fitted = np.interp(read, GRID, v)
    assert np.abs(fitted - t).mean() < 0.04 < np.abs(read - t).mean()
    assert np.interp(0.35, GRID, v) == pytest.approx(0.5, abs=0.05)


def test_fit_monotone_keeps_the_identity_where_no_reading_falls():
    rng = np.random.default_rng(2)
    read = rng.uniform(0, 0.2, 500)
    v = fit_monotone(read, read * 0.5)  # halves small readings
    g = np.asarray(GRID)
    assert np.interp(0.1, g, v) == pytest.approx(0.05, abs=0.02)
    assert np.allclose(v[g >= 0.3], g[g >= 0.3])


def test_fit_monotone_affine_recovers_slope_and_offset_and_stays_monotone():
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 1, 1000)
    read = 0.2 + 0.6 * t
    v = fit_monotone(read, t, affine=True)
    assert np.interp(0.5, GRID, v) == pytest.approx(0.5, abs=0.02)
    assert v[0] == 0 and v[-1] == 1 and np.all(np.diff(v) >= 0)
    # a decreasing relation cannot be fitted by a decreasing map
    assert np.all(np.diff(fit_monotone(read, 1 - t, affine=True)) >= 0)
    assert np.all(np.diff(fit_monotone(read, 1 - t)) >= 0)


def test_modality_rows():
    use = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], np.float32)
    assert modality_rows(use).tolist() == [0, 1, 2, 2]


def test_fit_calibration_per_modality_and_mirror_pairs():
    rng = np.random.default_rng(4)
    n = 1500
    t = np.zeros((n, 52))
    t[:, [BLINK_L, BLINK_R, JAW]] = rng.uniform(0, 1, (n, 3))
    use = np.repeat(np.array([[1, 0], [0, 1], [1, 1]], np.float32), n // 3, 0)
    read = t.copy()
    rgb = use[:, 1] == 0
    read[rgb, JAW] *= 0.5  # RGB only reads the jaw at half, the others right
    read[:, BLINK_L] *= 0.6  # both blinks read low, the left one more
    read[:, BLINK_R] *= 0.8
    cal = fit_calibration(read, t, use)
    assert np.allclose(cal.values[:, BLINK_L], cal.values[:, BLINK_R])  # one map for the pair
    unpaired = fit_calibration(read, t, use, pair_mirrors=False)
    assert not np.allclose(unpaired.values[2, BLINK_L], unpaired.values[2, BLINK_R])
    out = cal.apply(read, use)
    assert np.abs(out[rgb, JAW] - t[rgb, JAW]).mean() < 0.25 * np.abs(read[rgb, JAW] - t[rgb, JAW]).mean()
    assert np.abs(out[~rgb, JAW] - t[~rgb, JAW]).mean() < 0.02  # read right: left as it was
    assert np.abs(out[:, BLINK_L] - t[:, BLINK_L]).mean() < np.abs(read[:, BLINK_L] - t[:, BLINK_L]).mean()


def test_identity_and_storage_round_trip():
    rng = np.random.default_rng(5)
    W = rng.uniform(0, 1, (6, 52))
    use = np.ones((6, 2), np.float32)
    ident = OutputCalibration.identity()
    assert np.allclose(ident.apply(W, use), W)
    cal = OutputCalibration(GRID, np.sort(rng.uniform(0, 1, (3, 52, len(GRID))), axis=-1))
    back = OutputCalibration.from_arrays(cal.to_arrays())
    assert np.allclose(back.apply(W, use), cal.apply(W, use), atol=1e-6)
    assert OutputCalibration.from_arrays({"param/x": np.zeros(1)}) is None
    with pytest.raises(ValueError):
        OutputCalibration(GRID, np.zeros((3, 52, 4)))


def test_weights_file_carries_the_calibration_to_the_network_pass(tmp_path):
    torch = pytest.importorskip("torch")
    from facerig.models.image_inversion.config import ImageInversionConfig
    from facerig.models.image_inversion.infer import network_pass
    from facerig.models.image_inversion.network import ImageInversionNet
    from facerig.models.image_inversion.weights import model_from_weights, save_weights

    cfg = ImageInversionConfig(size=32, channels=(4, 8, 8, 8), convs=(1, 1, 1, 2), feature=16, hidden=16)
    torch.manual_seed(0)
    m = ImageInversionNet(cfg)
    with torch.no_grad():
        m.mlp[-1].bias.fill_(0.3)
    m.eval()
    save_weights(tmp_path / "plain.npz", m)
    g = np.asarray(GRID)
    values = np.broadcast_to(np.clip(2 * g, 0, 1), (3, 52, len(g))).copy()  # doubles every weight
    save_weights(tmp_path / "cal.npz", m, calibration=OutputCalibration(g, values))
    plain, cal = model_from_weights(tmp_path / "plain.npz"), model_from_weights(tmp_path / "cal.npz")
    assert plain.calibration is None and cal.calibration is not None
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (4, 32, 32, 3)).astype(np.float32)
    use = np.ones((4, 2), np.float32)
    w0, h0 = network_pass(plain, x, x, use)
    w1, h1 = network_pass(cal, x, x, use)
    raw, _ = network_pass(cal, x, x, use, calibrate=False)
    assert np.allclose(raw, w0) and np.allclose(h1, h0)  # head logits untouched
    assert np.allclose(w1, np.clip(2 * w0, 0, 1), atol=1e-5) and not np.allclose(w1, w0)

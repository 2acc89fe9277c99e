"""The weights file: round trip, refusals, the shipped weights."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facerig.errors import FacerigError  # noqa: E402
from facerig.models.image_inversion.config import ImageInversionConfig  # noqa: E402
from facerig.models.image_inversion.network import ImageInversionNet  # noqa: E402
from facerig.models.image_inversion.weights import (  # noqa: E402
    model_from_weights,
    read_weights,
    save_weights,
    weights_path,
)

CFG = ImageInversionConfig(size=32, channels=(4, 8, 8, 8), convs=(1, 1, 1, 2), feature=16, hidden=16)


def test_round_trip_gives_the_same_outputs(tmp_path):
    torch.manual_seed(1)
    m = ImageInversionNet(CFG)
    m.train()
    m(torch.rand(4, 3, 32, 32), torch.rand(4, 3, 32, 32), torch.ones(4, 2))  # move the BatchNorm statistics
    m.eval()
    save_weights(tmp_path / "w.npz", m, {"note": "x"})
    m2 = model_from_weights(tmp_path / "w.npz")
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(m(x, x, torch.ones(2, 2))[0], m2(x, x, torch.ones(2, 2))[0])
    cfg, meta, params = read_weights(tmp_path / "w.npz")
    assert cfg == CFG and meta == {"note": "x"} and all(v.dtype == np.float32 for v in params.values())


def test_missing_or_foreign_files_are_refused(tmp_path):
    with pytest.raises(FacerigError, match="not found"):
        read_weights(tmp_path / "none.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(FacerigError, match="not an image inversion weights file"):
        read_weights(tmp_path / "other.npz")


def test_shipped_weights_load_and_fit_the_size_limit():
    p = weights_path()
    assert p.is_file() and p.stat().st_size <= 20e6
    m = model_from_weights()
    assert m.config.size == 96 and "trained" in m.meta


def test_shipped_weights_carry_a_monotone_output_calibration():
    m = model_from_weights()
    cal = m.calibration
    assert cal is not None and m.meta["calibration"]["split"] == "calib"
    assert cal.values.shape == (3, 52, len(cal.grid))
    assert np.all(np.diff(cal.values, axis=-1) >= 0) and cal.values.min() >= 0 and cal.values.max() <= 1

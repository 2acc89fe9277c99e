"""The dual-branch network: shapes, ranges, modality flags."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from facerig.models.image_inversion.config import ImageInversionConfig  # noqa: E402
from facerig.models.image_inversion.network import ImageInversionNet  # noqa: E402

CFG = ImageInversionConfig(size=32, channels=(4, 8, 8, 8), convs=(1, 1, 1, 2), feature=16, hidden=16)


def test_forward_shapes_and_ranges():
    torch.manual_seed(0)
    m = ImageInversionNet(CFG).eval()
    x = torch.rand(3, 3, 32, 32)
    w, h = m(x, x, torch.ones(3, 2))
    assert w.shape == (3, 52) and h.shape == (3,)
    assert float(w.min().detach()) >= 0 and float(w.max().detach()) <= 1


def test_a_missing_modality_is_ignored():
    torch.manual_seed(0)
    m = ImageInversionNet(CFG).eval()
    x = torch.rand(2, 3, 32, 32)
    rgb_only = torch.tensor([[1.0, 0.0]] * 2)
    a, _ = m(x, torch.rand(2, 3, 32, 32), rgb_only)
    b, _ = m(x, torch.rand(2, 3, 32, 32), rgb_only)
    assert torch.equal(a, b)
    c, _ = m(x, torch.rand(2, 3, 32, 32), torch.ones(2, 2))
    assert not torch.allclose(a, c)


def test_config_round_trip():
    assert ImageInversionConfig.from_dict({**CFG.to_dict(), "unknown": 1}) == CFG

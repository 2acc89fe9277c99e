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


def test_ln_leaky_head_keeps_features_alive_and_relu_stays_the_default():
    from facerig.errors import FacerigError

    assert ImageInversionConfig().head == "relu"  # weights files without the field load as before
    cfg = ImageInversionConfig(**{**CFG.to_dict(), "head": "ln_leaky"})
    torch.manual_seed(0)
    m = ImageInversionNet(cfg)
    with torch.no_grad():  # a bias driven far negative silences every ReLU unit, never a LeakyReLU one
        m.rgb.fc[1].bias.fill_(-100.0)
    f = m.rgb(torch.rand(4, 3, 32, 32))
    assert f.shape == (4, 16) and (f > 0).any() and f.std(0).mean() > 0
    relu = ImageInversionNet(CFG)
    with torch.no_grad():
        relu.rgb.fc[1].bias.fill_(-100.0)
    assert not (relu.rgb(torch.rand(4, 3, 32, 32)) > 0).any()
    with pytest.raises(FacerigError, match="unknown image inversion branch head"):
        ImageInversionNet(ImageInversionConfig(head="gelu"))

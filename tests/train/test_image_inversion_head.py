"""Refitting the head-presence row on frozen features: only that row moves, head-free images read lower."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facerig.models.image_inversion.config import ImageInversionConfig  # noqa: E402
from facerig.models.image_inversion.network import ImageInversionNet  # noqa: E402
from facerig.train.image_inversion_head import hidden_features, refit_head_presence  # noqa: E402

CFG = ImageInversionConfig(size=32, channels=(4, 8, 8, 8), convs=(1, 1, 1, 2), feature=16, hidden=16, head="ln_leaky")


def test_refit_moves_only_the_head_row_and_separates_head_free_images():
    rng = np.random.default_rng(0)
    M, S = 96, 32
    mask = np.zeros((M, S, S), np.uint8)
    mask[:, 8:24, 10:22] = 255  # heads: a bright patch; head-free: the background alone
    is_head = np.arange(M) % 3 != 0
    mask[~is_head] = 0
    rgb = (np.repeat(mask[..., None], 3, -1) * 0.8).astype(np.uint8)
    data = {
        "rgb": rgb,
        "normals": np.repeat(mask[..., None], 3, -1),
        "mask": mask,
        "weights": rng.uniform(0, 1, (M, 52)).astype(np.float32),
        "is_head": is_head,
    }
    torch.manual_seed(0)
    model = ImageInversionNet(CFG).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    res = refit_head_presence(model, data, heads=64, passes=2, p_blank=0.0, negative_weight=1.0)
    after = model.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert sorted(changed) == ["mlp.3.bias", "mlp.3.weight"]
    assert torch.equal(before["mlp.3.weight"][:52], after["mlp.3.weight"][:52])
    assert torch.equal(before["mlp.3.bias"][:52], after["mlp.3.bias"][:52])
    assert res["images"] == 2 * (64 + int((~is_head).sum())) and not model.training
    assert res["head_free_unflagged_after"] <= res["head_free_unflagged_before"]
    # the features are those of the forward pass: the refit row reproduces the network's head logit
    x = torch.rand(4, 3, S, S)
    use = torch.ones(4, 2)
    _, logit = model(x, x, use)
    h = hidden_features(model, x, x, use)
    assert torch.allclose(h @ model.mlp[-1].weight[52] + model.mlp[-1].bias[52], logit, atol=1e-5)

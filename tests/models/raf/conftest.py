"""Fixtures of the RigAnyFace tests: small random weights."""

from __future__ import annotations

import pytest
import torch

from facerig.models.raf.config import RAFConfig
from facerig.models.raf.network import RigAnyFace

SMALL = dict(
    width=16,
    n_trunk=1,
    global_width=8,
    global_dim=8,
    cond_width=8,
    n_cond=1,
    n_hks=4,
    k_eig=16,
    n_fourier=2,
    n_local=13,
)


@pytest.fixture
def random_weights(tmp_path):
    torch.manual_seed(0)
    model = RigAnyFace(RAFConfig(**SMALL))
    with torch.no_grad():
        torch.nn.init.normal_(model.cond_out.weight, std=0.5)
    with torch.no_grad():  # the local-feature columns start at zero in a fresh model
        model.trunk.first.weight.add_(0.3 * torch.randn_like(model.trunk.first.weight))
    from facerig.models.raf.weights import save_weights

    return str(save_weights(tmp_path / "raf_random.npz", model.config.to_dict(), model.state_dict(), {}))

"""Fitting the test-time augmentation: the per-shape modality blend, view-averaged readings of a rendered set,
and the fitted calibration on them."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
trimesh = pytest.importorskip("trimesh")

from facerig.arkit import ARKIT52  # noqa: E402
from facerig.data import renders  # noqa: E402
from facerig.io.rig import Rig  # noqa: E402
from facerig.models.image_inversion.config import ImageInversionConfig  # noqa: E402
from facerig.models.image_inversion.network import ImageInversionNet  # noqa: E402
from facerig.models.image_inversion.tta import combine  # noqa: E402
from facerig.train.image_inversion_tta import VIEW_SETS, fit_blend, fit_tta, tta_readings  # noqa: E402

CFG = ImageInversionConfig(size=32, channels=(4, 8, 8, 8), convs=(1, 1, 1, 2), feature=16, hidden=16)
JAW, BL, BR = (ARKIT52.index(n) for n in ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight"))


def test_fit_blend_picks_the_reading_that_is_right_per_shape():
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 1, (400, 52))
    noisy = lambda s: np.clip(t + rng.normal(0, s, t.shape), 0, 1)  # noqa: E731
    read = {"rgb": noisy(0.3), "normals": noisy(0.3), "both": noisy(0.05)}
    read["rgb"][:, JAW] = t[:, JAW]  # RGB reads the jaw exactly
    read["normals"][:, [BL, BR]] = t[:, [BL, BR]]  # normals read the blinks exactly
    b = fit_blend(read, t)
    assert np.allclose(b.sum(1), 1) and b.min() >= 0
    assert np.allclose(b[JAW], [1, 0, 0]) and np.allclose(b[BL], [0, 1, 0]) and np.allclose(b[BR], b[BL])
    others = [k for k in range(52) if k not in (JAW, BL, BR)]
    assert b[others, 2].mean() > 0.7  # elsewhere mostly the both reading
    out = combine(read, np.ones((400, 2)), b)
    assert np.abs(out - t).mean() < np.abs(read["both"] - t).mean()


def test_readings_of_a_rendered_set_and_a_fit_that_lowers_their_error():
    m = trimesh.creation.icosphere(2, radius=10.0)
    v = np.asarray(m.vertices, np.float64)
    d = np.zeros((1, len(v), 3), np.float32)
    d[0, v[:, 1] < -2, 1] = -4.0
    rig = Rig(names=["jawOpen"], deltas=d, neutral=v, faces=np.asarray(m.faces, np.int64))
    frames = np.zeros((8, 52), np.float32)
    frames[:, JAW] = np.linspace(0, 1, 8)
    data = renders.build_dataset(
        [renders.head_from_rig(rig)], 12, 0, frames, negatives=3, config=renders.RenderConfig(size=32)
    )
    torch.manual_seed(0)
    model = ImageInversionNet(CFG)
    with torch.no_grad():
        model.mlp[-1].bias.fill_(0.4)  # an untrained network answering ~0.4 everywhere
    model.eval()
    views = np.array(VIEW_SETS["shift2"], np.float64)
    r = tta_readings(model, data, views, batch=8)
    n = int(data["is_head"].sum())
    assert all(r[k].shape == (n, 52) for k in ("rgb", "normals", "both", "target"))
    aug = fit_tta(r, views)
    use = np.ones((n, 2))
    read = combine({k: r[k] for k in ("rgb", "normals", "both")}, use, aug.blend)
    err = np.abs(aug.calibration.apply(read, use) - r["target"]).mean()
    assert err < np.abs(r["both"] - r["target"]).mean()
    assert np.allclose(aug.views, views)

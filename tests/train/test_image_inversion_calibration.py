"""Fitting the output calibration: readings of a rendered set in each modality, the fit, and the calibration
split's identities (training families only, after every training split's)."""

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
from facerig.train import image_inversion as ti  # noqa: E402
from facerig.train.image_inversion_calibration import calibration_readings, fit_from_readings  # noqa: E402

CFG = ImageInversionConfig(size=32, channels=(4, 8, 8, 8), convs=(1, 1, 1, 2), feature=16, hidden=16)
JAW = ARKIT52.index("jawOpen")


def test_readings_of_every_modality_and_a_fit_that_lowers_their_error():
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
    r = calibration_readings(model, data, batch=8)
    n = int(data["is_head"].sum())
    assert r["read"].shape == (3 * n, 52) and r["target"].shape == (3 * n, 52) and len(r["head"]) == 3 * n
    assert r["use"][:n].tolist() == [[1.0, 0.0]] * n and r["use"][-n:].tolist() == [[1.0, 1.0]] * n
    cal = fit_from_readings(r, prior=1e-2)
    err = np.abs(cal.apply(r["read"], r["use"]) - r["target"]).mean()
    assert err < np.abs(r["read"] - r["target"]).mean()
    half = fit_from_readings(r, np.arange(n))  # RGB-only rows: the other modalities keep the identity
    assert np.allclose(half.values[1:], np.asarray(half.grid)[None, None])


def test_calibration_split_holds_training_families_and_unused_identities():
    calib = ti.SPLITS["calib"]
    train_fams = {fam for fam, *_ in ti.SPLITS["train"] + ti.SPLITS["more"]}
    eval_fams = {fam for fam, *_ in ti.SPLITS["eval"]} - {"ict", "makehuman"}
    assert {fam for fam, *_ in calib} <= train_fams and not eval_fams & {fam for fam, *_ in calib}
    used: dict[str, set[int]] = {}
    for split, scale in (("train", 2.8), ("more", 1.0)):
        for fam, n, _per, *first in ti.SPLITS[split]:
            start = first[0] if first else 0
            used.setdefault(fam, set()).update(range(start, start + int(round(n * scale))))
    for fam, n, _per, start in calib:
        assert not used[fam] & set(range(start, start + n)), fam

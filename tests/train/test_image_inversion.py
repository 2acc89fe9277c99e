"""Training of the image inversion network: augmentation, losses, a short run, fine-tuning on a rig."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
trimesh = pytest.importorskip("trimesh")

from facerig.arkit import ARKIT52, mirror_permutation  # noqa: E402
from facerig.data import renders  # noqa: E402
from facerig.io.rig import Rig  # noqa: E402
from facerig.models.image_inversion.config import ImageInversionConfig  # noqa: E402
from facerig.models.image_inversion.network import ImageInversionNet  # noqa: E402
from facerig.train import image_inversion as ti  # noqa: E402

CFG = ImageInversionConfig(size=32, channels=(4, 8, 8, 8), convs=(1, 1, 1, 2), feature=16, hidden=16)
JAW, BL, BR = (ARKIT52.index(n) for n in ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight"))


def test_augment_mirror_composite_and_modalities():
    rng = np.random.default_rng(0)
    B, S = 64, 8
    rgb = np.zeros((B, S, S, 3), np.uint8)
    nrm = np.zeros((B, S, S, 3), np.uint8)
    nrm[:, :, : S // 2] = (255, 128, 128)  # left half faces +X
    mask = np.zeros((B, S, S), np.uint8)
    mask[:, :, : S // 2] = 255
    w = np.zeros((B, 52), np.float32)
    w[:, BL] = 1.0
    x, n, use, w2 = ti.augment_batch(rgb, nrm, mask, w, rng, p_mirror=0.5)
    assert x.shape == (B, 3, S, S) and n.shape == (B, 3, S, S) and use.shape == (B, 2)
    flipped = w2[:, BR] == 1
    assert 10 < flipped.sum() < 54 and np.array_equal(w2[flipped][:, mirror_permutation()], w[flipped])
    # a mirrored head: its normals now face -X on the right half; background stays unflipped noise-free
    f = int(np.flatnonzero(flipped)[0])
    assert float(n[f, 0, 4, S - 1]) < 0.1 and float(n[f, 2, 4, S - 1]) > 0.4
    assert float(x[:, :, :, S // 2 :].std()) > 0  # black background replaced
    assert ((use.sum(1) >= 1).all()) and (use[:, 0] == 0).any() and (use[:, 1] == 0).any()


def test_mesh_loss_is_the_rebuilt_mesh_error():
    m = ImageInversionNet(CFG).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        pred, _ = m(x, x, torch.ones(2, 2))
    G = torch.from_numpy(np.random.default_rng(0).normal(size=(2, 52, 52)).astype(np.float32))
    G = G @ G.transpose(1, 2)
    target = torch.zeros(2, 52)
    _, l_mesh, _ = ti._losses(m, x, x, torch.ones(2, 2), target, G, torch.ones(2))
    e = pred.double().numpy()
    expect = np.mean([e[i] @ G[i].double().numpy() @ e[i] for i in range(2)])
    assert np.isclose(float(l_mesh.detach()), expect, rtol=1e-3)


def test_weight_loss_rewards_large_targets_and_balances_shapes():
    m = ImageInversionNet(CFG).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        pred, _ = m(x, x, torch.ones(2, 2))
    G = torch.zeros(2, 52, 52)
    low, high = pred.clone(), pred.clone()
    high[:, JAW] = (pred[:, JAW] + 0.9).clamp(max=1.0)  # target above the prediction: a large weight
    low[:, JAW] = pred[:, JAW] - (high[:, JAW] - pred[:, JAW])  # the same error below it
    args = (m, x, x, torch.ones(2, 2))
    plain_hi = ti._losses(*args, high, G, torch.ones(2))[0]
    plain_lo = ti._losses(*args, low, G, torch.ones(2))[0]
    assert torch.isclose(plain_hi, plain_lo)
    assert ti._losses(*args, high, G, torch.ones(2), large_weight=3.0)[0] > plain_hi * 1.5
    sw = torch.ones(52)
    sw[JAW] = 4.0
    assert ti._losses(*args, high, G, torch.ones(2), shape_w=sw)[0] > plain_hi * 1.5


def test_shape_balance_and_expressive_sampling():
    rng = np.random.default_rng(0)
    W = np.zeros((400, 52), np.float32)
    W[:, JAW] = rng.uniform(0, 1, 400)  # a shape that varies a lot
    W[:20, BL] = 1.0  # a rare one
    b = ti.shape_balance(W, 0.5)
    assert b.shape == (52,) and np.isclose(b.mean(), 1.0) and b[BL] > b[JAW]
    assert np.allclose(ti.shape_balance(W, 0.0), 1.0)
    is_head = np.ones(400, bool)
    is_head[-1] = False
    gaze = ARKIT52.index("eyeLookUpLeft")
    W[30, JAW], W[30, gaze] = 0.0, 1.0  # gaze alone is not an expression
    p = ti.sampling_probabilities(W, is_head, 1.0)
    assert np.isclose(p.sum(), 1.0)
    assert p[0] > p[30] and np.isclose(p[30], p[-1]) and np.isclose(p[0] / p[-1], 2.0)


def _ball_rig() -> Rig:
    m = trimesh.creation.icosphere(2, radius=10.0)
    v = np.asarray(m.vertices, np.float64)
    d = np.zeros((1, len(v), 3), np.float32)
    d[0, v[:, 1] < -2, 1] = -4.0
    return Rig(names=["jawOpen"], deltas=d, neutral=v, faces=np.asarray(m.faces, np.int64))


@pytest.mark.slow
def test_short_training_run_and_finetune(tmp_path):
    rig = _ball_rig()
    data = renders.build_dataset(
        [renders.head_from_rig(rig)],
        24,
        0,
        np.zeros((4, 52), np.float32),
        negatives=4,
        config=renders.RenderConfig(size=32),
    )
    np.savez(tmp_path / "d.npz", **data)
    model = ImageInversionNet(CFG)
    before = [p.detach().clone() for p in model.parameters()]
    res = ti.train(
        tmp_path / "d.npz",
        tmp_path / "c.pt",
        ti.TrainOptions(minutes=0.03, batch=8, threads=1, log_every=1),  # one step is enough under load
        model=model,
    )
    assert res["steps"] > 0 and (tmp_path / "c.pt").is_file()
    ck = torch.load(tmp_path / "c.pt", weights_only=False)
    assert ck["config"]["size"] == 32 and ck["history"]
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    from facerig.models.image_inversion.calibration import OutputCalibration

    model.calibration = OutputCalibration.identity()  # fitted for the weights before: fine-tuning drops it
    ti.finetune_on_rig(model, rig, minutes=0.02, images=8, threads=1)
    assert not model.training and model.calibration is None


def test_more_split_holds_no_evaluation_head_and_new_identities():
    eval_heads = {"rocketbox_male_adult_08", "weboji_boy", "weboji_facecustom_human"}  # eval and goal images
    more = ti.SPLITS["more"]
    assert not eval_heads & {fam.removeprefix("rig:") for fam, *_ in more + ti.SPLITS["train"]}
    # generator identities and warp seeds start after those of "train" at the shipped scale (2.8)
    train = {fam: int(round(n * 2.8)) for fam, n, *_ in ti.SPLITS["train"]}
    for fam, _n, _per, *first in more:
        if fam in train:
            assert first and first[0] >= train[fam]
    heads = ti.dataset_heads("more", 0.01)  # one identity per family
    assert len(heads) == len(more) and all(callable(m) and per > 0 for m, per in heads)


def test_load_datasets_merges_with_head_offsets(tmp_path):
    rig = _ball_rig()
    frames = np.zeros((4, 52), np.float32)
    frames[:, JAW] = 0.5
    paths = []
    for k, scale in enumerate((1.0, 2.0)):
        big = Rig(names=rig.names, deltas=rig.deltas * scale, neutral=rig.neutral, faces=rig.faces)
        data = renders.build_dataset(
            [renders.head_from_rig(big)],
            3,
            k,
            frames,
            negatives=2,
            config=renders.RenderConfig(size=16),
            weights_options={"p_neutral": 0.0, "p_isolated": 0.0, "jitter": 0.0},
        )
        jaw = data["weights"][data["is_head"], JAW]  # take frames only (x 0.6-1.4): no neutral face
        assert ((jaw >= 0.3 - 1e-6) & (jaw <= 0.7 + 1e-6)).all()
        paths.append(tmp_path / f"d{k}.npz")
        np.savez(paths[-1], **data)
    d = ti.load_datasets(paths)
    assert len(d["weights"]) == 10 and len(d["gram"]) == 2
    assert list(d["head"]) == [0, 0, 0, -1, -1, 1, 1, 1, -1, -1]
    assert np.isclose(d["gram"][1, JAW, JAW], 4 * d["gram"][0, JAW, JAW])
    single = ti.load_datasets(paths[0])
    assert np.array_equal(single["head"], d["head"][:5])


def test_holdout_heads_are_generator_identities_and_never_drawn(tmp_path):
    names = np.array(["ict_train_0", "ict_train_1", "makehuman_train_0", "rocketbox_female_adult_01", "ict_more_130"])
    kept = ti.holdout_heads(names, 0.5, seed=0)
    assert len(kept) == 2 and all(str(names[i]).startswith(("ict_", "makehuman_")) for i in kept)
    assert np.array_equal(kept, ti.holdout_heads(names, 0.5, seed=0)) and len(ti.holdout_heads(names, 0.0)) == 0
    # a run with a held-out share: the kept-out identities are scored, never trained on; the best step is kept
    rng = np.random.default_rng(0)
    M, S = 24, 32
    data = {
        "rgb": rng.integers(0, 255, (M, S, S, 3), dtype=np.uint8),
        "normals": rng.integers(0, 255, (M, S, S, 3), dtype=np.uint8),
        "mask": np.full((M, S, S), 255, np.uint8),
        "weights": rng.uniform(0, 1, (M, 52)).astype(np.float32),
        "head": np.repeat(np.arange(4), 6).astype(np.int32),
        "is_head": np.ones(M, bool),
        "gram": np.zeros((4, 52, 52), np.float32),
        "head_names": np.array(["ict_train_0", "ict_train_1", "makehuman_train_0", "makehuman_train_1"]),
    }
    np.savez(tmp_path / "d.npz", **data)
    res = ti.train(
        tmp_path / "d.npz",
        tmp_path / "c.pt",
        ti.TrainOptions(minutes=0.02, batch=4, threads=1, holdout=0.5, select_every=0.0, log_every=1000),
        model=ImageInversionNet(CFG),
    )
    sel = [h for h in res["history"] if "holdout_mae" in h and "step" in h]
    assert len(sel) >= 2 and sel[0]["step"] == 0
    best = min(sel, key=lambda h: h["holdout_mae"])
    expected = ti.holdout_heads(data["head_names"], 0.5, seed=0).tolist()
    assert res["selected_step"] == best["step"] and res["history"][-1]["holdout_heads"] == expected

"""Training: losses, query sampling, pool items, and a short run that lowers the loss."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from facerig.arkit import ARKIT52
from facerig.render.camera import FrontalCamera
from facerig.train.dataset import load_item, make_item, sample_queries
from facerig.train.loop import Scheduler, TrainConfig, train
from facerig.train.losses import LossBatch, LossWeights, rig_loss

SMALL = dict(width=16, n_trunk=1, global_width=8, global_dim=8, cond_width=8, n_cond=1, n_hks=4, k_eig=16)


@dataclass
class _Sample:  # the fields of facerig.data.generator.Sample that make_item reads
    vertices: np.ndarray
    faces: np.ndarray
    names: list
    deltas: np.ndarray
    parts: np.ndarray
    landmarks68: np.ndarray
    mm_per_unit: float = 10.0
    info: dict = field(default_factory=dict)

    @property
    def num_vertices(self):
        return len(self.vertices)


def _sample(v, f, seed):
    rng = np.random.default_rng(seed)
    v = v * rng.uniform(0.9, 1.1, 3)
    names = ["jawOpen", "eyeBlinkLeft", "mouthSmileLeft"]
    d = np.zeros((3, len(v), 3), np.float32)
    low = v[:, 1] < -0.3
    d[0, low, 1] = -0.1 * (-0.3 - v[low, 1])  # "jaw" drops the lower part
    d[1, v[:, 0] > 0.4, 1] = -0.05
    d[2, :, 0] = 0.03 * np.clip(v[:, 0], 0, None) * (v[:, 2] > 0)
    parts = np.zeros(len(v), np.int64)
    parts[-6:] = 1
    lmk = np.full(68, -1)
    lmk[:10] = np.arange(10)
    lmk[37], lmk[41] = 12, 20
    return _Sample(v, f, names, d, parts, lmk, info={"seed": seed})


def _write_pool(folder: Path, tiny_head, n=3):
    v, f = tiny_head(8, 12)
    for s in range(n):
        item = make_item(_sample(v, f, s), k=16)
        np.savez(folder / f"train_tiny_{s:06d}.npz", **item)
    np.savez(folder / "eval_tiny_000000.npz", **make_item(_sample(v, f, 99), k=16))


def test_sample_queries_only_supervised_shapes():
    rng = np.random.default_rng(0)
    mask = np.zeros(52, bool)
    mask[[1, 5, 9, 17]] = True
    a = sample_queries(rng, mask, n_onehot=3, n_combo=2)
    assert a.shape == (5, 52)
    assert np.all(a[:, ~mask] == 0)
    assert np.all((a[:3] > 0).sum(1) == 1)


def test_losses_zero_at_target_and_positive_otherwise():
    torch.manual_seed(0)
    V = 30
    neutral = torch.randn(V, 3) * 0.3
    target = torch.randn(4, V, 3) * 0.01
    lmk = torch.full((68,), -1, dtype=torch.long)
    lmk[[37, 41, 38, 40, 0, 1]] = torch.tensor([0, 1, 2, 3, 4, 5])
    batch = LossBatch(neutral, target, lmk)
    total, parts = rig_loss(target.clone(), batch)
    assert parts["total"] == pytest.approx(0.0, abs=1e-9)
    total, parts = rig_loss(target + 0.01, batch)
    assert parts["mse3d"] > 0 and parts["lmk2d"] > 0
    assert set(parts) >= {"mse3d", "lmk2d", "ec2d", "total"}
    # switching a term off removes it
    _, parts = rig_loss(target + 0.01, batch, LossWeights(lmk2d=0.0, ec2d=0.0))
    assert "lmk2d" not in parts


def test_active_vertex_term_matches_the_eval_metric():
    from facerig.train.loop import active_error_mm
    from facerig.train.losses import act3d

    torch.manual_seed(1)
    V = 50
    target = torch.zeros(3, V, 3)
    target[0, :10, 1] = 0.02  # 10 active vertices (2e-2 > threshold)
    target[1, 10:40] = 0.01  # 30 active vertices
    pred = target + 0.003 * torch.randn(3, V, 3)
    batch = LossBatch(torch.zeros(V, 3), target, torch.full((68,), -1), active_threshold=0.005)
    v = act3d(pred, batch, None)
    # the eval's active error in the same units (mm factor 1, threshold 0.005); query 2 has none
    ref = active_error_mm(pred, target, 1.0, thresh_mm=0.005)
    assert torch.isnan(ref[2]) and float(v) == pytest.approx(float(ref[:2].mean()), rel=1e-5)
    assert float(act3d(target.clone(), batch, None)) == pytest.approx(0.0, abs=1e-5)
    _, parts = rig_loss(pred, batch, LossWeights(act3d=1.0))
    assert parts["act3d"] == pytest.approx(float(v))
    _, parts = rig_loss(pred, batch)  # off by default (the paper's recipe)
    assert "act3d" not in parts


def test_frontal_camera_projects_centre_and_scales_with_depth():
    cam = FrontalCamera(distance=3.0, focal=3.0)
    p = torch.tensor([[0.0, 0.0, 0.0], [0.1, 0.2, 0.0], [0.1, 0.2, 1.0]])
    uv = cam.project(p)
    assert torch.allclose(uv[0], torch.zeros(2))
    assert torch.allclose(uv[1], torch.tensor([0.1, 0.2]))
    assert uv[2, 0] > uv[1, 0]  # closer to the camera looks bigger


def test_scheduler_warmup_then_cosine():
    class _Opt:  # Scheduler only touches param_groups (a real optimiser import costs seconds)
        param_groups = [{"lr": 1.0}]

    opt = _Opt()
    s = Scheduler(opt, 1e-3, warmup=10, period=100)
    assert s.lr_at(0) == pytest.approx(1e-4)
    assert s.lr_at(10) == pytest.approx(1e-3, rel=1e-3)
    assert s.lr_at(60) < 6e-4
    assert s.lr_at(110) == pytest.approx(1e-3, rel=1e-3)  # restart
    assert s.set(60) == opt.param_groups[0]["lr"]


def test_scheduler_by_time_fraction():
    class _Opt:
        param_groups = [{"lr": 1.0}]

    s = Scheduler(_Opt(), 1e-3, warmup=10, period=100)
    assert s.lr_at_fraction(0, 0.9) == pytest.approx(1e-4)  # warm-up goes by step
    assert s.lr_at_fraction(20, 0.0) == pytest.approx(1e-3, rel=1e-3)
    assert s.lr_at_fraction(20, 0.5) == pytest.approx(5e-4, rel=1e-3)
    assert s.lr_at_fraction(20, 1.5) == pytest.approx(1e-7)  # no restart past the end
    assert s.set(20, 0.5) == pytest.approx(5e-4, rel=1e-3)


def test_pool_item_roundtrip(tmp_path, tiny_head):
    _write_pool(tmp_path, tiny_head, n=1)
    it = load_item(tmp_path / "train_tiny_000000.npz")
    assert it.deltas.shape == (52, it.xyz.shape[0], 3)
    assert it.shape_mask.sum() == 3 and bool(it.shape_mask[ARKIT52.index("jawOpen")])
    assert int(it.landmarks[37]) == 12


def test_pool_computes_network_inputs_once_per_item(tmp_path, tiny_head, monkeypatch):
    import facerig.geometry.features as features
    from facerig.train.dataset import Pool

    _write_pool(tmp_path, tiny_head, n=1)
    calls, reads = [], []
    real, real_load = features.network_inputs, np.load
    monkeypatch.setattr(features, "network_inputs", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    monkeypatch.setattr(np, "load", lambda *a, **kw: reads.append(1) or real_load(*a, **kw))
    pool = Pool(tmp_path, "train_*.npz", k=16)
    first = pool[0]
    assert len(reads) == 1  # one read of the file, also on the first access
    again = pool[0]
    assert len(calls) == 1 and len(reads) == 2  # the second access reuses the first one's inputs
    monkeypatch.undo()
    want = load_item(tmp_path / "train_tiny_000000.npz", k=16)
    for it in (first, again):
        assert torch.equal(it.local, want.local) and torch.equal(it.deltas, want.deltas)
        assert torch.equal(it.ops.cross.to_dense(), want.ops.cross.to_dense())
        assert it.ops.evecs.shape[1] == 16


@pytest.mark.slow
def test_short_training_run_lowers_loss_and_resumes(tmp_path, tiny_head):
    pool = tmp_path / "pool"
    pool.mkdir()
    _write_pool(pool, tiny_head)
    out = tmp_path / "run"
    cfg = TrainConfig(
        pool_dir=str(pool),
        out_dir=str(out),
        steps=60,
        lr=3e-3,
        warmup=5,
        restart_period=1000,
        log_every=10,
        ckpt_every=30,
        eval_every=30,
        model={**SMALL},
        jitter=0.0,
    )
    best = train(cfg, log=lambda s: None, progress=False)
    assert best.is_file() and (out / "last.pt").is_file()
    recs = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    losses = [r["total"] for r in recs if "total" in r]
    assert losses[-1] < 0.5 * losses[0]
    assert any("val_active_mm" in r for r in recs)
    # resume continues from the saved step
    cfg.steps = 70
    train(cfg, log=lambda s: None, progress=False)
    ck = torch.load(out / "last.pt", weights_only=False)
    assert ck["step"] == 70


def test_train_without_torch_is_a_one_line_error(monkeypatch, capsys):
    import importlib.util

    from facerig.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    assert main(["train", "run", "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "facerig[train]" in err[0]


def test_cross_part_checkpoint_rigs_with_its_pool_shapes(tmp_path, tiny_head):
    """A few steps with the cross-part trunk; the checkpoint then rigs through the NumPy runtime
    with the shapes its pool supervised (not the default list of a shipped file)."""
    from facerig.models.raf.network import RigAnyFace
    from facerig.models.raf.weights import load_model

    pool = tmp_path / "pool"
    pool.mkdir()
    _write_pool(pool, tiny_head, n=1)
    cfg = TrainConfig(
        pool_dir=str(pool),
        out_dir=str(tmp_path / "run"),
        steps=3,
        lr=1e-3,
        warmup=1,
        log_every=1,
        ckpt_every=3,
        eval_every=3,
        model={**SMALL, "cross_part": True},
        jitter=0.0,
    )
    best = train(cfg, log=lambda s: None, progress=False)
    it = load_item(pool / "eval_tiny_000000.npz", k=16)
    assert it.ops.cross is not None and it.ops.cross.shape == (len(it.xyz),) * 2
    model, meta = load_model(str(best))
    assert model.cross_part and sorted(meta["trained_shapes"]) == ["eyeBlinkLeft", "jawOpen", "mouthSmileLeft"]
    ref = RigAnyFace.from_weights_file(best).eval()
    a = torch.eye(52)[:4]
    with torch.no_grad():
        want = ref(it.xyz, it.ops, a, it.local).numpy()
    import scipy.sparse as sp

    from facerig.geometry.operators import Operators

    c, gx, gy = (m.to_dense().numpy() for m in (it.ops.cross, it.ops.grad_x, it.ops.grad_y))
    ops = Operators(
        it.ops.mass.numpy(),
        it.ops.evals.numpy(),
        it.ops.evecs.numpy(),
        sp.csr_matrix(gx),
        sp.csr_matrix(gy),
        cross=sp.csr_matrix(c),
    )
    got = model(it.xyz.numpy(), ops, a.numpy(), it.local.numpy())
    np.testing.assert_allclose(got, want, atol=1e-5 + 1e-4 * np.abs(want).max())


def test_weight_average_is_validated_saved_rigged_and_resumed(tmp_path, tiny_head):
    """With ``ema`` the checkpoint carries the moving average beside the raw weights; readers rig
    with the average, and a resumed run continues the same average."""
    from facerig.models.raf.weights import read_weights

    pool = tmp_path / "pool"
    pool.mkdir()
    _write_pool(pool, tiny_head, n=1)
    out = tmp_path / "run"
    cfg = TrainConfig(
        pool_dir=str(pool),
        out_dir=str(out),
        steps=4,
        lr=1e-2,
        warmup=1,
        log_every=2,
        ckpt_every=2,
        eval_every=2,
        model={**SMALL},
        jitter=0.0,
        ema=0.5,
    )
    train(cfg, log=lambda s: None, progress=False)
    ck = torch.load(out / "last.pt", weights_only=False)
    raw, avg = ck["state_dict"], ck["ema_state_dict"]
    assert raw.keys() == avg.keys() and ck["ema_n"] == 5  # the start plus four steps
    assert any(not torch.equal(raw[k], avg[k]) for k in raw)  # the average lags the raw weights
    _, params, _ = read_weights(out / "last.pt")
    assert all(np.array_equal(params[k], avg[k].numpy()) for k in avg)
    cfg.steps = 6
    train(cfg, log=lambda s: None, progress=False)
    ck2 = torch.load(out / "last.pt", weights_only=False)
    assert ck2["step"] == 6 and ck2["ema_n"] == 7


def test_average_of_checkpoints_is_the_mean_of_their_weights(tmp_path, tiny_head):
    from facerig.cli import main
    from facerig.errors import FacerigError
    from facerig.models.raf.weights import read_weights
    from facerig.train.average import average_checkpoints

    pool = tmp_path / "pool"
    pool.mkdir()
    _write_pool(pool, tiny_head, n=1)
    runs = []
    for seed, extra in ((0, {}), (1, {"ema": 0.5})):
        cfg = TrainConfig(
            pool_dir=str(pool),
            out_dir=str(tmp_path / f"r{seed}"),
            steps=2,
            lr=1e-2,
            warmup=1,
            ckpt_every=2,
            eval_every=100,
            model={**SMALL},
            jitter=0.0,
            seed=seed,
            **extra,
        )
        train(cfg, log=lambda s: None, progress=False)
        runs.append(tmp_path / f"r{seed}" / "last.pt")
    soup = tmp_path / "soup.pt"
    assert main(["train", "average", *map(str, runs), "-o", str(soup), "--weights", "1,3"]) == 0
    (_, a, _), (_, b, _), (_, s, meta) = (read_weights(p) for p in (*runs, soup))
    for k in a:  # the second run counts with its moving average
        np.testing.assert_allclose(s[k], 0.25 * a[k] + 0.75 * b[k], rtol=1e-5, atol=1e-7)
    assert [m["weight"] for m in torch.load(soup, weights_only=False)["meta"]["averaged_from"]] == [0.25, 0.75]
    assert main(["train", "export", str(soup), "-o", str(tmp_path / "soup.npz")]) == 0
    other = TrainConfig(
        pool_dir=str(pool),
        out_dir=str(tmp_path / "wide"),
        steps=1,
        warmup=1,
        eval_every=100,
        model={**SMALL, "width": 24},
        jitter=0.0,
    )
    train(other, log=lambda s: None, progress=False)
    with pytest.raises(FacerigError, match="another model config"):
        average_checkpoints([runs[0], tmp_path / "wide" / "last.pt"], tmp_path / "x.pt")


def test_average_refuses_what_is_not_a_checkpoint(tmp_path, capsys):
    from facerig.cli import main

    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    torch.save({"a": 1}, tmp_path / "dict.pt")
    for args in (
        [str(tmp_path / "missing.pt"), str(junk)],
        [str(junk), str(junk)],
        [str(tmp_path / "dict.pt")] * 2,
        [str(junk)],
    ):
        assert main(["train", "average", *args, "-o", str(tmp_path / "out.pt")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "Traceback" not in err[0]
    assert not (tmp_path / "out.pt").exists()


class _TinyFamily:
    """A generator head family on the tiny synthetic head (no data needed)."""

    name = "tinyfam"
    region_names = ("face",)
    names = ["jawOpen", "eyeBlinkLeft"]
    mm_per_unit = 10.0
    landmarks68 = None

    def __init__(self, v, f):
        self.template, self.faces = np.asarray(v, np.float64), np.asarray(f, np.int64)
        from facerig.geometry.components import connected_components

        self.parts = connected_components(len(v), f)
        self.regions = np.zeros(len(v), np.int64)

    def sample_neutral(self, rng, exaggeration=1.0):
        return self.template * (1.0 + 0.05 * exaggeration * rng.normal(size=3))

    def deltas_for(self, neutral):
        d = np.zeros((2, len(neutral), 3), np.float32)
        d[0, neutral[:, 1] < -0.3, 1] = -0.1
        d[1, neutral[:, 0] > 0.4, 1] = -0.05
        return d


def test_pool_build_in_parallel_writes_the_serial_files_and_resumes(tmp_path, tiny_head, monkeypatch):
    from facerig.data import families
    from facerig.data.generator import SampleConfig
    from facerig.train.dataset import build_pool

    v, f = tiny_head(8, 12)
    monkeypatch.setitem(families._FAMILIES, "tinyfam", _TinyFamily(v, f))
    cfg = SampleConfig(split="train", p_remesh=0.0)
    kw = dict(n=3, families=("tinyfam",), proxy_vertices=5000, k=16, config=cfg)
    serial = build_pool(tmp_path / "serial", **kw, log=lambda s: None)
    lines: list[str] = []
    par = build_pool(tmp_path / "par", **kw, workers=2, log=lines.append)
    assert [p.name for p in serial] == [p.name for p in par] == [f"train_tinyfam_{s:06d}.npz" for s in range(3)]
    assert len(lines) == 3 and all(ln.startswith("pool train_tinyfam_") for ln in lines)
    for a, b in zip(serial, par):
        with np.load(a) as za, np.load(b) as zb:
            assert set(za.files) == set(zb.files)
            for key in za.files:
                np.testing.assert_array_equal(za[key], zb[key], err_msg=key)
    # resume: existing items are kept, only missing ones are built
    par[1].unlink()
    lines.clear()
    build_pool(tmp_path / "par", **kw, workers=2, log=lines.append)
    assert len(lines) == 1 and par[1].name in lines[0] and par[1].exists()


def test_items_kept_on_the_device_train_the_same_weights(tmp_path, tiny_head):
    """``cache_items`` only changes where items live: the same seed gives the same weights."""
    pool = tmp_path / "pool"
    pool.mkdir()
    _write_pool(pool, tiny_head, n=2)
    states = []
    for cache in (False, True):
        out = tmp_path / f"run_{cache}"
        cfg = TrainConfig(
            pool_dir=str(pool),
            out_dir=str(out),
            steps=6,
            lr=1e-2,
            warmup=1,
            log_every=3,
            ckpt_every=3,
            eval_every=3,
            model={**SMALL},
            cache_items=cache,
        )
        train(cfg, log=lambda s: None, progress=False)
        states.append(torch.load(out / "last.pt", weights_only=False)["state_dict"])
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_time_scheduled_run_stops_at_its_limit_with_the_rate_annealed(tmp_path, tiny_head):
    pool = tmp_path / "pool"
    pool.mkdir()
    _write_pool(pool, tiny_head, n=1)
    out = tmp_path / "run"
    cfg = TrainConfig(
        pool_dir=str(pool),
        out_dir=str(out),
        steps=0,
        lr=1e-2,
        warmup=1,
        log_every=1,
        ckpt_every=1000,
        eval_every=1000,
        model={**SMALL},
        time_limit_min=0.03,
    )
    train(cfg, log=lambda s: None, progress=False)
    recs = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    lrs = [r["lr"] for r in recs if "lr" in r]
    assert len(lrs) >= 3 and lrs[-1] < 0.5 * max(lrs)  # annealed over the time, not over steps
    assert torch.load(out / "last.pt", weights_only=False)["step"] == len(lrs)
    cfg.time_limit_min = 0.0
    from facerig.errors import FacerigError

    with pytest.raises(FacerigError, match="time limit"):
        train(cfg, log=lambda s: None, progress=False)


def test_run_from_given_weights_keeps_their_architecture(tmp_path, tiny_head, capsys):
    """``train run --init-from W`` trains W's architecture (cross-part trunk, its widths), not the
    default one with W's weights squeezed in; ``--model`` still overrides single fields."""
    from facerig.cli import main

    pool = tmp_path / "pool"
    pool.mkdir()
    _write_pool(pool, tiny_head, n=1)
    cfg = TrainConfig(
        pool_dir=str(pool),
        out_dir=str(tmp_path / "a"),
        steps=1,
        warmup=1,
        eval_every=100,
        model={**SMALL, "cross_part": True, "n_local": 13},
        jitter=0.0,
    )
    train(cfg, log=lambda s: None, progress=False)
    base = [
        "train",
        "run",
        "--pool",
        str(pool),
        "--steps",
        "1",
        "--warmup",
        "1",
        "--init-from",
        str(tmp_path / "a" / "last.pt"),
    ]
    assert main([*base, "--out", str(tmp_path / "b")]) == 0
    ck = torch.load(tmp_path / "b" / "last.pt", weights_only=False)
    assert ck["config"] == torch.load(tmp_path / "a" / "last.pt", weights_only=False)["config"]
    assert "resized inputs: none" in capsys.readouterr().out
    assert main([*base, "--out", str(tmp_path / "c"), "--model", '{"cross_part": false}']) == 0
    ck = torch.load(tmp_path / "c" / "last.pt", weights_only=False)
    assert ck["config"]["cross_part"] is False and ck["config"]["width"] == SMALL["width"]
    assert main([*base[:-1], str(tmp_path / "missing.pt"), "--out", str(tmp_path / "d")]) == 2


def test_validation_watches_every_family():
    from facerig.train.loop import validation_indices

    paths = [Path(f"eval_ict_{i:06d}.npz") for i in range(12)] + [Path(f"eval_makehuman_{i:06d}.npz") for i in range(3)]
    idx = validation_indices(paths, 6)
    assert [paths[i].name for i in idx] == [f"eval_ict_{i:06d}.npz" for i in range(3)] + [
        f"eval_makehuman_{i:06d}.npz" for i in range(3)
    ]
    assert validation_indices(paths[:12], 6) == list(range(6))  # one family: its first items, as before
    assert len(validation_indices(paths, 100)) == len(paths) and validation_indices([], 6) == []


def test_pool_sample_option_reaches_the_generator_and_bad_keys_fail(tmp_path, monkeypatch, capsys):
    """``facerig train pool --sample JSON`` builds with those SampleConfig fields; an unknown field
    or bad JSON is a one-line error."""
    from facerig.cli import main
    from facerig.train import dataset

    seen = {}
    monkeypatch.setattr(dataset, "build_pool", lambda *a, **kw: seen.update(kw) or [])
    args = ["train", "pool", "--dir", str(tmp_path), "--n", "1"]
    assert main(args + ["--sample", '{"p_warp": 1.0, "warp_amplitude": [0.1, 0.2]}']) == 0
    cfg = seen["config"]
    assert cfg.p_warp == 1.0 and cfg.warp_amplitude == (0.1, 0.2) and cfg.split == "train"
    assert cfg.p_exaggerate == type(cfg)().p_exaggerate  # the rest stays at the defaults
    for bad in ('{"p_wrap": 1.0}', "{p_warp: 1}", '{"split": "eval"}'):
        assert main(args + ["--sample", bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--sample" in err[0], bad


def test_face_frame_run_shows_each_head_in_its_face_frame(tmp_path, tiny_head, monkeypatch):
    """``face_frame``: every head, training and validation, is seen in the frame
    ``facerig rig --face-frame`` would give it, measured once by the network the run starts from:
    one factor per head, the one :func:`item_face_factor` gives with the initial weights."""
    import facerig.models.raf.probe as rm
    import facerig.train.loop as loop
    from facerig.models.raf.config import RAFConfig
    from facerig.models.raf.network import RigAnyFace
    from facerig.train.dataset import Pool

    monkeypatch.setitem(rm.FACE_FRAME, "beta", 1.0)
    monkeypatch.setitem(rm.FACE_FRAME, "max_factor", 10.0)
    pool = tmp_path / "pool"
    pool.mkdir()
    _write_pool(pool, tiny_head)
    seen: list[tuple[str, float]] = []
    rescale = loop.rescale_item
    monkeypatch.setattr(loop, "rescale_item", lambda item, a: (seen.append((item.name, a)), rescale(item, a))[1])
    cfg = TrainConfig(
        pool_dir=str(pool),
        out_dir=str(tmp_path / "run"),
        steps=12,
        lr=1e-3,
        warmup=2,
        restart_period=100,
        eval_every=6,
        model={**SMALL},
        jitter=0.0,
        face_frame=True,
    )
    train(cfg, log=lambda s: None, progress=False)
    torch.manual_seed(cfg.seed)  # the run's initial network
    probe = RigAnyFace(RAFConfig.from_dict({**SMALL})).eval()
    items = Pool(str(pool), "*.npz", k=16)
    expected = {items[i].name: loop.item_face_factor(probe, items[i]) for i in range(len(items))}
    assert len({n for n, _ in seen}) == 4  # 3 training heads and the validation head
    for name, a in seen:
        assert a == pytest.approx(expected[name], rel=1e-5)
    assert any(abs(a - 1.0) > 1e-3 for a in expected.values())


def test_unrigged_item_keeps_no_ground_truth_and_marks_rigid_parts(tmp_path, tiny_head):
    v, f = tiny_head(8, 12)
    s = _sample(v, f, 0)
    s.region_names, s.regions = ("face", "eyeball_left"), s.parts.copy()  # part 1 is an eyeball
    rigged = make_item(s, k=16)
    np.savez(tmp_path / "unrigged_tiny_000000.npz", **make_item(s, k=16, withhold_rig=True))
    item = load_item(tmp_path / "unrigged_tiny_000000.npz")
    assert item.unrigged and item.deltas.shape[0] == 0 and not item.shape_mask.any()
    np.savez(tmp_path / "train_tiny_000000.npz", **rigged)
    assert not load_item(tmp_path / "train_tiny_000000.npz").unrigged
    assert item.rigid is not None and item.rigid.sum() >= 1 and item.rigid.sum() < len(item.xyz)
    assert json.loads(str(np.load(tmp_path / "unrigged_tiny_000000.npz")["info"]))["unrigged"] is True


def test_unrigged_heads_from_mesh_files_with_parts(tmp_path, tiny_head):
    from facerig.io.obj import write_obj
    from facerig.train.dataset import build_unrigged_heads

    v, f = tiny_head(8, 12)
    write_obj(tmp_path / "a_head.obj", v, f)
    (tmp_path / "a_head.parts.json").write_text(
        json.dumps({"parts": {"skin": [[0, len(v) - 6]], "eyeball_L(+X)": [[len(v) - 6, len(v)]]}, "mm_per_unit": 2.0})
    )
    pool = tmp_path / "pool"
    (p,) = build_unrigged_heads([tmp_path / "a_head.obj"], pool, k=16, log=lambda s: None)
    assert p.name == "unrigged_heads-a-head_000000.npz"
    item = load_item(p)
    assert item.unrigged and item.rigid.any() and item.mm_per_unit == 2.0


def test_unrigged_queries_hold_blinks_jaw_and_mirror_pairs():
    from facerig.arkit import mirror_permutation
    from facerig.train.loop import unrigged_queries

    a = unrigged_queries(np.random.default_rng(0), 3)
    names = [ARKIT52[int(np.argmax(r))] for r in a]
    assert names[:3] == ["eyeBlinkLeft", "eyeBlinkRight", "jawOpen"] and (a.sum(1) == 1).all()
    perm = mirror_permutation()
    assert all(ARKIT52[perm[ARKIT52.index(n)]] in names for n in names)


def test_run_with_unrigged_heads_and_2d_terms_trains_and_logs_them(tmp_path, tiny_head):
    from facerig._cli.train import TWO_D_WEIGHTS

    pool = tmp_path / "pool"
    pool.mkdir()
    _write_pool(pool, tiny_head, n=2)
    v, f = tiny_head(8, 12)
    s = _sample(v, f, 5)
    s.landmarks68[30] = 0
    np.savez(pool / "unrigged_tiny_000005.npz", **make_item(s, k=16, withhold_rig=True))
    out = tmp_path / "run"
    cfg = TrainConfig(
        pool_dir=str(pool),
        out_dir=str(out),
        steps=12,
        lr=1e-3,
        warmup=2,
        log_every=6,
        ckpt_every=12,
        eval_every=12,
        model={**SMALL},
        weights={**LossWeights().to_dict(), **TWO_D_WEIGHTS},
        p_unrigged=0.5,
        image_size=24,
    )
    train(cfg, log=lambda s: None, progress=False)
    recs = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    keys = set().union(*recs)
    assert {"img", "mask", "dis2d", "u_mirror", "u_smooth", "u_total"} <= keys
    assert all(np.isfinite(r["total"]) for r in recs if "total" in r)
    assert torch.load(out / "last.pt", weights_only=False)["step"] == 12


def test_ablation_switches_turn_terms_and_unrigged_steps_off(tmp_path, monkeypatch):
    from facerig.cli import main
    from facerig.train import loop

    seen = {}
    monkeypatch.setattr(loop, "train", lambda cfg, **kw: seen.setdefault("cfg", cfg) and tmp_path / "best.pt")
    base = ["train", "run", "--pool", str(tmp_path), "--out", str(tmp_path / "r"), "--two-d", "--p-unrigged", "0.3"]
    assert main(base) == 0
    w = seen.pop("cfg").weights
    assert w["img"] == 10 and w["eye_close"] == 0.5 and w["lmk2d"] == 0.5
    assert main(base + ["--no-2d", "--no-semantic", "--no-unrigged"]) == 0
    cfg = seen.pop("cfg")
    assert cfg.p_unrigged == 0 and cfg.weights["img"] == cfg.weights["dis2d"] == 0
    assert cfg.weights["lmk2d"] == cfg.weights["eye_close"] == cfg.weights["mouth_open"] == 0
    assert cfg.weights["mirror"] == 10  # the no-ground-truth regularisers stay

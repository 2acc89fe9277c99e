"""The inverse-rigging evaluation: realistic combinations, error measures, and a quick full run."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.arkit import ARKIT52
from facerig.eval.invert import _errors, evaluate_case, roundtrip_case, sample_combinations, summarise
from facerig.io.rig import Rig


def test_combinations_are_whole_frames_of_the_take():
    rng = np.random.default_rng(0)
    take = rng.random((30, 52)) * (rng.random((30, 52)) < 0.3)
    W = sample_combinations(take, 100, np.random.default_rng(1))
    assert W.shape == (100, 52)
    # every sampled row is one of the take's frames, so co-activations are the take's
    assert all(any(np.array_equal(w, t) for t in take) for w in W)


def test_errors_all_and_moving_vertices():
    neutral = np.zeros((4, 3))
    frames = np.zeros((1, 4, 3))
    frames[0, :2, 0] = 1.0  # two vertices move 1 unit = 10 mm
    rebuilt = frames.copy()
    rebuilt[0, 0, 0] = 0.9  # 1 mm off on a moving vertex
    e = _errors(rebuilt, frames, neutral, mm=10.0)
    assert e["mean_mm"] == pytest.approx(0.25) and e["moving_mean_mm"] == pytest.approx(0.5)
    assert e["moving_share"] == 0.5


def _rig(K=8, V=50, seed=0):
    rng = np.random.default_rng(seed)
    return Rig(
        names=list(ARKIT52[:K]),
        deltas=rng.normal(size=(K, V, 3)).astype(np.float32),
        neutral=rng.normal(size=(V, 3)),
        faces=np.array([[0, 1, 2]]),
    )


def test_case_through_the_true_rig_is_exact_and_through_another_is_not():
    truth = _rig()
    W52 = np.zeros((20, 52))
    W52[:, :8] = np.random.default_rng(2).random((20, 8))
    rec, _ = evaluate_case("t", "ict", truth.neutral, truth.faces, truth.names, truth.deltas, 10.0, W52, rig=truth)
    assert rec["weight_mae"] < 1e-6 and rec["vertex_p90_mm"] < 1e-5
    other = _rig(seed=1)
    other.neutral = truth.neutral
    rec2, _ = evaluate_case(
        "o", "out_of_family", truth.neutral, truth.faces, truth.names, truth.deltas, 10.0, W52, rig=other
    )
    assert rec2["weight_mae"] > 0.05 and rec2["vertex_mean_mm"] > 1.0
    s = summarise([rec, rec2])
    assert s["in_family"]["n"] == 1 and s["out_of_family"]["weight_mae"] == rec2["weight_mae"]


def test_case_with_the_prior_reports_every_strength():
    from facerig.invert.prior import fit_prior

    truth = _rig()
    other = _rig(seed=1)
    other.neutral = truth.neutral
    rng = np.random.default_rng(5)
    W52 = np.zeros((30, 52))
    W52[:, :8] = rng.random((30, 8))
    prior = fit_prior(np.concatenate([W52, rng.random((30, 52)) * 0.1]))
    rec, _ = evaluate_case(
        "o",
        "out_of_family",
        truth.neutral,
        truth.faces,
        truth.names,
        truth.deltas,
        10.0,
        W52,
        rig=other,
        prior=prior,
        prior_strengths=(0.01, 1.0),
        prior_tolerances=(None, float("inf")),
    )
    assert set(rec["prior"]) == {"0.01", "1.0", "0.01/inf", "1.0/inf"} and rec["prior_strength"] == 0.01
    # the default bound on the prior's cost to the fit holds the rebuilt mesh nearer the best fit's
    assert rec["prior"]["1.0"]["moving_mean_mm"] < rec["prior"]["1.0/inf"]["moving_mean_mm"]
    assert rec["weight_mae_prior"] == rec["prior"]["0.01"]["weight_mae"]
    # the prior gives up some fit through the wrong rig for weights nearer the truth
    assert rec["prior"]["1.0"]["weight_mae"] < rec["weight_mae"]
    assert rec["prior"]["1.0"]["moving_mean_mm"] >= rec["moving_mean_mm"]
    s = summarise([rec])
    assert s["prior_sweep"]["1.0"]["out_of_family"]["n"] == 1
    assert s["out_of_family"]["weight_mae_prior"] == rec["weight_mae_prior"]
    exact, _ = evaluate_case(
        "t",
        "ict",
        truth.neutral,
        truth.faces,
        truth.names,
        truth.deltas,
        10.0,
        W52,
        rig=truth,
        prior=prior,
        prior_strengths=(1.0,),
    )
    assert exact["weight_mae_prior"] < 1e-6  # frames the rig rebuilds keep their weights


def test_roundtrip_correlation():
    rig = _rig(K=10)
    W = np.zeros((40, 52))
    W[:, :10] = np.random.default_rng(3).random((40, 10))
    rec = roundtrip_case("r", rig, W, 1.0)
    assert rec["weight_mae"] < 1e-6 and rec["shape_corr"] == pytest.approx(1.0)
    noisy = roundtrip_case("r", rig, W, 1.0, noise_mm=0.5)
    assert 1e-4 < noisy["weight_mae"] < 0.2 and noisy["shape_corr"] < 1.0
    from facerig.invert.prior import fit_prior

    prior = fit_prior(W)
    rec = roundtrip_case("r", rig, W, 1.0, prior=prior)
    assert rec["weight_mae_prior"] < 1e-6  # exact frames stay exact with the prior
    noisy = roundtrip_case("r", rig, W, 1.0, noise_mm=0.5, prior=prior)
    assert 1e-4 < noisy["weight_mae_prior"] < 0.2


@pytest.mark.slow
@pytest.mark.ict
def test_quick_evaluation_runs():
    from facerig.eval.invert import evaluate_invert

    res = evaluate_invert(quick=True, progress=False)
    names = [c["case"] for c in res["cases"]]
    assert any(n.startswith("ict/") for n in names) and any(n.startswith("ict_remesh10k/") for n in names)
    assert res["summary"]["goal_ict_weight_mae"]["value"] < 0.1
    no_neutral = [c for c in res["cases"] if c.get("neutral") is False]
    assert all(0 <= c["weight_mae_estimated"] < 0.5 and c["estimate_seconds"] > 0 for c in no_neutral)


def test_encoder_case_beside_the_solver(tiny_head):
    """The no-neutral row: the encoder's weights scored as the solver's are, the solver through the
    true rig on the same frames beside them, grouped apart in the summary."""
    torch = pytest.importorskip("torch")
    from facerig.eval.invert import encoder_case
    from facerig.models.encoder.config import EncoderConfig
    from facerig.models.encoder.network import ExpressionEncoder
    from facerig.models.encoder.runtime import EncoderRuntime, encode_frames

    v, f = tiny_head(8, 12)
    rng = np.random.default_rng(4)
    truth = Rig(
        names=list(ARKIT52[:8]), deltas=(rng.normal(size=(8, len(v), 3)) * 0.02).astype(np.float32), neutral=v, faces=f
    )
    torch.manual_seed(0)
    model = ExpressionEncoder(EncoderConfig(width=8, n_block=1, head_hidden=8, n_hks=4, k_eig=16))
    rt = EncoderRuntime(model.config.to_dict(), {k: x.numpy() for k, x in model.state_dict().items()})
    W52 = np.zeros((6, 52))
    W52[:, :8] = rng.random((6, 8))
    rec = encoder_case(
        "ict/t",
        "ict",
        v,
        f,
        truth.names,
        truth.deltas,
        10.0,
        W52,
        rig=truth,
        per_frame=2,
        model=rt,
        constant=np.zeros(52),
    )
    frames = v[None] + np.einsum("tk,kvc->tvc", W52[:, :8], truth.deltas)
    expect = encode_frames(frames, f, model=rt)[:, :8]
    assert rec["neutral"] is False and rec["case"] == "ict/t (no neutral)"
    assert rec["weight_mae"] == pytest.approx(np.abs(expect - W52[:, :8]).mean(), rel=1e-5)
    assert rec["weight_mae_with_neutral"] < 1e-6 and rec["truth_rig_mean_mm_with_neutral"] < 1e-5
    assert rec["truth_rig_mean_mm"] > 0.01 and rec["per_frame_ops"]["frames"] == 2
    assert rec["constant_weight_mae"] == pytest.approx(W52[:, :8].mean())  # guessing 0 everywhere
    with_neutral, _ = evaluate_case("ict/t", "ict", v, f, truth.names, truth.deltas, 10.0, W52, rig=truth)
    s = summarise([with_neutral, rec])
    assert s["ict"]["n"] == 1 and s["no_neutral_ict"]["weight_mae"] == rec["weight_mae"]
    assert s["goal_ict_weight_mae"]["value"] == with_neutral["weight_mae"]

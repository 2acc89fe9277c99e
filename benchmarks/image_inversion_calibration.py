"""Choosing the image inversion output calibration on training identities only (issue 26).

The shipped network is read (mirror test-time augmentation, uncalibrated) on ``SPLITS["calib"]`` renders
(training families, identities no training split used) in each modality. The calibration variants
(none, affine clipped to [0, 1], piecewise-linear with a weak or a stronger pull toward the identity) are
scored by 2-fold cross-validation over identities: fitted on half the heads, scored on the other half (weight
MAE per modality), and on goal-style images (near-frontal neutral, jawOpen, both blinks, both smiles at 1) of
calibration heads, each read through the calibration fitted on the other fold: how many pass the
evaluation's goals (neutral <= 0.3, the shapes >= 0.5). No held-out or other authors' head is read here: the
choice is made before the held-out evaluation (``facerig eval --task invert-image``) sees it.

The rule (:func:`choose`, fixed before any held-out reading): among the variants whose cross-validated weight MAE is
below the uncalibrated one in every modality, the one passing the most goal-style images over the three
modalities; ties go to the lower MAE (both modalities).

Writes ``benchmarks/results/image_inversion_calibration.json`` (date, machine).

Run: ``FACERIG_DATA=... nice .venv/bin/python benchmarks/image_inversion_calibration.py``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from _meta import run_meta
from facerig.arkit import ARKIT52
from facerig.io.atomic import write_text_atomic

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
VARIANTS = {
    "none": None,
    "affine": {"affine": True},
    "pl_prior_1e-3": {"prior": 1e-3},
    "pl_prior_1e-2": {"prior": 1e-2},
    "pl_prior_1e-3_unpaired": {"prior": 1e-3, "pair_mirrors": False},
    "pl_prior_1e-2_large_2": {"prior": 1e-2, "large_weight": 2.0},
    "pl_prior_1e-2_large_5": {"prior": 1e-2, "large_weight": 5.0},
    "pl_prior_1e-2_large_10": {"prior": 1e-2, "large_weight": 10.0},
    "affine_large_5": {"affine": True, "large_weight": 5.0},
}


def goal_passes(W: np.ndarray, gi: dict) -> list[tuple[str, bool]]:
    """(goal, pass) of every goal image (rows of ``W``) as :func:`facerig.eval.image_inversion.goal_report`."""
    from facerig.eval.image_inversion import GOALS

    out = []
    for i, goal in enumerate(gi["goals"]):
        shapes = GOALS[goal]
        if goal == "neutral":
            out.append((goal, bool(W[i].max() <= 0.3)))
        elif all(gi["weights"][i, ARKIT52.index(s)] > 0 for s in shapes):
            out.append((goal, bool(min(W[i, ARKIT52.index(s)] for s in shapes) >= 0.5)))
    return out


def reading_table(r: dict) -> dict:
    """How the uncalibrated readings (both modalities) relate to the truth for the smiles and blinks (Left and
    Right pooled): per reading bin the median and mean true weight, and the median reading of true weights > 0.8."""
    both = np.all(r["use"] > 0.5, axis=1)
    out = {}
    for name, shapes in (
        ("smiles", ("mouthSmileLeft", "mouthSmileRight")),
        ("blinks", ("eyeBlinkLeft", "eyeBlinkRight")),
    ):
        cols = [ARKIT52.index(s) for s in shapes]
        x, t = r["read"][both][:, cols].ravel(), r["target"][both][:, cols].ravel()
        bins = {}
        for lo, hi in ((0, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (0.6, 0.8), (0.8, 1.01)):
            s = (x >= lo) & (x < hi)
            if s.any():
                bins[f"{lo:g}-{min(hi, 1):g}"] = {
                    "readings": int(s.sum()),
                    "median_true": round(float(np.median(t[s])), 3),
                    "mean_true": round(float(t[s].mean()), 3),
                }
        big = t > 0.8
        out[name] = {
            "by_reading": bins,
            "true_above_0.8": {"readings": int(big.sum()), "median_read": round(float(np.median(x[big])), 3)},
        }
    return out


def goal_values(W: np.ndarray, gi: dict, head_names: list[str]) -> dict[str, dict[str, float]]:
    """Head -> goal -> the value :func:`facerig.eval.image_inversion.goal_report` tests (max weight for the neutral,
    the smaller of the pair's readings otherwise) of goal images ``W`` (rows: heads x GOALS)."""
    from facerig.eval.image_inversion import GOALS

    out: dict[str, dict[str, float]] = {}
    per = len(GOALS)
    for i, goal in enumerate(gi["goals"]):
        shapes = GOALS[goal]
        v = W[i].max() if goal == "neutral" else min(W[i, ARKIT52.index(s)] for s in shapes)
        out.setdefault(head_names[i // per], {})[goal] = round(float(v), 3)
    return out


def choose(variants: dict) -> str:
    """The variant :func:`main`'s rule picks (module doc) from ``res["variants"]``; "none" when no variant has a
    lower weight MAE than it in every modality."""
    base = variants["none"]["weight_mae"]

    def passed(v: dict) -> int:
        return sum(int(m["total"].split("/")[0]) for m in v["goals"].values())

    ok = [n for n, v in variants.items() if n != "none" and all(v["weight_mae"][m] < base[m] for m in base)]
    if not ok:
        return "none"
    return max(ok, key=lambda n: (passed(variants[n]), -variants[n]["weight_mae"]["both"]))


def main() -> None:
    import torch

    from facerig.eval.image_inversion import MODALITIES, goal_images, predict
    from facerig.models.image_inversion.weights import model_from_weights
    from facerig.train.image_inversion import dataset_heads, make_dataset
    from facerig.train.image_inversion_calibration import calibration_readings, fit_from_readings

    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=None, help="weights file (default the shipped one)")
    ap.add_argument("--goal-heads", type=int, default=6, help="calibration heads per family for goal images")
    ap.add_argument("--out", default=str(RESULTS / "image_inversion_calibration.json"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    model = model_from_weights(a.weights)
    d = dict(np.load(make_dataset("calib", 1.0, size=model.config.size)))
    r = calibration_readings(model, d)
    fold = r["head"] % 2
    # goal-style images of calibration heads (the first --goal-heads of each family), their fold by head index
    makes = dataset_heads("calib", 1.0)
    fams: dict[str, list[int]] = {}
    for h, name in enumerate(d["head_names"]):
        fams.setdefault(str(name).split("_calib_")[0].split("_warp")[0], []).append(h)
    pick = [h for hs in fams.values() for h in hs[: a.goal_heads]]
    gheads = [makes[h][0]() for h in pick]
    gi = goal_images(gheads, size=model.config.size)
    gi["gram"] = np.zeros((1, 52, 52), np.float32)
    gi["head"] = np.zeros(len(gi["weights"]), np.int64)
    gfold = np.repeat(np.array(pick) % 2, len(gi["goals"]) // len(pick))
    graw = {mod: predict(model, gi, mod, calibrate=False)[0] for mod in MODALITIES}
    res: dict = {
        **run_meta(threads=1),
        "weights": str(a.weights or "shipped"),
        "calib_images": int(d["is_head"].sum()),
        "calib_heads": [str(n) for n in d["head_names"]],
        "goal_heads": [str(d["head_names"][h]) for h in pick],
        "variants": {},
    }
    res["readings_both"] = reading_table(r)
    # uncalibrated goal-style readings per calibration head (both modalities): the goal's value as goal_report
    res["goal_values_both_uncalibrated"] = goal_values(graw["both"], gi, [str(d["head_names"][h]) for h in pick])
    print(json.dumps(res["readings_both"]))
    for name, kw in VARIANTS.items():
        Wcv = np.empty_like(r["read"])
        G = {mod: np.empty_like(graw[mod]) for mod in MODALITIES}
        for f in (0, 1):
            test = fold == f
            if kw is None:
                Wcv[test] = r["read"][test]
                for mod in MODALITIES:
                    G[mod][gfold == f] = graw[mod][gfold == f]
                continue
            cal = fit_from_readings(r, np.flatnonzero(~test), **kw)
            Wcv[test] = cal.apply(r["read"][test], r["use"][test])
            for mod, flags in MODALITIES.items():
                g = gfold == f
                G[mod][g] = cal.apply(graw[mod][g], np.repeat(np.array(flags)[None], g.sum(), 0))
        err = np.abs(Wcv - r["target"])
        out = {"weight_mae": {}, "goals": {}}
        for mod, flags in MODALITIES.items():
            rows = np.all(r["use"] == np.array(flags, np.float32), axis=1)
            out["weight_mae"][mod] = round(float(err[rows].mean()), 5)
            p = goal_passes(G[mod], gi)
            per = {}
            for g, ok in p:
                c = per.setdefault(g, [0, 0])
                c[0] += ok
                c[1] += 1
            out["goals"][mod] = {g: f"{c[0]}/{c[1]}" for g, c in per.items()}
            out["goals"][mod]["total"] = f"{sum(ok for _, ok in p)}/{len(p)}"
        res["variants"][name] = out
        print(name, json.dumps(out))
    res["chosen"] = choose(res["variants"])
    print("chosen:", res["chosen"])
    res["seconds"] = round(time.time() - t0, 1)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(a.out, json.dumps(res, indent=1))


if __name__ == "__main__":
    main()

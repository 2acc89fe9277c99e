"""Fit the orientation prior's model (:data:`facerig.geometry.orient.PRIOR_MODEL`) on generated heads.

    FACERIG_DATA=... .venv/bin/python benchmarks/orientation_fit.py [--seeds N] [--start S] [--lam L] [--cache NPZ]

Generates ``N`` heads per family (ICT, MakeHuman) and style (the generator's default and
``facerig train pool --style strong``: creature warps, anime eyes, snouts, face-mask cuts), seeds
``S..S+N-1`` of the train split, in their canonical frame (+Y up, face toward +Z); the public heads
the orientation benchmark scores are never used. For each head the cues of
:func:`facerig.geometry.orient.orientation_features`; then

- ``scale``: each cue's (y, z) spread over all 24 candidates of all heads;
- ``typical``: the (y, z) mean and spread of each :data:`~facerig.geometry.orient.TYPICAL_CUES`
  cue over the upright heads that have it;
- the weights of :func:`~facerig.geometry.orient.prior_terms`: a softmax over the 24 candidates
  (the truth is the canonical one; the mirror-axis penalty of
  :func:`~facerig.geometry.orient.rank_orientations` added as it is), cross-entropy plus ``L`` x
  the squared weights over the number of heads, by L-BFGS;
- 5-fold cross-validation by seed: how often the truth comes first on heads left out.

Prints the model as a Python literal to paste into ``orient.py`` and writes
``benchmarks/results/orientation_fit.json``.
"""

from __future__ import annotations

import argparse
import json
import pprint
import time
from pathlib import Path

import numpy as np

from _meta import run_meta


def generated_features(seeds: int, start: int, cache: str | None) -> list[dict]:
    """The cues of the generated heads: one dict per head (``family``, ``style``, ``seed`` and the
    cues), read from ``cache`` (an .npy) when it holds them."""
    from facerig.geometry.orient import orientation_features

    if cache and Path(cache).is_file():
        rows = list(np.load(cache, allow_pickle=True))
        if len(rows) == 4 * seeds and {r["seed"] for r in rows} == set(range(start, start + seeds)):
            return rows
    from facerig._cli.train import STRONG_STYLE
    from facerig.data.families import get_family
    from facerig.data.generator import SampleConfig, generate_sample

    rows = []
    for fam in ("ict", "makehuman"):
        family = get_family(fam)
        for style in ("default", "strong"):
            cfg = SampleConfig(split="train", **(STRONG_STYLE if style == "strong" else {}))
            for seed in range(start, start + seeds):
                s = generate_sample(family, seed, cfg)
                with np.errstate(all="ignore"):
                    f = orientation_features(s.vertices, s.faces)
                rows.append({"family": fam, "style": style, "seed": seed, **f})
            print(f"# {fam} {style}: {seeds} heads", flush=True)
    if cache:
        np.save(cache, np.array(rows, dtype=object), allow_pickle=True)
    return rows


def _candidates(feats: dict, model: dict) -> tuple[np.ndarray, np.ndarray]:
    """(24, D) terms and (24,) mirror penalties of one head's candidates."""
    from facerig.geometry.orient import ORIENTATIONS, SYMMETRY_WEIGHT, candidate_matrix, prior_terms

    sym = np.asarray(feats["symmetry"], np.float64)
    best = max(float(sym.min()), 1e-12)
    T = np.array([prior_terms(feats, u, f, model) for u, f in ORIENTATIONS])
    pen = np.array(
        [
            SYMMETRY_WEIGHT * (sym[int(np.argmax(np.abs(candidate_matrix(u, f)[0])))] / best - 1.0)
            for u, f in ORIENTATIONS
        ]
    )
    return T, pen


def statistics(rows: list[dict]) -> dict:
    """``scale`` and ``typical`` of the model from the heads' canonical cues."""
    from facerig.geometry.orient import CUES, ORIENTATIONS, TYPICAL_CUES, candidate_matrix

    Rs = np.array([candidate_matrix(u, f) for u, f in ORIENTATIONS])
    scale, typical = {}, {}
    for k in CUES:
        a = np.array([r[k] for r in rows], np.float64)  # (H, 3)
        turned = np.einsum("cij,hj->hci", Rs, a)[..., 1:].reshape(-1, 2)
        scale[k] = tuple(float(x) for x in turned.std(0) + 1e-6)
    snout = [
        float(candidate_matrix(u, f)[1] @ (r["tips"][_row(candidate_matrix(u, f)[2])] - r["eyes"]))
        for r in rows
        if np.any(r["eyes"])
        for u, f in ORIENTATIONS
    ]
    scale["snout"] = float(np.std(snout) + 1e-6)
    for k in TYPICAL_CUES:
        a = np.array([r[k] for r in rows if np.any(r[k])], np.float64)
        typical[k] = (tuple(float(x) for x in a[:, 1:].mean(0)), tuple(float(x) for x in a[:, 1:].std(0) + 1e-4))
    return {"scale": scale, "typical": typical}


def _row(vector: np.ndarray) -> int:
    from facerig.geometry.orient import _direction_row

    return _direction_row(vector)


def fit_weights(terms: np.ndarray, pens: np.ndarray, lam: float) -> np.ndarray:
    """Weights maximising the truth's softmax probability: terms (H, 24, D), pens (H, 24)."""
    from scipy.optimize import minimize

    from facerig.geometry.orient import ORIENTATIONS

    truth = ORIENTATIONS.index(("+y", "+z"))
    H = len(terms)

    def loss(w):
        s = terms @ w - pens
        s = s - s.max(1, keepdims=True)
        e = np.exp(s)
        z = e.sum(1)
        p = e / z[:, None]
        val = float((np.log(z) - s[:, truth]).mean() + lam * (w @ w) / H)
        grad = (np.einsum("hc,hcd->d", p, terms) - terms[:, truth].sum(0)) / H + 2 * lam * w / H
        return val, grad

    return minimize(loss, np.zeros(terms.shape[2]), jac=True, method="L-BFGS-B").x


def model_from(stats: dict, w: np.ndarray) -> dict:
    from facerig.geometry.orient import CUES, TYPICAL_CUES

    n = 2 * len(CUES)
    lin = {k: (round(float(w[2 * i]), 4), round(float(w[2 * i + 1]), 4)) for i, k in enumerate(CUES)}
    lin["snout"] = round(float(w[n]), 4)
    quad, i = {}, n + 1
    for k, comps in TYPICAL_CUES.items():
        quad[k] = tuple(round(float(x), 4) for x in w[i : i + len(comps)])
        i += len(comps)
    rnd = {
        k: tuple(float(f"{x:.4g}") for x in v) if k != "snout" else float(f"{v:.4g}") for k, v in stats["scale"].items()
    }
    typ = {k: tuple(tuple(float(f"{x:.4g}") for x in part) for part in v) for k, v in stats["typical"].items()}
    return {"scale": rnd, "linear": lin, "typical": typ, "quadratic": quad}


def top1(terms: np.ndarray, pens: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per head: whether the truth comes first, and its margin over the best other candidate."""
    from facerig.geometry.orient import ORIENTATIONS

    truth = ORIENTATIONS.index(("+y", "+z"))
    s = terms @ w - pens
    other = np.delete(s, truth, axis=1).max(1)
    return s[:, truth] > other, s[:, truth] - other


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=100, help="heads per family and style")
    p.add_argument("--start", type=int, default=800000, help="first seed (train split)")
    p.add_argument("--lam", type=float, default=10.0, help="L2 weight")
    p.add_argument("--cache", default=None, help="an .npy keeping the generated heads' cues between runs")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "orientation_fit.json"))
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    rows = generated_features(args.seeds, args.start, args.cache)
    t_feat = time.perf_counter() - t0
    stats = statistics(rows)
    model = {**stats, "linear": None, "quadratic": None}
    TP = [_candidates(r, model) for r in rows]
    terms, pens = np.stack([t for t, _ in TP]), np.stack([p for _, p in TP])
    seeds = np.array([r["seed"] for r in rows])
    right_cv, margins_cv = np.zeros(len(rows), bool), np.zeros(len(rows))
    for k in range(5):
        test = (seeds - args.start) % 5 == k
        w = fit_weights(terms[~test], pens[~test], args.lam)
        right_cv[test], margins_cv[test] = top1(terms[test], pens[test], w)
    w = fit_weights(terms, pens, args.lam)
    right, margins = top1(terms, pens, w)
    final = model_from(stats, w)
    wrong = [
        {"family": r["family"], "style": r["style"], "seed": int(r["seed"]), "margin": round(float(m), 3)}
        for r, ok, m in zip(rows, right_cv, margins_cv)
        if not ok
    ]
    out = {
        "meta": {
            **run_meta(),
            "seeds": args.seeds,
            "start": args.start,
            "lam": args.lam,
            "heads": len(rows),
            "feature_seconds": round(t_feat, 1),
            "cache": args.cache,
        },
        "cv_top1": int(right_cv.sum()),
        "train_top1": int(right.sum()),
        "cv_wrong": wrong,
        "cv_wrong_margin_max": round(float(-margins_cv[~right_cv].min()), 3) if (~right_cv).any() else 0.0,
        "model": final,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"# {len(rows)} generated heads: truth first {int(right.sum())} (fitted), {int(right_cv.sum())} (5-fold CV)")
    print(f"# CV misses: {wrong}")
    print("PRIOR_MODEL = " + pprint.pformat(final, width=110, sort_dicts=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

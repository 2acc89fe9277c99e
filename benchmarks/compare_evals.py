"""Side-by-side tables of evaluation results (``benchmarks/results/eval_*.json``).

    .venv/bin/python benchmarks/compare_evals.py LABEL=PATH [LABEL=PATH ...] [--focus] [--gap GROUP] [--heads GROUP] [--ci]

Prints, as markdown: active / relative error and interpenetration per group for every result;
then, for the first result, the external heads one by one and (``--focus``) the active error
of the issue's hardest shapes per group; with ``--gap GROUP``, the shapes of that group where
the first result trails the second most (active mm and as a share of the shape's motion); with
``--heads GROUP``, that group's heads one by one (first result), with the hardest shapes; with
``--ci``, per group and result the mean active error with a 95 % bootstrap interval over heads,
the range (5-95 %) of the mean of 4 heads drawn from them (what a 4-head group can show by
chance), and the paired difference of the first two results.
Used for the ablation and model-card tables.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from facerig.eval.report import markdown_compare, markdown_focus_shapes, markdown_heads

FOCUS = ["jawOpen", "mouthClose", "eyeBlinkLeft", "eyeBlinkRight", "mouthRollLower", "mouthRollUpper"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="+", help="LABEL=PATH of an eval JSON")
    p.add_argument("--focus", action="store_true", help="also the hardest shapes per group (first result)")
    p.add_argument("--gap", metavar="GROUP", help="shapes of GROUP where the first result trails the second most")
    p.add_argument("--top", type=int, default=10, help="rows of the --gap table")
    p.add_argument("--heads", metavar="GROUP", help="the heads of GROUP one by one (first result)")
    p.add_argument("--ci", action="store_true", help="bootstrap intervals of the group means over heads")
    args = p.parse_args(argv)
    results = {}
    for item in args.results:
        label, _, path = item.partition("=")
        with open(path or label) as f:
            results[label if path else f"r{len(results)}"] = json.load(f)
    print(markdown_compare(results))
    first = next(iter(results.values()))
    print("\n" + markdown_heads(first))
    if args.focus:
        print("\n" + markdown_focus_shapes(first, FOCUS))
    if args.heads:
        print("\n" + markdown_heads(first, args.heads))
        print("\n" + head_shapes(first, args.heads, FOCUS))
    if args.gap and len(results) >= 2:
        print("\n" + shape_gap(results, args.gap, args.top))
    if args.ci:
        print("\n" + group_intervals(results))
    return 0


def _head_errors(result: dict) -> dict[str, dict[str, float]]:
    """{group: {head id: active mm}} of the heads evaluated ok."""
    out: dict[str, dict[str, float]] = {}
    for h in result["heads"]:
        v = (h.get("metrics") or {}).get("active_mm")
        if h.get("status") == "ok" and v is not None and np.isfinite(v):
            out.setdefault(h["group"], {})[h["id"]] = float(v)
    return out


def _resampled_means(x: np.ndarray, size: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n`` samples of ``size`` values drawn from x (N,) with replacement: (n,)."""
    return x[rng.integers(x.size, size=(n, size))].mean(1)


def group_intervals(results: dict[str, dict], n_boot: int = 10000, seed: int = 0) -> str:
    """Markdown: per group and result, heads, mean active mm [95 % bootstrap interval over heads],
    the 5-95 % range of the mean of 4 heads drawn with replacement; then, for the heads both
    of the first two results have, their mean difference [95 % paired bootstrap interval] and
    the share of heads where the first is lower."""
    labels = list(results)
    errs = {lab: _head_errors(r) for lab, r in results.items()}
    rows = ["| group | result | heads | mean active mm [95 %] | mean of 4 heads, 5-95 % |", "|---|---|---|---|---|"]
    for g in errs[labels[0]]:
        for lab in labels:
            e = np.array(list(errs[lab].get(g, {}).values()))
            if e.size == 0:
                continue
            rng = np.random.default_rng(seed)  # per row: a row's figures do not depend on the other results
            boot = _resampled_means(e, e.size, n_boot, rng)
            four = _resampled_means(e, 4, n_boot, rng)
            rows.append(
                f"| {g} | {lab} | {e.size} | {e.mean():.3f} [{np.percentile(boot, 2.5):.3f}, "
                f"{np.percentile(boot, 97.5):.3f}] | {np.percentile(four, 5):.3f}-{np.percentile(four, 95):.3f} |"
            )
    if len(labels) >= 2:
        a, b = labels[:2]
        rows += ["", f"| group | heads | {a} - {b}, mm [95 %] | heads where {a} is lower |", "|---|---|---|---|"]
        for g in errs[a]:
            ids = sorted(set(errs[a][g]) & set(errs[b].get(g, {})))
            if not ids:
                continue
            d = np.array([errs[a][g][i] - errs[b][g][i] for i in ids])
            boot = _resampled_means(d, d.size, n_boot, np.random.default_rng(seed))
            rows.append(
                f"| {g} | {d.size} | {d.mean():+.3f} [{np.percentile(boot, 2.5):+.3f}, "
                f"{np.percentile(boot, 97.5):+.3f}] | {int((d < 0).sum())} of {d.size} |"
            )
    return "\n".join(rows)


def head_shapes(result: dict, group: str, names: list[str]) -> str:
    """Markdown: active mm of the named shapes on each head of ``group``."""
    rows = ["| head | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for h in result["heads"]:
        if h.get("group") == group and h.get("shapes"):
            cells = [f"{h['shapes'][n]['active_mm']:.2f}" if n in h["shapes"] else "-" for n in names]
            rows.append(f"| {h['id']} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _shape_means(result: dict, group: str, key: str) -> dict[str, float]:
    heads = [h for h in result["heads"] if h.get("group") == group and h.get("status") == "ok"]
    names = set.intersection(*(set(h["shapes"]) for h in heads)) if heads else set()
    return {n: float(np.nanmean([h["shapes"][n][key] for h in heads])) for n in names}


def shape_gap(results: dict[str, dict], group: str, top: int = 10) -> str:
    """Markdown: per shape of ``group``, mean active mm of each result and its share of the zero
    rig's (the shape's mean motion), the ``top`` shapes where result 1 trails result 2 most."""
    labels = list(results)
    act = {lab: _shape_means(r, group, "active_mm") for lab, r in results.items()}
    zero = _shape_means(results[labels[0]], group, "zero_active_mm")
    names = sorted(
        set.intersection(*(set(a) for a in act.values())) & set(zero),
        key=lambda n: act[labels[1]][n] - act[labels[0]][n],
    )[:top]
    rows = [f"| shape ({group}) | motion | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
    for n in names:
        cells = [f"{act[lab][n]:.2f} ({100 * act[lab][n] / zero[n]:.0f} %)" for lab in labels]
        rows.append(f"| {n} | {zero[n]:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())

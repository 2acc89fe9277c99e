"""Side-by-side tables of evaluation results (``benchmarks/results/eval_*.json``).

    .venv/bin/python benchmarks/compare_evals.py LABEL=PATH [LABEL=PATH ...] [--focus]

Prints, as markdown: active / relative error and interpenetration per group for every result;
then, for the first result, the external heads one by one and (``--focus``) the active error
of the issue's hardest shapes per group. Used for the ablation and model-card tables.
"""

from __future__ import annotations

import argparse
import json
import sys

from facerig.eval.report import markdown_compare, markdown_focus_shapes, markdown_heads

FOCUS = ["jawOpen", "mouthClose", "eyeBlinkLeft", "eyeBlinkRight", "mouthRollLower", "mouthRollUpper"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="+", help="LABEL=PATH of an eval JSON")
    p.add_argument("--focus", action="store_true", help="also the hardest shapes per group (first result)")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())

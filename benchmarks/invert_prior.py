"""The co-activation prior of inverse rigging (:mod:`facerig.invert.prior`): export and strength sweep.

1. ``--export``: fit the Gaussian prior on the first 80 % of the real take
   (``takes/livelink_rom_a.csv``) and write ``src/facerig/weights/take_prior.npz`` (what
   ``facerig invert --prior take`` uses).
2. Sweep: ``facerig eval --task invert`` (frames from the take's held-out last 20 %, every head solved
   without and with the prior) at several prior strengths; writes
   ``benchmarks/results/invert_prior_sweep.json`` (per group: weight MAE, rebuilt-mesh error on
   moving vertices through facerig's rig, and through the head's own rig at the solved weights).
   The default strength is chosen on the in-family groups (ICT, MakeHuman) only; the other authors'
   rigs are measured, never fitted. ``--tolerances``: each strength also at these bounds on what the
   prior may cost the fit (``prior_tolerance``; ``default`` = the solver's default, ``inf`` = unbounded),
   keyed ``"<strength>/<tolerance>"`` in the sweep; the default tolerance is chosen on the in-family
   groups alone too.

Run: ``FACERIG_DATA=/path/to/shared/data .venv/bin/python benchmarks/invert_prior.py [--export] [--quick]
[--strengths 0.001,0.003,0.01,0.03] [--tolerances default,inf,0.05,0.2]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", action="store_true", help="write src/facerig/weights/take_prior.npz and stop")
    ap.add_argument("--quick", action="store_true", help="the eval's small size")
    ap.add_argument("--strengths", default="0.001,0.003,0.01,0.03,0.1")
    ap.add_argument("--tolerances", default="default", help="comma list: default, inf or numbers")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "invert_prior_sweep.json"))
    ap.add_argument("--table", action="store_true", help="print the Markdown table of --out's results and stop")
    args = ap.parse_args(argv)
    if args.table:
        print(markdown(json.loads(Path(args.out).read_text())))
        return 0
    if args.export:
        from facerig.invert.prior import PRIOR_FILE, fit_take_prior, save_prior

        prior = fit_take_prior()
        save_prior(PRIOR_FILE, prior)
        print(f"wrote {PRIOR_FILE} ({prior.source})")
        return 0
    from facerig.eval.invert import evaluate_invert

    strengths = [float(s) for s in args.strengths.split(",")]
    tolerances = [None if t == "default" else float(t) for t in args.tolerances.split(",")]
    result = evaluate_invert(quick=args.quick, no_neutral=False, prior_strengths=strengths, prior_tolerances=tolerances)
    keep = {k: result[k] for k in ("task", "size", "seed", "take", "date", "machine", "seconds", "split")}
    from facerig.invert.prior import DEFAULT_TOLERANCE

    keep["default_tolerance"] = DEFAULT_TOLERANCE
    keep["tolerances"] = tolerances
    groups = {}
    for g, s in result["summary"].items():
        if isinstance(s, dict) and "n" in s:
            groups[g] = {k: v for k, v in s.items() if k == "n" or k.startswith(("weight_mae", "moving_", "truth"))}
    keep["groups"] = groups
    keep["sweep"] = result["summary"].get("prior_sweep", {})
    keep["cases"] = [{k: v for k, v in r.items() if k != "corr"} for r in result["cases"]]
    Path(args.out).write_text(json.dumps(keep, indent=1) + "\n")
    print(json.dumps(keep["sweep"], indent=1))
    print(markdown(keep))
    print(f"wrote {args.out}")
    return 0


def markdown(keep: dict) -> str:
    """Per group and per other-author head: weight MAE, moving-vertex mean / p90 mm for no prior and each
    prior setting of the sweep (BENCHMARKS.md's tables)."""
    cases = [c for c in keep["cases"] if c.get("family") != "roundtrip" and "prior" in c]
    rows = {
        "ICT (3)": [c for c in cases if c["case"].startswith("ict/")],
        "ICT 10k (2)": [c for c in cases if c["case"].startswith("ict_remesh10k/")],
        "MakeHuman (3)": [c for c in cases if c["family"] == "makehuman"],
        "in family (8)": [c for c in cases if c["family"] != "out_of_family"],
    }
    for c in cases:
        if c["family"] == "out_of_family":
            rows[c["case"].split("/")[-1]] = [c]
    rows["other authors (3)"] = [c for c in cases if c["family"] == "out_of_family"]
    settings = ["none", *cases[0]["prior"]] if cases else []
    out = ["| group | " + " | ".join(settings) + " |", "|---" * (len(settings) + 1) + "|"]
    for name, cs in rows.items():
        cells = []
        for st in settings:
            recs = cs if st == "none" else [c["prior"][st] for c in cs]
            mae = sum(r["weight_mae"] for r in recs) / len(recs)
            mov = sum(r["moving_mean_mm"] for r in recs) / len(recs)
            p90 = sum(r["moving_p90_mm"] for r in recs) / len(recs)
            cells.append(f"{mae:.4f}, {mov:.3f} / {p90:.3f}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())

"""The 2D-loss fine-tune against the shipped weights: evaluations and the shipping rule.

    python benchmarks/train2d.py eval LABEL [WEIGHTS]     # facerig eval on the validation set + out_of_family.py
    python benchmarks/train2d.py compare BASE CAND         # one JSON with both and the decision
    python benchmarks/train2d.py stamp LABEL [WEIGHTS]    # (done by eval) record the weights in its files

``eval`` rigs with ``WEIGHTS`` (``FACERIG_RAF_WEIGHTS``; default: the shipped file) and writes
``benchmarks/results/eval_raf_t2d_LABEL.json`` (``facerig eval --method raf --set EVALSET
--no-interp --no-check``; ``FACERIG_EVALSET`` or ``/work/evalset``) and
``benchmarks/results/out_of_family_t2d_LABEL.json`` (``benchmarks/out_of_family.py``).

``compare`` writes ``benchmarks/results/train2d_compare.json``: per validation group the active
error (mm) of both and the difference, the out-of-family group's relative error, scale-invariant
error and completion of both, and the rule of the brief (issue #24 item 3): ship CAND only if
the out-of-family relative error falls and no validation group's active error rises by more than
0.005 mm.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TOLERANCE_MM = 0.005


def _env(weights: str | None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    if weights:
        env["FACERIG_RAF_WEIGHTS"] = str(Path(weights).resolve())
    else:
        env.pop("FACERIG_RAF_WEIGHTS", None)
    return env


def run_eval(label: str, weights: str | None) -> None:
    evalset = os.environ.get("FACERIG_EVALSET", "/work/evalset")
    env = _env(weights)
    out = RESULTS / f"eval_raf_t2d_{label}.json"
    cmd = [sys.executable, "-m", "facerig.cli", "eval", "--method", "raf", "--set", evalset, "--json", str(out)]
    subprocess.run(cmd + ["--no-interp", "--no-check", "--quiet"], env=env, check=True)
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "out_of_family.py"), "--tag", f"t2d_{label}"], env=env, check=True
    )
    stamp(label, weights)


def stamp(label: str, weights: str | None) -> None:
    """Record in both result files which weights they measured (``facerig eval`` does not)."""
    for path in (RESULTS / f"eval_raf_t2d_{label}.json", RESULTS / f"out_of_family_t2d_{label}.json"):
        res = json.loads(path.read_text())
        res["weights"] = str(weights) if weights else "src/facerig/weights/raf.npz (shipped)"
        path.write_text(json.dumps(res, indent=1) + "\n")


def compare(base: str, cand: str) -> dict:
    ev = {k: json.loads((RESULTS / f"eval_raf_t2d_{k}.json").read_text()) for k in (base, cand)}
    oof = {k: json.loads((RESULTS / f"out_of_family_t2d_{k}.json").read_text())["summary"] for k in (base, cand)}
    groups = {}
    for g in ev[base]["groups"]:
        a, b = ev[base]["groups"][g]["active_mm"], ev[cand]["groups"].get(g, {}).get("active_mm", float("nan"))
        groups[g] = {base: round(a, 4), cand: round(b, 4), "diff_mm": round(b - a, 4)}
    fam = {
        grp: {
            k: {
                m: oof[k][grp][m]
                for m in ("relative", "si", "completion", "blink_completion_median", "blink_completion_min")
            }
            for k in (base, cand)
        }
        for grp in ("out_of_family", "in_family")
    }
    worse = [g for g, r in groups.items() if not (r["diff_mm"] <= TOLERANCE_MM)]
    better_oof = fam["out_of_family"][cand]["relative"] < fam["out_of_family"][base]["relative"]
    return {
        **run_meta(),
        "command": "python benchmarks/train2d.py compare " + " ".join((base, cand)),
        "weights": {k: ev[k].get("weights") for k in (base, cand)},
        "validation_active_mm": groups,
        "author_rigs": fam,
        "rule": f"ship {cand} only if out-of-family relative falls and no validation group rises > {TOLERANCE_MM} mm",
        "out_of_family_improves": bool(better_oof),
        "groups_worse_than_tolerance": worse,
        "ship": bool(better_oof and not worse),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) >= 2 and argv[0] == "eval":
        run_eval(argv[1], argv[2] if len(argv) > 2 else None)
        return 0
    if len(argv) >= 2 and argv[0] == "stamp":
        stamp(argv[1], argv[2] if len(argv) > 2 else None)
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        res = compare(argv[1], argv[2])
        (RESULTS / "train2d_compare.json").write_text(json.dumps(res, indent=1) + "\n")
        print(json.dumps(res, indent=1))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

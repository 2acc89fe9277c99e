"""Calibrate and publish ``facerig check`` on rigs with and without authors.

    python benchmarks/check_calibration.py authors [--evalset DIR ...]   -> results/check_calibration.json
    python benchmarks/check_calibration.py heads --rigs DIR              -> results/check_heads.json

``authors``: every rig made by people (the two external rigs, the Rocketbox and Weboji
blendshapes on their heads in ``heads/``, and the ICT FaceKit / MakeHuman ground truth of eval
sets written by ``facerig data make-eval``): per rig and check the worst value, the threshold and
pass / fail / n-a. Every author rig must pass every check that applies to it.

``heads``: facerig's own rigs of the public heads (``DIR/NAME.npz``, written by
``facerig rig HEAD.obj -o DIR/NAME.npz --no-head-check --allow-degenerate --allow-unreferenced``),
the baseline for the generalisation work.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import platform
import sys
from pathlib import Path

from facerig.eval.check import CHECKS, THRESHOLDS, check_rig, read_rig

DATA = Path(os.environ.get("FACERIG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
if not DATA.is_dir():
    DATA = Path("/work/shared/data")
OUT = Path(__file__).resolve().parent / "results"


def _author_rigs(evalsets: list[str]):
    for p in sorted((DATA / "external-rigs").glob("*.npz")):
        yield p.stem, "external", p, None
    for p in sorted((DATA / "heads").glob("*.blendshapes.npz")):
        name = p.name.replace(".blendshapes.npz", "")
        yield name, name.split("_")[0], p, DATA / "heads" / f"{name}.obj"
    for es in evalsets:
        for p in sorted(glob.glob(os.path.join(es, "*", "*.gt.npz"))):
            name = Path(p).name.replace(".gt.npz", "")
            group = Path(p).parent.name
            if group in ("unseen", "makehuman"):  # authors' rigs on their own heads (ICT FaceKit, MakeHuman)
                yield name, "ict" if group == "unseen" else "makehuman", Path(p), None


def _record(name: str, group: str, path: Path, head: Path | None) -> dict:
    rig = read_rig(path, head)
    res = check_rig(rig)
    return {"name": name, "group": group, "rig": str(path), "head": str(head) if head else None,
            "passed": res["passed"], "seconds": res["seconds"], "layout": res["layout"],
            "summary": res["summary"], "rows": res["rows"], "missing": res["missing"]}


def _machine() -> dict:
    return {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": platform.node(), "cpu": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": sys.version.split()[0]}


def _table(records: list[dict]) -> str:
    head = "| rig | " + " | ".join(CHECKS) + " | s |"
    lines = [head, "|" + "---|" * (len(CHECKS) + 2)]
    for r in records:
        if "error" in r:
            lines.append(f"| {r['name']} | " + " | ".join(["-"] * len(CHECKS)) + f" | error: {r['error']} |")
            continue
        cells = []
        for c in CHECKS:
            s = r["summary"][c]
            if s["status"] == "n/a":
                cells.append("n/a")
            else:
                mark = "" if s["status"] == "pass" else " **FAIL**"
                cells.append(f"{s['worst']:.3g}{mark}")
        lines.append(f"| {r['name']} | " + " | ".join(cells) + f" | {r['seconds']:.2f} |")
    lines.append("| threshold | " + " | ".join(f"{op} {t:g}" for op, t in THRESHOLDS.values()) + " | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["authors", "heads"])
    ap.add_argument("--evalset", action="append", default=[], help="eval set folder(s) (ICT / MakeHuman ground truth)")
    ap.add_argument("--rigs", default=None, help="heads: folder of facerig rigs NAME.npz (+ NAME.log)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    records = []
    if args.what == "authors":
        items = list(_author_rigs(args.evalset))
    else:
        if not args.rigs:
            ap.error("heads needs --rigs DIR")
        items = []
        for obj in sorted((DATA / "heads").glob("*.obj")):
            rig = Path(args.rigs) / f"{obj.stem}.npz"
            items.append((obj.stem, "heads", rig, None))
    for name, group, path, head in items:
        if not Path(path).exists():
            records.append({"name": name, "group": group, "rig": str(path), "error": "no rig (rigging failed)"})
            print(f"{name}: no rig", flush=True)
            continue
        try:
            rec = _record(name, group, Path(path), head)
        except Exception as e:  # noqa: BLE001 - record it, go on
            records.append({"name": name, "group": group, "rig": str(path), "error": f"{e.__class__.__name__}: {e}"})
            print(f"{name}: error {e}", flush=True)
            continue
        records.append(rec)
        fails = [c for c, s in rec["summary"].items() if s["status"] == "fail"]
        print(f"{name:28s} {'PASS' if rec['passed'] else 'FAIL ' + ','.join(fails)}  {rec['seconds']:.2f}s", flush=True)
    table = _table(records)
    print(table)
    out = {"what": args.what, **_machine(), "thresholds": {c: list(t) for c, t in THRESHOLDS.items()},
           "records": records, "table_markdown": table}
    if args.what == "authors":
        ok = [r for r in records if "error" not in r]
        out["all_author_rigs_pass"] = all(r["passed"] for r in ok) and len(ok) == len(records)
    if not args.no_write:
        path = Path(args.out) if args.out else OUT / ("check_calibration.json" if args.what == "authors" else "check_heads.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=1, default=float))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

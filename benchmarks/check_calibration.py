"""Calibrate and publish ``facerig check`` on rigs with and without authors.

    python benchmarks/check_calibration.py authors [--evalset DIR ...]   -> results/check_calibration.json
    python benchmarks/check_calibration.py heads --rigs DIR              -> results/check_heads.json
    python benchmarks/check_calibration.py speed --evalset DIR           -> results/check_speed.json

``authors``: every rig made by people (the two external rigs, the Rocketbox and Weboji
blendshapes on their heads in ``heads/``, and the ICT FaceKit / MakeHuman ground truth of eval
sets written by ``facerig data make-eval``: groups unseen and makehuman, and ICT's deltas on the
remeshed and reframed heads): per rig and check the worst value, the threshold and
pass / fail / n-a. Every author rig must pass every check that applies to it.

``heads``: facerig's own rigs of the public heads (``DIR/NAME.npz``, written by
``facerig rig HEAD.obj -o DIR/NAME.npz --no-head-check --allow-degenerate --allow-unreferenced``),
the baseline for the generalisation work.

``speed``: wall time of ``check_rig`` (rig already read) on the first ICT head (26,719 vertices,
51 shapes) of the eval set, ``--repeat`` times in this process, with the machine's load average.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from pathlib import Path

from _meta import run_meta
from facerig.eval.check import CHECKS, THRESHOLDS, _read_rig, check_rig

DATA = Path(os.environ.get("FACERIG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
if not DATA.is_dir():
    DATA = Path("/work/shared/data")
OUT = Path(__file__).resolve().parent / "results"


AUTHOR_GROUPS = ("unseen", "makehuman", "remeshed", "reframed")


def _author_rigs(evalsets: list[str], groups: tuple[str, ...] = AUTHOR_GROUPS):
    for p in sorted((DATA / "external-rigs").glob("*.npz")):
        yield p.stem, "external", p, None
    for p in sorted((DATA / "heads").glob("*.blendshapes.npz")):
        name = p.name.replace(".blendshapes.npz", "")
        yield name, name.split("_")[0], p, DATA / "heads" / f"{name}.obj"
    for es in evalsets:
        for p in sorted(glob.glob(os.path.join(es, "*", "*.gt.npz"))):
            name = Path(p).name.replace(".gt.npz", "")
            group = Path(p).parent.name
            if group in groups:  # authors' rigs on their heads (ICT FaceKit, MakeHuman; ICT remeshed / reframed)
                yield name, "makehuman" if group == "makehuman" else f"ict-{group}", Path(p), None


def _record(name: str, group: str, path: Path, head: Path | None) -> dict:
    rig = _read_rig(path, head)
    res = check_rig(rig)
    return {
        "name": name,
        "group": group,
        "rig": str(path),
        "head": str(head) if head else None,
        "passed": res["passed"],
        "seconds": res["seconds"],
        "layout": res["layout"],
        "summary": res["summary"],
        "rows": res["rows"],
        "missing": res["missing"],
    }


def _rig_status(folder: Path) -> dict:
    """``NAME rc=0 secs=1.2`` lines of ``folder/status.txt`` (written by the rigging loop) -> {NAME: {...}}."""
    out = {}
    p = folder / "status.txt"
    if p.is_file():
        for line in p.read_text().splitlines():
            parts = line.split()
            if parts:
                out[parts[0]] = {k: float(v) for k, v in (x.split("=", 1) for x in parts[1:] if "=" in x)}
    return out


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


def _speed(args) -> int:
    import time

    heads = [(n, p) for n, g, p, _ in _author_rigs(args.evalset) if g == "ict-unseen"]
    if not heads:
        raise SystemExit("speed needs --evalset with an unseen (ICT) group")
    name, path = heads[0]
    rig = _read_rig(path)
    times, loads = [], []
    for _ in range(args.repeat):
        loads.append(os.getloadavg()[0])
        t0 = time.perf_counter()
        res = check_rig(rig)
        times.append(time.perf_counter() - t0)
    stages = {}
    for c in CHECKS:  # each check alone (the layout is found again each time)
        t0 = time.perf_counter()
        check_rig(rig, checks=(c,))
        stages[c] = time.perf_counter() - t0
    out = {
        "what": "speed",
        **run_meta(),
        "head": name,
        "vertices": rig.num_vertices,
        "shapes": len(rig.names),
        "seconds": times,
        "median_seconds": sorted(times)[len(times) // 2],
        "load_average_1min_per_run": loads,
        "seconds_per_check_alone": stages,
        "passed": res["passed"],
    }
    print(
        json.dumps({k: out[k] for k in ("head", "vertices", "median_seconds", "seconds", "load_average_1min_per_run")})
    )
    if not args.no_write:
        path = Path(args.out) if args.out else OUT / "check_speed.json"
        path.write_text(json.dumps(out, indent=1))
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["authors", "heads", "speed"])
    ap.add_argument("--repeat", type=int, default=5, help="speed: runs")
    ap.add_argument("--evalset", action="append", default=[], help="eval set folder(s) (ICT / MakeHuman ground truth)")
    ap.add_argument("--rigs", default=None, help="heads: folder of facerig rigs NAME.npz (+ NAME.log)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    records = []
    if args.what == "speed":
        return _speed(args)
    if args.what == "authors":
        items = list(_author_rigs(args.evalset))
    else:
        if not args.rigs:
            ap.error("heads needs --rigs DIR")
        items = []
        status = _rig_status(Path(args.rigs))
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
        if args.what == "heads":
            rec["rigging"] = status.get(name)
        records.append(rec)
        fails = [c for c, s in rec["summary"].items() if s["status"] == "fail"]
        print(f"{name:28s} {'PASS' if rec['passed'] else 'FAIL ' + ','.join(fails)}  {rec['seconds']:.2f}s", flush=True)
    table = _table(records)
    print(table)
    out = {
        "what": args.what,
        **run_meta(),
        "thresholds": {c: list(t) for c, t in THRESHOLDS.items()},
        "records": records,
        "table_markdown": table,
    }
    if args.what == "heads":
        out["rig_command"] = (
            "python -m facerig.cli rig HEAD.obj -o DIR/NAME.npz --no-head-check --allow-degenerate "
            "--allow-unreferenced (status.txt: exit code and seconds per head)"
        )
        ok = [r for r in records if "error" not in r]
        out["pass_counts"] = {c: sum(r["summary"][c]["status"] == "pass" for r in ok) for c in CHECKS}
        out["applicable_counts"] = {c: sum(r["summary"][c]["status"] != "n/a" for r in ok) for c in CHECKS}
    if args.what == "authors":
        ok = [r for r in records if "error" not in r]
        out["all_author_rigs_pass"] = all(r["passed"] for r in ok) and len(ok) == len(records)
    if not args.no_write:
        path = (
            Path(args.out)
            if args.out
            else OUT / ("check_calibration.json" if args.what == "authors" else "check_heads.json")
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=1, default=float))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

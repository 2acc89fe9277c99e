"""Nods both ways: the core heads of ``robustness_sweep.py`` pitched -20..20 degrees, rigged and checked as
a user runs them (``facerig rig`` with no flags, then ``facerig check`` on the rig turned back upright),
judged as the sweep judges its ``tilt_pitch15`` variant (an orientation warning or refusal, a lost blink
or jaw, NaN, a changed vertex count fail; time is recorded, not judged: the shared VM's load).

    nice python benchmarks/nod_sweep.py [--heads core|a,b] [--pitches -20,-15,-10,10,15,20] [--tag T] [--src DIR]

writes ``benchmarks/results/nod_sweep[_T].json`` with, per run, the sweep's record plus the pitch the
rig was made at (``raf.pitched_deg``) and the jaw step's pitch (``raf.jaw.pitch_deg``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import robustness_sweep as rs  # noqa: E402
from _meta import run_meta  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heads", default="core")
    ap.add_argument("--pitches", default="-20,-15,-10,10,15,20")
    ap.add_argument("--tag", default="")
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--src", default=str(ROOT / "src"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from facerig.config import data_root
    from facerig.io import read_mesh

    heads = {"ict_head": ROOT / "examples" / "ict_head" / "head.obj"}
    heads.update({p.stem: p for p in sorted((data_root() / "heads").glob("*.obj"))})
    names = list(rs.CORE) if args.heads == "core" else args.heads.split(",")
    pitches = [float(x) for x in args.pitches.split(",")]
    env = dict(os.environ, PYTHONPATH=str(Path(args.src).resolve()))
    tmp = Path(tempfile.mkdtemp(prefix="facerig_nods_"))
    runs, t_all = [], time.perf_counter()
    for name in names:
        mesh = read_mesh(heads[name])
        v, tris = mesh.vertices, [np.asarray(t) for t in mesh.faces]
        c = 0.5 * (v.min(0) + v.max(0))
        base = None
        for deg in [0.0] + pitches:
            r = rs._rot("x", deg)
            var = {"v": (v - c) @ r.T + c, "polys": tris}
            if deg:
                var["rotation"] = r
            work = tmp / name / f"{deg:+.0f}"
            work.mkdir(parents=True, exist_ok=True)
            path = rs.write_variant(work / "head", var)
            rec = {"head": name, "pitch": deg, "vertices": len(v)}
            rec.update(rs.run_variant(path, var, work, args.timeout, env))
            rig = work / "rig.npz"
            if rig.exists():
                raf = json.loads(str(np.load(rig)["meta"])).get("raf") or {}
                rec["pitched_deg"] = raf.get("pitched_deg")
                rec["jaw_pitch_deg"] = (raf.get("jaw") or {}).get("pitch_deg")
            rec["fail"] = [w for w in rs.judge("tilt", rec, base, len(v)) if not w.startswith("slow")]
            if not deg:
                base = rec
            runs.append(rec)
            print(
                f"{name:28s} {deg:+4.0f} rc={rec['rc']} {rec['seconds']:6.1f}s pitched={rec.get('pitched_deg')} "
                f"jaw_pitch={rec.get('jaw_pitch_deg')} blink={rec.get('blink')} jaw={rec.get('jaw')} "
                + ("FAIL " + "; ".join(rec["fail"]) if rec["fail"] else "ok"),
                flush=True,
            )
    out = {
        **run_meta(),
        "command": " ".join(sys.argv),
        "src": str(Path(args.src).resolve()),
        "seconds": round(time.perf_counter() - t_all, 1),
        "failures": sum(bool(r["fail"]) for r in runs if r["pitch"]),
        "runs_nodded": sum(1 for r in runs if r["pitch"]),
        "runs": runs,
    }
    dest = ROOT / "benchmarks" / "results" / f"nod_sweep{'_' + args.tag if args.tag else ''}.json"
    dest.write_text(json.dumps(out, indent=1, default=str))
    print(f"{out['failures']} failures in {out['runs_nodded']} nodded runs, {out['seconds']:.0f}s; wrote {dest}")


if __name__ == "__main__":
    main()

"""``facerig rig`` with and without the side-by-side forks of ``parallel.configure(beside=True)`` (benchmark, not a test).

Each run is a fresh process rigging the head as ``facerig rig HEAD -o OUT.npz --method raf --allow-degenerate``
does (operator cache off), with ``beside`` on or off, the two alternating so both see the same spells of a
drifting machine; wall time and CPU time (user + system, the forked children included) per run, and the
machine's runnable tasks (``/proc/loadavg``) after each. The forks only happen while a core is idle
(:func:`facerig.parallel.spare_cores`); with ``--force`` they happen whatever the load. The rigs are the same
either way (compared bit for bit here too).

Run: ``.venv/bin/python benchmarks/beside_forks.py [HEAD.obj] [--pairs 4] [--force] [--out
benchmarks/results/beside_forks.json]`` (default head: the bundled example).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]

_RUN = """
import sys
from facerig import parallel
parallel.configure(beside={beside})
if {force}:
    parallel.spare_cores = lambda: 1
from facerig.cli import main
sys.exit(main(["rig", sys.argv[1], "-o", sys.argv[2], "--method", "raf", "--allow-degenerate", "-q"]))
"""


def _run(head: Path, out: Path, beside: bool, force: bool) -> dict:
    env = dict(os.environ, FACERIG_CACHE=tempfile.mkdtemp(prefix="facerig_beside_"))
    env.setdefault("OMP_NUM_THREADS", "2")
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    code = _RUN.format(beside=beside, force=force)
    proc = subprocess.run([sys.executable, "-c", code, str(head), str(out)], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip()[-400:])
    with open("/proc/loadavg") as fh:
        runnable = fh.read().split()[3]
    cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "runnable_after": runnable}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("head", nargs="?", default=str(ROOT / "examples" / "ict_head" / "head.obj"))
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--force", action="store_true", help="fork whatever the load (not only while a core is idle)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "beside_forks.json"))
    args = ap.parse_args()
    load0 = [round(x, 2) for x in os.getloadavg()]
    runs: dict[str, list] = {"beside": [], "plain": []}
    with tempfile.TemporaryDirectory() as td:
        outs = {k: Path(td) / f"{k}.npz" for k in runs}
        for _ in range(args.pairs):
            for key in runs:
                r = _run(Path(args.head), outs[key], key == "beside", args.force)
                runs[key].append(r)
                print(f"{key:7s} wall {r['wall_s']:6.2f} s  CPU {r['cpu_s']:6.2f} s  runnable {r['runnable_after']}")
        a, b = np.load(outs["beside"]), np.load(outs["plain"])
        same = all(a[k].tobytes() == b[k].tobytes() for k in a.files if k != "meta")
    summary = {
        k: {
            "median_wall_s": float(np.median([r["wall_s"] for r in v])),
            "median_cpu_s": float(np.median([r["cpu_s"] for r in v])),
        }
        for k, v in runs.items()
    }
    print(f"medians: {summary}; arrays bit-identical: {same}")
    meta = run_meta(head=str(args.head), force=args.force, load_average_before=load0)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "runs": runs, "summary": summary, "identical": same}, indent=1))
    print(f"wrote {args.out}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

"""End-to-end speed and peak memory of ``facerig rig --method raf`` (benchmark, not a test).

Heads: the ICT FaceKit neutral (26,719 vertices, 56 parts) and the same head remeshed to about
60k vertices (``facerig.geometry.remesh``). Each run is a fresh process
(``python -m facerig.cli rig HEAD -o OUT.npz --method raf --allow-degenerate``; the remesher
    leaves a few duplicate triangles in the 60k head), so the wall time includes Python
start-up, imports, reading the OBJ, the proxy, the operators (operator cache disabled via a fresh
``FACERIG_CACHE``), the network and the transfer back, and writing the NPZ. Peak memory is the
child's maximum RSS, its CPU time (user + system, with its forked probe) is ``cpu_s``: on a loaded
machine the CPU time moves far less than the wall time. The per-stage timings come from the
rig's ``meta["raf"]``.

Targets (issue): 26,719 vertices <= 3 s, 60k <= 8 s, peak <= 3 GB on a 2-core CPU.
Results go to ``benchmarks/results/rig_speed.json``; the machine's load average is recorded
because the numbers are only meaningful on an otherwise idle machine.

Run: ``.venv/bin/python benchmarks/bench_rig_speed.py [--repeat 2] [--weights PATH] [--baseline-src DIR]
[--rig-arg=--no-mirror --rig-arg=--proxy-vertices=5000 --out OTHER.json]`` (``--rig-arg``: extra
``facerig rig`` options, e.g. the inference settings compared in BENCHMARKS.md).

This VM's speed drifts by more than small changes of the code. ``--baseline-src OLD/src`` (for
example ``git worktree add /tmp/old COMMIT`` then ``--baseline-src /tmp/old/src``) runs that
checkout's package alternately with this one, so a change is compared within the same spells;
give ``--weights`` too, or each checkout rigs with its own shipped weights.
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


def _heads(tmp: Path) -> list[tuple[str, Path]]:
    from facerig.data.ict import load_ict
    from facerig.geometry.remesh import remesh
    from facerig.io.obj import write_obj

    m = load_ict(progress=False)
    out = []
    p = tmp / "ict_neutral.obj"
    write_obj(p, m.neutral, m.faces)
    out.append(("ICT neutral", p))
    r = remesh(m.neutral, m.faces, 60000, parts=m.parts, seed=0)
    p = tmp / "ict_60k.obj"
    write_obj(p, r.vertices, r.faces)
    out.append(("ICT remeshed ~60k", p))
    return out


def run_once(
    head: Path, out: Path, weights: str | None, threads: int, src: str | None = None, extra: list[str] | None = None
) -> dict:
    """One fresh ``facerig rig`` process; ``src``: run the package from this ``src`` folder instead;
    ``extra``: more ``facerig rig`` options."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = str(Path(src).resolve())
    env["FACERIG_CACHE"] = tempfile.mkdtemp(prefix="facerig_bench_cache_")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(var, str(threads))
    if weights:
        env["FACERIG_RAF_WEIGHTS"] = weights
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu0 = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "facerig.cli",
            "rig",
            str(head),
            "-o",
            str(out),
            "--method",
            "raf",
            "--allow-degenerate",
            *(extra or []),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu0
    if proc.returncode != 0:
        raise RuntimeError(f"rig failed: {proc.stderr.strip()[-500:]}")
    from facerig.io.rig import load_rig

    rig = load_rig(out)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_rss_mb": round(max(peak, before) / 1024, 1),
        "vertices": rig.num_vertices,
        "raf": rig.meta.get("raf"),
        "rig_seconds": rig.meta.get("seconds"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "rig_speed.json"))
    ap.add_argument(
        "--baseline-src",
        default=None,
        help="another checkout's src/ folder (e.g. a `git worktree` of an older commit): its runs "
        "alternate with this code's, so both see the same spells of a drifting machine",
    )
    ap.add_argument(
        "--rig-arg",
        action="append",
        default=[],
        metavar="OPTION",
        help="extra `facerig rig` option for every run (repeat; write as --rig-arg=--no-mirror)",
    )
    args = ap.parse_args()
    load0 = [round(x, 2) for x in os.getloadavg()]
    results = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for name, path in _heads(tmp):
            runs, base = [], []
            for _ in range(args.repeat):
                runs.append(run_once(path, tmp / "rig.npz", args.weights, args.threads, extra=args.rig_arg))
                if args.baseline_src:
                    base.append(
                        run_once(
                            path, tmp / "rig.npz", args.weights, args.threads, args.baseline_src, extra=args.rig_arg
                        )
                    )
            best = min(runs, key=lambda r: r["wall_s"])
            rec = {
                "mesh": name,
                **best,
                "all_wall_s": [r["wall_s"] for r in runs],
                "all_cpu_s": [r["cpu_s"] for r in runs],
            }
            print(
                f"{name:22s} {best['vertices']:7d} v  wall {best['wall_s']:6.2f} s  peak {best['peak_rss_mb']:7.1f} MB  "
                f"stages {best['raf']['timings'] if best['raf'] else ''}",
                flush=True,
            )
            if base:
                walls = [r["wall_s"] for r in base]
                rec["baseline"] = {
                    "src": args.baseline_src,
                    "wall_s": min(walls),
                    "all_wall_s": walls,
                    "median_wall_s": float(np.median(walls)),
                    "all_cpu_s": [r["cpu_s"] for r in base],
                    "median_cpu_s": float(np.median([r["cpu_s"] for r in base])),
                    "timings": min(base, key=lambda r: r["wall_s"])["raf"]["timings"],
                }
                rec["median_wall_s"] = float(np.median(rec["all_wall_s"]))
                rec["median_cpu_s"] = float(np.median(rec["all_cpu_s"]))
                print(
                    f"{'':22s} this code: runs {rec['all_wall_s']} (median {rec['median_wall_s']:.2f} s, "
                    f"CPU {rec['median_cpu_s']:.2f} s); baseline {args.baseline_src}: runs {walls} (median "
                    f"{np.median(walls):.2f} s, CPU {rec['baseline']['median_cpu_s']:.2f} s)",
                    flush=True,
                )
            results.append(rec)
    meta = run_meta(
        threads=args.threads,
        load_average_before=load0,
        rig_args=args.rig_arg,
        note="peak_rss_mb is the maximum over this benchmark's child processes so far",
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())

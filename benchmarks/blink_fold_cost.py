"""CPU cost of the rig's blink completion and fold test, one checkout against another (benchmark, not a test).

Each head is rigged in a fresh process under cProfile (``python -m cProfile -o P -m facerig.cli rig HEAD -o
OUT.npz -q --allow-degenerate``, operator cache off) by each checkout in turn, ``--repeat`` times, and the
cumulative time of the two steps is read from the profile: ``geometry/eyelids.close_blinks`` (the eyelid
step with its blink completion, its ray casts and the check's measure) and ``models/finish.untangle_folds``
(the fold test and smoothing), with the ray cast (``geometry/raycast.first_hits``) inside them. The least of
the repeats is kept per checkout (cProfile adds some per-call cost: the steps' figures compare checkouts, they
are not the plain run's). Heads: the example head and the ICT neutral remeshed to ~60k vertices (as
``bench_rig_speed.py`` makes it). ``fold_test_chunks``: this checkout's ``geometry/untangle.folded_faces`` on
the rig it made, in this process (CPU time, least and median of 5, sizes alternating) with each
``_CHUNK`` (triangles tested at a time; the same result with every size, asserted).

Run: ``.venv/bin/python benchmarks/blink_fold_cost.py --other-src OLD/src [--repeat 3]
[--out benchmarks/results/blink_fold_cost.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]
STEPS = {"close_blinks": "eyelids.py", "untangle_folds": "finish.py", "first_hits": "raycast.py"}


def _profile(head: Path, src: str, tmp: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()), FACERIG_CACHE=tempfile.mkdtemp(prefix="facerig_bf_"))
    prof, out = tmp / "p.out", tmp / "o.npz"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "facerig.cli", "rig", str(head), "-o", str(out)]
    proc = subprocess.run([*cmd, "-q", "--allow-degenerate"], env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"rig of {head} with {src} failed: {proc.stderr.strip()[-400:]}")
    stats = pstats.Stats(str(prof)).stats
    row = {name: 0.0 for name in STEPS}
    for (file, _, func), (_, _, _, cum, _) in stats.items():
        if func in STEPS and file.endswith(STEPS[func]):
            row[func] = max(row[func], cum)  # first_hits: the outermost call's total covers the inner ones
    total = max(cum for (_, _, _, cum, _) in stats.values())
    row["rig_total"] = total
    return {k: round(v, 3) for k, v in row.items()}


def _chunks(rig: Path, sizes=(8192, 4096, 2048, 1024)) -> dict:
    """CPU seconds (least, median of 5) of ``folded_faces`` on the rig's deltas per ``_CHUNK`` size."""
    import time

    import numpy as np

    sys.path.insert(0, str(ROOT / "src"))
    import facerig.geometry.untangle as un

    z = np.load(rig, allow_pickle=True)
    v, f, d = np.asarray(z["neutral"], np.float64), z["faces"], z["deltas"]
    keep = un._CHUNK
    ref = un.folded_faces(v, f, d)
    times: dict = {n: [] for n in sizes}
    try:
        for _ in range(5):
            for n in sizes:
                un._CHUNK = n
                t = time.process_time()
                same = np.array_equal(un.folded_faces(v, f, d), ref)
                times[n].append(time.process_time() - t)
                assert same, n
    finally:
        un._CHUNK = keep
    return {str(n): [round(min(t), 3), round(float(np.median(t)), 3)] for n, t in times.items()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--other-src", required=True, help="the other checkout's src/ folder")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "blink_fold_cost.json"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_rig_speed import _heads

    rows = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        heads = [("example head", ROOT / "examples" / "ict_head" / "head.obj"), _heads(tmp)[1]]
        srcs = {"other": args.other_src, "this": str(ROOT / "src")}
        for name, head in heads:
            runs: dict = {k: [] for k in srcs}
            for _ in range(args.repeat):
                for key, src in srcs.items():  # alternately: both within the same spells of load
                    runs[key].append(_profile(head, src, tmp))
            best = {key: {s: min(r[s] for r in rs) for s in rs[0]} for key, rs in runs.items()}
            chunks = _chunks(tmp / "o.npz")  # the rig this checkout made last
            rows.append({"head": name, **best, "fold_test_chunks": chunks})
            print(name, json.dumps(best), "fold test by chunk", json.dumps(chunks), flush=True)
    Path(args.out).write_text(json.dumps({"meta": run_meta(), "other_src": args.other_src, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

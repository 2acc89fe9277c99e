"""The head check's cost, this checkout against another, alternating (issue #23: at most 1 s).

    .venv/bin/python benchmarks/head_check_speed.py --other-src OLD/src [--repeat 5] [HEAD ...]

Each head (default: the bundled example head and ``FACERIG_DATA/heads/nefertiti_bust.obj``, the
largest public head) is turned to Blender's axes (+Z up, -Y forward) and judged as ``facerig rig``
judges a head the face probe rejects: :func:`facerig.models.raf.orientation.judge_orientation` (the
shape prior and the verdict; the whole check), then the mirror test every other rig runs
(:func:`~facerig.models.raf.orientation.mirror_turned`). Each measurement is a fresh process
(``PYTHONPATH`` = this ``src/`` or ``--other-src``), the two trees alternating so both see the same
load; the time is taken inside the process after reading the mesh. Writes
``benchmarks/results/head_check_speed.json`` (medians, every run, load before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, sys, time, dataclasses
import numpy as np
from facerig.io import read_mesh
from facerig.geometry.frame import orientation_matrix
from facerig.models.raf.orientation import judge_orientation, mirror_turned
mesh = read_mesh(sys.argv[1])
R = orientation_matrix("+z", "-y")
turned = dataclasses.replace(mesh, vertices=np.asarray(mesh.vertices) @ R)
t0 = time.perf_counter()
decision, better, _ = judge_orientation(turned, "+y", "+z", {})
t1 = time.perf_counter()
mirror_turned(mesh, "+y", "+z")
t2 = time.perf_counter()
print(json.dumps({"judge_s": t1 - t0, "mirror_s": t2 - t1, "decision": decision,
                  "better": list(better) if better else None}))
"""


def _run(src: Path, head: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run([sys.executable, "-c", _CHILD, str(head)], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip()[-400:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("heads", nargs="*")
    ap.add_argument("--other-src", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "head_check_speed.json"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from facerig.config import data_root

    heads = [Path(h) for h in args.heads] or [
        ROOT / "examples" / "ict_head" / "head.obj",
        data_root() / "heads" / "nefertiti_bust.obj",
    ]
    load0 = [round(x, 2) for x in os.getloadavg()]
    rows = []
    for head in heads:
        runs: dict[str, list[dict]] = {"this": [], "other": []}
        for _ in range(args.repeat):
            runs["this"].append(_run(ROOT / "src", head))
            runs["other"].append(_run(Path(args.other_src), head))
        row = {"head": head.name}
        for k, rs in runs.items():
            row[k] = {
                "median_judge_s": round(statistics.median(r["judge_s"] for r in rs), 3),
                "median_mirror_s": round(statistics.median(r["mirror_s"] for r in rs), 3),
                "judge_s": [round(r["judge_s"], 3) for r in rs],
                "decision": [rs[0]["decision"], rs[0]["better"]],
            }
        rows.append(row)
        print(
            f"{head.name:28s} judge {row['this']['median_judge_s']:.3f} s (other {row['other']['median_judge_s']:.3f} s)"
            f"  mirror {row['this']['median_mirror_s']:.3f} s  decision {row['this']['decision']}",
            flush=True,
        )
    meta = run_meta(load_average_before=load0, other_src=args.other_src, repeat=args.repeat)
    Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time of the eyelid step (``close_blinks``) of two source trees on the same inputs, alternated.

The network's rig of each public head (``../shared/data/heads``, ``close_eyes=False``) with its
eyeballs made rigid is computed once with this tree; then ``close_blinks`` of this tree and of
``BASE_SRC`` run on those inputs in turn (``--rounds`` rounds, each side in its own process, the
layout found before the clock starts), so load on a shared machine hits both alike.

    python benchmarks/eyelids_step_time.py BASE_SRC  ->  benchmarks/results/eyelids_step_time_s4.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]

_TIMER = """
import json, sys, time
import numpy as np
from facerig.geometry.eyelids import close_blinks
from facerig.geometry.face_parts import find_layout
out = {}
for path in sys.argv[1:]:
    z = np.load(path)
    v, f, d, names = z["v"], z["f"], z["d"], [str(n) for n in z["names"]]
    lay = find_layout(v, f)
    t = time.perf_counter()
    close_blinks(v, f, names, d, layout=lay)
    out[path] = time.perf_counter() - t
print(json.dumps(out))
"""


def main(argv: list[str] | None = None) -> int:
    from facerig.config import data_root
    from facerig.geometry.face_parts import find_layout
    from facerig.geometry.rigid import rigid_part_deltas
    from facerig.io import load_mesh
    from facerig.models.registry import rig_mesh

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base_src")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    paths = {}
    for p in sorted((data_root() / "heads").glob("*.obj")):
        mesh = load_mesh(p, allow_degenerate=True, allow_unreferenced=True)
        v, f = np.asarray(mesh.vertices, np.float64), np.asarray(mesh.faces, np.int64)
        lay = find_layout(v, f)
        if not lay.eyes:
            continue
        rig = rig_mesh(mesh, "raf", close_eyes=False, head_check=False)
        d = np.asarray(rig.deltas, np.float32)
        for part in lay.eyeball_parts:
            d = rigid_part_deltas(v, d, lay.labels == part)
        paths[p.stem] = str(tmp / f"{p.stem}.npz")
        np.savez(paths[p.stem], v=v, f=f, d=d, names=np.array(rig.names))
        print(p.stem, flush=True)
    sides = {"before": str(Path(args.base_src).resolve()), "after": str(ROOT / "src")}
    times: dict = {s: {h: [] for h in paths} for s in sides}
    for _ in range(args.rounds):
        for side, src in sides.items():
            env = {**os.environ, "PYTHONPATH": src}
            res = subprocess.run(
                [sys.executable, "-c", _TIMER, *paths.values()], env=env, capture_output=True, text=True, check=True
            )
            got = json.loads(res.stdout.strip().splitlines()[-1])
            for h, path in paths.items():
                times[side][h].append(got[path])
    rows = {h: {s: round(float(np.median(times[s][h])), 3) for s in sides} | {"rounds": args.rounds} for h in paths}
    for h, r in rows.items():
        print(f"{h:28s} before {r['before']:.3f} s  after {r['after']:.3f} s")
    result = {
        **run_meta(),
        "command": "python benchmarks/eyelids_step_time.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seconds_median": rows,
    }
    (ROOT / "benchmarks" / "results" / "eyelids_step_time_s4.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

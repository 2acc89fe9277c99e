"""Time of the eyelid step (``close_blinks``) and the fold test (``untangle_folds``) of two source
trees on the same inputs, alternated.

The network's rig of each public head (``../shared/data/heads``, ``close_eyes=False``) with its
eyeballs made rigid is computed once with this tree; then ``close_blinks`` of this tree and of
``BASE_SRC`` run on those inputs in turn (``--rounds`` rounds, each side in its own process, the
layout found before the clock starts), so load on a shared machine hits both alike. The fold
step (``facerig.models.finish.untangle_folds`` with ``rig_mesh``'s default floor
``UNTANGLE_TRIGGER``: the folds of every shape it tests found, and smoothed where they cover
that much) is timed on the same deltas (``--folds``).

    python benchmarks/eyelids_step_time.py BASE_SRC [--folds] [--extra MESH ...] [--out X.json]
    ->  benchmarks/results/eyelids_step_time_s4.json by default
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
from facerig.models.finish import UNTANGLE_TRIGGER, untangle_folds
folds = sys.argv[1] == "folds"
out = {}
for path in sys.argv[2:]:
    z = np.load(path)
    v, f, d, names = z["v"], z["f"], z["d"], [str(n) for n in z["names"]]
    lay = find_layout(v, f)
    t = time.perf_counter()
    close_blinks(v, f, names, d, layout=lay)
    out[path] = [time.perf_counter() - t]
    if folds:
        t = time.perf_counter()
        untangle_folds(v, f, d, names, min_area=UNTANGLE_TRIGGER)
        out[path].append(time.perf_counter() - t)
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
    ap.add_argument("--folds", action="store_true", help="time untangle_folds on the same deltas too")
    ap.add_argument("--extra", nargs="*", default=[], help="more meshes (e.g. examples/ict_head/head.obj)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "eyelids_step_time_s4.json"))
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    paths = {}
    for p in [*sorted((data_root() / "heads").glob("*.obj")), *map(Path, args.extra)]:
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
    fold_times: dict = {s: {h: [] for h in paths} for s in sides}
    for _ in range(args.rounds):
        for side, src in sides.items():
            env = {**os.environ, "PYTHONPATH": src}
            res = subprocess.run(
                [sys.executable, "-c", _TIMER, "folds" if args.folds else "-", *paths.values()],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            got = json.loads(res.stdout.strip().splitlines()[-1])
            for h, path in paths.items():
                times[side][h].append(got[path][0])
                fold_times[side][h].extend(got[path][1:])
    rows = {h: {s: round(float(np.median(times[s][h])), 3) for s in sides} | {"rounds": args.rounds} for h in paths}
    for h, r in rows.items():
        print(f"{h:28s} before {r['before']:.3f} s  after {r['after']:.3f} s")
    fold_rows = {h: {s: round(float(np.median(fold_times[s][h])), 4) for s in sides} for h in paths if args.folds}
    for h, r in fold_rows.items():
        print(f"{h:28s} folds before {r['before']:.4f} s  after {r['after']:.4f} s")
    result = {
        **run_meta(),
        "command": "python benchmarks/eyelids_step_time.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seconds_median": rows,
        **({"fold_seconds_median": fold_rows} if args.folds else {}),
    }
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

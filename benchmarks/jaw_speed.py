"""The jaw step's cost (``open_jaw``: find_mouth + the mouth measure) before / after a change.

Rigs the example head and a 60k remesh of the ICT neutral once (the network's deltas are what
``open_jaw`` gets inside ``facerig rig``), then times ``open_jaw`` alternately with two source
trees (``--old-src``: e.g. ``git archive <rev> src | tar -x -C /tmp/old`` then ``/tmp/old/src``;
the new one is this checkout's ``src``), ``--rounds`` times each, in fresh processes, and checks
that both give the same report and deltas.

    FACERIG_DATA=/work/shared/data PYTHONPATH=src python benchmarks/jaw_speed.py --old-src /tmp/old/src

Results: ``benchmarks/results/jaw_speed.json`` (date, machine, load average, min / median seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]

TIME = r"""
import pickle, sys, time, numpy as np
from facerig.geometry.jaw import open_jaw
v, f, names, d, lay = pickle.load(open(sys.argv[1], "rb"))
open_jaw(v, f, names, d, layout=lay)  # imports, caches
ts = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter(); out, rep = open_jaw(v, f, names, d, layout=lay); ts.append(time.perf_counter() - t)
pickle.dump((ts, rep, np.asarray(out)), open(sys.argv[2], "wb"))
"""


def capture(mesh, path: Path) -> None:
    """Rig ``mesh`` and keep the inputs of its open_jaw call in ``path``."""
    import numpy as np

    import facerig.geometry.jaw as jaw
    from facerig.models.registry import rig_mesh

    orig, got = jaw.open_jaw, {}

    def spy(v, f, names, deltas, layout=None, **kw):
        got["args"] = (np.array(v), np.array(f), list(names), np.array(deltas), layout)
        return orig(v, f, names, deltas, layout=layout, **kw)

    jaw.open_jaw = spy
    try:
        rig_mesh(mesh, method="raf")
    finally:
        jaw.open_jaw = orig
    path.write_bytes(pickle.dumps(got["args"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old-src", required=True, help="src folder of the version to compare against")
    ap.add_argument("--rounds", type=int, default=3, help="alternations old / new")
    ap.add_argument("--repeat", type=int, default=3, help="open_jaw calls per process")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/jaw_speed.json"))
    a = ap.parse_args()

    import numpy as np

    from facerig.data.ict import load_ict
    from facerig.geometry.remesh import remesh
    from facerig.io import read_mesh
    from facerig.io.mesh import Mesh

    tmp = Path(tempfile.mkdtemp(prefix="jaw_speed_"))
    ict = load_ict()
    r60 = remesh(ict.neutral, ict.faces, 60000, parts=ict.parts, seed=0)
    heads = {
        "example (27k)": read_mesh(ROOT / "examples/ict_head/head.obj"),
        "ICT remesh (60k)": Mesh(r60.vertices, r60.faces),
    }
    results = {}
    for name, mesh in heads.items():
        inp = tmp / f"{len(results)}.pkl"
        capture(mesh, inp)
        runs: dict[str, list] = {"old": [], "new": []}
        last = {}
        for _ in range(a.rounds):
            for tag, src in (("old", a.old_src), ("new", str(ROOT / "src"))):
                out = tmp / f"{tag}.pkl"
                env = dict(os.environ, PYTHONPATH=src)
                subprocess.run([sys.executable, "-c", TIME, str(inp), str(out), str(a.repeat)], env=env, check=True)
                ts, rep, deltas = pickle.loads(out.read_bytes())
                runs[tag] += ts
                last[tag] = (rep, deltas)
        same = last["old"][0] == last["new"][0] and np.array_equal(last["old"][1], last["new"][1])
        results[name] = {
            "vertices": int(len(mesh.vertices)),
            **{f"{t}_s": {"min": round(min(x), 4), "median": round(float(np.median(x)), 4)} for t, x in runs.items()},
            "speedup_median": round(float(np.median(runs["old"]) / np.median(runs["new"])), 2),
            "same_report_and_deltas": bool(same),
            "report": last["new"][0],
        }
        print(name, json.dumps(results[name]))
    doc = {
        **run_meta(),
        "old_src": a.old_src,
        "rounds": a.rounds,
        "repeat": a.repeat,
        "heads": results,
    }
    Path(a.out).write_text(json.dumps(doc, indent=1) + "\n")
    print("wrote", a.out)


if __name__ == "__main__":
    main()

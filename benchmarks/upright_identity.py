"""Which upright heads' rigs a change moves: every head rigged in one process per checkout, deltas hashed.

The example head, every public head (``FACERIG_DATA/heads``) and every validation head of a set's
``index.json`` are rigged as ``facerig eval`` and ``facerig rig`` rig them
(:func:`facerig.models.registry.rig_mesh`, default options) by this checkout and by ``--other-src``
(a copy of another commit's ``src/``: ``git archive COMMIT src | tar -x -C /tmp/old``), each in
one process (a rig is a pure function of its head: lighter than ``rig_identity.py``'s fresh process
per rig). Recorded per head: whether the deltas are the same bit for bit, the largest difference
relative to the largest delta, and the eyelid step's report (``raf.eyelids``) of both.

    nice python benchmarks/upright_identity.py --other-src /tmp/old/src [--evalset /work/evalset] [--tag T]

writes ``benchmarks/results/upright_identity[_T].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]

_WORKER = r"""
import hashlib, json, sys, warnings
import numpy as np
warnings.filterwarnings("ignore")
from facerig.io import read_mesh
from facerig.models.registry import rig_mesh
heads, out = json.loads(sys.argv[1]), sys.argv[2]
for h in heads:
    rig = rig_mesh(read_mesh(h))
    np.save(out + "/" + hashlib.sha1(h.encode()).hexdigest() + ".npy", rig.deltas)
    print(json.dumps({"head": h, "eyelids": rig.meta.get("raf", {}).get("eyelids")}), flush=True)
"""


def _rig_all(src: Path, heads: list[str], out: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src.resolve()))
    proc = subprocess.run(
        [sys.executable, "-c", _WORKER, json.dumps(heads), str(out)], env=env, capture_output=True, text=True
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr[-800:])
    return {r["head"]: r["eyelids"] for r in map(json.loads, proc.stdout.splitlines())}


def main() -> None:
    import hashlib

    import numpy as np

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--other-src", required=True)
    ap.add_argument("--evalset", default=None)
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from facerig.config import data_root

    heads = [str(ROOT / "examples" / "ict_head" / "head.obj")]
    heads += [str(p) for p in sorted((data_root() / "heads").glob("*.obj"))]
    if args.evalset:
        index = json.loads((Path(args.evalset) / "index.json").read_text())
        heads += [str(Path(args.evalset) / h["mesh"]) for h in index["heads"]]
    tmp = Path(tempfile.mkdtemp(prefix="facerig_upright_"))
    (tmp / "this").mkdir()
    (tmp / "other").mkdir()
    this = _rig_all(ROOT / "src", heads, tmp / "this")
    other = _rig_all(Path(args.other_src), heads, tmp / "other")
    rows = []
    for h in heads:
        key = hashlib.sha1(h.encode()).hexdigest() + ".npy"
        a, b = np.load(tmp / "this" / key), np.load(tmp / "other" / key)
        diff = float(np.abs(a.astype(np.float64) - b).max())
        row = {
            "head": h,
            "identical": a.tobytes() == b.tobytes(),
            "relative_diff": diff / max(float(np.abs(b).max()), 1e-30),
        }
        if not row["identical"]:
            row.update(eyelids_this=this[h], eyelids_other=other[h])
        rows.append(row)
        print(
            f"{Path(h).stem:32s} {'identical' if row['identical'] else 'DIFFERS ' + format(row['relative_diff'], '.3g')}"
        )
    out = {
        **run_meta(),
        "command": " ".join(sys.argv),
        "other_src": str(Path(args.other_src).resolve()),
        "heads": len(rows),
        "identical": sum(r["identical"] for r in rows),
        "rows": rows,
    }
    dest = ROOT / "benchmarks" / "results" / f"upright_identity{'_' + args.tag if args.tag else ''}.json"
    dest.write_text(json.dumps(out, indent=1))
    print(f"{out['identical']} of {out['heads']} heads identical; wrote {dest}")


if __name__ == "__main__":
    main()

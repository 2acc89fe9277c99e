"""Motion far from the face, before and after a change of the rig's falloff, on the public heads.

    git archive BASE src | tar -x -C /tmp/before        # the code to compare with (e.g. b12ebe0)
    python benchmarks/far_motion.py --before-src /tmp/before/src [--evalset DIR] [--out JSON]

For each head of ``$FACERIG_DATA/heads`` and each of the two source trees (``--before-src`` and
this checkout's ``src``): ``facerig rig HEAD.obj -o X.npz`` (defaults) in a fresh process, then
``facerig check X.npz --head HEAD.obj --json`` (this checkout's check for both): far-motion's
worst value and status, and the whole check's pass / fail counts. On the Nefertiti bust, the
largest motion (file units, ~mm) in jawOpen and in any shape of the vertices more than half an
eye distance below the chin and of the base's cut (the lowest 10 units): the chin is the
underside of the profile at y = -74 and the eye distance 65.5 units (``heads/SOURCES.md``), read
off the mesh by hand. With ``--evalset``, ``facerig eval --method raf --no-check`` runs on the set
with each tree and its per-group errors (active, mean, relative, scale-invariant, q95 mm,
interpenetration) are kept side by side.
Writes ``benchmarks/results/far_motion.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
NEFERTITI = {"chin_y": -74.0, "eye_distance": 65.5, "base_band": 10.0}
EVAL_KEYS = ("active_mm", "mean_mm", "relative", "si_active_mm", "q95_mm", "interp")


def _run(src: Path, args: list[str], timeout: float = 900) -> tuple[int, str, float]:
    env = dict(os.environ, PYTHONPATH=str(src))
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "facerig.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    return p.returncode, (p.stdout + p.stderr)[-2000:], time.perf_counter() - t0


def _nefertiti(rig_path: Path) -> dict:
    z = np.load(rig_path, allow_pickle=False)
    names = [str(n) for n in z["names"]]
    v, m = np.asarray(z["neutral"], np.float64), np.linalg.norm(z["deltas"], axis=2)  # (K, V)
    below = v[:, 1] < NEFERTITI["chin_y"] - 0.5 * NEFERTITI["eye_distance"]
    base = v[:, 1] < v[:, 1].min() + NEFERTITI["base_band"]
    j = names.index("jawOpen")
    return {
        "vertices_below_chin": int(below.sum()),
        "vertices_base": int(base.sum()),
        "jawOpen_max": round(float(m[j].max()), 3),
        "jawOpen_max_below_chin": round(float(m[j, below].max()), 3),
        "any_shape_max_below_chin": round(float(m[:, below].max()), 3),
        "any_shape_below_chin_worst": names[int(m[:, below].max(1).argmax())],
        "jawOpen_max_base": round(float(m[j, base].max()), 3),
        "any_shape_max_base": round(float(m[:, base].max()), 3),
    }


def _heads(data: Path, trees: dict[str, Path], work: Path) -> list[dict]:
    rows = []
    for head in sorted((data / "heads").glob("*.obj")):
        row: dict = {"head": head.stem}
        for tag, src in trees.items():
            out = work / tag / f"{head.stem}.npz"
            out.parent.mkdir(parents=True, exist_ok=True)
            rc, log, sec = _run(src, ["rig", str(head), "-o", str(out)])
            r: dict = {"rig_exit": rc, "rig_seconds": round(sec, 2)}
            if rc == 0:
                js = out.with_suffix(".check.json")
                crc, clog, _ = _run(SRC, ["check", str(out), "--head", str(head), "--json", str(js)])
                res = json.loads(js.read_text())
                fm = res["summary"]["far_motion"]
                r.update(
                    far_motion=None if fm["worst"] is None else round(float(fm["worst"]), 4),
                    far_motion_shape=fm["worst_shape"],
                    far_motion_status=fm["status"],
                    far_motion_note=fm.get("note", ""),
                    checks_failed=sorted(k for k, s in res["summary"].items() if s["status"] == "fail"),
                )
                meta = json.loads(str(np.load(out, allow_pickle=False)["meta"]))
                r["falloff"] = meta.get("falloff")
                if head.stem == "nefertiti_bust":
                    r["nefertiti"] = _nefertiti(out)
            else:
                r["error"] = log.strip().splitlines()[-1] if log.strip() else ""
            row[tag] = r
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def _eval(evalset: str, trees: dict[str, Path], work: Path) -> dict:
    out = {}
    for tag, src in trees.items():
        js = work / f"eval_{tag}.json"
        rc, log, sec = _run(src, ["eval", "--method", "raf", "--set", evalset, "--no-check", "--json", str(js)], 3600)
        if rc != 0:
            raise SystemExit(f"facerig eval failed with {trees[tag]}: {log.strip().splitlines()[-1:]}")
        groups = json.loads(js.read_text())["groups"]
        out[tag] = {
            "seconds": round(sec, 1),
            "groups": {g: {k: round(float(d[k]), 5) for k in EVAL_KEYS if k in d} for g, d in groups.items()},
        }
        print(json.dumps({tag: out[tag]}), flush=True)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before-src", required=True, help="src/ folder of the code to compare with")
    p.add_argument("--evalset", default=None, help="also run facerig eval on this validation set")
    p.add_argument("--out", default=str(HERE / "results" / "far_motion.json"))
    a = p.parse_args(argv)
    data = Path(os.environ.get("FACERIG_DATA", HERE.parents[1] / "shared" / "data"))
    trees = {"before": Path(a.before_src).resolve(), "after": SRC}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = _heads(data, trees, work)
        ev = _eval(a.evalset, trees, work) if a.evalset else None
    result = {
        "meta": {
            **run_meta(),
            "before_src": str(trees["before"]),
            "minutes": round((time.time() - t0) / 60, 1),
            "nefertiti": NEFERTITI,
        },
        "heads": rows,
        "eval": ev,
    }
    Path(a.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

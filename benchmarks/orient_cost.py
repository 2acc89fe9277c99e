"""What the head locator's axes search (``head_crop.body_axes``) costs ``--auto-orient`` and refusals, before
and after a change, alternating in one run, with the results compared.

Two worker processes, one per checkout (``--before``: a git revision of this repository, its ``src``
extracted to a temporary folder; after: this checkout's ``src``), rig the same meshes by turns (the
first of the pair alternates from mesh to mesh and round to round) as ``facerig rig`` does
(``rig_mesh``, ``raf``, default options, ``parallel.configure`` as the CLI):

- ``ict_head_auto`` / ``kangaroo_auto``: plain heads (``examples/ict_head``, ``weboji_kangaroo``) with
  ``auto_orient=True``;
- ``sphere_refused``: an icosphere (2,562 vertices), refused; ``ict_blender_refused``: the example head in
  Blender's axes without flags, refused naming its axes;
- ``body_blender_auto`` / ``body_blender_refused``: MakeHuman hm08's body (:func:`facerig.data.bodies.makehuman_body`)
  in Blender's axes (z up, -y forward) with ``auto_orient=True``, and without flags (refused naming them);
- ``body_auto`` / ``body``: the same body upright, with ``auto_orient=True`` and with the default axes.

Per mesh and side: the seconds of each round (the whole ``rig_mesh`` call, and ``body_axes`` alone on the
mesh, timed after it where ``rig_mesh`` calls it: ``--auto-orient`` and refusals), and the outcome: the refusal's message, or the rig's
axes, ``head_on_body`` and its deltas, compared between the sides (``max_abs_delta_diff``: 0 when the
rigs are identical).

    nice python benchmarks/orient_cost.py [--before 7035b06] [--rounds 1] [--only a,b]

writes ``benchmarks/results/orient_cost.json``.
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

from _meta import write_result

ROOT = Path(__file__).resolve().parents[1]
CASES = (
    "ict_head_auto",
    "kangaroo_auto",
    "sphere_refused",
    "ict_blender_refused",
    "body_blender_auto",
    "body_blender_refused",
    "body_auto",
    "body",
)

WORKER = r"""
import json, sys, time
import numpy as np
from pathlib import Path
from facerig import parallel
from facerig.config import data_root
from facerig.errors import FacerigError
from facerig.io import read_mesh
from facerig.io.mesh import Mesh
from facerig.models.registry import rig_mesh

parallel.configure(fork=True, keep_freed_memory=True)  # as the CLI
root, out = Path(sys.argv[1]), Path(sys.argv[2])

def blender(v):
    return np.stack([v[:, 0], -v[:, 2], v[:, 1]], 1)  # z up, -y forward

def mesh(case):
    import trimesh
    from facerig.data.bodies import makehuman_body

    if case.startswith("ict"):
        m = read_mesh(root / "examples" / "ict_head" / "head.obj")
        if "blender" in case:
            m = Mesh(vertices=blender(np.asarray(m.vertices)), faces=m.faces)
        return m, {}
    if case.startswith("kangaroo"):
        return read_mesh(data_root() / "heads" / "weboji_kangaroo.obj"), {}
    if case.startswith("sphere"):
        s = trimesh.creation.icosphere(4)
        return Mesh(vertices=np.asarray(s.vertices), faces=np.asarray(s.faces)), {}
    v, f, _ = makehuman_body(data_root() / "makehuman" / "3dobjs" / "base.obj")
    return (Mesh(vertices=blender(v), faces=f), {}) if "blender" in case else (Mesh(vertices=v, faces=f), {})

cache = {}
for line in sys.stdin:
    case, rnd = line.split()
    if case not in cache:
        cache[case] = mesh(case)
    m, opts = cache[case]
    t0 = time.perf_counter()
    row = {}
    with np.errstate(all="ignore"):
        try:
            rig = rig_mesh(m, "raf", auto_orient=case.endswith("_auto"), **opts)
        except FacerigError as e:
            rig, row["refused"] = None, str(e)
    row["seconds"] = round(time.perf_counter() - t0, 3)
    if rig is not None:
        o = rig.meta.get("orientation") or {}
        row.update(up=rig.meta["input"]["up"], forward=rig.meta["input"]["forward"],
                   head_on_body=rig.meta.get("head_on_body"), body=o.get("body"),
                   orientation_seconds=o.get("seconds"))
        path = out / f"{case}_{rnd}.npy"
        np.save(path, rig.deltas)
        row["deltas"] = str(path)
    from facerig.models.raf.head_crop import body_axes

    if not case.endswith(("_auto", "_refused")):  # rig_mesh does not search: not timed
        print(json.dumps(row), flush=True)
        continue
    with np.errstate(all="ignore"):
        t0 = time.perf_counter()
        axes = body_axes(m, {})
    row["body_axes_seconds"] = round(time.perf_counter() - t0, 3)
    row["body_axes"] = list(axes) if axes else None
    print(json.dumps(row), flush=True)
"""


def _worker(src: Path, out: Path) -> subprocess.Popen:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(ROOT), str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _ask(p: subprocess.Popen, case: str, rnd: int) -> dict:
    p.stdin.write(f"{case} {rnd}\n")
    p.stdin.flush()
    line = p.stdout.readline()
    if not line:
        raise SystemExit(f"worker died on {case}")
    return json.loads(line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="7035b06", help="git revision of the 'before' side")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated cases (default all)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "orient_cost.json"))
    args = ap.parse_args(argv)
    cases = [c for c in CASES if not args.only or c in args.only.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before_src = tmp / "before"
        before_src.mkdir()
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", args.before, "src"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(before_src)], input=tar.stdout, check=True)
        sides = {
            "before": _worker(before_src / "src", tmp / "out_before"),
            "after": _worker(ROOT / "src", tmp / "out_after"),
        }
        for p in sides.values():  # weights loaded, first network pass made (both at once): not timed
            p.stdin.write("sphere_refused -1\n")
            p.stdin.flush()
        for p in sides.values():
            p.stdout.readline()
        rows = {c: {"before": [], "after": []} for c in cases}
        k = 0
        for rnd in range(args.rounds):
            for case in cases:
                order = ("before", "after") if k % 2 == 0 else ("after", "before")
                k += 1
                for side in order:
                    rows[case][side].append(_ask(sides[side], case, rnd))
                b, a = rows[case]["before"][-1], rows[case]["after"][-1]
                print(f"{case:22s} round {rnd}: before {b['seconds']:6.2f} s  after {a['seconds']:6.2f} s", flush=True)
        for p in sides.values():
            p.stdin.close()
            p.wait()
        result_rows = []
        for case in cases:
            b, a = rows[case]["before"], rows[case]["after"]
            row = {
                "mesh": case,
                "before_seconds": [r["seconds"] for r in b],
                "after_seconds": [r["seconds"] for r in a],
                "before_min": min(r["seconds"] for r in b),
                "after_min": min(r["seconds"] for r in a),
            }
            if "body_axes_seconds" in a[-1]:
                row["body_axes_before_seconds"] = [r["body_axes_seconds"] for r in b]
                row["body_axes_after_seconds"] = [r["body_axes_seconds"] for r in a]
                row["body_axes"] = a[-1]["body_axes"]
            same = True
            for rb, ra in zip(b, a):
                for key in ("refused", "up", "forward", "head_on_body", "body", "body_axes"):
                    same &= rb.get(key) == ra.get(key)
            row["outcome"] = {
                k: a[-1].get(k) for k in ("refused", "up", "forward", "head_on_body", "body") if k in a[-1]
            }
            if "deltas" in a[-1] and "deltas" in b[-1]:
                diffs = [float(np.abs(np.load(rb["deltas"]) - np.load(ra["deltas"])).max()) for rb, ra in zip(b, a)]
                row["max_abs_delta_diff"] = max(diffs)
                same &= max(diffs) == 0.0
            row["identical"] = bool(same)
            result_rows.append(row)
            search = (
                f"body_axes {min(row['body_axes_before_seconds']):5.2f} / {min(row['body_axes_after_seconds']):5.2f} s"
                if "body_axes" in row
                else " " * 25
            )
            print(
                f"{case:22s} before {row['before_min']:6.2f} s  after {row['after_min']:6.2f} s  {search}  "
                f"identical {row['identical']}  "
                + (row["outcome"].get("refused", "")[:90] or f"{row['outcome']['up']} {row['outcome']['forward']}")
            )
    write_result(
        "orient_cost",
        "",
        {
            "before": args.before,
            "rounds": args.rounds,
            "rows": result_rows,
        },
        argv,
        out=args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

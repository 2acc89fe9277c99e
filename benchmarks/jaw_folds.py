"""Folds of facerig's rigs, per head and shape (issue 24; benchmark, not a test).

Each head (every ``heads/*.obj``, and with ``--set`` a validation set's heads, whose ``external``
group holds the two external rigs' heads)
is rigged as ``facerig rig`` does (``rig_mesh(..., head_check=False)``, ``-O key=value`` options on
top). Per head: ``facerig check``'s ``folds`` (skin area a shape turns over / S^2, mouthClose posed
on jawOpen; worst shape and jawOpen's / mouthClose's own), the folded area each shape makes on the
head's largest piece in face sizes^2 (what :func:`facerig.models.finish.untangle_folds` compares
with its trigger; shapes of :data:`~facerig.models.finish.UNTANGLE_SKIP` left out), and the rig's
``falloff.cut_lengthened`` / ``untangled`` meta. ``--before FILE``: a run of the same script on
other code (e.g. ``PYTHONPATH=<old tree>/src``), whose per-head values are carried into this
file's rows as ``before``.

Run: ``FACERIG_DATA=... python benchmarks/jaw_folds.py [--set /work/evalset] [--no-public]
[--heads a,b] [-O key=value] [--before FILE] --tag TAG`` -> ``benchmarks/results/jaw_folds_TAG.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import write_result  # noqa: E402


def _heads(public: bool, evalset: str | None) -> list[tuple[str, str, Path]]:
    """(name, group, obj path) of the heads to rig."""
    from facerig.config import data_root

    data = Path(data_root())
    out = []
    if public:
        out += [(p.stem, "public", p) for p in sorted((data / "heads").glob("*.obj"))]
    if evalset:
        index = json.loads((Path(evalset) / "index.json").read_text())
        for h in index["heads"]:
            out.append((h["id"], h.get("group", ""), Path(evalset) / h["mesh"]))
    return out


def run_head(path: Path, options: dict) -> dict:
    from facerig.eval.check import check_rig
    from facerig.geometry.untangle import folded_area
    from facerig.io import load_mesh
    from facerig.models.finish import UNTANGLE_SKIP
    from facerig.models.registry import rig_mesh

    mesh = load_mesh(path, allow_degenerate=True, allow_unreferenced=True)
    t0 = time.perf_counter()
    rig = rig_mesh(mesh, "raf", **{"head_check": False, **options})
    seconds = time.perf_counter() - t0
    v, f = np.asarray(rig.neutral, np.float64), np.asarray(rig.faces, np.int64)
    res = check_rig(rig, checks=("folds",))
    by = {r["shape"]: r["value"] for r in res["rows"] if r["shape"]}
    s = res["summary"]["folds"]
    fade = rig.meta.get("falloff") or {}
    size = fade.get("face_size") or 0.2 * float(np.linalg.norm(v.max(0) - v.min(0)))
    names = list(rig.names)
    keep = [k for k, n in enumerate(names) if n not in UNTANGLE_SKIP and np.abs(rig.deltas[k]).max() > 0]
    area = folded_area(v, f, rig.deltas[keep], where="largest") / size**2
    order = np.argsort(-area)
    return {
        "vertices": len(v),
        "rig_seconds": round(seconds, 2),
        "check_folds": None if s["worst"] is None else round(s["worst"], 4),
        "check_folds_shape": s["worst_shape"],
        "check_folds_jawOpen": None if by.get("jawOpen") is None else round(by["jawOpen"], 4),
        "check_folds_mouthClose": None if by.get("mouthClose") is None else round(by["mouthClose"], 4),
        "fold_area_max": round(float(area.max()), 5) if len(area) else 0.0,
        "fold_area_shape": names[keep[order[0]]] if len(area) else None,
        "fold_area_top": {names[keep[k]]: round(float(area[k]), 5) for k in order[:5] if area[k] > 0},
        "face_size": size,
        "cut_lengthened": fade.get("cut_lengthened"),
        "untangled": rig.meta.get("untangled"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default=None, help="also this validation set's heads")
    ap.add_argument("--no-public", action="store_true", help="leave out heads/*.obj and the external rigs")
    ap.add_argument("--heads", default=None, help="comma-separated head names (default all)")
    ap.add_argument("-O", dest="opts", action="append", default=[], help="rig_mesh option key=value")
    ap.add_argument("--before", default=None, help="a run of this script whose values are carried in as 'before'")
    ap.add_argument("--tag", default="run")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    options: dict = {}
    for kv in a.opts:
        k, val = kv.split("=", 1)
        options[k] = {"true": True, "false": False, "none": None}.get(val.lower(), val)
    before = {}
    if a.before:
        before = {r["head"]: r for r in json.loads(Path(a.before).read_text())["heads"]}
    heads = _heads(not a.no_public, a.set)
    if a.heads:
        want = set(a.heads.split(","))
        heads = [h for h in heads if h[0] in want]
    rows = []
    for name, group, path in heads:
        r = {"head": name, "group": group, **run_head(path, options)}
        b = before.get(name)
        if b:
            r["before"] = {
                k: b[k]
                for k in (
                    "check_folds",
                    "check_folds_shape",
                    "check_folds_jawOpen",
                    "check_folds_mouthClose",
                    "fold_area_max",
                    "fold_area_shape",
                )
            }
        rows.append(r)
        was = f" (before {b['check_folds']} {b['check_folds_shape']}, area {b['fold_area_max']})" if b else ""
        print(
            f"{name:28s} {group:13s} check folds {r['check_folds']} {r['check_folds_shape']}{was}  area "
            f"{r['fold_area_max']} {r['fold_area_shape']}  cut {r['cut_lengthened']}  untangled {r['untangled']}",
            flush=True,
        )
    write_result("jaw_folds", a.tag, {"options": options, "heads": rows}, argv, a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How far blinks close the eyes: the measures behind the eyelid step's thresholds.

For every blink of (a) the validation set's ground truth, (b) facerig's network on the validation
heads and (c) facerig's network on the heads rigged by other authors (``out_of_family.py``'s
heads), per eye with an eyeball: ``open_after`` (share of the neutral opening still seen from the
front, :func:`facerig.geometry.eyelids.seen_share`) and ``progress`` (how far the lids go along
:func:`facerig.geometry.eyelids.blink_deltas`, :func:`facerig.geometry.eyelids.lid_progress`).
The network's blinks are taken before the eyelid step (``close_eyes=False``).

    python benchmarks/eyelids.py EVALSET  ->  benchmarks/results/eyelids.json
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def measures(vertices, faces, names, deltas) -> list[dict]:
    """open_after / progress of each eyeBlink whose eye is an eyeball."""
    from facerig.geometry.eyelids import blink_deltas, eye_opening, lid_progress, seen_share
    from facerig.geometry.face_parts import find_layout

    v, f = np.asarray(vertices, np.float64), np.asarray(faces, np.int64)
    lay = find_layout(v, f)
    skin = np.flatnonzero(lay.face_part == lay.skin)
    movable = ~np.isin(lay.labels, lay.eyeball_parts)
    out = []
    for eye in lay.eyes:
        name = "eyeBlink" + eye.side
        if eye.kind != "eyeball" or name not in names:
            continue
        op = eye_opening(v, f, skin, eye.faces)
        if op is None or op.seen <= 0:
            continue
        d = deltas[names.index(name)]
        closing, w = blink_deltas(v, movable, op)
        out.append(
            {
                "shape": name,
                "open_after": round(seen_share(v + d, f, skin, eye.faces, op.center, op.radius) / op.seen, 3),
                "progress": round(lid_progress(d, closing, w), 3),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    from facerig.config import data_root
    from facerig.eval.harness import load_index
    from facerig.io import load_mesh
    from facerig.io.mesh import Mesh
    from facerig.models.registry import rig_mesh
    from out_of_family import author_heads

    evalset = Path((argv if argv is not None else sys.argv[1:])[0])
    rows = {"validation_gt": [], "validation_network": [], "authors_network": []}
    for h in load_index(evalset)["heads"]:
        if h["group"] == "external":
            continue
        mesh = load_mesh(evalset / h["mesh"], allow_degenerate=True, allow_unreferenced=True)
        with np.load(evalset / h["gt"]) as z:
            gt_names, gt = [str(n) for n in z["names"]], z["deltas"]
        rows["validation_gt"] += [{"head": h["id"], **m} for m in measures(mesh.vertices, mesh.faces, gt_names, gt)]
        rig = rig_mesh(mesh, "raf", close_eyes=False, head_check=False)
        rows["validation_network"] += [
            {"head": h["id"], **m} for m in measures(mesh.vertices, mesh.faces, rig.names, rig.deltas)
        ]
        print(h["id"], flush=True)
    for h in author_heads(data_root()):
        rig = rig_mesh(
            Mesh(vertices=h["vertices"], faces=np.asarray(h["faces"], np.int64)),
            "raf",
            close_eyes=False,
            head_check=False,
        )
        rows["authors_network"] += [
            {"head": h["name"], **m} for m in measures(h["vertices"], h["faces"], rig.names, rig.deltas)
        ]
        print(h["name"], flush=True)
    summary = {
        k: {
            "open_after_max": max(r["open_after"] for r in v),
            "progress_min": min(r["progress"] for r in v),
            "progress_max": max(r["progress"] for r in v),
        }
        for k, v in rows.items()
        if v
    }
    print(json.dumps(summary, indent=1))
    result = {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "summary": summary,
        "rows": rows,
    }
    (ROOT / "benchmarks" / "results" / "eyelids.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

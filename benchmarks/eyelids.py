"""How far blinks close the eyes: the measures behind the eyelid step's ``CLOSED``.

For every blink of (a) the validation set's ground truth, (b) facerig's network on the validation
heads, (c) the authors' own rigs of ``out_of_family.py``'s heads and (d) facerig's network on
those heads, per eye with an eyeball: ``open_check`` (share of the neutral opening still seen from
the front, as ``facerig check`` counts it) and ``open_between`` (seen between the lids along the
eye's own front, what :func:`facerig.geometry.eyelids.close_blinks` compares with ``CLOSED``),
and whether the eyelid step completes the blink. The network's blinks are taken before the eyelid
step (``close_eyes=False``).

    python benchmarks/eyelids.py EVALSET  ->  benchmarks/results/eyelids.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def measures(vertices, faces, names, deltas) -> list[dict]:
    """Per eyeBlink whose eye is an eyeball: ``open_check`` (share of the neutral opening still seen
    from the front, eyeball before skin, as ``facerig check`` counts it), ``open_between`` (seen
    between the lids, along the eye's own front: what :func:`facerig.geometry.eyelids.close_blinks`
    compares with ``CLOSED``), ``yaw_deg``, and ``completed`` / ``open_completed`` where the eyelid
    step would complete the blink."""
    from facerig.geometry.eyelids import _yaw_matrix, close_blinks, eye_opening, eye_yaw, eyeball_sphere, seen_share
    from facerig.geometry.face_parts import find_layout

    v, f = np.asarray(vertices, np.float64), np.asarray(faces, np.int64)
    lay = find_layout(v, f)
    skin = np.flatnonzero(lay.face_part == lay.skin)
    _, report = close_blinks(v, f, list(names), np.asarray(deltas, np.float32), layout=lay)
    out = []
    for eye in lay.eyes:
        name = "eyeBlink" + eye.side
        if eye.kind != "eyeball" or name not in names or "open_after" not in report.get(name, {}):
            continue
        op = eye_opening(v, f, skin, eye.faces)
        if op is None or op.seen <= 0:
            continue
        d = np.asarray(deltas[list(names).index(name)], np.float64)
        c, r = sphere = eyeball_sphere(v[np.unique(f[eye.faces])])
        yaw, seen0 = eye_yaw(v, f, skin, eye.faces, sphere, 1.0 if eye.side == "Left" else -1.0)
        R = _yaw_matrix(yaw)
        between = seen_share((v + d - c) @ R.T + c, f, skin, eye.faces, c, r, through_skin=False) / seen0
        rep = report[name]
        row = {
            "shape": name,
            "open_check": round(seen_share(v + d, f, skin, eye.faces, op.center, op.radius) / op.seen, 3),
            "open_between": round(between, 3),
            "yaw_deg": rep["yaw_deg"],
        }
        if rep.get("completed"):
            row.update(completed=True, open_completed=rep["open_after"])
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    from facerig.config import data_root
    from facerig.eval.harness import load_index
    from facerig.io import load_mesh
    from facerig.io.mesh import Mesh
    from facerig.models.registry import rig_mesh
    from out_of_family import author_heads

    evalset = Path((argv if argv is not None else sys.argv[1:])[0])
    rows = {"validation_gt": [], "validation_network": [], "authors_gt": [], "authors_network": []}
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
        rows["authors_gt"] += [
            {"head": h["name"], **m} for m in measures(h["vertices"], h["faces"], h["names"], h["deltas"])
        ]
        rows["authors_network"] += [
            {"head": h["name"], **m} for m in measures(h["vertices"], h["faces"], rig.names, rig.deltas)
        ]
        print(h["name"], flush=True)
    summary = {
        k: {
            "open_check_max": max(r["open_check"] for r in v),
            "open_between_max": max(r["open_between"] for r in v),
            "completed": sum(bool(r.get("completed")) for r in v),
            "eyes": len(v),
        }
        for k, v in rows.items()
        if v
    }
    print(json.dumps(summary, indent=1))
    result = {
        **run_meta(),
        "summary": summary,
        "rows": rows,
    }
    (ROOT / "benchmarks" / "results" / "eyelids.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

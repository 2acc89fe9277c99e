"""Why a head nodded up lost its blink: the network's eyeBlink on the example head at several nods.

The example head is pitched as ``nod_sweep.py`` pitches it (about its bounding box's centre,
negative = face up) and rigged by ``raf`` without the eyelid step (``close_eyes=False``: the network's
blink, eyeballs not yet made rigid) and with it (the default). Per nod and eye, in the head's own
upright frame: the direction of the upper lid's motion (the mean delta of the blink's most moving
vertices, those above the eyeball's centre moving > half its largest motion), as degrees into the
face (``into_face_deg``: below the head's own down direction toward -Z); and, along the rig frame's
+Z as the eyelid step looks, the share of the neutral opening where the eyeball is seen through the
network's lids (``shows``, what ``facerig check`` counts) and between them only (``between_lids``:
:func:`facerig.geometry.eyelids.seen_share` with ``through_skin=False``: lids met inside the
eyeball count as closed); then the eyelid step's report and ``facerig check``'s eyelid_closure of
the rig turned back upright.

    nice python benchmarks/nod_blink.py [--pitches 0,-10,-15,-20,15] [--tag T]

writes ``benchmarks/results/nod_blink[_T].json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pitches", default="0,-10,-15,-20,15")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from facerig.arkit import ARKIT52
    from facerig.eval.check import check_rig
    from facerig.geometry.eyelids import eyeball_sphere, seen_share
    from facerig.geometry.face_parts import find_layout
    from facerig.geometry.frame import pitch_matrix
    from facerig.io import read_mesh
    from facerig.io.mesh import Mesh
    from facerig.io.rig import Rig
    from facerig.models.raf.method import rig_raf
    from facerig.models.registry import rig_mesh

    mesh = read_mesh(ROOT / "examples" / "ict_head" / "head.obj")
    v0 = np.asarray(mesh.vertices, np.float64)
    f = np.asarray(mesh.faces, np.int64)
    c0 = 0.5 * (v0.min(0) + v0.max(0))
    runs, t_all = [], time.perf_counter()
    for deg in [float(x) for x in args.pitches.split(",")]:
        P = pitch_matrix(deg)
        v = (v0 - c0) @ P.T + c0
        net = rig_raf(Mesh(vertices=v, faces=f), close_eyes=False)
        rig = rig_mesh(Mesh(vertices=v, faces=f))
        lay = find_layout(v, f)
        skin = np.flatnonzero(lay.face_part == lay.skin)
        rec = {"pitch": deg, "eyes": {}}
        for eye in lay.eyes:
            name = "eyeBlink" + eye.side
            d = np.asarray(net.deltas[ARKIT52.index(name)], np.float64)
            c, r = eyeball_sphere(v[np.unique(f[eye.faces])])
            up = d @ P  # the head's own upright frame
            mag = np.linalg.norm(up, axis=1)
            lid = (mag > 0.5 * mag.max()) & (((v - c) @ P)[:, 1] > 0)
            m = up[lid].mean(0)
            s0 = seen_share(v, f, skin, eye.faces, c, r)
            rec["eyes"][name] = {
                "into_face_deg": round(float(np.degrees(np.arctan2(-m[2], -m[1]))), 1),
                "shows": round(seen_share(v + d, f, skin, eye.faces, c, r) / s0, 3),
                "between_lids": round(seen_share(v + d, f, skin, eye.faces, c, r, through_skin=False) / s0, 3),
                "eyelid_step": rig.meta["raf"].get("eyelids", {}).get(name),
            }
        upright = Rig(names=rig.names, deltas=rig.deltas @ P.astype(np.float32), neutral=v0, faces=f)
        rows = check_rig(upright, checks=("eyelid_closure",))["rows"]
        rec["check"] = {r["shape"]: [round(r["value"], 3), r["status"]] for r in rows}
        runs.append(rec)
        print(json.dumps(rec), flush=True)
    out = {**run_meta(), "command": " ".join(sys.argv), "seconds": round(time.perf_counter() - t_all, 1), "runs": runs}
    dest = ROOT / "benchmarks" / "results" / f"nod_blink{'_' + args.tag if args.tag else ''}.json"
    dest.write_text(json.dumps(out, indent=1))
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()

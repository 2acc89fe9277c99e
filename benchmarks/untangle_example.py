"""Does the fold smoothing move the eye shapes of an in-family head away from its ground truth?

The bundled example head (``examples/ict_head/head.obj``) is an ICT FaceKit identity, so ICT's own
shapes for it are its ground truth (:meth:`facerig.data.families.ICTFamily.deltas_for`). For each eye
shape, this rigs the head once without :func:`facerig.models.finish.untangle_folds`, applies the
step to that rig with the eye shapes allowed (as before they were left alone), and reports the
triangles each version turns over (:func:`facerig.geometry.untangle.folded_faces`) and its active
error against ICT's (:func:`facerig.eval.metrics.shape_errors`, mm).

    FACERIG_DATA=... python benchmarks/untangle_example.py [--out benchmarks/results/untangle_example.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]
EYE_SHAPES = ("eyeLookDownLeft", "eyeLookDownRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeWideLeft")


def main() -> int:
    from facerig.data.families import ICTFamily
    from facerig.eval.metrics import shape_errors
    from facerig.geometry.untangle import folded_faces
    from facerig.io import read_mesh
    from facerig.models import finish
    from facerig.models.registry import rig_mesh

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "untangle_example.json"))
    args = ap.parse_args()
    mesh = read_mesh(ROOT / "examples" / "ict_head" / "head.obj")
    v, f = np.asarray(mesh.vertices, np.float64), np.asarray(mesh.faces, np.int64)
    fam = ICTFamily()
    gt, gnames = fam.deltas_for(v), [str(n) for n in fam.names]
    rig = rig_mesh(mesh, "raf", untangle=False)
    names = [str(n) for n in rig.names]
    skip = finish.UNTANGLE_SKIP
    try:  # the step as it was before the eye shapes were left alone
        finish.UNTANGLE_SKIP = ("eyeBlinkLeft", "eyeBlinkRight", "mouthClose")
        face_size = (rig.meta.get("falloff") or {}).get("face_size")  # as rig_mesh passes it
        smoothed, info = finish.untangle_folds(v, f, rig.deltas, names, face_size)
    finally:
        finish.UNTANGLE_SKIP = skip
    rows = {}
    for n in EYE_SHAPES:
        g = gt[gnames.index(n)][None]
        k = names.index(n)
        row = {"folded_ground_truth": int(folded_faces(v, f, g).sum())}
        for tag, d in (("rig", rig.deltas[k]), ("smoothed", smoothed[k])):
            row[f"folded_{tag}"] = int(folded_faces(v, f, d[None]).sum())
            row[f"active_mm_{tag}"] = round(float(shape_errors(d[None], g, fam.mm_per_unit)["active_mm"][0]), 4)
        rows[n] = row
        print(n, row)
    out = {**run_meta(), "head": "examples/ict_head/head.obj", "untangle_info": info, "shapes": rows}
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

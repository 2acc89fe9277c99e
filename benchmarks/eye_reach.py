"""How far from their own eye the ground-truth eye shapes move, in face sizes: the ground for
:data:`facerig.models.eye_falloff.EYE_FALLOFF`.

    .venv/bin/python benchmarks/eye_reach.py EVALSET_DIR [--out JSON]

For each head of the validation set (ICT FaceKit and MakeHuman ground truth), the eyes and the
face size are found from the ground-truth rig's own blink and lip shapes exactly as
:func:`facerig.models.finish.face_falloff` finds them; for each eye shape (eyeBlink*, eyeSquint*,
eyeWide*, eyeLook*) the distance from its own eye (the eye nearest the shape's motion) of every
vertex moving more than ``REL`` of the shape's largest motion, and the share of the motion beyond
several radii. Writes ``benchmarks/results/eye_reach.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _meta import run_meta

RELS = (0.01, 0.05)
RADII = (0.6, 0.8, 1.0, 1.2, 1.5)


def main(argv=None) -> int:
    from facerig.models.eye_falloff import eye_shape_names, own_eye
    from facerig.models.finish import FACE_SHAPES
    from facerig.models.raf.probe import landmarks_from_motion

    ap = argparse.ArgumentParser()
    ap.add_argument("evalset")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "eye_reach.json"))
    a = ap.parse_args(argv)
    root = Path(a.evalset)
    rows = []
    for h in json.loads((root / "index.json").read_text())["heads"]:
        z = np.load(root / h["gt"])
        names, d, v = [str(n) for n in z["names"]], z["deltas"].astype(np.float64), z["neutral"].astype(np.float64)
        lm = landmarks_from_motion(v, np.stack([d[names.index(n)] for n in FACE_SHAPES]))
        size = float(np.sqrt(lm["iod"] * lm["eye_mouth"]))
        eyes = np.stack([lm["eye_left"], lm["eye_right"]])
        for n in eye_shape_names(names):
            m = np.linalg.norm(d[names.index(n)], axis=1)
            if m.max() <= 0:
                continue
            r = np.linalg.norm(v - eyes[own_eye(v, m, eyes)], axis=1) / size
            row = {"head": h["id"], "group": h["group"], "shape": n, "face_size": round(size, 5)}
            for rel in RELS:
                row[f"reach_{rel}"] = round(float(r[m > rel * m.max()].max()), 4)
            for rad in RADII:
                row[f"share_beyond_{rad}"] = round(float(m[r > rad].sum() / m.sum()), 6)
            rows.append(row)
    summary = {}
    for key in [f"reach_{rel}" for rel in RELS]:
        x = np.array([r[key] for r in rows])
        summary[key] = {q: round(float(np.quantile(x, float(q))), 4) for q in ("0.5", "0.9", "0.99", "1.0")}
    for rad in RADII:
        x = np.array([r[f"share_beyond_{rad}"] for r in rows])
        summary[f"share_beyond_{rad}"] = {"mean": round(float(x.mean()), 6), "max": round(float(x.max()), 6)}
    out = {"meta": run_meta(), "summary": summary, "rows": rows}
    Path(a.out).write_text(json.dumps(out, indent=1))
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

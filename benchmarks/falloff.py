"""Where the validation rigs move, in face sizes from the face: the ground for
:data:`facerig.models.finish.FALLOFF`.

    .venv/bin/python benchmarks/falloff.py EVALSET_DIR [--out JSON]

For each head of the validation set (``facerig data make-eval``), the face centre and size are
found from the ground-truth rig's own blink and lip shapes exactly as
:func:`facerig.models.finish.face_falloff` finds them from a rigged head; then, over all shapes,
the share of the motion (sum of |delta|) on vertices beyond r face sizes, and the largest
|delta| there (mm), for several r; the same for vertices more than b face sizes below the centre
and more than z behind it (the heads are +Y up, face toward +Z), with the largest motion there
relative to the shape's own largest (``rel``: what ``facerig check``'s far-motion reads), and
how far below the centre the mesh ends (``lowest_below``: a face crop ends at the chin), the
ground for :data:`facerig.models.finish.FALLOFF_FRAME`. The Rocketbox heads' author rigs in
``$FACERIG_DATA/heads`` are measured too. Writes ``benchmarks/results/falloff.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _meta import run_meta

RADII = (2.5, 3.0, 3.5, 4.0, 5.0)
BELOW = (2.0, 2.5, 3.0, 3.5)
BEHIND = (1.5, 2.0, 2.5, 2.75, 3.0)


def _beyond(row: dict, key: str, far: np.ndarray, m: np.ndarray, mm: float) -> None:
    """Share, largest mm and largest relative motion of m (K, V) on the vertices ``far`` (V,)."""
    top = np.maximum(m.max(1), 1e-30)
    row[f"share_{key}"] = round(float(m[:, far].sum() / max(m.sum(), 1e-30)), 6)
    row[f"max_mm_{key}"] = round(float(m[:, far].max() * mm) if far.any() else 0.0, 4)
    row[f"rel_{key}"] = round(float((m[:, far].max(1) / top).max()) if far.any() else 0.0, 4)


def _rigs(root: Path):
    """(id, names, deltas (K,V,3), neutral (V,3), mm_per_unit) of the validation set's and the
    Rocketbox heads' author rigs."""
    import os

    from facerig.io import load_mesh

    for h in json.loads((root / "index.json").read_text())["heads"]:
        z = np.load(root / h["gt"])
        names, d, v = [str(n) for n in z["names"]], z["deltas"].astype(np.float64), z["neutral"].astype(np.float64)
        yield h["id"], names, d, v, float(z["mm_per_unit"])
    data = Path(os.environ.get("FACERIG_DATA", "/work/shared/data")) / "heads"
    for p in sorted(data.glob("rocketbox_*.blendshapes.npz")):
        z = np.load(p)
        mesh = load_mesh(p.with_name(p.name.replace(".blendshapes.npz", ".obj")), allow_degenerate=True)
        names, d = [str(n) for n in z["names"]], z["deltas"].astype(np.float64)
        yield p.name.split(".")[0], names, d, np.asarray(mesh.vertices, np.float64), float(z["mm_per_unit"])


def main(argv=None) -> int:
    from facerig.models.finish import FALLOFF, FALLOFF_FRAME, face_falloff

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("evalset")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "falloff.json"))
    a = p.parse_args(argv)
    root = Path(a.evalset)
    rows = []
    for hid, names, d, v, mm in _rigs(root):
        _w, info = face_falloff(v, d, names, inner=1e9, outer=2e9)
        if not info:
            continue
        rel = (v - np.array(info["center"])) / info["face_size"]
        r = np.linalg.norm(rel, axis=1)
        m = np.linalg.norm(d, axis=2)  # (K, V)
        row = {"head": hid, "face_size_mm": round(info["face_size"] * mm, 1), "max_r": round(float(r.max()), 2)}
        row["lowest_below"] = round(float(-rel[:, 1].min()), 2)  # where the mesh ends below the face centre
        for R in RADII:
            far = r > R
            row[f"share_beyond_{R}"] = round(float(m[:, far].sum() / max(m.sum(), 1e-30)), 6)
            row[f"max_mm_beyond_{R}"] = round(float(m[:, far].max() * mm) if far.any() else 0.0, 4)
        for b in BELOW:
            _beyond(row, f"below_{b}", -rel[:, 1] > b, m, mm)
        for z in BEHIND:
            _beyond(row, f"behind_{z}", -rel[:, 2] > z, m, mm)
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = {
        "meta": {
            **run_meta(),
            "falloff": FALLOFF,
            "falloff_frame": FALLOFF_FRAME,
        },
        "rows": rows,
    }
    Path(a.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

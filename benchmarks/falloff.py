"""Where the validation rigs move, in face sizes from the face: the ground for
:data:`facerig.models.finish.FALLOFF`.

    .venv/bin/python benchmarks/falloff.py EVALSET_DIR [--out JSON]

For each head of the validation set (``facerig data make-eval``), the face centre and size are
found from the ground-truth rig's own blink and lip shapes exactly as
:func:`facerig.models.finish.face_falloff` finds them from a rigged head; then, over all shapes,
the share of the motion (sum of |delta|) on vertices beyond r face sizes, and the largest
|delta| there (mm), for several r. Writes ``benchmarks/results/falloff.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

RADII = (2.5, 3.0, 3.5, 4.0, 5.0)


def main(argv=None) -> int:
    from facerig.models.finish import FALLOFF, face_falloff

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("evalset")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "falloff.json"))
    a = p.parse_args(argv)
    root = Path(a.evalset)
    rows = []
    for h in json.loads((root / "index.json").read_text())["heads"]:
        z = np.load(root / h["gt"])
        names, d, v = [str(n) for n in z["names"]], z["deltas"].astype(np.float64), z["neutral"].astype(np.float64)
        _w, info = face_falloff(v, d, names, inner=1e9, outer=2e9)
        if not info:
            continue
        r = np.linalg.norm(v - np.array(info["center"]), axis=1) / info["face_size"]
        m = np.linalg.norm(d, axis=2)  # (K, V)
        mm = float(z["mm_per_unit"])
        row = {"head": h["id"], "face_size_mm": round(info["face_size"] * mm, 1), "max_r": round(float(r.max()), 2)}
        for R in RADII:
            far = r > R
            row[f"share_beyond_{R}"] = round(float(m[:, far].sum() / max(m.sum(), 1e-30)), 6)
            row[f"max_mm_beyond_{R}"] = round(float(m[:, far].max() * mm) if far.any() else 0.0, 4)
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": platform.platform(),
            "falloff": FALLOFF,
        },
        "rows": rows,
    }
    Path(a.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

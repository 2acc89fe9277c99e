"""Why facerig's own rigs of the public heads fail ``facerig check`` (issue 24): figures behind the
diagnosis in BENCHMARKS.md, "Rig check", "Failing heads".

    python benchmarks/check_fails.py --rigs DIR [--renders OUTDIR] [--tag T]
        -> results/check_fails[_T].json

``DIR/NAME.npz``: ``facerig rig HEAD.obj -o DIR/NAME.npz --no-head-check --allow-degenerate
--allow-unreferenced`` of ``heads/NAME.obj`` (as for ``check_calibration.py heads``).

- weboji_lama, mirror: how far the brow shapes move the left brow, the right brow (the skin under
  the forelock) and the forelock (vertices with no mirror image), facerig's rig against the
  author's (``heads/weboji_lama.blendshapes.npz``);
- nefertiti_bust, side: where the blinks move the head: share of the squared motion on the wrong
  side, and of the vertices moving more than 15 % of the shape's largest motion;
- robot_expressive_head: the layout the check reads (eyes, eye distance S, mouth parts).

``--renders OUTDIR``: PNGs of neutral and the shapes (faces moving > 15 % of the shape's largest
motion red, motion x3), front view.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from _meta import run_meta
from facerig.eval.check import _read_rig
from facerig.geometry.face_parts import find_layout

DATA = Path(os.environ.get("FACERIG_DATA", "/work/shared/data"))
OUT = Path(__file__).resolve().parent / "results"
RENDERS = {
    "weboji_lama": ["browOuterUpLeft", "browOuterUpRight", "browDownLeft", "browDownRight"],
    "nefertiti_bust": ["eyeBlinkLeft", "eyeBlinkRight"],
}


def _mirror_index(v: np.ndarray, mid_x: float, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(V,) index of each vertex's mirror image and (V,) bool: one lies within ``tol``."""
    from scipy.spatial import cKDTree

    r = v.copy()
    r[:, 0] = 2 * mid_x - r[:, 0]
    d, j = cKDTree(v).query(r)
    return j, d < tol


def _lama(rigs: Path) -> dict:
    out = {}
    ours = _read_rig(rigs / "weboji_lama.npz")
    author = _read_rig(DATA / "heads" / "weboji_lama.blendshapes.npz", DATA / "heads" / "weboji_lama.obj")
    v = ours.neutral.astype(np.float64)
    lay = find_layout(v, np.asarray(ours.faces))
    j, has = _mirror_index(v, lay.mid_x, 0.02 * lay.scale)
    d_ours = dict(zip(ours.names, ours.deltas.astype(np.float64)))
    # the left brow: where facerig's browOuterUpLeft moves most; the right brow: its mirror image
    left = int(np.argmax(np.linalg.norm(d_ours["browOuterUpLeft"], axis=1)))
    right = int(j[left])
    out["brow_vertices"] = {"left": left, "right": right, "right_has_mirror": bool(has[left])}
    out["forelock_vertices"] = int((~has).sum())
    for who, rig in (("facerig", ours), ("author", author)):
        d = dict(zip(rig.names, rig.deltas.astype(np.float64)))
        rows = {}
        for n in ("browDownLeft", "browDownRight", "browOuterUpLeft", "browOuterUpRight"):
            if n not in d:
                continue
            m = np.linalg.norm(d[n], axis=1) / lay.scale
            rows[n] = {
                "left_brow": round(float(m[left]), 4),
                "right_brow": round(float(m[right]), 4),
                "forelock_max": round(float(m[~has].max()), 4),
                "max": round(float(m.max()), 4),
            }
        out[who] = rows  # motions in eye distances S
    return out


def _nefertiti(rigs: Path) -> dict:
    rig = _read_rig(rigs / "nefertiti_bust.npz")
    v = rig.neutral.astype(np.float64)
    lay = find_layout(v, np.asarray(rig.faces))
    d = dict(zip(rig.names, rig.deltas.astype(np.float64)))
    out = {"eyes_found": len(lay.eyes), "vertices": len(v)}
    for n in ("eyeBlinkLeft", "eyeBlinkRight", "eyeSquintLeft", "mouthSmileLeft"):
        m2 = (d[n] ** 2).sum(1)
        sign = 1.0 if "Left" in n else -1.0
        x = sign * (v[:, 0] - lay.mid_x)
        m = np.sqrt(m2)
        out[n] = {
            "own_side_share": round(float(m2[x > 0].sum() / m2.sum()), 4),
            "share_of_vertices_moving_over_15pct_of_max": round(float((m > 0.15 * m.max()).mean()), 4),
        }
    return out


def _robot() -> dict:
    from facerig.io import load_mesh

    m = load_mesh(DATA / "heads" / "robot_expressive_head.obj", allow_degenerate=True, allow_unreferenced=True)
    v = np.asarray(m.vertices, np.float64)
    lay = find_layout(v, np.asarray(m.faces))
    return {
        "vertices": len(v),
        "distinct_positions": int(len(np.unique(v, axis=0))),
        "eyes": [e.kind for e in lay.eyes],
        "eye_distance_S": lay.scale,
        "mouth_parts": lay.mouth_parts,
    }


def _renders(rigs: Path, folder: Path) -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from facerig.render.png import write_png
    from untangle_renders import _render

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, shapes in RENDERS.items():
        rig = _read_rig(rigs / f"{name}.npz")
        v0, f = rig.neutral.astype(np.float64), np.asarray(rig.faces)
        d = dict(zip(rig.names, rig.deltas.astype(np.float64)))
        ims = [_render(v0, f, np.zeros(len(f), bool), np.array([0.0, 0.25, 1.0]), 320)]
        for n in shapes:
            m = np.linalg.norm(d[n], axis=1)
            ims.append(_render(v0 + 3 * d[n], f, m[f].max(1) > 0.15 * m.max(), np.array([0.0, 0.25, 1.0]), 320))
        p = folder / f"{name}.png"
        write_png(p, np.concatenate(ims, 1))
        written.append(str(p))
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rigs", required=True, help="folder of facerig rigs NAME.npz of heads/NAME.obj")
    ap.add_argument("--renders", default=None, help="folder for PNG renders (neutral, then each shape)")
    ap.add_argument("--tag", default="")
    args = ap.parse_args(argv)
    rigs = Path(args.rigs)
    out = {
        "what": "why facerig's rigs of the public heads fail facerig check (issue 24)",
        **run_meta(),
        "rigs": str(rigs),
        "weboji_lama_mirror": _lama(rigs),
        "nefertiti_bust_side": _nefertiti(rigs),
        "robot_expressive_head_layout": _robot(),
    }
    if args.renders:
        out["renders"] = _renders(rigs, Path(args.renders))
    path = OUT / (f"check_fails_{args.tag}.json" if args.tag else "check_fails.json")
    path.write_text(json.dumps(out, indent=1))
    print(
        json.dumps({k: out[k] for k in ("weboji_lama_mirror", "nefertiti_bust_side", "robot_expressive_head_layout")})
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Why smiles read low on some heads (issue 26): how far each head's own shapes move, and whether reading a zoomed
image (test-time scale augmentation) helps.

1. Amplitude: for the goal heads of ``facerig eval --task invert-image`` (ICT and MakeHuman held-out, Rocketbox
   male, Weboji boy and human) and the Rocketbox female (a training head), the largest vertex motion of
   mouthSmileLeft, eyeBlinkLeft and jawOpen at weight 1, in mm and, in the image plane, as a share of the face box
   (the renders frame the face box at 55-80 % of the 96 px image for the goal images).
2. Zoom test-time augmentation, on training identities only (``SPLITS["calib"]``: weight MAE on 500 renders and
   goal-style images of 18 calibration heads, uncalibrated readings with the mirror): each image read at zoom
   0.85 / 1 / 1.15 / 1.3 about its centre, and averages of those readings; and shift jitter: the image and its
   copies moved by 3 px left / right / up / down (5 readings) averaged.

Writes ``benchmarks/results/image_inversion_smile_amplitude.json`` (date, machine).

Run: ``FACERIG_DATA=... nice .venv/bin/python benchmarks/image_inversion_smile_amplitude.py``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from _meta import run_meta
from facerig.arkit import ARKIT52
from facerig.io.atomic import write_text_atomic

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
SHAPES = ("mouthSmileLeft", "eyeBlinkLeft", "jawOpen")
ZOOMS = (0.85, 1.0, 1.15, 1.3)
COMBOS = ((1.0, 1.15), (1.0, 1.15, 1.3), (0.85, 1.0, 1.15))
SHIFTS = ((0, 0), (3, 0), (-3, 0), (0, 3), (0, -3))


def amplitudes() -> dict:
    from facerig.data import renders
    from image_inversion_response import goal_heads

    heads = goal_heads() + renders.author_heads("rocketbox_female_adult_01", names=("rocketbox_female_adult_01",))
    out = {}
    for h in heads:
        box = h.face_box()[1]
        row = {}
        for s in SHAPES:
            k = ARKIT52.index(s)
            if not h.present[k]:
                continue
            d = h.deltas[k].astype(np.float64)
            row[s] = {
                "max_mm": round(float(np.linalg.norm(d, axis=1).max() * h.mm_per_unit), 1),
                "image_plane_pct_of_face_box": round(float(100 * np.linalg.norm(d[:, :2], axis=1).max() / box), 1),
            }
        out[h.name] = row
    return out


def zoomed(a: np.ndarray, z: float) -> np.ndarray:
    """(N, S, S[, C]) uint8 images zoomed by ``z`` about their centre, same size (black outside)."""
    from scipy.ndimage import zoom as ndzoom

    S = a.shape[1]
    out = np.zeros_like(a)
    f = (z, z) + ((1,) if a.ndim == 4 else ())
    for i in range(len(a)):
        b = np.clip(ndzoom(a[i].astype(np.float32), f, order=1), 0, 255).astype(np.uint8)
        T = b.shape[0]
        if T >= S:
            o = (T - S) // 2
            out[i] = b[o : o + S, o : o + S]
        else:
            o = (S - T) // 2
            out[i, o : o + T, o : o + T] = b
    return out


def shifted(a: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """(N, S, S[, C]) images moved by ``dx`` columns and ``dy`` rows (black where nothing moves in)."""
    out = np.zeros_like(a)
    S = a.shape[1]
    ys, yd = (slice(0, S - dy), slice(dy, S)) if dy >= 0 else (slice(-dy, S), slice(0, S + dy))
    xs, xd = (slice(0, S - dx), slice(dx, S)) if dx >= 0 else (slice(-dx, S), slice(0, S + dx))
    out[:, yd, xd] = a[:, ys, xs]
    return out


def goal_values(W: np.ndarray, goals: list[str]) -> dict:
    """Goal -> passing images of ``W`` rows (neutral: every weight <= 0.3; else the shapes' min >= 0.5)."""
    from facerig.eval.image_inversion import GOALS

    out = {}
    for g, shapes in GOALS.items():
        rows = [i for i, x in enumerate(goals) if x == g]
        w = W[rows]
        if g == "neutral":
            ok = w.max(1) <= 0.3
        else:
            ok = w[:, [ARKIT52.index(s) for s in shapes]].min(1) >= 0.5
        out[g] = f"{int(ok.sum())}/{len(rows)}"
    return out


def zoom_tta(images: int = 500, goal_heads_per_family: int = 6) -> dict:
    from facerig.eval.image_inversion import goal_images, predict
    from facerig.models.image_inversion.weights import model_from_weights
    from facerig.train.image_inversion import dataset_heads, make_dataset

    model = model_from_weights()
    d = dict(np.load(make_dataset("calib", 1.0, size=model.config.size)))
    rng = np.random.default_rng(0)
    sub = np.sort(rng.choice(np.flatnonzero(d["is_head"]), images, replace=False))
    ds = {k: (v[sub] if k in ("rgb", "normals", "mask", "weights", "head", "is_head") else v) for k, v in d.items()}
    makes = dataset_heads("calib", 1.0)
    fams: dict[str, list[int]] = {}
    for h, name in enumerate(d["head_names"]):
        fams.setdefault(str(name).split("_calib_")[0].split("_warp")[0], []).append(h)
    pick = [h for hs in fams.values() for h in hs[:goal_heads_per_family]]
    gi = goal_images([makes[h][0]() for h in pick], size=model.config.size)
    gi["gram"] = np.zeros((1, 52, 52), np.float32)
    gi["head"] = np.zeros(len(gi["weights"]), np.int64)
    reads = {}
    out: dict = {"images": images, "goal_heads": [str(d["head_names"][h]) for h in pick], "zoom": {}, "average": {}}
    for z in ZOOMS:
        g2 = {**gi, **{k: zoomed(gi[k], z) for k in ("rgb", "normals", "mask")}}
        d2 = {**ds, **{k: zoomed(ds[k], z) for k in ("rgb", "normals", "mask")}}
        for mod in ("both", "rgb"):
            Wg = predict(model, g2, mod, calibrate=False)[0]
            Wd = predict(model, d2, mod, calibrate=False)[0]
            reads[(z, mod)] = (Wg, Wd)
            out["zoom"].setdefault(f"{z:g}", {})[mod] = {
                "weight_mae": round(float(np.abs(Wd - ds["weights"]).mean()), 5),
                "goals": goal_values(Wg, gi["goals"]),
            }
            print(z, mod, out["zoom"][f"{z:g}"][mod], flush=True)
    for mod in ("both", "rgb"):
        Wg, Wd = [], []
        for dx, dy in SHIFTS:
            g2 = {**gi, **{k: shifted(gi[k], dx, dy) for k in ("rgb", "normals", "mask")}}
            d2 = {**ds, **{k: shifted(ds[k], dx, dy) for k in ("rgb", "normals", "mask")}}
            Wg.append(predict(model, g2, mod, calibrate=False)[0])
            Wd.append(predict(model, d2, mod, calibrate=False)[0])
        out.setdefault("shift_jitter_3px", {})[mod] = {
            "weight_mae": round(float(np.abs(np.mean(Wd, 0) - ds["weights"]).mean()), 5),
            "goals": goal_values(np.mean(Wg, 0), gi["goals"]),
        }
        print("shift", mod, out["shift_jitter_3px"][mod], flush=True)
    for combo in COMBOS:
        key = "+".join(f"{z:g}" for z in combo)
        for mod in ("both", "rgb"):
            Wg = np.mean([reads[(z, mod)][0] for z in combo], 0)
            Wd = np.mean([reads[(z, mod)][1] for z in combo], 0)
            out["average"].setdefault(key, {})[mod] = {
                "weight_mae": round(float(np.abs(Wd - ds["weights"]).mean()), 5),
                "goals": goal_values(Wg, gi["goals"]),
            }
            print(key, mod, out["average"][key][mod], flush=True)
    return out


def main() -> None:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(RESULTS / "image_inversion_smile_amplitude.json"))
    ap.add_argument("--no-zoom", action="store_true", help="amplitudes only")
    a = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    res = {**run_meta(threads=1), "amplitude": amplitudes()}
    for name, row in res["amplitude"].items():
        print(name, row)
    if not a.no_zoom:
        res["zoom_tta_calib"] = zoom_tta()
    res["seconds"] = round(time.time() - t0, 1)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(a.out, json.dumps(res, indent=1))


if __name__ == "__main__":
    main()

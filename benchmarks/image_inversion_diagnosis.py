"""Why the first image inversion weights did not read expressions (issue 26): cheap measurements.

- ``eyes``: how many pixels a full blink / smile / jawOpen moves the face at 96 px, at the far
  (35 % face box), goal (55 %) and near (95 %) framings: the largest vertex displacement of the
  shape divided by the face box, times the face's share of the image.
- ``data``: how often blinks, smiles and jawOpen are large in the cached training set, and the
  share of near-zero target weights (what a plain L1 learns to answer).
- ``features``: the share of each branch's 256 features that vary over held-out images (standard
  deviation over 256 images > 1e-3: a feature that does not vary tells the MLP nothing), and their
  mean spread, for each weights file given (default: the shipped one).

Writes ``benchmarks/results/image_inversion_diagnosis.json`` (date, machine).

Run: ``FACERIG_DATA=... nice .venv/bin/python benchmarks/image_inversion_diagnosis.py [--weights A.npz B.npz]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from _meta import run_meta
from facerig.arkit import ARKIT52
from facerig.io.atomic import write_text_atomic

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
SHAPES = ("eyeBlinkLeft", "mouthSmileLeft", "jawOpen")


def eyes(size: int = 96) -> dict:
    from facerig.data import renders
    from facerig.data.families import get_family
    from facerig.data.generator import SampleConfig, generate_sample

    cfg = SampleConfig(split="eval", p_units=0.0, p_remove_parts=0.0, p_reframe=0.0, p_warp=0.0, p_remesh=0.0)
    heads = [
        renders.head_from_sample(generate_sample(get_family(f), 0, cfg), f"{f}_eval_0") for f in ("ict", "makehuman")
    ]
    heads += renders.author_heads("rocketbox_male*")
    out = {}
    for h in heads:
        _, box = h.face_box()
        row = {}
        for n in SHAPES:
            disp = float(np.linalg.norm(h.deltas[ARKIT52.index(n)], axis=1).max()) / box
            row[n] = {f"px_at_face_{int(f * 100)}pct": round(disp * f * size, 1) for f in (0.35, 0.55, 0.95)}
        out[h.name] = row
    return out


def data_stats(path: Path) -> dict:
    d = np.load(path)
    W = d["weights"][d["is_head"]]
    out = {
        "dataset": path.name,
        "images": int(len(W)),
        "share_of_weights_below_0.05": round(float((W < 0.05).mean()), 3),
    }
    for n in ("jawOpen", "eyeBlinkLeft", "mouthSmileLeft"):
        w = W[:, ARKIT52.index(n)]
        out[n] = {
            "share_above_0.5": round(float((w > 0.5).mean()), 3),
            "share_above_0.8": round(float((w > 0.8).mean()), 3),
        }
    both = lambda a, b: float(((W[:, ARKIT52.index(a)] > 0.5) & (W[:, ARKIT52.index(b)] > 0.5)).mean())  # noqa: E731
    out["both_blinks_above_0.5"] = round(both("eyeBlinkLeft", "eyeBlinkRight"), 3)
    out["both_smiles_above_0.5"] = round(both("mouthSmileLeft", "mouthSmileRight"), 3)
    out["median_guess_mae"] = round(float(np.abs(W - np.median(W, 0)).mean()), 4)
    return out


def features(weights: list[str | None], eval_path: Path, n: int = 256) -> dict:
    from facerig.models.image_inversion.weights import model_from_weights
    from facerig.train.image_inversion import augment_batch

    d = np.load(eval_path)
    idx = np.flatnonzero(d["is_head"])[:n]
    x, nm, _, _ = augment_batch(
        d["rgb"][idx], d["normals"][idx], d["mask"][idx], d["weights"][idx], np.random.default_rng(0),
        p_mirror=0.0, p_rgb_only=0.0, p_normals_only=0.0,
    )  # fmt: skip
    out = {}
    for w in weights:
        m = model_from_weights(w)
        row = {"head": m.config.head, "trained": m.meta.get("trained")}
        with torch.no_grad():
            for name, branch, inp in (("rgb", m.rgb, x), ("normals", m.normals, nm)):
                f = branch(inp)
                row[name] = {
                    "varying_share": round(float((f.std(0) > 1e-3).float().mean()), 4),
                    "spread_over_images": round(float(f.std(0).mean()), 4),
                }
        out[str(w or "shipped")] = row
    return out


def main() -> None:
    from facerig.config import cache_dir
    from facerig.train.image_inversion import make_dataset

    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", nargs="*", default=[None], help="weights files (default the shipped one)")
    ap.add_argument("--dataset", default="train_s1.4_96px.npz", help="cached training set (in the cache)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    cache = cache_dir("image_inversion")
    res = {
        **run_meta(),
        "eyes": eyes(),
        "data": data_stats(cache / a.dataset) if (cache / a.dataset).is_file() else None,
        "features": features(a.weights, make_dataset("eval", 1.0, size=96)),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_text_atomic(RESULTS / "image_inversion_diagnosis.json", json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()

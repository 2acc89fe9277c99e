"""How the image inversion network's reading follows the true weight (issue 26): response curves.

For each goal head of ``facerig eval --task invert-image`` (ICT and MakeHuman held-out, Rocketbox male,
Weboji boy, Weboji human) and each goal shape group (jawOpen, both blinks, both smiles), near-frontal
renders (the goal images' camera) at true weights 0, 0.25, 0.5, 0.75 and 1 (``--renders`` random
lights / poses each) are read with both modalities; the curve is the mean read (min of the pair).
A flat curve: the network does not see the shape on that head; a rising but low one: it sees it and
answers too small (a calibration / loss problem, not a data-coverage one).

Writes ``benchmarks/results/image_inversion_response.json`` (date, machine, one entry per weights file).

Run: ``FACERIG_DATA=... nice .venv/bin/python benchmarks/image_inversion_response.py [--weights A.npz B.npz]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _meta import run_meta
from facerig.arkit import ARKIT52
from facerig.io.atomic import write_text_atomic

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)


def goal_heads():
    from facerig.data import renders
    from facerig.data.families import get_family
    from facerig.data.generator import SampleConfig, generate_sample

    cfg = SampleConfig(split="eval", p_units=0.0, p_remove_parts=0.0, p_reframe=0.0, p_warp=0.0, p_remesh=0.0)
    heads = [
        renders.head_from_sample(generate_sample(get_family(f), 0, cfg), f"{f}_eval_0") for f in ("ict", "makehuman")
    ]
    return heads + [
        h
        for stem in ("rocketbox_male_adult_08", "weboji_boy", "weboji_facecustom_human")
        for h in renders.author_heads(stem, names=(stem,))
    ]


def response_images(heads, renders_per_level: int = 4, seed: int = 11, size: int = 96) -> dict:
    """Renders of every head x goal x level x repeat: {"rgb", "normals", "mask", "weights", "keys"}."""
    from facerig.data import renders
    from facerig.eval.image_inversion import GOALS

    cfg = renders.RenderConfig(size=size, yaw=4.0, pitch=4.0, roll=2.0, face_fraction=(0.55, 0.8), shift=0.02)
    rng = np.random.default_rng(seed)
    parts = {"rgb": [], "normals": [], "mask": [], "weights": []}
    keys = []
    for head in heads:
        for goal, shapes in GOALS.items():
            if not shapes or not all(head.present[ARKIT52.index(s)] for s in shapes):
                continue
            W = np.zeros((len(LEVELS) * renders_per_level, 52), np.float32)
            for j, a in enumerate(np.repeat(LEVELS, renders_per_level)):
                for s in shapes:
                    W[j, ARKIT52.index(s)] = a
            imgs = renders.render_head(head, W, rng, cfg)
            for k in ("rgb", "normals", "mask"):
                parts[k].append(imgs[k])
            parts["weights"].append(W)
            keys += [(head.name, goal, float(a)) for a in np.repeat(LEVELS, renders_per_level)]
    out = {k: np.concatenate(v) for k, v in parts.items()}
    out["keys"] = keys
    out["gram"] = np.zeros((1, 52, 52), np.float32)
    out["head"] = np.zeros(len(keys), np.int64)
    return out


def curves(weights: str | None, imgs: dict) -> dict:
    from facerig.eval.image_inversion import GOALS, predict
    from facerig.models.image_inversion.weights import model_from_weights

    W, _ = predict(model_from_weights(weights), imgs, "both")
    out: dict = {}
    for i, (head, goal, a) in enumerate(imgs["keys"]):
        read = min(float(W[i, ARKIT52.index(s)]) for s in GOALS[goal])
        out.setdefault(head, {}).setdefault(goal, {}).setdefault(f"{a:g}", []).append(read)
    for head in out.values():
        for goal, levels in head.items():
            head[goal] = {a: round(float(np.mean(v)), 3) for a, v in levels.items()}
    return out


def main() -> None:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", nargs="*", default=[None], help="weights files (default the shipped one)")
    ap.add_argument("--renders", type=int, default=4, help="renders per head, goal and level")
    ap.add_argument("--out", default=str(RESULTS / "image_inversion_response.json"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    imgs = response_images(goal_heads(), a.renders)
    res = {
        **run_meta(),
        "levels": list(LEVELS),
        "renders_per_level": a.renders,
        "curves": {str(w or "shipped"): curves(w, imgs) for w in a.weights},
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(a.out, json.dumps(res, indent=1))
    for w, heads in res["curves"].items():
        print(w)
        for head, goals in heads.items():
            print(
                f"  {head:26s}"
                + "  ".join(f"{g}: " + " ".join(f"{v:.2f}" for v in c.values()) for g, c in goals.items())
            )


if __name__ == "__main__":
    main()

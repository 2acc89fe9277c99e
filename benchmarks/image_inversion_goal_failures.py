"""Why goal images fail (issue 26): the evaluation's goal heads re-rendered at several framings and seeds.

``facerig eval --task invert-image`` reads one near-frontal render per head and goal (neutral, jawOpen, both
blinks, both smiles at 1). Here each goal head (ICT and MakeHuman held-out identities, Rocketbox male, Weboji boy,
Weboji human) is rendered at three face-box framings (40 %, 60 %, 85 % of the image height; the eval's is
55-80 %) with ``--seeds`` cameras / lights each, and read in each modality as ``facerig invert-image`` reads
(default: mirror, test-time views, calibration) and raw (one reading, no calibration). Per head, goal and
modality: the goal value (the neutral's largest weight, an expression's smaller pair reading) median / min / max
and pass share per framing, and for failing expressions the shapes read highest instead (a confusion shows there).

A failure that passes at some framings is framing; one that fails at every framing with a raw reading near 0 is a
shape the network does not see on that head (amplitude or style); a raw reading well above 0 that the calibrated
one keeps below 0.5 is the shrinkage of extreme weights. Analysis only: nothing is chosen from it.

Writes ``benchmarks/results/image_inversion_goal_failures.json`` (date, machine).

Run: ``FACERIG_DATA=... nice .venv/bin/python benchmarks/image_inversion_goal_failures.py``
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
FRAMINGS = (0.4, 0.6, 0.85)


def goal_heads():
    """The evaluation's goal heads (:func:`facerig.eval.image_inversion.evaluate_image_inversion`)."""
    from facerig.data import renders
    from facerig.data.families import get_family
    from facerig.data.generator import SampleConfig, generate_sample

    cfg = SampleConfig(split="eval", p_units=0.0, p_remove_parts=0.0, p_reframe=0.0, p_warp=0.0, p_remesh=0.0)
    heads = [
        renders.head_from_sample(generate_sample(get_family("ict"), 0, cfg), "ict_eval_0"),
        renders.head_from_sample(generate_sample(get_family("makehuman"), 0, cfg), "makehuman_eval_0"),
    ]
    return heads + (
        renders.author_heads("rocketbox_male*")
        + renders.author_heads("weboji_boy")
        + renders.author_heads("weboji_facecustom_human")
    )


def goal_value(w: np.ndarray, goal: str, shapes) -> float:
    return float(w.max()) if goal == "neutral" else float(min(w[ARKIT52.index(s)] for s in shapes))


def main() -> None:
    import torch

    from facerig.data import renders
    from facerig.eval.image_inversion import GOALS, MODALITIES, predict
    from facerig.models.image_inversion.weights import load_model

    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=4, help="renders per head, goal and framing")
    ap.add_argument("--out", default=str(RESULTS / "image_inversion_goal_failures.json"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    model = load_model()
    res: dict = {**run_meta(threads=1), "framings": list(FRAMINGS), "seeds": a.seeds, "heads": {}}
    for head in goal_heads():
        W = np.zeros((len(GOALS), 52), np.float32)
        for g, shapes in enumerate(GOALS.values()):
            for s in shapes:
                W[g, ARKIT52.index(s)] = 1.0
        W[:, ~head.present] = 0
        parts: dict[str, list] = {"rgb": [], "normals": [], "mask": [], "weights": []}
        frame, goal = [], []
        for f in FRAMINGS:
            cfg = renders.RenderConfig(
                size=model.config.size, yaw=4.0, pitch=4.0, roll=2.0, face_fraction=(f, f), shift=0.02
            )
            for s in range(a.seeds):
                imgs = renders.render_head(head, W, np.random.default_rng(1000 + s), cfg)
                for k in ("rgb", "normals", "mask"):
                    parts[k].append(imgs[k])
                parts["weights"].append(W)
                frame += [f] * len(GOALS)
                goal += list(GOALS)
        d = {k: np.concatenate(v) for k, v in parts.items()}
        frame, goal = np.array(frame), np.array(goal)
        out: dict = {}
        for mod in MODALITIES:
            Wd, _ = predict(model, d, mod)
            Wr, _ = predict(model, d, mod, mirror=False, calibrate=False, tta=False)
            for gname, shapes in GOALS.items():
                if gname != "neutral" and not all(W[list(GOALS).index(gname), ARKIT52.index(s)] > 0 for s in shapes):
                    continue
                cell: dict = {}
                for f in FRAMINGS:
                    rows = np.flatnonzero((goal == gname) & (frame == f))
                    v = np.array([goal_value(Wd[i], gname, shapes) for i in rows])
                    raw = np.array([goal_value(Wr[i], gname, shapes) for i in rows])
                    ok = v <= 0.3 if gname == "neutral" else v >= 0.5
                    c = {
                        "median": round(float(np.median(v)), 3),
                        "min": round(float(v.min()), 3),
                        "max": round(float(v.max()), 3),
                        "pass": f"{int(ok.sum())}/{len(v)}",
                        "raw_median": round(float(np.median(raw)), 3),
                    }
                    if gname == "neutral" or not ok.all():
                        mean = Wd[rows].mean(0)
                        top = np.argsort(-mean)[:3]
                        c["read_highest"] = {ARKIT52[k]: round(float(mean[k]), 3) for k in top}
                    cell[f"face_{f:g}"] = c
                out.setdefault(gname, {})[mod] = cell
        res["heads"][head.name] = out
        print(head.name, json.dumps(out), flush=True)
    res["seconds"] = round(time.time() - t0, 1)
    write_text_atomic(a.out, json.dumps(res, indent=1))


if __name__ == "__main__":
    main()

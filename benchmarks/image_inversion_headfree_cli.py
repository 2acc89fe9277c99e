"""Do the eval's head-free images get a low-confidence flag end to end in ``facerig invert-image``? (issue 26)

``facerig eval --task invert-image`` scores the head-presence output on arrays fed straight to the network.
This script takes the same head-free images (and, as a control, the same number of head images) of the
held-out set, built exactly as the eval builds them (:func:`facerig.eval.image_inversion._inputs`), writes
them as 8-bit PNG files (RGB; normal maps on their black / flat background, no alpha) and runs the CLI
(``facerig invert-image`` via :func:`facerig.cli.main`) on each folder per modality (RGB only, normals only,
both), reading ``low_confidence`` from its JSON. It reports the flag rates of the CLI next to the eval's
(``P < MIN_HEAD_PROBABILITY`` on the arrays) and the frames on which they disagree, and the head
probabilities of the head-free images the CLI does not flag.

Writes ``benchmarks/results/image_inversion_headfree_cli.json`` (date, machine, per modality).

Run: ``FACERIG_DATA=... nice .venv/bin/python benchmarks/image_inversion_headfree_cli.py [--weights W.npz]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
from pathlib import Path

import numpy as np

from _meta import run_meta
from facerig.io.atomic import write_text_atomic

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=None, help="weights .npz (default the shipped file)")
    ap.add_argument("--heads", type=int, default=120, help="head images read as a control (default 120)")
    ap.add_argument("--out", default=str(RESULTS / "image_inversion_headfree_cli.json"))
    a = ap.parse_args()

    import torch

    from facerig.cli import main as cli
    from facerig.eval.image_inversion import MODALITIES, _inputs, predict
    from facerig.models.image_inversion.infer import MIN_HEAD_PROBABILITY
    from facerig.models.image_inversion.weights import load_model, weights_path
    from facerig.render import write_png
    from facerig.train.image_inversion import make_dataset

    torch.set_num_threads(1)
    model = load_model(a.weights)
    d = dict(np.load(make_dataset("eval", 1.0, size=model.config.size)))
    neg = np.flatnonzero(~d["is_head"])
    pos = np.flatnonzero(d["is_head"])[:: max(1, int(d["is_head"].sum()) // a.heads)][: a.heads]
    res = {**run_meta(threads=1), "weights": str(a.weights or weights_path().name), "threshold": MIN_HEAD_PROBABILITY}
    res["modalities"] = {}
    for mod in MODALITIES:
        # the eval's own reading of every image (its seeds depend on the batch offsets: read the whole set)
        _, P = predict(model, d, mod)
        out = {}
        for kind, rows in (("head_free", neg), ("heads", pos)):
            with tempfile.TemporaryDirectory() as tmp:
                rgb_dir, nrm_dir = Path(tmp) / "rgb", Path(tmp) / "nrm"
                rgb_dir.mkdir()
                nrm_dir.mkdir()
                names = []
                for s in range(0, len(d["weights"]), 128):  # the eval's batches and seeds (predict's)
                    idx = np.arange(s, min(len(d["weights"]), s + 128))
                    keep = np.isin(idx, rows)
                    if not keep.any():
                        continue
                    x, n, _, _ = _inputs(d, idx, s)
                    for j in np.flatnonzero(keep):
                        name = f"f{idx[j]:05d}.png"
                        write_png(rgb_dir / name, x[j].numpy().transpose(1, 2, 0))
                        write_png(nrm_dir / name, n[j].numpy().transpose(1, 2, 0))
                        names.append(int(idx[j]))
                args = {
                    "rgb": [rgb_dir],
                    "normals": ["-", "--normals", nrm_dir],
                    "both": [rgb_dir, "--normals", nrm_dir],
                }
                js = Path(tmp) / "out.json"
                with contextlib.redirect_stderr(io.StringIO()):
                    wa = ["--weights", str(a.weights)] if a.weights else []
                    rc = cli(["invert-image", *map(str, args[mod]), "-o", str(js), "--threads", "1", "--quiet", *wa])
                assert rc == 0
                frames = json.loads(js.read_text())["frames"]
            cli_low = np.array([f["low_confidence"] for f in frames])
            cli_p = np.array([f["head_probability"] for f in frames])
            eval_low = P[names] < MIN_HEAD_PROBABILITY
            out[kind] = {
                "images": len(names),
                "cli_flagged": float(cli_low.mean()),
                "eval_flagged": float(eval_low.mean()),
                "disagree": int((cli_low != eval_low).sum()),
                "max_abs_probability_difference": float(np.abs(cli_p - P[names]).max()),
            }
            if kind == "head_free":
                out[kind]["unflagged_probabilities"] = sorted(round(float(p), 3) for p in cli_p[~cli_low])
        res["modalities"][mod] = out
        hf, hd = out["head_free"], out["heads"]
        print(
            f"{mod:8s} head-free flagged: CLI {hf['cli_flagged']:.1%} eval {hf['eval_flagged']:.1%} "
            f"(disagree {hf['disagree']}); heads flagged: CLI {hd['cli_flagged']:.1%} eval {hd['eval_flagged']:.1%}; "
            f"unflagged head-free p = {hf['unflagged_probabilities']}",
            flush=True,
        )
    write_text_atomic(a.out, json.dumps(res, indent=1) + "\n")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Speed of inverting without a neutral: the expression encoder (benchmark, not a test).

Heads: a held-out ICT identity (26,719 vertices) and a held-out MakeHuman identity (5,215),
posed with frames of the real take (``takes/livelink_rom_a.csv``) through their own shapes.

1. One posed mesh, as ``facerig invert POSED.obj`` sees it: seams + proxy (decimation to the
   encoder's ~2k vertices), operators of the posed proxy (eigenbasis, gradients), the network.
2. A sequence of ``--frames`` frames (a folder or an animation): the first frame's proxy and
   operators serve all (:func:`facerig.models.encoder.runtime.encode_frames`); per frame: the
   frame's motion sampled on the proxy, its head frame, the network. Milliseconds per frame =
   total / frames.

Goal (issue 25): < 100 ms a frame at 27k vertices. Median of ``--repeat`` runs.
Results: ``benchmarks/results/encoder_speed.json`` (date, machine, load average).

Run: ``FACERIG_DATA=/path/to/shared/data .venv/bin/python benchmarks/bench_encoder.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]


def _head(family: str):
    from facerig.data.families import get_family, split_rng

    fam = get_family(family)
    v = fam.sample_neutral(split_rng(0, "eval", 900 if family == "ict" else 950))
    return v, fam.faces, fam.names, fam.deltas_for(v)


def _bench(name, neutral, faces, names, deltas, W52, repeat):
    from facerig.eval.invert import _truth_weights
    from facerig.geometry.proxy import prepare_head
    from facerig.models.encoder.runtime import encode_frames, posed_frame
    from facerig.models.encoder.weights import load_encoder

    model = load_encoder()
    c = model.config
    Wt, _ = _truth_weights(W52, names)
    frames = (neutral.reshape(1, -1) + Wt @ np.asarray(deltas, np.float64).reshape(len(names), -1)).reshape(
        len(Wt), -1, 3
    )
    single, stages, seq, seq_parts = [], [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        prep = prepare_head(frames[0], faces, proxy_vertices=c.proxy_vertices, k=c.k_eig, cache=False)
        t1 = time.perf_counter()
        xyz, _, s = posed_frame(prep.proxy.vertices[None])
        model(xyz[0], prep.ops.rescaled(s[0] / prep.scale).for_network(c.k_eig))
        t2 = time.perf_counter()
        single.append(t2 - t0)
        stages.append(
            {
                "seams_s": prep.timings["seams"],
                "proxy_s": prep.timings["proxy"] - prep.timings["seams"],
                "operators_s": prep.timings["operators"],
                "prepare_s": t1 - t0,
                "network_s": t2 - t1,
            }
        )
        tm: dict = {}
        t0 = time.perf_counter()
        encode_frames(frames, faces, model=model, timings=tm)
        seq.append(time.perf_counter() - t0)
        seq_parts.append(tm)
    i, j = int(np.argsort(single)[len(single) // 2]), int(np.argsort(seq)[len(seq) // 2])
    T = len(frames)
    return {
        "head": name,
        "vertices": int(neutral.shape[0]),
        "proxy_vertices": int(prep.proxy.num_vertices),
        "single_frame_s": round(single[i], 3),
        "single_frame_stages_s": {k: round(v, 4) for k, v in stages[i].items()},
        "sequence_frames": T,
        "sequence_s": round(seq[j], 3),
        "sequence_first_frame_prepare_s": round(stages[j]["prepare_s"], 3),
        "sequence_ms_per_frame": round(1000 * seq[j] / T, 2),
        "sequence_ms_per_frame_after_first": round(1000 * (seq[j] - stages[j]["prepare_s"]) / max(T - 1, 1), 2),
        "sequence_network_s": round(seq_parts[j]["network"], 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "encoder_speed.json"))
    args = ap.parse_args()
    from facerig.eval.invert import take_path
    from facerig.io.takes import read_take
    from facerig.models.encoder.weights import weights_path

    take = read_take(take_path()).weights
    W52 = take[np.linspace(0, len(take) - 1, args.frames).round().astype(int)]
    rows = []
    for fam in ("ict", "makehuman"):
        v, f, names, d = _head(fam)
        rows.append(_bench(f"{fam}/eval0", v, f, names, d, W52, args.repeat))
        print(json.dumps(rows[-1]), flush=True)
    res = {
        "benchmark": "encoder_speed",
        **run_meta(),
        "weights": str(weights_path().name),
        "repeat": args.repeat,
        "goal_ms_per_frame_27k": 100,
        "rows": rows,
    }
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

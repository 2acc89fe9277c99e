"""Speed and accuracy of inverting without a neutral: the expression encoder (benchmark, not a test).

Heads: a held-out ICT identity (26,719 vertices), a held-out MakeHuman identity (5,215) and the
external ``johnsmith_head`` rig (1,527 vertices, split along its mid-line: seams stitched), posed
with frames of the real take (``takes/livelink_rom_a.csv``) through their own shapes.

Two preparations of a posed mesh, run alternately (``main`` and ``new`` in turn, the order reversed
every other round, ``--repeat`` rounds) so that the shared machine's load falls on both alike:

- ``main``: what main (c7d93c3) did: :func:`facerig.geometry.proxy.prepare_head` (the rig's
  preparation: seams, proxy with its transfer map, head frame, operators), operators rescaled to
  the posed proxy's head frame, BLAS as it is; ``main_blas1``: the same on one BLAS thread.
- ``new``: :func:`facerig.models.encoder.runtime.encode_frames` as shipped now
  (:func:`facerig.models.encoder.prepare.prepare_posed` on one BLAS thread).

1. One posed mesh (``facerig invert POSED.obj``): wall-clock and CPU seconds, median of the rounds,
   and the new path's stages.
2. A sequence of ``--frames`` frames: the first frame's proxy and operators serve all; milliseconds
   per frame = total / frames (main's sequence path: its proxy's ``sample_full``).
3. Accuracy: weight MAE of ``--accuracy-frames`` frames of the take's held-out last fifth, each
   encoded as one mesh (main and new), and as one sequence (main and new), against the truth.

Goal (issue 25): <= 100 ms for one posed mesh at 27k vertices.
Results: ``benchmarks/results/encoder_speed.json`` (date, machine, load average).

Run: ``FACERIG_DATA=/path/to/shared/data .venv/bin/python benchmarks/bench_encoder.py [--repeat 7] [--heads ict]``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]


def _heads(which: list[str]):
    from facerig.config import data_root
    from facerig.data.families import get_family, split_rng
    from facerig.eval.invert import other_author_heads

    for family, seed in (("ict", 900), ("makehuman", 950)):
        if family in which:
            fam = get_family(family)
            v = fam.sample_neutral(split_rng(0, "eval", seed))
            yield f"{family}/eval0", v, fam.faces, fam.names, fam.deltas_for(v)
    if "external" in which:
        for case, _fam, (v, f, names, d, _mm) in other_author_heads(data_root(), 1, 0):
            yield case, v, f, names, d


def _main_single(y, faces, model):
    """main's one-mesh path: prepare_head, operators rescaled to the posed proxy's frame, network."""
    from facerig.geometry.proxy import prepare_head
    from facerig.models.encoder.runtime import posed_frame

    c = model.config
    prep = prepare_head(y, faces, proxy_vertices=c.proxy_vertices, k=c.k_eig, cache=False)
    xyz, _, s = posed_frame(prep.proxy.vertices[None])
    return model(xyz[0], prep.ops.rescaled(s[0] / prep.scale).for_network(c.k_eig))[None]


def _main_sequence(frames, faces, model, chunk=32):
    """main's sequence path: the first frame's prepare_head, every frame's motion sampled on its proxy."""
    import scipy.sparse as sp

    from facerig.geometry.proxy import prepare_head
    from facerig.models.encoder.runtime import posed_frame

    c = model.config
    y0 = frames[0]
    prep = prepare_head(y0, faces, proxy_vertices=c.proxy_vertices, k=c.k_eig, cache=False)
    face, bary = prep.proxy.sample_full(y0, faces)
    P = prep.proxy.num_vertices
    S = sp.csr_matrix((bary.ravel(), np.asarray(faces)[face].ravel(), np.arange(0, 3 * P + 1, 3)), shape=(P, len(y0)))
    _, _, s0 = posed_frame(prep.proxy.vertices[None])
    ops = prep.ops.rescaled(s0[0] / prep.scale).for_network(c.k_eig)
    out = []
    for s in range(0, len(frames), chunk):
        blk = frames[s : s + chunk]
        xyz, _, _ = posed_frame(prep.proxy.vertices[None] + np.stack([S @ (y - y0) for y in blk]))
        out.append(model(xyz, ops))
    return np.concatenate(out)


def _timed(fn, *args):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w, time.process_time() - c


def _bench(name, neutral, faces, names, deltas, W_speed, W_acc, repeat):
    from facerig.eval.invert import _truth_weights
    from facerig.models.encoder.runtime import encode_frames
    from facerig.models.encoder.weights import load_encoder
    from facerig.parallel import blas_threads

    model = load_encoder()
    D = np.asarray(deltas, np.float64).reshape(len(names), -1)

    def pose(W52):
        Wt, cols = _truth_weights(W52, names)
        return (neutral.reshape(1, -1) + Wt @ D).reshape(len(Wt), -1, 3), Wt, cols

    def main_blas1(y):
        with blas_threads(1):
            return _main_single(y, faces, model)

    frames, _, _ = pose(W_speed)
    single = {
        "main": lambda y: _main_single(y, faces, model),
        "main_blas1": main_blas1,
        "new": lambda y: encode_frames(y, faces, model=model),
    }
    seq = {"main": lambda Y: _main_sequence(Y, faces, model), "new": lambda Y: encode_frames(Y, faces, model=model)}
    t_single: dict = {k: [] for k in single}
    t_seq: dict = {k: [] for k in seq}
    stages = []
    for r in range(repeat):
        y = frames[r % len(frames)]
        order = list(single.items()) if r % 2 == 0 else list(single.items())[::-1]  # no order bias
        for key, fn in order:
            _, w, c = _timed(fn, y)
            t_single[key].append((w, c))
        for key, fn in list(seq.items()) if r % 2 == 0 else list(seq.items())[::-1]:
            _, w, c = _timed(fn, frames)
            t_seq[key].append((w, c))
        from facerig.models.encoder.prepare import prepare_posed

        with blas_threads(1):
            pp = prepare_posed(y, faces, proxy_vertices=model.config.proxy_vertices, k=model.config.k_eig)
            t0 = time.perf_counter()
            model(pp.xyz, pp.ops)
        stages.append({**pp.timings, "network": time.perf_counter() - t0})
    med = lambda xs, i: round(float(np.median([x[i] for x in xs])), 4)  # noqa: E731
    T = len(frames)
    row = {
        "head": name,
        "vertices": int(neutral.shape[0]),
        "proxy_vertices": int(pp.num_vertices),
        "single_mesh_s": {k: {"wall": med(v, 0), "cpu": med(v, 1)} for k, v in t_single.items()},
        "single_mesh_wall_s_each_round": {k: [round(x[0], 4) for x in v] for k, v in t_single.items()},
        "new_stages_s": {k: round(float(np.median([s[k] for s in stages])), 4) for k in stages[0]},
        "sequence_frames": T,
        "sequence_ms_per_frame": {
            k: {"wall": round(1e3 * med(v, 0) / T, 2), "cpu": round(1e3 * med(v, 1) / T, 2)} for k, v in t_seq.items()
        },
    }
    # accuracy: the same frames each read alone (main, new) and as one sequence (main, new)
    Y, Wt, cols = pose(W_acc)
    acc = {
        "main_single": np.concatenate([_main_single(y, faces, model) for y in Y]),
        "new_single": encode_frames(Y, faces, model=model, per_frame_operators=True),
        "main_sequence": _main_sequence(Y, faces, model),
        "new_sequence": encode_frames(Y, faces, model=model),
    }
    row["accuracy_frames"] = len(Y)
    row["weight_mae"] = {k: round(float(np.abs(W[:, cols] - Wt).mean()), 5) for k, W in acc.items()}
    row["max_weight_change_new_vs_main"] = {
        "single": round(float(np.abs(acc["new_single"] - acc["main_single"]).max()), 6),
        "sequence": round(float(np.abs(acc["new_sequence"] - acc["main_sequence"]).max()), 6),
    }
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--accuracy-frames", type=int, default=16)
    ap.add_argument("--heads", default="ict,makehuman,external", help="comma list of ict, makehuman, external")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "encoder_speed.json"))
    args = ap.parse_args()
    from facerig.eval.invert import take_path
    from facerig.invert.prior import TAKE_HOLDOUT, split_take
    from facerig.io.takes import read_take
    from facerig.models.encoder.weights import weights_path

    take = read_take(take_path()).weights
    W_speed = take[np.linspace(0, len(take) - 1, args.frames).round().astype(int)]
    _, held_out = split_take(take, TAKE_HOLDOUT)
    W_acc = held_out[np.random.default_rng(25).integers(0, len(held_out), args.accuracy_frames)]
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    rows = []
    for head in _heads(args.heads.split(",")):
        rows.append(_bench(*head, W_speed, W_acc, args.repeat))
        print(json.dumps(rows[-1]), flush=True)
    res = {
        "benchmark": "encoder_speed",
        **run_meta(),
        "load_at_start": round(load0, 2),
        "seconds": round(time.perf_counter() - t0, 1),
        "weights": str(weights_path().name),
        "repeat": args.repeat,
        "goal_single_mesh_s_27k": 0.1,
        "rows": rows,
    }
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

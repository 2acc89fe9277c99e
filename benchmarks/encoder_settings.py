"""Cheaper inference settings for the expression encoder on one posed mesh: accuracy and CPU time
(benchmark, not a test).

Each variant ``PROXY:K`` prepares every posed mesh on its own
(:func:`facerig.models.encoder.prepare.prepare_posed` with ``proxy_vertices=PROXY``, ``k=K``, one
BLAS thread) and runs the shipped weights (trained with 2,000 and 64). Heads: 2 held-out ICT and 2
held-out MakeHuman identities, the first external rig (johnsmith) and the first Rocketbox head, each
posed with ``--frames`` frames of the take's held-out last fifth. Per variant: weight MAE over the
frames, its paired difference from the first variant (mean +- standard error over frames x heads),
CPU milliseconds per mesh.

Results: ``benchmarks/results/encoder_settings.json``.

Run: ``FACERIG_DATA=/path/to/shared/data .venv/bin/python benchmarks/encoder_settings.py [--frames 12]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _meta import write_result


def _heads():
    from facerig.config import data_root
    from facerig.data.families import get_family, split_rng
    from facerig.eval.invert import _ict_identities, other_author_heads

    fam, neutrals = _ict_identities(2, 0)
    for i, v in enumerate(neutrals):
        yield f"ict/eval{i}", v, fam.faces, fam.names, fam.deltas_for(v)
    mh = get_family("makehuman")
    for i in range(2):
        v = mh.sample_neutral(split_rng(0, "eval", 950 + i))
        yield f"makehuman/eval{i}", v, mh.faces, mh.names, mh.deltas_for(v)
    for case, _fam, (v, f, names, d, _mm) in other_author_heads(data_root(), 1, 1):
        yield case, v, f, names, d


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--variants", default="2000:64,1000:64,2000:48,2000:32", help="PROXY:K, the first the reference")
    ap.add_argument("--tag", default=None)
    args = ap.parse_args(argv)
    from facerig.eval.invert import _truth_weights, sample_combinations, take_path
    from facerig.invert.prior import TAKE_HOLDOUT, split_take
    from facerig.io.takes import read_take
    from facerig.models.encoder.prepare import prepare_posed
    from facerig.models.encoder.weights import load_encoder
    from facerig.parallel import blas_threads

    model = load_encoder()
    variants = [tuple(int(x) for x in v.split(":")) for v in args.variants.split(",")]
    _, held = split_take(read_take(take_path()).weights, TAKE_HOLDOUT)
    rng = np.random.default_rng(7)
    errs: dict = {v: [] for v in variants}
    rows = []
    t_start = time.perf_counter()
    for name, v, f, names, d in _heads():
        Wt, cols = _truth_weights(sample_combinations(held, args.frames, rng), names)
        frames = (v.reshape(1, -1) + Wt @ np.asarray(d, np.float64).reshape(len(names), -1)).reshape(len(Wt), -1, 3)
        row = {"head": name, "vertices": int(len(v))}
        for pv, k in variants:
            out, cpu = [], 0.0
            with blas_threads(1):
                for y in frames:
                    c0 = time.process_time()
                    p = prepare_posed(y, f, proxy_vertices=pv, k=k)
                    out.append(model(p.xyz, p.ops))
                    cpu += time.process_time() - c0
            e = np.abs(np.asarray(out)[:, cols] - Wt).mean(1)
            errs[(pv, k)].append(e)
            row[f"{pv}:{k}"] = {"weight_mae": round(float(e.mean()), 5), "cpu_ms": round(1e3 * cpu / len(frames), 1)}
        rows.append(row)
        print(row, flush=True)
    ref = np.concatenate(errs[variants[0]])
    summary = {}
    for var in variants:
        e = np.concatenate(errs[var])
        dd = e - ref
        summary[f"{var[0]}:{var[1]}"] = {
            "weight_mae": round(float(e.mean()), 5),
            "minus_reference": round(float(dd.mean()), 5),
            "standard_error": round(float(dd.std(ddof=1) / np.sqrt(len(dd))), 5),
            "cpu_ms_mean_over_heads": round(float(np.mean([r[f"{var[0]}:{var[1]}"]["cpu_ms"] for r in rows])), 1),
        }
    print(summary)
    write_result(
        "encoder_settings",
        args.tag,
        {
            "frames_per_head": args.frames,
            "seconds": round(time.perf_counter() - t_start, 1),
            "heads": rows,
            "summary": summary,
        },
        argv,
    )


if __name__ == "__main__":
    main()

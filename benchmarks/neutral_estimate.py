"""Inverting a sequence without its neutral: the expression encoder vs an estimated neutral.

The rows ``<case> (no neutral)`` of ``facerig eval --task invert`` (full size) alone: the same held-out
identities posed with the same frames (the take's held-out last fifth, drawn from the eval's own
stream, so a head skipped with ``--per-group`` still draws its frames), read (1) by the expression
encoder and (2) as one sequence through an estimated neutral
(:func:`facerig.invert.neutral_estimate.invert_with_estimated_neutral`: pick the least active frame by
the encoder, rig it, shift, refine, solve). Per group: weight MAE, the rebuilt mesh's error, the
estimated neutral's error, seconds and milliseconds per frame.

Results: ``benchmarks/results/neutral_estimate[_TAG].json`` (date, machine, load average).

Run: ``FACERIG_DATA=/path/to/shared/data .venv/bin/python benchmarks/neutral_estimate.py [--per-group 1]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _meta import write_result

#: the estimation's other settings, each on the default's rig (the medoid frame's): weight MAE and
#: the true rig's mean error at the weights
VARIANTS = {
    "no level (relative to the frame)": {"level": None},
    "no level, shift q0.25": {"level": None, "shift": True, "shift_quantile": 0.25},
    "shift q0.25": {"shift": True, "shift_quantile": 0.25},
    "refine 2": {"refine": 2},
    "no prior": {"prior": None},
}


def variants(neutral, faces, names, deltas, mm, W52) -> dict:
    from facerig.eval.invert import _truth_weights
    from facerig.invert.neutral_estimate import invert_with_estimated_neutral, pick_start_frame
    from facerig.io.mesh import Mesh
    from facerig.models.registry import rig_mesh

    Wt, cols = _truth_weights(W52, names)
    D = np.asarray(deltas, np.float64).reshape(len(names), -1)
    frames = (neutral.reshape(1, -1) + Wt @ D).reshape(len(Wt), -1, 3)
    start, _ = pick_start_frame(frames, faces)
    rig = rig_mesh(Mesh(vertices=frames[start], faces=faces), method="raf")
    out = {}
    for key, opt in VARIANTS.items():
        est = invert_with_estimated_neutral(frames, faces, rig=rig, residual=False, **opt)
        via_truth = (neutral.reshape(1, -1) + est.weights[:, cols] @ D).reshape(frames.shape)
        out[key] = {
            "weight_mae": float(np.abs(est.weights[:, cols] - Wt).mean()),
            "truth_rig_mean_mm": float(np.linalg.norm(via_truth - frames, axis=2).mean() * mm),
            "neutral_error_mean_mm": float(np.linalg.norm(est.neutral - neutral, axis=1).mean() * mm),
        }
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-group", type=int, default=9, help="at most this many heads per group (default all)")
    ap.add_argument("--first", type=int, default=0, help="skip each group's first heads (default 0)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tag", default="")
    args = ap.parse_args(argv)

    from facerig.config import data_root
    from facerig.data.families import get_family, split_rng
    from facerig.eval.invert import (
        SIZES,
        _ict_identities,
        encoder_case,
        other_author_heads,
        sample_combinations,
        summarise,
        take_path,
    )
    from facerig.geometry.remesh import interpolate, remesh
    from facerig.invert.prior import TAKE_HOLDOUT, split_take
    from facerig.io.takes import read_take

    size = SIZES["full"]
    seed = args.seed
    take = read_take(take_path())
    fitted, held_out = split_take(take.weights, TAKE_HOLDOUT)
    median = np.median(fitted, axis=0)
    rng_enc = np.random.default_rng([seed, 25])  # the eval's stream for its no-neutral rows
    cases = []
    t_start = time.perf_counter()

    def row(name, family, index, *head):
        W52 = sample_combinations(held_out, size["frames"], rng_enc)  # drawn even when skipped
        if not args.first <= index < args.first + args.per_group:
            return
        rec = encoder_case(name, family, *head, W52, constant=median, estimate=True)
        rec["variants"] = variants(*head, W52)
        cases.append(rec)
        print(
            f"[{time.perf_counter() - t_start:6.1f}s] {rec['case']}: weight MAE encoder {rec['weight_mae']:.4f}, "
            f"estimated neutral {rec['weight_mae_estimated']:.4f} (constant {rec['constant_weight_mae']:.4f}); "
            f"true rig mean mm {rec['truth_rig_mean_mm']:.3f} / {rec['truth_rig_mean_mm_estimated']:.3f}; "
            f"{rec['encode_ms_per_frame']:.0f} / {rec['estimate_ms_per_frame']:.0f} ms per frame "
            f"{rec['estimate_seconds_parts']}",
            flush=True,
        )

    fam, neutrals = _ict_identities(max(size["ict"], size["remesh"]), seed)
    for i, v in enumerate(neutrals[: size["ict"]]):
        row(f"ict/eval{i}", "ict", i, v, fam.faces, fam.names, fam.deltas_for(v), fam.mm_per_unit)
    for i, v in enumerate(neutrals[: size["remesh"]]):
        if not args.first <= i < args.first + args.per_group:
            sample_combinations(held_out, size["frames"], rng_enc)
            continue
        rm = remesh(v, fam.faces, 10_000, parts=fam.parts, seed=seed + i)
        d = np.asarray(interpolate(fam.deltas_for(v), fam.faces, np.asarray(rm.src_face), np.asarray(rm.bary)))
        head = (np.asarray(rm.vertices, np.float64), np.asarray(rm.faces), fam.names, d, fam.mm_per_unit)
        row(f"ict_remesh10k/eval{i}", "ict", i, *head)
    mh = get_family("makehuman")
    for i in range(size["makehuman"]):
        v = mh.sample_neutral(split_rng(seed, "eval", 950 + i))
        row(f"makehuman/eval{i}", "makehuman", i, v, mh.faces, mh.names, mh.deltas_for(v), mh.mm_per_unit)
    root = data_root()
    heads = list(other_author_heads(root, size["external"], size["rocketbox"]))
    for i, (case, fam_name, head) in enumerate(h for h in heads if h[0].startswith("external/")):
        row(case, fam_name, i, *head)
    for i, (case, fam_name, head) in enumerate(h for h in heads if h[0].startswith("rocketbox/")):
        row(case, fam_name, i, *head)
    summary = {k: v for k, v in summarise(cases).items() if k.startswith("no_neutral_")}
    groups = {"in_family": ("ict", "makehuman"), "out_of_family": ("out_of_family",)}
    for g, fams in groups.items():
        rs = [r for r in cases if r["family"] in fams]
        if rs and f"no_neutral_{g}" in summary:
            summary[f"no_neutral_{g}"]["variants"] = {
                key: {m: float(np.mean([r["variants"][key][m] for r in rs])) for m in rs[0]["variants"][key]}
                for key in VARIANTS
            }
            for key, m in summary[f"no_neutral_{g}"]["variants"].items():
                print(f"  {g} variant {key}: " + ", ".join(f"{k} {v:.4f}" for k, v in m.items()))
    for g, m in summary.items():
        print(
            f"{g} (n={m['n']}): weight MAE encoder {m['weight_mae']:.4f} / estimated {m['weight_mae_estimated']:.4f} "
            f"/ constant {m['constant_weight_mae']:.4f}; true rig mean mm {m['truth_rig_mean_mm']:.3f} / "
            f"{m['truth_rig_mean_mm_estimated']:.3f}; ms per frame {m['encode_ms_per_frame']:.0f} / "
            f"{m['estimate_ms_per_frame']:.0f}"
        )
    write_result(
        "neutral_estimate",
        args.tag,
        {
            "frames_per_sequence": size["frames"],
            "per_group": args.per_group,
            "first": args.first,
            "cases": cases,
            "summary": summary,
            "seconds": round(time.perf_counter() - t_start, 1),
        },
        argv,
    )


if __name__ == "__main__":
    main()

"""Is the head frame's width the right scale for a head? Calibration data for a face-measured frame.

The network works in head widths measured at nose height (``facerig.geometry.proxy.head_frame``).
A warp that pinches a head there, or a cut that narrows it, misjudges the face's size, and
every shape comes out scaled wrong. This script measures, on generated **training-split** heads
(never the validation set), how the best frame factor of each head relates to where the network
itself puts the eyes and the mouth (:func:`facerig.models.raf.probe.face_landmarks`): for each
head it records the face measures and the active error at a grid of frame factors (the operators
rescaled exactly, :meth:`facerig.geometry.proxy.PreparedHead.rescaled`), then fits
``log(best factor) = beta * log(face size / reference)``.

    python benchmarks/face_frame.py [--n-ict 24] [--n-styl 16] [--n-mh 12] [--start S] [--weights W] [--out FILE]
    python benchmarks/face_frame.py --merge PART1.json PART2.json   # a run split over processes
    python benchmarks/face_frame.py --factors evalset   # the factor each head of a set gets (no GT used)
    python benchmarks/face_frame.py --probe-check evalset   # the probe's small mesh against the full proxy

Writes ``benchmarks/results/face_frame.json`` (per head: measures and errors; the fit).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

RESULTS = Path(__file__).resolve().parent / "results"

FACTORS = (0.8, 0.9, 1.0, 1.1, 1.22, 1.35, 1.5)


def head_errors(model, prep, sample, factors=FACTORS) -> list[float]:
    """Active error (mm, mean over GT shapes) of the mirrored rig at each frame factor."""
    from facerig.arkit import ARKIT52
    from facerig.eval.metrics import head_summary, shape_errors
    from facerig.models.raf.method import predict_proxy

    names = [str(n) for n in sample.names]
    rows = [ARKIT52.index(n) for n in names]
    out = []
    for a in factors:
        p = prep if a == 1.0 else prep.rescaled(a)
        d = predict_proxy(model, p, np.eye(model.num_shapes, dtype=np.float32))
        full = p.proxy.to_full(d[rows]) * np.float32(p.scale)
        out.append(head_summary(shape_errors(full, sample.deltas, sample.mm_per_unit))["active_mm"])
    return out


def best_factor(factors, errors) -> float:
    """Minimum of a parabola through the lowest grid point and its neighbours (log factor)."""
    x, y = np.log(factors), np.asarray(errors)
    i = int(np.clip(np.argmin(y), 1, len(y) - 2))
    a, b, _ = np.polyfit(x[i - 1 : i + 2], y[i - 1 : i + 2], 2)
    xb = -b / (2 * a) if a > 0 else x[int(np.argmin(y))]
    return float(np.exp(np.clip(xb, x[0], x[-1])))


def main(argv: list[str] | None = None) -> int:
    from facerig.data.families import get_family
    from facerig.data.generator import SampleConfig, generate_sample
    from facerig.geometry.proxy import prepare_head
    from facerig.io.atomic import atomic_path
    from facerig.models.raf.config import RIG_PROXY_VERTICES
    from facerig.models.raf.probe import face_landmarks
    from facerig.models.raf.weights import load_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-ict", type=int, default=24, help="ICT heads, training mix of augmentations")
    ap.add_argument("--n-styl", type=int, default=16, help="ICT heads, all warped, half exaggerated")
    ap.add_argument("--n-mh", type=int, default=12, help="MakeHuman heads, training mix")
    ap.add_argument("--start", type=int, default=900000, help="first seed (train split; pools use < 400000)")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--out", default=str(RESULTS / "face_frame.json"))
    ap.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="fit the heads of earlier runs' files (run in parts) and write them as one file; generates nothing",
    )
    ap.add_argument(
        "--factors",
        metavar="SET_DIR",
        help="print the face-frame factor of each head of an eval set (what `facerig rig` uses) and exit",
    )
    ap.add_argument(
        "--probe-check",
        metavar="SET_DIR",
        help="each head's factor measured on the face probe's "
        "decimated mesh (what `facerig rig` does) and on the whole rig proxy; writes "
        "benchmarks/results/face_probe_check.json and exits",
    )
    args = ap.parse_args(argv)
    if args.factors:
        return print_factors(args.factors, args.weights)
    if args.probe_check:
        return probe_check(args.probe_check, args.weights)
    if args.merge:
        parts = [json.loads(Path(p).read_text()) for p in args.merge]
        out = dict(parts[0], heads=[h for p in parts for h in p["heads"]], parts=[p["date"] for p in parts])
        out["fit"] = fit(out["heads"])
        print(json.dumps(out["fit"], indent=1))
        with atomic_path(args.out) as tmp:
            Path(tmp).write_text(json.dumps(out, indent=1, default=str))
        print(f"wrote {args.out}")
        return 0

    model, meta = load_model(args.weights)
    styl = dict(
        p_warp=1.0,
        p_exaggerate=0.5,
        warp_amplitude=(0.08, 0.2),
        p_remesh=0.0,
        p_reframe=0.0,
        p_remove_parts=0.0,
        p_units=0.0,
    )
    plan = (
        [("ict", "mix", SampleConfig(split="train"))] * args.n_ict
        + [("ict", "stylised", SampleConfig(split="train", **styl))] * args.n_styl
        + [("makehuman", "mix", SampleConfig(split="train"))] * args.n_mh
    )
    rows, t0 = [], time.perf_counter()
    for i, (fam, kind, cfg) in enumerate(plan):
        seed = args.start + i
        s = generate_sample(get_family(fam), seed, cfg)
        prep = prepare_head(s.vertices, s.faces, parts=s.parts, proxy_vertices=RIG_PROXY_VERTICES, k=model.k_eig)
        lm = face_landmarks(model, prep)
        errs = head_errors(model, prep, s)
        rec = {
            "seed": seed,
            "family": fam,
            "kind": kind,
            "vertices": int(len(s.vertices)),
            "width_mm": prep.scale * s.mm_per_unit,
            "iod": lm["iod"],
            "eye_mouth": lm["eye_mouth"],
            "errors": errs,
            "best": best_factor(FACTORS, errs),
            "steps": s.info.get("steps"),
        }
        rows.append(rec)
        print(
            f"{i + 1:3d}/{len(plan)} {fam:9s} {kind:8s} width {rec['width_mm']:6.1f} mm  iod {lm['iod']:.3f} "
            f"eye-mouth {lm['eye_mouth']:.3f}  best x{rec['best']:.2f}  err@1 {errs[FACTORS.index(1.0)]:.3f}  "
            f"min {min(errs):.3f}  ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    out = {
        "benchmark": "face_frame",
        **run_meta(),
        "weights_step": meta.get("step"),
        "factors": list(FACTORS),
        "heads": rows,
        "fit": fit(rows),
    }
    print(json.dumps(out["fit"], indent=1))
    with atomic_path(args.out) as tmp:
        Path(tmp).write_text(json.dumps(out, indent=1, default=str))
    print(f"wrote {args.out}")
    return 0


def print_factors(set_dir: str, weights: str | None) -> int:
    """Face landmarks and frame factor of each head of an eval set (meshes only, no ground truth)."""
    from facerig.eval.harness import load_index
    from facerig.geometry.proxy import prepare_head
    from facerig.io import load_mesh
    from facerig.models.raf.config import RIG_PROXY_VERTICES
    from facerig.models.raf.probe import face_frame_factor, face_landmarks
    from facerig.models.raf.weights import load_model

    model, _ = load_model(weights)
    print("| head | group | frame width mm | eyes mm | eyes to mouth mm | face size (widths) | factor |")
    print("|---|---|---|---|---|---|---|")
    for h in load_index(Path(set_dir))["heads"]:
        mesh = load_mesh(Path(set_dir) / h["mesh"], allow_degenerate=True, allow_unreferenced=True)
        prep = prepare_head(
            np.asarray(mesh.vertices, np.float64), mesh.faces, proxy_vertices=RIG_PROXY_VERTICES, k=model.k_eig
        )
        lm = face_landmarks(model, prep)
        mm = float(h.get("mm_per_unit") or 1.0) * prep.scale
        print(
            f"| {h['id']} | {h['group']} | {mm:.1f} | {lm['iod'] * mm:.1f} | {lm['eye_mouth'] * mm:.1f} | "
            f"{np.sqrt(lm['iod'] * lm['eye_mouth']):.3f} | {face_frame_factor(lm):.3f} |",
            flush=True,
        )
    return 0


def probe_check(set_dir: str, weights: str | None, out: str = str(RESULTS / "face_probe_check.json")) -> int:
    """Face-frame factor of each head of an eval set with the probe on its decimated mesh
    (``FACE_PROBE_VERTICES``, as ``facerig rig``) and on the whole rig proxy (as the calibration
    measured it); the difference in log factor, per head and summarised."""
    from facerig.eval.harness import load_index
    from facerig.geometry.proxy import prepare_head
    from facerig.io import load_mesh
    from facerig.io.atomic import atomic_path
    from facerig.models.raf.config import RIG_PROXY_VERTICES
    from facerig.models.raf.probe import FACE_PROBE_VERTICES, face_frame_factor, face_landmarks
    from facerig.models.raf.weights import load_model

    model, meta = load_model(weights)
    rows = []
    print(
        f"| head | group | proxy vertices | factor, whole proxy | factor, probe mesh ({FACE_PROBE_VERTICES}) | difference |"
    )
    print("|---|---|---|---|---|---|")
    for h in load_index(Path(set_dir))["heads"]:
        mesh = load_mesh(Path(set_dir) / h["mesh"], allow_degenerate=True, allow_unreferenced=True)
        prep = prepare_head(
            np.asarray(mesh.vertices, np.float64), mesh.faces, proxy_vertices=RIG_PROXY_VERTICES, k=model.k_eig
        )
        whole = face_frame_factor(face_landmarks(model, prep, probe_vertices=0))
        probe = face_frame_factor(face_landmarks(model, prep))
        rows.append(
            {
                "id": h["id"],
                "group": h["group"],
                "proxy_vertices": prep.proxy.num_vertices,
                "factor_whole_proxy": whole,
                "factor_probe": probe,
                "dlog": float(np.log(probe / whole)),
            }
        )
        print(
            f"| {h['id']} | {h['group']} | {prep.proxy.num_vertices} | {whole:.4f} | {probe:.4f} | "
            f"{100 * rows[-1]['dlog']:+.2f} % |",
            flush=True,
        )
    d = np.array([r["dlog"] for r in rows])
    summary = {
        "mean_abs_dlog": float(np.abs(d).mean()),
        "max_abs_dlog": float(np.abs(d).max()),
        "mean_dlog": float(d.mean()),
        "heads": len(rows),
    }
    print(
        f"mean |difference| {100 * summary['mean_abs_dlog']:.2f} %, largest {100 * summary['max_abs_dlog']:.2f} %, "
        f"mean {100 * summary['mean_dlog']:+.2f} % ({len(rows)} heads)"
    )
    doc = {
        "meta": {
            **run_meta(),
            "set": str(set_dir),
            "weights_step": meta.get("step"),
            "probe_vertices": FACE_PROBE_VERTICES,
            "rig_proxy_vertices": RIG_PROXY_VERTICES,
        },
        "summary": summary,
        "heads": rows,
    }
    with atomic_path(Path(out), suffix=".json") as tmp:
        Path(tmp).write_text(json.dumps(doc, indent=1))
    print(f"wrote {out}")
    return 0


def fit(rows: list[dict]) -> dict:
    """Least squares ``log best = beta * (log f - log f0)`` for face size f = sqrt(iod * eye_mouth)
    (and for each measure alone); f0 and beta from the heads."""
    res = {}
    y = np.log([r["best"] for r in rows])
    for name, f in (
        ("face", [np.sqrt(r["iod"] * r["eye_mouth"]) for r in rows]),
        ("iod", [r["iod"] for r in rows]),
        ("eye_mouth", [r["eye_mouth"] for r in rows]),
    ):
        x = np.log(f)
        A = np.c_[x, np.ones_like(x)]
        (beta, c), *_ = np.linalg.lstsq(A, y, rcond=None)
        pred = A @ [beta, c]
        # mean active error at factor 1 and at the fitted factor (capped at 1.4 as the rig does),
        # interpolated in log factor between the grid's errors
        fitted = np.exp(np.clip(pred, -np.log(1.4), np.log(1.4)))
        err = [float(np.interp(np.log(a), np.log(FACTORS), r["errors"])) for a, r in zip(fitted, rows)]
        res[name] = {
            "mean_error_mm_at_1": float(np.mean([r["errors"][FACTORS.index(1.0)] for r in rows])),
            "mean_error_mm_fitted": float(np.mean(err)),
            "beta": float(beta),
            "log_f0": float(-c / beta) if beta else None,
            "f0": float(np.exp(-c / beta)) if beta else None,
            "r": float(np.corrcoef(x, y)[0, 1]),
            "rms_log_before": float(np.sqrt(np.mean(y**2))),
            "rms_log_after": float(np.sqrt(np.mean((y - pred) ** 2))),
        }
    return res


if __name__ == "__main__":
    raise SystemExit(main())

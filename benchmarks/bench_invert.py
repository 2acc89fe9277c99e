"""Speed of inverse rigging and retargeting (benchmark, not a test).

1. Same-topology solve: a held-out MakeHuman identity (5,215 vertices) and a held-out ICT identity
   (26,719 vertices), each rigged once by facerig (``raf``); frames are the real take
   (``takes/livelink_rom_a.csv``) posed through the family's own shapes (so they are not exactly in
   the rig's span, as real frames are not). Timed: the one-off factorisation (``prepare``) and
   ``solve`` (the (T, 3V) x (3V, 52) product plus the bounded least squares), median of
   ``--repeat`` runs; frames per second = T / solve time. Also the same with ``--smooth 1`` and
   with the co-activation prior (``--prior take``: the per-frame energy, a second Newton solve).
2. End to end: ``facerig retarget SOURCE.glb --neutral NEUTRAL.obj --to TARGET.obj -o OUT.glb`` in
   a fresh process, SOURCE being a one-minute 60 fps animation (3,600 keyframes of the take) of an
   ICT identity's own rig, TARGET a Rocketbox head: both heads are rigged by facerig in the run.
   Also the solve on a Rocketbox head posed with its author's own shapes (1,000 take frames facerig's rig
   cannot rebuild exactly: the prior's tolerance bound searches lambda on most of them).

Goals (issue 25): >= 1,000 frames/s at 5k vertices and >= 200 frames/s at 27k on 2 cores after the
factorisation; the one-minute take retargeted end to end in <= 15 s.
Results: ``benchmarks/results/invert_speed.json`` (date, machine, load average).

Run: ``FACERIG_DATA=/path/to/shared/data .venv/bin/python benchmarks/bench_invert.py [--repeat 3]
[--solve-only --out benchmarks/results/invert_speed_prior.json] [--other-src /path/to/other/checkout/src]``
(``--other-src``: that checkout's ``invert/solver.py`` timed right after this tree's on the same frames,
every repeat, so both see the same machine load; its prior weights' MAE against this tree's is recorded).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]


def _other_solver(src: str):
    """``SRC/facerig/invert/solver.py`` of another checkout, loaded beside this tree's (its other imports
    resolve to this tree: a comparison of the solver alone)."""
    import importlib.util

    path = Path(src) / "facerig" / "invert" / "solver.py"
    spec = importlib.util.spec_from_file_location("facerig_other_solver", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _solve_speed(name, neutral, faces, names, deltas, take_W, T, repeat, other=None):
    from facerig.eval.invert import _truth_weights
    from facerig.invert.solver import prepare, solve
    from facerig.io.mesh import Mesh
    from facerig.models.registry import rig_mesh

    t0 = time.perf_counter()
    rig = rig_mesh(Mesh(vertices=neutral, faces=faces), method="raf")
    rig_s = time.perf_counter() - t0
    Wt, _ = _truth_weights(take_W[:T], names)
    frames = neutral.reshape(1, -1) + Wt @ np.asarray(deltas, np.float64).reshape(len(names), -1)
    frames = frames.reshape(T, -1, 3)
    prep_s, solve_s, smooth_s, prior_s, other_s, other_prior_s, other_mae = [], [], [], [], [], [], []
    unbounded_s = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        prep = prepare(rig, neutral)
        prep_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        solve(prep, frames, threads=1)
        solve_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        solve(prep, frames, smooth=1.0, threads=1)
        smooth_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        W = solve(prep, frames, prior="take", threads=1)
        prior_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()  # the prior without its tolerance bound (what the bound costs)
        solve(prep, frames, prior="take", prior_tolerance=float("inf"), threads=1)
        unbounded_s.append(time.perf_counter() - t0)
        if other is not None:  # alternate: the other tree's solver on the same frames right after
            t0 = time.perf_counter()
            other.solve(prep, frames)
            other_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            W_other = other.solve(prep, frames, prior="take")
            other_prior_s.append(time.perf_counter() - t0)
            other_mae.append(float(np.abs(W - W_other).mean()))
    med = float(np.median(solve_s))
    extra = {}
    if other is not None:
        extra["other_src"] = {
            "solve_seconds": [round(s, 4) for s in other_s],
            "frames_per_second": round(T / float(np.median(other_s)), 1),
            "prior_seconds": [round(s, 4) for s in other_prior_s],
            "prior_frames_per_second": round(T / float(np.median(other_prior_s)), 1),
            "prior_weight_mae_vs_this_tree": max(other_mae),
        }
    return extra | {
        "head": name,
        "vertices": int(neutral.shape[0]),
        "frames": T,
        "rig_seconds": round(rig_s, 2),
        "prepare_seconds": round(float(np.median(prep_s)), 4),
        "solve_seconds": [round(s, 4) for s in solve_s],
        "frames_per_second": round(T / med, 1),
        "smooth1_seconds": [round(s, 4) for s in smooth_s],
        "smooth1_frames_per_second": round(T / float(np.median(smooth_s)), 1),
        "prior_seconds": [round(s, 4) for s in prior_s],
        "prior_frames_per_second": round(T / float(np.median(prior_s)), 1),
        "prior_unbounded_seconds": [round(s, 4) for s in unbounded_s],
        "prior_unbounded_frames_per_second": round(T / float(np.median(unbounded_s)), 1),
    }


def _end_to_end(tmp: Path, take_W: np.ndarray, repeat: int) -> dict:
    from facerig.data.families import get_family, split_rng
    from facerig.io.gltf import GltfAnimation, save_rig_gltf
    from facerig.io.obj import write_obj
    from facerig.io.rig import Rig

    fam = get_family("ict")
    v = fam.sample_neutral(split_rng(0, "eval", 900))
    T = 3600
    W = take_W[:T] if len(take_W) >= T else np.resize(take_W, (T, 52))
    from facerig.eval.invert import _truth_weights

    Wt, _ = _truth_weights(W, fam.names)
    src = tmp / "source_1min.glb"
    save_rig_gltf(
        src,
        Rig(names=fam.names, deltas=fam.deltas_for(v), neutral=v, faces=fam.faces),
        animation=GltfAnimation(weights=Wt.astype(np.float32), fps=60.0),
    )
    neutral = tmp / "source_neutral.obj"
    write_obj(neutral, v, fam.faces)
    from facerig.config import data_root

    target = data_root() / "heads" / "rocketbox_female_adult_01.obj"
    out = tmp / "retargeted.glb"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    cmd = [
        sys.executable,
        "-m",
        "facerig.cli",
        "retarget",
        str(src),
        "--neutral",
        str(neutral),
        "--to",
        str(target),
        "-o",
        str(out),
    ]
    runs, log = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True)
        runs.append(round(time.perf_counter() - t0, 2))
        if p.returncode != 0:
            raise SystemExit(f"retarget failed: {p.stderr.strip()}")
        log = p.stdout
    return {
        "command": "facerig retarget source_1min.glb --neutral source_neutral.obj --to "
        "rocketbox_female_adult_01.obj -o retargeted.glb",
        "source": f"ICT eval identity, {fam.num_vertices} vertices, {T} keyframes at 60 fps (animated GLB, "
        f"{src.stat().st_size / 1e6:.1f} MB)",
        "target": "rocketbox_female_adult_01.obj (1,729 vertices), rigged by facerig raf in the run",
        "seconds": runs,
        "median_seconds": float(np.median(runs)),
        "output_mb": round(out.stat().st_size / 1e6, 2),
        "log": log.strip().splitlines(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "invert_speed.json"))
    ap.add_argument("--solve-only", action="store_true", help="skip the end-to-end retarget")
    ap.add_argument("--other-src", help="another checkout's src/: its solver timed alternately with this tree's")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    other = _other_solver(args.other_src) if args.other_src else None
    from facerig.data.families import get_family, split_rng
    from facerig.eval.invert import take_path
    from facerig.io.takes import read_take

    take_W = read_take(take_path()).weights
    res = {
        **run_meta(other_src=args.other_src, loadavg_before=os.getloadavg()),
        "goals": {"frames_per_second_5k": 1000, "frames_per_second_27k": 200, "one_minute_take_end_to_end_seconds": 15},
    }
    mh = get_family("makehuman")
    v = mh.sample_neutral(split_rng(0, "eval", 950))
    res["solve"] = [
        _solve_speed(
            "MakeHuman eval identity", v, mh.faces, mh.names, mh.deltas_for(v), take_W, 1000, args.repeat, other
        )
    ]
    print(res["solve"][-1], flush=True)
    ict = get_family("ict")
    v = ict.sample_neutral(split_rng(0, "eval", 900))
    res["solve"].append(
        _solve_speed("ICT eval identity", v, ict.faces, ict.names, ict.deltas_for(v), take_W, 500, args.repeat, other)
    )
    print(res["solve"][-1], flush=True)
    # another author's rig (Rocketbox): frames facerig's rig cannot rebuild, where the prior's tolerance
    # bound searches lambda (BENCHMARKS.md "Invert and retarget")
    from facerig.config import data_root
    from facerig.io import load_mesh

    rb = data_root() / "heads" / "rocketbox_female_adult_01.blendshapes.npz"
    if rb.exists():
        z = np.load(rb, allow_pickle=False)
        m = load_mesh(rb.with_name("rocketbox_female_adult_01.obj"), allow_degenerate=True, allow_unreferenced=True)
        names = [str(n) for n in z["names"]]
        res["solve"].append(
            _solve_speed(
                "Rocketbox female 01", m.vertices, m.faces, names, z["deltas"], take_W, 1000, args.repeat, other
            )
        )
        print(res["solve"][-1], flush=True)
    if not args.solve_only:
        with tempfile.TemporaryDirectory() as tmp:
            res["end_to_end"] = _end_to_end(Path(tmp), take_W, max(1, args.repeat - 1))
        print(res["end_to_end"]["seconds"], flush=True)
    res["loadavg_after"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

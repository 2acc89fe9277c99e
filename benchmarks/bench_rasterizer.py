"""Speed of the differentiable rasteriser (``facerig.render``), forward + backward, on the CPU.

Cases (one mesh, one camera, float32):

- ``head_10k``: the example head (``examples/ict_head/head.obj``) decimated to ~10k triangles
  (fast_simplification), 256 x 256 -- the brief's target case (<= 60 ms on a 2-core CPU);
- ``head_full``: the example head as shipped (52k triangles), 256 x 256;
- ``head_10k_512``: the 10k head at 512 x 512.

Wall time and process CPU time (all threads) are both kept: on a busy machine the one-thread CPU
time is the better estimate of the work. Each timed step is what a 2D loss does: ``render_mesh``
(projection, rasterisation, vertex normals, Lambert shading with silhouettes and occlusion
boundaries antialiased, camera-space normal map, soft mask; face adjacency precomputed once)
plus a 2D displacement field, a scalar loss over all of them and ``backward`` to the vertex
positions. Also timed separately: the forward alone and the visibility pass alone. Median of
``--repeats`` runs after 3 warm-ups. Writes ``benchmarks/results/rasterizer.json`` (date,
machine, torch threads, load average before and after) and, as a demo, the shaded head and its
normal map side by side to ``benchmarks/results/rasterizer_head.png`` (face toward +Z, +Y up).

Run: ``nice .venv/bin/python benchmarks/bench_rasterizer.py [--repeats 20] [--threads 1 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from _meta import run_meta
from facerig.io import load_mesh
from facerig.io.atomic import write_text_atomic
from facerig.render import (
    PerspectiveCameras,
    displacement_2d,
    face_neighbours,
    rasterize_meshes,
    render_mesh,
    write_png,
)

ROOT = Path(__file__).resolve().parents[1]
HEAD = ROOT / "examples" / "ict_head" / "head.obj"
RESULTS = ROOT / "benchmarks" / "results"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _decimate(v: np.ndarray, f: np.ndarray, faces: int) -> tuple[np.ndarray, np.ndarray]:
    import fast_simplification

    return fast_simplification.simplify(v.astype(np.float32), f.astype(np.int32), 1.0 - faces / len(f))


def _camera(v: torch.Tensor) -> PerspectiveCameras:
    """Frontal camera framing the head: 30 degree vertical FOV, looking down -Z at the bbox centre."""
    lo, hi = v.min(0).values, v.max(0).values
    c = (lo + hi) / 2
    dist = 1.1 * float((hi - lo)[1]) / (2 * np.tan(np.radians(15))) + float(hi[2] - c[2])
    return PerspectiveCameras.look_at(c + torch.tensor([0.0, 0.0, dist]), at=c, fov_y=30.0)


def _median_ms(fn, repeats: int) -> tuple[float, list[float], float]:
    """Median wall ms, all wall ms, median process CPU ms (all threads) of ``repeats`` calls after 3 warm-ups."""
    for _ in range(3):
        fn()
    ts, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(ts), ts, statistics.median(cpu)


def bench_case(v_np: np.ndarray, f_np: np.ndarray, size: tuple[int, int], repeats: int) -> dict:
    v0 = torch.tensor(v_np, dtype=torch.float32)[None]
    faces = torch.tensor(f_np, dtype=torch.long)
    cam = _camera(v0[0])
    nb = face_neighbours(faces)  # topology only: once per head, as a training loop would
    moved = v0 + 0.01 * torch.randn(v0.shape, generator=torch.Generator().manual_seed(0)) * (v0.amax() - v0.amin())

    def fwd_bwd():
        v = v0.clone().requires_grad_(True)
        d = moved.clone().requires_grad_(True)
        r = render_mesh(v, faces, cam, size, neighbours=nb)
        disp = displacement_2d(v, d, faces, cam, size, fragments=r.fragments)
        loss = r.image.mean() + r.normal_map.mean() + r.soft_mask.mean() + disp.abs().mean()
        loss.backward()
        return r

    def fwd():
        with torch.no_grad():
            return render_mesh(v0, faces, cam, size, neighbours=nb)

    vs = cam.transform_points_screen(v0, size)

    def vis():
        with torch.no_grad():
            return rasterize_meshes(vs, faces, size)

    r = fwd_bwd()
    med, ts, cpu = _median_ms(fwd_bwd, repeats)
    med_f, _, _ = _median_ms(fwd, repeats)
    med_r, _, _ = _median_ms(vis, repeats)
    return {
        "vertices": int(v0.shape[1]),
        "faces": int(faces.shape[0]),
        "image_size": list(size),
        "covered_pixels": int(r.mask.sum()),
        "forward_backward_ms_median": round(med, 2),
        "forward_backward_ms_min": round(min(ts), 2),
        "forward_backward_ms_max": round(max(ts), 2),
        "forward_backward_cpu_ms_median": round(cpu, 2),
        "forward_ms_median": round(med_f, 2),
        "rasterize_ms_median": round(med_r, 2),
        "repeats": repeats,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=None,
        help="torch intra-op thread counts to run in turn (default: torch's own)",
    )
    ap.add_argument("--out", type=Path, default=RESULTS / "rasterizer.json")
    ap.add_argument("--png", type=Path, default=RESULTS / "rasterizer_head.png")
    args = ap.parse_args()
    mesh = load_mesh(HEAD)
    v, f = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    v10, f10 = _decimate(v, f, 10_000)
    load = os.getloadavg()
    runs = []
    for threads in args.threads or [torch.get_num_threads()]:
        torch.set_num_threads(threads)  # a benchmark script, not the library: it may set its own threads
        runs.append(
            {
                "torch_threads": threads,
                "cases": {
                    "head_10k": bench_case(v10, f10, (256, 256), args.repeats),
                    "head_full": bench_case(v, f, (256, 256), args.repeats),
                    "head_10k_512": bench_case(v10, f10, (512, 512), args.repeats),
                },
            }
        )
    # demo: the full head, shaded and as a normal map, side by side
    vt = torch.tensor(v, dtype=torch.float32)[None]
    r = render_mesh(vt, torch.tensor(f), _camera(vt[0]), (256, 256))
    write_png(args.png, torch.cat([r.image[0], r.normal_map[0]], dim=1).clamp(0, 1))
    out = {
        "benchmark": "bench_rasterizer.py",
        **run_meta(cpu=_cpu_name(), load_average_before=[round(x, 2) for x in load]),
        "step": "render_mesh (shade + antialias + normal map + soft mask) + displacement_2d, loss, backward",
        "note": "2-core VM shared with other engineers' jobs during the run (see load_average_before, "
        "load_average); the lead re-runs it",
        "runs": runs,
        "demo_png": str(args.png.relative_to(ROOT)) if args.png.is_relative_to(ROOT) else str(args.png),
    }
    write_text_atomic(args.out, json.dumps(out, indent=2) + "\n")
    print(
        f"{'case':14s} {'threads':>7s} {'faces':>6s} {'size':>9s} {'fwd+bwd ms':>10s} {'(min)':>6s} {'(cpu)':>6s} "
        f"{'fwd ms':>7s} {'raster ms':>9s}"
    )
    for run in runs:
        for name, c in run["cases"].items():
            h, w = c["image_size"]
            print(
                f"{name:14s} {run['torch_threads']:7d} {c['faces']:6d} {h:4d}x{w:<4d} "
                f"{c['forward_backward_ms_median']:10.1f} {c['forward_backward_ms_min']:6.1f} "
                f"{c['forward_backward_cpu_ms_median']:6.1f} {c['forward_ms_median']:7.1f} "
                f"{c['rasterize_ms_median']:9.1f}"
            )
    print(f"loadavg before {load}, after {os.getloadavg()}; wrote {args.out}")


if __name__ == "__main__":
    main()

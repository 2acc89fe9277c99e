"""Benchmark ``facerig.geometry.operators.compute_operators`` (no cache) at ~2k/10k/27k/60k vertices.

Meshes: the ICT FaceKit neutral head (26,719 v, 56 parts) and ``remesh``-ed versions of it at
~2k, ~10k and ~60k vertices (decimated / refined per part). Without ICT, a stand-in head
(ellipsoid + two eyeballs, icosphere based) is used instead. Each size is run once:
Laplacian+mass, eigenbasis (k=128, shift-invert eigsh), tangent frames+gradients, and a cache-hit
load. Prints a markdown table and writes ``benchmarks/results/operators.json``.

Run: ``OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_operators.py [--k 128]``
(threads default to 2 if unset).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "2")

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from _meta import run_meta  # noqa: E402
from facerig.geometry.operators import compute_operators  # noqa: E402
from facerig.geometry.remesh import remesh  # noqa: E402


def _read_obj_triangles(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """v (V,3), fan-triangulated f (F,3) of an OBJ, keeping ``v`` order."""
    vs, fs = [], []
    with open(path) as fh:
        for line in fh:
            if line.startswith("v "):
                vs.append([float(t) for t in line.split()[1:4]])
            elif line.startswith("f "):
                idx = [int(t.split("/")[0]) - 1 for t in line.split()[1:]]
                fs += [[idx[0], idx[a], idx[a + 1]] for a in range(1, len(idx) - 1)]
    return np.asarray(vs, dtype=np.float64), np.asarray(fs, dtype=np.int64)


def _head() -> tuple[str, np.ndarray, np.ndarray]:
    from facerig.config import cache_dir, ict_dir

    candidates = [cache_dir("ict") / "FaceXModel" / "generic_neutral_mesh.obj"]
    try:
        d = ict_dir(required=False)
        if d is not None:
            candidates += [Path(d) / "generic_neutral_mesh.obj", Path(d) / "FaceXModel" / "generic_neutral_mesh.obj"]
    except Exception:
        pass
    for p in candidates:
        if p.is_file():
            v, f = _read_obj_triangles(p)
            return "ICT FaceKit neutral", v, f
    import trimesh

    parts = [
        (trimesh.creation.icosphere(5, radius=1.0), (1.0, 1.3, 1.1), (0, 0, 0)),
        (trimesh.creation.icosphere(4, radius=0.12), (1, 1, 1), (0.35, 0.25, 0.95)),
        (trimesh.creation.icosphere(4, radius=0.12), (1, 1, 1), (-0.35, 0.25, 0.95)),
    ]
    vs, fs, off = [], [], 0
    for m, scale, center in parts:
        vs.append(np.asarray(m.vertices) * scale + center)
        fs.append(np.asarray(m.faces) + off)
        off += len(m.vertices)
    return "icosphere head stand-in", np.concatenate(vs) * 10.0, np.concatenate(fs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=128)
    ap.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=[2000, 10000, 0, 60000],
        help="target vertex counts; 0 = the head itself",
    )
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "operators.json")
    args = ap.parse_args()

    name, v0, f0 = _head()
    rows = []
    for target in args.sizes:
        if target == 0:
            v, f, label, t_remesh = v0, f0, name, None
        else:
            t = time.perf_counter()
            r = remesh(v0, f0, target, seed=0)
            t_remesh = time.perf_counter() - t
            v, f, label = r.vertices, r.faces, f"{name}, remeshed"
        tm: dict = {}
        t = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            ops = compute_operators(v, f, k=args.k, cache=True, cache_dir=tmp, timings=tm)
            total = time.perf_counter() - t
            hit: dict = {}
            compute_operators(v, f, k=args.k, cache=True, cache_dir=tmp, timings=hit)
            size_mb = sum(p.stat().st_size for p in Path(tmp).glob("*.npz")) / 2**20
        rows.append(
            {
                "mesh": label,
                "vertices": int(len(v)),
                "faces": int(len(f)),
                "k": int(ops.k),
                "remesh_s": None if t_remesh is None else round(t_remesh, 3),
                "laplacian_mass_s": round(tm["laplacian"], 3),
                "eigenbasis_s": round(tm["eigen"], 3),
                "gradients_s": round(tm["gradients"], 3),
                "total_s": round(total, 3),  # includes writing the cache file
                "cache_hit_s": round(hit["load"], 4),
                "cache_mb": round(size_mb, 1),
            }
        )
        print(f"done {len(v)} vertices in {total:.1f}s", flush=True)

    # load_average: the machine is shared, context for the timings
    meta = run_meta(threads=os.environ.get("OMP_NUM_THREADS"), numpy=np.__version__)
    try:
        import scipy

        meta["scipy"] = scipy.__version__
    except ImportError:  # pragma: no cover
        pass
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")

    print(f"\n### compute_operators (k={args.k}, no cache) — {meta['date']}\n")
    print(
        f"Machine: {meta['machine']}; Python {meta['python']}, numpy {meta['numpy']}, "
        f"scipy {meta.get('scipy')}; threads {meta['threads']}; load average {meta['load_average']}\n"
    )
    print(
        "| mesh | V | F | Laplacian+mass (s) | eigenbasis (s) | gradients (s) | total (s) | cache hit (s) | cache (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['mesh']} | {r['vertices']:,} | {r['faces']:,} | {r['laplacian_mass_s']:.2f} | "
            f"{r['eigenbasis_s']:.2f} | {r['gradients_s']:.2f} | {r['total_s']:.2f} | "
            f"{r['cache_hit_s']:.3f} | {r['cache_mb']:.1f} |"
        )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

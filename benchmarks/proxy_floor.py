"""The accuracy floor of the proxy design: GT -> proxy -> back, no network.

``facerig rig`` runs the network on a ~8k-vertex proxy of each head
(``facerig.models.raf.method.RIG_PROXY_VERTICES``; training pools use ~5k, ``facerig.geometry.proxy``).
Training targets are the GT sampled on the proxy (``Proxy.from_full``, as the pool does) and a
rig carries proxy displacements back with ``Proxy.to_full``. This benchmark pushes the GT deltas
through that round trip and scores the result with the evaluation metrics, so it tells how much
of the network's error the proxy alone would cost even with a perfect network.

    python benchmarks/proxy_floor.py evalset [--proxy-vertices 8000] [--out benchmarks/results/proxy_floor.json]

Prints active-vertex mean error (mm) per group; writes a JSON with per-head numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from _meta import run_meta


def main(argv: list[str] | None = None) -> int:
    from facerig.eval import metrics as M
    from facerig.eval.harness import load_index
    from facerig.geometry.proxy import build_proxy
    from facerig.io import load_mesh
    from facerig.io.atomic import atomic_path
    from facerig.models.raf.config import RIG_PROXY_VERTICES

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set_dir")
    ap.add_argument("--proxy-vertices", type=int, default=RIG_PROXY_VERTICES)
    ap.add_argument("--out", default="benchmarks/results/proxy_floor.json")
    args = ap.parse_args(argv)

    set_dir = Path(args.set_dir)
    heads = load_index(set_dir)["heads"]
    records = []
    for h in heads:
        t0 = time.perf_counter()
        gt = np.load(set_dir / h["gt"], allow_pickle=False)
        mesh = load_mesh(set_dir / h["mesh"], allow_degenerate=True, allow_unreferenced=True)
        mm = float(h.get("mm_per_unit") or 1.0)
        deltas = np.asarray(gt["deltas"], np.float32)  # (K,V,3)
        v = np.asarray(mesh.vertices, np.float64)
        proxy = build_proxy(v, mesh.faces, args.proxy_vertices)
        back = proxy.to_full(proxy.from_full(v, mesh.faces, deltas))
        per = M.shape_errors(back, deltas, mm)
        s = M.head_summary(per)
        rec = {
            "id": h["id"],
            "group": h["group"],
            "num_vertices": mesh.num_vertices,
            "proxy_vertices": proxy.num_vertices,
            "active_mm": s["active_mm"],
            "relative": s["relative"],
            "seconds": round(time.perf_counter() - t0, 2),
        }
        records.append(rec)
        print(
            f"{h['id']:>20s} {mesh.num_vertices:6d} -> {proxy.num_vertices:5d}  active {s['active_mm']:.3f} mm",
            flush=True,
        )
    groups: dict[str, list[float]] = {}
    for r in records:
        groups.setdefault(r["group"], []).append(r["active_mm"])
    summary = {g: float(np.mean(v)) for g, v in groups.items()}
    summary["all"] = float(np.mean([r["active_mm"] for r in records]))
    print("\nactive mm of the GT round trip through the proxy, by group:")
    for g, v in summary.items():
        print(f"  {g:>14s} {v:.3f}")
    out = {
        "benchmark": "proxy_floor",
        **run_meta(),
        "proxy_vertices": args.proxy_vertices,
        "groups": summary,
        "heads": records,
    }
    with atomic_path(Path(args.out), suffix=".json") as tmp:
        tmp.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

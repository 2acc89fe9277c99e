"""Does the head frame's scale match each head's motion? A diagnostic for the raf method.

The network predicts displacements in head widths (``facerig.geometry.proxy.head_frame``: the
head's X extent in a slab around the nose tip, refined a few times); a rig multiplies them by
that width. If the width misjudges a head (a warp that pinches it at nose height, a narrow
identity whose rig moves as much as a wide one), every shape comes out too small or too large
by the same factor. This script puts, per validation head, the frame width beside the median
over shapes of the best per-shape scale of the prediction (``si_scale`` in an eval result): a
median far from 1 means the head's scale, not its shapes, is what the network got wrong. (A
prediction mostly orthogonal to the GT, as with another author's rig style, also gives small
best scales; read the column beside the head's scale-invariant error.)

    python benchmarks/frame_scale.py evalset [--eval benchmarks/results/eval_raf.json] [--out FILE]

Prints a markdown table (mm) and writes a JSON with the same numbers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _meta import run_meta

RESULTS = Path(__file__).resolve().parent / "results"


def slab_widths(vertices: np.ndarray, iterations: int = 3) -> list[float]:
    """Width estimates of :func:`facerig.geometry.proxy.head_frame` after each refinement:
    vertices (V,3), +Y up, face +Z -> ``iterations`` widths (input units)."""
    from facerig.geometry.proxy import head_frame

    return [head_frame(vertices, iterations=i + 1)[1] for i in range(iterations)]


def main(argv: list[str] | None = None) -> int:
    from facerig.eval.harness import load_index
    from facerig.io import load_mesh
    from facerig.io.atomic import atomic_path

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set_dir")
    ap.add_argument("--eval", default=str(RESULTS / "eval_raf.json"), help="an eval result of the method")
    ap.add_argument("--out", default=str(RESULTS / "frame_scale.json"))
    args = ap.parse_args(argv)

    set_dir = Path(args.set_dir)
    with open(args.eval) as f:
        result = {h["id"]: h for h in json.load(f)["heads"]}
    rows = []
    print("| head | group | bbox x | first width | frame width | median best scale | width that fits |")
    print("|---|---|---|---|---|---|---|")
    for h in load_index(set_dir)["heads"]:
        r = result.get(h["id"])
        if r is None or r.get("status") != "ok" or not r.get("shapes"):
            continue
        mesh = load_mesh(set_dir / h["mesh"], allow_degenerate=True, allow_unreferenced=True)
        mm = float(h.get("mm_per_unit") or 1.0)
        v = np.asarray(mesh.vertices, np.float64) * mm
        widths = slab_widths(v)
        scale = float(np.median([s["si_scale"] for s in r["shapes"].values()]))
        rec = {
            "id": h["id"],
            "group": h["group"],
            "bbox_x_mm": float(np.ptp(v[:, 0])),
            "first_width_mm": widths[0],
            "frame_width_mm": widths[-1],
            "median_si_scale": scale,
            "fitting_width_mm": widths[-1] * scale,
        }
        rows.append(rec)
        print(
            f"| {h['id']} | {h['group']} | {rec['bbox_x_mm']:.1f} | {widths[0]:.1f} | {widths[-1]:.1f} | "
            f"{scale:.2f} | {rec['fitting_width_mm']:.1f} |"
        )
    out = {
        "benchmark": "frame_scale",
        **run_meta(),
        "eval": args.eval,
        "heads": rows,
    }
    with atomic_path(args.out) as tmp:
        Path(tmp).write_text(json.dumps(out, indent=1))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Heads as web pipelines ship them: gltfpack'd (meshopt-compressed, quantized) GLBs read and rigged
like the same head uncompressed.

For each head (the two public Rocketbox heads in ``FACERIG_DATA/heads`` and the bundled example
head, all in centimetres), gltfpack (the npm package; ``npm install gltfpack`` in any folder, pass
its ``node_modules/.bin/gltfpack``) writes four GLBs into a temporary folder:

- ``noq``: ``-noq``, no compression, no quantization: the reference (gltfpack welds and reorders
  vertices, so the reference is its output, not the OBJ);
- ``c_noq``: ``-c -noq``, meshopt-compressed floats: must read back bit for bit as ``noq``;
- ``c``: ``-c``, compressed and quantized (14-bit integer positions + node scale: gltfpack's default);
- ``cc``: ``-cc``, the higher compression level.

Recorded per head and variant: the file size, the read time (median of 5), whether the vertices
are ``noq``'s bit for bit / in ``noq``'s order, the largest distance to the nearest ``noq`` vertex
(both ways) in mm; for ``c`` the rig (``rig_mesh``, ``raf``) compared with the rig of ``noq``
(largest and mean per-vertex delta difference in mm over the 52 shapes, entries over 1 mm), next to
a control: the rig of ``noq`` moved by uniform noise as large as ``c``'s quantization error, and the
largest delta (for scale).

    nice python benchmarks/gltfpack_heads.py --gltfpack /tmp/x/node_modules/.bin/gltfpack [--tag T]

writes ``benchmarks/results/gltfpack_heads[_T].json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from _meta import write_result

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"noq": ["-noq"], "c_noq": ["-c", "-noq"], "c": ["-c"], "cc": ["-cc"]}
MM_PER_UNIT = 10.0  # every head here is in centimetres


def _heads() -> dict[str, Path]:
    from facerig.config import data_root

    heads = {p.stem: p for p in sorted((data_root() / "heads").glob("rocketbox_*_adult_*.obj"))}
    heads["ict_example"] = ROOT / "examples" / "ict_head" / "head.obj"
    return heads


def _read_time(path: Path) -> float:
    from facerig.io import read_mesh

    times = []
    for _ in range(5):
        t = time.perf_counter()
        read_mesh(path)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gltfpack", required=True, help="the gltfpack executable (npm package gltfpack)")
    ap.add_argument("--tag", default="")
    ap.add_argument("--only", default=None, help="comma-separated head names")
    args = ap.parse_args(argv)
    from facerig.io import read_mesh
    from facerig.models.registry import rig_mesh

    version = subprocess.run([args.gltfpack, "-v"], capture_output=True, text=True).stdout.strip() or None
    rows = []
    heads = _heads()
    if args.only:
        heads = {k: v for k, v in heads.items() if k in args.only.split(",")}
    with tempfile.TemporaryDirectory() as tmp:
        for name, obj in heads.items():
            files = {}
            for var, flags in VARIANTS.items():
                out = Path(tmp) / f"{name}_{var}.glb"
                subprocess.run([args.gltfpack, "-i", str(obj), "-o", str(out), *flags], check=True, capture_output=True)
                files[var] = out
            ref = read_mesh(files["noq"])
            row = {"head": name, "obj_vertices": read_mesh(obj).num_vertices, "vertices": ref.num_vertices}
            tree = cKDTree(ref.vertices)
            for var, path in files.items():
                m = read_mesh(path)
                same_count = m.num_vertices == ref.num_vertices
                nn = max(tree.query(m.vertices)[0].max(), cKDTree(m.vertices).query(ref.vertices)[0].max())
                row[var] = {
                    "bytes": path.stat().st_size,
                    "read_s": round(_read_time(path), 4),
                    "meshopt_views": m.info.get("meshopt_views", 0),
                    "bit_identical": bool(same_count and np.array_equal(m.vertices, ref.vertices)),
                    # in noq's order: each vertex within a few quantization steps of its noq namesake
                    "same_order": bool(
                        same_count and np.linalg.norm(m.vertices - ref.vertices, axis=1).max() <= 10 * nn + 1e-12
                    ),
                    "max_position_diff_mm": round(float(nn * MM_PER_UNIT), 5),  # nearest vertex, both ways
                }
            quant = read_mesh(files["c"])
            a = rig_mesh(ref, "raf")
            b = rig_mesh(quant, "raf")
            # the control: the same head moved by uniform noise as large as the quantization error
            err = float(np.abs(quant.vertices - ref.vertices).max())
            rng = np.random.default_rng(0)
            noisy = dataclasses.replace(ref, vertices=ref.vertices + rng.uniform(-err, err, ref.vertices.shape))
            c = rig_mesh(noisy, "raf")
            for key, other in (("rig_vs_noq_mm", b), ("rig_noise_control_mm", c)):
                diff = np.linalg.norm(a.deltas - other.deltas, axis=2) * MM_PER_UNIT
                row["c"][key] = {
                    "max": round(float(diff.max()), 4),
                    "mean": round(float(diff.mean()), 5),
                    "entries_over_1mm": int((diff > 1).sum()),
                }
            row["c"]["largest_delta_mm"] = round(float(np.linalg.norm(a.deltas, axis=2).max() * MM_PER_UNIT), 3)
            print(name, row)
            rows.append(row)
    write_result("gltfpack_heads", args.tag, {"gltfpack": version, "heads": rows}, argv)


if __name__ == "__main__":
    main()

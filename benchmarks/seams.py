"""Open seams: how a head split as exporters split it is rigged, with and without stitching.

glTF (and most FBX/game pipelines) store one vertex per distinct (position, UV, normal) corner,
so a head arrives split along its UV seams, often into several disconnected islands. This
benchmark splits the bundled example head (ICT FaceKit topology, 26,719 vertices, with UVs)
exactly that way, rigs the split head with the ``raf`` method with seam stitching on (default)
and off (``weld=0``), and compares both with the rig of the unsplit head on the same points
(the split changes the mesh's connectivity only, so a seam-robust rig is identical). It also
lists how many vertices stitching merges on each head of a validation set (where a head needs
none, its rig is unchanged), the widest gap it closes there, and each head's non-manifold
edges (edges of more than two faces).

    python benchmarks/seams.py [SET_DIR] [--out benchmarks/results/seams.json]

Errors in mm (the example head is in ICT's centimetres), over the vertices the unsplit rig moves
by more than 0.5 mm, averaged over the 52 shapes; "share of motion" divides by their mean motion.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

MM_PER_UNIT = 10.0  # the example head is ICT FaceKit's neutral, in centimetres


def split_like_an_exporter(mesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One vertex per distinct (position, UV) corner, polygons fan-triangulated:
    -> (vertices (V',3), faces (F',3), source (V',) input vertex of each new vertex)."""
    ids: dict[tuple[int, int], int] = {}
    source: list[int] = []
    faces: list[list[int]] = []
    for poly, uvs in zip(mesh.polygons, mesh.uv_faces):
        corner = []
        for vi, ti in zip(poly.tolist(), uvs.tolist()):
            key = (vi, ti)
            if key not in ids:
                ids[key] = len(source)
                source.append(vi)
            corner.append(ids[key])
        faces += [[corner[0], corner[k], corner[k + 1]] for k in range(1, len(corner) - 1)]
    src = np.asarray(source, dtype=np.int64)
    return np.asarray(mesh.vertices)[src], np.asarray(faces, dtype=np.int64), src


def non_manifold_edges(faces: np.ndarray, num_vertices: int) -> int:
    """Number of edges shared by more than two faces."""
    f = np.asarray(faces, dtype=np.int64)
    a, b = f.ravel(), f[:, [1, 2, 0]].ravel()
    _, counts = np.unique(np.minimum(a, b) * num_vertices + np.maximum(a, b), return_counts=True)
    return int((counts > 2).sum())


def compare(deltas: np.ndarray, reference: np.ndarray) -> dict:
    """Mean error (mm) on the reference's moving vertices, per shape then averaged."""
    errs, shares = [], []
    for d, r in zip(deltas, reference):
        mot = np.linalg.norm(r, axis=1) * MM_PER_UNIT
        act = mot > 0.5
        if not act.any():
            continue
        e = np.linalg.norm(d - r, axis=1)[act].mean() * MM_PER_UNIT
        errs.append(e)
        shares.append(e / mot[act].mean())
    return {"active_mm": float(np.mean(errs)), "share_of_motion": float(np.mean(shares)), "shapes": len(errs)}


def main(argv: list[str] | None = None) -> int:
    from facerig.config import repo_root
    from facerig.geometry.components import connected_components
    from facerig.geometry.weld import DEFAULT_WELD_TOLERANCE, weld_seams
    from facerig.io import load_mesh
    from facerig.io.atomic import write_text_atomic
    from facerig.io.mesh import Mesh
    from facerig.models.raf.method import rig_raf

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set_dir", nargs="?", default="evalset", help="validation set to scan (skipped if absent)")
    ap.add_argument("--head", default=str(repo_root() / "examples" / "ict_head" / "head.obj"))
    ap.add_argument("--out", default=str(repo_root() / "benchmarks" / "results" / "seams.json"))
    args = ap.parse_args(argv)

    mesh = load_mesh(args.head)
    v2, f2, src = split_like_an_exporter(mesh)
    parts = int(connected_components(len(mesh.vertices), mesh.faces).max()) + 1
    parts2 = int(connected_components(len(v2), f2).max()) + 1
    t0 = time.perf_counter()
    ref = rig_raf(mesh).deltas[:, src]
    rows = {}
    for label, weld in (("stitched (default)", DEFAULT_WELD_TOLERANCE), ("not stitched (weld=0)", 0.0)):
        out = rig_raf(Mesh(vertices=v2, faces=f2), weld=weld)
        rows[label] = {**compare(out.deltas, ref), "stitched_vertices": out.meta["raf"]["seam_vertices_stitched"]}
    result = {
        "head": str(Path(args.head).name),
        "vertices": len(mesh.vertices),
        "parts": parts,
        "split_vertices": len(v2),
        "split_parts": parts2,
        "rigs": rows,
        "seconds": round(time.perf_counter() - t0, 1),
        **run_meta(),
    }
    print(
        f"{result['head']} split at its UV seams as a glTF exporter does: {len(mesh.vertices):,} -> "
        f"{len(v2):,} vertices, {parts} -> {parts2} parts\n"
    )
    print(
        "| raf on the split head | stitched vertices | mm from the unsplit head's rig (moving vertices) | share of motion |"
    )
    print("|---|---|---|---|")
    for label, r in rows.items():
        print(f"| {label} | {r['stitched_vertices']:,} | {r['active_mm']:.3f} | {r['share_of_motion']:.3f} |")

    index = Path(args.set_dir) / "index.json"
    if index.is_file():
        scan = {}
        for head in json.loads(index.read_text())["heads"]:
            m = load_mesh(Path(args.set_dir) / head["mesh"], allow_degenerate=True, allow_unreferenced=True)
            wv, _, ix = weld_seams(m.vertices, m.faces)
            gap = 2 * np.linalg.norm(m.vertices - wv[ix], axis=1).max() * float(head.get("mm_per_unit") or 1.0)
            scan[head["id"]] = {
                "stitched_vertices": len(m.vertices) - len(wv),
                "largest_gap_mm": round(float(gap), 4),
                "non_manifold_edges": non_manifold_edges(m.faces, len(m.vertices)),
            }
        result["validation_set"] = scan
        hit = {k: r for k, r in scan.items() if r["stitched_vertices"]}
        print(
            f"\nvalidation set ({len(scan)} heads): stitching merges vertices on "
            + (
                ", ".join(
                    f"{k} ({r['stitched_vertices']} vertices, gaps up to {r['largest_gap_mm']:.3f} mm)"
                    for k, r in hit.items()
                )
                or "none"
            )
            + "; the other heads are unchanged"
        )
        nm = {k: r["non_manifold_edges"] for k, r in scan.items() if r["non_manifold_edges"]}
        print(
            f"non-manifold edges (edges of more than two faces): {', '.join(f'{k} {n}' for k, n in nm.items()) or 'none'}"
        )
    write_text_atomic(args.out, json.dumps(result, indent=1))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

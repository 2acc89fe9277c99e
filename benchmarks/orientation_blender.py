"""``--auto-orient`` and the head check on real Blender exports in Blender's own axes (+Z up, -Y forward).

    .venv/bin/python benchmarks/orientation_blender.py HEADS_DIR [--out JSON]

``HEADS_DIR`` holds heads as OBJ, +Y up and facing +Z (as for ``benchmarks/orientation.py``). Each
head is imported into Blender (``bpy``; the file's +Z as forward, so the head stands +Z up in the
scene facing -Y, as Blender's front view shows it) and exported three ways: OBJ in the scene's own
axes (``wm.obj_export``, up Z, forward -Y: a Z-up export), FBX with ``axis_up="Z"``,
``axis_forward="-Y"`` and the space transform baked, and FBX with the exporter's defaults. Each
file is read back by facerig's readers; the orientation it holds is found by matching its
vertices to the head turned each of the 24 ways (up to scale: the FBX is in centimetres), and it
is given to :func:`facerig.models.raf.orientation.find_orientation` (``--auto-orient``) and to the
head check as ``facerig rig`` runs it without ``--up``/``--forward`` (the probe in +y/+z, then
:func:`~facerig.models.raf.orientation.verdict`). Writes ``benchmarks/results/orientation_blender.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

_EXPORT = r"""
import sys
import bpy
src, obj_out, fbx_out, fbx_default = sys.argv[-4], sys.argv[-3], sys.argv[-2], sys.argv[-1]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.wm.obj_import(filepath=src, forward_axis="Z", up_axis="Y")
bpy.ops.wm.obj_export(filepath=obj_out, forward_axis="NEGATIVE_Y", up_axis="Z", export_materials=False,
                      export_uv=False, export_normals=False)
bpy.ops.export_scene.fbx(filepath=fbx_out, object_types={"MESH"}, axis_forward="-Y", axis_up="Z",
                         bake_space_transform=True)
bpy.ops.export_scene.fbx(filepath=fbx_default, object_types={"MESH"})
print("FACERIG_OK")
"""


def held_orientation(head: np.ndarray, read: np.ndarray) -> tuple[str, str] | None:
    """The (up, forward) that ``read`` (V, 3) holds the upright ``head`` (V, 3) in: the turn whose
    vertices match it up to a scale (None when none does, as where the vertex order changed)."""
    from facerig.geometry.frame import orientation_matrix
    from facerig.geometry.orient import ORIENTATIONS

    if read.shape != head.shape:
        return None
    h = head - head.mean(0)
    r = read - read.mean(0)
    best, err = None, np.inf
    for u, f in ORIENTATIONS:
        t = h @ orientation_matrix(u, f)
        scale = float((t * r).sum() / max((t * t).sum(), 1e-300))
        e = float(np.abs(r - scale * t).max() / (np.abs(r).max() or 1.0))
        if scale > 0 and e < err:
            best, err = (u, f), e
    return best if err < 1e-4 else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("heads", help="folder of heads (OBJ, +Y up, facing +Z)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "orientation_blender.json"))
    args = p.parse_args(argv)
    from facerig.geometry.orient import orientation_features, rank_orientations
    from facerig.io import read_mesh
    from facerig.io.fbx import _run_blender, load_mesh_fbx
    from facerig.io.validate import validate_mesh
    from facerig.models.raf.orientation import find_orientation, probe_candidates, verdict

    rows = []
    kinds = ("obj_z_up", "fbx_z_up", "fbx_default")
    for path in sorted(Path(args.heads).glob("*.obj")):
        head = np.asarray(validate_mesh(read_mesh(path), None, allow_degenerate=True, allow_unreferenced=True).vertices)
        with tempfile.TemporaryDirectory(prefix="facerig-orient-blender-") as tmp:
            files = [Path(tmp) / "head.obj", Path(tmp) / "head.fbx", Path(tmp) / "head_default.fbx"]
            _run_blender(_EXPORT, [str(path.resolve()), *map(str, files)], str(path))
            row = {"head": path.stem}
            for kind, file in zip(kinds, files):
                reader = read_mesh if file.suffix == ".obj" else load_mesh_fbx
                mesh = validate_mesh(reader(file), None, allow_degenerate=True, allow_unreferenced=True)
                truth = held_orientation(head, np.asarray(mesh.vertices, np.float64))
                t0 = time.perf_counter()
                with np.errstate(all="ignore"):
                    up, fwd, info = find_orientation(mesh, {})
                t_auto = time.perf_counter() - t0
                t0 = time.perf_counter()
                with np.errstate(all="ignore"):
                    feats = orientation_features(mesh.vertices, mesh.faces)
                    ranked = rank_orientations(mesh.vertices, mesh.faces, features=feats)
                t_prior = time.perf_counter() - t0
                check = probe_candidates(mesh, [("+y", "+z")], {})[("+y", "+z")][0]
                decision, better = verdict(ranked, feats, "+y", "+z", check)
                row[kind] = {
                    "vertices": mesh.num_vertices,
                    "holds": list(truth) if truth else None,
                    "auto_orient": [up, fwd],
                    "auto_orient_right": (up, fwd) == truth,
                    "auto_orient_seconds": round(t_auto, 2),
                    "probe_as_given": check,
                    "head_check": [decision, list(better) if better else None],
                    "head_check_right": (decision == "rig") if truth == ("+y", "+z") else better == truth,
                    "head_check_wrong_axes": bool(better) and better != truth,
                    "prior_seconds": round(t_prior, 3),
                }
            rows.append(row)
            print(json.dumps(row), flush=True)
    summary = {
        k: {
            "holds": sorted({" ".join(r[k]["holds"] or ["?"]) for r in rows}),
            "auto_orient_right": sum(r[k]["auto_orient_right"] for r in rows),
            "head_check_right": sum(r[k]["head_check_right"] for r in rows),
            "head_check_wrong_axes": sum(r[k]["head_check_wrong_axes"] for r in rows),
            "heads": len(rows),
        }
        for k in kinds
    }
    out = {
        "meta": {
            **run_meta(),
            "heads": str(args.heads),
        },
        "summary": summary,
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

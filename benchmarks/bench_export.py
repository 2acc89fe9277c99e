"""Export benchmark: time and size of every rig output on the ICT FaceKit head.

The rig is built straight from the ICT OBJs (26,719 vertices, cm, quads + UVs + 12 materials):
``deltas[k] = <expression>.obj - generic_neutral_mesh.obj`` for the 51 ARKit shapes ICT has
(``browInnerUp_L + _R`` and ``cheekPuff_L + _R`` summed; ``cheekRaiser``/``PupilDilate`` not
ARKit; ``tongueOut`` absent, so it is added as an all-zero shape to make the usual 52).

    .venv/bin/python benchmarks/bench_export.py [--ict DIR] [--out benchmarks/results/export.json] [--no-fbx]

Prints a markdown table and writes the JSON. Outputs go to a temporary folder (deleted).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _meta import run_meta
from facerig.arkit import ARKIT52, canonical_name
from facerig.config import repo_root


def find_ict(arg: str | None) -> Path:
    cands = [Path(arg)] if arg else []
    env = os.environ.get("FACERIG_ICT_DIR")
    if env:
        cands += [Path(env), Path(env) / "FaceXModel"]
    cands.append(Path(os.environ.get("FACERIG_CACHE", Path.home() / ".cache" / "facerig")) / "ict" / "FaceXModel")
    for c in cands:
        if (c / "generic_neutral_mesh.obj").is_file():
            return c
    sys.exit("ICT FaceKit FaceXModel folder not found (pass --ict DIR)")


def build_rig(ict: Path):
    from facerig.io.obj import read_obj
    from facerig.io.rig import Rig

    mesh = read_obj(ict / "generic_neutral_mesh.obj")
    acc: dict[str, np.ndarray] = {}
    for f in sorted(ict.glob("*.obj")):
        stem = f.stem
        if stem.startswith(("identity", "generic_neutral")):
            continue
        name = stem.split("_")[0] if stem.startswith(("browInnerUp_", "cheekPuff_")) else canonical_name(stem)
        if name is None:
            continue
        d = read_obj(f).vertices - mesh.vertices
        acc[name] = acc.get(name, 0) + d
    names = [n for n in ARKIT52 if n in acc]
    missing = [n for n in ARKIT52 if n not in acc]
    deltas = np.stack([acc[n] for n in names] + [np.zeros_like(mesh.vertices) for _ in missing]).astype(np.float32)
    rig = Rig(
        names=names + missing,
        deltas=deltas,
        neutral=mesh.vertices,
        faces=mesh.faces,
        meta={"method": "ict-groundtruth", "units": "cm", "missing": missing},
    )
    return mesh, rig, len(names)


def dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def timed(fn, repeat: int = 1):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def validate(path: Path) -> dict | None:
    node, val = shutil.which("node"), repo_root() / "node_modules" / "gltf-validator"
    if node is None or not val.is_dir():
        return None
    script = (
        "const v=require(process.argv[1]);const fs=require('fs');"
        "v.validateBytes(new Uint8Array(fs.readFileSync(process.argv[2]))).then(r=>console.log(JSON.stringify("
        "{errors:r.issues.numErrors,warnings:r.issues.numWarnings,infos:r.issues.numInfos})));"
    )
    p = subprocess.run(
        [node, "-e", script, str(val), str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    return json.loads(p.stdout) if p.returncode == 0 else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ict", default=None)
    ap.add_argument("--out", default=str(repo_root() / "benchmarks" / "results" / "export.json"))
    ap.add_argument("--no-fbx", action="store_true")
    ap.add_argument(
        "--rig",
        action="append",
        default=[],
        metavar="NPZ",
        help="also measure the default GLB of this rig NPZ (e.g. `facerig rig "
        "examples/ict_head/head.obj -o dt.npz --method dt`); repeatable",
    )
    args = ap.parse_args()

    from facerig import __version__
    from facerig.io.gltf import load_rig_gltf, save_rig_gltf
    from facerig.io.objset import save_rig_obj_folder
    from facerig.io.rig import save_rig

    ict = find_ict(args.ict)
    t_build, (mesh, rig, n_real) = timed(lambda: build_rig(ict))
    V, K = rig.num_vertices, len(rig.names)
    print(
        f"ICT head: {V} vertices, {mesh.info.get('num_polygons')} polygons, {K} shapes ({n_real} from ICT, "
        f"zero: {', '.join(rig.meta['missing'])}); built in {t_build:.1f}s",
        file=sys.stderr,
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="facerig-bench-") as tmp:
        tmp = Path(tmp)

        def row(name, seconds, size, **extra):
            rows.append(
                {"output": name, "seconds": round(seconds, 3), "bytes": int(size), "MB": round(size / 1e6, 2), **extra}
            )

        t, s = timed(lambda: save_rig_gltf(tmp / "sparse.glb", rig, mesh), repeat=2)
        v = validate(tmp / "sparse.glb")
        tl, _ = timed(lambda: load_rig_gltf(tmp / "sparse.glb"))
        back = load_rig_gltf(tmp / "sparse.glb").deltas
        lossless = bool(np.array_equal(back.view(np.uint32), rig.deltas.astype(np.float32).view(np.uint32)))
        row(
            "GLB (default: lossless, sparse where smaller)",
            t,
            s["bytes"],
            sparse_targets=s["sparse_targets"],
            nonzero_vertices=s["nonzero_vertices"],
            load_seconds=round(tl, 3),
            validator=v,
            bit_identical_to_npz=lossless,
            materials=s.get("materials"),
        )
        for e in (1e-5, 1e-4):
            t, s = timed(lambda e=e: save_rig_gltf(tmp / "e.glb", rig, mesh, delta_epsilon=e))
            row(
                f"GLB (lossy option delta_epsilon={e:g})",
                t,
                s["bytes"],
                sparse_targets=s["sparse_targets"],
                nonzero_vertices=s["nonzero_vertices"],
                validator=validate(tmp / "e.glb"),
            )
        t, s = timed(lambda: save_rig_gltf(tmp / "dense.glb", rig, mesh, sparse=False), repeat=2)
        row("GLB (dense)", t, s["bytes"], validator=validate(tmp / "dense.glb"))
        t, s = timed(lambda: save_rig_gltf(tmp / "embedded.gltf", rig, mesh))
        row(".gltf embedded (sparse)", t, s["bytes"])
        t, files = timed(lambda: save_rig_obj_folder(tmp / "objs", rig, mesh))
        row(f"OBJ folder ({len(files) - 1} OBJ + rig.json)", t, dir_size(tmp / "objs"), files=len(files))
        t, _ = timed(lambda: save_rig(tmp / "rig.npz", rig))
        row("NPZ", t, (tmp / "rig.npz").stat().st_size)
        from facerig.io.rig import load_rig

        for extra in args.rig:
            other = load_rig(extra)
            t, s = timed(lambda other=other: save_rig_gltf(tmp / "other.glb", other))
            label = f"GLB of {Path(extra).name} (method {other.meta.get('method', '?')}, default settings)"
            row(
                label,
                t,
                s["bytes"],
                sparse_targets=s["sparse_targets"],
                nonzero_vertices=s["nonzero_vertices"],
                validator=validate(tmp / "other.glb"),
            )
        if not args.no_fbx:
            from facerig.io.fbx import bpy_available, save_rig_fbx

            if bpy_available():
                t, s = timed(lambda: save_rig_fbx(tmp / "rig.fbx", rig, mesh))
                row("FBX (Blender, incl. ~3 s bpy start)", t, s["bytes"], blender=s.get("blender"))

    print("| output | time (s) | size (MB) | notes |")
    print("|---|---:|---:|---|")
    for r in rows:
        notes = []
        if "sparse_targets" in r:
            notes.append(
                f"{r['sparse_targets']}/{K} targets sparse, {r['nonzero_vertices']:,} stored deltas"
                + (f", read back {r['load_seconds']} s" if "load_seconds" in r else "")
            )
        if "bit_identical_to_npz" in r:
            notes.append("read back bit-identical to the NPZ" if r["bit_identical_to_npz"] else "LOSSY read-back")
        if r.get("validator"):
            vv = r["validator"]
            notes.append(f"Khronos validator: {vv['errors']} errors, {vv['warnings']} warnings")
        if "files" in r:
            notes.append(f"{r['files']} files")
        print(f"| {r['output']} | {r['seconds']:.2f} | {r['MB']:.2f} | {'; '.join(notes)} |")
    result = {
        **run_meta(version=__version__),
        "head": "ICT FaceKit generic neutral",
        "vertices": V,
        "shapes": K,
        "shapes_from_ict": n_real,
        "zero_shapes": rig.meta["missing"],
        "build_seconds": round(t_build, 2),
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from facerig.io.atomic import write_text_atomic

    write_text_atomic(out, json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

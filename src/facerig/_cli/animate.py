"""``facerig animate RIG --weights TAKE -o OUT``: drive a rig with face-tracking weights.

Frame ``t`` of the output is ``neutral + sum_k w[t, k] * deltas[k]`` with the take's weights
matched to the rig's shapes by name (:func:`facerig.arkit.canonical_name`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from facerig.errors import FacerigError

EPILOG = """\
RIG:    a rig NPZ (facerig rig -o head.npz), a rigged .glb/.gltf (facerig rig -o head.glb; UVs,
        materials and normals are carried over), an .fbx with shape keys (needs bpy) or an OBJ
        rig folder with rig.json (facerig.io.rigfile.read_rig_and_mesh reads them all).
TAKE:   Live Link Face CSV (Timecode, BlendShapeCount, EyeBlinkLeft, ..., HeadYaw, ...),
        JSON ([{name: weight}, ...], {"fps": 60, "frames": [...]}, MediaPipe categories
        [{"categoryName": .., "score": ..}]) or CSV with a header of shape names (+ time column).
        Columns are matched by name, never by position: EyeBlinkLeft, eyeBlinkLeft, eyeBlink_L,
        eye_blink_left are the same shape.
OUT:    .glb/.gltf: the rigged head with a morph-weight animation at the take's timestamps;
        a folder: one mesh per frame, frame_0000.obj ... (--format ply for binary PLY).
        OUT may not be the rig or the take, nor a folder holding them; it is checked to be
        writable before any work.

policies:
  unknown columns      ignored, listed once (--strict: error)
  missing ARKit shapes weight 0, listed (MediaPipe has no tongueOut)
  NaN / empty weights  error naming the file line (or JSON frame) and the column
  outside [0, 1]       clamped, with a note (--strict: error)
  head / eye rotation  Live Link Face HeadYaw/Pitch/Roll and eye angles are read but not applied
                       (the rig is a face, not a skeleton); they are listed as ignored
  frame rate           from the timecodes / timestamps; --fps F ignores them (frame i at i/F)

--swap-mouth-lr: in Live Link Face / ARKit takes, mouthLeft and mouthRight come out in the
  opposite (mirrored, camera-facing) sense to every other *Left/*Right shape, which name the
  performer's own side. On a rig whose mouthLeft moves the mouth to the performer's left, the
  mouth then slides the wrong way; this option swaps the two columns. Check once with a take
  where the performer moves the mouth to one side.

examples:
  facerig animate head.npz --weights take.csv -o head_take.glb
  facerig animate head.glb --weights mediapipe.json -o frames/ --format ply
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("rig", help="rig: .npz, .glb/.gltf, .fbx or an OBJ rig folder")
    parser.add_argument("--weights", "-w", required=True, metavar="TAKE", help="take file: .csv or .json")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output .glb/.gltf or folder/")
    parser.add_argument("--fps", type=float, default=None, help="frame rate; ignores the take's timestamps")
    parser.add_argument(
        "--swap-mouth-lr",
        action="store_true",
        help="swap mouthLeft/mouthRight (Live Link Face reports them mirrored; see below)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="unknown columns, out-of-range weights and take shapes the rig lacks are errors",
    )
    parser.add_argument("--format", choices=["obj", "ply"], default="obj", help="frame format for a folder output")
    parser.add_argument(
        "--interpolation",
        choices=["linear", "step"],
        default="linear",
        help="glTF sampler interpolation (default linear)",
    )
    parser.add_argument("--names", choices=["arkit", "ict"], default="arkit", help="target names in a glTF output")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def output_is_gltf(out: str) -> bool:
    suffix = Path(out).suffix.lower()
    if suffix in (".glb", ".gltf"):
        return True
    if out.endswith(("/", "\\")) or suffix == "" or Path(out).is_dir():
        return False
    raise FacerigError(f"output {out}: use a .glb/.gltf file or a folder/ for a frame sequence")


def write_frames(folder: Path, rig, W: np.ndarray, fmt: str, mesh=None) -> list[Path]:
    """Write ``neutral + W[t] @ deltas`` per frame as ``folder/frame_%04d.<fmt>``.

    Args:
        W: (T, K) weights in rig order. fmt: ``"obj"`` (input polygons + UVs when ``mesh``
            has them, else triangles) or ``"ply"`` (binary, triangles, via trimesh).

    Returns:
        (T,) written paths.
    """
    from facerig.io.atomic import write_bytes_atomic
    from facerig.io.objset import _face_block, _vertex_block

    folder.mkdir(parents=True, exist_ok=True)
    T = W.shape[0]
    digits = max(4, len(str(T - 1)))
    D = rig.deltas.reshape(len(rig.names), -1).astype(np.float64)
    faces = rig.faces if rig.faces is not None else (mesh.faces if mesh is not None else None)
    if faces is None or len(faces) == 0:
        raise FacerigError("the rig has no faces; cannot write meshes")
    if fmt == "obj":
        if mesh is not None and mesh.uv is not None and mesh.uv_faces is not None:
            tail = _face_block(mesh.polygons if mesh.polygons is not None else mesh.faces, mesh.uv, mesh.uv_faces)
        elif mesh is not None and mesh.uv is not None and len(mesh.uv) == rig.num_vertices:  # per-vertex (glTF)
            tail = _face_block(np.asarray(faces), mesh.uv, np.asarray(faces))
        else:
            tail = _face_block(np.asarray(faces), None, None)
        tail_b = tail.encode("ascii")
    out = []
    for t in range(T):
        verts = rig.neutral + (W[t] @ D).reshape(-1, 3)
        path = folder / f"frame_{t:0{digits}d}.{fmt}"
        if fmt == "obj":
            write_bytes_atomic(path, _vertex_block(verts).encode("ascii") + tail_b)
        else:
            import trimesh

            tm = trimesh.Trimesh(vertices=verts, faces=np.asarray(faces), process=False, validate=False)
            write_bytes_atomic(path, tm.export(file_type="ply", encoding="binary"))
        out.append(path)
    return out


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from facerig.io.atomic import check_outputs, check_writable
    from facerig.io.rigfile import read_rig_and_mesh
    from facerig.io.takes import read_take

    console = Console(quiet=args.quiet, highlight=False, soft_wrap=True)
    out = args.output
    to_gltf = output_is_gltf(out)
    if args.fps is not None and not args.fps > 0:
        raise FacerigError("--fps must be positive")
    check_outputs([args.rig, args.weights], [out])
    check_writable(out, folder=not to_gltf)
    t0 = time.perf_counter()
    rig, mesh = read_rig_and_mesh(args.rig)
    take = read_take(args.weights, fps=args.fps, strict=args.strict)
    if args.swap_mouth_lr:
        take.swap_mouth_lr()
    W, unmatched, absent = take.for_rig(rig.names)
    if absent and args.strict:
        raise FacerigError(f"the take drives shapes the rig lacks (--strict): {', '.join(absent)}")
    dur = float(take.times[-1]) if take.num_frames > 1 else 0.0
    console.print(
        f"[bold]{escape(str(args.weights))}[/]: {take.format}, {take.num_frames} frames, "
        f"{take.fps:.3g} fps, {dur:.3f} s"
    )
    if take.unknown:
        console.print(f"  [yellow]ignored columns[/] ({len(take.unknown)}): {escape(', '.join(take.unknown))}")
    if take.missing:
        console.print(f"  [yellow]missing shapes[/] ({len(take.missing)}, weight 0): {escape(', '.join(take.missing))}")
    if unmatched:
        console.print(f"  [yellow]rig shapes with no ARKit name[/] (weight 0): {escape(', '.join(unmatched))}")
    if absent:
        console.print(f"  [yellow]take shapes the rig lacks[/] (ignored): {escape(', '.join(absent))}")
    for n in take.notes:
        console.print(f"  note: {escape(n)}")

    if to_gltf:
        from facerig.io.gltf import GltfAnimation, save_rig_gltf

        anim = GltfAnimation(
            weights=W.astype(np.float32),
            times=take.times,
            fps=take.fps,
            interpolation=args.interpolation.upper(),
            name=Path(args.weights).stem,
            extras={
                "source": str(args.weights),
                "format": take.format,
                "notes": take.notes,
                "ignoredColumns": take.unknown,
                "missingShapes": take.missing,
            },
        )
        summary = save_rig_gltf(out, rig, mesh, names=args.names, animation=anim)
        console.print(
            f"wrote [green]{escape(out)}[/] ({summary['bytes'] / 1e6:.2f} MB, {take.num_frames} keyframes "
            f"x {len(rig.names)} weights, {time.perf_counter() - t0:.2f}s)"
        )
    else:
        paths = write_frames(Path(out), rig, W, args.format, mesh)
        console.print(
            f"wrote [green]{len(paths)}[/] {args.format.upper()} frames to [green]{escape(out)}[/] "
            f"({time.perf_counter() - t0:.2f}s)"
        )
    return 0

"""``facerig retarget SOURCE --neutral NEUTRAL --to TARGET -o anim.glb``: one head's performance on another.

SOURCE frames are inverted to ARKit-52 weights (as ``facerig invert``), or read from a take
(Live Link Face CSV / JSON), and drive TARGET: its own rig, or facerig's rig of it. Without
``--neutral`` and ``--rig`` the frames are inverted as ``facerig invert`` inverts them without a
neutral: a sequence through facerig's rig of an estimated neutral
(:mod:`facerig.invert.neutral_estimate`; the expression encoder where facerig cannot rig the frames
or with ``--no-neutral-estimate``), one mesh by the expression encoder; one line says which.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from facerig.errors import FacerigError

help = "drive another head (any topology) with posed meshes or a take: animated GLB"

EPILOG = """\
SOURCE:  posed meshes as for `facerig invert` (a mesh, folder, quoted glob, or a .glb/.gltf with a
         morph-weight animation), or a take: Live Link Face CSV / JSON (MediaPipe, {name: weight}
         frames), read as `facerig animate` reads it. Posed meshes without --neutral/--rig: a
         sequence is solved through facerig's rig of an estimated neutral, one mesh is read by the
         expression encoder (both far less accurate than with the neutral; BENCHMARKS.md).
TARGET:  any head: a rig (.npz, OBJ rig folder, .glb/.gltf with morph targets) drives it with its
         own shapes; a plain mesh (.obj .ply .glb ...) is rigged by facerig (--method) first.
OUT:     .glb/.gltf: the target rig with the weights as a morph animation at the source's times.

examples:
  facerig retarget scan_frames/ --neutral scan_neutral.obj --to character.obj -o character_anim.glb
  facerig retarget take.csv --to character_rig.glb -o character_take.glb
  facerig retarget scan_frames/ --to character.obj -o character_anim.glb     # no neutral: estimated
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from facerig.models.registry import METHODS

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("source", help="posed frames (mesh, folder, glob, animated glTF) or a take (.csv/.json)")
    parser.add_argument("--neutral", "-n", default=None, help="the source's unposed head (for posed frames)")
    parser.add_argument(
        "--neutral-estimate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="posed frames without --neutral/--rig, a sequence: solve through facerig's rig of an estimated "
        "neutral (default when facerig can rig the frames); --no-neutral-estimate: the expression encoder",
    )
    parser.add_argument("--rig", default=None, metavar="RIG", help="a rig of the source neutral (default: facerig's)")
    parser.add_argument("--to", dest="target", required=True, metavar="TARGET", help="target head: mesh or rig")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="animated .glb/.gltf")
    parser.add_argument("--method", choices=list(METHODS), default="raf", help="how to rig unrigged heads")
    parser.add_argument("--l1", type=float, default=0.0, help="solver sparsity weight")
    parser.add_argument("--smooth", type=float, default=0.0, help="solver temporal smoothness weight")
    parser.add_argument("--symmetry", type=float, default=0.0, help="solver Left/Right symmetry weight")
    from facerig._cli.invert import add_prior_arguments

    add_prior_arguments(parser)
    parser.add_argument("--fps", type=float, default=None, help="frame rate (default: the source's, else 60)")
    parser.add_argument("--swap-mouth-lr", action="store_true", help="take sources: swap mouthLeft/mouthRight")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def is_take(path: str) -> bool:
    return Path(path).suffix.lower() in (".csv", ".json")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from facerig.invert.outputs import write_weights
    from facerig.invert.pipeline import rig_for

    console = Console(quiet=args.quiet, highlight=False, soft_wrap=True)
    if Path(args.output).suffix.lower() not in (".glb", ".gltf"):
        raise FacerigError(f"output {args.output}: retarget writes an animated .glb/.gltf")
    if args.fps is not None and not args.fps > 0:
        raise FacerigError("--fps must be positive")
    t0 = time.perf_counter()
    if is_take(args.source):
        from facerig.io.takes import read_take

        take = read_take(args.source, fps=args.fps)
        if args.swap_mouth_lr:
            take.swap_mouth_lr()
        W, times, fps = take.weights, take.times, take.fps
        console.print(f"[bold]{escape(args.source)}[/]: {take.format} take, {take.num_frames} frames, {fps:.3g} fps")
    else:
        from facerig._cli.invert import load_neutral, rig_neutral, solve_frames
        from facerig.invert.frames import read_frames

        mesh, rig, how = load_neutral(args.neutral, args.rig)
        if mesh is None and rig is None:
            frames, inv, how = invert_without_neutral(args, console)
        else:
            neutral = mesh.vertices if mesh is not None else rig.neutral
            frames = read_frames(args.source, neutral.shape[0])
            if rig is None:
                rig, how = rig_neutral(mesh, args.method, console)
            inv = solve_frames(frames, neutral, rig, args, residual=False)
        W = inv.weights
        fps = args.fps or 60.0
        times = frames.times if frames.times is not None and args.fps is None else None
        console.print(
            f"[bold]{escape(args.source)}[/]: {frames.num_frames} frame(s) inverted through the {escape(how)} "
            f"in {inv.seconds['solve']:.3f} s"
        )
    target_rig, target_mesh, how = rig_for(args.target, method=args.method)
    console.print(
        f"target [bold]{escape(args.target)}[/]: {target_rig.num_vertices} vertices, "
        f"{len(target_rig.names)} shapes ({how})"
    )
    s = write_weights(
        args.output,
        W,
        times=times,
        fps=fps,
        rig=target_rig,
        mesh=target_mesh,
        name=Path(args.source).stem,
        extras={"source": str(args.source), "target": str(args.target)},
    )
    console.print(
        f"wrote [green]{escape(args.output)}[/] ({s['frames']} frames, {s['bytes'] / 1e6:.2f} MB, "
        f"{time.perf_counter() - t0:.2f} s)"
    )
    return 0


def invert_without_neutral(args: argparse.Namespace, console):
    """SOURCE frames without --neutral/--rig, as ``facerig invert`` reads them: a sequence through
    facerig's rig of an estimated neutral (:func:`facerig._cli.invert.estimate_neutral`; by default
    the expression encoder where facerig cannot rig the frames), one mesh (or
    ``--no-neutral-estimate``) by the expression encoder. Prints one line saying which.
    -> (Frames, Inversion, how)."""
    from rich.markup import escape

    from facerig._cli.invert import estimate_neutral, frames_with_faces
    from facerig.invert.pipeline import invert_meshes

    frames, faces = frames_with_faces(args.source)
    why = "--no-neutral-estimate"
    if frames.num_frames >= 2 and args.neutral_estimate is not False:
        try:
            inv, _mesh, how = estimate_neutral(frames, faces, args, console)
            console.print(f"no neutral: a sequence of {frames.num_frames} frames, solved through an estimated neutral")
            return frames, inv, "rig of an estimated neutral (" + how.removeprefix("no neutral: ") + ")"
        except FacerigError as e:
            if args.neutral_estimate:
                raise
            why = f"no estimated neutral ({escape(str(e).splitlines()[0])})"
    elif frames.num_frames < 2:
        why = "one mesh: nothing to estimate a neutral from"
    from facerig.models.encoder.weights import load_encoder

    load_encoder()  # fails here, in one line, when the weights are missing
    console.print(
        f"no neutral: {why}; the expression encoder reads the posed mesh(es) (experimental: weight MAE ~0.08, "
        "~0.02 with --neutral)"
    )
    inv = invert_meshes(frames, faces=faces, neutral_estimate=False)
    return frames, inv, "expression encoder (no neutral)"

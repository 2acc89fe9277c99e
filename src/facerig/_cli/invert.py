"""``facerig invert POSED [--neutral NEUTRAL] [-o OUT]``: ARKit-52 weights that rebuild posed meshes.

facerig rigs the neutral (or takes ``--rig RIG``) and solves every frame's 52 weights by bounded
least squares (``facerig.invert``); the output format follows the suffix. Without ``--neutral``
and ``--rig`` a sequence is solved through facerig's rig of an estimated neutral
(:mod:`facerig.invert.neutral_estimate`); one mesh (or ``--no-neutral-estimate``) gets the learned
expression encoder's reading (:mod:`facerig.models.encoder`; no fit residual, no .glb output).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from facerig.errors import FacerigError

help = "posed meshes -> ARKit-52 weights per frame (Live Link Face CSV, MediaPipe JSON, animated GLB)"

MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "dm": 100.0, "m": 1000.0, "in": 25.4}

EPILOG = """\
POSED:    one mesh (.obj .ply .glb .gltf .stl), a folder of them or a quoted glob ("frames/*.obj"),
          in natural order (f2 before f10); or a .glb/.gltf with a morph-weight animation (one
          frame per keyframe). Every frame has the neutral's vertex count and order (separate
          parts such as eyes and teeth are fine).
NEUTRAL:  the unposed head in the same vertex order. facerig rigs it (--method, default raf)
          unless --rig gives a rig of it (.npz, .glb/.gltf with morph targets, OBJ rig folder).
          Without --neutral and --rig, a sequence (2+ frames) is solved through facerig's rig of
          an estimated neutral: the frame nearest the sequence's median, rigged, every frame
          solved through it, plus the per-shape level the expression encoder reads on average
          over the sequence (motion from the rig, level from the encoder; --report and .glb
          work). One mesh, --no-neutral-estimate, or frames facerig cannot rig: the expression
          encoder (a network trained on generated heads) alone, from the posed meshes: no rig,
          so no --report and no .glb. Both are less accurate than a neutral (BENCHMARKS.md,
          "Invert a sequence through an estimated neutral", "Invert without a neutral").
OUT:      by suffix, repeatable: .csv Live Link Face CSV (the iPhone app's columns: Timecode,
          BlendShapeCount, 52 shapes, head/eye rotations written as 0), .json MediaPipe-style
          ({"fps", "frames": [{"timestamp_ms", "categories": [...]}]}), .glb/.gltf the neutral's
          rig with the solved weights as a morph animation. `facerig animate` reads the CSV/JSON.

solver: per frame, min |rig(w) - frame|^2 (normalised by the mean squared shape size)
        + l1 * sum(w) + smooth/2 * |w_t - w_(t-1)|^2 + symmetry/2 * sum over Left/Right pairs
        (w_L - w_R)^2, with 0 <= w <= 1. --l1 0.001-0.01 prefers fewer shapes, --smooth 0.1-10
        steadies noisy scans (frames in time order), --symmetry 0.1-1 keeps both sides together.
        --prior take (the default; --prior none: off) adds a co-activation prior fitted on a real
        Live Link Face take (how a face's shapes move together), weighted per frame by how much of
        the frame the rig cannot rebuild: frames the rig rebuilds exactly keep their weights, frames
        of another author's rig style lean on it. It gives up some fit through the rig for weights
        nearer the author's, at most --prior-tolerance (default 0.1: a frame's squared residual
        may grow by 10 %, ~5 % RMS; inf: no bound) (BENCHMARKS.md, "Invert and retarget").

--report: each frame's fit residual (RMS and max vertex distance in mm, --units of the mesh), and
          frames flagged when the RMS residual exceeds --bad-mm or half the frame's own motion.

examples:
  facerig invert frames/ --neutral neutral.obj -o take.csv --report
  facerig invert anim.glb --neutral neutral.obj --rig head.npz -o weights.json --smooth 1
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from facerig.models.registry import METHODS

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("posed", help="posed mesh, folder, glob, or animated .glb/.gltf")
    parser.add_argument(
        "--neutral",
        "-n",
        default=None,
        metavar="NEUTRAL",
        help="the unposed head (same vertex order); without it and --rig: the expression encoder",
    )
    parser.add_argument("--rig", default=None, metavar="RIG", help="a rig of the neutral (default: facerig rigs it)")
    parser.add_argument(
        "--neutral-estimate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="without --neutral/--rig, a sequence (2+ frames): solve through facerig's rig of an estimated "
        "neutral (the frame nearest the sequence's median, levelled by the expression encoder; the default "
        "when facerig can rig the frames); --no-neutral-estimate: the expression encoder alone",
    )
    parser.add_argument(
        "-o", "--output", action="append", default=[], metavar="OUT", help=".csv / .json / .glb (repeatable)"
    )
    parser.add_argument("--method", choices=list(METHODS), default="raf", help="how to rig the neutral (default raf)")
    parser.add_argument("--l1", type=float, default=0.0, help="sparsity weight (default 0)")
    parser.add_argument("--smooth", type=float, default=0.0, help="temporal smoothness weight (default 0)")
    parser.add_argument("--symmetry", type=float, default=0.0, help="Left/Right symmetry weight (default 0)")
    add_prior_arguments(parser)
    parser.add_argument(
        "--fps",
        type=float,
        default=None,
        help="frame rate of a mesh sequence (default 60; an animated glTF keeps its times)",
    )
    parser.add_argument("--units", choices=list(MM_PER_UNIT), default="mm", help="mesh units for --report (default mm)")
    parser.add_argument("--report", action="store_true", help="print each frame's fit residual in mm; flag bad fits")
    parser.add_argument("--report-json", default=None, metavar="PATH", help="write the per-frame report as JSON")
    parser.add_argument("--bad-mm", type=float, default=1.0, help="flag frames with an RMS residual above this (mm)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def load_neutral(neutral: str | None, rig_path: str | None):
    """(--neutral, --rig) -> (neutral Mesh or None, Rig or None, how). Raises FacerigError for mismatches."""
    from facerig.invert.pipeline import _read_rig

    if neutral is None and rig_path is None:
        return None, None, "expression encoder (no neutral)"
    mesh = None
    if neutral is not None:
        from facerig.io import load_mesh

        mesh = load_mesh(neutral, allow_degenerate=True, allow_unreferenced=True)
    if rig_path is None:
        return mesh, None, ""
    rig, rig_mesh_ = _read_rig(rig_path)
    if mesh is not None and rig.num_vertices != mesh.num_vertices:
        raise FacerigError(f"--rig {rig_path} has {rig.num_vertices} vertices, the neutral {mesh.num_vertices}")
    return (mesh if mesh is not None else rig_mesh_), rig, f"rig {rig_path}"


def rig_neutral(mesh, method: str, console=None):
    """facerig's rig of the neutral -> (Rig, how)."""
    from facerig.models.registry import rig_mesh

    if console is not None:
        console.print(f"rigging the neutral ({mesh.num_vertices} vertices) with {method} ...")
    t0 = time.perf_counter()
    rig = rig_mesh(mesh, method=method)
    return rig, f"facerig {method} rig of the neutral ({time.perf_counter() - t0:.1f} s)"


def solve_frames(frames, neutral: np.ndarray, rig, args, *, residual: bool):
    """:func:`facerig.invert.pipeline.invert_meshes` of ``frames`` through ``rig`` with the solver
    options on the command line (``--l1 --smooth --symmetry --prior --prior-strength --prior-tolerance``)."""
    from facerig.invert.pipeline import invert_meshes

    return invert_meshes(
        frames,
        neutral,
        rig=rig,
        l1=args.l1,
        smooth=args.smooth,
        symmetry=args.symmetry,
        residual=residual,
        prior=args.prior,
        prior_strength=args.prior_strength,
        prior_tolerance=args.prior_tolerance,
        threads=1,  # the weight-space solve is fastest on one BLAS thread (solver module doc)
    )


def report_rows(labels: list[str], residual: dict, mm: float, flagged: np.ndarray) -> list[dict]:
    return [
        {
            "frame": t,
            "label": labels[t],
            "rms_mm": round(float(residual["rms"][t] * mm), 5),
            "max_mm": round(float(residual["max"][t] * mm), 5),
            "motion_rms_mm": round(float(residual["motion_rms"][t] * mm), 5),
            "flagged": bool(flagged[t]),
        }
        for t in range(len(labels))
    ]


def add_prior_arguments(parser: argparse.ArgumentParser) -> None:
    """``--prior``, ``--prior-strength`` and ``--prior-tolerance`` (shared with ``facerig retarget``)."""
    from facerig.invert.prior import DEFAULT_PRIOR, DEFAULT_STRENGTH, DEFAULT_TOLERANCE

    parser.add_argument(
        "--prior",
        default=DEFAULT_PRIOR,
        metavar="PRIOR",
        help=f"co-activation prior: take (fitted on a real Live Link Face take), none, or a prior .npz "
        f"(default {DEFAULT_PRIOR})",
    )
    parser.add_argument(
        "--prior-strength",
        type=float,
        default=None,
        metavar="S",
        help=f"how much the prior counts against the fit (default {DEFAULT_STRENGTH:g})",
    )
    parser.add_argument(
        "--prior-tolerance",
        type=float,
        default=None,
        metavar="TAU",
        help=f"the most the prior may raise a frame's squared fit residual, as a share of the prior-free "
        f"fit's (default {DEFAULT_TOLERANCE:g}; inf: no bound)",
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from facerig.invert.frames import read_frames
    from facerig.invert.outputs import output_kind, write_weights
    from facerig.invert.pipeline import flag_frames

    console = Console(quiet=args.quiet, highlight=False, soft_wrap=True)
    for out in args.output:
        output_kind(out)  # fail on a bad suffix before any work
    if args.fps is not None and not args.fps > 0:
        raise FacerigError("--fps must be positive")
    t0 = time.perf_counter()
    mesh, rig, how = load_neutral(args.neutral, args.rig)
    inv = None
    if mesh is None and rig is None:
        if args.neutral_estimate is False:
            return run_without_neutral(args, console, t0)
        frames, faces = frames_with_faces(args.posed)
        if frames.num_frames < 2:
            if args.neutral_estimate:
                console.print("one mesh: nothing to estimate a neutral from; the expression encoder reads it")
            return run_without_neutral(args, console, t0)
        try:
            inv, mesh, how = estimate_neutral(frames, faces, args, console)
        except FacerigError as e:
            if args.neutral_estimate:
                raise
            console.print(
                f"  [yellow]no estimated neutral[/]: {escape(str(e).splitlines()[0])}; the expression encoder "
                "reads the frames"
            )
            return run_without_neutral(args, console, t0)
        rig = inv.rig
    neutral = mesh.vertices if mesh is not None else rig.neutral
    if inv is None:
        frames = read_frames(args.posed, neutral.shape[0])  # bad frames fail before the rig is made
    if rig is None:
        rig, how = rig_neutral(mesh, args.method, console)
    console.print(
        f"[bold]{escape(str(args.posed))}[/]: {frames.num_frames} frame(s), {neutral.shape[0]} vertices; {escape(how)}"
    )
    if inv is None:
        inv = solve_frames(frames, neutral, rig, args, residual=True)
    fps = args.fps or 60.0
    times = frames.times if frames.times is not None and args.fps is None else None
    mm = MM_PER_UNIT[args.units]
    flagged = flag_frames(inv.residual, mm, bad_mm=args.bad_mm)
    rms = inv.residual["rms"] * mm
    console.print(
        f"solved {frames.num_frames} x {len(rig.names)} weights in {inv.seconds['solve']:.3f} s; fit RMS "
        f"median {np.median(rms):.3g} mm, worst {rms.max():.3g} mm (frame {int(rms.argmax())}); "
        f"{int(flagged.sum())} frame(s) flagged"
    )
    if args.report:
        rows = report_rows(frames.labels, inv.residual, mm, flagged)
        show = rows if len(rows) <= 30 else sorted(rows, key=lambda r: -r["rms_mm"])[:15]
        if len(rows) > 30:
            console.print(f"worst {len(show)} of {len(rows)} frames:")
        console.print(f"{'frame':>6} {'rms mm':>9} {'max mm':>9} {'motion mm':>10}  label")
        for r in show:
            mark = "  [red]BAD FIT[/]" if r["flagged"] else ""
            console.print(
                f"{r['frame']:>6} {r['rms_mm']:>9.4f} {r['max_mm']:>9.4f} {r['motion_rms_mm']:>10.4f}  "
                f"{escape(r['label'])}{mark}"
            )
    if args.report_json:
        from facerig.io.atomic import write_text_atomic

        write_text_atomic(
            args.report_json,
            json.dumps(
                {
                    "posed": str(args.posed),
                    "rig": how,
                    "units": args.units,
                    "bad_mm": args.bad_mm,
                    "flagged": [int(t) for t in np.flatnonzero(flagged)],
                    "frames": report_rows(frames.labels, inv.residual, mm, flagged),
                },
                indent=1,
            ),
        )
    if not args.output and frames.num_frames == 1:
        top = np.argsort(-inv.weights[0])[:8]
        from facerig.arkit import ARKIT52

        console.print(
            "top weights: " + ", ".join(f"{ARKIT52[k]} {inv.weights[0, k]:.3f}" for k in top if inv.weights[0, k] > 0)
        )
    for out in args.output:
        s = write_weights(
            out,
            inv.weights,
            times=times,
            fps=fps,
            rig=rig,
            mesh=mesh,
            name=Path(args.posed).stem,
            extras={
                "source": str(args.posed),
                "solver": {"l1": args.l1, "smooth": args.smooth, "symmetry": args.symmetry},
            },
        )
        console.print(f"wrote [green]{escape(out)}[/] ({s['kind']}, {s['frames']} frames, {s['bytes'] / 1e3:.1f} kB)")
    console.print(f"done in {time.perf_counter() - t0:.2f} s")
    return 0


def estimate_neutral(frames, faces, args, console):
    """``--estimate-neutral``: :func:`facerig.invert.neutral_estimate.invert_with_estimated_neutral` of
    the frames with the command line's solver options -> (EstimatedInversion, neutral Mesh, how)."""
    from facerig.invert.neutral_estimate import invert_with_estimated_neutral
    from facerig.io.mesh import Mesh

    console.print(f"estimating the neutral of {frames.num_frames} frames and rigging it with {args.method} ...")
    inv = invert_with_estimated_neutral(
        frames,
        faces,
        method=args.method,
        l1=args.l1,
        smooth=args.smooth,
        symmetry=args.symmetry,
        prior=args.prior,
        prior_strength=args.prior_strength,
        prior_tolerance=args.prior_tolerance,
        threads=1,
    )
    s = inv.seconds
    how = (
        f"no neutral: estimated from frame {inv.start_frame} ({frames.labels[inv.start_frame]}) less the "
        f"expression encoder's level (mean {inv.level.mean():.3f}); facerig {args.method} rig of it "
        f"({s['pick'] + s['rig'] + s['estimate'] + s['level']:.1f} s)"
    )
    return inv, Mesh(vertices=inv.neutral, faces=np.asarray(faces)), how


def frames_with_faces(posed: str):
    """POSED -> (Frames, faces (F, 3)) read without a neutral: the vertex count and faces are the
    first frame's (an animated glTF's: its mesh's)."""
    from facerig.invert.frames import frame_files, gltf_animation, read_frames
    from facerig.io import read_mesh

    files = frame_files(posed)
    if len(files) == 1 and files[0].suffix.lower() in (".glb", ".gltf"):
        anim = gltf_animation(files[0])
        if anim is not None:
            rig, _, _, _ = anim
            return read_frames(posed, rig.num_vertices), rig.faces
    try:
        first = read_mesh(files[0])
    except FacerigError as e:
        raise FacerigError(f"frame 0 ({files[0].name}): {str(e).splitlines()[0]}") from None
    return read_frames(posed, first.num_vertices), first.faces


def run_without_neutral(args: argparse.Namespace, console, t0: float) -> int:
    """``facerig invert POSED -o OUT`` with neither --neutral nor --rig: the expression encoder."""
    from rich.markup import escape

    from facerig.invert.outputs import output_kind, write_weights
    from facerig.invert.pipeline import invert_meshes

    for out in args.output:
        if output_kind(out) == "glb":
            raise FacerigError(
                f"output {out}: an animated glTF needs a rig; give --neutral or --rig (or write .csv / .json)"
            )
    if args.report or args.report_json:
        raise FacerigError("--report measures the fit through a rig; give --neutral or --rig")
    from facerig.models.encoder.weights import load_encoder

    val = (load_encoder().meta.get("val") or {}).get("mae")  # fails here, in one line, when the weights are missing
    frames, faces = frames_with_faces(args.posed)
    note = f" (held-out weight MAE {val:.3f}; with a neutral ~0.02, BENCHMARKS.md)" if val is not None else ""
    console.print(
        f"[bold]{escape(str(args.posed))}[/]: {frames.num_frames} frame(s), {frames.num_vertices} vertices; "
        f"no neutral: expression encoder{note}"
    )
    console.print(
        "  [yellow]warning[/]: the shipped expression encoder is experimental: on held-out heads it is only a "
        "little better than guessing the average expression (weight MAE ~0.08 vs ~0.086, ~0.02 with a neutral; "
        "weights/ENCODER.md); give --neutral for usable weights"
    )
    inv = invert_meshes(frames, faces=faces, neutral_estimate=False)
    console.print(
        f"encoded {frames.num_frames} frame(s) in {inv.seconds['prepare'] + inv.seconds['solve']:.2f} s "
        f"(proxy and operators {inv.seconds['prepare']:.2f} s, network {inv.seconds['solve']:.2f} s)"
    )
    if not args.output and frames.num_frames == 1:
        from facerig.arkit import ARKIT52

        top = np.argsort(-inv.weights[0])[:8]
        console.print("top weights: " + ", ".join(f"{ARKIT52[k]} {inv.weights[0, k]:.3f}" for k in top))
    fps = args.fps or 60.0
    times = frames.times if frames.times is not None and args.fps is None else None
    for out in args.output:
        s = write_weights(
            out,
            inv.weights,
            times=times,
            fps=fps,
            name=Path(args.posed).stem,
            extras={"source": str(args.posed), "solver": "expression encoder"},
        )
        console.print(f"wrote [green]{escape(out)}[/] ({s['kind']}, {s['frames']} frames, {s['bytes'] / 1e3:.1f} kB)")
    console.print(f"done in {time.perf_counter() - t0:.2f} s")
    return 0

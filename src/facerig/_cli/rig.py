"""``facerig rig HEAD -o OUT [-o OUT2 ...]``: rig a head mesh and write the rig.

Outputs are chosen by suffix: ``.npz`` (facerig rig NPZ), ``.glb`` / ``.gltf`` (mesh with
52 morph targets), a folder (existing folder, trailing ``/`` or no suffix: one OBJ per shape),
``.fbx`` (through Blender). The input file is only read, never written; every output is
written atomically, and an output path equal to the input is refused.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import time
from pathlib import Path

from facerig.errors import FacerigError

help = "rig a head mesh: write an ARKit-52 blendshape rig (NPZ, GLB, OBJ folder)"

EPILOG = """\
Rigs always carry the 52 ARKit shapes in Apple's order; a shape the method cannot make
(e.g. tongueOut for dt) is written with zero deltas and reported as missing.

outputs (by suffix of each -o):
  out.npz          rig NPZ: names (52,), deltas (52,V,3) float32, neutral (V,3), faces, parts, meta
  out.glb/.gltf    the head with one morph target per shape (ready for Blender, Unity, three.js)
  out/             a folder with neutral.obj and one OBJ per shape (same vertex order as HEAD)
  out.fbx          FBX with shape keys (needs Blender's bpy: pip install 'facerig[blender]')

input checks (each problem is a one-line error, exit status 2):
  empty / unreadable / unsupported file, no faces, NaN or inf coordinates, coordinates too
  large or too small to compute on, face indices out of range, more than --max-vertices
  vertices, fewer than 100 vertices (raf: too few for a face). Zero-area and duplicate faces
  are skipped in the computation and vertices used by no face move with the surface next to
  them (one note line; every vertex and face of the file is kept in the outputs);
  --strict refuses such meshes instead.

orientation: --up/--forward name the input's axes (Maya/glTF/ARKit: +y/+z, the default;
Blender: --up +z --forward -y). They only steer the computation; the output keeps the
input's coordinates, units and vertex order exactly. raf refuses a head that is clearly in
other axes and names them; --auto-orient finds them. A VRM avatar's axes are the ones its
format declares (VRM 0.x: +y/-z, VRM 1.0: +y/+z) unless --up/--forward are given.

example:
  facerig rig head.obj -o head_rig.glb -o head_rig.npz
  facerig rig scan.ply -o rig/ --method dt --landmarks scan.landmarks.json
"""

AXES = ("+x", "-x", "+y", "-y", "+z", "-z")

# suffix -> (module, function, human name)
EXPORTERS = {
    "npz": ("facerig.io.rig", "save_rig", "NPZ"),
    "gltf": ("facerig.io.gltf", "save_rig_gltf", "glTF"),
    "folder": ("facerig.io.objset", "save_rig_obj_folder", "OBJ folder"),
    "fbx": ("facerig.io.fbx", "save_rig_fbx", "FBX"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from facerig.models.registry import METHODS

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    # let "--forward -y" work: argparse would take "-y" for an option flag. Treat the six axis
    # strings like negative numbers (values), as argparse does for "-1".
    parser._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[xyzXYZ]$")
    parser.epilog = EPILOG
    parser.add_argument("head", help="head mesh: .obj .ply .stl .gltf .glb .vrm (.fbx with Blender)")
    parser.add_argument(
        "-o",
        "--output",
        action="append",
        required=True,
        metavar="OUT",
        help="output path; repeat for several formats (.npz .glb .gltf .fbx or folder/)",
    )
    parser.add_argument(
        "--method",
        choices=list(METHODS),
        default=None,
        help="rigging method (default: raf, the shipped network; dt if its weights are missing; see BENCHMARKS.md)",
    )
    parser.add_argument(
        "--dt-mode",
        choices=("deformation", "copy"),
        default="deformation",
        help="dt only: deformation transfer (default) or barycentric copy of the "
        "registered template's deltas (closer on ICT-like heads, see BENCHMARKS.md)",
    )
    parser.add_argument(
        "--seam-tolerance",
        type=float,
        default=None,
        metavar="FRACTION",
        help="raf only: stitch open seams (UV-island splits, unmerged mirror halves) whose sides "
        "lie within this fraction of the bounding-box diagonal (default 2e-4); 0 turns it "
        "off, e.g. for a mouth cut as a zero-width slit",
    )
    parser.add_argument(
        "--proxy-vertices",
        type=int,
        default=None,
        metavar="N",
        help="raf only: vertices of the simplified proxy the network runs on (default 8000; "
        "fewer is faster, more loses less detail; meshes up to 1.2 N are used as they are)",
    )
    parser.add_argument(
        "--no-mirror",
        action="store_true",
        help="raf only: one network pass, without averaging with the pass on the head's mirror "
        "image (half the network time, 2-6%% larger error; see BENCHMARKS.md)",
    )
    parser.add_argument(
        "--untangle",
        action="store_true",
        help="smooth away triangles a shape turns over (a chin folding under the jaw, a neck crease) "
        "in every shape but the eye shapes and mouthClose; by default only shapes folding more than "
        "any rig of the validation heads are smoothed: smoothing the small folds of heads like the "
        "training families moves some mouth shapes away from their ground truth (BENCHMARKS.md, Folds)",
    )
    parser.add_argument(
        "--no-untangle", action="store_true", help="never smooth folds away, not even the large ones (see --untangle)"
    )
    parser.add_argument(
        "--no-face-frame",
        action="store_true",
        help="raf only: keep the head frame as measured (the head's width at nose height), without "
        "sizing it by the face the network finds (saves one 4-shape network pass; the shipped "
        "weights were trained in the face-sized frame, so this costs accuracy; see BENCHMARKS.md)",
    )
    parser.add_argument(
        "--no-mouth-amplitude",
        action="store_true",
        help="raf only: keep the network's mouth shapes as they are on a head whose mouth is wider than "
        "the training heads' (by default they are scaled up to it; BENCHMARKS.md, Mouth amplitude)",
    )
    parser.add_argument(
        "--densify",
        action="store_true",
        help="raf only: rig a head of fewer than 1800 vertices on its midpoint subdivision, keeping its own "
        "vertices (in family 4-8%% lower error on 1-1.6k-vertex heads; not better out of family; "
        "BENCHMARKS.md, Mesh resolution)",
    )
    parser.add_argument(
        "--no-head-check",
        action="store_true",
        help="raf only: rig the mesh even where the network finds no plausible face on it (by "
        "default such a mesh, or a head not facing --forward with --up up, is an error)",
    )
    parser.add_argument(
        "--landmarks",
        metavar="JSON",
        default=None,
        help="landmark correspondences for dt (default: HEAD_STEM.landmarks.json next to HEAD, if present)",
    )
    parser.add_argument(
        "--up",
        default=None,
        type=_axis,
        metavar="AXIS",
        help="input axis pointing up: +x -x +y -y +z -z (default +y, or what a VRM declares; Blender: +z)",
    )
    parser.add_argument(
        "--auto-orient",
        action="store_true",
        help="find --up/--forward: the axis-aligned orientation (of 24) that the head's shape and the "
        "face the network finds agree on (about 1 s; needs the raf weights; replaces "
        "--up/--forward)",
    )
    parser.add_argument(
        "--forward",
        default=None,
        type=_axis,
        metavar="AXIS",
        help="input axis the face looks along (default +z, or what a VRM declares: -z for VRM 0.x; Blender: -y)",
    )
    parser.add_argument(
        "--names", choices=["arkit", "ict"], default="arkit", help="shape names in glTF/FBX outputs (default arkit)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse meshes with zero-area or duplicate faces or vertices no face uses "
        "(by default they are handled, with a note)",
    )
    parser.add_argument("--allow-degenerate", action="store_true", help=argparse.SUPPRESS)  # the default now
    parser.add_argument("--allow-unreferenced", action="store_true", help=argparse.SUPPRESS)  # the default now
    parser.add_argument(
        "--max-vertices",
        type=int,
        default=1_000_000,
        metavar="N",
        help="refuse meshes with more vertices than this (default 1,000,000)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def _axis(s: str) -> str:
    t = s.strip().lower()
    if len(t) == 1:
        t = "+" + t
    if t not in AXES:
        raise argparse.ArgumentTypeError(f"{s!r} is not an axis; use one of {', '.join(AXES)}")
    return t


def output_kind(path: str) -> str:
    """Exporter key for an ``-o`` value: npz, gltf, folder or fbx (FacerigError otherwise)."""
    p = Path(path)
    if path.endswith(("/", "\\")) or p.is_dir() or p.suffix == "":
        return "folder"
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return "npz"
    if suffix in (".glb", ".gltf"):
        return "gltf"
    if suffix == ".fbx":
        return "fbx"
    raise FacerigError(f"output {path}: unknown format {p.suffix!r}; use .npz, .glb, .gltf, .fbx or a folder/")


def _check_exporter(kind: str) -> None:
    mod, _fn, what = EXPORTERS[kind]
    try:
        found = importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise FacerigError(f"{what} output is not available in this installation ({mod} missing)")


def _exporter(kind: str):
    mod, fn, what = EXPORTERS[kind]
    try:
        return getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as e:
        raise FacerigError(f"{what} output is not available: {e}") from None


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from facerig.geometry.frame import orientation_matrix
    from facerig.io import read_mesh
    from facerig.models.registry import default_method, rig_mesh

    console = _console(args.quiet)
    head = Path(args.head)

    # everything that can be checked before the (slow) rigging is checked first
    given_axes = args.up is not None or args.forward is not None
    orientation_matrix(args.up or "+y", args.forward or "+z")
    if args.auto_orient:
        from facerig.models.raf.weights import weights_available

        if not weights_available():
            raise FacerigError("--auto-orient needs the raf weights, which this installation lacks")
    from facerig.io.atomic import check_outputs, check_writable

    check_outputs([head, args.landmarks], args.output)  # no output may be (or hold) an input
    outputs = [(o, output_kind(o)) for o in args.output]
    for o, kind in outputs:
        _check_exporter(kind)
        if kind == "folder":
            from facerig.io.objset import check_rig_folder_output  # (imported only for a folder output)

            check_rig_folder_output(o)
        else:
            check_writable(o)
    if args.max_vertices is not None and args.max_vertices <= 0:
        raise FacerigError("--max-vertices must be positive")
    method = args.method or default_method()
    landmarks = args.landmarks
    if landmarks is not None:
        if not Path(landmarks).is_file():
            raise FacerigError(f"landmarks file {landmarks} not found")
    else:
        guess = head.with_name(head.stem + ".landmarks.json")
        if guess.is_file() and guess != head:
            landmarks = str(guess)
    options = _method_options(args, method, landmarks)

    t0 = time.perf_counter()
    raw = read_mesh(head, max_vertices=args.max_vertices)  # exactly the file: written back out
    console.print(f"[bold]{escape(str(head))}[/]: {_summary(raw)} (read in {time.perf_counter() - t0:.2f}s)")
    declared = raw.info.get("axes") if not given_axes and not args.auto_orient else None
    if declared:  # rig_mesh rigs in them (options up/forward None): said here, before the rigging
        console.print(f"  axes --up {declared['up']} --forward {declared['forward']}: {escape(declared['why'])}")
    up = args.up or (declared["up"] if declared else "+y")
    forward = args.forward or (declared["forward"] if declared else "+z")
    if landmarks:
        console.print(f"  landmarks: {escape(landmarks)}")
    console.print(
        f"rigging with method [bold]{method}[/]"
        + (" (finding up/forward) ..." if args.auto_orient else f" (up {up}, forward {forward}) ...")
    )
    rig = rig_mesh(
        raw, method, strict=args.strict, max_vertices=args.max_vertices, auto_orient=args.auto_orient, **options
    )
    _report(console, rig, method)

    for o, kind in outputs:
        t1 = time.perf_counter()
        save = _exporter(kind)
        if kind == "npz":
            save(o, rig)
        elif kind == "gltf":
            save(o, rig, raw, names=args.names)
        elif kind == "folder":
            save(o, rig, raw)
        else:
            import inspect

            takes_names = "names" in inspect.signature(save).parameters
            save(o, rig, raw, names=args.names) if takes_names else save(o, rig, raw)
        console.print(
            f"wrote [green]{escape(o)}[/] ({EXPORTERS[kind][2]}: {len(rig.names)} shapes x "
            f"{rig.num_vertices:,} vertices, {time.perf_counter() - t1:.2f}s)"
        )
    console.print(f"done in {time.perf_counter() - t0:.1f}s")
    viewable = [o for o, _kind in outputs if Path(o).suffix.lower() in (".npz", ".glb", ".gltf")]
    if viewable:
        console.print(
            f"view it: [bold]facerig view {escape(str(viewable[0]))}[/]  "
            f"(local page on 127.0.0.1; drive it with: facerig animate {escape(str(viewable[0]))} "
            "-w TAKE.csv -o anim.glb)"
        )
    return 0


def _summary(mesh) -> str:
    """``"V vertices, F triangles, P parts, bbox X x Y x Z"`` of a mesh as read."""
    import numpy as np

    from facerig.geometry.components import connected_components

    text = f"{mesh.num_vertices:,} vertices, {mesh.num_faces:,} triangles"
    faces = np.asarray(mesh.faces, np.int64)
    if faces.size and faces.min() >= 0 and faces.max() < mesh.num_vertices:
        text += f", {int(connected_components(mesh.num_vertices, faces).max()) + 1} parts"
    with np.errstate(all="ignore"):
        size = np.ptp(np.asarray(mesh.vertices, np.float64), axis=0) if mesh.num_vertices else np.zeros(3)
    return text + f", bbox {size[0]:.4g} x {size[1]:.4g} x {size[2]:.4g}"


def _method_options(args: argparse.Namespace, method: str, landmarks: str | None) -> dict:
    """The method options of the command line (checked), for :func:`facerig.models.registry.rig_mesh`."""
    options = {"landmarks": landmarks, "up": args.up, "forward": args.forward}
    if method == "dt":
        options["dt_mode"] = args.dt_mode
    if args.seam_tolerance is not None:
        if not (0 <= args.seam_tolerance < 0.01):
            raise FacerigError(
                f"--seam-tolerance must be in [0, 0.01) (a fraction of the bounding-box diagonal), "
                f"got {args.seam_tolerance}"
            )
        options["weld"] = args.seam_tolerance
    if args.proxy_vertices is not None:
        if not (500 <= args.proxy_vertices <= 100_000):
            raise FacerigError(f"--proxy-vertices must be in [500, 100000], got {args.proxy_vertices}")
        options["proxy_vertices"] = args.proxy_vertices
    if args.no_mirror:
        options["mirror"] = False
    if args.no_face_frame:
        options["face_frame"] = False
    if args.no_mouth_amplitude:
        options["mouth_amplitude"] = False
    if args.densify:
        options["densify"] = True
    if args.no_head_check:
        options["head_check"] = False
    if args.untangle:
        options["untangle"] = True
    if args.no_untangle:
        options["untangle"] = False
    return options


def _report(console, rig, method: str) -> None:
    """Print what ``rig.meta`` says about the rigging: one note line for repairs, orientation,
    face frame, warnings, missing shapes."""
    from rich.markup import escape

    meta = rig.meta
    repairs = meta.get("repairs") or {}
    if repairs:
        words = {
            "dropped_degenerate_triangles": "zero-area triangles skipped",
            "dropped_duplicate_triangles": "duplicate triangles skipped",
            "unreferenced_vertices": "vertices no triangle uses move with the surface next to them",
        }
        parts = [f"{v:,} {words.get(k, k.replace('_', ' '))}" for k, v in repairs.items() if v]
        console.print(f"  [yellow]note[/]: {escape('; '.join(parts))} (--strict refuses such meshes)")
    loose = meta.get("loose_pieces")
    if loose:
        console.print(
            f"  [yellow]note[/]: {loose['pieces']:,} loose piece{'s' * (loose['pieces'] > 1)} away from the head "
            f"({loose['vertices']:,} vertices: "
            "stray geometry, a floor or backdrop) left out of the rig; they keep still"
        )
    hair = meta.get("hair_cards")
    if hair:
        console.print(
            f"  [yellow]note[/]: {hair['cards']:,} hair card{'s' * (hair['cards'] > 1)} ({hair['vertices']:,} vertices) "
            "left out of the network; they move with the scalp under them"
        )
    if meta.get("rewound_faces"):
        console.print(
            f"  [yellow]note[/]: {meta['rewound_faces']:,} triangles wound against their neighbours (flipped normals) "
            "were rigged re-wound; the outputs keep the file's faces"
        )
    body = meta.get("head_on_body")
    if body:
        console.print(
            f"  found a head on a body: rigged the top {body['vertices']:,} of {body['of']:,} vertices "
            f"(head and neck {body['head_height']:.4g} of {body['mesh_height']:.4g} input units tall, and the top of "
            "the shoulders); everything below keeps still"
        )
    orient = meta.get("orientation") or {}
    if orient.get("found") and orient.get("turned_from"):
        was = orient["turned_from"]
        console.print(
            f"  [yellow]note[/]: with --up {was[0]} --forward {was[1]} it does not look like a head; rigged in the "
            f"axes the head check found: --up {orient['up']} --forward {orient['forward']} "
            f"({orient['seconds']:.1f}s; give --up/--forward to choose)"
        )
    elif orient.get("found"):
        console.print(f"  oriented: --up {orient['up']} --forward {orient['forward']} ({orient['seconds']:.1f}s)")
    folds = meta.get("untangled") or {}
    if folds:
        from facerig.models.finish import UNTANGLE_TRIGGER

        why = "large folds" if folds.get("min_area", 0.0) >= UNTANGLE_TRIGGER else "--untangle"
        console.print(
            f"  folds smoothed away ({why}) in "
            f"{folds['shapes']} shape{'s' * (folds['shapes'] > 1)}: "
            f"{folds['folded_before']:,} -> {folds['folded_after']:,} triangles turned over"
        )
    if meta.get("computed_at_scale"):
        console.print(
            f"  computed at x{meta['computed_at_scale']:.3g} scale (the mesh's coordinates are extreme); "
            "deltas scaled back"
        )
    console.print(f"rigged: {len(rig.names)} shapes in {meta.get('seconds', 0):.2f}s")
    raf = meta.get("raf") or {}
    if raf.get("proxy_vertices"):
        console.print(
            f"  network on a {raf['proxy_vertices']:,}-vertex proxy"
            + (", averaged with its pass on the mirror image" if raf.get("mirror_averaged") else "")
        )
    if raf.get("leveled_deg"):
        console.print(f"  rigged level: the head's mirror plane leaned {raf['leveled_deg']:.1f} degrees")
    if raf.get("pitched_deg"):
        nod = -float(raf["pitched_deg"])
        console.print(f"  rigged upright: the head nodded {nod:+.0f} degrees (the network found its face there)")
    face = raf.get("face_frame")
    if face and face.get("factor", 1.0) != 1.0:
        console.print(
            f"  head frame x{face['factor']:.2f} from the face the network found "
            f"(eyes {face['iod']:.4g}, eyes to mouth {face['eye_mouth']:.4g} input units apart)"
        )
    if face and face.get("check") in ("warn", "error"):
        hint = (
            "no other orientation looks more like a head"
            if orient.get("warning")
            else "check --up/--forward if the rig looks wrong"
        )
        console.print(
            f"  [yellow]warning[/]: the face the network found looks odd: "
            f"{escape('; '.join(face.get('check_reasons', [])))}; {hint}"
        )
    fade = meta.get("falloff")
    if fade:
        where = f"beyond {fade['outer']:g} face sizes"
        if "below" in fade:
            where += f", {fade['below'][1]:g} below or {fade['behind'][1]:g} behind the face"
        if fade.get("cut_vertices"):
            where += f", or on the cut below the jaw ({fade['cut_vertices']:,} vertices)"
        console.print(
            f"  {fade['vertices_faded']:,} vertices far from the face move less ({fade['vertices_still']:,} "
            f"not at all: {where})"
        )
    stitched = raf.get("seam_vertices_stitched")
    if stitched:
        console.print(
            f"  open seams stitched for the network: {stitched:,} vertices lie on another one "
            "(each keeps its own row in the outputs)"
        )
    missing = meta.get("missing")
    if missing:
        console.print(
            f"  [yellow]missing shapes[/] ({len(missing)}, not produced by {method}): "
            f"{escape(', '.join(map(str, missing)))}"
        )


def _console(quiet: bool):
    from rich.console import Console

    return Console(quiet=quiet, highlight=False, soft_wrap=True)

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

import numpy as np

from facerig.errors import FacerigError


EPILOG = """\
Rigs always carry the 52 ARKit shapes in Apple's order; a shape the method cannot make
(e.g. tongueOut for dt) is written with zero deltas and reported as missing.

outputs (by suffix of each -o):
  out.npz          rig NPZ: names (52,), deltas (52,V,3) float32, neutral (V,3), faces, parts, meta
  out.glb/.gltf    the head with one morph target per shape (ready for Blender, Unity, three.js)
  out/             a folder with neutral.obj and one OBJ per shape (same vertex order as HEAD)
  out.fbx          FBX with shape keys (needs Blender's bpy: pip install 'facerig[blender]')

input checks (each problem is a one-line error, exit status 2):
  empty / unreadable / unsupported file, no faces, NaN or inf coordinates, face indices out
  of range, more than --max-vertices vertices. Degenerate (zero-area) and duplicate faces
  and vertices used by no face are errors too unless you allow them:
  --allow-degenerate    skip degenerate/duplicate triangles in the computation (the outputs
                        still carry every vertex and face of the file)
  --allow-unreferenced  accept loose vertices; they get zero deltas

orientation: --up/--forward name the input's axes (Maya/glTF/ARKit: +y/+z, the default;
Blender: --up +z --forward -y). They only steer the computation; the output keeps the
input's coordinates, units and vertex order exactly.

example:
  facerig rig head.obj -o head_rig.glb -o head_rig.npz
  facerig rig scan.ply -o rig/ --method dt --landmarks scan.landmarks.json --allow-degenerate
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
    parser.add_argument("head", help="head mesh: .obj .ply .stl .gltf .glb (.fbx with Blender)")
    parser.add_argument("-o", "--output", action="append", required=True, metavar="OUT",
                        help="output path; repeat for several formats (.npz .glb .gltf .fbx or folder/)")
    parser.add_argument("--method", choices=list(METHODS), default=None,
                        help="rigging method (default: raf, the shipped network; dt if its weights are missing; see BENCHMARKS.md)")
    parser.add_argument("--dt-mode", choices=("deformation", "copy"), default="deformation",
                        help="dt only: deformation transfer (default) or barycentric copy of the "
                             "registered template's deltas (closer on ICT-like heads, see BENCHMARKS.md)")
    parser.add_argument("--seam-tolerance", type=float, default=None, metavar="FRACTION",
                        help="raf only: stitch open seams (UV-island splits, unmerged mirror halves) whose sides "
                             "lie within this fraction of the bounding-box diagonal (default 2e-4); 0 turns it "
                             "off, e.g. for a mouth cut as a zero-width slit")
    parser.add_argument("--proxy-vertices", type=int, default=None, metavar="N",
                        help="raf only: vertices of the simplified proxy the network runs on (default 8000; "
                             "fewer is faster, more loses less detail; meshes up to 1.2 N are used as they are)")
    parser.add_argument("--no-mirror", action="store_true",
                        help="raf only: one network pass, without averaging with the pass on the head's mirror "
                             "image (half the network time, 2-6%% larger error; see BENCHMARKS.md)")
    parser.add_argument("--no-face-frame", action="store_true",
                        help="raf only: keep the head frame as measured (the head's width at nose height), without "
                             "sizing it by the face the network finds (saves one 4-shape network pass; the shipped "
                             "weights were trained in the face-sized frame, so this costs accuracy; see BENCHMARKS.md)")
    parser.add_argument("--no-head-check", action="store_true",
                        help="raf only: rig the mesh even where the network finds no plausible face on it (by "
                             "default such a mesh, or a head not facing --forward with --up up, is an error)")
    parser.add_argument("--landmarks", metavar="JSON", default=None,
                        help="landmark correspondences for dt (default: HEAD_STEM.landmarks.json next to HEAD, if present)")
    parser.add_argument("--up", default="+y", type=_axis, metavar="AXIS",
                        help="input axis pointing up: +x -x +y -y +z -z (default +y; Blender: +z)")
    parser.add_argument("--auto-orient", action="store_true",
                        help="find --up/--forward: the axis-aligned orientation (of 24) in which the network finds "
                             "the most plausible face (+4-5 s; needs the raf weights; replaces --up/--forward)")
    parser.add_argument("--forward", default="+z", type=_axis, metavar="AXIS",
                        help="input axis the face looks along (default +z; Blender: -y)")
    parser.add_argument("--names", choices=["arkit", "ict"], default="arkit",
                        help="shape names in glTF/FBX outputs (default arkit)")
    parser.add_argument("--allow-degenerate", action="store_true",
                        help="ignore zero-area and duplicate faces instead of refusing the mesh")
    parser.add_argument("--allow-unreferenced", action="store_true",
                        help="accept vertices used by no face (they get zero deltas)")
    parser.add_argument("--max-vertices", type=int, default=1_000_000, metavar="N",
                        help="refuse meshes with more vertices than this (default 1,000,000)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def _ranked_orientations(console, mesh, options, what: str) -> list:
    """``facerig.models.raf.probe.suggest_orientation`` of ``mesh`` with the rig's proxy and
    seam options, announced as ``what``."""
    from facerig.models.raf.probe import suggest_orientation
    console.print(f"{what} (24 candidates) ...")
    return suggest_orientation(mesh, **{k: options[k] for k in ("proxy_vertices", "weld") if k in options})


def _better_orientation(console, mesh, args, options) -> tuple[str, str] | None:
    """``(up, forward)`` in which the network finds a clearly more plausible face than in the
    orientation given, or None."""
    ranked = _ranked_orientations(console, mesh, options,
                                  "  looking for an orientation in which the network finds a face")
    given = next((r[3] for r in ranked if (r[0], r[1]) == (args.up, args.forward)), float("inf"))
    up, forward, status, score = ranked[0]
    if status == "ok" and (up, forward) != (args.up, args.forward) and score < 0.5 * given:
        return up, forward
    return None


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
    mod, fn, what = EXPORTERS[kind]
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


def _check_folder_collision(head: Path, folder: str, names: list[str] | None) -> None:
    """Refuse an OBJ-folder output that would overwrite the head (e.g. a head named
    ``jawOpen.obj`` or ``neutral.obj`` and ``-o`` its own folder)."""
    try:
        if not (Path(folder).is_dir() and head.parent.resolve() == Path(folder).resolve()):
            return
    except OSError:
        return
    if names is None:
        from facerig.arkit import ARKIT52

        names = list(ARKIT52)
    from facerig.io.objset import shape_filename

    written = {"neutral.obj", "rig.json"} | {shape_filename(n) for n in names}
    if head.name.lower() in {w.lower() for w in written}:
        raise FacerigError(f"output folder {folder} would overwrite the head {head.name}; choose another folder")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if b.exists() and a.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from facerig.geometry.components import connected_components
    from facerig.geometry.frame import orientation_matrix
    from facerig.io import read_mesh
    from facerig.io.validate import validate_mesh
    from facerig.models.registry import default_method, rig_mesh

    console = _console(args.quiet)
    head = Path(args.head)

    # everything that can be checked before the (slow) rigging is checked first
    orientation_matrix(args.up, args.forward)
    if args.auto_orient:
        from facerig.models.raf.weights import weights_available
        if not weights_available():
            raise FacerigError("--auto-orient needs the raf weights, which this installation lacks")
    for o in args.output:
        if _same_file(head, Path(o.rstrip("/\\") or o)):
            raise FacerigError(f"output {o} is the input file; refusing to overwrite the head")
    outputs = [(o, output_kind(o)) for o in args.output]
    for o, kind in outputs:
        _check_exporter(kind)
        if kind == "folder":
            _check_folder_collision(head, o, None)
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

    t0 = time.perf_counter()
    raw = read_mesh(head, max_vertices=args.max_vertices)  # exactly the file: written back out
    mesh = validate_mesh(raw, args.max_vertices, allow_degenerate=args.allow_degenerate,
                         allow_unreferenced=args.allow_unreferenced)  # what methods compute on
    parts = connected_components(mesh.num_vertices, mesh.faces)
    lo, hi = mesh.vertices.min(0), mesh.vertices.max(0)
    size = hi - lo
    console.print(f"[bold]{escape(str(head))}[/]: {mesh.num_vertices:,} vertices, {mesh.num_faces:,} triangles, "
                  f"{int(parts.max()) + 1} parts, bbox {size[0]:.4g} x {size[1]:.4g} x {size[2]:.4g} "
                  f"(read in {time.perf_counter() - t0:.2f}s)")
    for k, v in (mesh.info.get("repairs") or {}).items():
        console.print(f"  [yellow]note[/]: {k.replace('_', ' ')}: {v}")
    if landmarks:
        console.print(f"  landmarks: {escape(landmarks)}")

    options = {"landmarks": landmarks, "up": args.up, "forward": args.forward}
    if method == "dt":
        options["dt_mode"] = args.dt_mode
    if args.seam_tolerance is not None:
        if not (0 <= args.seam_tolerance < 0.01):
            raise FacerigError(f"--seam-tolerance must be in [0, 0.01) (a fraction of the bounding-box diagonal), "
                               f"got {args.seam_tolerance}")
        options["weld"] = args.seam_tolerance
    if args.proxy_vertices is not None:
        if not (500 <= args.proxy_vertices <= 100_000):
            raise FacerigError(f"--proxy-vertices must be in [500, 100000], got {args.proxy_vertices}")
        options["proxy_vertices"] = args.proxy_vertices
    if args.no_mirror:
        options["mirror"] = False
    if args.no_face_frame:
        options["face_frame"] = False
    if args.no_head_check:
        options["head_check"] = False
    if args.auto_orient:
        t1 = time.perf_counter()
        up, forward, status, score = _ranked_orientations(
            console, mesh, options, "finding the orientation in which the network sees a face")[0]
        if status != "ok":
            raise FacerigError(f"{head}: in no axis-aligned orientation does it look like a head to the network "
                               f"(best: --up {up} --forward {forward}, {status})")
        args.up, args.forward = up, forward
        options.update(up=up, forward=forward)
        console.print(f"  oriented: --up {up} --forward {forward} (score {score:.2f}, "
                      f"{time.perf_counter() - t1:.1f}s)")
    console.print(f"rigging with method [bold]{method}[/] (up {args.up}, forward {args.forward}) ...")
    from facerig.models.raf.probe import NotAHeadError
    try:
        rig = rig_mesh(mesh, method, parts=parts, **options)
    except NotAHeadError as e:
        better = _better_orientation(console, mesh, args, options)
        hint = (f"it does with --up {better[0]} --forward {better[1]}" if better
                else "if it is one, give its orientation with --up/--forward")
        raise FacerigError(f"{head}: does not look like a head ({e}); {hint}, or rig it anyway with "
                           "--no-head-check") from None
    rig.meta.setdefault("input", {"path": str(head), "up": args.up, "forward": args.forward})
    repairs = mesh.info.get("repairs") or {}
    if repairs:
        rig.meta.setdefault("repairs", repairs)
    if repairs.get("unreferenced_vertices"):
        used = np.zeros(mesh.num_vertices, dtype=bool)
        used[mesh.faces.ravel()] = True
        if not rig.deltas.flags.writeable:
            rig.deltas = rig.deltas.copy()
        rig.deltas[:, ~used] = 0.0  # loose vertices stay still, whatever the method did
    rig.faces = raw.faces  # outputs keep every face of the file (dropped ones only skipped in compute)
    rig = pad_to_arkit52(rig)
    console.print(f"rigged: {len(rig.names)} shapes in {rig.meta.get('seconds', 0):.2f}s")
    raf = rig.meta.get("raf") or {}
    if raf.get("proxy_vertices"):
        console.print(f"  network on a {raf['proxy_vertices']:,}-vertex proxy"
                      + (", averaged with its pass on the mirror image" if raf.get("mirror_averaged") else ""))
    face = raf.get("face_frame")
    if face and face.get("factor", 1.0) != 1.0:
        console.print(f"  head frame x{face['factor']:.2f} from the face the network found "
                      f"(eyes {face['iod']:.4g}, eyes to mouth {face['eye_mouth']:.4g} input units apart)")
    if face and face.get("check") in ("warn", "error"):
        better = _better_orientation(console, mesh, args, options) if face.get("check") == "warn" else None
        hint = (f"it looks more like a head with --up {better[0]} --forward {better[1]}" if better
                else "check --up/--forward if the rig looks wrong")
        console.print(f"  [yellow]warning[/]: the face the network found looks odd: "
                      f"{escape('; '.join(face.get('check_reasons', [])))}; {hint}")
    stitched = raf.get("seam_vertices_stitched")
    if stitched:
        console.print(f"  open seams stitched for the network: {stitched:,} vertices lie on another one "
                      "(each keeps its own row in the outputs)")
    missing = rig.meta.get("missing")
    if missing:
        console.print(f"  [yellow]missing shapes[/] ({len(missing)}, not produced by {method}): "
                      f"{escape(', '.join(map(str, missing)))}")

    for o, kind in outputs:
        if kind == "folder":
            _check_folder_collision(head, o, rig.names)
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
        console.print(f"wrote [green]{escape(o)}[/] ({EXPORTERS[kind][2]}: {len(rig.names)} shapes x "
                      f"{rig.num_vertices:,} vertices, {time.perf_counter() - t1:.2f}s)")
    console.print(f"done in {time.perf_counter() - t0:.1f}s")
    viewable = [o for o, _kind in outputs if Path(o).suffix.lower() in (".npz", ".glb", ".gltf")]
    if viewable:
        console.print(f"view it: [bold]facerig view {escape(str(viewable[0]))}[/]  "
                      f"(local page on 127.0.0.1; drive it with: facerig animate {escape(str(viewable[0]))} "
                      "-w TAKE.csv -o anim.glb)")
    return 0


def pad_to_arkit52(rig):
    """A rig whose names are all ARKit names gets the full 52, in Apple's order: shapes the
    method did not make are added with zero deltas (K', V, 3) and listed in ``meta["missing"]``.
    Rigs with other names are returned unchanged."""
    from facerig.arkit import ARKIT52
    from facerig.io.rig import Rig

    if list(rig.names) == list(ARKIT52) or not set(rig.names) <= set(ARKIT52):
        return rig
    index = {n: i for i, n in enumerate(rig.names)}
    deltas = np.zeros((len(ARKIT52), rig.num_vertices, 3), np.float32)
    for k, n in enumerate(ARKIT52):
        if n in index:
            deltas[k] = rig.deltas[index[n]]
    meta = dict(rig.meta)
    absent = [n for n in ARKIT52 if n not in index]
    meta["missing"] = list(dict.fromkeys(list(meta.get("missing") or []) + absent))
    return Rig(names=list(ARKIT52), deltas=deltas, neutral=rig.neutral, faces=rig.faces, parts=rig.parts, meta=meta)


def _console(quiet: bool):
    from rich.console import Console

    return Console(quiet=quiet, highlight=False, soft_wrap=True)

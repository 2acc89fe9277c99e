"""``facerig eval``: evaluate a rigging method on an eval set (errors in mm).

    facerig eval --method dt --set evalset [--groups unseen,remeshed] [--limit 2]
                 [--shapes jawOpen,eyeBlinkLeft] [--json out.json] [--no-interp]
                 [--dt-mode copy] [-O key=value ...]

Prints a table per group (mean / active / q95 / relative / scale-invariant / interpenetration,
seconds and MB per head) and the worst shapes; ``--json`` writes everything for scripts.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from facerig.models.registry import METHODS

    parser.add_argument(
        "--method", "-m", default=None, help=f"rigging method: {', '.join(METHODS)} (default: as for facerig rig)"
    )
    parser.add_argument(
        "--set",
        dest="set_dir",
        default="evalset",
        help="eval set folder holding index.json (default ./evalset; write one with "
        "`facerig data make-eval --out evalset`)",
    )
    parser.add_argument("--groups", default=None, help="comma-separated groups to evaluate (default all)")
    parser.add_argument("--limit", type=int, default=None, help="at most N heads per group")
    parser.add_argument("--shapes", default=None, help="comma-separated ARKit shapes to score (default all)")
    parser.add_argument("--json", dest="json_out", default=None, help="write the full results as JSON here")
    parser.add_argument("--no-interp", action="store_true", help="skip the interpenetration ratio (faster)")
    parser.add_argument("--no-check", action="store_true", help="skip facerig check on the predicted rigs (faster)")
    parser.add_argument(
        "--dt-mode",
        choices=["deformation", "copy"],
        default=None,
        help="dt only: real deformation transfer (default) or barycentric delta copy",
    )
    parser.add_argument(
        "-O",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra method option (value parsed as JSON when possible), repeatable",
    )
    parser.add_argument("--top-shapes", type=int, default=15, help="rows of the per-shape table (default 15)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.add_argument(
        "--task",
        choices=["rig", "invert", "invert-image"],
        default="rig",
        help="rig: score a rigging method on --set (default); invert: inverse rigging on held-out "
        "heads posed with the real take (facerig.eval.invert; --quick, --json); "
        "invert-image: ARKit weights from images of held-out heads "
        "(facerig.eval.image_inversion; --json)",
    )
    parser.add_argument("--quick", action="store_true", help="--task invert: the small size (about a minute)")
    parser.add_argument(
        "--weights", default=None, help="--task invert-image: a weights .npz to score (default the shipped one)"
    )
    parser.add_argument(
        "--no-mirror", action="store_true", help="--task invert-image: one reading per image (no mirror averaging)"
    )
    parser.add_argument(
        "--no-calibration",
        action="store_true",
        help="--task invert-image: the network's raw weights (not through the weights file's output calibration)",
    )
    parser.add_argument(
        "--no-tta",
        action="store_true",
        help="--task invert-image: no test-time views / modality blend (the weights file's, if any)",
    )


def _parse_options(items: list[str]) -> dict[str, Any]:
    from facerig.errors import FacerigError

    out: dict[str, Any] = {}
    for it in items:
        if "=" not in it:
            raise FacerigError(f"-O expects KEY=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except ValueError:
            out[k.strip()] = v
    return out


def run(args: argparse.Namespace) -> int:
    from facerig.errors import FacerigError
    from facerig.eval.harness import evaluate, write_json
    from facerig.eval.report import print_report
    from facerig.models.registry import default_method

    if args.task == "invert-image":
        from facerig.eval.image_inversion import evaluate_image_inversion
        from facerig.eval.image_inversion import print_report as print_image

        result = evaluate_image_inversion(
            args.weights,
            mesh_baseline=not args.quick,
            progress=not args.quiet,
            mirror=not args.no_mirror,
            calibrate=not args.no_calibration,
            tta=not args.no_tta,
        )
        print_image(result)
        if args.json_out:
            write_json(args.json_out, result)
            print(f"wrote {args.json_out}")
        return 0
    if args.task == "invert":
        from facerig.eval.invert import evaluate_invert
        from facerig.eval.invert import print_report as print_invert

        result = evaluate_invert(quick=args.quick, progress=not args.quiet)
        print_invert(result)
        if args.json_out:
            write_json(args.json_out, result)
            print(f"wrote {args.json_out}")
        return 0
    if args.limit is not None and args.limit < 1:
        raise FacerigError("--limit must be >= 1")
    if args.json_out:
        from pathlib import Path

        from facerig.io.atomic import check_outputs, check_writable

        # results may go into the set's folder, never over its index (or the folder itself)
        check_outputs([Path(args.set_dir) / "index.json"], [args.json_out])
        check_writable(args.json_out)
    method = args.method or default_method()
    options = _parse_options(args.option)
    if args.dt_mode:
        options["dt_mode"] = args.dt_mode
    groups = [g.strip() for g in args.groups.split(",") if g.strip()] if args.groups else None
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()] if args.shapes else None
    result = evaluate(
        args.set_dir,
        method,
        groups=groups,
        limit=args.limit,
        shapes=shapes,
        interp=not args.no_interp,
        options=options,
        progress=not args.quiet,
        check=not args.no_check,
    )
    print_report(result, top_shapes=args.top_shapes)
    if args.json_out:
        write_json(args.json_out, result)
        print(f"wrote {args.json_out}")
    return 0

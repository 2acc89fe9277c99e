"""``facerig check``: audit a rig on its own head, with no ground truth.

    facerig check RIG [--head HEAD] [--json OUT] [--up +y --forward +z] [--checks a,b] [--all-rows]

Prints one table row per check (worst value, threshold, PASS / FAIL / n/a, worst shape) and a
summary line; ``--all-rows`` adds a row per shape. Exit status: 0 all checks pass or do not
apply, 1 a check fails, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import re

help = "audit a rig with no ground truth: eyelids, mouth, mirroring, rigid parts, tearing (pass/fail)"

EPILOG = """\
checks (thresholds calibrated so the authors' rigs in the shared data pass; BENCHMARKS.md "Rig check"):
  eyelid_closure    eyeBlinkL/R hide the eye seen from the front (eyeball through the lids, or a mask's eye hole)
  mouth_open        jawOpen opens a gap between the lips on the mid-line (in eye distances); n/a where
                    the head has no mouth opening (no cut or fold between the lips: a statue)
  mouth_close       mouthClose on top of jawOpen closes that gap again
  mirror / side     Left vs mirrored Right shapes; one-sided shapes move their own side (left = +X)
  rigidity          eyeballs and teeth move rigidly
  interpenetration  skin through eyeballs / teeth (the facerig eval ratio)
  stretch           edges stretched many times (tearing)
  far_motion        motion far below the chin or at the back of the head
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from facerig.eval.check import CHECKS

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[xyzXYZ]$")
    parser.add_argument(
        "rig", help="rig: .npz (facerig's, an external rig's, or deltas only with --head), .glb/.gltf, or an OBJ folder"
    )
    parser.add_argument(
        "--head",
        default=None,
        help="head mesh whose vertices/faces are the rig's neutral "
        "(needed when the rig file has no neutral or no faces)",
    )
    parser.add_argument(
        "--json", dest="json_out", default=None, metavar="OUT", help="write the full result as JSON here"
    )
    parser.add_argument(
        "--up", default=None, help="rig axis pointing up (default: the axes facerig rigged in, else +y; Blender: +z)"
    )
    parser.add_argument(
        "--forward",
        default=None,
        help="rig axis out of the face (default: the axes facerig rigged in, e.g. -z for a VRM 0.x avatar, else +z; "
        "Blender: -y)",
    )
    parser.add_argument("--checks", default=None, help=f"comma-separated subset of: {', '.join(CHECKS)}")
    parser.add_argument("--all-rows", action="store_true", help="one table row per shape and check")


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3g}"


_STYLE = {"pass": "[green]PASS[/]", "fail": "[bold red]FAIL[/]", "n/a": "[dim]n/a[/]"}


def print_result(result: dict, *, all_rows: bool = False, console=None, title: str = "") -> None:
    """Rich table of a :func:`facerig.eval.check.check_rig` result and a summary line."""
    from rich.console import Console
    from rich.table import Table

    if console is None:
        console = Console()
        if not console.is_terminal or console.width < 120:
            console = Console(width=140)
    table = Table(title=title or None)
    for col in ("check", "shape", "value", "threshold", "result", "note"):
        table.add_column(col, justify="right" if col in ("value", "threshold") else "left")
    if all_rows:
        for r in result["rows"]:
            table.add_row(
                r["check"],
                r["shape"] or "-",
                _fmt(r["value"]),
                f"{r['op']} {r['threshold']:g}",
                _STYLE[r["status"]],
                r["note"],
            )
    else:
        for c, s in result["summary"].items():
            counts = f"{s['pass']} pass, {s['fail']} fail, {s['na']} n/a"
            note = counts if s["status"] != "n/a" else (s["note"] or counts)
            table.add_row(
                c, s["worst_shape"] or "-", _fmt(s["worst"]), f"{s['op']} {s['threshold']:g}", _STYLE[s["status"]], note
            )
    console.print(table)
    lay = result["layout"]
    eyes = ", ".join(sorted({e["kind"] for e in lay["eyes"]})) or "none"
    failed = [c for c, s in result["summary"].items() if s["status"] == "fail"]
    na = [c for c, s in result["summary"].items() if s["status"] == "n/a"]
    verdict = "[bold green]PASS[/]" if not failed else f"[bold red]FAIL[/] ({', '.join(failed)})"
    console.print(
        f"{verdict}: {len(result['summary']) - len(failed) - len(na)} checks pass, {len(failed)} fail, "
        f"{len(na)} n/a; {lay['vertices']:,} vertices, {lay['shapes']} ARKit shapes, eyes: {eyes}, "
        f"{len(lay['mouth_parts'])} mouth parts; {result['seconds']:.2f} s"
    )


def run(args: argparse.Namespace) -> int:
    from facerig.errors import FacerigError
    from facerig.eval.check import _read_rig, check_rig
    from facerig.geometry.frame import orientation_matrix

    orientation_matrix(args.up or "+y", args.forward or "+z")  # bad axes -> FacerigError before reading
    checks = tuple(c.strip() for c in args.checks.split(",") if c.strip()) if args.checks else None
    rig = _read_rig(args.rig, args.head)
    if not any(n for n in rig.names):
        raise FacerigError(f"{args.rig}: the rig has no shapes")
    if args.up is None and args.forward is None:  # the axes facerig rigged in (a VRM 0.x avatar: -z)
        rigged = (rig.meta or {}).get("input") or {}
        axes = (rigged.get("up"), rigged.get("forward"))
        ok = all(a in ("+x", "-x", "+y", "-y", "+z", "-z") for a in axes) and axes[0][1] != axes[1][1]
        args.up, args.forward = axes if ok else ("+y", "+z")
    args.up, args.forward = args.up or "+y", args.forward or "+z"
    result = check_rig(rig, up=args.up, forward=args.forward, checks=checks)
    result["rig"] = str(args.rig)
    result["head"] = str(args.head) if args.head else None
    print_result(result, all_rows=args.all_rows, title=f"facerig check {args.rig}")
    if args.json_out:
        from facerig.io.atomic import write_text_atomic

        write_text_atomic(args.json_out, json.dumps(result, indent=1))
        print(f"wrote {args.json_out}")
    return 0 if result["passed"] else 1

"""``facerig data``: ICT FaceKit / sample generator utilities.

- ``facerig data info``                                   where the data is, cache state, counts
- ``facerig data make-eval --out DIR [--per-group N] [--seed S] [--groups g1,g2]``
- ``facerig data sample --seed S --out X.obj [--split train|eval] [--family ict]``
  (writes X.obj, X.gt.npz and, for ICT heads, X.landmarks.json)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("info", help="where the data was found, cache state, counts")
    p = sub.add_parser("make-eval", help="write the fixed validation set")
    from facerig.data.evalset import DEFAULT_PER_GROUP, DEFAULT_SEED, GROUPS

    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--per-group",
        type=int,
        default=DEFAULT_PER_GROUP,
        help=f"heads per synthetic group (default {DEFAULT_PER_GROUP})",
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"base seed (default {DEFAULT_SEED})")
    p.add_argument("--groups", default=None, help=f"comma-separated subset of {','.join(GROUPS)}")
    p = sub.add_parser("sample", help="write one generated head (OBJ + GT NPZ) for debugging")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output .obj path")
    p.add_argument("--split", default="train", choices=["train", "eval"])
    p.add_argument("--family", default="ict", choices=["ict", "makehuman"])


def run(args: argparse.Namespace) -> int:
    if args.action == "info":
        return _info()
    if args.action == "make-eval":
        from facerig.data.evalset import make_eval, summary_rows

        groups = tuple(g.strip() for g in args.groups.split(",") if g.strip()) if args.groups else None
        if args.per_group < 0:
            from facerig.errors import FacerigError

            raise FacerigError("--per-group must be >= 0")
        index = make_eval(args.out, per_group=args.per_group, seed=args.seed, groups=groups)
        _table(["group", "heads", "vertices", "mm/unit"], summary_rows(index))
        return 0
    if args.action == "sample":
        return _sample(args)
    return 2


def _table(header: list[str], rows: list[tuple]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for r in [header, *rows]:
        print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))


def _info() -> int:
    from facerig import config
    from facerig.data import ict

    root = config.data_root(required=False)
    print(f"data root:     {root if root else 'not found (set FACERIG_DATA)'}")
    d = config.ict_dir(required=False)
    print(f"ICT FaceKit:   {d if d else 'not found (set FACERIG_ICT_DIR)'}")
    if d is not None:
        print(f"  archive:     {'yes' if (d / 'FaceXModel.tar.xz').is_file() else 'no'}")
    cp = ict.cache_path()
    unpacked = config.cache_dir("ict") / "FaceXModel"
    print(f"cache:         {config.cache_dir()}")
    print(f"  unpacked:    {unpacked if unpacked.is_dir() else 'no'}")
    print(
        f"  ICT NPZ:     {f'{cp} ({cp.stat().st_size / 1e6:.0f} MB)' if cp.is_file() else 'not built (first use converts, ~15 s)'}"
    )
    if cp.is_file() or d is not None:
        m = ict.load_ict()
        names, _ = m.arkit()
        print(
            f"ICT model:     {m.num_vertices} vertices, {m.faces.shape[0]} triangles, "
            f"{len(m.polygons)} polygons, {int(m.parts.max()) + 1} parts, {m.identity_modes.shape[0]} identity modes, "
            f"{len(m.expression_names)} expressions -> {len(names)} ARKit shapes (missing: {', '.join(ict.missing_arkit())})"
        )
    if root is not None:
        from facerig.data import makehuman

        mh = makehuman.makehuman_dir(required=False)
        print(f"MakeHuman:     {mh if mh else 'not found'}")
        if mh:
            mcp = makehuman._cache_path()
            print(
                f"  MH NPZ:      {f'{mcp} ({mcp.stat().st_size / 1e6:.0f} MB)' if mcp.is_file() else 'not built (first use converts, ~25 s)'}"
            )
        ext = sorted((root / "external-rigs").glob("*.npz")) if (root / "external-rigs").is_dir() else []
        print(f"external rigs: {', '.join(p.stem for p in ext) if ext else 'none'}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from facerig.data.evalset import write_head
    from facerig.data.families import get_family
    from facerig.data.generator import SampleConfig, generate_sample

    out = Path(args.out)
    if out.suffix.lower() != ".obj":
        from facerig.errors import FacerigError

        raise FacerigError(f"--out must end in .obj, got {out}")
    fam = get_family(args.family)
    s = generate_sample(fam, args.seed, SampleConfig(split=args.split))
    stem = out.name[: -len(".obj")]
    e = write_head(
        out.parent if str(out.parent) else Path("."),
        stem,
        s,
        template_landmarks=fam.landmarks68 if fam.name == "ict" else None,
        header=f"facerig sample seed {args.seed} ({args.split}, {fam.name})",
    )
    print(
        f"wrote {out} ({s.num_vertices} vertices, {s.mm_per_unit:g} mm/unit), "
        f"{out.parent / (stem + '.gt.npz')}"
        + (f", {out.parent / (stem + '.landmarks.json')}" if e["landmarks"] else "")
    )
    print(json.dumps(e["info"]["steps"], indent=1))
    return 0

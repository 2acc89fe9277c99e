"""Does the face the network finds tell a head from other meshes? Data for ``HEAD_CHECK``.

For every head of one or more eval sets (no ground truth used) and for a fixed list of meshes
that are not heads or not in the orientation given (spheres, boxes, a cylinder, a capsule, a
torus; the bundled example head turned 45, 90 and 180 degrees, rolled, tilted, upside down and
lying down), this runs the face probe (:func:`facerig.models.raf.probe.face_landmarks`) and prints
:func:`facerig.models.raf.probe.face_layout` and the verdict of
:func:`facerig.models.raf.probe.face_check`.

    python benchmarks/head_check.py evalset evalset_wide [--weights W] [--out FILE]
    python benchmarks/head_check.py --orientations   # suggest_orientation on the turned example heads

Writes ``benchmarks/results/head_check.json`` (``--orientations``: ``head_orientation.json``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]


#: Axis-aligned turns of the example head (name, rotation axis, degrees).
TURNS = [
    ("facing back (180 about up)", [0, 1, 0], 180),
    ("turned 90", [0, 1, 0], 90),
    ("upside down", [0, 0, 1], 180),
    ("lying down (up along -Z)", [1, 0, 0], -90),
    ("Blender's +Z up, -Y forward", [1, 0, 0], 90),
]


def _rotation(axis, degrees: float) -> np.ndarray:
    """(3, 3) rotation by ``degrees`` about ``axis``."""
    import trimesh

    return trimesh.transformations.rotation_matrix(np.radians(degrees), axis)[:3, :3]


def negatives() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, vertices, faces) of the meshes that should not pass as upright heads."""
    import trimesh

    from facerig.io import read_mesh

    head = read_mesh(ROOT / "examples" / "ict_head" / "head.obj")
    v, f = np.asarray(head.vertices, float), np.asarray(head.faces)
    out = [
        (f"example head, {name}", v @ _rotation(ax, deg).T, f)
        for name, ax, deg in TURNS
        + [("turned 45", [0, 1, 0], 45), ("tilted 30 forward", [1, 0, 0], 30), ("rolled 20", [0, 0, 1], 20)]
    ]
    shapes = [
        ("sphere", trimesh.creation.icosphere(4)),
        ("box", trimesh.creation.box((1, 1.3, 1)).subdivide().subdivide()),
        ("cylinder", trimesh.creation.cylinder(0.5, 1.5, sections=64).subdivide()),
        ("capsule", trimesh.creation.capsule(1.0, 0.5, count=[32, 32])),
    ]
    if hasattr(trimesh.creation, "torus"):
        shapes.append(("torus", trimesh.creation.torus(1.0, 0.3)))
    out += [(name, np.asarray(m.vertices, float) * 10.0, np.asarray(m.faces)) for name, m in shapes]
    return out


def orientations(weights: str | None, out: str) -> int:
    """``suggest_orientation`` on the example head as it is and turned the ways of
    :func:`negatives`: where the right orientation ranks, its score and the next one's."""
    import time

    from facerig.io import read_mesh
    from facerig.io.atomic import atomic_path
    from facerig.io.mesh import Mesh
    from facerig.models.raf.probe import suggest_orientation

    head = read_mesh(ROOT / "examples" / "ict_head" / "head.obj")
    v, f = np.asarray(head.vertices, float), np.asarray(head.faces)
    cases = [("as it is", np.eye(3))] + [(name, _rotation(ax, deg)) for name, ax, deg in TURNS]
    rows = []
    print("| example head | right orientation | its rank of 24 | its score | best other (score) | seconds |")
    print("|---|---|---|---|---|---|")
    for name, Rm in cases:
        # the orientation that undoes the turn: input axes a with Rm^T a = canonical up / forward
        up, fwd = (_axis_name(Rm @ np.array(c)) for c in ([0, 1, 0], [0, 0, 1]))
        t = time.perf_counter()
        ranked = suggest_orientation(Mesh(vertices=v @ Rm.T, faces=f), weights=weights)
        dt = time.perf_counter() - t
        rank = next(i for i, r in enumerate(ranked) if (r[0], r[1]) == (up, fwd)) + 1
        other = next(r for r in ranked if (r[0], r[1]) != (up, fwd))
        rows.append(
            {
                "case": name,
                "up": up,
                "forward": fwd,
                "rank": rank,
                "score": ranked[rank - 1][3],
                "check": ranked[rank - 1][2],
                "best_other": list(other),
                "seconds": round(dt, 2),
            }
        )
        print(
            f"| {name} | --up {up} --forward {fwd} | {rank} | {ranked[rank - 1][3]:.2f} ({ranked[rank - 1][2]}) | "
            f"{other[0]} / {other[1]} ({other[3]:.2f}) | {dt:.1f} |",
            flush=True,
        )
    doc = {
        "meta": run_meta(),
        "rows": rows,
    }
    with atomic_path(Path(out), suffix=".json") as tmp:
        Path(tmp).write_text(json.dumps(doc, indent=1))
    print(f"wrote {out}")
    return 0


def _axis_name(vec: np.ndarray) -> str:
    i = int(np.argmax(np.abs(vec)))
    return ("+" if vec[i] > 0 else "-") + "xyz"[i]


def main(argv: list[str] | None = None) -> int:
    from facerig.eval.harness import load_index
    from facerig.geometry.proxy import prepare_head
    from facerig.io import load_mesh
    from facerig.io.atomic import atomic_path
    from facerig.models.raf.config import RIG_PROXY_VERTICES
    from facerig.models.raf.probe import HEAD_CHECK, face_check, face_landmarks, face_layout
    from facerig.models.raf.weights import load_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="*", default=["evalset"], help="eval set folders (heads)")
    ap.add_argument("--weights", default=None)
    ap.add_argument(
        "--out",
        default=None,
        help="default benchmarks/results/head_check.json (head_orientation.json with --orientations)",
    )
    ap.add_argument(
        "--orientations",
        action="store_true",
        help="rank the 24 axis-aligned orientations of the example head turned 7 ways (suggest_orientation) and exit",
    )
    args = ap.parse_args(argv)
    if args.orientations:
        return orientations(args.weights, args.out or "benchmarks/results/head_orientation.json")
    args.out = args.out or "benchmarks/results/head_check.json"
    model, meta = load_model(args.weights)

    def measure(v, f) -> dict:
        prep = prepare_head(
            np.asarray(v, np.float64), f, proxy_vertices=RIG_PROXY_VERTICES, k=model.k_eig, operators=False
        )
        lm = face_landmarks(model, prep)
        status, reasons = face_check(lm)
        return {**{k: round(float(x), 4) for k, x in face_layout(lm).items()}, "check": status, "reasons": reasons}

    keys = ("sym", "level", "depth", "mouth_mid", "below", "forward", "ratio")
    print("| mesh | kind | " + " | ".join(keys) + " | check |")
    print("|---|---|" + "---|" * len(keys) + "---|")
    rows = []

    def show(name, kind, r):
        rows.append({"mesh": name, "kind": kind, **r})
        print(f"| {name} | {kind} | " + " | ".join(f"{r[k]:.3f}" for k in keys) + f" | {r['check']} |", flush=True)

    for d in args.sets:
        for h in load_index(Path(d))["heads"]:
            mesh = load_mesh(Path(d) / h["mesh"], allow_degenerate=True, allow_unreferenced=True)
            show(f"{Path(d).name}/{h['id']}", "head", measure(mesh.vertices, mesh.faces))
    for name, v, f in negatives():
        show(name, "not an upright head", measure(v, f))
    heads = [r for r in rows if r["kind"] == "head"]
    others = [r for r in rows if r["kind"] != "head"]
    summary = {
        "heads": len(heads),
        "heads_ok": sum(r["check"] == "ok" for r in heads),
        "heads_error": sum(r["check"] == "error" for r in heads),
        "others": len(others),
        "others_error": sum(r["check"] == "error" for r in others),
        "others_warn": sum(r["check"] == "warn" for r in others),
        "head_extremes": {k: [min(r[k] for r in heads), max(r[k] for r in heads)] for k in keys} if heads else {},
    }
    print(json.dumps(summary))
    doc = {
        "meta": {
            **run_meta(),
            "sets": args.sets,
            "weights_step": meta.get("step"),
            "limits": HEAD_CHECK,
        },
        "summary": summary,
        "rows": rows,
    }
    with atomic_path(Path(args.out), suffix=".json") as tmp:
        Path(tmp).write_text(json.dumps(doc, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

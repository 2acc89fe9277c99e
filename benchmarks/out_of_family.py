"""Rig accuracy against other authors' rigs, in-family and out-of-family reported apart.

Every head whose author's own ARKit-named shapes are in ``../shared/data``:

- ``external-rigs/johnsmith_head.npz`` (out of family; 50 shapes), ``external-rigs/makehuman_hm08.npz``
  (in family: the network trained on MakeHuman identities);
- ``heads/rocketbox_*`` (full ARKit-52 by the avatars' authors; out of family unless trained on);
- ``heads/weboji_*`` (11 author shapes mapped to ARKit names; out of family).

Each head is rigged by the library (``rig_mesh`` with ``raf``; degenerate faces and loose
vertices tolerated, no head check: this measures the rig, not the input handling), and each
author shape is compared with the rig's shape of the same name:

- ``relative``: active error / the zero rig's (``facerig.eval.metrics.shape_errors``);
- ``si``: the same after the best non-negative scale of the prediction (rig styles differ in how
  far a shape goes);
- ``completion``: over the 5 % of vertices the author's shape moves most, sum(p.g) / sum(g.g)
  (1: the motion goes all the way, 0: nothing moves; ``facerig.eval.metrics.completion``).

Per head: the means over its shapes, and blink completion (mean of the two eyeBlinks). Groups
(``in_family``, ``out_of_family``) are means over their heads, never mixed.

    python benchmarks/out_of_family.py [--heads a,b] [--raf-option key=value ...] [--tag T]

writes ``benchmarks/results/out_of_family[_T].json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from _meta import write_result

ROOT = Path(__file__).resolve().parents[1]

#: Heads whose rigs trained the shipped network's family (MakeHuman identities).
IN_FAMILY = {"makehuman_hm08"}
#: Shapes summarised on their own (the issue's list).
WATCH = (
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "jawOpen",
    "browInnerUp",
    "mouthFunnel",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthPucker",
)


def author_heads(data: Path) -> list[dict]:
    """Every head with author shapes: name, vertices (V,3), faces (F,3), names (K,), deltas (K,V,3),
    mm_per_unit; read through the one rig loader (:func:`facerig.io.rigfile.read_rig`, the head
    OBJ giving a ``NAME.blendshapes.npz`` its neutral)."""
    from facerig.io.rigfile import read_rig

    files = [(p.stem, p, None) for p in sorted((data / "external-rigs").glob("*.npz"))]
    for p in sorted((data / "heads").glob("*.blendshapes.npz")):
        name = p.name[: -len(".blendshapes.npz")]
        files.append((name, p, data / "heads" / f"{name}.obj"))
    heads = []
    for name, p, head in files:
        rig = read_rig(p, head=head)
        heads.append(
            {
                "name": name,
                "vertices": rig.neutral,
                "faces": rig.faces,
                "names": list(rig.names),
                "deltas": rig.deltas,
                "mm_per_unit": float(rig.meta["mm_per_unit"]),
            }
        )
    return heads


def evaluate_head(head: dict, options: dict) -> dict:
    """Rig one head and compare it with its author's shapes (see module doc)."""
    from facerig.eval.metrics import completion, shape_errors
    from facerig.io.mesh import Mesh
    from facerig.io.validate import validate_mesh
    from facerig.models.registry import rig_mesh

    mesh = validate_mesh(
        Mesh(vertices=head["vertices"], faces=np.asarray(head["faces"], np.int64)),
        None,
        allow_degenerate=True,
        allow_unreferenced=True,
    )
    t0 = time.perf_counter()
    rig = rig_mesh(mesh, "raf", **{"head_check": False, **options})
    seconds = time.perf_counter() - t0
    index = {n: i for i, n in enumerate(rig.names)}
    keep = [k for k, n in enumerate(head["names"]) if n in index and np.abs(head["deltas"][k]).max() > 0]
    names = [head["names"][k] for k in keep]
    gt = head["deltas"][keep]
    pred = rig.deltas[[index[n] for n in names]]
    if "used" in head:
        gt, pred = gt[:, head["used"]], pred[:, head["used"]]
    e = shape_errors(pred, gt, head["mm_per_unit"])
    comp = completion(pred, gt)
    si_rel = e["si_active_mm"] / e["zero_active_mm"]
    per_shape = {
        n: {
            "relative": round(float(e["relative"][i]), 4),
            "si": round(float(si_rel[i]), 4),
            "completion": round(float(comp[i]), 4),
            "si_scale": round(float(e["si_scale"][i]), 3),
        }
        for i, n in enumerate(names)
    }
    blinks = [per_shape[n]["completion"] for n in ("eyeBlinkLeft", "eyeBlinkRight") if n in per_shape]
    return {
        "head": head["name"],
        "vertices": int(len(head["vertices"])),
        "shapes": len(names),
        "relative": round(float(np.nanmean(e["relative"])), 4),
        "si": round(float(np.nanmean(si_rel)), 4),
        "completion": round(float(np.nanmean(comp)), 4),
        "blink_completion": round(float(np.mean(blinks)), 4) if blinks else None,
        "seconds": round(seconds, 2),
        "per_shape": per_shape,
    }


def summarise(rows: list[dict]) -> dict:
    """Means over heads, per group, and per watched shape."""
    out = {}
    for group, members in (
        ("in_family", [r for r in rows if r["head"] in IN_FAMILY]),
        ("out_of_family", [r for r in rows if r["head"] not in IN_FAMILY]),
    ):
        if not members:
            continue
        g = {k: round(float(np.nanmean([r[k] for r in members])), 4) for k in ("relative", "si", "completion")}
        blinks = [r["blink_completion"] for r in members if r["blink_completion"] is not None]
        g["blink_completion_median"] = round(float(np.median(blinks)), 4) if blinks else None
        g["blink_completion_min"] = round(float(np.min(blinks)), 4) if blinks else None
        g["heads"] = [r["head"] for r in members]
        g["shape_completion_median"] = {
            n: round(float(np.median(v)), 3)
            for n in WATCH
            if (v := [r["per_shape"][n]["completion"] for r in members if n in r["per_shape"]])
        }
        out[group] = g
    return out


def main(argv: list[str] | None = None) -> int:
    from facerig import parallel
    from facerig.config import data_root

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heads", default="", help="comma-separated head names (default all)")
    ap.add_argument(
        "--raf-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="rig_raf option (value parsed as JSON when possible), repeatable",
    )
    ap.add_argument("--tag", default="", help="result file suffix")
    args = ap.parse_args(argv)
    parallel.configure(fork=True, keep_freed_memory=True)  # as the CLI
    options = {}
    for item in args.raf_option:
        k, _, v = item.partition("=")
        try:
            options[k] = json.loads(v)
        except json.JSONDecodeError:
            options[k] = v
    wanted = {h.strip() for h in args.heads.split(",") if h.strip()}
    rows = []
    for head in author_heads(data_root()):
        if wanted and head["name"] not in wanted:
            continue
        row = evaluate_head(head, options)
        rows.append(row)
        blink = "-" if row["blink_completion"] is None else f"{row['blink_completion']:.2f}"
        print(
            f"{row['head']:28s} {row['vertices']:>6d} v {row['shapes']:>3d} shapes  rel {row['relative']:.3f}  "
            f"si {row['si']:.3f}  completion {row['completion']:.2f}  blink {blink}  ({row['seconds']:.1f} s)",
            flush=True,
        )
    summary = summarise(rows)
    for group, g in summary.items():
        print(
            f"{group}: rel {g['relative']:.3f} si {g['si']:.3f} completion {g['completion']:.2f} "
            f"blink median {g['blink_completion_median']} min {g['blink_completion_min']}"
        )
    write_result(
        "out_of_family",
        args.tag,
        {
            "options": options,
            "summary": summary,
            "heads": rows,
        },
        argv,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Heads that come with a body: is the head found, and is its rig as good as the head's alone?

Meshes (built here, nothing written to the data folder):

- ``makehuman_body``: MakeHuman hm08's whole body with its eyes, teeth, tongue and lashes
  (``FACERIG_DATA/makehuman/3dobjs/base.obj``, :func:`facerig.data.bodies.makehuman_body`), and the
  same body in Blender's axes (z up, -y forward; rigged with ``up="+z", forward="-y"``);
- ``makehuman_head``: hm08's head alone (``external-rigs/makehuman_hm08.npz``, the reference);
- ``ict_bust`` / ``ict_body``: the bundled example head (``examples/ict_head``) with a flattened
  capsule for shoulders and chest, or on a tall capsule body (:func:`facerig.data.bodies.on_body`),
  and ``ict_head`` alone (the reference).

Each is rigged by the library as ``facerig rig`` does (``rig_mesh``, ``raf``, default options) and
audited by ``check_rig`` (``facerig check``). Recorded per mesh: the head region found
(``meta["head_on_body"]``), the seconds, each check's status and worst value, the largest delta
outside the crop and on the seam (the crop's vertices sharing a face with the rest of the body):
both must be 0. hm08's body and head are
also compared with the author's shapes (``external-rigs/makehuman_hm08.npz``; its vertices matched
to the body's by position, both compared on the head vertices found on the body): ``relative`` = active error / the zero rig's, the mean over the author's
shapes (``facerig.eval.metrics.shape_errors``), as ``benchmarks/out_of_family.py`` reports it.

Every public head (``FACERIG_DATA/heads``), the example head and, with ``--evalset``, every
validation mesh is also scanned by the locator: none may be taken for a body (their rigs stay as
they were; ``benchmarks/rig_identity.py`` compares them with an older checkout).

    nice python benchmarks/head_on_body.py [--only a,b] [--evalset /work/evalset]

writes ``benchmarks/results/head_on_body.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from _meta import write_result

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ("eyelid_closure", "mouth_open", "mouth_close", "jaw_teeth", "far_motion", "rigidity")


def _meshes(data: Path) -> dict:
    """name -> (vertices, faces, up, forward, author) with author = (names, deltas (K,V,3), mm_per_unit)
    or None."""
    from facerig.data.bodies import makehuman_body, on_body
    from facerig.io import read_mesh
    from facerig.io.rigfile import read_rig

    out = {}
    hm = read_rig(data / "external-rigs" / "makehuman_hm08.npz")
    mm = float(hm.meta["mm_per_unit"])
    bv, bf, _ = makehuman_body(data / "makehuman" / "3dobjs" / "base.obj")
    from scipy.spatial import cKDTree

    dist, match = cKDTree(bv).query(hm.neutral)  # the head's vertices on the body
    same = dist <= 1e-4 * float(np.ptp(hm.neutral[:, 1]))  # compared on the vertices found on the body
    body_gt = np.zeros((len(hm.names), len(bv), 3), np.float32)
    body_gt[:, match[same]] = hm.deltas[:, same]
    matched = np.zeros(len(bv), bool)
    matched[match[same]] = True
    found = f"{int(same.sum())} of {len(same)} head vertices"
    out["makehuman_body"] = (bv, bf, "+y", "+z", (list(hm.names), body_gt, mm, matched, found))
    blender = np.stack([bv[:, 0], -bv[:, 2], bv[:, 1]], 1)  # z up, -y forward
    blender_gt = np.stack([body_gt[..., 0], -body_gt[..., 2], body_gt[..., 1]], -1)  # the author's shapes turned too
    out["makehuman_body_blender"] = (blender, bf, "+z", "-y", (list(hm.names), blender_gt, mm, matched, found))
    out["makehuman_head"] = (
        hm.neutral,
        np.asarray(hm.faces, np.int64),
        "+y",
        "+z",
        (list(hm.names), hm.deltas, mm, same, found),
    )
    ict = read_mesh(ROOT / "examples" / "ict_head" / "head.obj")
    iv, if_ = np.asarray(ict.vertices, np.float64), np.asarray(ict.faces, np.int64)
    out["ict_head"] = (iv, if_, "+y", "+z", None)
    for kind in ("bust", "body"):
        v, f = on_body(iv, if_, kind)
        out[f"ict_{kind}"] = (v, f, "+y", "+z", None)
    return out


def _author(rig, author) -> dict:
    from facerig.eval.metrics import shape_errors

    names, gt, mm, used, found = author
    index = {n: i for i, n in enumerate(rig.names)}
    keep = [k for k, n in enumerate(names) if n in index and np.abs(gt[k]).max() > 0]
    pred = rig.deltas[[index[names[k]] for k in keep]][:, used]
    e = shape_errors(pred, gt[keep][:, used], mm)
    rel = {names[k]: round(float(e["relative"][i]), 4) for i, k in enumerate(keep)}
    return {
        "relative": round(float(np.nanmean(e["relative"])), 4),
        "shapes": len(keep),
        "compared_on": found,
        "watch": {n: rel[n] for n in ("eyeBlinkLeft", "eyeBlinkRight", "jawOpen", "mouthSmileLeft") if n in rel},
    }


def evaluate(name: str, v, f, up: str, forward: str, author) -> dict:
    from facerig.eval.check import check_rig
    from facerig.geometry.head_locate import crop_vertices, locate_head
    from facerig.io.mesh import Mesh
    from facerig.models.registry import rig_mesh

    t0 = time.perf_counter()
    rig = rig_mesh(Mesh(vertices=v, faces=f), "raf", up=up, forward=forward)
    seconds = time.perf_counter() - t0
    check = check_rig(rig, up=up, forward=forward)
    row = {
        "mesh": name,
        "vertices": int(len(v)),
        "up": up,
        "forward": forward,
        "seconds": round(seconds, 2),
        "head_on_body": rig.meta.get("head_on_body"),
        "face_frame": (rig.meta.get("raf") or {}).get("face_frame"),
        "checks": {
            c: [check["summary"][c]["status"], check["summary"][c].get("worst")]
            for c in CHECKS
            if c in check["summary"]
        },
        "check_passed": bool(check["passed"]),
    }
    region = locate_head(v, f, up, forward)
    if region is not None:
        inside = crop_vertices(v, f, region, up, forward)
        f = np.asarray(f, np.int64)
        border = np.zeros(len(v), bool)  # crop vertices sharing a face with the rest: the seam
        mixed = inside[f].any(1) & ~inside[f].all(1)
        border[f[mixed].ravel()] = True
        border &= inside
        row["max_delta_outside_crop"] = float(np.abs(rig.deltas[:, ~inside]).max())
        row["seam_vertices"] = int(border.sum())
        row["max_delta_on_seam"] = float(np.abs(rig.deltas[:, border]).max()) if border.any() else 0.0
        row["max_delta"] = float(np.abs(rig.deltas).max())
    if author is not None:
        row["author"] = _author(rig, author)
    return row


def scan(paths: list[Path]) -> dict:
    """``locate_head`` on heads (mesh paths): ``{name: region or None}`` (None: rigged as a head, as before)."""
    from facerig.geometry.head_locate import locate_head
    from facerig.io import read_mesh

    out = {}
    for p in paths:
        m = read_mesh(p)
        with np.errstate(all="ignore"):
            r = locate_head(m.vertices, m.faces)
        out[f"{p.parent.name}/{p.stem}"] = None if r is None else r.as_dict()
    return out


def main(argv: list[str] | None = None) -> int:
    from facerig import parallel
    from facerig.config import data_root

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated mesh names (default all)")
    ap.add_argument("--evalset", default=None, help="also scan this validation set's meshes for bodies (none is one)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "head_on_body.json"))
    args = ap.parse_args(argv)
    parallel.configure(fork=True, keep_freed_memory=True)  # as the CLI
    wanted = {s.strip() for s in args.only.split(",") if s.strip()}
    rows = []
    for name, (v, f, up, forward, author) in _meshes(data_root()).items():
        if wanted and name not in wanted:
            continue
        with np.errstate(all="ignore"):
            row = evaluate(name, v, f, up, forward, author)
        rows.append(row)
        found = row["head_on_body"]
        print(
            f"{name:24s} {row['vertices']:>6d} v  {row['seconds']:5.1f} s  "
            + (f"head {found['vertices']:,} v ({found['fraction']:.2f} of the height)  " if found else "no body  ")
            + " ".join(f"{c}={s[0]}" for c, s in row["checks"].items())
            + (f"  author rel {row['author']['relative']:.3f}" if "author" in row else "")
            + (f"  outside {row['max_delta_outside_crop']:.2g} seam {row['max_delta_on_seam']:.2g}" if found else ""),
            flush=True,
        )
    heads = [ROOT / "examples" / "ict_head" / "head.obj", *sorted((data_root() / "heads").glob("*.obj"))]
    if args.evalset:
        heads += sorted(Path(args.evalset).glob("*/*.obj"))
    found = scan(heads)
    bodies = [k for k, r in found.items() if r is not None]
    print(f"heads taken for a body: {len(bodies)} of {len(found)} {bodies or ''}")
    write_result(
        "head_on_body",
        "",
        {
            "heads_scanned": len(found),
            "heads_taken_for_a_body": bodies,
            "rows": rows,
        },
        argv,
        out=args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

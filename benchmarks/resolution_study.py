"""Does mesh resolution change the rig? In-family heads decimated, rigged, compared with exact ground truth.

Each validation head (ICT FaceKit / MakeHuman identities of ``--set``, default ``/work/evalset``) is
re-triangulated at ``--levels`` vertex counts with :func:`facerig.geometry.remesh.remesh` (quadric
edge collapses with ``fast_simplification``, every new vertex projected onto the source surface with
its source triangle and barycentrics), which carries the ground-truth shapes exactly
(:func:`facerig.geometry.remesh.interpolate`). On each coarse head, at its own vertices, against
that carried ground truth:

- ``full``: the head rigged at full resolution, its deltas sampled at the coarse vertices (the same
  barycentric transfer): what the network does when it sees the head at its own resolution;
- ``coarse``: the coarse head rigged as it is (``facerig rig`` on it, ``densify`` off);
- ``densify``: the coarse head rigged with ``densify`` on at any vertex count
  (:mod:`facerig.models.raf.densify`: the network and the raf steps on its midpoint subdivision,
  the rig's finishing steps on the coarse head itself);
- ``midpoint`` / ``loop``: the coarse head subdivided once (``trimesh.remesh.subdivide``, midpoint,
  original vertices kept in place; ``trimesh.remesh.subdivide_loop``, originals smoothed), rigged,
  and the rows of the coarse head's own vertices kept (every step of ``facerig rig`` on the subdivided
  head, finishing included).

Rigs are made through :func:`facerig.models.registry.rig_mesh` (what ``facerig rig`` writes), with
any ``--raf-option``. Scores per shape as ``benchmarks/out_of_family.py`` does: ``relative`` (active error /
the zero rig's), ``si`` (the same after the best non-negative scale), ``si_scale``, ``completion``
(top 5 % of GT motion), ``active_mm``; and ``spread``: the share of the prediction's squared
motion that falls on vertices the GT leaves still (below 0.5 mm): a rig whose motion spreads wider
than the GT's has a larger one. Per head and variant: means over shapes; per level and variant:
means over heads.

    python benchmarks/resolution_study.py [--set /work/evalset] [--heads unseen_000,makehuman_000]
        [--levels 1000,1500,2000] [--variants full,coarse,densify,midpoint,loop] [--raf-option k=v] [--tag T]
        [--timing MESH ... [--repeat 3]]   # also: rig time of mesh files with densify off / on

writes ``benchmarks/results/resolution_study[_T].json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from _meta import write_result

DEFAULT_HEADS = "unseen_000,unseen_001,makehuman_000,makehuman_001"
VARIANTS = ("full", "coarse", "densify", "midpoint", "loop")
WATCH = ("eyeBlinkLeft", "jawOpen", "mouthSmileLeft", "mouthFunnel", "mouthPucker", "browInnerUp")


def load_head(set_dir: Path, head_id: str) -> dict:
    """Vertices (V, 3), faces (F, 3), parts (V,), names (K,), deltas (K, V, 3), mm_per_unit of one validation head."""
    from facerig.eval.harness import load_index

    entry = next((h for h in load_index(set_dir)["heads"] if h["id"] == head_id), None)
    if entry is None:
        raise SystemExit(f"{head_id}: not in {set_dir}/index.json")
    z = np.load(set_dir / entry["gt"], allow_pickle=False)
    return {
        "id": head_id,
        "group": entry["group"],
        "vertices": np.asarray(z["neutral"], np.float64),
        "faces": np.asarray(z["faces"], np.int64),
        "parts": np.asarray(z["parts"], np.int64),
        "names": [str(n) for n in z["names"]],
        "deltas": np.asarray(z["deltas"], np.float32),
        "mm_per_unit": float(z["mm_per_unit"]),
    }


def rig(vertices: np.ndarray, faces: np.ndarray, names: list[str], options: dict) -> tuple[np.ndarray, float, dict]:
    """Deltas (K, V, 3) of ``names`` (zeros where the rig lacks a shape), seconds, the rig's raf meta."""
    from facerig.io.mesh import Mesh
    from facerig.io.validate import validate_mesh
    from facerig.models.registry import rig_mesh

    mesh = validate_mesh(Mesh(vertices=vertices, faces=faces), None, allow_degenerate=True, allow_unreferenced=True)
    t0 = time.perf_counter()
    r = rig_mesh(mesh, "raf", **{"head_check": False, **options})
    seconds = time.perf_counter() - t0
    index = {n: i for i, n in enumerate(r.names)}
    out = np.zeros((len(names),) + vertices.shape, np.float32)
    for k, n in enumerate(names):
        if n in index:
            out[k] = r.deltas[index[n]]
    return out, seconds, r.meta.get("raf", {})


def score(pred: np.ndarray, gt: np.ndarray, names: list[str], mm_per_unit: float) -> dict:
    """Per-shape and mean scores of pred (K, V, 3) against gt (K, V, 3) (see module doc)."""
    from facerig.eval.metrics import ACTIVE_MM, completion, shape_errors

    e = shape_errors(pred, gt, mm_per_unit)
    comp = completion(pred, gt)
    with np.errstate(invalid="ignore", divide="ignore"):
        si = e["si_active_mm"] / e["zero_active_mm"]
    still = np.linalg.norm(gt, axis=2) * mm_per_unit <= ACTIVE_MM  # (K, V)
    p2 = np.einsum("kvc,kvc->kv", pred.astype(np.float64), pred.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = (p2 * still).sum(1) / p2.sum(1)
    per_shape = {
        n: {
            "relative": round(float(e["relative"][i]), 4),
            "si": round(float(si[i]), 4),
            "si_scale": round(float(e["si_scale"][i]), 3),
            "completion": round(float(comp[i]), 4),
            "active_mm": round(float(e["active_mm"][i]), 4),
            "spread": round(float(spread[i]), 4),
        }
        for i, n in enumerate(names)
    }
    means = {
        "relative": float(np.nanmean(e["relative"])),
        "si": float(np.nanmean(si)),
        "si_scale": float(np.nanmean(e["si_scale"])),
        "completion": float(np.nanmean(comp)),
        "active_mm": float(np.nanmean(e["active_mm"])),
        "spread": float(np.nanmean(spread)),
        "blink_completion": float(np.nanmean([comp[names.index(n)] for n in ("eyeBlinkLeft", "eyeBlinkRight")])),
    }
    return {**{k: round(v, 4) for k, v in means.items()}, "per_shape": per_shape}


def loop_subdivide(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Loop subdivision, connected component by component (``trimesh.remesh.subdivide_loop``):
    (vertices (V', 3), faces (F', 3), rows (V,)): ``rows[i]`` is the output vertex that input vertex
    ``i`` became (trimesh keeps a manifold body's smoothed originals first, in order; a body trimesh
    splits further, at edges shared by three faces, is matched by nearest vertex; one it cannot split
    is midpoint-subdivided instead)."""
    import trimesh
    from scipy.spatial import cKDTree

    from facerig.geometry.components import connected_components

    labels = connected_components(len(vertices), faces)
    out_v, out_f, rows, count = [], [], np.full(len(vertices), -1, np.int64), 0
    for p in np.unique(labels[faces[:, 0]]):
        f = faces[labels[faces[:, 0]] == p]
        used, inv = np.unique(f, return_inverse=True)
        try:
            sv, sf = trimesh.remesh.subdivide_loop(vertices[used], inv.reshape(-1, 3))
        except ValueError:  # an edge of three faces in one body: that component midpoint-subdivided
            sv, sf = trimesh.remesh.subdivide(vertices[used], inv.reshape(-1, 3))
        edges = np.unique(np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1), axis=0)
        if len(sv) == len(used) + len(edges):  # one body: its even vertices first, in order
            rows[used] = count + np.arange(len(used))
        else:
            rows[used] = count + cKDTree(sv).query(vertices[used])[1]
        out_v.append(sv)
        out_f.append(sf + count)
        count += len(sv)
    return np.concatenate(out_v), np.concatenate(out_f).astype(np.int64), rows


def study_head(head: dict, levels: list[int], variants: list[str], options: dict, seed: int) -> dict:
    """Every level x variant of one head (see module doc)."""
    import trimesh

    from facerig.geometry.remesh import interpolate, remesh

    keep = [k for k in range(len(head["names"])) if np.abs(head["deltas"][k]).max() > 0]
    names = [head["names"][k] for k in keep]
    gt_full = head["deltas"][keep]
    V = len(head["vertices"])
    pred_full = None
    if "full" in variants:
        pred_full, secs, _ = rig(head["vertices"], head["faces"], names, options)
        print(f"  full {V} v: rigged in {secs:.1f} s", flush=True)
    rows = []
    for level in levels:
        if level >= 0.9 * V:
            continue
        rm = remesh(head["vertices"], head["faces"], int(level), parts=head["parts"], seed=seed)
        src_face, bary = np.asarray(rm.src_face, np.int64), np.asarray(rm.bary, np.float64)
        cv, cf = np.asarray(rm.vertices, np.float64), np.asarray(rm.faces, np.int64)
        gt = np.asarray(interpolate(gt_full, head["faces"], src_face, bary), np.float32)
        row = {"level": level, "vertices": int(len(cv)), "variants": {}}
        for var in variants:
            secs, meta = None, {}
            if var == "full":
                pred = np.asarray(interpolate(pred_full, head["faces"], src_face, bary), np.float32)
            elif var == "coarse":
                pred, secs, meta = rig(cv, cf, names, {**options, "densify": False})
            elif var == "densify":  # the library's option, at any vertex count
                pred, secs, meta = rig(cv, cf, names, {**options, "densify": True, "densify_below": 10**9})
            else:
                if var == "midpoint":
                    sv, sf = trimesh.remesh.subdivide(cv, cf)
                    rows_back = np.arange(len(cv))
                else:
                    sv, sf, rows_back = loop_subdivide(cv, cf)
                dense, secs, meta = rig(np.asarray(sv, np.float64), np.asarray(sf, np.int64), names, options)
                pred = dense[:, rows_back]
            s = score(pred, gt, names, head["mm_per_unit"])
            if secs is not None:
                s["seconds"] = round(secs, 2)
            if meta.get("densified"):
                s["densified"] = meta["densified"]
            row["variants"][var] = s
            print(
                f"  {level:>5d} ({len(cv)} v) {var:9s} rel {s['relative']:.3f} si {s['si']:.3f} "
                f"scale {s['si_scale']:.2f} compl {s['completion']:.2f} blink {s['blink_completion']:.2f} "
                f"spread {s['spread']:.3f}",
                flush=True,
            )
        rows.append(row)
    return {"head": head["id"], "group": head["group"], "vertices": V, "levels": rows}


def time_rigs(paths: list[str], repeat: int, options: dict) -> list[dict]:
    """Seconds of ``rig_mesh`` (what ``facerig rig`` runs, the mesh read once) on each mesh file with
    ``densify`` off and on, alternating ``repeat`` times: per head the median of each."""
    from facerig.io import read_mesh
    from facerig.models.registry import rig_mesh

    rows = []
    for path in paths:
        mesh = read_mesh(path)
        secs: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(repeat):
            for key in ("off", "on"):
                t0 = time.perf_counter()
                rig_mesh(mesh, "raf", **{**options, "densify": key == "on"})
                secs[key].append(time.perf_counter() - t0)
        row = {
            "mesh": str(path),
            "vertices": mesh.num_vertices,
            **{k: round(float(np.median(v)), 3) for k, v in secs.items()},
        }
        print(
            f"{Path(path).name}: {row['vertices']} v, rig {row['off']:.2f} s, with densify {row['on']:.2f} s",
            flush=True,
        )
        rows.append(row)
    return rows


def summarise(heads: list[dict], variants: list[str]) -> dict:
    """Per level (``"1500"`` ...) and variant: means over the heads that have that level; per
    watched shape, the mean relative / si_scale."""
    out: dict = {}
    for level in sorted({r["level"] for h in heads for r in h["levels"]}):
        rows = [r for h in heads for r in h["levels"] if r["level"] == level]
        out[str(level)] = {}
        for var in variants:
            got = [r["variants"][var] for r in rows if var in r["variants"]]
            if not got:
                continue
            m = {
                k: round(float(np.mean([g[k] for g in got])), 4)
                for k in ("relative", "si", "si_scale", "completion", "blink_completion", "spread")
            }
            m["heads"] = len(got)
            m["watch"] = {
                n: {
                    "relative": round(float(np.mean([g["per_shape"][n]["relative"] for g in got])), 3),
                    "si_scale": round(float(np.mean([g["per_shape"][n]["si_scale"] for g in got])), 3),
                }
                for n in WATCH
                if all(n in g["per_shape"] for g in got)
            }
            out[str(level)][var] = m
    return out


def main(argv: list[str] | None = None) -> int:
    from facerig import parallel

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="/work/evalset", help="validation set folder (facerig data make-eval)")
    ap.add_argument("--heads", default=DEFAULT_HEADS, help="comma-separated head ids")
    ap.add_argument("--levels", default="1000,1500,2000", help="comma-separated target vertex counts")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {','.join(VARIANTS)}")
    ap.add_argument("--seed", type=int, default=0, help="remesh seed")
    ap.add_argument(
        "--raf-option", action="append", default=[], metavar="KEY=VALUE", help="rig_raf option (JSON value)"
    )
    ap.add_argument("--timing", nargs="*", default=[], metavar="MESH", help="also time rigs of these mesh files")
    ap.add_argument("--repeat", type=int, default=3, help="timing: rigs per setting")
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
    variants = [v for v in args.variants.split(",") if v]
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        raise SystemExit(f"unknown variants {bad}; choose from {VARIANTS}")
    levels = [int(x) for x in args.levels.split(",") if x]
    timing = time_rigs(args.timing, args.repeat, options) if args.timing else None
    heads = []
    for head_id in [h for h in args.heads.split(",") if h]:
        head = load_head(Path(args.set), head_id)
        print(f"{head_id} ({len(head['vertices'])} v)", flush=True)
        heads.append(study_head(head, levels, variants, options, args.seed))
    summary = summarise(heads, variants)
    for level, per in summary.items():
        for var, m in per.items():
            print(
                f"{level:>5s} {var:9s} rel {m['relative']:.3f} si {m['si']:.3f} scale {m['si_scale']:.2f} "
                f"compl {m['completion']:.2f} blink {m['blink_completion']:.2f} spread {m['spread']:.3f} ({m['heads']} heads)"
            )
    write_result(
        "resolution_study",
        args.tag,
        {
            "set": args.set,
            "levels": levels,
            "variants": variants,
            "options": options,
            "seed": args.seed,
            "summary": summary,
            **({"timing": timing} if timing else {}),
            "heads": heads,
        },
        argv,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

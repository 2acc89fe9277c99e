"""How much the rig moves when its input head moves by 0.01 mm (issue 24): per head, per noise
level, per stage of the ``raf`` pipeline.

Heads (all mesh units converted with their own mm per unit): the bundled example ICT head (cm,
26k vertices: the only one decimated to a proxy), a Rocketbox head (cm, 1.6k), johnsmith's
neutral (``external-rigs/johnsmith_head.npz``) and a Weboji head (``heads/weboji_*``). Each is
moved by uniform noise of +-``noise`` mm per coordinate (``--noise``, default 0.01 and 0.001;
``--seeds`` K draws) and rigged again; the change is ``|deltas(noisy) - deltas(head)|`` per shape
and vertex, in mm.

Stages, each the rig of the same head and noise with the later steps switched off:

- ``proxy``: the proxy (same topology? largest vertex move, input vertices whose proxy vertex
  changed) and the network's local inputs (largest change of any column);
- ``network``: :func:`predict_proxy` on the proxy (only when the noisy proxy has the head's
  topology), in mm;
- ``transfer``: ``rig_raf`` with ``face_frame``, ``mouth_amplitude``, ``close_eyes`` and
  ``open_mouth`` off (network + proxy -> input transfer);
- ``face_frame``: plus the face-measured frame (the probe);
- ``full``: everything ``facerig rig`` does (mouth amplitude, eyelid completion, jaw).

Each records the max and mean change, the shapes and parts (connected components of the input)
where the largest changes sit.

    nice python benchmarks/rig_stability.py [--tag T] [--only ict_example,...] [--seeds 2]
        [--stages proxy,network,transfer,face_frame,full]

writes ``benchmarks/results/rig_stability[_T].json``. Run it with ``PYTHONPATH`` on another
checkout's ``src`` to measure that one (the stages use only functions main has).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from _meta import write_result

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("proxy", "network", "transfer", "face_frame", "full")
OFF = {"face_frame": False, "mouth_amplitude": False, "close_eyes": False, "open_mouth": False}
RIG_OPTIONS = {"transfer": OFF, "face_frame": {**OFF, "face_frame": True}, "full": {}}


def _heads() -> dict:
    """name -> (Mesh, mm per unit)."""
    from facerig.config import data_root
    from facerig.io import read_mesh
    from facerig.io.mesh import Mesh

    root = data_root()
    heads = {"ict_example": (read_mesh(ROOT / "examples" / "ict_head" / "head.obj"), 10.0)}
    heads["rocketbox_female_adult_01"] = (read_mesh(root / "heads" / "rocketbox_female_adult_01.obj"), 10.0)
    z = np.load(root / "external-rigs" / "johnsmith_head.npz")
    heads["johnsmith"] = (
        Mesh(np.asarray(z["neutral"], np.float64), np.asarray(z["faces"], np.int64)),
        float(z["mm_per_unit"]),
    )
    w = root / "heads" / "weboji_facecustom_human"
    heads["weboji_facecustom_human"] = (
        read_mesh(w.with_suffix(".obj")),
        float(np.load(w.with_suffix(".blendshapes.npz"))["mm_per_unit"]),
    )
    return heads


def _summary(diff: np.ndarray, names: list[str], parts: np.ndarray) -> dict:
    """diff (Q, V) mm -> max / mean, per-shape max (the 5 worst), per-part max, worst entries."""
    per_shape = diff.max(1)
    worst = np.argsort(-per_shape)[:5]
    per_vertex = diff.max(0)
    sizes = np.bincount(parts)
    part_max = {int(p): round(float(per_vertex[parts == p].max()), 4) for p in np.unique(parts)}
    flat = np.argsort(-diff.ravel())[:8]
    q, v = np.unravel_index(flat, diff.shape)
    return {
        "max": round(float(diff.max()), 4),
        "mean": round(float(diff.mean()), 6),
        "p999_vertex": round(float(np.percentile(per_vertex, 99.9)), 4),
        "vertices_over_0.5mm": int((per_vertex > 0.5).sum()),
        "worst_shapes": {names[i]: round(float(per_shape[i]), 4) for i in worst},
        "part_max": {f"{p} ({sizes[p]} v)": x for p, x in part_max.items() if x > 0.05},
        "worst": [[names[a], int(b), int(parts[b]), round(float(diff[a, b]), 4)] for a, b in zip(q, v)],
    }


def _proxy_stage(mesh, noisy, mm: float, model) -> tuple[dict, tuple]:
    from facerig.geometry.features import network_inputs
    from facerig.geometry.proxy import prepare_head
    from facerig.models.raf.config import RIG_PROXY_VERTICES

    preps = [
        prepare_head(m.vertices, m.faces, proxy_vertices=RIG_PROXY_VERTICES, operators=False) for m in (mesh, noisy)
    ]
    a, b = preps
    same = a.proxy.faces.shape == b.proxy.faces.shape and np.array_equal(a.proxy.faces, b.proxy.faces)
    row = {"proxy_vertices": a.proxy.num_vertices, "identity": bool(a.proxy.identity), "same_topology": bool(same)}
    row["origin_changed"] = int((a.proxy.origin != b.proxy.origin).sum())
    if same:
        row["proxy_move_mm"] = round(float(np.linalg.norm(a.proxy.vertices - b.proxy.vertices, axis=1).max() * mm), 5)
        ia = network_inputs(a.xyz, a.proxy.faces, local=bool(model.n_local), cross=model.cross_part)
        ib = network_inputs(b.xyz, b.proxy.faces, local=bool(model.n_local), cross=model.cross_part)
        if ia[0] is not None:
            row["local_inputs_max_change"] = round(float(np.abs(ia[0] - ib[0]).max()), 4)
            row["local_inputs_change_by_column"] = np.round(np.abs(ia[0] - ib[0]).max(0), 4).tolist()
    return row, preps


def _network_stage(preps, model, mm: float) -> dict | None:
    from facerig.geometry import operators
    from facerig.geometry.operators import compute_operators
    from facerig.models.raf.method import predict_proxy

    extra = 1 + getattr(operators, "SPECTRAL_GAP", 0)  # rig_raf's eigenpairs past k (a checkout without: cut at k)
    a, b = preps
    if not (a.proxy.faces.shape == b.proxy.faces.shape and np.array_equal(a.proxy.faces, b.proxy.faces)):
        return None
    q = np.eye(model.num_shapes, dtype=np.float32)[:51]
    out = []
    for p in preps:
        p = p.with_operators(compute_operators(p.xyz, p.proxy.faces, k=model.k_eig + extra))  # as rig_raf
        out.append(predict_proxy(model, p, q, threads=1) * np.float32(p.scale))
    diff = np.linalg.norm(out[0] - out[1], axis=2) * mm
    return {"max": round(float(diff.max()), 4), "mean": round(float(diff.mean()), 6)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tag", default="")
    ap.add_argument("--only", default=None, help="comma-separated head names")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--noise", default="0.01,0.001", help="comma-separated noise amplitudes in mm")
    ap.add_argument("--stages", default=",".join(STAGES))
    args = ap.parse_args(argv)
    from facerig.geometry.components import connected_components
    from facerig.models.raf.method import rig_raf
    from facerig.models.raf.weights import load_model

    stages = [s for s in args.stages.split(",") if s]
    model, _ = load_model(None)
    heads = _heads()
    if args.only:
        heads = {k: v for k, v in heads.items() if k in args.only.split(",")}
    rows = []
    for name, (mesh, mm) in heads.items():
        parts = connected_components(mesh.num_vertices, mesh.faces)
        row = {"head": name, "vertices": mesh.num_vertices, "mm_per_unit": mm, "noise": {}}
        base, seconds = {}, {}
        for st in stages:
            if st in RIG_OPTIONS:
                t = time.perf_counter()
                base[st] = rig_raf(mesh, **RIG_OPTIONS[st])
                seconds[st] = round(time.perf_counter() - t, 2)
        row["rig_seconds"] = seconds
        for amp in [float(x) for x in args.noise.split(",")]:
            runs = []
            for seed in range(args.seeds):
                rng = np.random.default_rng(seed)
                eps = amp / mm
                noisy = dataclasses.replace(mesh, vertices=mesh.vertices + rng.uniform(-eps, eps, mesh.vertices.shape))
                run = {"seed": seed}
                preps = None
                if "proxy" in stages or "network" in stages:
                    run["proxy"], preps = _proxy_stage(mesh, noisy, mm, model)
                if "network" in stages:
                    run["network"] = _network_stage(preps, model, mm)
                for st in stages:
                    if st in RIG_OPTIONS:
                        other = rig_raf(noisy, **RIG_OPTIONS[st])
                        diff = np.linalg.norm(base[st].deltas - other.deltas, axis=2) * mm
                        run[st] = _summary(diff, base[st].names, parts)
                        if st == "full":
                            ma, mb = base[st].meta["raf"], other.meta["raf"]
                            run[st]["jaw"] = [ma.get("jaw", {}).get("status"), mb.get("jaw", {}).get("status")]
                            run[st]["face_factor"] = [
                                ma.get("face_frame", {}).get("factor"),
                                mb.get("face_frame", {}).get("factor"),
                            ]
                print(
                    name,
                    amp,
                    seed,
                    {k: (v.get("max") if isinstance(v, dict) else v) for k, v in run.items()},
                    flush=True,
                )
                runs.append(run)
            summary = {st: max(r[st]["max"] for r in runs) for st in stages if st in RIG_OPTIONS}
            if "network" in stages and all(r.get("network") for r in runs):
                summary["network"] = max(r["network"]["max"] for r in runs)
            row["noise"][f"{amp:g}mm"] = {"max_by_stage": summary, "runs": runs}
        rows.append(row)
    write_result("rig_stability", args.tag, {"seeds": args.seeds, "heads": rows}, argv)


if __name__ == "__main__":
    main()

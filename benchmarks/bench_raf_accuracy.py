"""Quick accuracy check of RigAnyFace weights (full meshes, the eval harness's metrics).

Heads:

- ``external``: the two external rigs in ``$FACERIG_DATA/external-rigs`` (evaluation only,
  never trained on). ``makehuman_hm08`` is *in-family* when the weights were trained with the
  MakeHuman family; ``johnsmith_head`` is always out-of-family.
- ``unseen``: held-out ICT identities (generator ``split="eval"``, no other augmentation).
- ``generator``: held-out generator samples with the default augmentations (stylised,
  remeshed, parts removed, reframed, units), ``split="eval"``.

For each head: per-shape active error (mm, vertices whose GT moves > 0.5 mm), relative error
(/ zero rig), scale-invariant active error, averaged over shapes; the interpenetration ratio
(``facerig.eval.metrics.interpenetration``) when ``--interp``. Worst shapes are listed.

For the full validation set use the harness: ``facerig eval --method raf --set evalset``.

Run: ``.venv/bin/python benchmarks/bench_raf_accuracy.py --weights runs/raf/best.pt [--n 4]``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]
FOCUS = (
    "jawOpen",
    "mouthClose",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthSmileLeft",
    "browInnerUp",
)


def _score(pred_names, pred, gt_names, gt, mm, faces=None, neutral=None, interp=False):
    from facerig.eval.metrics import head_summary, interpenetration, shape_errors

    idx = {n: i for i, n in enumerate(pred_names)}
    keep = [(idx[n], j, n) for j, n in enumerate(gt_names) if n in idx]
    p = pred[[a for a, _, _ in keep]]
    g = gt[[b for _, b, _ in keep]]
    per = shape_errors(p, g, mm)
    out = head_summary(per)
    out["shapes"] = {
        n: {
            "active_mm": float(per["active_mm"][i]),
            "relative": float(per["relative"][i]),
            "si_active_mm": float(per["si_active_mm"][i]),
        }
        for i, (_, _, n) in enumerate(keep)
    }
    if interp and faces is not None:
        r = interpenetration(neutral, faces, p, mm_per_unit=mm)
        rg = interpenetration(neutral, faces, g, mm_per_unit=mm)
        out["interp"] = float(np.mean(r))
        out["interp_gt"] = float(np.mean(rg))
    return out


def _rig(vertices, faces, weights):
    from facerig.io.mesh import Mesh
    from facerig.models.raf.method import rig_raf

    t = time.perf_counter()
    o = rig_raf(
        Mesh(vertices=np.asarray(vertices, np.float64), faces=np.asarray(faces, np.int64)),
        weights=weights,
        head_check=False,
    )
    return o.names, o.deltas, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None, help="weights or checkpoint (default: shipped)")
    ap.add_argument("--n", type=int, default=3, help="generator heads per group")
    ap.add_argument("--interp", action="store_true")
    ap.add_argument("--groups", default="external,unseen,generator")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    groups = args.groups.split(",")
    res: dict[str, list] = {g: [] for g in groups}
    if "external" in groups:
        from facerig.config import data_root

        for name in ("johnsmith_head", "makehuman_hm08"):
            z = np.load(data_root() / "external-rigs" / f"{name}.npz")
            names, d, sec = _rig(z["neutral"], z["faces"], args.weights)
            s = _score(
                names,
                d,
                [str(n) for n in z["arkit_names"]],
                z["deltas"],
                float(z["mm_per_unit"]),
                z["faces"],
                z["neutral"],
                args.interp,
            )
            s.update(id=name, seconds=sec)
            res["external"].append(s)
    if "unseen" in groups or "generator" in groups:
        from facerig.data.families import get_family
        from facerig.data.generator import SampleConfig, generate_sample

        fam = get_family("ict")
        for g in ("unseen", "generator"):
            if g not in groups:
                continue
            cfg = SampleConfig(split="eval")
            if g == "unseen":
                cfg = SampleConfig(
                    split="eval", p_exaggerate=0, p_remove_parts=0, p_reframe=0, p_warp=0, p_remesh=0, p_units=0
                )
            for seed in range(1000, 1000 + args.n):
                smp = generate_sample(fam, seed, cfg)
                names, d, sec = _rig(smp.vertices, smp.faces, args.weights)
                s = _score(names, d, smp.names, smp.deltas, smp.mm_per_unit, smp.faces, smp.vertices, args.interp)
                s.update(id=f"{g}_{seed}", seconds=sec, steps=smp.info.get("steps"))
                res[g].append(s)
    summary = {}
    for g, heads in res.items():
        if not heads:
            continue
        summary[g] = {
            k: float(np.nanmean([h[k] for h in heads]))
            for k in ("active_mm", "relative", "si_active_mm", "zero_active_mm")
            + (("interp", "interp_gt") if args.interp else ())
        }
        shape_names = sorted({n for h in heads for n in h["shapes"]})
        per = {
            n: float(np.nanmean([h["shapes"][n]["active_mm"] for h in heads if n in h["shapes"]])) for n in shape_names
        }
        summary[g]["worst"] = dict(sorted(per.items(), key=lambda kv: -kv[1] if np.isfinite(kv[1]) else 0)[:6])
        summary[g]["focus"] = {n: per[n] for n in FOCUS if n in per}
        for h in heads:
            print(
                f"{g:10s} {h['id']:18s} active {h['active_mm']:.3f} mm  rel {h['relative']:.3f}  "
                f"si {h['si_active_mm']:.3f}  zero {h['zero_active_mm']:.3f}  ({h['seconds']:.1f}s)",
                flush=True,
            )
        print(
            f"== {g}: "
            + json.dumps(
                {
                    k: (round(v, 3) if isinstance(v, float) else {a: round(b, 3) for a, b in v.items()})
                    for k, v in summary[g].items()
                }
            ),
            flush=True,
        )
    if args.json:
        doc = {**run_meta(), "weights": args.weights, "summary": summary, "heads": res}
        Path(args.json).write_text(json.dumps(doc, indent=1, default=float))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())

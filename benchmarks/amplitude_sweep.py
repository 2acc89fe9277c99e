"""Past the training range: does the rig's mouth motion grow with a mouth made bigger? (issue 24)

``amplitude_study.py`` finds the rig's mouth amplitude in step with the ground truth's over the
validation heads (mouth widths 0.21-0.39 frame units); the cartoon heads' mouths reach 0.54. This
makes in-family heads with mouths past that range, with exact ground truth: each ICT head of the
validation set's ``unseen`` group is warped by a space warp ``W`` that scales the lower face about
the mouth centre ``m`` (the mouth corners' midpoint, landmarks 48 and 54):

    W(p) = m + (1 + (s - 1) w(p)) (p - m),  w(p) = exp(-|p - m|^2 / rho^2),  rho = mouth width

(one-to-one for s < 3.2: the radial derivative stays positive), and its shapes carried through
the warp exactly: ``gt' = W(v + d) - W(v)`` (the warped head's expression is the warped
expression). Each warped head is rigged (``raf``) and scored as in ``amplitude_study.py`` (per
region: author-over-rig amplitude ``peak``, ``si_scale``, ``completion``; features in frame units).
A ratio that stays near 1 as ``s`` grows says the network's motion follows the feature; one that
grows with the mouth width says it stays training-sized.

    python benchmarks/amplitude_sweep.py [--set /work/evalset] [--scales 1,1.4,1.8,2.2] [--heads 4] [--tag T]

writes ``benchmarks/results/amplitude_sweep[_T].json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from _meta import write_result
from amplitude_study import evalset_heads, study_head

ROOT = Path(__file__).resolve().parents[1]


def mouth_warp(points: np.ndarray, center: np.ndarray, rho: float, s: float) -> np.ndarray:
    """W(points) (see module doc): points (..., 3) -> (..., 3) float64."""
    p = np.asarray(points, np.float64)
    r = p - center
    w = np.exp(-np.einsum("...c,...c->...", r, r) / rho**2)
    return center + (1.0 + (s - 1.0) * w)[..., None] * r


def main(argv: list[str] | None = None) -> int:
    from facerig import parallel
    from facerig.io.mesh import Mesh

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="/work/evalset")
    ap.add_argument("--group", default="unseen")
    ap.add_argument("--scales", default="1,1.4,1.8,2.2")
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--raf-option", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--tag", default="")
    args = ap.parse_args(argv)
    parallel.configure(fork=True, keep_freed_memory=True)
    options = {}
    for item in args.raf_option:
        k, _, v = item.partition("=")
        try:
            options[k] = json.loads(v)
        except json.JSONDecodeError:
            options[k] = v
    scales = [float(x) for x in args.scales.split(",")]
    set_dir = Path(args.set)
    index = json.loads((set_dir / "index.json").read_text())
    lm_of = {h["id"]: set_dir / h["landmarks"] for h in index["heads"] if h.get("landmarks")}
    rows = []
    for n, (name, group, mesh, names, gt, _corners, mm) in enumerate(evalset_heads(set_dir, [args.group])):
        if n >= args.heads:
            break
        pairs = json.loads(lm_of[name].read_text())["pairs"]
        v = np.asarray(mesh.vertices, np.float64)
        c48, c54 = v[pairs[48][1]], v[pairs[54][1]]
        center, rho = 0.5 * (c48 + c54), float(np.linalg.norm(c48 - c54))
        gt = np.asarray(gt, np.float64)
        for s in scales:
            vw = mouth_warp(v, center, rho, s)
            gw = (mouth_warp(v[None] + gt, center, rho, s) - vw[None]).astype(np.float32)
            wm = Mesh(vertices=vw, faces=mesh.faces)
            cw = float(np.linalg.norm(vw[pairs[48][1]] - vw[pairs[54][1]]))
            row = study_head(f"{name}@{s:g}", group, wm, names, gw, options, cw, mm)
            row["warp_scale"] = s
            rows.append(row)
            f, g = row["features"], row["regions"]
            print(
                f"{row['head']:16s} mouth(lm) {f.get('lm_mouth_frame')} net smile {f.get('net_smile_frame')} "
                f"gt smile {f.get('gt_smile_frame')} | "
                + " ".join(f"{k} {x['peak']:.2f}/{x['si_scale']:.2f}/{x['completion']:.2f}" for k, x in g.items()),
                flush=True,
            )
    by_scale = {}
    for s in scales:
        members = [r for r in rows if r["warp_scale"] == s]
        by_scale[f"{s:g}"] = {
            "lm_mouth_frame": round(float(np.mean([r["features"]["lm_mouth_frame"] for r in members])), 4),
            **{
                reg: {
                    k: round(float(np.mean([r["regions"][reg][k] for r in members if reg in r["regions"]])), 3)
                    for k in ("relative", "peak", "si_scale", "completion")
                }
                for reg in ("mouth_corners", "mouth_lips", "jaw", "eyes", "brows")
            },
        }
        print(f"s {s:g}: {json.dumps(by_scale[f'{s:g}'])}")
    write_result(
        "amplitude_sweep",
        args.tag,
        {
            "options": options,
            "by_scale": by_scale,
            "heads": rows,
        },
        argv,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

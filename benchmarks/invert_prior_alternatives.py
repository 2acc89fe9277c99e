"""Other ways to use the co-activation prior, measured beside the shipped one (benchmark, not a test).

On the frames and rigs of ``facerig eval --task invert`` (take's held-out fifth, facerig's rig of every
head's neutral; the eval is run once and each case's rig and truth are kept), every case is solved:

- ``none``: no prior; ``unbounded``: strength 0.003 without the tolerance bound (the default before);
  ``bounded``: the shipped default (strength 0.003, ``prior_tolerance`` 0.1);
- ``floor0.01``: unbounded with a 10x larger variance floor;
- ``nullonly<theta>``: the prior acting only in the rig's near-null directions (eigenvectors of the
  normalised Gram with eigenvalue < theta), strength 0.01;
- ``polish<theta>``: the unbounded MAP (strength 0.01), then a prior-free polish of the weights in the
  well-determined subspace (eigenvalue >= theta; the near-null part held by a stiff penalty).

Writes ``benchmarks/results/invert_prior_alternatives.json`` (per group: weight MAE, moving-vertex mean /
p90 mm through facerig's rig; per case also each frame's squared-residual rise over the prior-free fit,
median and max). Run: ``FACERIG_DATA=/path/to/shared/data .venv/bin/python
benchmarks/invert_prior_alternatives.py [--quick]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]


def _cases(quick: bool) -> list[dict]:
    """Run the eval once, keeping each neutral-based case's inputs and facerig's rig."""
    import facerig.eval.invert as ev

    kept, original = [], ev.evaluate_case

    def keep(name, family, neutral, faces, names, deltas, mm, W52, **kw):
        rec, rig = original(name, family, neutral, faces, names, deltas, mm, W52, **kw)
        kept.append(
            dict(name=name, family=family, neutral=neutral, names=names, deltas=deltas, mm=mm, W52=W52, rig=rig)
        )
        return rec, rig

    ev.evaluate_case = keep
    try:
        ev.evaluate_invert(quick=quick, no_neutral=False, prior_strengths=())
    finally:
        ev.evaluate_case = original
    return kept


def _variants(prior):
    from facerig.invert import solver as S

    def base(d, strength, floor=None, P_of=None):
        prep, C, E = d["prep"], d["C"], d["E"]
        H = S._hessian(prep, 0.0, 1e-10)
        Cn = C / prep.scale
        Cn[:, ~prep.live] = 0.0
        W0 = S._newton(H, Cn, 1e-8, 100)
        P, q = S._prior_terms(prep, prior, floor)
        if P_of is not None:
            P, q = P_of(H, P, q)
        lam = S.prior_weights(prep, C, E, W0, strength)
        return S._newton(H, Cn + lam[:, None] * q[None], 1e-8, 100, P=P, lam=lam, W0=W0), H, Cn

    def null_only(theta):
        def P_of(H, P, q):
            mu, U = np.linalg.eigh(H)
            R = U[:, mu < theta] @ U[:, mu < theta].T
            mean = np.linalg.lstsq(P, q, rcond=None)[0]
            Pn = R @ P @ R
            return Pn, Pn @ mean

        return lambda d: base(d, 0.01, P_of=P_of)[0]

    def polish(theta, stiff=1e4):
        def run(d):
            Wm, H, Cn = base(d, 0.01)
            mu, U = np.linalg.eigh(H)
            Pn = U[:, mu < theta] @ U[:, mu < theta].T
            lam = np.full(len(Cn), stiff)
            return S._newton(H, Cn + stiff * (Wm @ Pn), 1e-8, 100, P=Pn, lam=lam, W0=Wm)

        return run

    def solve(**kw):
        return lambda d: S.solve(d["prep"], projected=d["C"], energy=d["E"], **kw)

    return {
        "none": solve(),
        "unbounded": solve(prior=prior, prior_tolerance=float("inf")),
        "bounded": solve(prior=prior),
        "floor0.01": lambda d: base(d, 0.003, floor=0.01)[0],
        "nullonly0.01": null_only(0.01),
        "nullonly0.1": null_only(0.1),
        "polish0.01": polish(0.01),
        "polish0.1": polish(0.1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "invert_prior_alternatives.json"))
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from facerig.eval.invert import _errors, _truth_weights, take_path
    from facerig.invert import solver as S
    from facerig.invert.prior import fit_prior, split_take
    from facerig.io.takes import read_take

    prior = fit_prior(split_take(read_take(take_path()).weights)[0])
    data = []
    for c in _cases(args.quick):
        prep = S.prepare(c["rig"], c["neutral"])
        Wt, cols = _truth_weights(c["W52"], c["names"])
        D = np.asarray(c["deltas"], np.float64).reshape(len(c["names"]), -1)
        frames = (c["neutral"].reshape(1, -1) + Wt @ D).reshape(len(Wt), -1, 3)
        C, E = S.projections(prep, frames), S.motion_energy(prep, frames)
        data.append(dict(c=c, prep=prep, Wt=Wt, cols=cols, frames=frames, C=C, E=E))
    groups = {
        "in_family": lambda c: c["family"] != "out_of_family",
        "out_of_family": lambda c: c["family"] == "out_of_family",
    }
    out = {**run_meta(), "cases": [d["c"]["name"] for d in data], "variants": {}}
    for name, fn in _variants(prior).items():
        per = []
        for d in data:
            W = fn(d)
            W_hat = S.rig_weights_to_arkit(d["prep"].names, W)
            rebuilt = (d["prep"].neutral[None] + W @ d["prep"].basis).reshape(d["frames"].shape)
            e = _errors(rebuilt, d["frames"], d["c"]["neutral"], d["c"]["mm"])
            # what the variant costs the fit: each frame's squared residual over the prior-free best fit's
            r2 = S.squared_residuals(d["prep"], d["C"], d["E"], W)
            if name == "none":
                d["r0"] = r2
            rise = r2 / np.maximum(d["r0"], 1e-300) - 1.0
            per.append(
                dict(
                    case=d["c"]["name"],
                    family=d["c"]["family"],
                    weight_mae=float(np.abs(W_hat[:, d["cols"]] - d["Wt"]).mean()),
                    moving_mean_mm=e["moving_mean_mm"],
                    moving_p90_mm=e["moving_p90_mm"],
                    residual_rise_median=float(np.median(rise)),
                    residual_rise_max=float(rise.max()),
                )
            )
        summary = {}
        for g, member in groups.items():
            rs = [r for r, d in zip(per, data) if member(d["c"])]
            summary[g] = {
                k: float(np.mean([r[k] for r in rs])) for k in ("weight_mae", "moving_mean_mm", "moving_p90_mm")
            }
        ict = [r for r in per if r["case"].startswith("ict")]
        summary["ict_weight_mae"] = float(np.mean([r["weight_mae"] for r in ict]))
        out["variants"][name] = {"summary": summary, "cases": per}
        o, i = summary["out_of_family"], summary["in_family"]
        print(
            f"{name:14s} in family {i['weight_mae']:.4f}, {i['moving_mean_mm']:.3f} mm; other authors "
            f"{o['weight_mae']:.4f}, {o['moving_mean_mm']:.3f} / {o['moving_p90_mm']:.3f} mm",
            flush=True,
        )
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Does the rig's motion amplitude follow the size of the facial feature it moves? (issue 24)

Hypothesis: the network's motion is sized by the head frame (head width at the nose, widened or
narrowed by the face probe's eye distance / eyes-to-mouth, :func:`facerig.models.raf.probe.face_frame_factor`),
so on a head whose mouth (or eyes) is large for that frame the motion stays training-sized and
the author's shape goes further. If so, the amplitude ratio author / rig of a region's shapes
should grow with the feature's size in frame units.

For every head, measured from its neutral alone (no ground truth, the same measures a rig-time
rule could use), in the rig's canonical frame:

- ``mouth_frame``: mouth width (the lip line :func:`facerig.geometry.mouth.find_mouth` traces to
  the corners, plus one column step) over the rig's frame unit (meta ``raf.head_scale``: the head
  frame after the face-probe factor); ``mouth_S``: the same over the eye distance of the layout
  (:func:`facerig.geometry.face_parts.find_layout`, eyeball or eye-hole centres);
- ``eye_frame`` / ``eye_S``: mean eye radius (layout) over the frame unit / eye distance;
- ``iod_frame``, ``eye_mouth_frame``: the probe's eye distance and eyes-to-mouth in frame units.

And per shape, rig against ground truth (author's shapes, or the validation set's GT):
``si_scale`` (best non-negative scale of the rig's shape, ``facerig.eval.metrics.shape_errors``),
``completion`` (``facerig.eval.metrics.completion``) and ``peak`` = mean |g| over the GT's top 1 %
of vertices / mean |p| over the rig's own top 1 % (an amplitude ratio that does not depend on
where the motion sits). Region summaries: the median over the region's shapes (:data:`REGIONS`).

Fits (``summary``): per region, least squares of log(amplitude ratio) on log(feature size), on
the validation heads only (``--set``: ICT / MakeHuman / stylised heads, in family; a rule may be
fitted there), and the same regression on the out-of-family author heads reported apart (measure
only). Slope 1 and a high correlation would support the hypothesis.

    python benchmarks/amplitude_study.py [--set /work/evalset --groups unseen,makehuman,stylised]
        [--set2 DIR --groups2 stylised] [--no-authors] [--raf-option key=value] [--tag T]

writes ``benchmarks/results/amplitude_study[_T].json``.
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
sys.path.insert(0, str(ROOT / "src"))

from facerig.models.raf.amplitude import SHAPES as AMPLITUDE_SHAPES  # noqa: E402

#: Shapes per region (those of them a head's ground truth has).
REGIONS = {
    "mouth_corners": AMPLITUDE_SHAPES["corners"],
    "mouth_lips": ("mouthPucker", "mouthFunnel", "mouthRollUpper", "mouthRollLower", "mouthShrugUpper"),
    "eyes": ("eyeBlinkLeft", "eyeBlinkRight", "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight"),
    "brows": ("browInnerUp", "browDownLeft", "browDownRight", "browOuterUpLeft", "browOuterUpRight"),
    "jaw": ("jawOpen",),
}
#: Every feature the fits try for each region.
FEATURES = (
    "mouth_frame",
    "lm_mouth_frame",
    "gt_smile_frame",
    "net_smile_frame",
    "mouth_S",
    "eye_frame",
    "eye_S",
    "iod_frame",
    "eye_mouth_frame",
)


def measure_features(vertices: np.ndarray, faces: np.ndarray, frame_unit: float, face: dict | None) -> dict:
    """Feature sizes of a neutral head (V,3) in the canonical frame (+Y up, +Z forward), faces
    (F,3), ``frame_unit`` the rig's head-frame unit (input units) -> dict of floats (None where
    not found); see module doc."""
    from facerig.geometry.face_parts import find_layout
    from facerig.geometry.mouth import COLUMN_STEP, find_mouth

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    lay = find_layout(v, f)
    out: dict = {"S_frame": lay.scale / frame_unit if lay.eyes else None, "eyes": len(lay.eyes)}
    mouth, note = find_mouth(v, f, lay)
    if mouth is not None:
        width = float(mouth.x[-1] - mouth.x[0]) + COLUMN_STEP * lay.scale
        out["mouth_frame"] = width / frame_unit
        out["mouth_S"] = width / lay.scale if lay.eyes else None
    else:
        out["mouth_frame"] = out["mouth_S"] = None
        out["mouth_note"] = note
    if lay.eyes:
        r = float(np.mean([e.radius for e in lay.eyes]))
        out["eye_frame"] = r / frame_unit
        out["eye_S"] = r / lay.scale
    else:
        out["eye_frame"] = out["eye_S"] = None
    if face:
        out["iod_frame"] = face["iod"] / frame_unit
        out["eye_mouth_frame"] = face["eye_mouth"] / frame_unit
        out["face_factor"] = face["factor"]
    return {k: (round(x, 4) if isinstance(x, float) else x) for k, x in out.items()}


def peak_ratio(pred: np.ndarray, gt: np.ndarray, top: float = 0.01) -> np.ndarray:
    """Amplitude ratio per shape, pred, gt (K,V,3) -> (K,): mean |g| over the top ``top`` of the
    vertices by |g| over mean |p| over the top by |p| (NaN where the rig does not move)."""
    mp, mg = np.linalg.norm(pred, axis=2), np.linalg.norm(gt, axis=2)
    n = max(1, int(round(top * gt.shape[1])))
    tp = -np.partition(-mp, n - 1, axis=1)[:, :n].mean(1)
    tg = -np.partition(-mg, n - 1, axis=1)[:, :n].mean(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tp > 0, tg / tp, np.nan)


def motion_centroid(xyz: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Where a shape moves: the centroid of xyz (V,3) weighted by |d|^2 over the vertices moving
    more than 30 % of its largest motion (as the face probe's landmarks) -> (3,)."""
    s = np.linalg.norm(d, axis=1)
    w = np.where(s > 0.3 * s.max(), s**2, 0.0)
    return (w[:, None] * xyz).sum(0) / max(w.sum(), 1e-30)


def smile_span(xyz: np.ndarray, names: list[str], d: np.ndarray) -> float | None:
    """Distance between where mouthSmileLeft and mouthSmileRight move (xyz (V,3), d (K,V,3) of
    ``names``), or None without both."""
    if "mouthSmileLeft" not in names or "mouthSmileRight" not in names:
        return None
    a, b = (d[names.index(n)] for n in ("mouthSmileLeft", "mouthSmileRight"))
    if not (np.abs(a).max() > 0 and np.abs(b).max() > 0):
        return None
    return float(np.linalg.norm(motion_centroid(xyz, a) - motion_centroid(xyz, b)))


def study_head(
    name: str,
    group: str,
    mesh,
    names: list[str],
    gt: np.ndarray,
    options: dict,
    corners: float | None = None,
    mm_per_unit: float = 1.0,
) -> dict:
    """Rig ``mesh`` and compare it with ``gt`` (K,V,3) of ``names`` -> the head's row. ``corners``:
    the mouth corners' distance from the head's landmarks (validation heads), if known;
    ``mm_per_unit``: the head's millimetres per unit (for the active vertices of ``relative``)."""
    from facerig.eval.metrics import completion, shape_errors
    from facerig.models.registry import rig_mesh

    t0 = time.perf_counter()
    rig = rig_mesh(mesh, "raf", **{"head_check": False, **options})
    seconds = time.perf_counter() - t0
    raf = rig.meta.get("raf", {})
    feats = measure_features(mesh.vertices, mesh.faces, float(raf["head_scale"]), raf.get("face_frame"))
    unit = float(raf["head_scale"])
    if corners:
        feats["lm_mouth_frame"] = round(corners / unit, 4)
    v = np.asarray(mesh.vertices, np.float64)
    for key, (nm, dd) in {"net_smile_frame": (list(rig.names), rig.deltas), "gt_smile_frame": (names, gt)}.items():
        span = smile_span(v, nm, np.asarray(dd, np.float64))
        feats[key] = None if span is None else round(span / unit, 4)
    index = {n: i for i, n in enumerate(rig.names)}
    keep = [k for k, n in enumerate(names) if n in index and np.abs(gt[k]).max() > 0]
    sn = [names[k] for k in keep]
    g = np.asarray(gt[keep], np.float64)
    p = np.asarray(rig.deltas[[index[n] for n in sn]], np.float64)
    e = shape_errors(p, g, mm_per_unit)
    comp = completion(p, g)
    peak = peak_ratio(p, g)
    per_shape = {
        n: {
            "relative": round(float(e["relative"][i]), 4),
            "si_scale": round(float(e["si_scale"][i]), 3),
            "completion": round(float(comp[i]), 3),
            "peak": round(float(peak[i]), 3),
        }
        for i, n in enumerate(sn)
    }
    regions = {}
    for reg, members in REGIONS.items():
        have = [m for m in members if m in per_shape]
        if have:
            regions[reg] = {
                k: round(float(np.nanmedian([per_shape[m][k] for m in have])), 3)
                for k in ("relative", "si_scale", "completion", "peak")
            }
    return {
        "head": name,
        "group": group,
        "seconds": round(seconds, 2),
        "features": feats,
        "regions": regions,
        "per_shape": per_shape,
        **({"amplitude": raf["amplitude"]} if "amplitude" in raf else {}),
    }


def evalset_heads(set_dir: Path, groups: list[str]):
    """(name, group, mesh, names, gt deltas (K,V,3), mouth corners' distance from the landmarks or
    None, mm_per_unit) of a validation-style set's heads in ``groups``."""
    from facerig.eval.harness import load_index
    from facerig.io import load_mesh

    index = load_index(set_dir)
    for h in index["heads"]:
        if groups and h["group"] not in groups:
            continue
        z = np.load(set_dir / h["gt"], allow_pickle=False)
        mesh = load_mesh(set_dir / h["mesh"], allow_degenerate=True, allow_unreferenced=True)
        corners = None
        if h.get("landmarks"):  # iBUG-68 order: 48 and 54 are the mouth corners
            pairs = json.loads((set_dir / h["landmarks"]).read_text())["pairs"]
            v = np.asarray(mesh.vertices, np.float64)
            corners = float(np.linalg.norm(v[pairs[48][1]] - v[pairs[54][1]]))
        mm = float(h.get("mm_per_unit") or 1.0)
        yield h["id"], h["group"], mesh, [str(n) for n in z["names"]], z["deltas"], corners, mm


def author_set():
    """(name, group, mesh, names, gt deltas (K,V,3), None, mm_per_unit) of the heads with authors' shapes
    (benchmarks/out_of_family.py)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from facerig.config import data_root
    from facerig.io.mesh import Mesh
    from facerig.io.validate import validate_mesh
    from out_of_family import IN_FAMILY, author_heads

    for h in author_heads(data_root()):
        mesh = validate_mesh(
            Mesh(vertices=h["vertices"], faces=np.asarray(h["faces"], np.int64)),
            None,
            allow_degenerate=True,
            allow_unreferenced=True,
        )
        group = "author_in_family" if h["name"] in IN_FAMILY else "out_of_family"
        yield h["name"], group, mesh, h["names"], h["deltas"], None, h["mm_per_unit"]


def fit(rows: list[dict], region: str, feature: str, key: str) -> dict | None:
    """log(region's ``key``) = a + b log(feature) over ``rows`` -> slope, intercept, r, n."""
    pts = [
        (r["features"][feature], r["regions"][region][key])
        for r in rows
        if region in r["regions"]
        and r["features"].get(feature)
        and np.isfinite(r["regions"][region][key])
        and r["regions"][region][key] > 0
    ]
    if len(pts) < 3:
        return None
    x, y = np.log(np.array(pts)).T
    if np.ptp(x) == 0:
        return None
    b, a = np.polyfit(x, y, 1)
    r = float(np.corrcoef(x, y)[0, 1])
    return {
        "slope": round(float(b), 3),
        "intercept": round(float(a), 3),
        "r": round(r, 3),
        "n": len(pts),
        "feature_range": [round(float(np.exp(x.min())), 4), round(float(np.exp(x.max())), 4)],
        "ratio_median": round(float(np.exp(np.median(y))), 3),
    }


def summarise(rows: list[dict]) -> dict:
    """Fits per region and measure, on the validation heads and on the out-of-family heads apart,
    and each group's feature ranges."""
    out: dict = {"fits": {}, "feature_ranges": {}}
    sets = {
        "validation": [r for r in rows if r["group"] not in ("out_of_family", "author_in_family")],
        "out_of_family": [r for r in rows if r["group"] == "out_of_family"],
    }
    for sname, members in sets.items():
        out["fits"][sname] = {
            reg: {
                feat: {key: fit(members, reg, feat, key) for key in ("peak", "si_scale", "completion")}
                for feat in FEATURES
            }
            for reg in REGIONS
        }
    groups = sorted({r["group"] for r in rows})
    for g in groups:
        members = [r for r in rows if r["group"] == g]
        rng = {}
        for feat in FEATURES:
            vals = [r["features"][feat] for r in members if r["features"].get(feat)]
            if vals:
                rng[feat] = [
                    round(float(np.min(vals)), 4),
                    round(float(np.median(vals)), 4),
                    round(float(np.max(vals)), 4),
                ]
        out["feature_ranges"][g] = rng
    return out


def main(argv: list[str] | None = None) -> int:
    from facerig import parallel

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="/work/evalset", help="validation-style set (index.json), '' for none")
    ap.add_argument("--groups", default="unseen,makehuman,stylised", help="its groups")
    ap.add_argument("--set2", default="", help="a second set (e.g. a 48-head stylised set)")
    ap.add_argument("--groups2", default="stylised")
    ap.add_argument("--no-authors", action="store_true", help="skip the heads with authors' shapes")
    ap.add_argument("--limit", type=int, default=0, help="at most this many heads per set (0: all)")
    ap.add_argument("--raf-option", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--tag", default="")
    args = ap.parse_args(argv)
    parallel.configure(fork=True, keep_freed_memory=True)  # as the CLI
    options = {}
    for item in args.raf_option:
        k, _, v = item.partition("=")
        try:
            options[k] = json.loads(v)
        except json.JSONDecodeError:
            options[k] = v
    sources = []
    if args.set:
        sources.append(evalset_heads(Path(args.set), [g for g in args.groups.split(",") if g]))
    if args.set2:
        sources.append(evalset_heads(Path(args.set2), [g for g in args.groups2.split(",") if g]))
    if not args.no_authors:
        sources.append(author_set())
    rows, seen = [], set()
    for src in sources:
        n = 0
        for name, group, mesh, names, gt, corners, mm in src:
            key = (name, mesh.num_vertices, float(np.asarray(mesh.vertices)[:5].sum()))
            if key in seen:  # the 48-head set starts with the validation set's 4 stylised heads
                continue
            seen.add(key)
            if args.limit and n >= args.limit:
                break
            n += 1
            row = study_head(name, group, mesh, names, gt, options, corners, mm)
            rows.append(row)
            f = row["features"]
            reg = row["regions"]
            print(
                f"{name:26s} {group:16s} mouth {f.get('mouth_frame')} eye {f.get('eye_frame')} | "
                + " ".join(f"{k} {v['peak']:.2f}/{v['si_scale']:.2f}" for k, v in reg.items()),
                flush=True,
            )
    summary = summarise(rows)
    for sname, fits in summary["fits"].items():
        for reg, by_feat in fits.items():
            for feat, by in by_feat.items():
                p = by["peak"]
                if p:
                    print(
                        f"{sname:14s} {reg:14s} peak ~ {feat:16s}: slope {p['slope']:+.2f} r {p['r']:+.2f} n {p['n']}"
                        f" range {p['feature_range']}"
                    )
    write_result(
        "amplitude_study",
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

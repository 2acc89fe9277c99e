"""What the eye-closure measures see on ICT FaceKit's own blinks (issue 24: "ICT's blinks stop short").

The eyelid step (:func:`facerig.geometry.eyelids.close_blinks`) completes a blink that leaves more
than ``CLOSED`` of the eye's opening between the lids, and by that measure the ICT FaceKit ground
truth of some validation identities leaves up to 0.30. This script says what that 0.30 is. Per eye
of ICT heads (the generic neutral, ``--identities`` identities drawn as the data generator draws
them, seed 0, and the validation set's ICT heads with their ground truth), looked at along the eye's
own front as the step does (:func:`facerig.geometry.eyelids.eye_yaw`):

- ``between``: share of the neutral opening the GT eyeBlink leaves seen between the skin lids (the
  step's measure, what it compares with ``CLOSED``); ``check``: the same as ``facerig check`` counts
  it (first hit among skin and eyeball, :func:`facerig.geometry.eyelids.seen_share`), which also
  counts ``through_lid``: the eyeball hit in front of skin that lies in its front half (the
  eyeball's outer shell, a cornea bulge, poking through a lid that came down inside it);
- ``slit_mm``: the tallest column of rays through the gap between the lids (mm), and
  ``pitch_between``: ``between`` seen from 10 degrees above and below (a gap that is a viewing
  angle on overlapping lids would close from one side);
- ``with_lacrimal_blend``, ``with_lashes``: ``between`` with ICT's tear-line and eye-blend pieces,
  then also its eyelashes, counted as cover (ICT's own region labels; a diagnostic of the ICT mesh,
  not a rule of the step);
- ``opening_mm``: the neutral opening's tallest column (mm).

``blink_identical``: the largest difference (mm) between the GT eyeBlinks of the validation ICT heads
(ICT FaceKit's expressions are one displacement added to every identity's neutral).
``--rig`` also rigs the validation ICT heads (``close_eyes`` off and on) and reports, per eye, the
eyeBlink's mean error against the GT (mm) and how far the upper-lid margin and the lower lid move
(mm, down negative) in GT, the network's blink and the completed one.

    python benchmarks/ict_blink_gaps.py EVALSET [--identities 24] [--rig] [--tag X]  ->  results/ict_blink_gaps[_X].json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from _meta import write_result

ICT_GROUPS = ("unseen", "remeshed")  # the validation groups built on ICT FaceKit identities (remeshed: other topology)


def _pitch(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[1.0, 0.0, 0.0], [0.0, np.cos(a), -np.sin(a)], [0.0, np.sin(a), np.cos(a)]])


def _column_mm(seen: np.ndarray, step: float, mm: float) -> float:
    """Tallest column (mm) of ``seen`` (n, n) rays, ``step`` units apart."""
    return float(seen.sum(axis=0).max(initial=0) * step * mm)


def eye_rows(vertices, faces, names, deltas, regions=None, region_names=(), mm: float = 10.0) -> list[dict]:
    """Per eyeball eye with an eyeBlink: the measures of the module doc. vertices (V, 3) neutral,
    faces (F, 3), names (K,), deltas (K, V, 3); regions (V,) ICT region index or None."""
    from facerig.geometry.eyelids import _eye_rays, _yaw_matrix, eye_yaw, eyeball_sphere, seen_share
    from facerig.geometry.face_parts import find_layout

    v, f = np.asarray(vertices, np.float64), np.asarray(faces, np.int64)
    lay = find_layout(v, f)
    skin = np.flatnonzero(lay.face_part == lay.skin)
    extra = {}
    if regions is not None:
        fr = np.asarray(region_names)[np.asarray(regions)[f[:, 0]]]
        blend = np.flatnonzero(np.char.startswith(fr, "lacrimal") | np.char.startswith(fr, "eye_blend"))
        lashes = np.flatnonzero(np.char.startswith(fr, "eyelashes"))
        extra = {"with_lacrimal_blend": blend, "with_lashes": np.concatenate([blend, lashes])}
    out = []
    for eye in lay.eyes:
        name = "eyeBlink" + eye.side
        if eye.kind != "eyeball" or name not in names:
            continue
        d = np.asarray(deltas[list(names).index(name)], np.float64)
        c, r = sphere = eyeball_sphere(v[np.unique(f[eye.faces])])
        yaw, _ = eye_yaw(v, f, skin, eye.faces, sphere, 1.0 if eye.side == "Left" else -1.0)
        row = {"eye": eye.side, "yaw_deg": round(float(np.degrees(yaw)), 1)}

        def measure(turn, cover, v=v, d=d, c=c, r=r, eye=eye):
            v0, v1 = (v - c) @ turn.T + c, (v + d - c) @ turn.T + c
            n = 61
            _, _, _, s0, window = _eye_rays(v0, f, cover, eye.faces, c, r, n)
            _, _, _, s1, _ = _eye_rays(v1, f, cover, eye.faces, c, r, n, through_skin=False, rest=v0, memo={})
            return s0, s1, window, v0, v1, 2 * r / (n - 1)

        R = _yaw_matrix(yaw)
        s0, s1, window, v0, v1, step = measure(R, skin)
        row["opening_mm"] = round(_column_mm(s0, step, mm), 2)
        row["between"] = round(float(s1.sum() / max(s0.sum(), 1)), 3)
        row["slit_mm"] = round(_column_mm(s1, step, mm), 2)
        seen0 = seen_share(v0, f, skin, eye.faces, c, r)
        row["check"] = round(seen_share(v1, f, skin, eye.faces, c, r) / max(seen0, 1e-12), 3)
        row["through_lid"] = round(row["check"] - row["between"], 3)
        row["pitch_between"] = {}
        for deg in (-10.0, 10.0):
            p0, p1, *_ = measure(_pitch(deg) @ R, skin)
            row["pitch_between"][f"{deg:+.0f}"] = round(float(p1.sum() / max(p0.sum(), 1)), 3)
        for key, rows in extra.items():
            cover = np.concatenate([skin, rows])
            e0, e1, *_ = measure(R, cover)
            # the opening is the skin's (pieces over the eyeball at rest are not closed lids)
            row[key] = round(float((e1 & s0).sum() / max(s0.sum(), 1)), 3)
        out.append(row)
    return out


def lid_motion(vertices, faces, blinks: dict, mm: float) -> list[dict]:
    """Per eye: how far the upper-lid margin and the lower lid move down (mm, negative down) in each
    blink of ``blinks`` ({label: (names, deltas)}); the margin: the 20 skin vertices in front of the
    eyeball (inside 1.15 radii, above its centre) that the first blink moves down most; the lower
    lid: the 20 below the centre that it moves least down, in the same shell."""
    from facerig.geometry.eyelids import eyeball_sphere
    from facerig.geometry.face_parts import find_layout

    v, f = np.asarray(vertices, np.float64), np.asarray(faces, np.int64)
    lay = find_layout(v, f)
    skin_v = np.zeros(len(v), bool)
    skin_v[f[lay.face_part == lay.skin].ravel()] = True
    rows = []
    for eye in lay.eyes:
        if eye.kind != "eyeball":
            continue
        name = "eyeBlink" + eye.side
        c, r = eyeball_sphere(v[np.unique(f[eye.faces])])
        dv = v - c
        rho = np.linalg.norm(dv, axis=1)
        shell = skin_v & (rho < 1.15 * r) & (dv[:, 2] > 0.3 * r) & (np.abs(dv[:, 0]) < 0.5 * r)
        first = next(iter(blinks.values()))
        d0 = np.asarray(first[1][list(first[0]).index(name)], np.float64)
        up = np.flatnonzero(shell & (dv[:, 1] > 0))
        up = up[np.argsort(d0[up, 1])[:20]]
        low = np.flatnonzero(shell & (dv[:, 1] < -0.3 * r))
        low = low[np.argsort(-d0[low, 1])[:20]] if len(low) else low
        row = {"eye": eye.side}
        for label, (names, deltas) in blinks.items():
            d = np.asarray(deltas[list(names).index(name)], np.float64)
            row[label] = {
                "upper_margin_dy_mm": round(float(d[up, 1].mean() * mm), 2),
                "lower_lid_dy_mm": round(float(d[low, 1].mean() * mm), 2) if len(low) else None,
            }
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    from facerig.data.families import ICTFamily
    from facerig.data.ict import load_ict
    from facerig.eval.harness import load_index
    from facerig.io import load_mesh

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("evalset", type=Path)
    ap.add_argument("--identities", type=int, default=24, help="ICT identities drawn (default 24)")
    ap.add_argument("--rig", action="store_true", help="also rig the validation ICT heads and compare lid motion")
    ap.add_argument("--tag", default="")
    args = ap.parse_args(argv)

    ict = load_ict(progress=False)
    fam = ICTFamily(ict)
    names, deltas = ict.arkit()
    mm = float(ict.mm_per_unit)
    reg, rn = ict.regions, tuple(ict.region_names)
    heads = [("generic", ict.neutral)]
    rng = np.random.default_rng(0)
    heads += [(f"identity_{i:02d}", fam.sample_neutral(rng)) for i in range(args.identities)]
    rows = []
    for label, neutral in heads:
        for e in eye_rows(neutral, ict.faces, names, deltas, reg, rn, mm):
            rows.append({"head": label, **e})
            print(label, e, flush=True)
    validation, gts, motion = [], [], []
    for h in load_index(args.evalset)["heads"]:
        if h["group"] not in ICT_GROUPS:
            continue
        mesh = load_mesh(args.evalset / h["mesh"], allow_degenerate=True, allow_unreferenced=True)
        with np.load(args.evalset / h["gt"]) as z:
            gn, gt, hm = [str(n) for n in z["names"]], z["deltas"], float(z["mm_per_unit"])
        same_topology = len(mesh.vertices) == len(ict.neutral)
        for e in eye_rows(mesh.vertices, mesh.faces, gn, gt, reg if same_topology else None, rn, hm):
            validation.append({"head": h["id"], **e})
            print(h["id"], e, flush=True)
        if same_topology:
            gts.append(np.stack([gt[gn.index("eyeBlinkLeft")], gt[gn.index("eyeBlinkRight")]]) * hm)
        if args.rig:
            from facerig.models.registry import rig_mesh

            net = rig_mesh(mesh, "raf", close_eyes=False, head_check=False)
            done = rig_mesh(mesh, "raf", head_check=False)
            blinks = {"gt": (gn, gt), "network": (net.names, net.deltas), "completed": (done.names, done.deltas)}
            for e in lid_motion(mesh.vertices, mesh.faces, blinks, hm):
                k = f"eyeBlink{e['eye']}"
                g = gt[gn.index(k)]
                for label in ("network", "completed"):
                    nm, dd = blinks[label]
                    e[label]["error_mm"] = round(float(np.linalg.norm(dd[nm.index(k)] - g, axis=1).mean() * hm), 4)
                motion.append({"head": h["id"], **e})
                print(h["id"], e, flush=True)
    identical = float(max(np.abs(g - gts[0]).max() for g in gts)) if gts else None
    sampled = [r for r in rows if r["head"] != "generic"]
    summary = {
        "blink_identical_max_diff_mm": identical,
        "generic_between_max": max(r["between"] for r in rows if r["head"] == "generic"),
        "identities_between_median": float(np.median([r["between"] for r in sampled])) if sampled else None,
        "identities_between_max": max((r["between"] for r in sampled), default=None),
        "identities_with_lashes_max": max((r.get("with_lashes", 0.0) for r in sampled), default=None),
        "corr_opening_mm_between": (
            round(float(np.corrcoef([r["opening_mm"] for r in sampled], [r["between"] for r in sampled])[0, 1]), 3)
            if len(sampled) > 2
            else None
        ),
        "validation_between_max": max((r["between"] for r in validation), default=None),
        "validation_check_max": max((r["check"] for r in validation), default=None),
    }
    print(summary)
    write_result(
        "ict_blink_gaps",
        args.tag,
        {"summary": summary, "ict_heads": rows, "validation_gt": validation, "lid_motion": motion},
        argv,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

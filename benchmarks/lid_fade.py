"""How far above its margin an author's upper lid moves in a blink: the evidence behind ``UPPER_FADE``.

For every eyeBlink over an eyeball in the validation set's ground truth (ICT FaceKit and MakeHuman
identities) and in ``out_of_family.py``'s author heads (johnsmith, MakeHuman hm08, Rocketbox,
Weboji), each eye is looked at along its own front (:func:`facerig.geometry.eyelids.eye_yaw`) and
its neutral opening measured (:func:`facerig.geometry.eyelids.eye_opening`, against the rest pose).
Over the movable vertices in front of the eyeball's centre within 1.6 radii of it and the middle
of the eye (``|u| < 0.35`` radii), ``t = (phi - top) / height`` is how far above the upper margin a
vertex lies, in heights of the opening (``phi`` its elevation about the eyeball's centre). Per bin
of ``t``: the median motion divided by the median motion at the margin (``|t| < 0.1``). Per author:
the median over its eyes. ``UPPER_FADE`` (the eyelid step's upper lid motion falls to 0 by
``UPPER_FADE`` heights above the margin, smoothstep) is compared with the in-family authors'
profiles (where half of the margin's motion is left).

    python benchmarks/lid_fade.py [EVALSET]  ->  benchmarks/results/lid_fade.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from _meta import run_meta

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

#: Bin edges of ``t`` (heights of the opening above the upper margin).
EDGES = (-0.2, -0.1, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 1.7)


def profiles(vertices, faces, names, deltas) -> list[dict]:
    """Per eyeBlink over an eyeball: ``shape``, ``height_deg`` and ``profile`` (one value per bin of
    :data:`EDGES`, None where fewer than 2 vertices), see module doc."""
    from facerig.geometry.eyelids import _yaw_matrix, eye_opening, eye_yaw, eyeball_sphere
    from facerig.geometry.face_parts import find_layout
    from facerig.geometry.rows import norm_rows

    v, f = np.asarray(vertices, np.float64), np.asarray(faces, np.int64)
    lay = find_layout(v, f)
    skin = np.flatnonzero(lay.face_part == lay.skin)
    movable = ~np.isin(lay.labels, lay.eyeball_parts)
    out = []
    for eye in lay.eyes:
        name = "eyeBlink" + eye.side
        if eye.kind != "eyeball" or name not in names:
            continue
        sphere = eyeball_sphere(v[np.unique(f[eye.faces])])
        c, r = sphere
        yaw, _ = eye_yaw(v, f, skin, eye.faces, sphere, 1.0 if eye.side == "Left" else -1.0)
        R = _yaw_matrix(yaw)
        vr = (v - c) @ R.T + c
        op = eye_opening(vr, f, skin, eye.faces, sphere=sphere, through_skin=False, rest=vr)
        if op is None:
            continue
        g = np.asarray(deltas[list(names).index(name)], np.float64) @ R.T
        d = vr - c
        u = np.clip(d[:, 0] / r, op.u.min(), op.u.max())
        top, bot = np.interp(u, op.u, op.top), np.interp(u, op.u, op.bot)
        height = np.maximum(top - bot, 1e-3)
        phi = np.arctan2(d[:, 1], d[:, 2])
        m = movable & (np.abs(d[:, 0] / r) < 0.35) & (norm_rows(d) < 1.6 * r) & (d[:, 2] > 0) & (phi > bot)
        t = (phi - top) / height
        mag = norm_rows(g)
        margin = m & (np.abs(t) < 0.1)
        if margin.sum() < 2 or np.median(mag[margin]) <= 0:
            continue
        ref = float(np.median(mag[margin]))
        prof = []
        for a, b in zip(EDGES[:-1], EDGES[1:], strict=True):
            s = m & (t >= a) & (t < b)
            prof.append(round(float(np.median(mag[s]) / ref), 3) if s.sum() >= 2 else None)
        out.append({"shape": name, "height_deg": round(float(np.degrees(np.median(height[m]))), 1), "profile": prof})
    return out


def half_point(profile: list) -> float | None:
    """The ``t`` (bin centre) where a profile first falls under a half, None if it never does."""
    centres = 0.5 * (np.array(EDGES[:-1]) + np.array(EDGES[1:]))
    for c, x in zip(centres, profile, strict=True):
        if x is not None and c > 0 and x < 0.5:
            return round(float(c), 3)
    return None


def main(argv: list[str] | None = None) -> int:
    from facerig.config import data_root
    from facerig.geometry.eyelids import UPPER_FADE
    from lid_meet import author_of, validation_truth
    from out_of_family import author_heads

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("evalset", nargs="?", default="/work/evalset")
    args = ap.parse_args(argv)
    rows = []
    for name, who, vertices, faces, names, gt in validation_truth(Path(args.evalset)):
        rows += [{"head": name, "author": who, **p} for p in profiles(vertices, faces, names, gt)]
    for h in author_heads(data_root()):
        who = author_of(h["name"])
        rows += [
            {"head": h["name"], "author": who, **p}
            for p in profiles(h["vertices"], h["faces"], h["names"], h["deltas"])
        ]
    per = {}
    for a in sorted({r["author"] for r in rows}):
        mine = [r["profile"] for r in rows if r["author"] == a]
        med = []
        for i in range(len(EDGES) - 1):
            vals = [p[i] for p in mine if p[i] is not None]
            med.append(round(float(np.median(vals)), 3) if vals else None)
        per[a] = {"eyes": len(mine), "profile": med, "half_at": half_point(med)}
    centres = 0.5 * (np.array(EDGES[:-1]) + np.array(EDGES[1:]))
    x = np.clip(centres / UPPER_FADE, 0.0, 1.0)  # the step's smoothstep (its 0.5 radian floor aside)
    shipped = [round(float(y), 3) for y in 1.0 - x * x * (3.0 - 2.0 * x)]
    summary = {
        "t_edges": list(EDGES),
        "per_author": per,
        "shipped": {"UPPER_FADE": UPPER_FADE, "profile": shipped, "half_at": half_point(shipped)},
    }
    print(json.dumps(summary, indent=1))
    result = {
        **run_meta(),
        "command": "python benchmarks/lid_fade.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "summary": summary,
        "rows": rows,
    }
    (ROOT / "benchmarks" / "results" / "lid_fade.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

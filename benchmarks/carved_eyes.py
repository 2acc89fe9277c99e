"""How much of each eye shape's motion stays at its eye, before / after (issue 24: carved eyes).

For each head with rigs ``BEFORE/NAME.npz`` and ``AFTER/NAME.npz`` (written by ``facerig rig
HEAD.obj -o DIR/NAME.npz --no-head-check --allow-degenerate --allow-unreferenced`` with two
versions of the code), the share of the summed |delta| of eyeBlink / eyeSquint / eyeWide (Left and
Right) that lies within 0.5 and 1 eye distances of its own eye, the same reference eyes for both
rigs: the eyes the after rig's eye falloff used (``meta["eye_falloff"]["eyes"]``, set where the
head has carved eyes: :func:`facerig.models.carved_eyes.carved_eyes`), else the after rig's blink
centroids (:func:`facerig.models.raf.probe.landmarks_from_motion`). Also whether the two rigs are
bit-identical. With ``--renders DIR``: per head a PNG, rows front / three-quarter, columns neutral,
then per shape the motion (red: |delta| / largest) before and after and the posed shape after.

Run: ``FACERIG_DATA=... python benchmarks/carved_eyes.py --before DIR --after DIR [--renders DIR]
[--tag T] [NAME ...]`` -> ``results/carved_eyes[_T].json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SHAPES = ("eyeBlinkLeft", "eyeBlinkRight", "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight")
RENDER_SHAPES = ("eyeBlinkLeft", "eyeSquintLeft", "eyeWideLeft")


def reference_eyes(rig) -> tuple[np.ndarray, str]:
    """(2, 3) eyes of ``rig`` (see module doc) and where they come from."""
    from facerig.models.finish import FACE_SHAPES
    from facerig.models.raf.probe import landmarks_from_motion

    eyes = (rig.meta.get("eye_falloff") or {}).get("eyes")
    if eyes is not None:
        return np.asarray(eyes, np.float64), "carved"
    names = list(rig.names)
    d = np.stack([np.asarray(rig.deltas[names.index(n)], np.float64) for n in FACE_SHAPES])
    lm = landmarks_from_motion(np.asarray(rig.neutral, np.float64), d)
    return np.stack([lm["eye_left"], lm["eye_right"]]), "blinks"


def shares(rig, eyes: np.ndarray) -> dict:
    """Per shape of :data:`SHAPES`: share of its summed |delta| within 0.5 and 1 eye distances of
    its own eye (:func:`facerig.models.eye_falloff.own_eye`, with ``eyes`` (2, 3)), and the share of
    the vertices moving more than 0.15 of its largest motion."""
    from facerig.models.eye_falloff import own_eye

    v = np.asarray(rig.neutral, np.float64)
    iod = float(np.linalg.norm(eyes[0] - eyes[1]))
    names = list(rig.names)
    out = {}
    for n in SHAPES:
        if n not in names:
            continue
        m = np.linalg.norm(np.asarray(rig.deltas[names.index(n)], np.float64), axis=1)
        if m.sum() <= 0:
            continue
        dist = np.linalg.norm(v - eyes[own_eye(v, m, eyes)], axis=1) / iod
        out[n] = {f"within_{r}": round(float(m[dist <= r].sum() / m.sum()), 4) for r in (0.5, 1.0)}
        out[n]["vertices_over_0.15"] = round(float((m > 0.15 * m.max()).mean()), 4)  # as benchmarks/check_fails.py
    return out


def render(rb, ra, path: Path) -> None:
    """Write the head's PNG (see module doc)."""
    import torch

    from facerig.render.cameras import PerspectiveCameras, look_at_view_transform
    from facerig.render.png import write_png
    from facerig.render.renderer import render_mesh

    v, f = np.asarray(ra.neutral, np.float64), np.asarray(ra.faces, np.int64)
    c, ext = v.mean(0), float(np.ptp(v, 0).max())
    grey = np.full((len(v), 3), 0.85)

    def one(p, col, eye):
        R, T = look_at_view_transform(tuple(eye), tuple(c), (0.0, 1.0, 0.0))
        o = render_mesh(
            torch.tensor(p[f].reshape(-1, 3), dtype=torch.float32),
            torch.tensor(np.arange(3 * len(f)).reshape(-1, 3)),
            PerspectiveCameras(R=R, T=T, fov_y=30.0),
            (320, 320),
            vertex_colors=torch.tensor(col[f].reshape(-1, 3), dtype=torch.float32),
            background=1.0,
        )
        return o.image[0].clamp(0, 1).numpy()

    def heat(d):
        m = np.linalg.norm(d, axis=1)
        t = m / max(float(m.max()), 1e-30)
        return np.stack([0.85 + 0.15 * t, 0.85 * (1 - t), 0.85 * (1 - t)], 1)

    rows = []
    for direction in ((0.0, 0.0, 1.0), (0.7, 0.0, 0.7)):
        eye = c + np.asarray(direction) / np.linalg.norm(direction) * 2.2 * ext
        cols = [one(v, grey, eye)]
        for n in RENDER_SHAPES:
            db = np.asarray(rb.deltas[list(rb.names).index(n)], np.float64)
            da = np.asarray(ra.deltas[list(ra.names).index(n)], np.float64)
            cols += [one(v, heat(db), eye), one(v, heat(da), eye), one(v + da, grey, eye)]
        rows.append(np.concatenate(cols, 1))
    write_png(path, np.concatenate(rows, 0))


def main(argv: list[str] | None = None) -> int:
    from _meta import write_result
    from facerig.io.rigfile import read_rig

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="heads (default: every NAME.npz in --after)")
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--renders", help="write a PNG per head here")
    ap.add_argument("--tag", default=None)
    a = ap.parse_args(argv)
    names = a.names or sorted(p.stem for p in Path(a.after).glob("*.npz"))
    rows = []
    for name in names:
        rb, ra = read_rig(Path(a.before) / f"{name}.npz"), read_rig(Path(a.after) / f"{name}.npz")
        eyes, source = reference_eyes(ra)
        same = list(rb.names) == list(ra.names) and np.array_equal(rb.deltas, ra.deltas)
        row = {"head": name, "eyes_from": source, "identical": bool(same)}
        row["before"], row["after"] = shares(rb, eyes), shares(ra, eyes)
        for tag in ("before", "after"):
            vals = [s["within_1.0"] for k, s in row[tag].items() if k.startswith("eyeBlink")]
            row[f"blink_within_1_{tag}"] = round(float(np.mean(vals)), 4) if vals else None
        rows.append(row)
        print(
            f"{name:28s} eyes from {source:6s} identical {same!s:5s} blink within 1 eye distance "
            f"{row['blink_within_1_before']} -> {row['blink_within_1_after']}",
            flush=True,
        )
        if a.renders:
            Path(a.renders).mkdir(parents=True, exist_ok=True)
            render(rb, ra, Path(a.renders) / f"carved_eyes_{name}.png")
    write_result("carved_eyes", a.tag, {"heads": rows}, argv if argv is not None else sys.argv[1:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

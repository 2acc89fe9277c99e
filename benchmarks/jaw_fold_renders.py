"""Before / after renders of the mouth shapes of facerig's rigs, folds in red (figures, not a test).

For each head with rigs ``BEFORE/NAME.npz`` and ``AFTER/NAME.npz`` (written by ``facerig rig
HEAD.obj -o DIR/NAME.npz --no-head-check --allow-degenerate --allow-unreferenced`` with two
versions of the code), one PNG: a row per shape (jawOpen, mouthClose posed on jawOpen as ARKit
defines it, mouthSmileLeft, mouthFunnel), columns neutral / the author's shape (where the head
has one: ``heads/NAME.blendshapes.npz``, ``external-rigs/NAME.npz``) / before / after, seen from
the front and a little below (where a folded chin or neck shows), the triangles the shape turns
over (:func:`facerig.geometry.untangle.folded_faces`) in red.

Run: ``FACERIG_DATA=... python benchmarks/jaw_fold_renders.py --before DIR --after DIR --out DIR
[NAME ...]`` -> ``OUT/jawfold_NAME.png``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SHAPES = ("jawOpen", "mouthClose", "mouthSmileLeft", "mouthFunnel")


def _render(v, f, red, center, eye, size=224) -> np.ndarray:
    """(size, size, 3) float image of vertices (V, 3), faces (F, 3), faces ``red`` (F,) bool in red,
    seen from ``eye`` (3,) looking at ``center`` (3,)."""
    import torch

    from facerig.render.cameras import PerspectiveCameras, look_at_view_transform
    from facerig.render.renderer import render_mesh

    p = v[f].reshape(-1, 3)  # unshared vertices: a face's colour is its own
    col = np.where(np.repeat(red, 3)[:, None], [[1.0, 0.15, 0.15]], [[0.85, 0.85, 0.85]])
    R, T = look_at_view_transform(tuple(eye), tuple(center), (0.0, 1.0, 0.0))
    out = render_mesh(
        torch.tensor(p, dtype=torch.float32),
        torch.tensor(np.arange(len(p)).reshape(-1, 3)),
        PerspectiveCameras(R=R, T=T, fov_y=30.0),
        (size, size),
        vertex_colors=torch.tensor(col, dtype=torch.float32),
        background=1.0,
    )
    return out.image[0].clamp(0, 1).numpy()


def _posed(names: list[str], deltas: np.ndarray, shape: str) -> np.ndarray | None:
    """(V, 3) the shape as posed (mouthClose on top of jawOpen), None if the rig lacks it."""
    if shape not in names:
        return None
    d = np.asarray(deltas[names.index(shape)], np.float64)
    if shape == "mouthClose" and "jawOpen" in names:
        d = d + deltas[names.index("jawOpen")]
    return d


def render_head(name: str, before: Path, after: Path, author: dict | None) -> tuple[np.ndarray, list[str]]:
    """The head's picture (rows: shapes, columns: neutral / author / before / after) and a line
    per shape with its folded triangle counts."""
    from facerig.geometry.untangle import folded_faces
    from facerig.io.rigfile import read_rig

    rb, ra = read_rig(before / f"{name}.npz"), read_rig(after / f"{name}.npz")
    v, f = np.asarray(ra.neutral, np.float64), np.asarray(ra.faces, np.int64)
    jaw = np.asarray(ra.deltas[list(ra.names).index("jawOpen")], np.float64)
    mag = np.linalg.norm(jaw, axis=1)
    act = mag > 0.2 * mag.max()
    center = v[act].mean(0)
    ext = max(float(np.ptp(v[act], 0).max()), 0.25 * float(np.ptp(v, 0).max()))
    eye = center + np.array([0.35, -0.45, 1.0]) / np.linalg.norm([0.35, -0.45, 1.0]) * 3.2 * ext
    rows, lines = [], []
    none = np.zeros(len(f), bool)
    for shape in SHAPES:
        cols = [_render(v, f, none, center, eye)]
        cells = []
        if author is not None:
            cells.append(("author", _posed(author["names"], author["deltas"], shape)))
        cells += [
            ("before", _posed(list(rb.names), rb.deltas, shape)),
            ("after", _posed(list(ra.names), ra.deltas, shape)),
        ]
        counts = []
        for tag, d in cells:
            if d is None:
                cols.append(np.ones_like(cols[0]))
                continue
            red = folded_faces(v, f, d[None])[0]
            counts.append(f"{tag} {int(red.sum())}")
            cols.append(_render(v + d, f, red, center, eye))
        rows.append(np.concatenate(cols, axis=1))
        lines.append(f"{name} {shape}: folded triangles " + ", ".join(counts))
    return np.concatenate(rows, axis=0), lines


def main(argv: list[str] | None = None) -> int:
    from facerig.config import data_root
    from facerig.render.png import write_png
    from out_of_family import author_heads

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="heads (default: every NAME.npz in --after)")
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    authors = {h["name"]: h for h in author_heads(Path(data_root()))}
    names = a.names or sorted(p.stem for p in Path(a.after).glob("*.npz"))
    Path(a.out).mkdir(parents=True, exist_ok=True)
    for name in names:
        img, lines = render_head(name, Path(a.before), Path(a.after), authors.get(name))
        path = Path(a.out) / f"jawfold_{name}.png"
        write_png(path, img)
        print(path, *lines, sep="\n  ", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

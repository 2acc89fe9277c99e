"""Before / after renders of :func:`facerig.models.finish.untangle_folds` (figures, not a test).

For each ``HEAD:SHAPE`` (a head of ``heads/`` or ``external-rigs/``), rigs the head once with
``untangle=False``, applies the rig's untangle step, and writes one PNG per view: the shape before
(left) and after (right), Lambert-shaded from the front and from below-front (where a folded chin
shows), with the folded triangles (:func:`facerig.geometry.untangle.folded_faces`) in red.

Run: ``FACERIG_DATA=... python benchmarks/untangle_renders.py weboji_facecustom_human:jawOpen
weboji_lama:jawOpen rocketbox_female_adult_01:mouthRollUpper --out /tmp``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from untangle_folds import _heads, face_size  # noqa: E402


def _render(v: np.ndarray, f: np.ndarray, red: np.ndarray, eye_dir: np.ndarray, size: int = 384) -> np.ndarray:
    """(size, size, 3) uint8 image of vertices (V, 3), faces (F, 3), faces ``red`` (F,) bool coloured."""
    import torch

    from facerig.render.cameras import PerspectiveCameras, look_at_view_transform
    from facerig.render.renderer import render_mesh

    # unshared vertices, so a face's colour is its own
    p = v[f].reshape(-1, 3)
    ff = np.arange(len(p)).reshape(-1, 3)
    col = np.where(np.repeat(red, 3)[:, None], [[1.0, 0.15, 0.15]], [[0.85, 0.85, 0.85]])
    c = 0.5 * (v.max(0) + v.min(0))
    r = float(np.linalg.norm(v.max(0) - v.min(0)))
    eye = c + eye_dir / np.linalg.norm(eye_dir) * 1.6 * r
    R, T = look_at_view_transform(tuple(eye), tuple(c), (0.0, 1.0, 0.0))
    cams = PerspectiveCameras(R=R, T=T, fov_y=40.0)
    out = render_mesh(
        torch.tensor(p, dtype=torch.float32),
        torch.tensor(ff),
        cams,
        (size, size),
        vertex_colors=torch.tensor(col, dtype=torch.float32),
        background=1.0,
    )
    return (out.image[0].clamp(0, 1).numpy() * 255).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    from facerig.geometry.untangle import folded_faces
    from facerig.io.mesh import Mesh
    from facerig.io.validate import validate_mesh
    from facerig.models import finish
    from facerig.models.registry import rig_mesh
    from facerig.render.png import write_png

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("items", nargs="+", help="HEAD:SHAPE")
    ap.add_argument("--out", default="/tmp")
    a = ap.parse_args(argv)
    heads = {h["name"]: h for h in _heads()}
    for item in a.items:
        name, shape = item.split(":")
        h = heads[name]
        v, f = np.asarray(h["vertices"], np.float64), np.asarray(h["faces"], np.int64)
        mesh = validate_mesh(Mesh(vertices=v, faces=f), None, allow_degenerate=True, allow_unreferenced=True)
        rig = rig_mesh(mesh, "raf", head_check=False, untangle=False)
        after, _ = finish.untangle_folds(v, f, rig.deltas, list(rig.names), face_size(v, rig))
        k = list(rig.names).index(shape)
        for view, eye in (("front", np.array([0.0, 0.0, 1.0])), ("below", np.array([0.0, -0.8, 1.0]))):
            imgs = []
            for d in (rig.deltas[k], after[k]):
                red = folded_faces(v, f, d[None])[0]
                imgs.append(_render(v + d, f, red, eye))
            path = Path(a.out) / f"untangle_{name}_{shape}_{view}.png"
            write_png(path, np.concatenate(imgs, axis=1))
            print(
                path,
                "folded before",
                int(folded_faces(v, f, rig.deltas[k][None]).sum()),
                "after",
                int(folded_faces(v, f, after[k][None]).sum()),
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

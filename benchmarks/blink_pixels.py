"""How much of each eye a blink leaves visible from the front, counted in rendered pixels.

Every out-of-family author head (``out_of_family.author_heads``) is rigged as ``out_of_family.py``
rigs it, and each eye region is rendered with the library's rasteriser from the front (an
orthographic view along -Z, ``--size`` pixels across 2.6 radii of the eye): an eyeball eye's pixels
where its eyeball is the first surface met among the skin and that eyeball (inside the disc of 0.95
radii), a hole's pixels where nothing is met or only surfaces more than the hole's radius behind it
(inside its neutral outline), as ``facerig check``'s rays count them but about five times finer.
Per eye: the pixels open at neutral and the share of them left open by the author's eyeBlink and
by the rig's (issue 24, "every eye closes"). The heads are given in the canonical frame (+Y up, face
toward +Z), as ``out_of_family.py`` rigs them.

    python benchmarks/blink_pixels.py [--heads A,B] [--size 200] [--tag X]   # results/blink_pixels[_X].json
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from _meta import write_result
from out_of_family import author_heads


def eye_pixels(vertices: np.ndarray, faces: np.ndarray, eye, skin_faces: np.ndarray, neutral: np.ndarray, size: int):
    """Pixels (int) of one eye seen open from the front for vertices (V, 3) (posed or neutral).

    faces (F, 3), eye: a :class:`facerig.geometry.face_parts.Eye`, skin_faces (Fs,) rows of
    ``faces``, neutral (V, 3) (a hole's outline), ``size`` pixels across the view."""
    import torch

    from facerig.geometry.raycast import inside_polygon
    from facerig.render.rasterize import rasterize_meshes

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    if eye.kind == "eyeball":
        c, r = np.asarray(eye.center, np.float64), float(eye.radius)
        rows = np.concatenate([skin_faces, eye.faces])
    else:
        ring = np.asarray(neutral, np.float64)[eye.loop]
        lo, hi = ring.min(0), ring.max(0)
        c, r = 0.5 * (lo + hi), 0.5 * float((hi - lo)[:2].max())
        rows = np.arange(len(f))
    x0, y0, s = c[0] - 1.3 * r, c[1] + 1.3 * r, size / (2.6 * r)
    top = float(v[:, 2].max()) + r
    screen = np.stack([(v[:, 0] - x0) * s, (y0 - v[:, 1]) * s, top - v[:, 2]], axis=1)
    frags = rasterize_meshes(torch.tensor(screen[None]), torch.tensor(f[rows]), (size, size))
    face = frags.pix_to_face[0].numpy()
    yy, xx = np.mgrid[0:size, 0:size]
    X, Y = x0 + (xx + 0.5) / s, y0 - (yy + 0.5) / s
    if eye.kind == "eyeball":
        seen = face >= len(skin_faces)
        window = (X - c[0]) ** 2 + (Y - c[1]) ** 2 <= (0.95 * r) ** 2
    else:
        depth = top - frags.zbuf[0].numpy()
        seen = (face < 0) | (depth < ring[:, 2].mean() - r)
        window = inside_polygon(X, Y, ring[:, :2])
    return int((seen & window).sum())


def head_row(head: dict, size: int) -> dict:
    """Rig one author head and count its eyes' open pixels (see module doc)."""
    from facerig.geometry.face_parts import find_layout
    from facerig.io.mesh import Mesh
    from facerig.io.validate import validate_mesh
    from facerig.models.registry import rig_mesh

    v = np.asarray(head["vertices"], np.float64)
    f = np.asarray(head["faces"], np.int64)
    mesh = validate_mesh(Mesh(vertices=v, faces=f), None, allow_degenerate=True, allow_unreferenced=True)
    rig = rig_mesh(mesh, "raf", head_check=False)
    index = {n: i for i, n in enumerate(rig.names)}
    lay = find_layout(v, f)
    skin = np.flatnonzero(lay.face_part == lay.skin)
    eyes = {}
    for eye in lay.eyes:
        name = "eyeBlink" + eye.side
        if name not in head["names"] or name not in index:
            continue
        n0 = eye_pixels(v, f, eye, skin, v, size)
        author = eye_pixels(v + head["deltas"][head["names"].index(name)], f, eye, skin, v, size)
        rigged = eye_pixels(v + rig.deltas[index[name]], f, eye, skin, v, size)
        eyes[name] = {
            "kind": eye.kind,
            "neutral_px": n0,
            "author_open": round(author / max(n0, 1), 4),
            "rig_open": round(rigged / max(n0, 1), 4),
        }
    return {"head": head["name"], "eyes": eyes}


def main(argv: list[str] | None = None) -> int:
    from facerig.config import data_root

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heads", default="", help="comma-separated head names (default all)")
    ap.add_argument("--size", type=int, default=200, help="pixels across the eye view (default 200)")
    ap.add_argument("--tag", default="", help="result file suffix")
    args = ap.parse_args(argv)
    wanted = {h.strip() for h in args.heads.split(",") if h.strip()}
    rows = []
    for head in author_heads(data_root()):
        if wanted and head["name"] not in wanted:
            continue
        row = head_row(head, args.size)
        rows.append(row)
        for name, e in row["eyes"].items():
            print(
                f"{row['head']:28s} {name:14s} {e['kind']:8s} neutral {e['neutral_px']:>6d} px  "
                f"author leaves {e['author_open']:.3f}  rig leaves {e['rig_open']:.3f}",
                flush=True,
            )
    worst = max((e["rig_open"] for r in rows for e in r["eyes"].values()), default=None)
    print(f"worst share left open by the rig: {worst}")
    write_result("blink_pixels", args.tag, {"size": args.size, "rig_open_max": worst, "heads": rows}, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())

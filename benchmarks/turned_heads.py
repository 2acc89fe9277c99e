"""Heads in other axes rigged with no flags: does ``rig_mesh`` (as ``facerig rig`` without
``--up``/``--forward``) rig them in their true axes, refuse them, or rig them wrong?

    .venv/bin/python benchmarks/turned_heads.py [--heads DIR] [--names a,b,...] [--turns ...] [--tag TAG]

Each head (OBJ, +Y up and facing +Z: ``$FACERIG_DATA/heads`` and the bundled example head) is
turned for real (vertices rotated as a user's file would hold them) into each turn of ``--turns``
(``up/forward`` pairs; default: Blender's axes, lying on its side, upside down, turned 90 degrees
about up) and rigged by :func:`facerig.models.registry.rig_mesh` with no axes given. Per run: the
outcome (``right``: rigged and ``meta["orientation"]`` names the true axes; ``refused``; ``wrong``:
rigged in other axes), the axes found and the wall time; the head as it is is rigged too
(``upright``) for the time it takes there. Writes ``benchmarks/results/turned_heads[_TAG].json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _meta import write_result  # noqa: E402

TURNS = ("+z/-y", "+x/+z", "-y/-z", "+y/+x")
DEFAULT_NAMES = "ict_head,lps_leeperrysmith,rocketbox_female_adult_01,weboji_boy,weboji_kangaroo,nefertiti_bust"


def main(argv: list[str] | None = None) -> int:
    from facerig.errors import FacerigError
    from facerig.geometry.frame import orientation_matrix
    from facerig.io import read_mesh
    from facerig.io.mesh import Mesh
    from facerig.models.registry import rig_mesh

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heads", default=os.path.join(os.environ.get("FACERIG_DATA", "../shared/data"), "heads"))
    ap.add_argument("--names", default=DEFAULT_NAMES)
    ap.add_argument("--turns", default=",".join(TURNS))
    ap.add_argument("--tag", default="")
    args = ap.parse_args(argv)
    example = Path(__file__).resolve().parents[1] / "examples" / "ict_head" / "head.obj"
    rows = []
    for name in args.names.split(","):
        path = example if name == "ict_head" else Path(args.heads) / f"{name}.obj"
        mesh = read_mesh(path)
        for turn in ["upright", *args.turns.split(",")]:
            up, forward = ("+y", "+z") if turn == "upright" else turn.split("/")
            # a head whose up is `up` and forward `forward`: its +y goes to `up`, its +z to `forward`
            v = np.asarray(mesh.vertices, np.float64) @ orientation_matrix(up, forward)
            t0 = time.perf_counter()
            try:
                rig = rig_mesh(Mesh(vertices=v, faces=mesh.faces), "raf")
                o = rig.meta.get("orientation") or {}
                got = (o.get("up", "+y"), o.get("forward", "+z")) if o.get("found") else ("+y", "+z")
                outcome = "right" if got == (up, forward) else "wrong"
                message = ""
            except FacerigError as e:
                got, outcome, message = None, "refused", str(e)
            sec = round(time.perf_counter() - t0, 2)
            rows.append(
                {"head": name, "turn": turn, "outcome": outcome, "axes": got, "seconds": sec, "message": message}
            )
            print(f"{name:28s} {turn:8s} {outcome:8s} {got} {sec:.1f}s {message[:100]}", flush=True)
    turned = [r for r in rows if r["turn"] != "upright"]
    summary = {k: sum(r["outcome"] == k for r in turned) for k in ("right", "refused", "wrong")}
    summary["upright_right"] = sum(r["outcome"] == "right" for r in rows if r["turn"] == "upright")
    summary["upright"] = sum(r["turn"] == "upright" for r in rows)
    print(summary)
    write_result("turned_heads", args.tag, {"summary": summary, "runs": rows}, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Folds before / after :func:`facerig.models.finish.untangle_folds` on the public heads (benchmark, not a test).

Each head (the two external rigs, every ``heads/*.obj``) is rigged once with ``rig_mesh(...,
untangle=False)``; the rig's finish step is then applied to those deltas (it is the last step of
``rig_mesh`` before the ARKit padding, so this is the rig ``facerig rig`` writes) and timed.
Per head: triangles turned over (posed normal against the neutral one,
:func:`facerig.geometry.untangle.folded_faces`) summed over all shapes, each shape posed alone,
for the author's rig (where the head has one), facerig's before and after, also as posed
(``*_posed``: blinks left out, mouthClose on top of jawOpen); the ``folds`` value
of ``facerig check`` (worst shape, skin area / S^2) before and after; and, against the author's
shapes, the mean relative error of ``benchmarks/out_of_family.py`` before and after.

Run: ``FACERIG_DATA=... python benchmarks/untangle_folds.py [--heads a,b] [--ict] [--out FILE]``
(``--ict``: also the ICT neutral, 26,719 vertices, and its ~60k remesh of ``bench_rig_speed.py``,
for the step's time on large heads)
-> ``benchmarks/results/untangle_folds.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _meta import run_meta  # noqa: E402
from out_of_family import author_heads  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "untangle_folds.json"


def _heads() -> list[dict]:
    from facerig.config import data_root
    from facerig.io import read_mesh

    data = Path(data_root())
    heads = author_heads(data)
    have = {h["name"] for h in heads}
    for p in sorted((data / "heads").glob("*.obj")):
        if p.stem not in have:
            m = read_mesh(p)
            heads.append({"name": p.stem, "vertices": np.asarray(m.vertices), "faces": np.asarray(m.faces)})
    return heads


def _folds_check(v, f, names, deltas) -> tuple[float | None, str | None]:
    from facerig.eval.check import check_rig
    from facerig.io.rig import Rig

    res = check_rig(Rig(names=list(names), deltas=deltas, neutral=v, faces=f), checks=("folds",))
    s = res["summary"]["folds"]
    return s["worst"], s["worst_shape"]


def face_size(v: np.ndarray, rig) -> float | None:
    """The face size ``rig_mesh`` gives the untangle step (its falloff's), for vertices (V, 3)."""
    from facerig.models.finish import face_falloff

    size = (rig.meta.get("falloff") or {}).get("face_size")
    return size or face_falloff(v, rig.deltas, list(rig.names))[1].get("face_size")


def posed_flips(v: np.ndarray, f: np.ndarray, deltas: np.ndarray, names) -> int:
    """Folded triangles summed over the shapes as they are posed: blinks left out (authors tuck
    the lid into its crease), mouthClose on top of jawOpen (ARKit's definition)."""
    from facerig.geometry.untangle import folded_faces

    names = list(names)
    d = np.array(deltas, np.float32, copy=True)
    if "mouthClose" in names and "jawOpen" in names:
        d[names.index("mouthClose")] += d[names.index("jawOpen")]
    keep = [k for k, n in enumerate(names) if n not in ("eyeBlinkLeft", "eyeBlinkRight")]
    return int(folded_faces(v, f, d[keep]).sum())


def run_head(head: dict) -> dict:
    from facerig.eval.metrics import shape_errors
    from facerig.geometry.untangle import folded_faces
    from facerig.io.mesh import Mesh
    from facerig.io.validate import validate_mesh
    from facerig.models import finish
    from facerig.models.registry import rig_mesh

    v = np.asarray(head["vertices"], np.float64)
    f = np.asarray(head["faces"], np.int64)
    mesh = validate_mesh(Mesh(vertices=v, faces=f), None, allow_degenerate=True, allow_unreferenced=True)
    t0 = time.perf_counter()
    rig = rig_mesh(mesh, "raf", head_check=False, untangle=False)
    rig_s = time.perf_counter() - t0
    size = face_size(v, rig)
    t0 = time.perf_counter()
    after, info = finish.untangle_folds(v, f, rig.deltas, list(rig.names), size)
    untangle_s = time.perf_counter() - t0
    row = {
        "head": head["name"],
        "vertices": len(v),
        "rig_seconds": round(rig_s, 2),
        "untangle_seconds": round(untangle_s, 3),
        "facerig_flips_before": int(folded_faces(v, f, rig.deltas).sum()),
        "facerig_flips_after": int(folded_faces(v, f, after).sum()),
        "facerig_flips_posed_before": posed_flips(v, f, rig.deltas, rig.names),
        "facerig_flips_posed_after": posed_flips(v, f, after, rig.names),
    }
    row["untangled"] = info
    for tag, d in (("before", rig.deltas), ("after", after)):
        worst, shape = _folds_check(v, f, rig.names, d)
        row[f"check_folds_{tag}"] = None if worst is None else round(worst, 4)
        row[f"check_folds_{tag}_shape"] = shape
    per = {}
    for k, n in enumerate(rig.names):
        fb, fa = folded_faces(v, f, rig.deltas[k]).sum(), folded_faces(v, f, after[k]).sum()
        if fb or fa:
            per[n] = [int(fb), int(fa)]
    row["per_shape_flips_before_after"] = per
    if "deltas" in head:
        index = {n: i for i, n in enumerate(rig.names)}
        keep = [k for k, n in enumerate(head["names"]) if n in index and np.abs(head["deltas"][k]).max() > 0]
        gt = head["deltas"][keep]
        row["author_flips"] = int(folded_faces(v, f, head["deltas"]).sum())
        row["author_flips_posed"] = posed_flips(v, f, head["deltas"], head["names"])
        for tag, d in (("before", rig.deltas), ("after", after)):
            pred = d[[index[head["names"][k]] for k in keep]]
            e = shape_errors(pred, gt, head["mm_per_unit"])
            row[f"relative_{tag}"] = round(float(np.nanmean(e["relative"])), 4)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heads", default=None, help="comma-separated head names (default all)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--ict", action="store_true", help="also the heads of bench_rig_speed.py (ICT 27k and ~60k)")
    a = ap.parse_args(argv)
    heads = _heads()
    if a.heads:
        want = a.heads.split(",")
        heads = [h for h in heads if h["name"] in want]
    if a.ict:
        import tempfile

        from bench_rig_speed import _heads as speed_heads
        from facerig.io import read_mesh

        with tempfile.TemporaryDirectory() as tmp:
            for label, path in speed_heads(Path(tmp)):
                m = read_mesh(path)
                heads.append({"name": label, "vertices": np.asarray(m.vertices), "faces": np.asarray(m.faces)})
    rows = []
    for h in heads:
        r = run_head(h)
        rows.append(r)
        print(
            f"{r['head']:28s} V={r['vertices']:6d} flips author {r.get('author_flips', '-')!s:>5} facerig "
            f"{r['facerig_flips_before']:5d} -> {r['facerig_flips_after']:5d}  posed: author "
            f"{r.get('author_flips_posed', '-')!s:>5} facerig {r['facerig_flips_posed_before']:5d} -> "
            f"{r['facerig_flips_posed_after']:5d}  check folds "
            f"{r['check_folds_before']} -> {r['check_folds_after']}  rel {r.get('relative_before', '-')} -> "
            f"{r.get('relative_after', '-')}  untangle {r['untangle_seconds']:.2f}s of rig {r['rig_seconds']:.1f}s",
            flush=True,
        )
    out = {"meta": run_meta(script="benchmarks/untangle_folds.py"), "heads": rows}
    Path(a.out).write_text(json.dumps(out, indent=1))
    print("wrote", a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

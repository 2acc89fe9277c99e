"""Where jawOpen jumps when the face frame moves a little (issue 24): the discrete decisions of the
``raf`` rig near their thresholds, on one head (default ``heads/weboji_facecustom_human``, whose
rig moved 35 mm under 0.01-mm noise in ``rig_stability_s8proxy.json``).

Two parts:

- ``frame``: the face-frame factor forced to each of ``--factors`` (``face_frame_factor``
  patched in :mod:`facerig.models.raf.method`), rigged per stage: ``network`` (face frame only:
  no mouth amplitude, eyelids or jaw step), ``amplitude`` (+ mouth amplitude), ``full`` (what
  ``facerig rig`` does). Per stage and factor: jawOpen's largest vertex motion (mm), the jaw
  step's decision (mouth kind, status, network opening) and the mouth-amplitude factors; the
  largest change of jawOpen between neighbouring factors shows where it jumps.
- ``noise``: the head moved by uniform noise of +-``--noise`` mm (``--seeds`` draws), rigged as
  ``facerig rig`` does: the head check's own score (:func:`face_check_score`, the pitch search
  runs past its warn limit), the pitch taken (or blended), and jawOpen's largest change against
  the head's own rig (mm).

    nice python benchmarks/jaw_stability.py [--tag T] [--head NAME] [--factors 0.98,...] [--seeds 2]

writes ``benchmarks/results/jaw_stability[_T].json``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _meta import write_result

OFF = {"mouth_amplitude": False, "close_eyes": False, "open_mouth": False}
STAGES = {"network": OFF, "amplitude": {**OFF, "mouth_amplitude": True}, "full": {}}


def _rig(mesh, options: dict, factor: float | None = None):
    """rig_raf with the face-frame factor forced (None: measured); returns (output, own scores seen)."""
    import facerig.models.raf.method as method
    from facerig.models.raf.probe import face_check_score

    orig_factor, orig_check = method.face_frame_factor, method.face_check
    scores: list[float] = []

    def check(lm, *a, **k):
        scores.append(round(float(face_check_score(lm)), 4))
        return orig_check(lm, *a, **k)

    method.face_check = check
    if factor is not None:
        method.face_frame_factor = lambda lm: float(factor)
    try:
        return method.rig_raf(mesh, threads=1, **options), scores
    finally:
        method.face_frame_factor, method.face_check = orig_factor, orig_check


def _jaw_row(out, mm: float) -> dict:
    raf = out.meta["raf"]
    k = out.names.index("jawOpen")
    row = {"jawOpen_max_mm": round(float(np.linalg.norm(out.deltas[k], axis=1).max() * mm), 3)}
    jaw = raf.get("jaw") or {}
    row["jaw"] = {
        key: jaw[key] for key in ("mouth", "status", "network_opening", "angle_deg", "opening_after") if key in jaw
    }
    amp = raf.get("mouth_amplitude") or {}
    if "factors" in amp:
        row["mouth_amplitude"] = amp["factors"]
    for key in ("pitched_deg", "pitch_blend"):
        if key in raf:
            row[key] = raf[key]
    if "pitch_search" in raf:
        row["pitch_search_own"] = raf["pitch_search"]["own"]
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tag", default="")
    ap.add_argument("--head", default="weboji_facecustom_human")
    ap.add_argument("--factors", default="0.98,0.99,0.995,1.0,1.005,1.01,1.016,1.02,1.03")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--noise", type=float, default=0.01)
    args = ap.parse_args(argv)
    from facerig.config import data_root
    from facerig.io import read_mesh
    from facerig.io.mesh import Mesh

    path = data_root() / "heads" / args.head
    mesh = read_mesh(path.with_suffix(".obj"))
    mm = float(np.load(path.with_suffix(".blendshapes.npz"))["mm_per_unit"])
    factors = [float(x) for x in args.factors.split(",") if x]
    frame: dict = {}
    for stage in [s for s in args.stages.split(",") if s]:
        rows, prev = [], None
        for f in factors:
            t = time.perf_counter()
            out, _ = _rig(mesh, STAGES[stage], f)
            row = {"factor": f, **_jaw_row(out, mm), "seconds": round(time.perf_counter() - t, 2)}
            jaw = out.deltas[out.names.index("jawOpen")]
            if prev is not None:
                row["jawOpen_change_from_previous_mm"] = round(float(np.linalg.norm(jaw - prev, axis=1).max() * mm), 3)
            prev = jaw
            rows.append(row)
            print(stage, row, flush=True)
        frame[stage] = rows
    base, scores = _rig(mesh, {})
    noise = [{"seed": None, "own_scores": scores, **_jaw_row(base, mm)}]
    print(noise[0], flush=True)
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        v = mesh.vertices + rng.uniform(-args.noise / mm, args.noise / mm, mesh.vertices.shape)
        out, scores = _rig(Mesh(v, mesh.faces), {})
        d = np.linalg.norm(out.deltas - base.deltas, axis=2) * mm
        row = {"seed": seed, "own_scores": scores, **_jaw_row(out, mm)}
        row["change_max_mm"] = round(float(d.max()), 3)
        row["jawOpen_change_mm"] = round(float(d[out.names.index("jawOpen")].max()), 3)
        noise.append(row)
        print(row, flush=True)
    result = {"head": args.head, "mm_per_unit": mm, "noise_mm": args.noise, "frame": frame, "noise": noise}
    write_result("jaw_stability", args.tag, result, argv)


if __name__ == "__main__":
    main()

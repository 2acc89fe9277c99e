"""A head that nods (pitched 5-20 degrees about its left-right axis): the pitch at which the network
sees a face.

The mirror plane levels a head turned or rolled (:mod:`facerig.geometry.symmetry`), but a nod turns
the head within its mirror plane: no symmetry tells it. The network does, on the heads where it
matters: it was trained on upright heads, and a face mask pitched 10-15 degrees gets a face probe
whose eyes are not level (``benchmarks/robustness_sweep.py``: the rig came with an orientation
warning), the same mask upright a plausible one. So where the face probe finds an odd face or none
(:func:`facerig.models.raf.probe.face_check` ``warn`` or ``error``), :func:`find_pitch` runs the
probe on the head pitched by each of :data:`PITCHES` (one decimation and one eigenbasis for all:
a rotation changes no length, as in :func:`~facerig.models.raf.probe.suggest_orientation`) and
picks the pitch whose face is plausible (``ok``) and scores best
(:func:`~facerig.models.raf.probe.face_check_score`), if it scores clearly better
(:data:`MIN_GAIN`) than the face in the head's own pitch and as well as most upright heads' faces
(:data:`MAX_SCORE`). A head whose face the probe finds
plausible is never pitched, so every rig that came without a warning stays as it was.
"""

from __future__ import annotations

import numpy as np

from facerig.geometry.frame import pitch_matrix

#: Pitches tried (degrees about +X; positive turns the face down), nearest first.
PITCHES = (-10.0, 10.0, -15.0, 15.0, -20.0, 20.0)

#: A pitch is taken only when its face scores at most this fraction of the head's own face's
#: :func:`~facerig.models.raf.probe.face_check_score` (an ``ok`` face scores below 1)...
MIN_GAIN = 0.7

#: ...and at most this: a face as plausible as most upright heads' (25 of the 26 validation heads
#: score below it, median 0.2; a face mask pitched 10-20 degrees scores 0.15 pitched back). The
#: creatures and the robot of the public heads, whose upright faces the probe finds odd, find
#: mediocre faces at some pitch (0.50-0.64), and rigged there the triceratops's rig moved away from
#: its author's (``benchmarks/out_of_family.py --raf-option pitch=20``, ``out_of_family_pitch20.json``:
#: relative 0.823 -> 0.848, scale-invariant 0.718 -> 0.820).
MAX_SCORE = 0.45


def probe_pitches(
    model, xyz: np.ndarray, faces: np.ndarray, pitches=PITCHES, threads: int | None = None, probe_vertices=None
) -> list:
    """The face probe on a prepared head (normalised proxy xyz (P, 3), faces (F, 3), +Y up, face
    toward +Z) pitched by each of ``pitches``: ``[(deg, check, score), ...]`` in that order
    (:func:`~facerig.models.raf.probe.face_check`,
    :func:`~facerig.models.raf.probe.face_check_score`). ``probe_vertices``: the probe mesh's size
    (:func:`~facerig.models.raf.probe.probe_mesh`'s ``target``; 0: the head as it is)."""
    from facerig.geometry.operators import compute_operators
    from facerig.geometry.proxy import head_frame
    from facerig.models.raf.probe import _probe_pass, face_check, face_check_score, probe_mesh

    x0, f0 = probe_mesh(xyz, faces, probe_vertices)
    ops0 = compute_operators(x0, f0, k=model.k_eig, cache=False)
    rows = []
    for deg in pitches:
        x = x0 @ pitch_matrix(deg).T
        center, scale = head_frame(x)
        lm = _probe_pass(model, (x - center) / scale, f0, ops0.rescaled(scale), threads)
        rows.append((float(deg), face_check(lm)[0], float(face_check_score(lm))))
    return rows


def choose_pitch(rows: list, own_score: float) -> float | None:
    """The pitch of :func:`probe_pitches`' ``rows`` to rig at, or None (module doc): the best
    scoring ``ok`` face (ties: the earlier row, the smaller pitch), if it scores at most
    :data:`MIN_GAIN` times ``own_score`` (the face found in the head's own pitch) and at most
    :data:`MAX_SCORE`."""
    ok = [r for r in rows if r[1] == "ok" and np.isfinite(r[2])]
    if not ok:
        return None
    best = min(ok, key=lambda r: r[2])
    own = float(own_score) if np.isfinite(own_score) else np.inf
    return best[0] if best[2] <= min(MIN_GAIN * own, MAX_SCORE) else None


def find_pitch(
    model, xyz: np.ndarray, faces: np.ndarray, own_score: float, threads: int | None = None, probe_vertices=None
):
    """``(pitch in degrees or None, rows)``: :func:`choose_pitch` of :func:`probe_pitches`."""
    rows = probe_pitches(model, xyz, faces, threads=threads, probe_vertices=probe_vertices)
    return choose_pitch(rows, own_score), rows

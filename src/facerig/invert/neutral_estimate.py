"""Invert a sequence without its neutral through an estimated neutral.

Every capture pipeline (and NFR's inverse rigging) solves posed meshes through a rig of the
neutral. Without one, a *sequence* of frames in one topology still carries it: most takes pass
near rest, and a face's expressions are offsets along a few shapes from it. So:

1. **pick**: the frame nearest the per-vertex median of the sequence (``pick="medoid"``, the
   default: no network) or the frame the expression encoder reads as least active (``"encoder"``:
   smallest sum of weights over at most ``pick_frames`` evenly spaced frames);
2. **rig** it with facerig (``rig_mesh``, as :func:`facerig.invert.invert_meshes` does for a given
   neutral) and solve every frame through that rig;
3. **shift** (``shift=True``): the picked frame may itself be a little active (the jaw a bit open),
   which the bounded solve cannot see (it would need negative weights). The frames are solved once
   with signed weights in [-1, 1] (the rig's shapes doubled about ``neutral - sum_k D_k``) and the
   neutral moves to ``n + sum_k q_k D_k`` with ``q_k`` the shape's low ``shift_quantile`` over the
   frames, clipped to <= 0: the least active the sequence ever gets along each shape;
4. **refine** (``refine`` rounds): the neutral as the least-squares ``mean_t(frame_t - D w_t)``
   given the weights, then the weights again. The rig's deltas ``D`` are kept from the first rig
   and only the neutral's positions move: a rig's deltas change smoothly with the head's shape and
   the neutral moves by an expression offset (millimetres), while re-rigging costs a whole rig
   (2-4 s at 27k vertices) per round and changes the basis the weights are measured in; so every
   round is one (K, 3V) product plus a weight-space solve.

5. **level** (``level="encoder"``, the default): weights relative to a frame miss that frame's own
   activation (takes rarely pass through exact rest). The expression encoder reads absolute but noisy
   weights; averaged over ``level_frames`` frames, ``mean_t(encoder_t - w_t)`` (clipped to >= 0) is
   each shape's level, added to every frame's weights and taken off the neutral (``neutral - sum_k
   level_k D_k``: the returned neutral is the estimated rest face). Motion from the rig, level from
   the encoder.

Defaults (``pick="medoid"``, ``shift=False``, ``refine=0``) are what measured best
(``benchmarks/neutral_estimate.py``): on frames posed through a rig other than facerig's, the signed
solve's low quantiles and the least-squares update both pick up the rig mismatch and moved the neutral
the wrong way (weight error up); on an exact rig the shift recovers the neutral exactly (tests).

The weights are **relative to the estimated neutral** (``EstimatedInversion.neutral``): with
``level=None`` that is the picked (shifted, refined) frame, whose own activation reads as 0; with the
encoder's level it is that frame less the level, an estimate of the rest face, as good as the
encoder's average reading. A single mesh has nothing to estimate from and
keeps the encoder (:func:`facerig.invert.pipeline.invert_meshes`). Accuracy and time against the
encoder: ``facerig eval --task invert`` rows ``<case> (no neutral)``, keys ``*_estimated``
(BENCHMARKS.md, "Invert a sequence through an estimated neutral").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from facerig.errors import FacerigError
from facerig.invert.pipeline import Inversion
from facerig.invert.prior import DEFAULT_PRIOR

#: frames the encoder reads to pick the starting neutral (evenly spaced over the sequence)
PICK_FRAMES = 32
#: the low quantile (over frames) of each shape's signed weight that sets the neutral's shift
SHIFT_QUANTILE = 0.02
#: least-squares neutral updates (``refine=``) when asked for
REFINE_ROUNDS = 2
#: frames the encoder reads to set the weights' level (evenly spaced over the sequence)
LEVEL_FRAMES = 64


@dataclass
class EstimatedInversion(Inversion):
    """:class:`facerig.invert.pipeline.Inversion` through an estimated neutral.

    Attributes (beside Inversion's):
        neutral: (V, 3) the estimated neutral the weights are relative to.
        start_frame: the frame rigged as the first estimate.
        shift: (K,) the per-shape offset (<= 0, rig order) the shift step moved the neutral by.
        level: (52,) the per-shape level (ARKit order, >= 0) the encoder added to the weights.
    """

    neutral: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    start_frame: int = 0
    shift: np.ndarray = field(default_factory=lambda: np.zeros(0))
    level: np.ndarray = field(default_factory=lambda: np.zeros(52))


def pick_start_frame(frames, faces: np.ndarray, *, pick: str = "encoder", pick_frames: int = PICK_FRAMES, model=None):
    """The frame to rig as the first neutral estimate.

    Args:
        frames: (T, V, 3) posed vertices or a :class:`facerig.invert.frames.Frames`.
        faces: (F, 3) triangles.
        pick: ``"encoder"`` (least summed encoder weight over ``pick_frames`` evenly spaced frames) or
            ``"medoid"`` (the frame nearest the per-vertex median of the frames).

    Returns:
        ``(t, seconds)``.
    """
    from facerig.invert.frames import Frames

    Y = frames if isinstance(frames, Frames) else Frames.from_array(frames)
    T = Y.num_frames
    t0 = time.perf_counter()
    idx = np.unique(np.linspace(0, T - 1, min(T, max(1, pick_frames))).round().astype(int))
    sub = np.stack([np.asarray(Y.block(int(t), int(t) + 1), np.float64).reshape(-1, 3) for t in idx])
    if pick == "encoder":
        from facerig.models.encoder.runtime import encode_frames

        W = encode_frames(sub, faces, model=model)
        best = int(idx[int(np.argmin(W.sum(1)))])
    elif pick == "medoid":
        med = np.median(sub, axis=0)
        best = int(idx[int(np.argmin(((sub - med[None]) ** 2).sum(axis=(1, 2))))])
    else:
        raise FacerigError(f"pick must be 'encoder' or 'medoid', got {pick!r}")
    return best, time.perf_counter() - t0


def _signed_offsets(prep, C: np.ndarray, quantile: float, threads) -> np.ndarray:
    """(K,) the low ``quantile`` over frames of each shape's weight solved in [-1, 1], clipped to <= 0.

    Args:
        prep: :class:`facerig.invert.solver.Prepared` of the rig at the current neutral.
        C: (T, K) ``B y_t`` (the frames' raw projections onto the rig's deltas, neutral-free).
    """
    from facerig.invert.solver import prepare, solve

    K = prep.num_shapes
    V = prep.num_vertices
    B = prep.basis
    low = prep.neutral - B.sum(0)  # every shape at -1
    # weights z in [0, 1] on 2 D about neutral - sum D: s = 2 z - 1 in [-1, 1] on D about the neutral
    signed = prepare(SimpleNamespace(names=prep.names, deltas=(2.0 * B).reshape(K, V, 3), neutral=low.reshape(V, 3)))
    Z = solve(signed, projected=2.0 * (C - (B @ low)[None]), threads=threads)
    S = 2.0 * Z - 1.0
    return np.minimum(np.quantile(S, quantile, axis=0), 0.0)


def invert_with_estimated_neutral(
    frames,
    faces: np.ndarray,
    *,
    method: str = "raf",
    rig_options: dict | None = None,
    pick: str = "medoid",
    pick_frames: int = PICK_FRAMES,
    shift: bool = False,
    shift_quantile: float = SHIFT_QUANTILE,
    refine: int = 0,
    level: str | None = "encoder",
    level_frames: int = LEVEL_FRAMES,
    l1: float = 0.0,
    smooth: float = 0.0,
    symmetry: float = 0.0,
    prior=DEFAULT_PRIOR,
    prior_strength: float | None = None,
    prior_tolerance: float | None = None,
    residual: bool = True,
    threads: int | None = None,
    model=None,
    rig=None,
) -> EstimatedInversion:
    """ARKit-52 weights of a sequence without its neutral (see the module doc).

    Args:
        frames: (T, V, 3) posed vertices of one mesh (T >= 2), or a :class:`facerig.invert.frames.Frames`.
        faces: (F, 3) the frames' triangles.
        method, rig_options: how to rig the picked frame (``rig_mesh``).
        pick, pick_frames: :func:`pick_start_frame`.
        shift, shift_quantile: the signed-weight shift of the neutral; refine: least-squares rounds.
        level: ``"encoder"``: add the per-shape level the expression encoder reads over ``level_frames``
            evenly spaced frames (step 5 of the module doc); None: weights relative to the estimate.
        l1, smooth, symmetry, prior, prior_strength, prior_tolerance, threads: the final solve's
            options (:func:`facerig.invert.solver.solve`); the estimation's solves use none.
        residual: also compute per-frame fit residuals against the estimated neutral's rig.
        model: the encoder for ``pick="encoder"`` (default: the installed weights).
        rig: a rig to use instead of rigging the picked frame (its deltas; tests, benchmarks).

    Returns:
        :class:`EstimatedInversion` (``weights`` (T, 52) relative to ``neutral`` (V, 3);
        ``seconds``: ``pick``, ``rig``, ``estimate``, ``solve``, ``residual``).
    """
    from facerig.invert import solver
    from facerig.invert.frames import Frames
    from facerig.invert.prior import resolve_prior
    from facerig.io.mesh import Mesh

    prior = resolve_prior(prior)
    Y = frames if isinstance(frames, Frames) else Frames.from_array(frames)
    T, V = Y.num_frames, Y.num_vertices
    if T < 2:
        raise FacerigError("estimating the neutral needs a sequence (2 or more frames); one mesh: the encoder")
    faces = np.asarray(faces, np.int64)
    if faces.ndim != 2 or faces.shape[1] != 3 or (faces.size and (faces.min() < 0 or faces.max() >= V)):
        raise FacerigError(f"faces must be (F, 3) indices below {V}, got {faces.shape}")
    if Y.dense is not None:
        bad = ~np.isfinite(Y.dense).all(axis=(1, 2))
        if bad.any():
            t = int(np.flatnonzero(bad)[0])
            raise FacerigError(f"frame {t} ({Y.labels[t]}): NaN or infinite vertex coordinates")
    sec: dict[str, float] = {}
    start, sec["pick"] = pick_start_frame(Y, faces, pick=pick, pick_frames=pick_frames, model=model)
    n = np.asarray(Y.block(start, start + 1), np.float64).reshape(V, 3)
    t0 = time.perf_counter()
    if rig is None:
        from facerig.models.registry import rig_mesh

        rig = rig_mesh(Mesh(vertices=n, faces=faces), method=method, **(rig_options or {}))
    if rig.num_vertices != V:
        raise FacerigError(f"the rig has {rig.num_vertices} vertices, the frames {V}")
    t1 = time.perf_counter()
    sec["rig"] = t1 - t0
    prep = solver.prepare(rig, n)
    B = prep.basis
    raw = solver.projections(SimpleNamespace(basis=B, basis_neutral=np.zeros(len(B)), num_vertices=V), Y)
    mean_frame = _mean_frame(Y)
    q = np.zeros(prep.num_shapes)

    def at(neutral_flat):
        prep.neutral = neutral_flat
        prep.basis_neutral = B @ neutral_flat
        return raw - prep.basis_neutral[None]

    if shift:
        q = _signed_offsets(prep, raw, shift_quantile, threads)
        at(prep.neutral + q @ B)
    for _ in range(max(0, int(refine))):
        W = solver.solve(prep, projected=raw - prep.basis_neutral[None], threads=threads)
        at(mean_frame - W.mean(0) @ B)
    t2 = time.perf_counter()
    sec["estimate"] = t2 - t1
    C = raw - prep.basis_neutral[None]
    energy = None
    if prior is not None:
        energy = solver.motion_energy(prep, Y)
    Wk = solver.solve(
        prep,
        projected=C,
        energy=energy,
        l1=l1,
        smooth=smooth,
        symmetry=symmetry,
        prior=prior,
        prior_strength=prior_strength,
        prior_tolerance=prior_tolerance,
        threads=threads,
    )
    t3 = time.perf_counter()
    sec["solve"] = t3 - t2
    W52 = solver.rig_weights_to_arkit(prep.names, Wk)
    offset = np.zeros(52)
    if level == "encoder":
        from facerig.models.encoder.runtime import encode_frames

        idx = np.unique(np.linspace(0, T - 1, min(T, max(1, level_frames))).round().astype(int))
        sub = np.stack([np.asarray(Y.block(int(t), int(t) + 1), np.float64).reshape(-1, 3) for t in idx])
        enc = encode_frames(sub, faces, model=model).astype(np.float64)
        offset = np.clip((enc - W52[idx]).mean(0), 0.0, 1.0)
        W52 = np.clip(W52 + offset[None], 0.0, 1.0)
        off_rig = solver.arkit_to_rig_weights(prep.names, offset[None])[0]
        Wk = np.clip(Wk + off_rig[None], 0.0, 1.0)
        at(prep.neutral - off_rig @ B)  # the rest face the levelled weights are measured from
    elif level is not None:
        raise FacerigError(f"level must be 'encoder' or None, got {level!r}")
    t4 = time.perf_counter()
    sec["level"] = t4 - t3
    res = solver.residuals(prep, Y, Wk) if residual else {}
    sec["residual"] = time.perf_counter() - t4
    neutral = prep.neutral.reshape(V, 3).copy()
    from facerig.io.rig import Rig

    est_rig = Rig(names=list(prep.names), deltas=np.asarray(rig.deltas), neutral=neutral, faces=faces)
    return EstimatedInversion(
        weights=W52,
        rig_weights=Wk,
        rig=est_rig,
        residual=res,
        seconds=sec,
        neutral=neutral,
        start_frame=start,
        shift=q,
        level=offset,
    )


def _mean_frame(Y, chunk: int = 256) -> np.ndarray:
    """(3V,) the per-vertex mean of the frames (:class:`facerig.invert.frames.Frames`)."""
    acc = np.zeros(3 * Y.num_vertices)
    for s in range(0, Y.num_frames, chunk):
        acc += np.asarray(Y.block(s, s + chunk), np.float64).reshape(-1, acc.size).sum(0)
    return acc / Y.num_frames

"""Invert posed meshes to ARKit-52 weights and retarget them to another head.

- :func:`invert_meshes`: frames (T, V, 3) + a neutral (or a rig) -> :class:`Inversion` (weights
  (T, 52), the rig used, per-frame fit residuals).
- :func:`retarget`: (T, 52) weights -> (T, K) weights of a target rig (matched by ARKit name).
- :func:`rig_for`: a rig for a head (its own rig file, else facerig's rig of the mesh).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facerig.errors import FacerigError
from facerig.invert.prior import DEFAULT_PRIOR

#: rig file suffixes (a folder is an OBJ rig folder)
RIG_SUFFIXES = (".npz",)


def _read_rig(path: str | os.PathLike):
    """Rig file -> (Rig, Mesh or None), through the one rig loader (:mod:`facerig.io.rigfile`)."""
    from facerig.io.rigfile import read_rig_and_mesh

    rig, mesh = read_rig_and_mesh(path)
    if len(rig.names) == 0:
        raise FacerigError(f"{path}: the file has no blendshapes (not a rig)")
    return rig, mesh


def is_rig_path(path: str | os.PathLike) -> bool:
    """True for a rig file (``.npz``, an OBJ rig folder, a .glb/.gltf with morph targets), False for
    a plain mesh."""
    p = Path(path)
    if p.is_dir():
        return (p / "rig.json").exists()
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return True
    if suffix in (".glb", ".gltf") and p.exists():
        from facerig.io.gltf import read_gltf_document

        doc, _ = read_gltf_document(p)
        return any(pr.get("targets") for m in doc.get("meshes") or [] for pr in m.get("primitives", []))
    return False


def rig_for(head: str | os.PathLike, *, method: str = "raf", **options):
    """A rig for ``head``: its own rig when ``head`` is a rig file, else ``rig_mesh`` of the mesh.

    Returns:
        ``(rig, mesh or None, how)`` with ``how`` ``"own rig"`` or ``"facerig <method>"``.
    """
    if is_rig_path(head):
        rig, mesh = _read_rig(head)
        return rig, mesh, "own rig"
    from facerig.io import load_mesh
    from facerig.models.registry import rig_mesh

    mesh = load_mesh(head, allow_degenerate=True)
    return rig_mesh(mesh, method=method, **options), mesh, f"facerig {method}"


@dataclass
class Inversion:
    """What :func:`invert_meshes` returns.

    Attributes:
        weights: (T, 52) ARKit-order weights in [0, 1] (shapes the rig lacks: 0).
        rig_weights: (T, K) the same in the rig's shape order.
        rig: the rig solved through.
        residual: per-frame fit errors in mesh units (``mean``, ``rms``, ``max``, ``motion_rms``),
            see :func:`facerig.invert.solver.residuals`; empty unless asked for.
        seconds: ``{"prepare", "solve", "residual"}`` timings.
    """

    weights: np.ndarray
    rig_weights: np.ndarray
    rig: object
    residual: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def invert_meshes(
    frames,
    neutral: np.ndarray | None = None,
    *,
    rig=None,
    mesh=None,
    method: str = "raf",
    l1: float = 0.0,
    smooth: float = 0.0,
    symmetry: float = 0.0,
    residual: bool = True,
    rig_options: dict | None = None,
    faces: np.ndarray | None = None,
    prior=DEFAULT_PRIOR,
    prior_strength: float | None = None,
    prior_tolerance: float | None = None,
    threads: int | None = None,
    neutral_estimate: bool | None = None,
) -> Inversion:
    """ARKit-52 weights of posed meshes.

    Without a neutral (``neutral``, ``rig`` and ``mesh`` all None; needs ``faces``) a sequence (2+
    frames) is solved through facerig's rig of an estimated neutral, levelled by the expression
    encoder (:mod:`facerig.invert.neutral_estimate`); one mesh, or ``neutral_estimate=False``, or a
    sequence facerig cannot rig (by default only), gets the learned expression encoder's reading of the
    posed meshes themselves (:func:`facerig.models.encoder.runtime.encode_frames`): no rig, no
    residuals. Both are less accurate than solving through a rig of the true neutral
    (``facerig eval --task invert``, no-neutral rows).

    Args:
        frames: (T, V, 3) posed vertices in the neutral's vertex order ((V, 3): one frame), or a
            :class:`facerig.invert.frames.Frames` (e.g. from :func:`facerig.invert.read_frames`).
        neutral: (V, 3) the unposed head (default ``rig.neutral``).
        rig: a :class:`facerig.io.rig.Rig` of the neutral (same V); None: ``rig_mesh(mesh or
            Mesh(neutral), method)``.
        mesh: the neutral as a :class:`facerig.io.mesh.Mesh` (faces are needed to rig it).
        l1, smooth, symmetry: solver terms (:mod:`facerig.invert.solver`).
        residual: also compute per-frame fit residuals.
        rig_options: extra options for ``rig_mesh``.
        faces: (F, 3) the frames' triangles (the no-neutral path only).
        prior: a co-activation prior (default ``"take"``: the shipped one fitted on a real Live Link
            Face take, :mod:`facerig.invert.prior`; a prior .npz; None: none) and its
            ``prior_strength`` (default :data:`facerig.invert.prior.DEFAULT_STRENGTH`). Frames the rig
            rebuilds exactly keep their weights whatever the prior. ``prior_tolerance``: how much the prior
            may raise a frame's squared residual over the prior-free fit's (default
            :data:`facerig.invert.prior.DEFAULT_TOLERANCE`; ``inf``: unbounded).
        threads: BLAS threads for the solve's weight-space part (:func:`facerig.invert.solver.solve`;
            None leaves BLAS as it is).
        neutral_estimate: without a neutral, a sequence (2+ frames) through an estimated neutral
            (:mod:`facerig.invert.neutral_estimate`; the estimate is ``EstimatedInversion.neutral``):
            None (default): when the sequence can be rigged, else the encoder; True: always (a
            rigging failure raises); False: the encoder. One mesh keeps the encoder.

    Returns:
        :class:`Inversion`.
    """
    import time

    from facerig.invert import solver
    from facerig.invert.frames import Frames
    from facerig.invert.prior import resolve_prior

    prior = resolve_prior(prior)  # a bad prior fails before any work
    Y = frames if isinstance(frames, Frames) else Frames.from_array(frames)
    if neutral is None and rig is None and mesh is None:
        if neutral_estimate is not False and Y.num_frames >= 2 and faces is not None:
            from facerig.invert.neutral_estimate import invert_with_estimated_neutral

            estimate = functools.partial(
                invert_with_estimated_neutral,
                Y,
                faces,
                method=method,
                rig_options=rig_options,
                l1=l1,
                smooth=smooth,
                symmetry=symmetry,
                prior=prior,
                prior_strength=prior_strength,
                prior_tolerance=prior_tolerance,
                residual=residual,
                threads=threads,
            )
            if neutral_estimate:
                return estimate()
            try:
                return estimate()
            except FacerigError:  # facerig cannot rig it (not a head ...): the encoder reads it still
                pass
        return _invert_without_neutral(Y, faces)
    if neutral is None:
        neutral = mesh.vertices if mesh is not None else rig.neutral
    neutral = np.asarray(neutral, dtype=np.float64)
    V = neutral.shape[0]
    if Y.dense is not None and (Y.dense.ndim != 3 or Y.dense.shape[2] != 3):
        raise FacerigError(f"frames must be (T, V, 3), got {Y.dense.shape}")
    if Y.num_vertices != V:
        raise FacerigError(f"frames have {Y.num_vertices} vertices, the neutral has {V}")
    if not np.isfinite(neutral).all():
        raise FacerigError("the neutral has NaN or infinite coordinates")
    if Y.dense is not None:
        bad = ~np.isfinite(Y.dense).all(axis=(1, 2))
        if bad.any():
            t = int(np.flatnonzero(bad)[0])
            raise FacerigError(f"frame {t} ({Y.labels[t]}): NaN or infinite vertex coordinates")
    if rig is None:
        from facerig.io.mesh import Mesh
        from facerig.models.registry import rig_mesh

        if mesh is None:
            raise FacerigError("rigging the neutral needs its faces: pass mesh= (or a rig)")
        rig = rig_mesh(
            mesh if mesh.num_vertices == V else Mesh(vertices=neutral, faces=mesh.faces),
            method=method,
            **(rig_options or {}),
        )
    if rig.num_vertices != V:
        raise FacerigError(f"the rig has {rig.num_vertices} vertices, the neutral {V}")
    t0 = time.perf_counter()
    prep = solver.prepare(rig, neutral)
    t1 = time.perf_counter()
    Wk = solver.solve(
        prep,
        Y,
        l1=l1,
        smooth=smooth,
        symmetry=symmetry,
        prior=prior,
        prior_strength=prior_strength,
        prior_tolerance=prior_tolerance,
        threads=threads,
    )
    t2 = time.perf_counter()
    res = solver.residuals(prep, Y, Wk) if residual else {}
    t3 = time.perf_counter()
    return Inversion(
        weights=solver.rig_weights_to_arkit(prep.names, Wk),
        rig_weights=Wk,
        rig=rig,
        residual=res,
        seconds={"prepare": t1 - t0, "solve": t2 - t1, "residual": t3 - t2},
    )


def _invert_without_neutral(Y, faces: np.ndarray | None) -> Inversion:
    """The expression encoder's weights of frames ``Y`` (:class:`facerig.invert.frames.Frames`)."""
    import time

    from facerig.models.encoder.runtime import encode_frames

    if faces is None:
        raise FacerigError("inverting without a neutral needs the frames' faces (or pass --neutral / a rig)")
    faces = np.asarray(faces)
    if faces.ndim != 2 or faces.shape[1] != 3 or (faces.size and (faces.min() < 0 or faces.max() >= Y.num_vertices)):
        raise FacerigError(f"faces must be (F, 3) indices below {Y.num_vertices}, got {faces.shape}")
    if Y.dense is not None:
        bad = ~np.isfinite(Y.dense).all(axis=(1, 2))
        if bad.any():
            t = int(np.flatnonzero(bad)[0])
            raise FacerigError(f"frame {t} ({Y.labels[t]}): NaN or infinite vertex coordinates")
    t0 = time.perf_counter()
    tm: dict = {}
    W = encode_frames(Y, faces, timings=tm).astype(np.float64)
    return Inversion(
        weights=W,
        rig_weights=W,
        rig=None,
        residual={},
        seconds={"prepare": tm["prepare"], "solve": time.perf_counter() - t0 - tm["prepare"], "residual": 0.0},
    )


def retarget(weights: np.ndarray, target_rig) -> np.ndarray:
    """(T, 52) ARKit-order weights -> (T, K) weights of ``target_rig`` (matched by ARKit name;
    target shapes without an ARKit name get 0)."""
    from facerig.invert.solver import arkit_to_rig_weights

    W = np.asarray(weights, np.float64)
    if W.ndim != 2 or W.shape[1] != 52:
        raise FacerigError(f"weights must be (T, 52), got {W.shape}")
    return arkit_to_rig_weights(target_rig.names, W)


def flag_frames(
    residual: dict[str, np.ndarray], mm_per_unit: float, *, bad_mm: float = 1.0, bad_relative: float = 0.5
) -> np.ndarray:
    """Frames that fit badly: RMS residual over ``bad_mm`` millimetres, or over ``bad_relative`` of the
    frame's own RMS motion (when it moves more than a tenth of ``bad_mm``).

    Returns:
        (T,) bool.
    """
    rms = residual["rms"] * mm_per_unit
    motion = residual["motion_rms"] * mm_per_unit
    return (rms > bad_mm) | ((motion > 0.1 * bad_mm) & (rms > bad_relative * motion))

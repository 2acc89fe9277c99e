"""Posed frames for inversion: one mesh, a folder or glob of meshes, or a glTF morph-target animation.

Every frame must have the neutral's vertex count and order; anything else is a
:class:`facerig.errors.FacerigError` naming the frame (never a silent wrong answer).
"""

from __future__ import annotations

import glob as _glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facerig.errors import FacerigError

#: mesh suffixes read as frames
FRAME_SUFFIXES = (".obj", ".ply", ".glb", ".gltf", ".stl")


@dataclass
class Frames:
    """Posed meshes in the neutral's vertex order.

    Stored either as ``dense`` (T, V, 3) vertices, or, for a morph-weight animation, as the
    ``lowrank`` triple ``(base (V, 3), weights (T, K), deltas (K, 3V))`` with frame ``t`` =
    ``base + weights[t] @ deltas``, so a long animation of a dense head is never expanded at once.

    Attributes:
        labels: (T,) where each frame came from (file name, or ``file#t``).
        times: (T,) seconds, or None when the source has no timing (files).
        source: what was read.
        notes: human-readable notes.
    """

    dense: np.ndarray | None
    labels: list[str]
    times: np.ndarray | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)
    lowrank: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def num_frames(self) -> int:
        return int(self.dense.shape[0] if self.dense is not None else self.lowrank[1].shape[0])

    @property
    def num_vertices(self) -> int:
        return int(self.dense.shape[1] if self.dense is not None else self.lowrank[0].shape[0])

    def block(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start:stop`` as (n, V, 3) float64."""
        if self.dense is not None:
            return self.dense[start:stop]
        base, W, D = self.lowrank
        return (base.reshape(1, -1) + W[start:stop] @ D).reshape(-1, base.shape[0], 3)

    @property
    def vertices(self) -> np.ndarray:
        """All frames (T, V, 3) float64 (expands a low-rank animation)."""
        return self.block(0, self.num_frames)

    @classmethod
    def from_array(cls, vertices: np.ndarray) -> Frames:
        """(T, V, 3) or (V, 3) vertices -> Frames labelled ``frame t``."""
        Y = np.asarray(vertices, dtype=np.float64)
        if Y.ndim == 2:
            Y = Y[None]
        return cls(Y, [f"frame {t}" for t in range(Y.shape[0])])


def _natural_key(p: Path) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", p.name)]


def frame_files(posed: str | os.PathLike) -> list[Path]:
    """POSED argument -> the mesh files it names, in natural order (``f2`` before ``f10``).

    A folder gives its mesh files, a pattern with ``* ? [`` its matches, a file itself.
    """
    s = str(posed)
    p = Path(s)
    if p.is_dir():
        files = sorted((q for q in p.iterdir() if q.is_file() and q.suffix.lower() in FRAME_SUFFIXES), key=_natural_key)
        if not files:
            raise FacerigError(f"{p}: no mesh frames in the folder (looked for {', '.join(FRAME_SUFFIXES)})")
        return files
    if any(c in s for c in "*?["):
        files = sorted((Path(q) for q in _glob.glob(s) if Path(q).is_file()), key=_natural_key)
        files = [q for q in files if q.suffix.lower() in FRAME_SUFFIXES]
        if not files:
            raise FacerigError(f"{s}: the pattern matches no mesh files")
        return files
    if not p.exists():
        raise FacerigError(f"{p}: no such file or folder")
    return [p]


def gltf_animation(path: str | os.PathLike):
    """A glTF's morph-weight animation, if it has one.

    Returns:
        ``None`` when the file has no animation channel on ``weights``, else ``(rig, mesh, W (T, K),
        times (T,))``: the morph mesh as read by :func:`facerig.io.gltf.read_rig_gltf` and the first
        weights channel's keyframes (CUBICSPLINE: the values, tangents dropped).
    """
    from facerig.io.gltf import read_gltf_accessor, read_gltf_document, read_rig_gltf

    doc, buffers = read_gltf_document(path)
    chans = [
        (a, c)
        for a in doc.get("animations") or []
        for c in a.get("channels", [])
        if (c.get("target") or {}).get("path") == "weights"
    ]
    if not chans:
        return None
    rig, mesh = read_rig_gltf(path)
    K = len(rig.names)
    anim, ch = chans[0]
    try:
        smp = anim["samplers"][ch["sampler"]]
        times = read_gltf_accessor(doc, buffers, smp["input"]).reshape(-1).astype(np.float64)
        vals = read_gltf_accessor(doc, buffers, smp["output"]).reshape(-1).astype(np.float64)
    except (KeyError, IndexError, TypeError) as e:
        raise FacerigError(f"{path}: malformed glTF animation ({e.__class__.__name__}: {e})") from None
    T = len(times)
    if K == 0 or T == 0:
        raise FacerigError(f"{path}: the weight animation has no keyframes or the mesh no morph targets")
    if smp.get("interpolation") == "CUBICSPLINE" and vals.size == 3 * T * K:
        W = vals.reshape(T, 3, K)[:, 1]
    elif vals.size == T * K:
        W = vals.reshape(T, K)
    else:
        raise FacerigError(f"{path}: animation has {vals.size} weight values for {T} keyframes x {K} targets")
    return rig, mesh, W, times - times[0]


def read_frames(posed: str | os.PathLike, num_vertices: int, *, max_frames: int | None = None) -> Frames:
    """Read POSED (see module docstring) and check every frame against the neutral.

    Args:
        posed: a mesh file, a folder, a glob pattern, or a .glb/.gltf with a morph-weight animation.
        num_vertices: the neutral's vertex count.
        max_frames: refuse more frames than this (None: no limit).

    Returns:
        :class:`Frames` with vertices (T, V, 3).

    Raises:
        FacerigError: no frames, unreadable frame, vertex count differing from the neutral's, NaN /
            infinite coordinates (each naming the frame).
    """
    from facerig.io import read_mesh

    files = frame_files(posed)
    if len(files) == 1 and files[0].suffix.lower() in (".glb", ".gltf"):
        anim = gltf_animation(files[0])
        if anim is not None:
            rig, _, W, times = anim
            if rig.num_vertices != num_vertices:
                raise FacerigError(
                    f"{files[0]}: animated mesh has {rig.num_vertices} vertices, the neutral has {num_vertices}"
                )
            D = rig.deltas.reshape(len(rig.names), -1).astype(np.float64)
            labels = [f"{files[0].name}#{t}" for t in range(len(W))]
            if not (np.isfinite(W).all() and np.isfinite(D).all() and np.isfinite(rig.neutral).all()):
                bad = ~np.isfinite(W).all(1)
                t = int(np.flatnonzero(bad)[0]) if bad.any() else 0
                raise FacerigError(f"frame {t} ({labels[t]}): NaN or infinite weights, targets or positions")
            return Frames(
                None,
                labels,
                times=times,
                source=str(files[0]),
                notes=[f"{len(W)} keyframes of the morph-weight animation"],
                lowrank=(rig.neutral.astype(np.float64), W, D),
            )
    if max_frames is not None and len(files) > max_frames:
        raise FacerigError(f"{posed}: {len(files)} frames, more than the limit {max_frames}")
    Y = np.empty((len(files), num_vertices, 3))
    for t, f in enumerate(files):
        try:
            m = read_mesh(f)
        except FacerigError as e:
            raise FacerigError(f"frame {t} ({f.name}): {str(e).splitlines()[0]}") from None
        if m.num_vertices != num_vertices:
            raise FacerigError(
                f"frame {t} ({f.name}): {m.num_vertices} vertices, the neutral has {num_vertices} "
                "(frames must keep the neutral's vertex count and order)"
            )
        Y[t] = m.vertices
    labels = [f.name for f in files]
    _check_finite(Y, labels)
    return Frames(Y, labels, times=None, source=str(posed))


def _check_finite(Y: np.ndarray, labels: list[str]) -> None:
    bad = ~np.isfinite(Y).all(axis=(1, 2))
    if bad.any():
        t = int(np.flatnonzero(bad)[0])
        n = int((~np.isfinite(Y[t]).all(1)).sum())
        raise FacerigError(
            f"frame {t} ({labels[t]}): {n} vertices with NaN or infinite coordinates"
            + (f" ({int(bad.sum())} such frames)" if bad.sum() > 1 else "")
        )

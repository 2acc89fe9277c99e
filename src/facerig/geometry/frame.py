"""The canonical computation frame: +Y up, face looking toward +Z, right-handed.

User meshes come in any axis convention (Blender: up ``+z``, forward ``-y``; Maya / glTF /
ARKit: up ``+y``, forward ``+z``). Methods work in the canonical frame and map their deltas
back; the data (vertex positions written to outputs) are never re-oriented.

``R = orientation_matrix(up, forward)`` is the rotation with ``R @ up_axis = +Y`` and
``R @ forward_axis = +Z``; its rows are ``(up x forward, up, forward)`` (in input
coordinates), so ``det R = +1`` always. :class:`Frame` adds a centre and scale:
``canonical = R @ (p - center) / scale``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facerig.errors import FacerigError

_AXES = {"x": 0, "y": 1, "z": 2}


def axis_vector(axis: str) -> np.ndarray:
    """``"+x"``, ``"-y"``, ``"z"`` (= ``"+z"``), case-insensitive -> (3,) unit vector."""
    s = str(axis).strip().lower()
    sign = 1.0
    if s[:1] in "+-" and len(s) == 2:
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s not in _AXES:
        raise FacerigError(f"bad axis {axis!r}: use one of +x, -x, +y, -y, +z, -z")
    v = np.zeros(3)
    v[_AXES[s]] = sign
    return v


def orientation_matrix(up: str = "+y", forward: str = "+z") -> np.ndarray:
    """Rotation (3, 3) taking input axes to the canonical frame (+Y up, face toward +Z).

    ``up`` / ``forward`` are the input's axes pointing up and out of the face
    (Blender default: ``up="+z", forward="-y"``). ``canonical = R @ p``.

    Raises:
        FacerigError: unknown axis string, or ``up`` parallel to ``forward``.
    """
    u, f = axis_vector(up), axis_vector(forward)
    if abs(float(u @ f)) > 0.5:
        raise FacerigError(f"up={up} and forward={forward} are parallel; they must be perpendicular axes")
    r = np.cross(u, f)
    return np.stack([r, u, f]) + 0.0  # (+0.0 turns -0.0 into 0.0)


def pitch_matrix(degrees: float) -> np.ndarray:
    """Rotation (3, 3) by ``degrees`` about +X, the left-right axis of the canonical frame (a nod:
    +Y turns toward +Z, so the face turns down for positive ``degrees``). ``pitched = P @ p``."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


@dataclass
class Frame:
    """Similarity map input -> canonical: ``q = R @ (p - center) / scale``.

    Attributes:
        R: (3, 3) rotation (input axes -> canonical axes).
        center: (3,) point in input coordinates mapped to the origin.
        scale: input length that becomes 1 in the canonical frame.
    """

    R: np.ndarray
    center: np.ndarray
    scale: float

    def to_canonical(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) input points -> (..., 3) canonical points."""
        p = np.asarray(points, dtype=np.float64)
        return ((p - self.center) @ self.R.T) / self.scale

    def from_canonical(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) canonical points -> (..., 3) input points."""
        q = np.asarray(points, dtype=np.float64)
        return (q * self.scale) @ self.R + self.center

    def deltas_to_canonical(self, deltas: np.ndarray) -> np.ndarray:
        """(..., 3) input displacements -> canonical displacements (rotation and scale only)."""
        return (np.asarray(deltas, dtype=np.float64) @ self.R.T) / self.scale

    def deltas_from_canonical(self, deltas: np.ndarray) -> np.ndarray:
        """(..., 3) canonical displacements -> input displacements (rotation and scale only)."""
        return (np.asarray(deltas, dtype=np.float64) * self.scale) @ self.R


def fit_frame(vertices: np.ndarray, up: str = "+y", forward: str = "+z") -> Frame:
    """Frame centred on the bounding-box centre of ``vertices`` (V, 3), scaled so the
    bounding-box diagonal is 1, rotated by :func:`orientation_matrix` (up, forward).

    Raises:
        FacerigError: all vertices coincide (zero-size bounding box) or bad axes.
    """
    v = np.asarray(vertices, dtype=np.float64)
    R = orientation_matrix(up, forward)
    lo, hi = v.min(axis=0), v.max(axis=0)
    diag = float(np.linalg.norm(hi - lo))
    if not np.isfinite(diag) or diag <= 0:
        raise FacerigError("mesh has zero size (all vertices coincide); cannot fit a frame")
    return Frame(R=R, center=(lo + hi) / 2.0, scale=diag)

"""Pack a :class:`~facerig.io.rig.Rig` for the browser viewer.

The page fetches two things:

- ``/rig.json``: names, counts, status fields and a ``buffers`` table (byte offset, element
  count, dtype, shape) describing the sections of ``/rig.bin``;
- ``/rig.bin``: little-endian sections, each 4-byte aligned:

  ========== ============ ===========================================================
  section    dtype        shape
  ========== ============ ===========================================================
  positions  float32      (V, 3)  neutral vertices (input units, input frame and order)
  normals    float32      (V, 3)  area-weighted unit vertex normals of the neutral
  indices    uint32       (F, 3)  triangles (absent when the rig has no faces)
  deltas     float32      (K, V, 3) shape displacements (``morphTargetsRelative``)
  ndeltas    float32      (K, V, 3) normal(neutral + delta_k) - normal(neutral)
  ========== ============ ===========================================================

The morphing is done on the GPU by three.js (``morphTargetInfluences``); normal deltas make the
shading of a posed face right without recomputing normals in the browser (the same linear
approximation glTF morph targets use).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from facerig.geometry.normals import vertex_normals
from facerig.io.rig import Rig

AXES = {"+x": (1, 0, 0), "-x": (-1, 0, 0), "+y": (0, 1, 0), "-y": (0, -1, 0), "+z": (0, 0, 1), "-z": (0, 0, -1)}


@dataclass
class Payload:
    """What the server sends: ``info`` (JSON-able dict for /rig.json) and ``data`` (/rig.bin)."""

    info: dict[str, Any]
    data: bytes

    def json_bytes(self) -> bytes:
        return json.dumps(self.info, separators=(",", ":")).encode()


def _short_units(meta: dict[str, Any]) -> str:
    units = meta.get("units")
    if units is None and "mm_per_unit" in meta:
        units = f"1 unit = {meta['mm_per_unit']} mm"
    if units is None:
        return "input units"
    units = str(units)
    return units.split(" (")[0] if len(units) > 40 else units


def _axis(name: str, what: str) -> str:
    key = name.strip().lower()
    if key in ("x", "y", "z"):
        key = "+" + key
    if key not in AXES:
        from facerig.errors import FacerigError

        raise FacerigError(f"{what} must be one of {', '.join(AXES)}, not {name!r}")
    return key


#: with ``normals="auto"``, per-shape normal deltas are sent only while they stay under this size
NORMAL_DELTAS_MAX_BYTES = 256 * 2**20


def build_payload(
    rig: Rig,
    *,
    title: str | None = None,
    up: str | None = None,
    forward: str | None = None,
    normals: bool | str = "auto",
) -> Payload:
    """Encode ``rig`` for the viewer.

    Args:
        rig: the rig (deltas (K, V, 3) in the neutral's units and vertex order).
        title: page title (defaults to the rig's source file name).
        up, forward: the mesh's up / facing axes (``+y``, ``-z``...); default from
            ``rig.meta`` (``up`` / ``forward``) else ``+y`` / ``+z`` (the glTF convention).
        normals: send per-shape normal deltas (True), not (False: morphed faces keep the
            neutral's normals), or ``"auto"``: only while they take at most
            :data:`NORMAL_DELTAS_MAX_BYTES` (they double the payload).
    """
    meta = dict(rig.meta or {})
    V, K = rig.num_vertices, len(rig.names)
    up = _axis(up or str(meta.get("up", "+y")), "up")
    forward = _axis(forward or str(meta.get("forward", "+z")), "forward")
    if np.abs(np.dot(AXES[up], AXES[forward])) > 0:
        from facerig.errors import FacerigError

        raise FacerigError(f"up {up} and forward {forward} must be different axes")

    sections: list[tuple[str, np.ndarray]] = []
    positions = np.ascontiguousarray(rig.neutral, dtype=np.float32)
    deltas = np.ascontiguousarray(rig.deltas, dtype=np.float32)
    faces = None
    if rig.faces is not None and len(rig.faces):
        faces = np.ascontiguousarray(rig.faces, dtype=np.uint32).reshape(-1, 3)
        if faces.size and int(faces.max()) >= V:
            from facerig.errors import FacerigError

            raise FacerigError(f"rig faces index vertex {int(faces.max())} but the rig has {V} vertices")
    sections.append(("positions", positions))
    if faces is not None:
        n0 = vertex_normals(rig.neutral, faces)
        sections.append(("normals", n0.astype(np.float32)))
        sections.append(("indices", faces))
    sections.append(("deltas", deltas))
    shape_norm = np.sqrt((deltas.astype(np.float64) ** 2).sum(-1)).max(axis=1) if K else np.zeros(0)
    if normals == "auto":
        normals = K * V * 12 <= NORMAL_DELTAS_MAX_BYTES
    if faces is not None and normals and K:
        nd = np.zeros((K, V, 3), dtype=np.float32)
        for k in range(K):
            if shape_norm[k] > 0:
                nd[k] = vertex_normals(rig.neutral + deltas[k], faces) - n0
        sections.append(("ndeltas", nd))

    buffers: dict[str, dict[str, Any]] = {}
    chunks: list[bytes] = []
    offset = 0
    for name, arr in sections:
        b = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        buffers[name] = {"offset": offset, "count": int(arr.size), "dtype": str(arr.dtype), "shape": list(arr.shape)}
        chunks.append(b)
        offset += len(b)  # every dtype here is 4 bytes wide, so offsets stay 4-byte aligned

    lo, hi = (positions.min(0), positions.max(0)) if V else (np.zeros(3), np.zeros(3))
    source = meta.get("source")
    info = {
        "version": 1,
        "title": title or (str(source).replace("\\", "/").rsplit("/", 1)[-1] if source else "facerig rig"),
        "num_vertices": V,
        "num_faces": 0 if faces is None else len(faces),
        "num_shapes": K,
        "names": list(rig.names),
        "shape_max_displacement": [round(float(x), 6) for x in shape_norm],
        "method": str(meta.get("method", "unknown")),
        "units": _short_units(meta),
        "missing": [str(m) for m in meta.get("missing", [])] if isinstance(meta.get("missing"), list) else [],
        "bbox": [lo.tolist(), hi.tolist()],
        "up": up,
        "forward": forward,
        "buffers": buffers,
        "byte_length": offset,
        "animation": None,
    }
    return Payload(info=info, data=b"".join(chunks))

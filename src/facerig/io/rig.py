"""The rig container and its NPZ format (the one interface every rigging method goes through).

NPZ keys:

- ``names``   (K,)      str    ARKit-52 names (or the method's names)
- ``deltas``  (K, V, 3) float32 displacement of each shape, in the input's units, position and
  vertex order (vertex i of the input file is row i)
- ``neutral`` (V, 3)    float64 the input vertices, exactly as read
- ``faces``   (F, 3)    int32   triangulated faces (for viewing / export)
- ``parts``   (V,)      int32   connected-component label of each vertex
- ``meta``    ()        str     JSON: method, version, seconds, units, missing shapes, notes
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facerig.errors import FacerigError
from facerig.io.atomic import atomic_path


@dataclass
class Rig:
    """A linear blendshape rig: ``neutral + sum_k w_k * deltas[k]``.

    Attributes:
        names: (K,) shape names.
        deltas: (K, V, 3) float32 per-shape vertex displacements.
        neutral: (V, 3) float64 neutral vertices.
        faces: (F, 3) int triangles, or None.
        parts: (V,) int part labels, or None.
        meta: free-form JSON-able metadata (method, version, seconds, ...).
    """

    names: list[str]
    deltas: np.ndarray
    neutral: np.ndarray
    faces: np.ndarray | None = None
    parts: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = [str(n) for n in self.names]
        self.deltas = np.asarray(self.deltas, dtype=np.float32)
        self.neutral = np.asarray(self.neutral, dtype=np.float64)
        K, V = len(self.names), self.neutral.shape[0]
        if self.deltas.shape != (K, V, 3):
            raise ValueError(f"deltas shape {self.deltas.shape} != ({K}, {V}, 3)")

    @property
    def num_vertices(self) -> int:
        return int(self.neutral.shape[0])

    def pose(self, weights: dict[str, float] | np.ndarray) -> np.ndarray:
        """Posed vertices (V, 3) for named weights or a (K,) weight vector."""
        if isinstance(weights, dict):
            w = np.zeros(len(self.names), dtype=np.float64)
            index = {n: i for i, n in enumerate(self.names)}
            for n, v in weights.items():
                w[index[n]] = v
        else:
            w = np.asarray(weights, dtype=np.float64)
        return self.neutral + np.tensordot(w, self.deltas.astype(np.float64), axes=1)

    def delta(self, name: str) -> np.ndarray:
        return self.deltas[self.names.index(name)]


def save_rig(path: str | os.PathLike, rig: Rig) -> None:
    """Write ``rig`` as NPZ atomically (see module docstring for keys)."""
    arrays: dict[str, Any] = {
        "names": np.array(rig.names, dtype=str),
        "deltas": rig.deltas.astype(np.float32),
        "neutral": rig.neutral.astype(np.float64),
        "meta": np.array(json.dumps(rig.meta, default=_json_default)),
    }
    if rig.faces is not None:
        arrays["faces"] = np.asarray(rig.faces, dtype=np.int32)
    if rig.parts is not None:
        arrays["parts"] = np.asarray(rig.parts, dtype=np.int32)
    with atomic_path(path, suffix=".npz") as tmp:
        _write_npz(tmp, arrays)


def _write_npz(path: str | os.PathLike, arrays: dict[str, Any]) -> None:
    """An ``np.load``-compatible NPZ: arrays that are mostly exact zeros (sparse rigs) are
    deflated at level 1, dense ones stored (deflating dense float deltas saves ~7 % for ~1 s
    per 16 MB, which would dominate a 3 s rig)."""
    import zipfile

    with zipfile.ZipFile(path, "w", allowZip64=True) as zf:
        for key, value in arrays.items():
            a = np.asanyarray(value)
            sparse = a.dtype.kind == "f" and a.size > 0 and np.count_nonzero(a) < 0.5 * a.size
            # ZipFile.open(name, "w") reads these two (public) attributes for each new entry
            zf.compression, zf.compresslevel = (zipfile.ZIP_DEFLATED, 1) if sparse else (zipfile.ZIP_STORED, None)
            with zf.open(key + ".npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, a, allow_pickle=False)


def load_rig(path: str | os.PathLike) -> Rig:
    """Read a rig NPZ written by :func:`save_rig` (or any NPZ with names/deltas/neutral)."""
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001
        raise FacerigError(f"{path}: not a facerig rig NPZ ({e.__class__.__name__}: {e})") from None
    missing = [k for k in ("names", "deltas", "neutral") if k not in z]
    if missing:
        raise FacerigError(f"{path}: rig NPZ lacks {', '.join(missing)}")
    meta = json.loads(str(z["meta"])) if "meta" in z else {}
    return Rig(
        names=list(z["names"]),
        deltas=z["deltas"],
        neutral=z["neutral"],
        faces=z["faces"] if "faces" in z else None,
        parts=z["parts"] if "parts" in z else None,
        meta=meta,
    )


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)

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
        "deltas": rig.deltas.astype(np.float32, copy=False),  # written as they are: no copy needed
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


#: Most bytes a rig's arrays may take once loaded (default 1 GiB: 52 shapes of a 1M-vertex head
#: are 0.65 GB); ``FACERIG_MAX_RIG_BYTES`` overrides it. Readers check it before expanding anything.
MAX_RIG_BYTES = 1 << 30

_NPZ_KEYS = ("names", "arkit_names", "deltas", "neutral", "faces", "parts", "meta")


def format_bytes(n: float) -> str:
    """``9.36 GB``, ``208 MB``, ``10 kB``, ``12 B`` (3 significant digits, decimal units)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def max_rig_bytes() -> int:
    """:data:`MAX_RIG_BYTES`, or ``FACERIG_MAX_RIG_BYTES`` when set (bytes)."""
    from facerig import config

    return config.max_rig_bytes(MAX_RIG_BYTES)


def npz_array_headers(path: str | os.PathLike) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """key -> (shape, dtype) of every ``.npy`` member of an NPZ, read from the member headers only
    (nothing is expanded).

    Raises:
        FacerigError: not a zip / an unreadable member header.
    """
    import zipfile
    import zlib

    out: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as fh:
                    shape, dtype = _npy_header(fh)
                out[info.filename[:-4]] = (shape, dtype)
    except FileNotFoundError:
        raise FacerigError(f"{path}: no such rig file") from None
    except (
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        RuntimeError,
        ValueError,
        OSError,
        EOFError,
        KeyError,
        SyntaxError,
    ) as e:
        raise FacerigError(f"{path}: not a facerig rig NPZ ({e.__class__.__name__}: {e})") from None
    return out


def _npy_header(fh) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from an open ``.npy`` stream positioned at its start (reads the header only)."""
    fmt = np.lib.format
    version = fmt.read_magic(fh)
    if version == (1, 0):
        shape, _fortran, dtype = fmt.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, _fortran, dtype = fmt.read_array_header_2_0(fh)
    else:  # 3.0 (utf-8 field names): same header layout as 2.0 apart from the encoding
        import struct

        (hlen,) = struct.unpack("<I", fh.read(4))
        import ast

        d = ast.literal_eval(fh.read(hlen).decode("utf-8"))
        shape, dtype = d["shape"], fmt.descr_to_dtype(d["descr"])
    return tuple(int(n) for n in shape), np.dtype(dtype)


def load_rig(path: str | os.PathLike, *, max_bytes: int | None = None, neutral: np.ndarray | None = None) -> Rig:
    """Read a rig NPZ written by :func:`save_rig` (or any NPZ with names/deltas/neutral).

    Other authors' rig NPZs are read too: ``arkit_names`` (K,) is preferred to ``names`` when
    present (the ARKit name of each target), ``mm_per_unit`` goes into the meta, and a file with
    deltas but no neutral (``NAME.blendshapes.npz``) takes ``neutral`` (V, 3) from the caller.

    The members' shapes and dtypes are read from their headers first: an NPZ whose arrays
    would take more than ``max_bytes`` (default :func:`max_rig_bytes`) once loaded, or that
    holds object arrays, is refused before anything is expanded.

    Raises:
        FacerigError: not an NPZ, missing keys, too large, mismatched shapes.
    """
    limit = max_rig_bytes() if max_bytes is None else int(max_bytes)
    headers = npz_array_headers(path)
    missing = [k for k in ("deltas",) if k not in headers]
    if "names" not in headers and "arkit_names" not in headers:
        missing.append("names")
    if "neutral" not in headers and neutral is None:
        missing.append("neutral (give the head mesh: --head)")
    if missing:
        raise FacerigError(f"{path}: rig NPZ lacks {', '.join(missing)}")
    if "neutral" not in headers and neutral is not None:
        dshape = headers["deltas"][0]
        if len(dshape) != 3 or dshape[1] != len(neutral):
            raise FacerigError(f"{path}: the head mesh has {len(neutral):,} vertices, the rig's deltas {tuple(dshape)}")
    total = 0
    for key in _NPZ_KEYS:
        if key in headers:
            shape, dtype = headers[key]
            if dtype.hasobject:
                raise FacerigError(f"{path}: rig NPZ member {key!r} holds Python objects (not allowed)")
            total += int(np.prod(shape, dtype=object)) * dtype.itemsize
    if total > limit:
        shape = headers["deltas"][0]
        raise FacerigError(
            f"{path}: rig arrays would take {format_bytes(total)} once loaded (deltas {shape}), "
            f"over the {format_bytes(limit)} limit (FACERIG_MAX_RIG_BYTES)"
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"])) if "meta" in z else {}
            meta = meta if isinstance(meta, dict) else {}
            if "mm_per_unit" in z:
                meta["mm_per_unit"] = float(z["mm_per_unit"])
            return Rig(
                names=list(z["arkit_names"] if "arkit_names" in z else z["names"]),
                deltas=z["deltas"],
                neutral=z["neutral"] if "neutral" in z else neutral,
                faces=z.get("faces", None),
                parts=z.get("parts", None),
                meta=meta,
            )
    except FacerigError:
        raise
    except Exception as e:  # noqa: BLE001 - any malformed member is a bad file
        raise FacerigError(f"{path}: not a usable rig NPZ ({e.__class__.__name__}: {e})") from None


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)

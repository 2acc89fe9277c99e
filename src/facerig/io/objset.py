"""A rig as a folder of OBJ files: ``neutral.obj`` + one OBJ per shape + ``rig.json``.

Layout written by :func:`save_rig_obj_folder`::

    FOLDER/neutral.obj        the input vertices (V, 3), exactly, in the input's order
    FOLDER/<name>.obj         neutral + delta of one shape (jawOpen.obj, eyeBlinkLeft.obj, ...)
    FOLDER/rig.json           {"format": "facerig-obj-folder", "names": [...], "files": [...],
                               "units", "method", "version", "num_vertices", "missing", "meta"}

Every OBJ has the same ``v`` order, polygons (the input's quads / n-gons, not the
triangulation) and UVs (``vt`` + ``f v/vt``) when ``mesh`` is given; else the rig's
triangles. Files are byte-identical to :func:`facerig.io.obj.write_obj` output (shortest
round-trip floats, so ``read_obj`` gives back the exact float64 values) but the face block is
formatted once and reused, and the vertex block is formatted in one C-level ``%`` operation
per file; a large rig's files are formatted in forked worker processes (``workers``; 52 x
27k-vertex files: about 4.6 s in one process on a slow 2-core VM, half that in two). Each file
is written atomically.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import numpy as np

from facerig.errors import FacerigError
from facerig.io.atomic import write_bytes_atomic, write_text_atomic
from facerig.io.mesh import Mesh
from facerig.io.rig import Rig

_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def _vertex_block(vertices: np.ndarray) -> str:
    """(V, 3) float64 -> ``v x y z`` lines with repr() (shortest round-trip) floats."""
    flat = vertices.reshape(-1).tolist()
    return ("v %r %r %r\n" * vertices.shape[0]) % tuple(flat)


def _rows(x) -> list[np.ndarray] | np.ndarray:
    if isinstance(x, np.ndarray):
        return x.astype(np.int64)
    return [np.asarray(p, dtype=np.int64) for p in x]


def _face_block(polys, uv: np.ndarray | None, uv_faces) -> str:
    """``vt`` lines + ``f`` lines (1-based; ``v/vt`` when uv_faces is given) for a polygon set."""
    parts: list[str] = []
    if uv is not None:
        uv = np.asarray(uv, np.float64)
        fmt = "vt" + " %r" * uv.shape[1] + "\n"
        parts.append((fmt * uv.shape[0]) % tuple(uv.reshape(-1).tolist()))
    rows = _rows(polys)
    if isinstance(rows, np.ndarray):
        groups = [rows]
    else:  # mixed sizes: format each size group, then restore file order
        groups = None
    if uv is not None and uv_faces is not None:
        urows = _rows(uv_faces)
        if groups is not None and isinstance(urows, np.ndarray):
            n = rows.shape[1]
            inter = np.stack([rows + 1, urows + 1], axis=2).reshape(len(rows), -1)
            fmt = "f" + " %d/%d" * n + "\n"
            parts.append((fmt * len(rows)) % tuple(inter.reshape(-1).tolist()))
        else:
            parts.append("".join(
                "f " + " ".join(f"{a + 1}/{b + 1}" for a, b in zip(p.tolist(), t.tolist())) + "\n"
                for p, t in zip(rows, urows)
            ))
    elif groups is not None:
        n = rows.shape[1]
        parts.append((("f" + " %d" * n + "\n") * len(rows)) % tuple((rows + 1).reshape(-1).tolist()))
    else:
        parts.append("".join("f " + " ".join(str(a + 1) for a in p.tolist()) + "\n" for p in rows))
    return "".join(parts)


#: Rigs with fewer vertex rows in all (files x vertices) are written in this process.
PARALLEL_MIN_ROWS = 400_000

_JOB: tuple | None = None  # (paths, neutral, deltas, faces_text) for forked workers
_JOB_LOCK = threading.Lock()


def _write_file(k: int) -> None:
    """Write file ``k`` of :data:`_JOB` (0: the neutral, k: neutral + deltas[k - 1])."""
    paths, neutral, deltas, faces_text = _JOB
    verts = neutral if k == 0 else neutral + np.asarray(deltas[k - 1], np.float64)
    write_bytes_atomic(paths[k], _vertex_block(verts).encode("ascii") + faces_text)


def _write_files(job: tuple, workers: int | None) -> None:
    """Write every file of ``job`` (see :data:`_JOB`), in ``workers`` forked processes when
    that is worth it and possible, else here."""
    import multiprocessing as mp

    from facerig.parallel import can_fork

    paths, neutral = job[0], job[1]
    if workers is None:
        big = len(paths) * neutral.shape[0] >= PARALLEL_MIN_ROWS
        workers = min(os.cpu_count() or 1, 4) if big else 1
    if workers > 1 and not can_fork():
        workers = 1
    global _JOB
    with _JOB_LOCK:  # one folder at a time per process: _JOB is what forked workers read
        _JOB = job
        try:
            if workers <= 1:
                for k in range(len(paths)):
                    _write_file(k)
            else:  # forked workers see _JOB (the rig's arrays) without copying or pickling them
                with mp.get_context("fork").Pool(min(workers, len(paths))) as pool:
                    pool.map(_write_file, range(len(paths)), chunksize=1)
        finally:
            _JOB = None


def shape_filename(name: str) -> str:
    """Shape name -> file name (``jawOpen`` -> ``jawOpen.obj``; unsafe characters -> ``_``)."""
    safe = _SAFE.sub("_", name) or "shape"
    return safe + ".obj"


def save_rig_obj_folder(folder: str | os.PathLike, rig: Rig, mesh: Mesh | None = None,
                        workers: int | None = None) -> list[Path]:
    """Write ``rig`` as ``folder/neutral.obj`` + ``folder/<name>.obj`` per shape + ``rig.json``.

    Args:
        folder: output folder (created; existing files of the same names are replaced).
        rig: names (K,), deltas (K, V, 3), neutral (V, 3), faces (F, 3) used when no mesh.
        mesh: the input :class:`Mesh` with the same V: its polygons (``polygons`` or
            ``faces``), ``uv`` (T, 2) and ``uv_faces`` are written to every file.
        workers: processes formatting the files (default: up to 4 CPUs for a large rig where
            the project forks, :func:`facerig.parallel.can_fork`, else 1). Formatting shortest
            round-trip floats is nearly all of the time and holds the GIL, so processes, not
            threads; the files are the same.

    Returns:
        the written paths: neutral.obj, then one per shape in ``rig.names`` order, then rig.json.

    Raises:
        FacerigError: V mismatch between mesh and rig, no faces, duplicate file names, or the
            folder path is an existing file.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FacerigError(f"{folder}: exists and is not a folder (OBJ output needs a folder)")
    V = rig.num_vertices
    if mesh is not None:
        if mesh.num_vertices != V:
            raise FacerigError(f"mesh has {mesh.num_vertices} vertices but the rig has {V}")
        polys = mesh.polygons if mesh.polygons is not None else mesh.faces
        uv, uv_faces = mesh.uv, mesh.uv_faces
        if uv is not None and uv_faces is None:
            uv = None  # per-vertex UVs without corner indices: not representable as-is
    else:
        polys, uv, uv_faces = rig.faces, None, None
    if polys is None or len(polys) == 0:
        raise FacerigError("cannot write OBJ shapes without faces (no mesh given and the rig has none)")
    files = ["neutral.obj"] + [shape_filename(n) for n in rig.names]
    lowered = [f.lower() for f in files]
    if len(set(lowered)) != len(lowered):
        dup = next(f for f in files if lowered.count(f.lower()) > 1)
        raise FacerigError(f"two shapes map to the same file name {dup!r} (names must be unique, case-insensitively)")

    faces_text = _face_block(polys, uv, uv_faces).encode("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    out = [folder / fname for fname in files]
    _write_files((out, rig.neutral.astype(np.float64), rig.deltas, faces_text), workers)

    from facerig import __version__

    meta = dict(rig.meta or {})
    info = {
        "format": "facerig-obj-folder",
        "version": __version__,
        "names": list(rig.names),
        "files": files[1:],
        "neutral": "neutral.obj",
        "num_vertices": V,
        "units": meta.get("units"),
        "method": meta.get("method"),
        "missing": meta.get("missing", []),
        "note": "each <name>.obj = neutral.obj + that shape's delta, same vertex order as the input",
    }
    path = folder / "rig.json"
    write_text_atomic(path, json.dumps(info, indent=1, default=str) + "\n")
    out.append(path)
    return out


def load_rig_obj_folder(folder: str | os.PathLike) -> Rig:
    """Read a folder written by :func:`save_rig_obj_folder` back into a :class:`Rig`.

    Returns:
        Rig with names (K,) from rig.json, deltas (K, V, 3) = shape - neutral, neutral (V, 3).
    """
    from facerig.io.obj import read_obj

    folder = Path(folder)
    try:
        info = json.loads((folder / "rig.json").read_text())
    except FileNotFoundError:
        raise FacerigError(f"{folder}: no rig.json (not a facerig OBJ folder)") from None
    neutral = read_obj(folder / info.get("neutral", "neutral.obj"))
    deltas = np.stack([read_obj(folder / f).vertices - neutral.vertices for f in info["files"]]) if info["files"] else \
        np.zeros((0, neutral.num_vertices, 3))
    meta = {k: info.get(k) for k in ("units", "method", "missing") if info.get(k) is not None}
    return Rig(names=info["names"], deltas=deltas, neutral=neutral.vertices, faces=neutral.faces, meta=meta)

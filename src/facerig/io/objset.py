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
27k-vertex files: about 4.6 s in one process on a slow 2-core VM, half that in two).

The folder is written as a whole (:func:`facerig.io.atomic.atomic_folder`): every file goes
into a temporary sibling ``.<name>.facerig-tmp-<pid>-<hex>``, ``rig.json`` last, and the
finished folder is renamed into place, replacing an older rig folder of the same name. A
killed run leaves only that temporary (removed by the next write); readers never see a mix.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import numpy as np

from facerig.errors import FacerigError
from facerig.io.atomic import atomic_folder
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
            parts.append(
                "".join(
                    "f " + " ".join(f"{a + 1}/{b + 1}" for a, b in zip(p.tolist(), t.tolist())) + "\n"
                    for p, t in zip(rows, urows)
                )
            )
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
    paths[k].write_bytes(_vertex_block(verts).encode("ascii") + faces_text)  # inside the temporary folder


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


def save_rig_obj_folder(
    folder: str | os.PathLike, rig: Rig, mesh: Mesh | None = None, workers: int | None = None
) -> list[Path]:
    """Write ``rig`` as ``folder/neutral.obj`` + ``folder/<name>.obj`` per shape + ``rig.json``.

    Args:
        folder: output folder, written as a whole (see the module doc). An existing folder is
            replaced only when it is empty or a facerig OBJ rig folder (``rig.json``).
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
        FacerigError: V mismatch between mesh and rig, no faces, duplicate file names, the
            folder path is an existing file, or an existing folder that is not a rig folder.
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
    with atomic_folder(folder, replaceable=is_rig_folder) as tmp:
        _write_files(
            ([tmp / fname for fname in files], rig.neutral.astype(np.float64), rig.deltas, faces_text), workers
        )
        (tmp / "rig.json").write_text(json.dumps(info, indent=1, default=str) + "\n")  # last: the marker
    return [folder / fname for fname in files] + [folder / "rig.json"]


def check_rig_folder_output(folder: str | os.PathLike) -> None:
    """Before any work: refuse an OBJ-rig output ``folder`` that :func:`save_rig_obj_folder` would
    refuse (a file, or a non-empty folder that is not a rig folder) or could not write.

    Raises:
        FacerigError: one line.
    """
    from facerig.io.atomic import check_writable

    folder = Path(folder)
    check_writable(folder, folder=True)
    if folder.is_dir() and any(folder.iterdir()) and not is_rig_folder(folder):
        raise FacerigError(
            f"{folder}: folder exists and holds other files (not a facerig OBJ rig folder); "
            f"choose a new folder or empty it"
        )


def is_rig_folder(folder: str | os.PathLike) -> bool:
    """True when ``folder/rig.json`` says ``"format": "facerig-obj-folder"``."""
    try:
        return json.loads((Path(folder) / "rig.json").read_text()).get("format") == "facerig-obj-folder"
    except (OSError, ValueError, AttributeError):
        return False


def read_rig_obj_folder(folder: str | os.PathLike, *, max_bytes: int | None = None) -> tuple[Rig, Mesh]:
    """Read a folder written by :func:`save_rig_obj_folder` back into a rig and its neutral mesh.

    ``rig.json`` must list plain file names inside the folder; the neutral is read first and
    ``K x V`` checked against ``max_bytes`` (default :func:`facerig.io.rig.max_rig_bytes`)
    before any shape file is parsed.

    Returns:
        ``(rig, mesh)``: rig with names (K,) from rig.json, deltas (K, V, 3) = shape - neutral,
        neutral (V, 3), faces (F, 3); mesh = ``neutral.obj`` as read (polygons, UVs kept).

    Raises:
        FacerigError: no / malformed rig.json, a file name leaving the folder, a shape file
            with another vertex count, too large.
    """
    from facerig.errors import MeshError
    from facerig.io.obj import read_obj
    from facerig.io.rig import format_bytes, max_rig_bytes

    folder = Path(folder)
    limit = max_rig_bytes() if max_bytes is None else int(max_bytes)
    try:
        info = json.loads((folder / "rig.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FacerigError(f"{folder}: no rig.json (not a facerig OBJ folder)") from None
    except (OSError, ValueError) as e:
        raise FacerigError(f"{folder}/rig.json: unreadable ({e.__class__.__name__}: {e})") from None
    names, files = (
        info.get("names") if isinstance(info, dict) else None,
        info.get("files") if isinstance(info, dict) else None,
    )
    neutral_name = info.get("neutral", "neutral.obj") if isinstance(info, dict) else None
    if not isinstance(names, list) or not isinstance(files, list) or len(names) != len(files):
        raise FacerigError(f"{folder}/rig.json: needs lists 'names' and 'files' of the same length")
    for f in [neutral_name, *files]:
        if not isinstance(f, str) or not f or f != Path(f).name or f in (".", ".."):
            raise FacerigError(f"{folder}/rig.json: {f!r} is not a file name inside the folder")
    max_v = max(1, limit // 24)
    try:
        neutral = read_obj(folder / neutral_name, max_vertices=max_v)
        V = neutral.num_vertices
        need = len(files) * V * 12 + V * 24
        if need > limit:
            raise FacerigError(
                f"{folder}: {len(files)} shapes x {V} vertices would take {format_bytes(need)}, "
                f"over the {format_bytes(limit)} limit (FACERIG_MAX_RIG_BYTES)"
            )
        deltas = np.zeros((len(files), V, 3), np.float32)
        for k, f in enumerate(files):
            shape = read_obj(folder / f, max_vertices=V)
            if shape.num_vertices != V:
                raise FacerigError(f"{folder / f}: {shape.num_vertices} vertices, the neutral has {V}")
            deltas[k] = shape.vertices - neutral.vertices
    except MeshError as e:
        raise FacerigError(str(e)) from None
    meta = {k: info.get(k) for k in ("units", "method", "missing") if info.get(k) is not None}
    meta.setdefault("source", str(folder))
    rig = Rig(names=names, deltas=deltas, neutral=neutral.vertices, faces=neutral.faces, meta=meta)
    return rig, neutral


def load_rig_obj_folder(folder: str | os.PathLike) -> Rig:
    """The rig of :func:`read_rig_obj_folder` (names (K,), deltas (K, V, 3), neutral (V, 3))."""
    return read_rig_obj_folder(folder)[0]

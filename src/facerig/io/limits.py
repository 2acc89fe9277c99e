"""Size limits on user meshes, checked as early as each reader can (one line each, MeshError).

- file size: :func:`check_file_size` before a byte is read. The default,
  :data:`DEFAULT_MAX_FILE_BYTES` (2 GB), can be changed per call (``max_bytes=``) or for the
  process with the ``FACERIG_MAX_FILE_BYTES`` environment variable (bytes; ``0`` = no limit).
- vertex / face counts: :func:`check_counts` as soon as a reader knows them (the OBJ reader
  counts ``v`` / ``f`` lines before parsing numbers, PLY / STL read them from the header), so a
  1M-vertex file that is going to be refused is refused in well under a second.
- too small to be a head: :func:`check_head_size` (fewer than :data:`MIN_HEAD_VERTICES`
  vertices or :data:`MIN_HEAD_FACES` triangles). A mesh that small (a triangle, a cube, a
  coarse sphere) is not a head; the network's head check is not reliable on it (a single
  triangle "finds" a face), so rigging refuses it up front.
"""

from __future__ import annotations

import os
from pathlib import Path

from facerig.errors import MeshError

DEFAULT_MAX_FILE_BYTES = 2 * 1024**3
DEFAULT_MAX_FACES = 4_000_000
MIN_HEAD_VERTICES = 100
MIN_HEAD_FACES = 100


def max_file_bytes(max_bytes: int | None = None) -> int | None:
    """The file-size limit in bytes: ``max_bytes`` if given (``0`` = none), else
    ``FACERIG_MAX_FILE_BYTES`` if set, else :data:`DEFAULT_MAX_FILE_BYTES`. None = no limit."""
    if max_bytes is None:
        from facerig import config

        max_bytes = config.max_file_bytes(DEFAULT_MAX_FILE_BYTES)
    return None if max_bytes <= 0 else int(max_bytes)


def check_file_size(path: str | os.PathLike, max_bytes: int | None = None) -> int:
    """Raise MeshError when ``path`` is larger than the limit (see :func:`max_file_bytes`).

    Returns the file size in bytes.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MeshError(f"{path}: no such file") from None
    except OSError as e:
        raise MeshError(f"{path}: cannot read ({e.strerror or e})") from None
    limit = max_file_bytes(max_bytes)
    if limit is not None and size > limit:
        raise MeshError(
            f"{path}: file is {_human(size)}, over the limit of {_human(limit)} "
            "(set FACERIG_MAX_FILE_BYTES to raise it, or decimate the mesh)"
        )
    return size


def read_limited(path: str | os.PathLike, max_bytes: int | None = None, *, empty_ok: bool = False) -> bytes:
    """The whole file after :func:`check_file_size`: one-line MeshError for a missing, unreadable,
    oversized or (unless ``empty_ok``) empty file, or a folder."""
    path = Path(path)
    check_file_size(path, max_bytes)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MeshError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MeshError(f"{path}: is a folder, not a mesh file") from None
    except OSError as e:
        raise MeshError(f"{path}: cannot read ({e.strerror or e})") from None
    if not data and not empty_ok:
        raise MeshError(f"{path}: empty file")
    return data


def check_counts(
    path: str | os.PathLike,
    vertices: int | None = None,
    faces: int | None = None,
    *,
    max_vertices: int | None = None,
    max_faces: int | None = DEFAULT_MAX_FACES,
) -> None:
    """Raise MeshError when a known vertex / face count is over its limit (None = unknown / no limit)."""
    if max_vertices is not None and vertices is not None and vertices > max_vertices:
        raise MeshError(
            f"{path}: {vertices:,} vertices is over the limit of {max_vertices:,} "
            "(raise it with --max-vertices, or decimate the mesh)"
        )
    if max_faces is not None and faces is not None and faces > max_faces:
        raise MeshError(f"{path}: {faces:,} faces is over the limit of {max_faces:,} (decimate the mesh)")


def check_head_size(mesh, *, min_vertices: int = MIN_HEAD_VERTICES, min_faces: int = MIN_HEAD_FACES) -> None:
    """Raise MeshError when ``mesh`` (vertices (V, 3), faces (F, 3)) is far too small to be a head."""
    V, F = len(mesh.vertices), len(mesh.faces)
    name = mesh.source or "mesh"
    if V < min_vertices:
        raise MeshError(f"{name}: too small to rig ({V} vertices; a head needs at least {min_vertices})")
    if F < min_faces:
        raise MeshError(f"{name}: too small to rig ({F} triangles; a head needs at least {min_faces})")


def _human(n: int) -> str:
    for unit, k in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= k:
            return f"{n / k:.1f} {unit}"
    return f"{n} bytes"


__all__ = [
    "DEFAULT_MAX_FACES",
    "DEFAULT_MAX_FILE_BYTES",
    "MIN_HEAD_FACES",
    "MIN_HEAD_VERTICES",
    "check_counts",
    "check_file_size",
    "check_head_size",
    "max_file_bytes",
]

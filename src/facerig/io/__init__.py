"""Mesh and rig formats. Readers keep the file's vertex count and order exactly.

:func:`load_mesh` is the one entry point for user meshes: it dispatches on the suffix
(``.obj``, ``.ply``, ``.stl``, ``.gltf``, ``.glb``, ``.vrm`` (a glTF binary avatar:
:mod:`facerig.io.vrm`), ``.fbx``), then validates
(:func:`facerig.io.validate.validate_mesh`). Orientation (``up`` / ``forward``) is *not*
applied here: vertices are the file's, and the computation frame lives in
:mod:`facerig.geometry.frame`.
"""

from __future__ import annotations

import os
from pathlib import Path

from facerig.errors import MeshError
from facerig.io.limits import DEFAULT_MAX_FACES, check_file_size
from facerig.io.mesh import Mesh

SUPPORTED_SUFFIXES = (".obj", ".ply", ".stl", ".gltf", ".glb", ".vrm", ".fbx")


def read_mesh(
    path: str | os.PathLike,
    *,
    max_vertices: int | None = None,
    max_faces: int | None = DEFAULT_MAX_FACES,
    max_bytes: int | None = None,
) -> Mesh:
    """Read a mesh file without validating it (vertices (V, 3) exactly the file's, in order).

    ``max_bytes`` caps the file size before anything is read (None: 2 GB or
    ``FACERIG_MAX_FILE_BYTES``; see :mod:`facerig.io.limits`); ``max_vertices`` / ``max_faces``
    are checked as soon as the reader knows the counts (OBJ, PLY, STL).

    Raises MeshError for a missing / empty / unsupported / unparsable / too large file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        what = f"'{path.suffix}'" if path.suffix else "no suffix"
        raise MeshError(f"{path}: unsupported mesh format ({what}); use one of {', '.join(SUPPORTED_SUFFIXES)}")
    if not path.exists():
        raise MeshError(f"{path}: no such file")
    if path.is_dir():
        raise MeshError(f"{path}: is a folder, not a mesh file")
    size = check_file_size(path, max_bytes)
    if size == 0:
        raise MeshError(f"{path}: empty file")
    limits = {"max_vertices": max_vertices, "max_faces": max_faces, "max_bytes": max_bytes}
    if suffix == ".obj":
        from facerig.io.obj import read_obj

        return read_obj(path, **limits)
    from facerig.io import readers

    if suffix == ".ply":
        return readers.read_ply(path, **limits)
    if suffix == ".stl":
        return readers.read_stl(path, **limits)
    reader = {
        ".gltf": readers.read_gltf,
        ".glb": readers.read_gltf,
        ".vrm": readers.read_gltf,
        ".fbx": readers.read_fbx,
    }[suffix]
    return reader(path)


def load_mesh(
    path: str | os.PathLike,
    *,
    max_vertices: int | None = 1_000_000,
    allow_degenerate: bool = False,
    allow_unreferenced: bool = False,
    max_faces: int | None = DEFAULT_MAX_FACES,
    max_bytes: int | None = None,
) -> Mesh:
    """Read and validate a user mesh.

    Args:
        path: OBJ / PLY / STL / glTF / GLB / VRM (FBX if Blender's ``bpy`` is installed).
        max_vertices: refuse meshes with more vertices (None = no limit).
        allow_degenerate: drop degenerate / duplicate triangles from ``faces`` instead of
            raising (vertices untouched; see :mod:`facerig.io.validate`).
        allow_unreferenced: accept vertices no face uses (the rig moves them with the nearest
            surface point; :func:`facerig.models.registry.rig_mesh` repairs both by default).
        max_faces, max_bytes: see :func:`read_mesh`.

    Returns:
        Mesh with ``vertices`` (V, 3) float64 exactly as in the file, in file order, and
        ``faces`` (F, 3) int64 triangles.

    Raises:
        MeshError: one line describing what is wrong with the file.
    """
    from facerig.io.validate import validate_mesh

    mesh = read_mesh(path, max_vertices=max_vertices, max_faces=max_faces, max_bytes=max_bytes)
    return validate_mesh(mesh, max_vertices, allow_degenerate=allow_degenerate, allow_unreferenced=allow_unreferenced)


__all__ = ["SUPPORTED_SUFFIXES", "Mesh", "load_mesh", "read_mesh"]

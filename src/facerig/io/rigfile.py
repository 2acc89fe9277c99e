"""The one rig loader: every rig format facerig writes, read into a checked :class:`~facerig.io.rig.Rig`.

Formats (by path):

- ``.npz``: :func:`facerig.io.rig.load_rig` (member shapes checked from the zip headers first);
- ``.glb`` / ``.gltf``: :func:`facerig.io.gltf.read_rig_gltf` (the document's declared sizes
  checked first); the returned :class:`Mesh` keeps UVs, normals and materials for re-export;
- ``.fbx``: :func:`facerig.io.fbx.read_rig_fbx` (Blender's ``bpy``, optional);
- a folder with ``rig.json``: :func:`facerig.io.objset.read_rig_obj_folder` (the mesh is the
  neutral OBJ, polygons and UVs kept).

Every rig is refused with one-line :class:`FacerigError` when its arrays would take more than
:func:`facerig.io.rig.max_rig_bytes` (checked before anything is expanded), and when it has no
vertices, mismatched shapes, non-finite neutral / deltas, out-of-range faces or duplicate
shape names (:func:`check_rig`).

``facerig animate``, ``facerig view`` and any script reading a rig go through here.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from facerig.errors import FacerigError
from facerig.io.mesh import Mesh
from facerig.io.rig import Rig, format_bytes, load_rig, max_rig_bytes

RIG_SUFFIXES = (".npz", ".glb", ".gltf", ".fbx")

_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_ITEMSIZE = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
_MAX_JSON = 64 << 20  # a glTF JSON document larger than this is not a rig


def read_rig(path: str | os.PathLike, *, max_bytes: int | None = None, head: str | os.PathLike | None = None) -> Rig:
    """Read and check a rig in any supported format (see the module doc).

    Returns:
        Rig: names (K,), deltas (K, V, 3) float32, neutral (V, 3) float64, faces (F, 3) or None.

    Raises:
        FacerigError: missing / unknown / malformed / too large / invalid rig (one line).
    """
    return read_rig_and_mesh(path, max_bytes=max_bytes, head=head)[0]


def read_rig_and_mesh(
    path: str | os.PathLike, *, max_bytes: int | None = None, head: str | os.PathLike | None = None
) -> tuple[Rig, Mesh | None]:
    """Read and check a rig, with the mesh it was stored on when the format has one.

    Args:
        path: ``.npz``, ``.glb``/``.gltf``, ``.fbx`` or an OBJ rig folder (``rig.json``).
        max_bytes: most bytes the rig's arrays may take once loaded (default
            :func:`facerig.io.rig.max_rig_bytes`, 1 GiB or ``FACERIG_MAX_RIG_BYTES``).
        head: a mesh file with the rig's vertex count, for a rig stored without its neutral
            (an author's ``NAME.blendshapes.npz``) or without faces; it must match the rig's V.

    Returns:
        ``(rig, mesh)``: the checked rig, and a :class:`Mesh` with the same V (glTF: per-vertex
        UVs, normals, materials; FBX / OBJ folder: polygons and UVs) or None for an NPZ.

    Raises:
        FacerigError: see :func:`read_rig`.
    """
    p = Path(path)
    limit = max_rig_bytes() if max_bytes is None else int(max_bytes)
    head_mesh = None
    if head is not None:
        from facerig.io import load_mesh

        head_mesh = load_mesh(head, allow_degenerate=True, allow_unreferenced=True)
    if p.is_dir():
        if not (p / "rig.json").is_file():
            raise FacerigError(f"{p}: folder without rig.json (not a facerig OBJ rig folder)")
        from facerig.io.objset import read_rig_obj_folder

        rig, mesh = read_rig_obj_folder(p, max_bytes=limit)
    elif not p.exists():
        raise FacerigError(f"{p}: no such rig file")
    else:
        suffix = p.suffix.lower()
        if suffix not in RIG_SUFFIXES:
            raise FacerigError(
                f"{p}: unknown rig format {p.suffix!r}; use a .npz, .glb/.gltf, .fbx or an OBJ rig folder"
            )
        if suffix == ".npz":
            rig = load_rig(p, max_bytes=limit, neutral=None if head_mesh is None else head_mesh.vertices)
            mesh = head_mesh
        elif suffix in (".glb", ".gltf"):
            check_gltf_size(p, limit)
            from facerig.io.gltf import read_rig_gltf

            rig, mesh = read_rig_gltf(p)
        else:
            if p.stat().st_size > limit:
                raise FacerigError(
                    f"{p}: {format_bytes(p.stat().st_size)} file, over the "
                    f"{format_bytes(limit)} rig limit (FACERIG_MAX_RIG_BYTES)"
                )
            from facerig.io.fbx import read_rig_fbx

            mesh, rig = read_rig_fbx(p)
            if rig is None:
                raise FacerigError(f"{p}: the FBX has no shape keys (not a rig)")
    if head_mesh is not None:
        if head_mesh.num_vertices != rig.num_vertices:
            raise FacerigError(
                f"{head}: {head_mesh.num_vertices:,} vertices, the rig {p.name} has {rig.num_vertices:,}"
            )
        if rig.faces is None or len(rig.faces) == 0:
            rig.faces = head_mesh.faces
    check_rig(rig, p, max_bytes=limit)
    if mesh is not None and mesh.num_vertices != rig.num_vertices:
        mesh = None  # cannot carry its UVs / polygons over; the rig alone is still right
    return rig, mesh


def check_rig(rig: Rig, source: str | os.PathLike = "rig", *, max_bytes: int | None = None) -> Rig:
    """Refuse a rig nothing downstream can use; return it unchanged otherwise.

    Checks: V > 0; neutral (V, 3) and deltas (K, V, 3); K names, unique; all finite;
    faces (F, 3) integers in [0, V); arrays within ``max_bytes``.

    Raises:
        FacerigError: one line naming ``source`` and the first problem found.
    """
    limit = max_rig_bytes() if max_bytes is None else int(max_bytes)
    neutral, deltas = np.asarray(rig.neutral), np.asarray(rig.deltas)
    if neutral.ndim != 2 or neutral.shape[1] != 3:
        raise FacerigError(f"{source}: neutral must be (V, 3), got {neutral.shape}")
    V, K = neutral.shape[0], len(rig.names)
    if V == 0:
        raise FacerigError(f"{source}: the rig has no vertices")
    if deltas.shape != (K, V, 3):
        raise FacerigError(f"{source}: deltas are {deltas.shape}, expected ({K}, {V}, 3) for {K} names")
    if deltas.nbytes + neutral.nbytes > limit:
        raise FacerigError(
            f"{source}: rig arrays take {format_bytes(deltas.nbytes + neutral.nbytes)}, over the "
            f"{format_bytes(limit)} limit (FACERIG_MAX_RIG_BYTES)"
        )
    seen: set[str] = set()
    for n in rig.names:
        if n in seen:
            raise FacerigError(f"{source}: shape name {n!r} appears twice")
        seen.add(n)
    bad = ~np.isfinite(neutral).all(axis=1)
    if bad.any():
        raise FacerigError(
            f"{source}: the neutral has non-finite coordinates (NaN/inf) at {int(bad.sum())} "
            f"vertices, first {int(np.argmax(bad))}"
        )
    if K:
        bad_k = ~np.isfinite(deltas.reshape(K, -1)).all(axis=1)
        if bad_k.any():
            k = int(np.argmax(bad_k))
            raise FacerigError(
                f"{source}: shape {rig.names[k]!r} has non-finite deltas (NaN/inf)"
                + (f", and {int(bad_k.sum()) - 1} more shapes" if bad_k.sum() > 1 else "")
            )
    if rig.faces is not None:
        f = np.asarray(rig.faces)
        if f.size:
            if f.ndim != 2 or f.shape[1] != 3 or f.dtype.kind not in "iu":
                raise FacerigError(f"{source}: faces must be (F, 3) integers, got {f.shape} {f.dtype}")
            if f.min() < 0 or f.max() >= V:
                raise FacerigError(f"{source}: faces index vertices outside 0..{V - 1}")
    return rig


def check_gltf_size(path: str | os.PathLike, max_bytes: int) -> None:
    """Refuse a glTF/GLB whose declared buffers or rig arrays exceed ``max_bytes``, reading only
    the JSON document (and the sizes of external buffer files).

    Counted: the file itself, every buffer's ``byteLength`` (external files by their size),
    every accessor's ``count x components x itemsize`` (sparse accessors expand to their full
    count), and the rig the first morph-target mesh makes, ``(K + 2) x V x 3`` float32/float64.

    Raises:
        FacerigError: one line with the size found and the limit.
    """
    p = Path(path)
    doc = _gltf_json(p, max_bytes)

    def refuse(what: str, n: int) -> None:
        if n > max_bytes:
            raise FacerigError(
                f"{p}: {what} {format_bytes(n)}, over the {format_bytes(max_bytes)} rig limit (FACERIG_MAX_RIG_BYTES)"
            )

    try:
        refuse("file of", p.stat().st_size)
        buffers = doc.get("buffers") or []
        refuse("buffers declare", sum(int(b.get("byteLength", 0)) for b in buffers))
        external = 0
        for b in buffers:
            uri = b.get("uri")
            if isinstance(uri, str) and not uri.startswith("data:"):
                from urllib.parse import unquote

                q = p.parent / unquote(uri)
                if q.is_file():
                    external += q.stat().st_size
        refuse("external buffer files of", external)
        accessors = doc.get("accessors") or []
        for i, a in enumerate(accessors):
            refuse(
                f"accessor {i} expands to",
                int(a.get("count", 0)) * _COMPONENTS.get(a.get("type"), 16) * _ITEMSIZE.get(a.get("componentType"), 4),
            )
        meshes = doc.get("meshes") or []
        gm = next(
            (m for m in meshes if any(q.get("targets") for q in m.get("primitives", []))), meshes[0] if meshes else None
        )
        if gm is not None:
            prims = gm.get("primitives", [])
            pos = {q["attributes"]["POSITION"] for q in prims if "POSITION" in q.get("attributes", {})}
            V = sum(int(accessors[i].get("count", 0)) for i in pos)
            K = max((len(q.get("targets") or []) for q in prims), default=0)
            refuse(f"the rig ({K} shapes x {V} vertices) would take", K * V * 12 + V * 24)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
        raise FacerigError(f"{p}: malformed glTF ({e.__class__.__name__}: {e})") from None


def _gltf_json(p: Path, max_bytes: int) -> dict[str, Any]:
    """The JSON document of a .glb (first chunk, read alone) or .gltf (the file)."""
    try:
        with open(p, "rb") as fh:
            head = fh.read(20)
            if head[:4] == b"glTF":
                if len(head) < 20:
                    raise FacerigError(f"{p}: truncated GLB")
                clen, ctype = struct.unpack_from("<II", head, 12)
                if ctype != 0x4E4F534A:
                    raise FacerigError(f"{p}: GLB does not start with a JSON chunk")
                if clen > _MAX_JSON:
                    raise FacerigError(f"{p}: GLB JSON chunk of {clen / 1e6:.0f} MB (not a rig)")
                raw = fh.read(clen)
            else:
                size = os.fstat(fh.fileno()).st_size
                if size > _MAX_JSON + max_bytes * 4 // 3:  # base64 data URIs are 4/3 of the bytes
                    raise FacerigError(f"{p}: {format_bytes(size)} glTF, over the rig limit (FACERIG_MAX_RIG_BYTES)")
                raw = head + fh.read()
    except OSError as e:
        raise FacerigError(f"{p}: cannot read ({e.strerror or e})") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FacerigError(f"{p}: not a glTF file ({e.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise FacerigError(f"{p}: not a glTF file (JSON is not an object)")
    return doc

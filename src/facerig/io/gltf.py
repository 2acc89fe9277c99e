"""glTF 2.0 export / import of blendshape rigs (``.glb`` binary or ``.gltf`` with an embedded buffer).

What :func:`save_rig_gltf` writes
---------------------------------
One scene, one node, one mesh. Every vertex of the input is written once, in the input's order
(vertex ``i`` of the GLB is vertex ``i`` of the input file), as float32 ``POSITION``.

- **Primitives / materials.** When the input has materials (``mesh.info["materials"]`` +
  ``mesh.info["face_material"]``) there is one primitive per material used, each with its own
  ``indices``. A glTF / GLB input's materials, textures, samplers and images are carried over
  as they were (:mod:`facerig.io.materials`; images embedded as bufferViews, material-related
  extensions declared); an OBJ's ``mtllib`` materials become glTF materials with ``Kd`` as base
  colour and the ``map_Kd`` image embedded as base colour texture (:mod:`facerig.io.mtl`).
  Without a material library, each OBJ material name gets default PBR values. Textures are
  dropped (noted) when no UVs are written. All primitives *share* the same ``POSITION`` /
  ``NORMAL`` / ``TEXCOORD_0`` accessors and the same morph-target accessors, so nothing is
  duplicated or reordered. Triangles are the input's fan-triangulated polygons, in file order
  within each material.
- **Morph targets.** One target per rig shape, ``POSITION`` deltas only (float32, input units).
  Names are in ``mesh.extras.targetNames`` (ARKit names, or ICT FaceKit names with
  ``names="ict"``); default ``mesh.weights`` are all 0. Lossless by default: the deltas are
  the rig's float32 values bit for bit (Blender / three.js read back the NPZ's numbers). A
  target is stored *sparse* (only the vertices whose delta is not exactly zero: ``uint16`` /
  ``uint32`` indices + float32 values) when that is smaller than the dense ``V x 12`` bytes,
  and dense otherwise (``sparse="auto"``, or force ``True``/``False``). ``delta_epsilon > 0``
  (e.g. :data:`DELTA_EPS_REL` = 1e-4 of the bbox diagonal) is a lossy option that writes
  vertices moving less than that as zero, for smaller files. An all-zero target (e.g.
  ``tongueOut`` when the method has none) has no data at all (an accessor without bufferView
  reads as zeros). Every ``POSITION`` accessor (base and targets, sparse ones included) has
  ``min``/``max`` as the spec requires.
- **UVs (policy).** glTF attributes are per vertex but OBJ UVs are per face corner. The vertex
  count and order of the input is never changed, so: if every vertex has a single UV value
  across its corners, ``TEXCOORD_0`` is exact. If the UV layout has seams (a vertex with
  several UVs), each seam vertex gets the UV used by the *most* of its corners (ties: the
  first), which keeps every triangle away from the seams exact and smears the texture only on
  triangles along seams; the number of seam vertices and the policy are recorded in
  ``asset.extras.facerig.uv``. ``uv_seams="drop"`` writes no UVs instead when seams exist.
  V is flipped (``v_gltf = 1 - v_obj``) as glTF's texture origin is top-left.
- **Normals.** Input per-vertex normals are written (normalised). Without them, smooth
  area-weighted vertex normals are computed (``normals="auto"``; ``normals=None`` writes
  none and viewers fall back to flat shading). Morph targets carry no normal deltas.
- **Animation (optional).** :class:`GltfAnimation` ``weights (T, K)`` at times ``(T,)`` becomes
  one glTF animation with a sampler on the node's ``weights`` path (``LINEAR`` or ``STEP``).
- **extras.** ``asset.extras.facerig``: version, method, units, vertex count, epsilon, UV /
  normal policy, sparse stats; ``mesh.extras``: ``targetNames`` (+ ``arkitNames``).

:func:`load_rig_gltf` reads any glTF/GLB with morph targets (dense or sparse) back into a
:class:`~facerig.io.rig.Rig` (the node transform is ignored: vertices are the raw accessor
values, which is what facerig writes), through :mod:`facerig.io.gltf_decode`, the one glTF
decoder of facerig (the mesh reader uses it too).
"""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facerig.errors import FacerigError, MeshError
from facerig.io.atomic import write_bytes_atomic
from facerig.io.mesh import Mesh
from facerig.io.rig import Rig

#: a lossy ``delta_epsilon`` for smaller files (times the neutral's bbox diagonal); the default is 0 (lossless)
DELTA_EPS_REL = 1e-4

_FLOAT, _USHORT, _UINT, _UBYTE, _SHORT, _BYTE = 5126, 5123, 5125, 5121, 5122, 5120
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_DTYPES = {_FLOAT: np.float32, _USHORT: np.uint16, _UINT: np.uint32, _UBYTE: np.uint8, _SHORT: np.int16, _BYTE: np.int8}
_DRACO = "KHR_draco_mesh_compression"


@dataclass
class GltfAnimation:
    """A morph-weight animation for :func:`save_rig_gltf`.

    Attributes:
        weights: (T, K) float weights, columns in the rig's name order.
        times: (T,) float seconds, strictly increasing (``None``: ``arange(T) / fps``).
        fps: frames per second used when ``times`` is None (also recorded in extras).
        interpolation: ``"LINEAR"`` or ``"STEP"``.
        name: animation name.
        extras: JSON-able notes (source take, clamping, ignored columns ...).
    """

    weights: np.ndarray
    times: np.ndarray | None = None
    fps: float = 60.0
    interpolation: str = "LINEAR"
    name: str = "take"
    extras: dict[str, Any] | None = None


# --------------------------------------------------------------------------- names


def ict_name(arkit: str) -> str:
    """ARKit name -> ICT FaceKit name (``eyeBlinkLeft`` -> ``eyeBlink_L``; ``jawLeft``,
    ``mouthLeft``/``mouthRight``, ``browInnerUp``, ``cheekPuff`` and non-ARKit names unchanged)."""
    if arkit in ("jawLeft", "jawRight", "mouthLeft", "mouthRight"):
        return arkit
    for side, suffix in (("Left", "_L"), ("Right", "_R")):
        if arkit.endswith(side) and len(arkit) > len(side):
            return arkit[: -len(side)] + suffix
    return arkit


def _target_names(names: Sequence[str], style: str) -> list[str]:
    if style == "arkit":
        return list(names)
    if style == "ict":
        return [ict_name(n) for n in names]
    raise FacerigError(f"names={style!r}: expected 'arkit' or 'ict'")


# --------------------------------------------------------------------------- buffer builder


class _Blob:
    """Accumulates the binary buffer and bufferView/accessor JSON dicts."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.views: list[dict] = []
        self.accessors: list[dict] = []
        self.material_json: dict | None = None  # textures / samplers / images of embedded materials

    def view(self, data: np.ndarray, target: int | None = None) -> int:
        raw = np.ascontiguousarray(data).tobytes()
        pad = (-self.size) % 4
        if pad:
            self.chunks.append(b"\0" * pad)
            self.size += pad
        v: dict[str, Any] = {"buffer": 0, "byteOffset": self.size, "byteLength": len(raw)}
        if target is not None:
            v["target"] = target
        self.chunks.append(raw)
        self.size += len(raw)
        self.views.append(v)
        return len(self.views) - 1

    def accessor(self, acc: dict) -> int:
        self.accessors.append(acc)
        return len(self.accessors) - 1

    def dense(self, data: np.ndarray, type_: str, target: int | None = None, minmax: bool = False) -> int:
        comp = {np.dtype(np.float32): _FLOAT, np.dtype(np.uint16): _USHORT, np.dtype(np.uint32): _UINT}[data.dtype]
        acc: dict[str, Any] = {
            "bufferView": self.view(data, target),
            "componentType": comp,
            "count": int(data.shape[0]),
            "type": type_,
        }
        if minmax:
            d = data.reshape(data.shape[0], -1)
            acc["min"] = [float(x) for x in d.min(0)]
            acc["max"] = [float(x) for x in d.max(0)]
        return self.accessor(acc)

    def bytes(self) -> bytes:
        out = b"".join(self.chunks)
        return out + b"\0" * ((-len(out)) % 4)


# --------------------------------------------------------------------------- save


def save_rig_gltf(
    path: str | os.PathLike,
    rig: Rig,
    mesh: Mesh | None = None,
    *,
    names: str = "arkit",
    animation: GltfAnimation | None = None,
    sparse: bool | str = "auto",
    uv_seams: str = "majority",
    normals: str | None = "auto",
    delta_epsilon: float = 0.0,
) -> dict:
    """Write ``rig`` as a glTF 2.0 file with one morph target per shape (see module docstring).

    Args:
        path: ``.glb`` (binary) or ``.gltf`` (JSON with the buffer embedded as a data URI).
        rig: the rig; ``rig.neutral`` (V, 3) are the positions, ``rig.deltas`` (K, V, 3) the
            targets, ``rig.faces`` (F, 3) the triangles when ``mesh`` is None.
        mesh: the input :class:`Mesh` (same V) for polygons, materials, UVs and normals.
        names: ``"arkit"`` (rig names as they are) or ``"ict"`` (ICT FaceKit style
            ``eyeBlink_L``).
        animation: optional :class:`GltfAnimation` (weights (T, K)).
        sparse: ``"auto"`` (sparse when smaller), True (always when non-empty) or False.
        uv_seams: ``"majority"`` (most-used UV per seam vertex) or ``"drop"`` (no UVs if seams).
        normals: ``"auto"`` (input normals, else computed smooth normals) or None.
        delta_epsilon: relative threshold (times the bbox diagonal) under which a vertex's
            delta is written as zero; default 0: lossless, the float32 deltas exactly as in
            the rig (:data:`DELTA_EPS_REL` = 1e-4 is a lossy setting for smaller files).

    Returns:
        summary dict: ``path``, ``bytes``, ``vertices``, ``triangles``, ``targets``,
        ``sparse_targets``, ``empty_targets``, ``primitives``, ``uv`` (policy notes),
        ``normals`` and ``animation`` (frames or None).

    Raises:
        FacerigError: unsupported suffix, no faces, mesh/rig vertex count mismatch, bad
            animation shape.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".glb", ".gltf"):
        raise FacerigError(f"{path}: glTF output must end in .glb or .gltf")
    V, K = rig.num_vertices, len(rig.names)
    if V == 0:
        raise FacerigError("cannot export an empty rig (0 vertices)")
    if mesh is not None and mesh.num_vertices != V:
        raise FacerigError(
            f"mesh has {mesh.num_vertices} vertices but the rig has {V}; pass the mesh the rig was made from"
        )
    tri = mesh.faces if mesh is not None and mesh.num_faces else rig.faces
    if tri is None or len(tri) == 0:
        raise FacerigError("cannot export a glTF without faces (the rig has no faces and no mesh was given)")
    tri = np.asarray(tri, dtype=np.int64).reshape(-1, 3)
    if tri.min() < 0 or tri.max() >= V:
        raise FacerigError(f"face index out of range (0..{V - 1})")
    target_names = _target_names(rig.names, names)

    pos = rig.neutral.astype(np.float32)
    diag = float(np.linalg.norm(rig.neutral.max(0) - rig.neutral.min(0)))
    if not (delta_epsilon >= 0):
        raise FacerigError(f"delta_epsilon must be >= 0, got {delta_epsilon}")
    eps = delta_epsilon * diag
    idx_dtype = np.uint16 if V < 65535 else np.uint32
    blob = _Blob()
    summary: dict[str, Any] = {"path": str(path), "vertices": V, "triangles": len(tri), "targets": K}

    attributes = {"POSITION": blob.dense(pos, "VEC3", _ARRAY_BUFFER, minmax=True)}

    # normals
    nrm = None
    if normals == "auto":
        if mesh is not None and mesh.normals is not None and np.shape(mesh.normals) == (V, 3):
            nrm, summary["normals"] = _unit(np.asarray(mesh.normals, np.float64), tri, rig.neutral), "input"
        else:
            nrm, summary["normals"] = _unit(None, tri, rig.neutral), "computed (smooth, area-weighted)"
    elif normals is None:
        summary["normals"] = "none"
    else:
        raise FacerigError(f"normals={normals!r}: expected 'auto' or None")
    if nrm is not None:
        attributes["NORMAL"] = blob.dense(nrm.astype(np.float32), "VEC3", _ARRAY_BUFFER)

    # uvs
    uv, uv_note = (
        per_vertex_uv(mesh, policy=uv_seams) if mesh is not None else (None, {"policy": "none (no mesh given)"})
    )
    summary["uv"] = uv_note
    if uv is not None:
        tc = np.stack([uv[:, 0], 1.0 - uv[:, 1]], 1).astype(np.float32)
        attributes["TEXCOORD_0"] = blob.dense(tc, "VEC2", _ARRAY_BUFFER)

    # morph targets (shared by every primitive)
    targets, n_sparse, n_empty, n_nonzero = [], 0, 0, 0
    dense_bytes = V * 12
    for k in range(K):
        d = rig.deltas[k].astype(np.float32, copy=True)
        if eps > 0:
            d[np.abs(d).max(1) <= eps] = 0.0
        keep = (d.view(np.uint32) != 0).any(1)  # exactly-zero (+0.0) rows only: -0.0 is kept, bit for bit
        nz = np.flatnonzero(keep)
        n_nonzero += len(nz)
        acc: dict[str, Any] = {"componentType": _FLOAT, "count": V, "type": "VEC3", "name": target_names[k]}
        if len(nz) == 0:
            acc["min"] = [0.0, 0.0, 0.0]
            acc["max"] = [0.0, 0.0, 0.0]
            n_empty += 1
        else:
            sparse_bytes = len(nz) * (12 + np.dtype(idx_dtype).itemsize)
            use_sparse = sparse is True or (sparse == "auto" and sparse_bytes < dense_bytes)
            lo = d.min(0) if not use_sparse or len(nz) == V else np.minimum(d[nz].min(0), 0.0)
            hi = d.max(0) if not use_sparse or len(nz) == V else np.maximum(d[nz].max(0), 0.0)
            acc["min"] = [float(x) for x in lo]
            acc["max"] = [float(x) for x in hi]
            if use_sparse:
                acc["sparse"] = {
                    "count": len(nz),
                    "indices": {
                        "bufferView": blob.view(nz.astype(idx_dtype)),
                        "componentType": _USHORT if idx_dtype == np.uint16 else _UINT,
                    },
                    "values": {"bufferView": blob.view(d[nz])},
                }
                n_sparse += 1
            else:
                acc["bufferView"] = blob.view(d, _ARRAY_BUFFER)
        targets.append({"POSITION": blob.accessor(acc)})
    summary.update(sparse_targets=n_sparse, empty_targets=n_empty, nonzero_vertices=n_nonzero)

    # primitives: one per material, all sharing the vertex + target accessors
    materials_json: list[dict] = []
    groups: list[tuple[np.ndarray, int | None]] = []
    mat_notes: list[str] = []
    extensions_used: list[str] = []
    extensions_required: list[str] = []
    mats = mesh.info.get("materials") if mesh is not None else None
    fmat = mesh.info.get("face_material") if mesh is not None else None
    if mats and fmat is not None and len(fmat) == len(tri):
        fmat = np.asarray(fmat, np.int64)
        mset = _material_set(mesh, len(mats), uv is not None)
        if mset is not None:
            materials_json, mat_notes = _embed_materials(blob, mset), list(mset.notes)
            extensions_used, extensions_required = mset.extensions_used, mset.extensions_required
            for m in sorted(set(fmat.tolist())):
                groups.append((tri[fmat == m], None if m < 0 else m))
        else:
            for m, name in enumerate(mats):
                sel = fmat == m
                if sel.any():
                    materials_json.append(_material(name or f"material{m}"))
                    groups.append((tri[sel], len(materials_json) - 1))
            if (fmat < 0).any():
                groups.append((tri[fmat < 0], None))
    else:
        groups.append((tri, None))
    primitives = []
    for faces, mat in groups:
        prim: dict[str, Any] = {
            "attributes": dict(attributes),
            "indices": blob.dense(faces.reshape(-1).astype(idx_dtype), "SCALAR", _ELEMENT_ARRAY_BUFFER),
            "mode": 4,
        }
        if K:
            prim["targets"] = targets
        if mat is not None:
            prim["material"] = mat
        primitives.append(prim)
    summary["primitives"] = len(primitives)

    mesh_json: dict[str, Any] = {
        "name": Path(mesh.source).stem if mesh is not None and mesh.source else "head",
        "primitives": primitives,
    }
    if K:
        mesh_json["weights"] = [0.0] * K
        mesh_json["extras"] = {"targetNames": target_names, "arkitNames": list(rig.names)}

    # animation
    animations = []
    summary["animation"] = None
    if animation is not None:
        animations.append(_animation(blob, animation, K))
        summary["animation"] = int(np.asarray(animation.weights).shape[0])

    from facerig import __version__

    meta = rig.meta or {}
    facerig_extras = {
        "version": __version__,
        "method": meta.get("method"),
        "units": meta.get("units"),
        "vertices": V,
        "vertexOrder": "identical to the input file (vertex i of this file = vertex i of the input)",
        "deltaEpsilon": eps,
        "deltaEpsilonRule": f"vertices whose delta components are all <= {delta_epsilon:g} * bbox diagonal "
        "in magnitude are written as 0",
        "uv": uv_note,
        "normals": summary.get("normals"),
        "sparseTargets": n_sparse,
        "emptyTargets": n_empty,
    }
    if meta.get("missing"):
        facerig_extras["missing"] = meta.get("missing")
    if materials_json:
        facerig_extras["materials"] = {"count": len(materials_json), "notes": mat_notes}
    summary["materials"] = len(materials_json)
    doc: dict[str, Any] = {
        "asset": {
            "version": "2.0",
            "generator": f"facerig {__version__}",
            "extras": {"facerig": _jsonable(facerig_extras)},
        },
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"name": mesh_json["name"], "mesh": 0}],
        "meshes": [mesh_json],
        "accessors": blob.accessors,
        "bufferViews": blob.views,
    }
    if materials_json:
        doc["materials"] = materials_json
    if blob.material_json:
        doc.update({k: v for k, v in blob.material_json.items() if v})
    if extensions_used:
        doc["extensionsUsed"] = list(extensions_used)
    if extensions_required:
        doc["extensionsRequired"] = list(extensions_required)
    if animations:
        doc["animations"] = animations
    data = _encode(doc, blob.bytes(), binary=suffix == ".glb")
    write_bytes_atomic(path, data)
    summary["bytes"] = len(data)
    return summary


def _encode(doc: dict, bin_data: bytes, *, binary: bool) -> bytes:
    """JSON doc + buffer -> GLB bytes (JSON chunk padded with spaces, BIN chunk with zeros) or
    embedded .gltf bytes (the buffer as a base64 data URI)."""
    if binary:
        doc["buffers"] = [{"byteLength": len(bin_data)}]
        text = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode("utf-8")
        text += b" " * ((-len(text)) % 4)
        body = bin_data + b"\0" * ((-len(bin_data)) % 4)
        total = 12 + 8 + len(text) + (8 + len(body) if body else 0)
        out = [struct.pack("<4sII", b"glTF", 2, total), struct.pack("<II", len(text), 0x4E4F534A), text]
        if body:
            out += [struct.pack("<II", len(body), 0x004E4942), body]
        return b"".join(out)
    uri = "data:application/octet-stream;base64," + base64.b64encode(bin_data).decode("ascii")
    doc["buffers"] = [{"byteLength": len(bin_data), "uri": uri}]
    return json.dumps(doc, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _material_set(mesh: Mesh, n_names: int, has_uv: bool):
    """The input's :class:`~facerig.io.materials.MaterialSet` (glTF input, or OBJ + MTL), or None
    when it has none or it does not match ``n_names`` materials; textures dropped without UVs."""
    mset = mesh.info.get("gltf_materials")
    if mset is None and mesh.info.get("format", "obj") == "obj" and mesh.info.get("mtllib"):
        from facerig.io.mtl import materials_from_obj

        mset = materials_from_obj(mesh)
    if mset is None or len(mset.materials) != n_names:
        return None
    if not has_uv and mset.textures:
        mset = mset.without_textures()
    return mset


def _embed_materials(blob: _Blob, mset) -> list[dict]:
    """Put a MaterialSet's images in ``blob`` as bufferViews; returns the materials JSON and
    leaves ``blob.material_json`` = {"textures", "samplers", "images"}."""
    images = []
    for img in mset.images:
        view = blob.view(np.frombuffer(img["data"], np.uint8))
        j: dict[str, Any] = {"bufferView": view, "mimeType": img["mimeType"]}
        if img.get("name"):
            j["name"] = str(img["name"])
        images.append(j)
    blob.material_json = {"textures": _jsonable(mset.textures), "samplers": _jsonable(mset.samplers), "images": images}
    return _jsonable(mset.materials)


def _material(name: str) -> dict:
    return {
        "name": name,
        "pbrMetallicRoughness": {
            "baseColorFactor": [0.8, 0.8, 0.8, 1.0],
            "metallicFactor": 0.0,
            "roughnessFactor": 0.7,
        },
        "doubleSided": False,
    }


def _animation(blob: _Blob, anim: GltfAnimation, K: int) -> dict:
    w = np.asarray(anim.weights, dtype=np.float32)
    if w.ndim != 2 or w.shape[1] != K:
        raise FacerigError(f"animation weights must be (T, {K}) for a {K}-shape rig, got {tuple(w.shape)}")
    T = w.shape[0]
    if T == 0:
        raise FacerigError("animation has no frames")
    if not np.isfinite(w).all():
        raise FacerigError("animation weights contain NaN or infinity")
    times = (
        np.arange(T, dtype=np.float64) / float(anim.fps) if anim.times is None else np.asarray(anim.times, np.float64)
    )
    if times.shape != (T,):
        raise FacerigError(f"animation times must be ({T},), got {times.shape}")
    t32 = times.astype(np.float32)
    if T > 1 and not (np.diff(t32) > 0).all():
        raise FacerigError("animation times must be strictly increasing")
    interp = anim.interpolation.upper()
    if interp not in ("LINEAR", "STEP"):
        raise FacerigError(f"interpolation {anim.interpolation!r}: expected LINEAR or STEP")
    t_acc = blob.dense(t32, "SCALAR", minmax=True)
    w_acc = blob.dense(w.reshape(-1), "SCALAR")
    out: dict[str, Any] = {
        "name": anim.name,
        "samplers": [{"input": t_acc, "output": w_acc, "interpolation": interp}],
        "channels": [{"sampler": 0, "target": {"node": 0, "path": "weights"}}],
    }
    ex = dict(anim.extras or {})
    ex.setdefault("fps", float(anim.fps))
    out["extras"] = _jsonable(ex)
    return out


def _unit(n: np.ndarray | None, tri: np.ndarray, verts: np.ndarray) -> np.ndarray:
    """(V, 3) unit normals: the given ones normalised, or smooth area-weighted ones; zero-length
    (unreferenced / degenerate) normals are replaced by computed ones, then by +Z."""
    V = verts.shape[0]
    if n is None or not np.isfinite(n).all():
        n = np.zeros((V, 3))
    length = np.linalg.norm(n, axis=1)
    if (length < 1e-12).any():
        a, b, c = verts[tri[:, 0]], verts[tri[:, 1]], verts[tri[:, 2]]
        fn = np.cross(b - a, c - a)  # |fn| = 2 * area
        acc = np.zeros((V, 3))
        for j in range(3):
            np.add.at(acc, tri[:, j], fn)
        bad = length < 1e-12
        n = n.copy()
        n[bad] = acc[bad]
        length = np.linalg.norm(n, axis=1)
    n = n / np.where(length > 1e-12, length, 1.0)[:, None]
    n[length <= 1e-12] = (0.0, 0.0, 1.0)
    return n


def _corners(mesh: Mesh) -> tuple[np.ndarray, np.ndarray] | None:
    """Flattened (C,) vertex and uv indices per face corner, or None if they don't match."""
    polys = mesh.polygons if mesh.polygons is not None else mesh.faces
    uvf = mesh.uv_faces

    def flat(x):
        if isinstance(x, np.ndarray):
            return x.reshape(-1).astype(np.int64)
        return np.concatenate([np.asarray(p, np.int64).reshape(-1) for p in x]) if len(x) else np.zeros(0, np.int64)

    cv, cu = flat(polys), flat(uvf)
    if cv.shape != cu.shape:
        return None
    return cv, cu


def per_vertex_uv(mesh: Mesh, policy: str = "majority") -> tuple[np.ndarray | None, dict]:
    """Per-vertex UVs from a mesh's per-corner UVs, keeping the vertex count.

    Args:
        mesh: with ``uv`` (T, 2) and ``uv_faces`` shaped like ``polygons`` (or ``faces``), or
            ``uv`` (V, 2) per vertex and ``uv_faces`` None.
        policy: ``"majority"`` (seam vertex -> UV of most of its corners, ties: first) or
            ``"drop"`` (no UVs at all when there is any seam).

    Returns:
        ``(uv (V, 2) float64 or None, note dict)``; vertices used by no face get (0, 0).
    """
    if policy not in ("majority", "drop"):
        raise FacerigError(f"uv_seams={policy!r}: expected 'majority' or 'drop'")
    if mesh.uv is None:
        return None, {"policy": "none (input has no UVs)"}
    uv = np.asarray(mesh.uv, np.float64)[:, :2]
    V = mesh.num_vertices
    if mesh.uv_faces is None:
        if uv.shape[0] == V:
            return uv, {"policy": "per-vertex UVs as given", "seamVertices": 0}
        return None, {"policy": "dropped (UVs without per-corner indices and not one per vertex)"}
    c = _corners(mesh)
    if c is None:
        return None, {"policy": "dropped (uv_faces do not match the polygons)"}
    cv, cu = c
    if cu.size and (cu.min() < 0 or cu.max() >= uv.shape[0]):
        return None, {"policy": "dropped (uv index out of range)"}
    # distinct (vertex, uv value) pairs with their corner counts
    keys = np.column_stack([cv.astype(np.float64), uv[cu]])
    pairs, first, counts = np.unique(keys, axis=0, return_index=True, return_counts=True)
    pv = pairs[:, 0].astype(np.int64)
    n_per_v = np.bincount(pv, minlength=V)
    seam = int((n_per_v > 1).sum())
    out = np.zeros((V, 2))
    # order: by vertex, then most corners first, then first occurrence
    order = np.lexsort((first, -counts, pv))
    pv_o = pv[order]
    lead = np.ones(len(order), bool)
    lead[1:] = pv_o[1:] != pv_o[:-1]
    chosen = order[lead]
    out[pv[chosen]] = pairs[chosen, 1:]
    if seam == 0:
        return out, {"policy": "exact (one UV per vertex)", "seamVertices": 0}
    if policy == "drop":
        return None, {
            "policy": f"dropped: {seam} seam vertices have several UVs (uv_seams='drop')",
            "seamVertices": seam,
        }
    return out, {
        "policy": "majority: each seam vertex keeps the UV used by most of its corners; triangles along UV "
        "seams show a stretched texture (the vertex count and order are kept, so seams cannot be split)",
        "seamVertices": seam,
    }


def _jsonable(o: Any) -> Any:
    return json.loads(
        json.dumps(
            o,
            default=lambda x: (
                x.item() if isinstance(x, np.generic) else (x.tolist() if isinstance(x, np.ndarray) else str(x))
            ),
        )
    )


# --------------------------------------------------------------------------- load


def _read_document(path: Path):
    """Parse .glb/.gltf -> (JSON dict, :class:`~facerig.io.gltf_decode.GltfDocument`) (kept for callers)."""
    from facerig.io.gltf_decode import load_document

    d = load_document(path)
    return d.json, d


def _read_accessor(doc: dict, buffers, index: int) -> np.ndarray:
    """Accessor ``index`` -> (count, ncomp) array; ``buffers`` is the document from :func:`_read_document`."""
    return buffers.accessor(index)


def read_gltf_document(path: str | os.PathLike):
    """Parse a .glb/.gltf file -> (glTF JSON dict, document for :func:`read_gltf_accessor`); MeshError if unreadable.

    The one decoder is :mod:`facerig.io.gltf_decode`; this pair is its dict-style front door."""
    return _read_document(Path(path))


def read_gltf_accessor(doc: dict, buffers, index: int) -> np.ndarray:
    """Accessor ``index`` -> (count, ncomp) array (strides, sparse and normalisation applied; checked)."""
    return _read_accessor(doc, buffers, index)


def read_rig_gltf(path: str | os.PathLike, *, max_bytes: int | None = None) -> tuple[Rig, Mesh]:
    """Read the first mesh with morph targets of a glTF/GLB (or the first mesh at all).

    Decoded by :mod:`facerig.io.gltf_decode` (the same decoder and checks as the mesh reader).

    Returns:
        ``(rig, mesh)``: rig with ``names`` (K,) from ``mesh.extras.targetNames`` (or the
        accessor names, or ``target<k>``), ``deltas`` (K, V, 3) float32, ``neutral`` (V, 3),
        ``faces`` (F, 3) of every primitive, ``meta`` from ``asset.extras.facerig``; and a
        :class:`Mesh` with the same vertices/faces, per-vertex ``uv`` (V, 2) (OBJ convention,
        V flipped back) and ``normals`` when present, ``info["materials"]`` /
        ``info["face_material"]`` / ``info["gltf_materials"]`` (textures included).
        Primitives that share one POSITION accessor share vertices; otherwise their vertices
        are concatenated in primitive order.

    Raises:
        FacerigError (MeshError): not a glTF, no meshes, malformed or out-of-range data.
    """
    from facerig.io.gltf_decode import load_document

    path = Path(path)
    doc = load_document(path, max_bytes=max_bytes)
    try:
        return _read_rig(doc, path)
    except FacerigError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as e:  # safety net
        msg = str(e).strip().splitlines()[0][:100] if str(e).strip() else ""
        raise MeshError(f"{path}: malformed glTF ({e.__class__.__name__}: {msg})") from None


def _read_rig(doc, path: Path) -> tuple[Rig, Mesh]:
    meshes = doc.items("meshes")
    if not meshes:
        raise doc.error("glTF has no meshes")

    def prims_of(m: dict) -> list:
        p = m.get("primitives", [])
        if not isinstance(p, list) or not all(isinstance(x, dict) for x in p):
            raise doc.error("mesh 'primitives' must be an array of objects")
        return p

    gi = next((i for i, m in enumerate(meshes) if any(p.get("targets") for p in prims_of(m))), 0)
    gm = meshes[gi]
    prims = []
    for p in prims_of(gm):
        attrs = doc.get_dict(p, "attributes", f"mesh {gi} primitive")
        if doc.get_int(p, "mode", f"mesh {gi} primitive", default=4) == 4 and "POSITION" in attrs:
            if _DRACO in doc.get_dict(p, "extensions", f"mesh {gi} primitive"):
                raise doc.error(
                    "a Draco-compressed rig cannot be read back (morph targets are not compressed "
                    "by Draco); use the uncompressed glTF"
                )
            prims.append(p)
    if not prims:
        raise doc.error(f"mesh {gi} has no triangle primitives with POSITION")
    pos_ids: list = []
    base_of: dict = {}
    blocks = []
    for p in prims:
        a = p["attributes"]["POSITION"]
        doc.item("accessors", a, f"mesh {gi} POSITION accessor")
        if a not in base_of:
            base_of[a] = sum(len(b) for b in blocks)
            pos_ids.append(a)
            blocks.append(doc.positions(a, f"mesh {gi}"))
    neutral = np.concatenate(blocks)
    V = neutral.shape[0]
    first_prim = {a: next(p for p in prims if p["attributes"]["POSITION"] == a) for a in pos_ids}

    def gather(attr: str, ncomp: int):
        out = []
        for a in pos_ids:
            p = first_prim[a]
            if attr not in p["attributes"]:
                return None
            x = doc.attribute(p["attributes"][attr], ncomp, f"mesh {gi} {attr}")
            if len(x) != len(blocks[pos_ids.index(a)]):
                raise doc.error(f"mesh {gi}: {attr} has {len(x)} values for {len(blocks[pos_ids.index(a)])} vertices")
            out.append(x)
        return np.concatenate(out)

    faces_l, fmat = [], []
    n_mat = len(doc.items("materials"))
    for p in prims:
        a = p["attributes"]["POSITION"]
        off, n = base_of[a], len(blocks[pos_ids.index(a)])
        ind = doc.indices(p["indices"], n, f"mesh {gi}") if "indices" in p else np.arange(n, dtype=np.int64)
        f = ind[: len(ind) // 3 * 3].reshape(-1, 3) + off
        faces_l.append(f)
        m = p.get("material", -1)
        fmat.append(
            np.full(len(f), m if isinstance(m, int) and not isinstance(m, bool) and 0 <= m < n_mat else -1, np.int64)
        )
    faces = np.concatenate(faces_l) if faces_l else np.zeros((0, 3), np.int64)

    def targets_of(p: dict) -> list:
        t = p.get("targets", [])
        if not isinstance(t, list) or not all(isinstance(x, dict) for x in t):
            raise doc.error(f"mesh {gi}: 'targets' must be an array of objects")
        return t

    ntargets = max(len(targets_of(p)) for p in prims)
    deltas = np.zeros((ntargets, V, 3), np.float32)
    for k in range(ntargets):
        for a in pos_ids:
            t = targets_of(first_prim[a])
            if k < len(t) and "POSITION" in t[k]:
                d = doc.accessor(t[k]["POSITION"])
                n = len(blocks[pos_ids.index(a)])
                if d.shape != (n, 3):
                    raise doc.error(f"mesh {gi} target {k}: POSITION has shape {d.shape}, expected ({n}, 3)")
                deltas[k, base_of[a] : base_of[a] + n] = d
    uv = gather("TEXCOORD_0", 2)
    nrm = gather("NORMAL", 3)

    extras = gm.get("extras") if isinstance(gm.get("extras"), dict) else {}
    names = extras.get("targetNames")
    if not isinstance(names, list) or len(names) != ntargets or not all(isinstance(x, str) for x in names):
        names = []
        t0 = targets_of(prims[0])
        for k in range(ntargets):
            acc_name = None
            if k < len(t0) and "POSITION" in t0[k]:
                acc_name = doc.item("accessors", t0[k]["POSITION"], "target accessor").get("name")
            names.append(acc_name if isinstance(acc_name, str) and acc_name else f"target{k}")
    asset = doc.json.get("asset") or {}
    fx = asset.get("extras") if isinstance(asset.get("extras"), dict) else {}
    meta = dict(fx.get("facerig")) if isinstance(fx.get("facerig"), dict) else {}
    meta.setdefault("source", str(path))
    rig = Rig(names=names, deltas=deltas, neutral=neutral, faces=faces, meta=meta)
    info: dict[str, Any] = {"format": "glb" if path.suffix.lower() == ".glb" else "gltf"}
    mats = doc.items("materials")
    fm = np.concatenate(fmat) if fmat else np.zeros(0, np.int64)
    if mats:
        from facerig.io.materials import materials_from_gltf

        info["materials"] = [
            m.get("name") if isinstance(m.get("name"), str) else f"material{i}" for i, m in enumerate(mats)
        ]
        info["face_material"] = fm
        info["gltf_materials"] = materials_from_gltf(doc)
    if uv is not None:
        uv = np.stack([uv[:, 0], 1.0 - uv[:, 1]], 1)
    mesh = Mesh(vertices=neutral, faces=faces, uv=uv, normals=nrm, source=str(path), info=info)
    return rig, mesh


def load_rig_gltf(path: str | os.PathLike) -> Rig:
    """Read a rig from a glTF/GLB with morph targets (see :func:`read_rig_gltf`).

    Returns:
        Rig: names (K,), deltas (K, V, 3) float32, neutral (V, 3) float64, faces (F, 3).
    """
    return read_rig_gltf(path)[0]

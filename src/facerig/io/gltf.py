"""glTF 2.0 export / import of blendshape rigs (``.glb`` binary or ``.gltf`` with an embedded buffer).

What :func:`save_rig_gltf` writes
---------------------------------
One scene, one node, one mesh. Every vertex of the input is written once, in the input's order
(vertex ``i`` of the GLB is vertex ``i`` of the input file), as float32 ``POSITION``.

- **Primitives / materials.** When the input OBJ used ``usemtl`` (``mesh.info["materials"]`` +
  ``mesh.info["face_material"]``) there is one primitive per material, each with its own
  ``indices`` and a glTF material of that name (default PBR values; textures are not copied).
  All primitives *share* the same ``POSITION`` / ``NORMAL`` / ``TEXCOORD_0`` accessors and the
  same morph-target accessors, so nothing is duplicated or reordered. Triangles are the input's
  fan-triangulated polygons, in file order within each material.
- **Morph targets.** One target per rig shape, ``POSITION`` deltas only (float32, input units).
  Names are in ``mesh.extras.targetNames`` (ARKit names, or ICT FaceKit names with
  ``names="ict"``); default ``mesh.weights`` are all 0. A vertex whose delta has every
  component ``<= eps`` in magnitude is written as exactly zero, with
  ``eps = delta_epsilon * bbox diagonal`` of the neutral (default :data:`DELTA_EPS_REL` = 1e-4:
  0.05 mm on a 50 cm head, under half a pixel even in a 4K close-up; it drops float noise, the
  rounding noise of 6-digit OBJ files such as ICT FaceKit's, and the faint far-field motion of
  solved or predicted rigs (deformation transfer, networks), which otherwise makes every target
  dense and the GLB 2-3x larger; pass ``delta_epsilon=0`` to keep every non-zero delta; the
  NPZ output always keeps the exact deltas). Each target is stored *sparse* (only the non-zero
  vertices: ``uint16``/``uint32`` indices + float32 values) when that is smaller than the
  dense ``V x 12`` bytes, and dense otherwise (``sparse="auto"``, or force ``True``/``False``).
  An all-zero target (e.g. ``tongueOut`` when the method has none) has no data at all
  (an accessor without bufferView reads as zeros). Every ``POSITION`` accessor (base and
  targets, sparse ones included) has ``min``/``max`` as the spec requires.
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
values, which is what facerig writes).
"""

from __future__ import annotations

import base64
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from facerig.errors import FacerigError
from facerig.io.atomic import write_bytes_atomic
from facerig.io.mesh import Mesh
from facerig.io.rig import Rig

#: relative epsilon (times the neutral's bbox diagonal) under which a delta is written as zero
DELTA_EPS_REL = 1e-4

_FLOAT, _USHORT, _UINT, _UBYTE, _SHORT, _BYTE = 5126, 5123, 5125, 5121, 5122, 5120
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_DTYPES = {_FLOAT: np.float32, _USHORT: np.uint16, _UINT: np.uint32, _UBYTE: np.uint8,
           _SHORT: np.int16, _BYTE: np.int8}
_NCOMP = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


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
        acc: dict[str, Any] = {"bufferView": self.view(data, target), "componentType": comp,
                               "count": int(data.shape[0]), "type": type_}
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
    delta_epsilon: float = DELTA_EPS_REL,
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
            delta is written as zero (default :data:`DELTA_EPS_REL` = 1e-4, see the module
            doc; 0 keeps every non-zero delta).

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
        raise FacerigError(f"mesh has {mesh.num_vertices} vertices but the rig has {V}; pass the mesh the rig was made from")
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
    summary: dict[str, Any] = {"path": str(path), "vertices": V, "triangles": int(len(tri)), "targets": K}

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
    uv, uv_note = per_vertex_uv(mesh, policy=uv_seams) if mesh is not None else (None, {"policy": "none (no mesh given)"})
    summary["uv"] = uv_note
    if uv is not None:
        tc = np.stack([uv[:, 0], 1.0 - uv[:, 1]], 1).astype(np.float32)
        attributes["TEXCOORD_0"] = blob.dense(tc, "VEC2", _ARRAY_BUFFER)

    # morph targets (shared by every primitive)
    targets, n_sparse, n_empty, n_nonzero = [], 0, 0, 0
    dense_bytes = V * 12
    for k in range(K):
        d = rig.deltas[k].astype(np.float32, copy=True)
        keep = np.abs(d).max(1) > eps
        d[~keep] = 0.0
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
                    "count": int(len(nz)),
                    "indices": {"bufferView": blob.view(nz.astype(idx_dtype)),
                                "componentType": _USHORT if idx_dtype == np.uint16 else _UINT},
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
    mats = mesh.info.get("materials") if mesh is not None else None
    fmat = mesh.info.get("face_material") if mesh is not None else None
    if mats and fmat is not None and len(fmat) == len(tri):
        fmat = np.asarray(fmat)
        for m, name in enumerate(mats):
            sel = fmat == m
            if sel.any():
                materials_json.append(_material(name or f"material{m}"))
                groups.append((tri[sel], len(materials_json) - 1))
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

    mesh_json: dict[str, Any] = {"name": Path(mesh.source).stem if mesh is not None and mesh.source else "head",
                                 "primitives": primitives}
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
    doc: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": f"facerig {__version__}", "extras": {"facerig": _jsonable(facerig_extras)}},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"name": mesh_json["name"], "mesh": 0}],
        "meshes": [mesh_json],
        "accessors": blob.accessors,
        "bufferViews": blob.views,
    }
    if materials_json:
        doc["materials"] = materials_json
    if animations:
        doc["animations"] = animations
    data = _encode(doc, blob.bytes(), binary=suffix == ".glb")
    write_bytes_atomic(path, data)
    summary["bytes"] = len(data)
    return summary


def _encode(doc: dict, bin_data: bytes, *, binary: bool) -> bytes:
    """JSON doc + buffer -> GLB bytes or embedded .gltf bytes (via pygltflib)."""
    import pygltflib

    if binary:
        doc["buffers"] = [{"byteLength": len(bin_data)}]
        gltf = _fix_defaults(pygltflib.GLTF2.from_dict(doc))
        gltf.set_binary_blob(bin_data)
        return b"".join(gltf.save_to_bytes())
    uri = "data:application/octet-stream;base64," + base64.b64encode(bin_data).decode("ascii")
    doc["buffers"] = [{"byteLength": len(bin_data), "uri": uri}]
    gltf = _fix_defaults(pygltflib.GLTF2.from_dict(doc))
    return gltf.gltf_to_json(separators=(",", ":"), indent=None).encode("utf-8")


def _fix_defaults(gltf):
    """pygltflib fills ``accessor.byteOffset = 0`` even without a bufferView (invalid glTF)."""
    for acc in gltf.accessors:
        if acc.bufferView is None:
            acc.byteOffset = None
    return gltf


def _material(name: str) -> dict:
    return {"name": name, "pbrMetallicRoughness": {"baseColorFactor": [0.8, 0.8, 0.8, 1.0],
                                                   "metallicFactor": 0.0, "roughnessFactor": 0.7},
            "doubleSided": False}


def _animation(blob: _Blob, anim: GltfAnimation, K: int) -> dict:
    w = np.asarray(anim.weights, dtype=np.float32)
    if w.ndim != 2 or w.shape[1] != K:
        raise FacerigError(f"animation weights must be (T, {K}) for a {K}-shape rig, got {tuple(w.shape)}")
    T = w.shape[0]
    if T == 0:
        raise FacerigError("animation has no frames")
    if not np.isfinite(w).all():
        raise FacerigError("animation weights contain NaN or infinity")
    times = np.arange(T, dtype=np.float64) / float(anim.fps) if anim.times is None else np.asarray(anim.times, np.float64)
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
        return None, {"policy": f"dropped: {seam} seam vertices have several UVs (uv_seams='drop')", "seamVertices": seam}
    return out, {
        "policy": "majority: each seam vertex keeps the UV used by most of its corners; triangles along UV "
                  "seams show a stretched texture (the vertex count and order are kept, so seams cannot be split)",
        "seamVertices": seam,
    }


def _jsonable(o: Any) -> Any:
    return json.loads(json.dumps(o, default=lambda x: x.item() if isinstance(x, np.generic) else
                                 (x.tolist() if isinstance(x, np.ndarray) else str(x))))


# --------------------------------------------------------------------------- load


def _read_document(path: Path) -> tuple[dict, list[bytes]]:
    """Parse .glb/.gltf -> (JSON dict, buffers as bytes)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FacerigError(f"{path}: no such file") from None
    except OSError as e:
        raise FacerigError(f"{path}: cannot read ({e.strerror or e})") from None
    glb_bin = None
    if raw[:4] == b"glTF":
        if len(raw) < 20:
            raise FacerigError(f"{path}: truncated GLB")
        _, _version, length = struct.unpack_from("<4sII", raw, 0)
        off, doc = 12, None
        while off + 8 <= min(length, len(raw)):
            clen, ctype = struct.unpack_from("<II", raw, off)
            chunk = raw[off + 8: off + 8 + clen]
            if ctype == 0x4E4F534A:
                doc = json.loads(chunk.decode("utf-8"))
            elif ctype == 0x004E4942:
                glb_bin = chunk
            off += 8 + clen
        if doc is None:
            raise FacerigError(f"{path}: GLB without a JSON chunk")
    else:
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FacerigError(f"{path}: not a glTF file ({e.__class__.__name__})") from None
    buffers = []
    for i, b in enumerate(doc.get("buffers", [])):
        uri = b.get("uri")
        if uri is None:
            if glb_bin is None:
                raise FacerigError(f"{path}: buffer {i} has no uri and there is no GLB binary chunk")
            buffers.append(glb_bin)
        elif uri.startswith("data:"):
            buffers.append(base64.b64decode(uri.split(",", 1)[1]))
        else:
            from urllib.parse import unquote

            p = path.parent / unquote(uri)
            if not p.is_file():
                raise FacerigError(f"{path}: external buffer {uri!r} not found next to the file")
            buffers.append(p.read_bytes())
    return doc, buffers


def _read_accessor(doc: dict, buffers: list[bytes], index: int) -> np.ndarray:
    """Accessor ``index`` -> (count, ncomp) array (float32/int), sparse substitution applied."""
    acc = doc["accessors"][index]
    dtype = np.dtype(_DTYPES[acc["componentType"]])
    nc, count = _NCOMP[acc["type"]], acc["count"]
    if "bufferView" in acc:
        view = doc["bufferViews"][acc["bufferView"]]
        buf = buffers[view.get("buffer", 0)]
        start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
        stride = view.get("byteStride") or dtype.itemsize * nc
        if stride == dtype.itemsize * nc:
            out = np.frombuffer(buf, dtype=dtype, count=count * nc, offset=start).reshape(count, nc).copy()
        else:
            rows = np.frombuffer(buf, dtype=np.uint8, count=stride * (count - 1) + dtype.itemsize * nc, offset=start)
            out = np.lib.stride_tricks.as_strided(rows, (count, dtype.itemsize * nc), (stride, 1)).copy()
            out = out.view(dtype).reshape(count, nc)
    else:
        out = np.zeros((count, nc), dtype=dtype)
    sp = acc.get("sparse")
    if sp:
        n = sp["count"]
        iv = doc["bufferViews"][sp["indices"]["bufferView"]]
        idt = np.dtype(_DTYPES[sp["indices"]["componentType"]])
        ind = np.frombuffer(buffers[iv.get("buffer", 0)], dtype=idt, count=n,
                            offset=iv.get("byteOffset", 0) + sp["indices"].get("byteOffset", 0)).astype(np.int64)
        vv = doc["bufferViews"][sp["values"]["bufferView"]]
        vals = np.frombuffer(buffers[vv.get("buffer", 0)], dtype=dtype, count=n * nc,
                             offset=vv.get("byteOffset", 0) + sp["values"].get("byteOffset", 0)).reshape(n, nc)
        out[ind] = vals
    if acc.get("normalized") and dtype.kind in "iu":
        out = out.astype(np.float32) / np.iinfo(dtype).max
    return out


def read_gltf_document(path: str | os.PathLike) -> tuple[dict, list[bytes]]:
    """Parse a .glb/.gltf file -> (glTF JSON dict, buffers as bytes); FacerigError if unreadable."""
    return _read_document(Path(path))


def read_gltf_accessor(doc: dict, buffers: list[bytes], index: int) -> np.ndarray:
    """Accessor ``index`` of ``doc`` -> (count, ncomp) array (strides, sparse and normalisation applied)."""
    return _read_accessor(doc, buffers, index)


def read_rig_gltf(path: str | os.PathLike) -> tuple[Rig, Mesh]:
    """Read the first mesh with morph targets of a glTF/GLB (or the first mesh at all).

    Returns:
        ``(rig, mesh)``: rig with ``names`` (K,) from ``mesh.extras.targetNames`` (or the
        accessor names, or ``target<k>``), ``deltas`` (K, V, 3) float32, ``neutral`` (V, 3),
        ``faces`` (F, 3) of every primitive, ``meta`` from ``asset.extras.facerig``; and a
        :class:`Mesh` with the same vertices/faces, per-vertex ``uv`` (V, 2) (OBJ convention,
        V flipped back) and ``normals`` when present, ``info["materials"]`` /
        ``info["face_material"]``. Primitives that share one POSITION accessor share vertices;
        otherwise their vertices are concatenated in primitive order.

    Raises:
        FacerigError: not a glTF, no meshes, malformed accessors.
    """
    path = Path(path)
    doc, buffers = _read_document(path)
    meshes = doc.get("meshes") or []
    if not meshes:
        raise FacerigError(f"{path}: glTF has no meshes")
    gm = next((m for m in meshes if any(p.get("targets") for p in m.get("primitives", []))), meshes[0])
    prims = [p for p in gm.get("primitives", []) if p.get("mode", 4) == 4 and "POSITION" in p.get("attributes", {})]
    if not prims:
        raise FacerigError(f"{path}: mesh has no triangle primitives with POSITION")
    try:
        pos_ids: list[int] = []
        base_of: dict[int, int] = {}
        for p in prims:
            a = p["attributes"]["POSITION"]
            if a not in base_of:
                base_of[a] = sum(doc["accessors"][i]["count"] for i in pos_ids)
                pos_ids.append(a)
        neutral = np.concatenate([_read_accessor(doc, buffers, a) for a in pos_ids]).astype(np.float64)
        V = neutral.shape[0]

        def gather(attr: str, ncomp: int):
            ids = []
            for a in pos_ids:
                p = next(p for p in prims if p["attributes"]["POSITION"] == a)
                if attr not in p["attributes"]:
                    return None
                ids.append(p["attributes"][attr])
            return np.concatenate([_read_accessor(doc, buffers, i)[:, :ncomp] for i in ids]).astype(np.float64)

        faces_l, fmat = [], []
        for p in prims:
            off = base_of[p["attributes"]["POSITION"]]
            n = doc["accessors"][p["attributes"]["POSITION"]]["count"]
            if "indices" in p:
                ind = _read_accessor(doc, buffers, p["indices"]).reshape(-1).astype(np.int64)
            else:
                ind = np.arange(n, dtype=np.int64)
            f = ind[: len(ind) // 3 * 3].reshape(-1, 3) + off
            faces_l.append(f)
            fmat.append(np.full(len(f), p.get("material", -1), np.int64))
        faces = np.concatenate(faces_l) if faces_l else np.zeros((0, 3), np.int64)

        ntargets = max(len(p.get("targets", [])) for p in prims)
        deltas = np.zeros((ntargets, V, 3), np.float32)
        for k in range(ntargets):
            for a in pos_ids:
                p = next(p for p in prims if p["attributes"]["POSITION"] == a)
                t = p.get("targets", [])
                if k < len(t) and "POSITION" in t[k]:
                    d = _read_accessor(doc, buffers, t[k]["POSITION"]).astype(np.float32)
                    deltas[k, base_of[a]: base_of[a] + len(d)] = d
        uv = gather("TEXCOORD_0", 2)
        nrm = gather("NORMAL", 3)
    except (KeyError, IndexError, ValueError, TypeError) as e:
        raise FacerigError(f"{path}: malformed glTF ({e.__class__.__name__}: {e})") from None

    extras = gm.get("extras") or {}
    names = extras.get("targetNames")
    if not isinstance(names, list) or len(names) != ntargets:
        names = []
        for k in range(ntargets):
            acc_name = doc["accessors"][prims[0]["targets"][k]["POSITION"]].get("name") if k < len(prims[0].get("targets", [])) else None
            names.append(acc_name or f"target{k}")
    meta = dict(((doc.get("asset") or {}).get("extras") or {}).get("facerig") or {})
    meta.setdefault("source", str(path))
    rig = Rig(names=names, deltas=deltas, neutral=neutral, faces=faces, meta=meta)
    info: dict[str, Any] = {"format": "glb" if path.suffix.lower() == ".glb" else "gltf"}
    mat_names = [m.get("name", f"material{i}") for i, m in enumerate(doc.get("materials", []))]
    fm = np.concatenate(fmat) if fmat else np.zeros(0, np.int64)
    if mat_names and (fm >= 0).all():
        info["materials"] = mat_names
        info["face_material"] = fm
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

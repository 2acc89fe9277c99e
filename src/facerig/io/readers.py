"""Readers for PLY, STL, glTF / GLB and FBX (OBJ lives in :mod:`facerig.io.obj`).

Every reader keeps the file's vertex order; the one documented exception is STL, which stores
three separate corners per triangle and no shared vertices at all.

- PLY: header parsed here (counts, truncation), data by ``trimesh.load(..., process=False)``:
  vertex ``i`` is the ``i``-th element of the ``vertex`` block (trimesh does not merge or
  reorder with ``process=False``).
- STL (numpy, binary or ASCII): corners are merged when *exactly* coincident (bitwise-equal float32 coordinates), in
  order of first appearance, so vertex ``i`` is the ``i``-th distinct corner of the file. This
  is the only faithful reading: an STL has no vertex identity to keep.
- glTF / GLB / VRM: :mod:`facerig.io.gltf_decode` (see :func:`read_gltf` for the order).
- FBX: through Blender's ``bpy`` if installed (:func:`read_fbx`, via :mod:`facerig.io.fbx`).
"""

from __future__ import annotations

import importlib.util
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from facerig.errors import MeshError
from facerig.io.limits import DEFAULT_MAX_FACES, check_counts, read_limited
from facerig.io.mesh import Mesh
from facerig.io.vrm import vrm_axes

FBX_HINT = "FBX input needs the optional Blender module: pip install 'facerig[blender]'"


# --------------------------------------------------------------------------- PLY / STL

_PLY_TYPES = {
    "char": 1,
    "int8": 1,
    "uchar": 1,
    "uint8": 1,
    "short": 2,
    "int16": 2,
    "ushort": 2,
    "uint16": 2,
    "int": 4,
    "int32": 4,
    "uint": 4,
    "uint32": 4,
    "float": 4,
    "float32": 4,
    "double": 8,
    "float64": 8,
}
_PLY_HEADER_MAX = 1 << 20  # a real PLY header is a few hundred bytes


def ply_header(data: bytes, path: str | os.PathLike = "PLY") -> dict:
    """Parse a PLY header (without the data).

    Returns: ``{"format": "ascii" | "binary_little_endian" | "binary_big_endian",
    "elements": [(name, count, [(property, type, list count type or None), ...]), ...],
    "data_start": byte offset of the first data byte}``.

    Raises:
        MeshError: not a PLY, no ``end_header``, unknown format or property type, bad counts.
    """
    if not data.startswith(b"ply") or data[3:4] not in (b"\n", b"\r"):
        raise MeshError(f"{path}: not a PLY file (it does not start with 'ply')")
    end = data.find(b"end_header", 0, _PLY_HEADER_MAX)
    if end < 0:
        raise MeshError(f"{path}: PLY header has no 'end_header' (truncated or not a PLY)")
    nl = data.find(b"\n", end)
    data_start = len(data) if nl < 0 else nl + 1
    fmt = None
    elements: list = []
    for lineno, raw in enumerate(data[:end].split(b"\n")[1:], 2):
        words = raw.decode("latin-1").split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format":
            if len(words) < 2 or words[1] not in ("ascii", "binary_little_endian", "binary_big_endian"):
                raise MeshError(f"{path}: PLY header line {lineno}: unknown format {' '.join(words[1:])[:40]!r}")
            fmt = words[1]
        elif words[0] == "element":
            if len(words) != 3 or not words[2].isdigit():
                raise MeshError(f"{path}: PLY header line {lineno}: bad element line {raw[:60].decode('latin-1')!r}")
            elements.append((words[1], int(words[2]), []))
        elif words[0] == "property":
            if not elements:
                raise MeshError(f"{path}: PLY header line {lineno}: property before any element")
            if len(words) == 5 and words[1] == "list" and words[2] in _PLY_TYPES and words[3] in _PLY_TYPES:
                elements[-1][2].append((words[4], words[3], words[2]))
            elif len(words) == 3 and words[1] in _PLY_TYPES:
                elements[-1][2].append((words[2], words[1], None))
            else:
                raise MeshError(f"{path}: PLY header line {lineno}: bad property line {raw[:60].decode('latin-1')!r}")
        else:
            raise MeshError(f"{path}: PLY header line {lineno}: unknown header line {raw[:40].decode('latin-1')!r}")
    if fmt is None:
        raise MeshError(f"{path}: PLY header has no 'format' line")
    return {"format": fmt, "elements": elements, "data_start": data_start}


def _check_ply_data(header: dict, data: bytes, path: Path) -> None:
    """Refuse a PLY whose data is shorter than its header declares (a truncated download or copy)."""
    body = data[header["data_start"] :]
    if header["format"] == "ascii":
        need = 0  # tokens, lower bound: every list holds at least 3 items (a face needs 3 corners)
        for _name, count, props in header["elements"]:
            need += count * sum(1 if lst is None else 4 for _n, _t, lst in props)
        have = len(body.split())
        if have < need:
            raise MeshError(
                f"{path}: truncated ASCII PLY: the header declares {_elements_str(header)} "
                f"(at least {need:,} numbers), the file has {have:,}"
            )
        if need and not body.rstrip(b" \t").endswith((b"\n", b"\r")):  # cut inside the last number?
            raise MeshError(
                f"{path}: truncated ASCII PLY: the last line has no line end (if the file is "
                "complete, end it with a newline)"
            )
        return
    need = 0  # lower bound: every list holds at least 3 items (a face needs 3 corners)
    for _name, count, props in header["elements"]:
        row = sum(_PLY_TYPES[t] if lst is None else _PLY_TYPES[lst] + 3 * _PLY_TYPES[t] for _n, t, lst in props)
        need += count * row
    if len(body) < need:
        raise MeshError(
            f"{path}: truncated binary PLY: the header declares {_elements_str(header)} "
            f"(at least {need:,} bytes of data), the file has {len(body):,}"
        )


def _elements_str(header: dict) -> str:
    return ", ".join(f"{count:,} '{name}'" for name, count, _p in header["elements"])


def _trimesh_load(path: Path, file_type: str, data: bytes | None = None):
    import trimesh

    try:
        if data is None:
            with open(path, "rb") as f:
                loaded = trimesh.load(f, file_type=file_type, process=False, validate=False, maintain_order=True)
        else:
            with np.errstate(all="ignore"):
                loaded = trimesh.load(
                    io.BytesIO(data), file_type=file_type, process=False, validate=False, maintain_order=True
                )
    except FileNotFoundError:
        raise MeshError(f"{path}: no such file") from None
    except Exception as e:  # noqa: BLE001 - any parser failure is a bad file
        msg = _first_line(e)
        if "unexpected length" in msg:
            msg = "its data is not the length its header declares: truncated or corrupt"
        elif isinstance(e, (IndexError, KeyError, TypeError, ValueError, AttributeError)):
            msg = f"malformed data: {msg}"
        raise MeshError(f"{path}: cannot read as {file_type.upper()} ({msg[:120]})") from None
    if isinstance(loaded, trimesh.Scene):
        geoms = list(loaded.geometry.values())
        if not geoms:
            raise MeshError(f"{path}: cannot read as {file_type.upper()} (no mesh found in the file)")
        if len(geoms) != 1:
            raise MeshError(f"{path}: {file_type.upper()} file holds {len(geoms)} geometries; expected one mesh")
        loaded = geoms[0]
    return loaded


def read_ply(
    path: str | os.PathLike,
    *,
    max_vertices: int | None = None,
    max_faces: int | None = DEFAULT_MAX_FACES,
    max_bytes: int | None = None,
) -> Mesh:
    """Read a PLY (ASCII or binary) into a Mesh.

    The header is parsed first (counts checked against ``max_vertices`` / ``max_faces`` before
    the data is read; ``max_bytes`` caps the file size), the data by trimesh, and the result is
    checked against the header: a truncated file is an error, never a mesh with faces missing.

    Returns: vertices (V, 3) float64 in the file's vertex-element order, faces (F, 3) int64
    (polygons fan-triangulated by trimesh), normals (V, 3) if the file has nx/ny/nz.
    A PLY with vertices but no faces loads with ``faces`` (0, 3) (validation rejects it).
    """
    path = Path(path)
    data = read_limited(path, max_bytes)
    header = ply_header(data, path)
    counts = {name: count for name, count, _p in header["elements"]}
    if "vertex" not in counts:
        raise MeshError(f"{path}: PLY has no 'vertex' element (elements: {_elements_str(header) or 'none'})")
    vprops = [n for n, _t, _l in next(p for name, _c, p in header["elements"] if name == "vertex")]
    if not {"x", "y", "z"} <= set(vprops):
        raise MeshError(f"{path}: PLY vertices lack x / y / z (properties: {', '.join(vprops[:8])})")
    n_faces = counts.get("face", 0)
    check_counts(path, counts["vertex"], n_faces, max_vertices=max_vertices, max_faces=max_faces)
    _check_ply_data(header, data, path)
    m = _trimesh_load(path, "ply", data)
    del data
    vertices = np.asarray(getattr(m, "vertices", np.zeros((0, 3))), dtype=np.float64)
    faces = np.asarray(getattr(m, "faces", np.zeros((0, 3))), dtype=np.int64).reshape(-1, 3)
    if len(vertices) != counts["vertex"] or len(faces) < n_faces:
        raise MeshError(
            f"{path}: truncated or corrupt PLY: the header declares {counts['vertex']:,} vertices and "
            f"{n_faces:,} faces, {len(vertices):,} vertices and {len(faces):,} triangles could be read"
        )
    info: dict = {"format": "ply", "reader": "trimesh(process=False)"}
    normals = None
    try:
        ply_raw = m.metadata.get("_ply_raw", {}) if hasattr(m, "metadata") else {}
        vdata = ply_raw.get("vertex", {}).get("data", None)
        if vdata is not None and vdata.dtype.names and {"nx", "ny", "nz"} <= set(vdata.dtype.names):
            normals = np.stack([vdata["nx"], vdata["ny"], vdata["nz"]], 1).astype(np.float64).reshape(-1, 3)
    except Exception:  # noqa: BLE001 - normals are optional
        normals = None
    uv = None
    visual = getattr(m, "visual", None)
    if visual is not None and getattr(visual, "kind", None) == "texture" and getattr(visual, "uv", None) is not None:
        uv = np.asarray(visual.uv, dtype=np.float64)
    return Mesh(
        vertices=vertices,
        faces=faces,
        normals=normals,
        uv=uv,
        uv_faces=faces if uv is not None else None,
        source=str(path),
        info=info,
    )


_STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])


def read_stl(
    path: str | os.PathLike,
    *,
    max_vertices: int | None = None,
    max_faces: int | None = DEFAULT_MAX_FACES,
    max_bytes: int | None = None,
) -> Mesh:
    """Read an STL (ASCII or binary); exactly-coincident corners become one vertex.

    A file whose size is ``84 + 50 n`` with ``n`` the triangle count in its header is binary;
    one starting with ``solid`` otherwise is ASCII (``facet ... outer loop, 3 x vertex x y z,
    endloop, endfacet``, one or more ``solid ... endsolid`` blocks). Anything else (a binary
    STL cut short, an ASCII one without its closing ``endsolid``) is refused with the counts.
    Read with numpy (trimesh's STL fallback needs ``charset_normalizer`` to guess a text
    encoding and reported its absence instead of the real problem).

    Returns: vertices (V, 3) float64, the distinct corners in order of first appearance;
    faces (F, 3) int64 in file order. ``info["stl_corners"]`` = 3F, the corner count before
    merging.
    """
    path = Path(path)
    data = read_limited(path, max_bytes)
    n = int.from_bytes(data[80:84], "little") if len(data) >= 84 else -1
    if n >= 0 and len(data) == 84 + 50 * n:
        check_counts(path, None, n, max_faces=max_faces)
        corners = np.frombuffer(data, _STL_RECORD, n, 84)["corners"].astype(np.float64)
        kind = "binary"
    elif data.lstrip()[:5].lower() == b"solid" and _looks_like_text(data):
        corners = _stl_ascii_corners(data, path, max_faces)
        kind = "ascii"
    elif n >= 0 and not _looks_like_text(data):
        raise MeshError(
            f"{path}: truncated or corrupt binary STL: its header declares {n:,} triangles "
            f"({84 + 50 * n:,} bytes), the file has {len(data):,} bytes"
        )
    else:
        raise MeshError(f"{path}: not an STL file (neither a binary STL of the right length nor ASCII 'solid ...')")
    del data
    vertices, faces = merge_exact_corners(corners)
    check_counts(path, len(vertices), None, max_vertices=max_vertices)
    info = {"format": "stl", "reader": f"numpy ({kind}) + exact corner merge", "stl_corners": int(3 * len(faces))}
    return Mesh(vertices=vertices, faces=faces, source=str(path), info=info)


def _looks_like_text(data: bytes) -> bool:
    head = data[:65536]
    return b"\0" not in head and sum(b < 9 or 13 < b < 32 or b == 127 for b in head[:4096]) == 0


def _stl_ascii_corners(data: bytes, path: Path, max_faces: int | None) -> np.ndarray:
    """ASCII STL -> triangle corners (F, 3, 3) float64 (MeshError naming what is wrong)."""
    tokens = data.decode("latin-1").split()
    low = [t.lower() for t in tokens]
    n_facet, n_end = low.count("facet"), low.count("endfacet")
    check_counts(path, None, n_facet, max_faces=max_faces)
    if "endsolid" not in low[-2:]:
        raise MeshError(f"{path}: ASCII STL ends without 'endsolid' (truncated?); {n_facet:,} facets started")
    at = np.array([i for i, t in enumerate(low) if t == "vertex"], dtype=np.int64)
    if n_facet != n_end or len(at) != 3 * n_facet:
        raise MeshError(
            f"{path}: malformed ASCII STL: {n_facet:,} 'facet', {n_end:,} 'endfacet' and {len(at):,} "
            "'vertex' lines (each facet needs exactly 3 vertices)"
        )
    if len(at) and at[-1] + 3 >= len(tokens):
        raise MeshError(f"{path}: ASCII STL ends inside a vertex line (truncated?)")
    coords = [tokens[i + k] for i in at.tolist() for k in (1, 2, 3)]
    try:
        xyz = np.array(coords, dtype=np.float64)
    except ValueError:
        bad = next(c for c in coords if not _is_float(c))
        raise MeshError(f"{path}: ASCII STL: bad number {bad[:30]!r} in a 'vertex' line") from None
    return xyz.reshape(-1, 3, 3)


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def merge_exact_corners(triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-triangle corners (F, 3, 3) -> (vertices (V, 3), faces (F, 3)).

    Corners with bitwise-identical coordinates share a vertex; vertices are numbered in order
    of first appearance (triangle-major, corner-minor), so the result is deterministic.
    """
    c = np.ascontiguousarray(np.asarray(triangles, dtype=np.float64).reshape(-1, 3))
    if len(c) == 0:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    c = c + 0.0  # -0.0 -> +0.0 so signed zeros compare equal
    _, first, inverse = np.unique(c, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(first, kind="stable")  # unique rows sorted by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    vertices = c[first[order]]
    faces = rank[inverse].reshape(-1, 3).astype(np.int64)
    return vertices, faces


# --------------------------------------------------------------------------- glTF / GLB

_DRACO = "KHR_draco_mesh_compression"
_MODES = {
    0: "POINTS",
    1: "LINES",
    2: "LINE_LOOP",
    3: "LINE_STRIP",
    4: "TRIANGLES",
    5: "TRIANGLE_STRIP",
    6: "TRIANGLE_FAN",
}
DRACO_HINT = "Draco-compressed glTF needs the DracoPy decoder: pip install DracoPy"


def read_gltf(path: str | os.PathLike, *, max_bytes: int | None = None) -> Mesh:
    """Read a glTF 2.0 (``.gltf`` + buffers, or ``.glb``) into one Mesh.

    Decoding and every safety check (buffer URIs confined to the file's folder, sizes, indices)
    are :mod:`facerig.io.gltf_decode`'s; ``max_bytes`` caps the file and its buffers (default
    2 GiB).

    Order (what "vertex i" means): the scene's nodes are visited depth-first in the order the
    scene and each node's ``children`` list them (the default ``scene``, else scene 0, else every
    root node in index order); for each node with a ``mesh``, that mesh's primitives in order;
    each primitive's POSITION accessor, in accessor order, is appended. A mesh used by two nodes
    appears twice (two instances). Primitives of one node that share a POSITION accessor (the
    usual multi-material layout, e.g. what :mod:`facerig.io.gltf` writes) share vertices: that
    block is appended once, when first met. So V = sum, over visited nodes, of the counts of
    their mesh's distinct POSITION accessors. A node reached twice (not a tree) is an error.

    Draco-compressed primitives (``KHR_draco_mesh_compression``, decoded with DracoPy): the
    vertices of such a primitive are in the *decoder's* order, which is the order the Draco
    encoder chose (it usually reorders, and may drop unreferenced vertices), not the order of
    the mesh before compression; that order is what every facerig output then keeps.

    meshopt-compressed bufferViews (``EXT_meshopt_compression`` / ``KHR_meshopt_compression``,
    decoded by :mod:`facerig.io.gltf_meshopt` with the optional ``meshopt`` package) read as the
    same file uncompressed: the file's vertex order (``info["meshopt_views"]`` counts them).
    Quantized attributes (``KHR_mesh_quantization``: int8 / int16 positions and normals,
    normalized or not) are decoded as the accessor declares them, then the node transform
    (usually a scale and translation the quantizer chose) makes them units again.

    A VRM avatar (``.vrm``, or any GLB with a ``VRM`` / ``VRMC_vrm`` extension) reads the same way;
    ``info["axes"]`` holds the facing its VRM version declares (:func:`facerig.io.vrm.vrm_axes`:
    0.x faces -Z, 1.0 faces +Z), which :func:`facerig.models.registry.rig_mesh` rigs in when
    no axes are given; ``info["format"]`` is ``"vrm"``.

    Each node's world transform (parent chain of ``matrix`` or TRS) is applied to its positions
    (and normals), so the result is what a viewer shows. Primitives in TRIANGLES mode are read
    as is; TRIANGLE_STRIP / TRIANGLE_FAN are converted to triangles; POINTS / LINES primitives
    are skipped (noted in ``info["skipped_primitives"]``). Non-indexed primitives use
    consecutive vertex triples. Morph targets and skins are ignored (noted).

    Returns:
        Mesh: vertices (V, 3) float64; faces (F, 3) int64 (indices offset per primitive);
        normals (V, 3) / uv (V, 2) (``uv_faces`` = ``faces``) when every primitive has them;
        UVs in the OBJ convention (``v = 1 - v_gltf``, origin bottom-left, like every facerig
        mesh); groups (F,) int64 into group_names (one name per primitive, ``"<mesh>[/<k>]"``);
        info: format, ``primitives`` (list of {node, mesh, primitive, name, first_vertex,
        num_vertices, first_face, num_faces, mode, draco}), notes; with materials in the file,
        ``materials`` (names, one per glTF material), ``face_material`` (F,) int64 (-1: none)
        and ``gltf_materials`` (:class:`facerig.io.materials.MaterialSet`, images included).

    Raises:
        MeshError: one line naming the problem (bad file, index, size, unsafe URI, NaN ...).
    """
    from facerig.io.gltf_decode import load_document

    path = Path(path)
    doc = load_document(path, max_bytes=max_bytes)
    try:
        return _read_gltf_mesh(doc, path)
    except MeshError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as e:  # safety net
        raise MeshError(f"{path}: malformed glTF ({e.__class__.__name__}: {_first_line(e)[:100]})") from None


def _read_gltf_mesh(doc, path: Path) -> Mesh:
    g = doc.json
    for key in ("extensionsRequired", "extensionsUsed"):
        if not isinstance(g.get(key, []), list):
            raise doc.error(f"'{key}' must be an array")
    axes = vrm_axes(doc)  # a VRM avatar's declared facing (None: plain glTF)
    nodes = doc.items("nodes")

    # scene traversal
    scenes = doc.items("scenes")
    if scenes:
        si = doc.get_int(g, "scene", "glTF", default=0)
        scene = doc.item("scenes", si, "scene")
        roots = scene.get("nodes", [])
        if not isinstance(roots, list):
            raise doc.error(f"scene {si}: 'nodes' must be an array")
    else:
        children = set()
        for n in nodes:
            c = n.get("children", [])
            children |= {x for x in c if isinstance(x, int)} if isinstance(c, list) else set()
        roots = [i for i in range(len(nodes)) if i not in children]

    visits: list[tuple[int, np.ndarray]] = []  # (node index, world matrix)
    seen: set[int] = set()
    stack = [(r, np.eye(4)) for r in reversed(roots)]
    while stack:
        ni, parent = stack.pop()
        node = doc.item("nodes", ni, "node")
        if ni in seen:
            raise doc.error(f"node {ni} is reached twice (a cycle, or a node with two parents)")
        seen.add(ni)
        world = parent @ _node_matrix(doc, node, f"node {ni}")
        visits.append((ni, world))
        kids = node.get("children", [])
        if not isinstance(kids, list):
            raise doc.error(f"node {ni}: 'children' must be an array")
        for c in reversed(kids):
            stack.append((c, world))

    V_parts, F_parts, N_parts, UV_parts, G_parts, M_parts = [], [], [], [], [], []
    prims_info, skipped, group_names = [], [], []
    notes = set()
    offset = 0
    nface = 0
    materials = doc.items("materials")
    for ni, world in visits:
        node = nodes[ni]
        if "mesh" not in node:
            continue
        mi = node["mesh"]
        gmesh = doc.item("meshes", mi, f"node {ni} mesh")
        blocks: dict[Any, tuple[int, int]] = {}  # POSITION accessor -> (first vertex, count)
        if "skin" in node:
            notes.add("skins ignored (bind pose read)")
        prims = gmesh.get("primitives", [])
        if not isinstance(prims, list) or not all(isinstance(p, dict) for p in prims):
            raise doc.error(f"mesh {mi}: 'primitives' must be an array of objects")
        mesh_name = gmesh.get("name") if isinstance(gmesh.get("name"), str) and gmesh.get("name") else f"mesh{mi}"
        for pi, prim in enumerate(prims):
            where = f"mesh {mesh_name!r} primitive {pi}"
            mode = doc.get_int(prim, "mode", where, default=4)
            pname = mesh_name if len(prims) == 1 else f"{mesh_name}/{pi}"
            attrs = doc.get_dict(prim, "attributes", where)
            if "POSITION" not in attrs:
                skipped.append({"node": ni, "mesh": mi, "primitive": pi, "why": "no POSITION"})
                continue
            if mode not in (4, 5, 6):
                skipped.append({"node": ni, "mesh": mi, "primitive": pi, "why": _MODES.get(mode, str(mode))})
                continue
            draco = doc.get_dict(doc.get_dict(prim, "extensions", where), _DRACO, where)
            if draco:
                pos, idx, nrm, uv = _draco_primitive(doc, draco, where)
                key: Any = ("draco", ni, pi)
                shared = False
                first, n = offset, len(pos)
            else:
                key = attrs["POSITION"]
                doc.item("accessors", key, f"{where} POSITION accessor")
                shared = key in blocks
                if shared:  # another primitive of this node already brought these vertices
                    first, n = blocks[key]
                else:
                    pos = doc.positions(key, where)
                    first, n = offset, len(pos)
                idx = doc.indices(prim["indices"], n, where) if "indices" in prim else np.arange(n, dtype=np.int64)
                nrm = doc.attribute(attrs["NORMAL"], 3, where) if "NORMAL" in attrs and not shared else None
                uv = doc.attribute(attrs["TEXCOORD_0"], 2, where) if "TEXCOORD_0" in attrs and not shared else None
                for name, a in (("NORMAL", nrm), ("TEXCOORD_0", uv)):
                    if a is not None and len(a) != n:
                        raise doc.error(f"{where}: {name} has {len(a)} values for {n} vertices")
            tris = _triangles_from_mode(idx, mode)
            if tris.size and (tris.max() >= n or tris.min() < 0):
                raise doc.error(f"{where} uses vertex index {int(tris.max())} but has {n} vertices")
            if prim.get("targets"):
                notes.add("morph targets in the input ignored")
            M = world[:3, :3]
            if not shared:
                blocks[key] = (first, n)
                V_parts.append(pos @ M.T + world[:3, 3])
                if nrm is not None:
                    nrm = nrm @ np.linalg.pinv(M)  # inverse-transpose applied to row vectors
                    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-30)
                N_parts.append(nrm)
                UV_parts.append(None if uv is None else np.stack([uv[:, 0], 1.0 - uv[:, 1]], 1))
                offset += n
            if np.linalg.det(M) < 0:
                tris = tris[:, ::-1].copy()  # mirrored node: keep outward winding
                notes.add("mirrored node transform: triangle winding flipped to stay outward")
            mat = prim.get("material", -1)
            if mat != -1 and not (isinstance(mat, int) and not isinstance(mat, bool) and 0 <= mat < len(materials)):
                notes.add(f"{where}: material {mat!r} does not exist (read without a material)")
                mat = -1
            F_parts.append(tris + first)
            G_parts.append(np.full(len(tris), len(group_names), np.int64))
            M_parts.append(np.full(len(tris), mat, np.int64))
            group_names.append(pname)
            prims_info.append(
                {
                    "node": ni,
                    "node_name": node.get("name"),
                    "mesh": mi,
                    "primitive": pi,
                    "name": pname,
                    "first_vertex": first,
                    "num_vertices": n,
                    "shares_vertices": shared,
                    "first_face": nface,
                    "num_faces": len(tris),
                    "mode": _MODES.get(mode, mode),
                    "draco": bool(draco),
                }
            )
            nface += len(tris)

    suffix = path.suffix.lower()
    info: dict = {
        "format": "vrm" if axes is not None or suffix == ".vrm" else "glb" if suffix == ".glb" else "gltf",
        "reader": "facerig.io.gltf_decode",
        "order": "depth-first scene nodes; each node's mesh primitives in order; "
        "primitives sharing a POSITION accessor share vertices; Draco primitives in the "
        "decoder's vertex order",
        "primitives": prims_info,
    }
    if skipped:
        info["skipped_primitives"] = skipped
    if not V_parts:
        why = f" ({len(skipped)} point/line primitives skipped)" if skipped else ""
        raise doc.error(f"no triangle meshes in the glTF scene{why}")
    vertices = np.concatenate(V_parts)
    if not np.isfinite(vertices).all():
        raise doc.error("vertex positions are not finite after the node transforms")
    faces = np.concatenate(F_parts)
    normals = np.concatenate(N_parts) if all(x is not None for x in N_parts) else None
    uv = np.concatenate(UV_parts) if all(x is not None for x in UV_parts) else None
    if materials:
        from facerig.io.materials import materials_from_gltf

        info["materials"] = [
            m.get("name") if isinstance(m.get("name"), str) else f"material{i}" for i, m in enumerate(materials)
        ]
        info["face_material"] = np.concatenate(M_parts)
        ms = materials_from_gltf(doc)
        info["gltf_materials"] = ms
        notes |= set(ms.notes) if ms is not None else set()
    if axes is not None:
        info["axes"] = axes
        notes.add(f"{axes['why']}: rigged in those axes unless --up/--forward are given")
    elif suffix == ".vrm":
        notes.add("no VRM or VRMC_vrm extension in this .vrm: read as plain glTF (no declared facing)")
    if doc.decoded_views:
        info["meshopt_views"] = doc.decoded_views
        notes.add(f"{doc.decoded_views} meshopt-compressed buffer views decoded (the file's vertex order)")
    if notes:
        info["notes"] = sorted(notes)
    return Mesh(
        vertices=vertices,
        faces=faces,
        normals=normals,
        uv=uv,
        uv_faces=faces if uv is not None else None,
        groups=np.concatenate(G_parts),
        group_names=group_names,
        source=str(path),
        info=info,
    )


def _draco_primitive(doc, ext: dict, where: str):
    """A KHR_draco_mesh_compression primitive -> (positions (N, 3), indices (3F,), normals (N, 3) | None,
    uv (N, 2) | None), in the decoder's vertex order."""
    try:
        import DracoPy
    except ImportError:
        raise doc.error(DRACO_HINT) from None
    view, _ = doc.buffer_view(ext.get("bufferView"), f"{where} Draco ")
    ids = doc.get_dict(ext, "attributes", f"{where} Draco")
    if "POSITION" not in ids:
        raise doc.error(f"{where}: Draco extension has no POSITION attribute")
    try:
        dm = DracoPy.decode(bytes(view))
        faces = getattr(dm, "faces", None)
        if faces is None:
            raise ValueError("a point cloud, not a mesh")

        def attr(name: str, nc: int):
            if name not in ids:
                return None
            a = dm.get_attribute_by_unique_id(ids[name])
            if a is None:
                raise ValueError(f"no attribute with unique id {ids[name]!r} for {name}")
            return np.asarray(a["data"], np.float64).reshape(len(a["data"]), -1)[:, :nc]

        pos = attr("POSITION", 3)
        nrm, uv = attr("NORMAL", 3), attr("TEXCOORD_0", 2)
        idx = np.asarray(faces, np.int64).reshape(-1)
    except MeshError:
        raise
    except Exception as e:  # noqa: BLE001 - any decoder failure is a bad stream
        raise doc.error(f"{where}: cannot decode the Draco stream ({_first_line(e)[:100]})") from None
    if pos.shape[1] != 3:
        raise doc.error(f"{where}: Draco POSITION has {pos.shape[1]} components")
    if not np.isfinite(pos).all():
        raise doc.error(f"{where}: Draco POSITION has NaN or infinite coordinates")
    for name, a in (("NORMAL", nrm), ("TEXCOORD_0", uv)):
        if a is not None and len(a) != len(pos):
            raise doc.error(f"{where}: Draco {name} has {len(a)} values for {len(pos)} vertices")
    if idx.size and (idx.min() < 0 or idx.max() >= len(pos)):
        raise doc.error(f"{where}: Draco vertex index {int(idx.max())} is past its {len(pos)} vertices")
    return pos, idx, nrm, uv


def _triangles_from_mode(idx: np.ndarray, mode: int) -> np.ndarray:
    """Index list (N,) for a TRIANGLES / TRIANGLE_STRIP / TRIANGLE_FAN primitive -> (F, 3)."""
    if mode == 4:
        return idx[: len(idx) // 3 * 3].reshape(-1, 3)
    if len(idx) < 3:
        return np.zeros((0, 3), np.int64)
    k = np.arange(len(idx) - 2)
    if mode == 5:  # strip: alternate winding
        a, b, c = idx[k], idx[k + 1], idx[k + 2]
        odd = (k % 2) == 1
        return np.stack([np.where(odd, b, a), np.where(odd, a, b), c], 1)
    return np.stack([np.full(len(k), idx[0]), idx[k + 1], idx[k + 2]], 1)  # fan


def _node_matrix(doc, node: dict, where: str) -> np.ndarray:
    """(4, 4) local transform of a glTF node (``matrix`` is column-major; else T @ R @ S)."""
    m = doc.numbers(node, "matrix", 16, where)
    if m is not None:
        return m.reshape(4, 4).T
    T = np.eye(4)
    t = doc.numbers(node, "translation", 3, where)
    if t is not None:
        T[:3, 3] = t
    R = np.eye(4)
    q = doc.numbers(node, "rotation", 4, where)
    if q is not None:
        x, y, z, w = q
        nq = np.sqrt(x * x + y * y + z * z + w * w) or 1.0
        x, y, z, w = x / nq, y / nq, z / nq, w / nq
        R[:3, :3] = [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    S = np.eye(4)
    sc = doc.numbers(node, "scale", 3, where)
    if sc is not None:
        S[0, 0], S[1, 1], S[2, 2] = sc
    return T @ R @ S


# --------------------------------------------------------------------------- FBX


def fbx_available() -> bool:
    """True when Blender's ``bpy`` module is installed (checked without importing it)."""
    try:
        return importlib.util.find_spec("bpy") is not None
    except (ImportError, ValueError):
        return False


def read_fbx(path: str | os.PathLike) -> Mesh:
    """Read an FBX through Blender (``bpy``); delegates to :func:`facerig.io.fbx.load_mesh_fbx`
    so that FBX reading and writing share one convention.

    Order and coordinates (from that reader): mesh objects sorted by name, each object's FBX
    control points in file order, local coordinates as stored (no node transform, unit scale or
    axis conversion: pass ``--up`` / ``--forward`` for the file's convention). Returns vertices
    (V, 3), faces (F, 3), polygons, uv / uv_faces when present.

    Raises:
        MeshError: Blender not installed (with the pip command), unreadable file, no mesh.
    """
    path = Path(path)
    if not fbx_available():
        raise MeshError(FBX_HINT)
    from facerig.io.fbx import load_mesh_fbx

    mesh = load_mesh_fbx(path)
    mesh.info.setdefault("format", "fbx")
    return mesh


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else e.__class__.__name__


__all__ = ["FBX_HINT", "fbx_available", "merge_exact_corners", "read_fbx", "read_gltf", "read_ply", "read_stl"]

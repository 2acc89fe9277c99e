"""The one glTF decoder (facerig.io.gltf_decode): accessors, bounds, URI confinement, size caps,
and a seeded fuzz run over a valid GLB asserting only FacerigError escapes the readers."""

from __future__ import annotations

import base64
import copy
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from facerig.errors import FacerigError, MeshError
from facerig.io.gltf import read_rig_gltf
from facerig.io.gltf_decode import load_document
from facerig.io.readers import read_gltf
from fixtures.gltf_build import pack_glb


def quad() -> tuple[dict, bytes]:
    """A 4-vertex quad: POSITION f32, NORMAL f32, TEXCOORD_0 f32, uint16 indices, one morph target."""
    pos = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], np.float32)
    nrm = np.tile(np.float32([0, 0, 1]), (4, 1))
    uv = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)
    idx = np.array([0, 1, 2, 0, 2, 3], np.uint16)
    tgt = np.array([[0, 0, 0.5], [0, 0, 0], [0, 0, 0], [0, 0, 0.25]], np.float32)
    parts = [pos.tobytes(), nrm.tobytes(), uv.tobytes(), idx.tobytes() + b"\0\0", tgt.tobytes()]
    views, off = [], 0
    for p in parts:
        views.append({"buffer": 0, "byteOffset": off, "byteLength": len(p)})
        off += len(p)
    views[3]["byteLength"] = 12
    accs = [
        {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]},
        {"bufferView": 1, "componentType": 5126, "count": 4, "type": "VEC3"},
        {"bufferView": 2, "componentType": 5126, "count": 4, "type": "VEC2"},
        {"bufferView": 3, "componentType": 5123, "count": 6, "type": "SCALAR"},
        {"bufferView": 4, "componentType": 5126, "count": 4, "type": "VEC3", "min": [0, 0, 0], "max": [0, 0, 0.5]},
    ]
    doc = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [
            {
                "name": "quad",
                "primitives": [
                    {
                        "attributes": {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2},
                        "indices": 3,
                        "targets": [{"POSITION": 4}],
                    }
                ],
                "extras": {"targetNames": ["jawOpen"]},
            }
        ],
        "accessors": accs,
        "bufferViews": views,
        "buffers": [{"byteLength": off}],
    }
    return doc, b"".join(parts)


def write(tmp_path: Path, doc: dict, blob: bytes, name: str = "q.glb") -> Path:
    p = tmp_path / name
    p.write_bytes(pack_glb(doc, blob))
    return p


def one_line_error(fn, *args, match: str | None = None) -> str:
    with pytest.raises(MeshError) as e:
        fn(*args)
    msg = str(e.value)
    assert "\n" not in msg
    if match:
        assert match in msg, msg
    return msg


def test_valid_quad_reads_in_both_readers(tmp_path):
    doc, blob = quad()
    p = write(tmp_path, doc, blob)
    m = read_gltf(p)
    np.testing.assert_array_equal(m.vertices, [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]])
    np.testing.assert_array_equal(m.faces, [[0, 1, 2], [0, 2, 3]])
    np.testing.assert_array_equal(m.uv, [[0, 0], [1, 0], [1, 1], [0, 1]])  # OBJ convention (v flipped)
    rig, mesh = read_rig_gltf(p)
    assert rig.names == ["jawOpen"] and rig.deltas[0, 3, 2] == np.float32(0.25)
    np.testing.assert_array_equal(mesh.uv, m.uv)


def test_sparse_normalized_and_strided_accessors(tmp_path):
    # interleaved int8 normalized VEC3 (stride 4) + a sparse override on a zero accessor
    raw = np.array([[-128, 127, 0, 9], [64, -64, 1, 9]], np.int8).tobytes()
    sp_idx = np.array([1], np.uint8).tobytes() + b"\0\0\0"
    sp_val = np.array([7, 8, 9], np.float32).tobytes()
    blob = raw + sp_idx + sp_val
    doc = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(blob)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 8, "byteStride": 4},
            {"buffer": 0, "byteOffset": 8, "byteLength": 1},
            {"buffer": 0, "byteOffset": 12, "byteLength": 12},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5120, "normalized": True, "count": 2, "type": "VEC3"},
            {
                "componentType": 5126,
                "count": 3,
                "type": "VEC3",
                "sparse": {
                    "count": 1,
                    "indices": {"bufferView": 1, "componentType": 5121},
                    "values": {"bufferView": 2},
                },
            },
        ],
    }
    d = load_document(write(tmp_path, doc, blob))
    a = d.accessor(0)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a[0], [-1.0, 1.0, 0.0])  # -128/127 clamped to -1 (glTF spec)
    np.testing.assert_allclose(a[1], [64 / 127, -64 / 127, 1 / 127], rtol=1e-7)
    np.testing.assert_array_equal(d.accessor(1), [[0, 0, 0], [7, 8, 9], [0, 0, 0]])
    doc["accessors"][1]["sparse"]["count"] = 1
    doc["bufferViews"][1]["byteLength"] = 1
    blob2 = raw + np.array([3], np.uint8).tobytes() + b"\0\0\0" + sp_val  # sparse index 3 >= count 3
    one_line_error(load_document(write(tmp_path, doc, blob2, "s.glb")).accessor, 1, match="past the accessor's count")


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d["accessors"][0].update(count=400), "run past the end of their bufferView"),
        (lambda d: d["accessors"][0].update(componentType=5124), "unknown componentType"),
        (lambda d: d["accessors"][0].update(type="VEC7"), "unknown type"),
        (lambda d: d["meshes"][0]["primitives"][0].update(indices=99), "accessor index 99 is out of range"),
        (lambda d: d["accessors"][3].update(bufferView=42), "bufferView index 42 is out of range"),
        (lambda d: d["bufferViews"][0].update(byteLength=10_000), "runs past the end of buffer 0"),
        (lambda d: d["bufferViews"][0].update(byteStride=4), "smaller than one element"),
        (lambda d: d["buffers"][0].update(byteLength=10_000), "fewer than its byteLength"),
        (lambda d: d["accessors"][3].update(componentType=5126), "unsigned integer SCALARs"),
        (lambda d: d["accessors"][0].update(count="4"), "'count' must be an integer"),
        (lambda d: d["nodes"][0].update(children=[0]), "reached twice"),
        (lambda d: d["nodes"][0].update(matrix=[1, 2]), "'matrix' must be 16 numbers"),
        (lambda d: d.update(asset={"version": "1.0"}), "not a glTF 2.0 file"),
        (lambda d: d.update(accessors={"0": 1}), "'accessors' must be an array"),
        (lambda d: d.pop("buffers"), "buffer index 0 is out of range"),
        (
            lambda d: d["accessors"][0].update(count=10**8) or d["accessors"][0].pop("bufferView"),
            "far more than the file holds",
        ),
        (lambda d: d["buffers"][0].update(uri="missing.bin"), "not found next to"),
    ],
)
def test_malformed_documents_raise_one_line_mesh_errors(tmp_path, mutate, match):
    doc, blob = quad()
    mutate(doc)
    p = write(tmp_path, doc, blob)
    one_line_error(read_gltf, p, match=match)
    if "nodes" not in match and "'matrix'" not in match and "reached" not in match:  # the rig reader reads no nodes
        with pytest.raises(FacerigError):
            read_rig_gltf(p)


def test_index_past_vertex_count_and_nan_positions(tmp_path):
    doc, blob = quad()
    blob = bytearray(blob)
    struct.pack_into("<H", blob, 48 * 2 + 32 + 2, 4)  # second index -> vertex 4 of 4
    one_line_error(read_gltf, write(tmp_path, doc, bytes(blob)), match="vertex index 4")
    doc, blob = quad()
    blob = bytearray(blob)
    struct.pack_into("<f", blob, 4, float("nan"))
    p = write(tmp_path, doc, bytes(blob), "nan.glb")
    one_line_error(read_gltf, p, match="NaN")
    one_line_error(read_rig_gltf, p, match="NaN")


def test_glb_container_errors(tmp_path):
    doc, blob = quad()
    good = pack_glb(doc, blob)
    cases = {
        "short.glb": (good[:15], "truncated GLB"),
        "cut.glb": (good[:-10], "truncated GLB"),
        "chunk.glb": (good[:12] + struct.pack("<I", 10**6) + good[16:], "chunk 0 length"),
        "ver.glb": (good[:4] + struct.pack("<I", 1) + good[8:], "GLB version 1"),
        "json.glb": (good[:20] + b"}" + good[21:], "bad JSON"),
    }
    for name, (data, match) in cases.items():
        (tmp_path / name).write_bytes(data)
        one_line_error(read_gltf, tmp_path / name, match=match)
    (tmp_path / "text.gltf").write_text("not json")
    one_line_error(read_gltf, tmp_path / "text.gltf", match="not a glTF file")


# ----------------------------------------------------------------------------- URI safety


def gltf_with_uri(tmp_path: Path, uri: str, byte_length: int | None = None, name: str = "scene.gltf") -> Path:
    doc, blob = quad()
    doc["buffers"] = [{"byteLength": byte_length or len(blob), "uri": uri}]
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    (folder / "quad.bin").write_bytes(blob)
    p = folder / name
    p.write_text(json.dumps(doc))
    return p


def test_external_buffer_next_to_the_file_is_read(tmp_path):
    p = gltf_with_uri(tmp_path, "quad.bin")
    assert read_gltf(p).num_vertices == 4
    (p.parent / "sub dir").mkdir()
    (p.parent / "sub dir" / "q.bin").write_bytes((p.parent / "quad.bin").read_bytes())
    assert read_gltf(gltf_with_uri(tmp_path, "sub%20dir/q.bin", name="s.gltf")).num_vertices == 4


@pytest.mark.parametrize(
    "uri",
    [
        "../quad.bin",
        "%2e%2e/quad.bin",
        "sub/%2E%2E/%2e%2e/quad.bin",
        "/etc/passwd",
        "file:///etc/passwd",
        "http://example.com/q.bin",
        "C:/Windows/x.bin",
        "..\\quad.bin",
    ],
)
def test_buffer_uris_outside_the_folder_are_refused(tmp_path, uri):
    (tmp_path / "quad.bin").write_bytes(quad()[1])
    one_line_error(read_gltf, gltf_with_uri(tmp_path, uri), match="buffer 0")


def test_symlink_leaving_the_folder_and_special_files_are_refused(tmp_path):
    p = gltf_with_uri(tmp_path, "link.bin")
    outside = tmp_path / "outside.bin"
    outside.write_bytes(quad()[1])
    os.symlink(outside, p.parent / "link.bin")
    one_line_error(read_gltf, p, match="symlink")
    os.symlink("/dev/zero", p.parent / "zero.bin")
    one_line_error(read_gltf, gltf_with_uri(tmp_path, "zero.bin", name="z.gltf"), match="buffer 0")
    os.mkfifo(p.parent / "fifo.bin")
    one_line_error(read_gltf, gltf_with_uri(tmp_path, "fifo.bin", name="f.gltf"), match="not a regular file")
    (p.parent / "dir.bin").mkdir()
    one_line_error(read_gltf, gltf_with_uri(tmp_path, "dir.bin", name="d.gltf"), match="not a regular file")


def test_reads_are_bounded_by_byte_length_and_caps(tmp_path):
    _, blob = quad()
    p = gltf_with_uri(tmp_path, "big.bin")
    (p.parent / "big.bin").write_bytes(blob + b"x" * 5000)  # file longer than byteLength
    d = load_document(p)
    assert len(d.buffer(0)) == len(blob)  # exactly byteLength bytes read
    (p.parent / "short.bin").write_bytes(blob[:20])
    one_line_error(read_gltf, gltf_with_uri(tmp_path, "short.bin", name="s.gltf"), match="shorter than its byteLength")
    # the cap: on the file, on each buffer, on data: URIs before decoding
    with pytest.raises(MeshError, match="limit"):
        load_document(p, max_bytes=100)
    with pytest.raises(MeshError, match="limit"):
        load_document(gltf_with_uri(tmp_path, "big.bin", name="b.gltf"), max_bytes=1000).buffer(0)
    uri = "data:application/octet-stream;base64," + base64.b64encode(blob * 10).decode()
    q = gltf_with_uri(tmp_path, uri, byte_length=len(blob), name="data.gltf")
    assert read_gltf(q).num_vertices == 4
    d = load_document(q)
    d.max_bytes = 1000  # a data: URI is size-checked before it is decoded
    with pytest.raises(MeshError, match="data: URI is over"):
        d.buffer(0)
    with pytest.raises(MeshError, match="limit"):
        read_gltf(write(tmp_path, *quad()), max_bytes=64)


# ----------------------------------------------------------------------------- fuzz


def _paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


_JUNK = [
    -1,
    0,
    1,
    3,
    7,
    255,
    2**31,
    10**15,
    -(10**15),
    1.5,
    float("nan"),
    "x",
    "",
    None,
    True,
    [],
    {},
    [0] * 20,
    {"a": 1},
    "../../etc/passwd",
    "data:,",
    5120,
    5126,
    "VEC3",
    "SCALAR",
    "MAT4",
]


def test_fuzz_only_facerig_errors_escape(tmp_path):
    """400 seeded mutations of a valid GLB (bytes flipped, truncated, JSON fields replaced or
    deleted); every reader either reads it or raises FacerigError."""
    rng = np.random.default_rng(1234)
    doc0, blob0 = quad()
    good = pack_glb(doc0, blob0)
    paths = list(_paths(doc0))
    outcomes = {"ok": 0, "error": 0}
    for case in range(400):
        kind = case % 4
        if kind == 0:  # flip bytes anywhere
            data = bytearray(good)
            for _ in range(int(rng.integers(1, 9))):
                data[int(rng.integers(len(data)))] = int(rng.integers(256))
            data = bytes(data)
        elif kind == 1:  # truncate
            data = good[: int(rng.integers(0, len(good)))]
        else:  # replace or delete JSON fields (1-3), keep a consistent container
            doc = copy.deepcopy(doc0)
            for _ in range(int(rng.integers(1, 4))):
                path = paths[int(rng.integers(len(paths)))]
                parent = doc
                try:
                    for k in path[:-1]:
                        parent = parent[k]
                    if kind == 3 and isinstance(parent, dict):
                        parent.pop(path[-1], None)
                    else:
                        parent[path[-1]] = copy.deepcopy(_JUNK[int(rng.integers(len(_JUNK)))])
                except (KeyError, IndexError, TypeError):
                    pass
            data = pack_glb(doc, blob0)
        p = tmp_path / f"f{case}.glb"
        p.write_bytes(data)
        for reader in (read_gltf, read_rig_gltf):
            try:
                reader(p)
                outcomes["ok"] += 1
            except FacerigError as e:
                assert "\n" not in str(e)
                outcomes["error"] += 1
        p.unlink()
    assert outcomes["ok"] > 0 and outcomes["error"] > 0


# ----------------------------------------------------------------------------- KHR_mesh_quantization


def _quant_head(tiny_head) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import trimesh

    v, f = tiny_head(10, 12)
    v = v * np.array([9.0, 11.0, 10.0]) + np.array([0.5, 160.0, 2.0])  # centimetres, an avatar's head height
    return v, f, trimesh.Trimesh(v, f, process=False).vertex_normals


@pytest.mark.parametrize("bits, tol", [("int16", 0.5 / 32767), ("int8", 0.5 / 127)])
def test_quantized_normalized_positions_and_normals_read_back(tiny_head, tmp_path, bits, tol):
    """Normalized int16 / int8 POSITION (rows padded to 4 bytes) scaled back by the node's scale and
    translation, int8 normalized NORMAL: within half a quantum of the floats they were made from."""
    from fixtures.gltf_build import mesh_glb

    v, f, n = _quant_head(tiny_head)
    m = read_gltf(mesh_glb(tmp_path / "q.glb", v, f, normals=n, quantize=bits))
    half = float((v.max(0) - v.min(0)).max() / 2)
    assert np.abs(m.vertices - v).max() <= tol * half * 1.0001
    assert np.abs(m.vertices - v).max() > 0  # really quantized
    np.testing.assert_array_equal(m.faces, f)
    assert np.abs(m.normals - n).max() < 0.02


def test_gltfpack_layout_integer_positions_with_node_scale(tmp_path):
    """gltfpack's default: uint16 POSITION *not* normalized (stride 8), the node's scale and
    translation turning the integers into units; uint8 indices; int8 normalized normals."""
    from fixtures.gltf_build import GlbBuilder

    q = np.array([[0, 0, 0], [16383, 0, 0], [16383, 16383, 0], [0, 16383, 7]], np.uint16)
    b = GlbBuilder()
    pos = b.attribute(q, np.uint16)
    nrm = b.attribute(
        np.array([[0, 0, 127], [0, 0, 127], [0, 0, -127], [0, 127, 0]], np.int8), np.int8, normalized=True
    )
    idx = b.indices(np.array([[0, 1, 2], [0, 2, 3]]), np.uint8)
    node = {"mesh": 0, "translation": [-1.0, 150.0, 2.0], "scale": [0.002, 0.002, 0.002]}
    prim = {"attributes": {"POSITION": pos, "NORMAL": nrm}, "indices": idx}
    doc = b.document([{"primitives": [prim]}], [node], ["KHR_mesh_quantization"])
    assert doc["bufferViews"][0]["byteStride"] == 8 and doc["extensionsRequired"] == ["KHR_mesh_quantization"]
    m = read_gltf(b.write(tmp_path / "gp.glb", doc))
    np.testing.assert_allclose(m.vertices, q * 0.002 + np.array([-1.0, 150.0, 2.0]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m.normals, [[0, 0, 1], [0, 0, 1], [0, 0, -1], [0, 1, 0]])
    # a view sized to the last element without its padding is whole; one byte less is not
    doc["bufferViews"][0]["byteLength"] = 3 * 8 + 6
    m2 = read_gltf(b.write(tmp_path / "tight.glb", doc))
    np.testing.assert_array_equal(m2.vertices, m.vertices)
    doc["bufferViews"][0]["byteLength"] = 3 * 8 + 5
    one_line_error(read_gltf, b.write(tmp_path / "short.glb", doc), match="run past the end of their bufferView")

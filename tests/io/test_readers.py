"""PLY / STL / glTF / GLB / FBX readers and load_mesh dispatch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facerig.errors import MeshError
from facerig.io import load_mesh, read_mesh
from facerig.io.readers import merge_exact_corners, read_gltf

# ----------------------------------------------------------------------------- PLY / STL


@pytest.mark.parametrize("encoding", ["binary", "ascii"])
def test_ply_round_trip_keeps_order_and_duplicates(tiny_head, tmp_path: Path, encoding: str) -> None:
    import trimesh

    v, f = tiny_head()
    v = np.concatenate([v[::-1], v[:1]])  # scrambled order + an exact duplicate vertex
    f = len(v) - 2 - f
    f = np.concatenate([f, [[len(v) - 1, f[0, 1], f[0, 2]]]])  # use the duplicate too
    p = tmp_path / "head.ply"
    p.write_bytes(trimesh.Trimesh(v, f, process=False).export(file_type="ply", encoding=encoding))
    m = load_mesh(p, allow_degenerate=True)
    np.testing.assert_allclose(m.vertices, v, rtol=0, atol=1e-6 if encoding == "ascii" else 1e-7)
    np.testing.assert_array_equal(m.faces, f)
    assert m.info["format"] == "ply"


def test_stl_merges_exact_corners_only(tiny_head, tmp_path: Path) -> None:
    import trimesh

    v, f = tiny_head()
    p = tmp_path / "head.stl"
    p.write_bytes(trimesh.Trimesh(v, f, process=False).export(file_type="stl"))
    m = load_mesh(p)
    assert m.num_vertices == len(v) and m.num_faces == len(f)
    v32 = v.astype(np.float32).astype(np.float64)
    np.testing.assert_array_equal(m.vertices[m.faces], v32[f])  # same triangles, same order
    # vertices are numbered by first appearance in the file's corner list
    first_seen = list(dict.fromkeys(m.faces.ravel().tolist()))
    assert first_seen == list(range(m.num_vertices))
    assert m.info["stl_corners"] == 3 * len(f)


def test_merge_exact_corners_signed_zero_and_near_duplicates() -> None:
    tris = np.array([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]], [[-0.0, 0, 0], [0, 1, 0], [1e-12, 0, 0]]])
    v, f = merge_exact_corners(tris)
    assert len(v) == 4  # -0.0 == 0.0 merged; 1e-12 is a different point
    np.testing.assert_array_equal(f, [[0, 1, 2], [0, 2, 3]])


# ----------------------------------------------------------------------------- glTF


def _build_gltf(path: Path) -> dict:
    """Scene [node0, node2]; node0 (translate x+10, mesh A with 2 primitives) has child node1
    (scale 2, mesh B: an indexed quad + a POINTS primitive); node2 (rotate 90 deg about z)
    reuses mesh A. Returns the expected per-primitive local positions and faces."""
    import pygltflib as g

    blob = bytearray()
    accessors, views = [], []

    def add(arr: np.ndarray, target: int, typ: str, ctype: int) -> int:
        nonlocal blob
        data = arr.tobytes()
        while len(blob) % 4:
            blob += b"\0"
        views.append(g.BufferView(buffer=0, byteOffset=len(blob), byteLength=len(data), target=target))
        blob += data
        kw = {}
        if typ == "VEC3":
            kw = {"min": arr.min(0).tolist(), "max": arr.max(0).tolist()}
        accessors.append(g.Accessor(bufferView=len(views) - 1, componentType=ctype, count=len(arr), type=typ, **kw))
        return len(accessors) - 1

    F32, U16, U32 = 5126, 5123, 5125
    a_pos = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)
    a_idx = np.array([0, 2, 1], np.uint16)
    b_pos = np.array([[0, 0, 1], [1, 0, 1], [0, 1, 1]], np.float32)  # non-indexed
    q_pos = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], np.float32)
    q_idx = np.array([0, 1, 2, 0, 2, 3], np.uint32)
    p_pos = np.array([[5, 5, 5]], np.float32)
    prim = lambda pos, idx=None, mode=4: g.Primitive(attributes=g.Attributes(POSITION=pos), indices=idx, mode=mode)
    acc_a = add(a_pos, 34962, "VEC3", F32)
    acc_ai = add(a_idx, 34963, "SCALAR", U16)
    acc_b = add(b_pos, 34962, "VEC3", F32)
    acc_q = add(q_pos, 34962, "VEC3", F32)
    acc_qi = add(q_idx, 34963, "SCALAR", U32)
    acc_p = add(p_pos, 34962, "VEC3", F32)
    s = np.sqrt(0.5)
    gltf = g.GLTF2(
        scene=0,
        scenes=[g.Scene(nodes=[0, 2])],
        nodes=[
            g.Node(mesh=0, translation=[10, 0, 0], children=[1], name="root"),
            g.Node(mesh=1, scale=[2, 2, 2], name="child"),
            g.Node(mesh=0, rotation=[0, 0, s, s], name="rotated"),
        ],
        meshes=[
            g.Mesh(name="A", primitives=[prim(acc_a, acc_ai), prim(acc_b)]),
            g.Mesh(name="B", primitives=[prim(acc_q, acc_qi), prim(acc_p, mode=0)]),
        ],
        accessors=accessors,
        bufferViews=views,
        buffers=[g.Buffer(byteLength=len(blob))],
    )
    gltf.set_binary_blob(bytes(blob))
    if path.suffix == ".glb":
        gltf.save_binary(str(path))
    else:
        gltf.convert_buffers(g.BufferFormat.DATAURI)
        gltf.save_json(str(path))
    return {"a": a_pos, "b": b_pos, "q": q_pos}


@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_gltf_concatenates_in_documented_order_with_transforms(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"scene{suffix}"
    local = _build_gltf(path)
    m = read_gltf(path)
    rot = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]], float)  # 90 deg about z
    t = np.array([10.0, 0, 0])
    expected = np.concatenate(
        [
            local["a"] + t,
            local["b"] + t,  # node0: mesh A prims 0, 1
            2 * local["q"] + t,  # node1 (child of node0): mesh B prim 0
            local["a"] @ rot.T,
            local["b"] @ rot.T,  # node2: mesh A again
        ]
    )
    np.testing.assert_allclose(m.vertices, expected, atol=1e-6)
    np.testing.assert_array_equal(m.faces, [[0, 2, 1], [3, 4, 5], [6, 7, 8], [6, 8, 9], [10, 12, 11], [13, 14, 15]])
    assert m.group_names == ["A/0", "A/1", "B/0", "A/0", "A/1"]
    np.testing.assert_array_equal(m.groups, [0, 1, 2, 2, 3, 4])
    assert [p["node"] for p in m.info["primitives"]] == [0, 0, 1, 2, 2]
    assert m.info["skipped_primitives"][0]["why"] == "POINTS"
    assert m.num_vertices == 3 + 3 + 4 + 3 + 3


def test_load_mesh_gltf_validates(tmp_path: Path) -> None:
    path = tmp_path / "scene.glb"
    _build_gltf(path)
    m = load_mesh(path)
    assert m.num_vertices == 16


def test_bad_glb_is_one_line_error(tmp_path: Path) -> None:
    p = tmp_path / "bad.glb"
    p.write_bytes(b"glTF\x02\0\0\0garbage")
    with pytest.raises(MeshError) as e:
        load_mesh(p)
    assert "\n" not in str(e.value)


# ----------------------------------------------------------------------------- dispatch


def test_unsupported_suffix(tmp_path: Path) -> None:
    p = tmp_path / "head.abc"
    p.write_text("v 0 0 0\n")
    with pytest.raises(MeshError, match="unsupported mesh format"):
        read_mesh(p)


def test_missing_and_empty_and_folder(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="no such file"):
        load_mesh(tmp_path / "nope.obj")
    (tmp_path / "empty.obj").write_bytes(b"")
    with pytest.raises(MeshError, match="empty file"):
        load_mesh(tmp_path / "empty.obj")
    (tmp_path / "dir.obj").mkdir()
    with pytest.raises(MeshError, match="folder"):
        load_mesh(tmp_path / "dir.obj")


def test_fbx_without_blender_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from facerig.io import readers

    monkeypatch.setattr(readers, "fbx_available", lambda: False)
    p = tmp_path / "head.fbx"
    p.write_bytes(b"Kaydara FBX Binary  \0")
    with pytest.raises(MeshError, match=r"pip install 'facerig\[blender\]'"):
        load_mesh(p)


@pytest.mark.parametrize("suffix", [".ply", ".stl"])
def test_text_garbage_as_ply_stl(tmp_path: Path, suffix: str) -> None:
    p = tmp_path / f"junk{suffix}"
    p.write_text("this is not a mesh at all\n")
    with pytest.raises(MeshError) as e:
        load_mesh(p)
    assert "\n" not in str(e.value)


def test_gltf_primitives_sharing_positions_share_vertices(tmp_path: Path) -> None:
    """Multi-material layout: two primitives, one POSITION accessor -> 4 vertices, not 8."""
    import pygltflib as g

    pos = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], np.float32)
    i0 = np.array([0, 1, 2], np.uint16)
    i1 = np.array([0, 2, 3], np.uint16)
    blob = pos.tobytes() + i0.tobytes() + b"\0\0" + i1.tobytes()
    views = [
        g.BufferView(buffer=0, byteOffset=0, byteLength=48),
        g.BufferView(buffer=0, byteOffset=48, byteLength=6),
        g.BufferView(buffer=0, byteOffset=56, byteLength=6),
    ]
    accs = [
        g.Accessor(bufferView=0, componentType=5126, count=4, type="VEC3", min=[0, 0, 0], max=[1, 1, 0]),
        g.Accessor(bufferView=1, componentType=5123, count=3, type="SCALAR"),
        g.Accessor(bufferView=2, componentType=5123, count=3, type="SCALAR"),
    ]
    prims = [
        g.Primitive(attributes=g.Attributes(POSITION=0), indices=1, material=0),
        g.Primitive(attributes=g.Attributes(POSITION=0), indices=2, material=1),
    ]
    gltf = g.GLTF2(
        scene=0,
        scenes=[g.Scene(nodes=[0])],
        nodes=[g.Node(mesh=0)],
        meshes=[g.Mesh(name="face", primitives=prims)],
        accessors=accs,
        bufferViews=views,
        buffers=[g.Buffer(byteLength=len(blob))],
    )
    gltf.set_binary_blob(blob)
    path = tmp_path / "shared.glb"
    gltf.save_binary(str(path))
    m = load_mesh(path)
    np.testing.assert_array_equal(m.vertices, pos)
    np.testing.assert_array_equal(m.faces, [[0, 1, 2], [0, 2, 3]])
    np.testing.assert_array_equal(m.groups, [0, 1])
    assert [p["shares_vertices"] for p in m.info["primitives"]] == [False, True]


def test_our_glb_export_reads_back_in_order(tiny_head, tmp_path: Path) -> None:
    """A rig written by facerig.io.gltf reads back with the same vertices in the same order."""
    gltf_io = pytest.importorskip("facerig.io.gltf")
    from facerig.io.obj import write_obj
    from facerig.models.registry import rig_mesh

    v, f = tiny_head()
    write_obj(tmp_path / "h.obj", v, f)
    mesh = load_mesh(tmp_path / "h.obj")
    rig = rig_mesh(mesh, "zero")
    gltf_io.save_rig_gltf(tmp_path / "h.glb", rig, mesh)
    back = load_mesh(tmp_path / "h.glb")
    np.testing.assert_allclose(back.vertices, v, atol=1e-6)  # glTF stores float32


@pytest.mark.slow
def test_fbx_round_trip_through_blender(tiny_head, tmp_path: Path) -> None:
    """An FBX written by facerig.io.fbx loads back (load_mesh) with the same vertices in order."""
    from facerig.io.readers import fbx_available

    if not fbx_available():
        pytest.skip("bpy (Blender) not installed")
    fbx_io = pytest.importorskip("facerig.io.fbx")
    from facerig.io.obj import write_obj
    from facerig.models.registry import rig_mesh

    v, f = tiny_head()
    write_obj(tmp_path / "h.obj", v, f)
    mesh = load_mesh(tmp_path / "h.obj")
    fbx_io.save_rig_fbx(tmp_path / "h.fbx", rig_mesh(mesh, "zero"), mesh)
    m = load_mesh(tmp_path / "h.fbx")
    np.testing.assert_allclose(m.vertices, v, atol=1e-5)
    assert m.num_faces == len(f)


def test_ply_unreferenced_vertex_is_kept_then_reported(tmp_path: Path) -> None:
    import trimesh

    v = np.array([[0, 0, 0], [9, 9, 9], [1, 0, 0], [0, 1, 0]], float)
    p = tmp_path / "u.ply"
    p.write_bytes(trimesh.Trimesh(v, [[0, 2, 3]], process=False).export(file_type="ply"))
    np.testing.assert_array_equal(read_mesh(p).vertices, v)  # trimesh did not drop vertex 1
    with pytest.raises(MeshError, match="first: vertex 1"):
        load_mesh(p)
    assert load_mesh(p, allow_unreferenced=True).num_vertices == 4


def _draco_glb(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A GLB whose one primitive is KHR_draco_mesh_compression (DracoPy-encoded grid)."""
    import json
    import struct

    DracoPy = pytest.importorskip("DracoPy")
    n = 5
    xs, ys = np.meshgrid(np.arange(n, dtype=np.float64), np.arange(n, dtype=np.float64))
    pts = np.stack([xs.ravel(), ys.ravel(), 0.1 * xs.ravel() * ys.ravel()], 1)
    quads = [
        (j * n + i, j * n + i + 1, (j + 1) * n + i + 1, (j + 1) * n + i) for j in range(n - 1) for i in range(n - 1)
    ]
    faces = np.array([t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))], np.uint32)
    stream = DracoPy.encode(pts, faces, quantization_bits=16, tex_coord=pts[:, :2] / (n - 1))
    dec = DracoPy.decode(stream)
    uid = {a["attribute_type"]: a["unique_id"] for a in dec.attributes}
    blob = stream + b"\0" * ((-len(stream)) % 4)
    doc = {
        "asset": {"version": "2.0"},
        "extensionsUsed": ["KHR_draco_mesh_compression"],
        "extensionsRequired": ["KHR_draco_mesh_compression"],
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [
            {
                "primitives": [
                    {
                        "attributes": {"POSITION": 0, "TEXCOORD_0": 2},
                        "indices": 1,
                        "extensions": {
                            "KHR_draco_mesh_compression": {
                                "bufferView": 0,
                                "attributes": {"POSITION": uid[0], "TEXCOORD_0": uid[3]},
                            }
                        },
                    }
                ]
            }
        ],
        "accessors": [
            {
                "componentType": 5126,
                "count": len(dec.points),
                "type": "VEC3",
                "min": dec.points.min(0).tolist(),
                "max": dec.points.max(0).tolist(),
            },
            {"componentType": 5125, "count": dec.faces.size, "type": "SCALAR"},
            {"componentType": 5126, "count": len(dec.points), "type": "VEC2"},
        ],
        "bufferViews": [{"buffer": 0, "byteLength": len(stream)}],
        "buffers": [{"byteLength": len(blob)}],
    }
    text = json.dumps(doc).encode()
    text += b" " * ((-len(text)) % 4)
    path.write_bytes(
        struct.pack("<4sII", b"glTF", 2, 28 + len(text) + len(blob))
        + struct.pack("<II", len(text), 0x4E4F534A)
        + text
        + struct.pack("<II", len(blob), 0x004E4942)
        + blob
    )
    return pts, faces


def test_draco_glb_reads_in_the_decoders_vertex_order(tmp_path: Path) -> None:
    DracoPy = pytest.importorskip("DracoPy")

    p = tmp_path / "draco.glb"
    pts, faces = _draco_glb(p)
    m = load_mesh(p)
    dec = DracoPy.decode(bytes(p.read_bytes()[28 + int.from_bytes(p.read_bytes()[12:16], "little") :]))
    np.testing.assert_array_equal(m.vertices, dec.points.astype(np.float64))  # the decoder's order, as is
    np.testing.assert_array_equal(m.faces, dec.faces)
    assert m.info["primitives"][0]["draco"] is True and m.uv is not None

    # same triangles as before compression (16-bit quantisation, corners possibly rotated)
    def canon(tri: np.ndarray) -> np.ndarray:
        c = np.round(tri, 3) + 0.0
        c = np.array([sorted(map(tuple, t)) for t in c]).reshape(len(c), -1)
        return c[np.lexsort(c.T[::-1])]

    assert len(m.faces) == len(faces)
    np.testing.assert_array_equal(canon(m.vertices[m.faces]), canon(pts[faces]))


def test_draco_without_decoder_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    p = tmp_path / "draco.glb"
    _draco_glb(p)
    monkeypatch.setitem(sys.modules, "DracoPy", None)  # import DracoPy -> ImportError
    with pytest.raises(MeshError, match="pip install DracoPy"):
        load_mesh(p)


# ----------------------------------------------------------------------------- PLY / STL: damage and limits


def _exports(tiny_head) -> dict[str, bytes]:
    import trimesh

    tm = trimesh.Trimesh(*tiny_head(), process=False)
    return {
        "ply_ascii": tm.export(file_type="ply", encoding="ascii"),
        "ply_binary": tm.export(file_type="ply", encoding="binary"),
        "stl_binary": tm.export(file_type="stl"),
        "stl_ascii": tm.export(file_type="stl_ascii").encode(),
    }


@pytest.mark.parametrize(
    "kind, cut, match",
    [
        ("ply_ascii", 2 / 3, "truncated ASCII PLY: the header declares 48 'vertex', 88 'face'"),
        ("ply_ascii", 1 / 4, "truncated ASCII PLY"),
        ("ply_ascii", -3, "truncated ASCII PLY"),  # only the last index lost
        ("ply_binary", 2 / 3, "truncated binary PLY"),
        ("ply_binary", -1, "truncated binary PLY"),
        ("ply_binary", 100, "no 'end_header'"),
        ("stl_binary", 2 / 3, "truncated or corrupt binary STL: its header declares 88 triangles"),
        ("stl_binary", -1, "truncated or corrupt binary STL"),
        ("stl_binary", 50, "not an STL file"),
        ("stl_ascii", 2 / 3, "ASCII STL ends without 'endsolid'"),
    ],
)
def test_truncated_ply_stl_are_refused(tiny_head, tmp_path: Path, kind: str, cut, match: str) -> None:
    data = _exports(tiny_head)[kind]
    n = int(len(data) * cut) if isinstance(cut, float) else cut
    p = tmp_path / f"cut.{kind[:3]}"
    p.write_bytes(data[:n])
    with pytest.raises(MeshError, match=match) as e:
        read_mesh(p)
    assert "\n" not in str(e.value)


def test_whole_exports_read_and_stl_needs_no_charset_normalizer(tiny_head, tmp_path: Path) -> None:
    import importlib.util

    v, f = tiny_head()
    for kind, data in _exports(tiny_head).items():
        p = tmp_path / f"whole.{kind[:3]}"
        p.write_bytes(data)
        m = read_mesh(p)
        assert m.num_vertices == len(v) and m.num_faces == len(f), kind
    # the message for garbage never names a missing module (trimesh's STL fallback did)
    p = tmp_path / "bin.stl"
    p.write_bytes(bytes(range(256)) * 3)
    with pytest.raises(MeshError, match="truncated or corrupt binary STL") as e:
        read_mesh(p)
    assert "module" not in str(e.value)
    if importlib.util.find_spec("charset_normalizer") is None:  # the case the old reader got wrong
        assert "charset_normalizer" not in str(e.value)


@pytest.mark.parametrize(
    "kind, bad, match",
    [
        ("stl_ascii", (b"vertex 0", b"vertex x", 1), "bad number 'x.0' in a 'vertex' line"),
        ("stl_ascii", (b"endloop", b"vertex 0 0 0\nendloop", 1), "each facet needs exactly 3 vertices"),
        ("ply_ascii", (b"format ascii", b"format utf8", 1), "unknown format"),
        ("ply_ascii", (b"element vertex 48", b"element vertex -48", 1), "bad element line"),
        ("ply_ascii", (b"property float x", b"property quaternion x", 1), "bad property line"),
        ("ply_ascii", (b"property float x\n", b"", 1), "lack x / y / z"),
        ("ply_ascii", (b"ply\n", b"plx\n", 1), "not a PLY file"),
    ],
)
def test_malformed_ply_stl_name_the_problem(tiny_head, tmp_path: Path, kind: str, bad, match: str) -> None:
    p = tmp_path / f"bad.{kind[:3]}"
    p.write_bytes(_exports(tiny_head)[kind].replace(*bad))
    with pytest.raises(MeshError, match=match):
        read_mesh(p)


def test_ply_stl_counts_checked_from_the_header(tiny_head, tmp_path: Path) -> None:
    ex = _exports(tiny_head)
    p = tmp_path / "h.ply"
    p.write_bytes(ex["ply_binary"])
    with pytest.raises(MeshError, match="48 vertices is over the limit of 40"):
        read_mesh(p, max_vertices=40)
    with pytest.raises(MeshError, match="88 faces is over the limit of 50"):
        read_mesh(p, max_faces=50)
    p = tmp_path / "h.stl"
    p.write_bytes(ex["stl_binary"])
    with pytest.raises(MeshError, match="88 faces is over the limit of 50"):
        read_mesh(p, max_faces=50)
    with pytest.raises(MeshError, match="over the limit of 1.0 kB"):
        read_mesh(p, max_bytes=1024)


def test_million_vertex_ply_over_the_limit_fails_before_reading_data(tmp_path: Path) -> None:
    import time

    p = tmp_path / "big.ply"
    # a header claiming 2M vertices over a short body: refused from the header alone
    p.write_bytes(
        b"ply\nformat binary_little_endian 1.0\nelement vertex 2000000\nproperty float x\n"
        b"property float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\n"
        b"end_header\n" + b"\0" * 64
    )
    t0 = time.perf_counter()
    with pytest.raises(MeshError, match="2,000,000 vertices is over the limit of 1,000,000"):
        load_mesh(p)
    assert time.perf_counter() - t0 < 1.0

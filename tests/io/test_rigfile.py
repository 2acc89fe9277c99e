"""The one rig loader (facerig.io.rigfile): every format, size limits before expanding, bad rigs refused."""

from __future__ import annotations

import json
import struct
import zipfile

import numpy as np
import pytest

from facerig.errors import FacerigError
from facerig.io.fbx import bpy_available
from facerig.io.gltf import save_rig_gltf
from facerig.io.obj import read_obj
from facerig.io.objset import save_rig_obj_folder
from facerig.io.rig import Rig, _write_npz, save_rig
from facerig.io.rigfile import check_rig, read_rig, read_rig_and_mesh

NAMES = ["jawOpen", "eyeBlinkLeft", "mouthSmileLeft"]


@pytest.fixture
def rig(head_arrays) -> Rig:
    v, f = head_arrays
    d = (np.random.default_rng(0).normal(size=(len(NAMES), len(v), 3)) * 0.05).astype(np.float32)
    return Rig(names=NAMES, deltas=d, neutral=v, faces=f, meta={"units": "cm", "method": "test"})


def npz(path, **arrays):
    _write_npz(path, arrays)
    return path


# --- every format ----------------------------------------------------------------------------


def test_npz_glb_gltf_and_obj_folder_read_the_same_rig(tmp_path, rig):
    save_rig(tmp_path / "r.npz", rig)
    save_rig_gltf(tmp_path / "r.glb", rig, sparse=False, delta_epsilon=0)
    save_rig_gltf(tmp_path / "r.gltf", rig, sparse=False, delta_epsilon=0)
    save_rig_obj_folder(tmp_path / "objs", rig)
    for name, mesh_kind in [("r.npz", None), ("r.glb", "glb"), ("r.gltf", "gltf"), ("objs", "obj")]:
        back, mesh = read_rig_and_mesh(tmp_path / name)
        assert back.names == NAMES, name
        np.testing.assert_allclose(back.neutral, rig.neutral, atol=1e-6)
        np.testing.assert_allclose(back.deltas, rig.deltas, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(back.faces), rig.faces)
        if mesh_kind is None:
            assert mesh is None
        else:
            assert mesh.num_vertices == rig.num_vertices and mesh.info.get("format") == mesh_kind
    assert read_rig(tmp_path / "r.npz").meta["method"] == "test"


def test_obj_folder_mesh_keeps_polygons_and_uvs(tmp_path):
    p = tmp_path / "q.obj"
    p.write_text(
        "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 2 0 0\nv 2 1 0\n"
        "vt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nvt 2 0\nvt 2 1\n"
        "f 1/1 2/2 3/3 4/4\nf 2/2 5/5 6/6 3/3\n"
    )
    m = read_obj(p)
    rig = Rig(names=["jawOpen"], deltas=np.ones((1, 6, 3), np.float32), neutral=m.vertices, faces=m.faces)
    save_rig_obj_folder(tmp_path / "rig", rig, m)
    back, mesh = read_rig_and_mesh(tmp_path / "rig")
    np.testing.assert_array_equal(back.deltas, rig.deltas)
    assert mesh.polygons.shape == (2, 4) and mesh.uv.shape == (6, 2)


def test_missing_unknown_and_plain_folders(tmp_path):
    with pytest.raises(FacerigError, match="no such rig file"):
        read_rig(tmp_path / "nope.npz")
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(FacerigError, match="unknown rig format"):
        read_rig(tmp_path / "x.txt")
    with pytest.raises(FacerigError, match="without rig.json"):
        read_rig(tmp_path)
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(FacerigError, match="not a facerig rig NPZ"):
        read_rig(tmp_path / "bad.npz")


@pytest.mark.slow
@pytest.mark.skipif(not bpy_available(), reason="FBX needs bpy")
def test_fbx_rig(tmp_path, rig):
    from facerig.io.fbx import save_rig_fbx

    save_rig_fbx(tmp_path / "r.fbx", rig)
    back, mesh = read_rig_and_mesh(tmp_path / "r.fbx")
    assert back.names == NAMES and mesh.num_vertices == rig.num_vertices
    np.testing.assert_allclose(back.deltas, rig.deltas, atol=1e-5)


@pytest.mark.skipif(bpy_available(), reason="bpy installed: the FBX rig is read in test_fbx_rig")
def test_fbx_without_bpy_is_one_line(tmp_path):
    (tmp_path / "r.fbx").write_bytes(b"Kaydara FBX Binary  \x00")
    with pytest.raises(FacerigError, match="bpy"):
        read_rig(tmp_path / "r.fbx")


# --- size limits, checked before expanding ----------------------------------------------------


def test_npz_bomb_is_refused_from_its_headers(tmp_path):
    # a real zip bomb: 200 MB of zero deltas deflate to ~200 kB; refused under a 50 MB limit
    zeros = np.zeros((52, 1_000_000, 1), np.float32)
    p = npz(tmp_path / "bomb.npz", names=np.array(NAMES[:1] * 52), deltas=zeros, neutral=np.zeros((10, 3)))
    assert p.stat().st_size < 2_000_000
    with pytest.raises(FacerigError, match=r"would take 208 MB.*over the 50 MB limit"):
        read_rig(p, max_bytes=50_000_000)


def test_npz_header_claiming_9_gb_is_refused_without_reading_it(tmp_path):
    # a member whose .npy header says (52, 15M, 3) float32 = 9.4 GB but holds 1 kB
    header = {"descr": "<f4", "fortran_order": False, "shape": (52, 15_000_000, 3)}
    buf = bytearray()
    np.lib.format.write_array_header_1_0(_Sink(buf), header)
    p = tmp_path / "liar.npz"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("deltas.npy", bytes(buf) + b"\0" * 1024)
        for key, a in (("names", np.array(["a"])), ("neutral", np.zeros((15_000_000 // 10**6, 3)))):
            sink = bytearray()
            np.lib.format.write_array(_Sink(sink), a)
            zf.writestr(f"{key}.npy", bytes(sink))
    with pytest.raises(FacerigError, match=r"9\.36 GB once loaded \(deltas \(52, 15000000, 3\)\)"):
        read_rig(p)


class _Sink:
    def __init__(self, buf: bytearray) -> None:
        self.buf = buf

    def write(self, b) -> None:
        self.buf += bytes(b)


def test_npz_with_object_arrays_is_refused(tmp_path):
    p = tmp_path / "obj.npz"
    np.savez(p, names=np.array(["a"], dtype=object), deltas=np.zeros((1, 3, 3), np.float32), neutral=np.zeros((3, 3)))
    with pytest.raises(FacerigError, match="Python objects"):
        read_rig(p)


def gltf_doc(tmp_path, **over) -> dict:
    doc = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": 36}],
        "bufferViews": [{"buffer": 0, "byteLength": 36}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
    }
    doc.update(over)
    return doc


def write_glb(path, doc: dict, bin_chunk: bytes = b"\0" * 36):
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    body = struct.pack("<II", len(js), 0x4E4F534A) + js + struct.pack("<II", len(bin_chunk), 0x004E4942) + bin_chunk
    path.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body)
    return path


def test_gltf_with_huge_declared_buffers_or_accessors_is_refused(tmp_path):
    big = write_glb(tmp_path / "big.glb", gltf_doc(tmp_path, buffers=[{"byteLength": 2_500_000_000}]))
    with pytest.raises(FacerigError, match=r"buffers declare 2\.5 GB, over the 1\.07 GB rig limit"):
        read_rig(big)
    # 52 sparse targets on a 10M-vertex POSITION: nothing in the file, 6.5 GB once expanded
    acc = [{"componentType": 5126, "count": 10_000_000, "type": "VEC3"}]
    targets = [{"POSITION": 0}] * 52
    bomb = write_glb(
        tmp_path / "bomb.glb",
        gltf_doc(
            tmp_path,
            accessors=acc,
            bufferViews=[],
            meshes=[{"primitives": [{"attributes": {"POSITION": 0}, "targets": targets}]}],
        ),
    )
    with pytest.raises(FacerigError, match="accessor 0 expands to 120 MB, over the 100 MB rig limit"):
        read_rig(bomb, max_bytes=100_000_000)
    with pytest.raises(FacerigError, match=r"the rig \(52 shapes x 10000000 vertices\) would take 6\.48 GB"):
        read_rig(bomb)


def test_real_glb_over_a_small_limit_is_refused(tmp_path, rig):
    save_rig_gltf(tmp_path / "r.glb", rig, sparse=False, delta_epsilon=0)
    with pytest.raises(FacerigError, match="over the"):
        read_rig(tmp_path / "r.glb", max_bytes=1000)
    assert read_rig(tmp_path / "r.glb").num_vertices == rig.num_vertices


def test_obj_folder_limit_and_unsafe_file_names(tmp_path, rig):
    save_rig_obj_folder(tmp_path / "objs", rig)
    with pytest.raises(FacerigError, match="3 shapes x .* vertices would take"):
        read_rig(tmp_path / "objs", max_bytes=2000)
    info = json.loads((tmp_path / "objs" / "rig.json").read_text())
    info["files"][0] = "../secret.obj"
    (tmp_path / "objs" / "rig.json").write_text(json.dumps(info))
    (tmp_path / "secret.obj").write_text("v 0 0 0\n")
    with pytest.raises(FacerigError, match="not a file name inside the folder"):
        read_rig(tmp_path / "objs")


def test_obj_folder_shape_with_other_vertex_count(tmp_path, rig):
    save_rig_obj_folder(tmp_path / "objs", rig)
    (tmp_path / "objs" / "jawOpen.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    with pytest.raises(FacerigError, match="jawOpen.obj: 3 vertices, the neutral has"):
        read_rig(tmp_path / "objs")


# --- rigs nothing downstream can use ----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["npz", "glb"])
def test_nan_and_inf_are_refused(tmp_path, rig, fmt):
    bad = Rig(names=rig.names, deltas=rig.deltas.copy(), neutral=rig.neutral.copy(), faces=rig.faces)
    p = tmp_path / f"bad.{fmt}"
    if fmt == "npz":
        bad.deltas[1, 5, 2] = np.nan
        bad.deltas[2, 0, 0] = np.inf
        save_rig(p, bad)
    else:  # our writer cannot write NaN (glTF min/max): patch two sentinel floats in the binary chunk
        bad.deltas[1, 5, 2], bad.deltas[2, 0, 0] = 1234.5, -4321.25
        save_rig_gltf(p, bad, sparse=False, delta_epsilon=0)
        raw = p.read_bytes()
        for value, new in ((1234.5, np.nan), (-4321.25, np.inf)):
            old = struct.pack("<f", value)
            assert raw.count(old) == 1
            raw = raw.replace(old, struct.pack("<f", new))
        p.write_bytes(raw)
    with pytest.raises(FacerigError, match="shape 'eyeBlinkLeft' has non-finite deltas \\(NaN/inf\\), and 1 more"):
        read_rig(p)
    bad.deltas[:] = 0
    bad.neutral[3] = np.inf
    save_rig(tmp_path / "n.npz", bad)
    with pytest.raises(FacerigError, match="neutral has non-finite coordinates .* first 3"):
        read_rig(tmp_path / "n.npz")


def test_empty_mismatched_and_broken_rigs_are_refused(tmp_path, rig):
    with pytest.raises(FacerigError, match="no vertices"):
        read_rig(
            npz(
                tmp_path / "e.npz",
                names=np.array(["a"]),
                deltas=np.zeros((1, 0, 3), np.float32),
                neutral=np.zeros((0, 3)),
            )
        )
    with pytest.raises(FacerigError, match="not a usable rig NPZ .*deltas shape"):
        read_rig(
            npz(
                tmp_path / "m.npz",
                names=np.array(["a", "b"]),
                deltas=np.zeros((2, 5, 3), np.float32),
                neutral=np.zeros((4, 3)),
            )
        )
    with pytest.raises(FacerigError, match="faces index vertices outside 0..3"):
        read_rig(
            npz(
                tmp_path / "f.npz",
                names=np.array(["a"]),
                deltas=np.zeros((1, 4, 3), np.float32),
                neutral=np.zeros((4, 3)),
                faces=np.array([[0, 1, 4]], np.int32),
            )
        )
    with pytest.raises(FacerigError, match="shape name 'a' appears twice"):
        read_rig(
            npz(
                tmp_path / "d.npz",
                names=np.array(["a", "a"]),
                deltas=np.zeros((2, 4, 3), np.float32),
                neutral=np.zeros((4, 3)),
            )
        )
    with pytest.raises(FacerigError, match="lacks deltas"):
        read_rig(npz(tmp_path / "l.npz", names=np.array(["a"]), neutral=np.zeros((4, 3))))
    assert check_rig(rig) is rig

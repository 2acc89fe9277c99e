"""OBJ rig folders (facerig.io.objset): one OBJ per shape in the input's vertex order."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from facerig.errors import FacerigError
from facerig.io.obj import read_obj, write_obj
from facerig.io.objset import load_rig_obj_folder, save_rig_obj_folder, shape_filename
from facerig.io.rig import Rig


def quad_obj(tmp_path):
    """2 quads + 1 triangle with UVs (a seam at vertex 1), 6 vertices deliberately not in face order."""
    p = tmp_path / "q.obj"
    p.write_text(
        "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 2 0 0\nv 2 1 0.5\n"
        "vt 0 0\nvt 0.5 0\nvt 0.5 1\nvt 0 1\nvt 1 0\nvt 1 1\nvt 0.55 0\n"
        "f 1/1 2/2 3/3 4/4\nf 2/7 5/5 6/6 3/3\nf 4/4 3/3 6/6\n"
    )
    return p


def make_rig(mesh, names=("jawOpen", "eyeBlinkLeft")):
    rng = np.random.default_rng(1)
    d = rng.normal(size=(len(names), mesh.num_vertices, 3)).astype(np.float32)
    return Rig(
        names=list(names),
        deltas=d,
        neutral=mesh.vertices,
        faces=mesh.faces,
        meta={"method": "test", "units": "mm", "missing": ["tongueOut"]},
    )


def test_folder_keeps_order_polygons_uvs(tmp_path):
    mesh = read_obj(quad_obj(tmp_path))
    rig = make_rig(mesh)
    out = save_rig_obj_folder(tmp_path / "rig", rig, mesh)
    assert [p.name for p in out] == ["neutral.obj", "jawOpen.obj", "eyeBlinkLeft.obj", "rig.json"]
    neutral = read_obj(out[0])
    np.testing.assert_array_equal(neutral.vertices, mesh.vertices)  # exact float64
    for k, p in enumerate(out[1:3]):
        m = read_obj(p)
        np.testing.assert_array_equal(m.vertices, mesh.vertices + rig.deltas[k].astype(np.float64))
        assert [list(x) for x in m.polygons] == [list(x) for x in mesh.polygons]  # quads kept
        assert [list(x) for x in m.uv_faces] == [list(x) for x in mesh.uv_faces]
        np.testing.assert_array_equal(m.uv, mesh.uv)
    info = json.loads(out[-1].read_text())
    assert info["names"] == rig.names and info["units"] == "mm" and info["method"] == "test"
    assert info["files"] == ["jawOpen.obj", "eyeBlinkLeft.obj"] and info["missing"] == ["tongueOut"]
    back = load_rig_obj_folder(tmp_path / "rig")
    assert back.names == rig.names
    np.testing.assert_allclose(back.deltas, rig.deltas, atol=1e-6)


def test_identical_to_write_obj(tmp_path):
    mesh = read_obj(quad_obj(tmp_path))
    rig = make_rig(mesh)
    out = save_rig_obj_folder(tmp_path / "rig", rig, mesh)
    write_obj(tmp_path / "ref.obj", mesh.vertices + rig.deltas[1], mesh.polygons, uv=mesh.uv, uv_faces=mesh.uv_faces)
    assert out[2].read_bytes() == (tmp_path / "ref.obj").read_bytes()
    # triangles only, no UVs
    v = mesh.vertices
    f = mesh.faces
    rig2 = Rig(names=["jawOpen"], deltas=rig.deltas[:1], neutral=v, faces=f)
    out2 = save_rig_obj_folder(tmp_path / "tri", rig2)
    write_obj(tmp_path / "ref2.obj", v, f)
    assert out2[0].read_bytes() == (tmp_path / "ref2.obj").read_bytes()


def test_mixed_polygon_sizes(tmp_path):
    mesh = read_obj(quad_obj(tmp_path))
    assert isinstance(mesh.polygons, list)  # 2 quads + 1 triangle
    out = save_rig_obj_folder(tmp_path / "rig", make_rig(mesh), mesh)
    assert read_obj(out[1]).info["polygon_sizes"] == {3: 1, 4: 2}


def test_errors(tmp_path, head_arrays):
    mesh = read_obj(quad_obj(tmp_path))
    v, f = head_arrays
    with pytest.raises(FacerigError, match="vertices but the rig has"):
        save_rig_obj_folder(tmp_path / "a", Rig(names=[], deltas=np.zeros((0, len(v), 3)), neutral=v, faces=f), mesh)
    with pytest.raises(FacerigError, match="without faces"):
        save_rig_obj_folder(tmp_path / "b", Rig(names=[], deltas=np.zeros((0, len(v), 3)), neutral=v))
    with pytest.raises(FacerigError, match="same file name"):
        save_rig_obj_folder(tmp_path / "c", make_rig(mesh, names=("jawOpen", "JawOpen")), mesh)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FacerigError, match="not a folder"):
        save_rig_obj_folder(tmp_path / "file", make_rig(mesh), mesh)
    with pytest.raises(FacerigError, match="no rig.json"):
        load_rig_obj_folder(tmp_path)
    assert shape_filename("a/b:c") == "a_b_c.obj"


def test_speed_52_shapes(tmp_path, head_arrays):
    """52 shapes x ~5k vertices in well under a second per MB; guards against per-line loops."""
    v, f = head_arrays
    reps = 100  # tile the tiny head to ~5k vertices
    V0 = len(v)
    verts = np.concatenate([v + i for i in range(reps)])
    faces = np.concatenate([f + i * V0 for i in range(reps)])
    rng = np.random.default_rng(0)
    rig = Rig(
        names=[f"s{i}" for i in range(52)],
        deltas=rng.normal(size=(52, len(verts), 3)) * 0.01,
        neutral=verts,
        faces=faces,
    )
    t = time.perf_counter()
    out = save_rig_obj_folder(tmp_path / "fast", rig)
    dt = time.perf_counter() - t
    assert len(out) == 54
    assert dt < 10.0, f"{dt:.1f}s for 52 x {len(verts)} vertices"


def test_worker_processes_write_the_same_files(tmp_path, head_arrays):
    """The files written by forked workers are byte-identical to those written in-process."""
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork here")
    v, f = head_arrays
    rng = np.random.default_rng(1)
    rig = Rig(names=[f"s{i}" for i in range(6)], deltas=rng.normal(size=(6, len(v), 3)) * 0.01, neutral=v, faces=f)
    one = save_rig_obj_folder(tmp_path / "one", rig, workers=1)
    two = save_rig_obj_folder(tmp_path / "two", rig, workers=2)
    assert [p.name for p in one] == [p.name for p in two]
    for a, b in zip(one, two):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_folder_is_replaced_whole_and_foreign_folders_refused(tmp_path):
    from facerig.io.objset import check_rig_folder_output

    mesh = read_obj(quad_obj(tmp_path))
    out = tmp_path / "rig"
    save_rig_obj_folder(out, make_rig(mesh, names=("jawOpen", "eyeBlinkLeft", "browInnerUp")))
    check_rig_folder_output(out)  # an old rig folder may be replaced
    save_rig_obj_folder(out, make_rig(mesh, names=("mouthClose",)))
    assert sorted(p.name for p in out.iterdir()) == ["mouthClose.obj", "neutral.obj", "rig.json"]  # no stale shapes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.obj", "rig"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(FacerigError, match="holds other files"):
        check_rig_folder_output(other)
    with pytest.raises(FacerigError, match="holds other files"):
        save_rig_obj_folder(other, make_rig(mesh))
    assert [p.name for p in other.iterdir()] == ["notes.txt"]

"""Blender round trips (skipped without bpy): our GLB imported by Blender's glTF importer, and
FBX export / import through facerig.io.fbx. Each Blender start costs ~3-5 s, hence ``slow``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facerig.errors import FacerigError
from facerig.io.fbx import bpy_available, load_mesh_fbx, read_rig_fbx, save_rig_fbx
from facerig.io.gltf import save_rig_gltf
from facerig.io.obj import read_obj
from facerig.io.rig import Rig


def _gltf_test_helpers():
    """grid_obj / grid_rig from test_gltf.py, loaded by path (no sys.path / module-name games)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_facerig_test_gltf_helpers", Path(__file__).with_name("test_gltf.py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.grid_obj, mod.grid_rig


grid_obj, grid_rig = _gltf_test_helpers()

needs_bpy = pytest.mark.skipif(not bpy_available(), reason="Blender's bpy module not installed (pip install bpy)")

_IMPORT_GLTF = r"""
import sys, json, numpy as np, bpy
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=sys.argv[-1])
res = []
for ob in sorted([o for o in bpy.context.scene.objects if o.type == 'MESH'], key=lambda o: o.name):
    me = ob.data; n = len(me.vertices)
    co = np.empty(n * 3); me.vertices.foreach_get('co', co); co = co.reshape(-1, 3)
    keys = {}
    for kb in (me.shape_keys.key_blocks[1:] if me.shape_keys else []):
        d = np.empty(n * 3); kb.data.foreach_get('co', d)
        keys[kb.name] = (d.reshape(-1, 3) - co).tolist()
    res.append({"name": ob.name, "co": co.tolist(), "keys": keys})
print("RESULT" + json.dumps(res))
"""


def blender_import_gltf(path: Path) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_GLTF, str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    assert line is not None, proc.stderr[-2000:]
    return json.loads(line[6:])


def to_blender(p):
    p = np.asarray(p)
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], -1)  # +Y up -> Blender +Z up


@needs_bpy
@pytest.mark.slow
def test_blender_imports_glb_shape_keys(tmp_path):
    mesh = read_obj(grid_obj(tmp_path, materials=False))  # one primitive: Blender keeps our vertex order
    rig = grid_rig(mesh)
    out = tmp_path / "r.glb"
    save_rig_gltf(out, rig, mesh)
    (ob,) = blender_import_gltf(out)
    assert list(ob["keys"]) == rig.names  # one shape key per target, names from extras.targetNames
    co = np.array(ob["co"])
    np.testing.assert_allclose(co, to_blender(mesh.vertices), atol=1e-6)
    for k, name in enumerate(rig.names):
        np.testing.assert_allclose(np.array(ob["keys"][name]), to_blender(rig.deltas[k]), atol=1e-6)
    np.testing.assert_allclose(ob["keys"]["jawOpen"][5], to_blender([0.0, 0.0, 0.5]), atol=1e-6)


@needs_bpy
@pytest.mark.slow
def test_blender_imports_multi_material_glb(tmp_path):
    """Blender splits primitives into their own vertex runs (its importer's choice); names and
    deltas still survive, matched by position."""
    mesh = read_obj(grid_obj(tmp_path, seam=True))
    rig = grid_rig(mesh)
    out = tmp_path / "m.glb"
    save_rig_gltf(out, rig, mesh, names="ict")
    (ob,) = blender_import_gltf(out)
    assert list(ob["keys"]) == ["jawOpen", "eyeBlink_L", "tongueOut"]
    co = np.array(ob["co"])
    ref = to_blender(mesh.vertices)
    nearest = np.argmin(((co[:, None] - ref[None]) ** 2).sum(-1), 1)
    np.testing.assert_allclose(co, ref[nearest], atol=1e-6)
    np.testing.assert_allclose(np.array(ob["keys"]["eyeBlink_L"]), to_blender(rig.deltas[1])[nearest], atol=1e-6)


@needs_bpy
@pytest.mark.slow
def test_fbx_round_trip(tmp_path):
    mesh = read_obj(grid_obj(tmp_path, seam=True))
    rig = grid_rig(mesh)
    out = tmp_path / "r.fbx"
    s = save_rig_fbx(out, rig, mesh)
    assert s["shape_keys"] == 3 and s["bytes"] == out.stat().st_size > 0
    back, brig = read_rig_fbx(out)
    np.testing.assert_allclose(back.vertices, mesh.vertices, atol=1e-6)  # raw file coordinates, same order
    assert np.array_equal(np.asarray(back.polygons), np.asarray(mesh.polygons))  # quads kept
    corner_uv = back.uv[np.asarray(back.uv_faces).ravel()]
    np.testing.assert_allclose(corner_uv, mesh.uv[np.asarray(mesh.uv_faces).ravel()], atol=1e-6)  # seams kept
    assert back.info["materials"] == ["skin", "lips"]
    assert brig is not None and brig.names == rig.names
    np.testing.assert_allclose(brig.deltas, rig.deltas, atol=1e-6)
    assert load_mesh_fbx(out).num_vertices == mesh.num_vertices


def test_fbx_errors(tmp_path, head_arrays):
    v, f = head_arrays
    rig = Rig(names=["jawOpen"], deltas=np.zeros((1, len(v), 3)), neutral=v, faces=f)
    with pytest.raises(FacerigError, match=r"must end in \.fbx"):
        save_rig_fbx(tmp_path / "x.glb", rig)
    if not bpy_available():
        with pytest.raises(FacerigError, match="pip install bpy"):
            save_rig_fbx(tmp_path / "x.fbx", rig)
        return
    with pytest.raises(FacerigError, match="without faces"):
        save_rig_fbx(tmp_path / "x.fbx", Rig(names=[], deltas=np.zeros((0, len(v), 3)), neutral=v))
    with pytest.raises(FacerigError, match="no such file"):
        load_mesh_fbx(tmp_path / "none.fbx")
    assert not (tmp_path / "x.fbx").exists()


_IMPORT_FBX_SCALE = r"""
import sys, json, bpy
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.fbx(filepath=sys.argv[-1])
ob = next(o for o in bpy.context.scene.objects if o.type == 'MESH')
print("RESULT" + json.dumps(list(ob.matrix_world.to_scale())))
"""


def blender_object_scale(path: Path) -> np.ndarray:
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_FBX_SCALE, str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    assert line is not None, proc.stderr[-2000:]
    return np.array(json.loads(line[6:]))


@needs_bpy
@pytest.mark.slow
def test_fbx_declares_the_inputs_units(tmp_path):
    """A glTF input (metres) -> UnitScaleFactor 100, raw numbers kept, Blender shows it at scale 1;
    units='mm' -> 0.1 (Blender: 0.001); an OBJ declares nothing -> cm, said to be assumed."""
    from facerig.io.gltf import read_rig_gltf

    mesh = read_obj(grid_obj(tmp_path, materials=False))
    save_rig_gltf(tmp_path / "m.glb", grid_rig(mesh), mesh)
    rig_m, mesh_m = read_rig_gltf(tmp_path / "m.glb")
    out = tmp_path / "m.fbx"
    s = save_rig_fbx(out, rig_m, mesh_m)
    assert s["unit_scale_cm"] == 100.0 and s["units"].startswith("m (glTF")
    back, _ = read_rig_fbx(out)
    assert back.info["fbx_unit_scale_cm"] == pytest.approx(100.0)
    np.testing.assert_allclose(back.vertices, mesh_m.vertices, atol=1e-6)  # raw numbers, not rescaled
    np.testing.assert_allclose(blender_object_scale(out), 1.0, rtol=1e-6)
    s = save_rig_fbx(tmp_path / "mm.fbx", grid_rig(mesh), mesh, units="mm")
    assert s["unit_scale_cm"] == pytest.approx(0.1)
    np.testing.assert_allclose(blender_object_scale(tmp_path / "mm.fbx"), 0.001, rtol=1e-6)
    assert read_rig_fbx(tmp_path / "mm.fbx")[0].info["fbx_unit_scale_cm"] == pytest.approx(0.1)
    s = save_rig_fbx(
        tmp_path / "obj.fbx",
        Rig(names=["jawOpen"], deltas=grid_rig(mesh).deltas[:1], neutral=mesh.vertices, faces=mesh.faces),
        mesh,
    )
    assert s["unit_scale_cm"] == 1.0 and "assumed" in s["units"]
    with pytest.raises(FacerigError, match="units="):
        save_rig_fbx(tmp_path / "x.fbx", grid_rig(mesh), mesh, units="furlong")

"""FBX export (mesh + shape keys) and FBX reading, through Blender's ``bpy`` module (optional).

``pip install bpy`` (Blender as a Python module; bpy 4.x/5.x wheels are for Python 3.11) or
``pip install 'facerig[blender]'``. Nothing here imports bpy in the calling process: each call
runs a short script in a child ``python`` (the same interpreter), so Blender's console output,
its global state and any crash stay out of ours, and bpy's pinned numpy is only loaded there.

Coordinates: facerig meshes are +Y up (glTF / Maya / FBX convention). The script converts
them into Blender's +Z up space (``(x, y, z) -> (x, -z, y)``) and exports with Blender's default
FBX axes (``-Z`` forward, ``Y`` up) and ``bake_space_transform=True``, so the FBX control points
are the input's own coordinates, in the input's vertex order, with an identity node transform.
Units: the raw numbers are kept (control points = the input's coordinates) and the file
declares the input's unit in its ``GlobalSettings.UnitScaleFactor`` (centimetres per unit:
100 for metres, 1 for cm, 0.1 for mm, 2.54 for inches), so applications that honour FBX units
show the head at its real size. The unit is ``units=`` when given, else what the input says:
glTF / GLB inputs are metres (the glTF spec), an FBX input its own UnitScaleFactor, a rig
whose ``meta["units"]`` names a unit that unit; OBJ / PLY / STL declare none, so they are
written as centimetres (UnitScaleFactor 1, the FBX default) and the return value says the
unit was assumed. This is done with the scene's unit scale (``scale_length`` = metres per
unit), ``apply_unit_scale=True`` and ``apply_scale_options='FBX_SCALE_UNITS'``, which writes the
unit without scaling the geometry. What Blender does on import (its default
``apply_unit_scale=True``, a metre scene): it keeps the raw control points as mesh data and
scales the object by ``UnitScaleFactor / 100`` (a metres file: 1, a cm file: 0.01), so the
head appears at its real size in metres; :func:`read_rig_fbx` reads the raw points and
reports the file's unit in ``info["fbx_unit_scale_cm"]``.

Blender's FBX exporter writes only the vertices a shape moves; a shape with no motion at all
(e.g. a ``tongueOut`` the method could not make) is still written as a shape key with no
vertices if Blender keeps it (see :func:`save_rig_fbx`'s return value for what was written).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from facerig.errors import FacerigError, MeshError
from facerig.io.atomic import atomic_path
from facerig.io.mesh import Mesh
from facerig.io.rig import Rig

BPY_HINT = "FBX needs Blender's bpy module: pip install bpy (Python 3.11), or pip install 'facerig[blender]'"


def bpy_available() -> bool:
    """True when ``bpy`` is importable (checked without importing it)."""
    try:
        return importlib.util.find_spec("bpy") is not None
    except (ImportError, ValueError):
        return False


_SAVE_SCRIPT = r"""
import sys, json
import numpy as np
import bpy
src, out = sys.argv[-2], sys.argv[-1]
z = np.load(src, allow_pickle=False)
spec = json.loads(str(z["spec"]))
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.context.scene.unit_settings.system = "METRIC"
bpy.context.scene.unit_settings.scale_length = spec["metres_per_unit"]
def to_bl(p):
    p = p.reshape(-1, 3)
    return np.stack([p[:, 0], -p[:, 2], p[:, 1]], 1)
neutral = z["neutral"]
counts = z["counts"]; corners = z["corners"]
starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
polys = [corners[s:s + c].tolist() for s, c in zip(starts, counts)]
me = bpy.data.meshes.new(spec["name"])
me.from_pydata(to_bl(neutral).tolist(), [], polys)
if "uv" in z.files:
    layer = me.uv_layers.new(name="UVMap")
    layer.data.foreach_set("uv", z["uv"][z["uv_corners"]].astype(np.float32).ravel())
for m in spec["materials"]:
    me.materials.append(bpy.data.materials.new(m))
if "poly_material" in z.files:
    me.polygons.foreach_set("material_index", z["poly_material"].astype(np.int32))
me.update()
ob = bpy.data.objects.new(spec["name"], me)
bpy.context.scene.collection.objects.link(ob)
ob.shape_key_add(name="Basis", from_mix=False)
deltas = z["deltas"]
for k, name in enumerate(spec["names"]):
    sk = ob.shape_key_add(name=name, from_mix=False)
    sk.data.foreach_set("co", to_bl(neutral + deltas[k]).astype(np.float32).ravel())
    sk.slider_min = 0.0; sk.slider_max = 1.0
bpy.ops.export_scene.fbx(filepath=out, use_selection=False, object_types={"MESH"}, axis_forward="-Z", axis_up="Y",
                         global_scale=1.0, apply_unit_scale=True, apply_scale_options="FBX_SCALE_UNITS",
                         bake_space_transform=True, use_mesh_modifiers=False,
                         mesh_smooth_type="FACE", add_leaf_bones=False, bake_anim=False)
print("FACERIG_OK", json.dumps({"shape_keys": len(ob.data.shape_keys.key_blocks) - 1, "blender": bpy.app.version_string}))
"""

_READ_SCRIPT = r"""
import sys, json
import numpy as np
import bpy
src, out = sys.argv[-2], sys.argv[-1]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.fbx(filepath=src)
try:
    from io_scene_fbx import parse_fbx, import_fbx
    root, _ = parse_fbx.parse(src)
    gs = import_fbx.elem_find_first(root, b"GlobalSettings")
    unit_cm = float(import_fbx.elem_props_get_number(import_fbx.elem_find_first(gs, b"Properties70"),
                                                     b"UnitScaleFactor", 1.0))
except Exception:
    unit_cm = None
obs = sorted([o for o in bpy.context.scene.objects if o.type == "MESH"], key=lambda o: o.name)
V, C, N, UV, PM, SK = [], [], [], [], [], {}
mats, names, off = [], [], 0
for ob in obs:
    me = ob.data
    n = len(me.vertices)
    co = np.empty(n * 3, np.float64); me.vertices.foreach_get("co", co)
    V.append(co.reshape(-1, 3))
    cnt = np.empty(len(me.polygons), np.int64); me.polygons.foreach_get("loop_total", cnt)
    cor = np.empty(len(me.loops), np.int64); me.loops.foreach_get("vertex_index", cor)
    N.append(cnt); C.append(cor + off)
    if me.uv_layers.active is not None:
        uv = np.empty(len(me.loops) * 2, np.float64); me.uv_layers.active.data.foreach_get("uv", uv)
        UV.append(uv.reshape(-1, 2))
    else:
        UV.append(None)
    mi = np.empty(len(me.polygons), np.int64); me.polygons.foreach_get("material_index", mi)
    slot = [ms.material.name if ms.material else "" for ms in ob.material_slots]
    gl = []
    for s in slot:
        if s not in mats: mats.append(s)
        gl.append(mats.index(s))
    PM.append(np.asarray(gl, np.int64)[mi] if gl else np.full(len(mi), -1))
    if me.shape_keys is not None:
        basis = co.reshape(-1, 3)
        for kb in me.shape_keys.key_blocks[1:]:
            d = np.empty(n * 3, np.float64); kb.data.foreach_get("co", d)
            SK.setdefault(kb.name, []).append((off, d.reshape(-1, 3) - basis))
    names.append(ob.name); off += n
res = {"names": names, "materials": mats, "uv": all(u is not None for u in UV) and bool(UV),
       "shape_keys": list(SK), "unit_cm": unit_cm}
arrays = dict(vertices=np.concatenate(V) if V else np.zeros((0, 3)), counts=np.concatenate(N) if N else np.zeros(0, np.int64),
              corners=np.concatenate(C) if C else np.zeros(0, np.int64), poly_material=np.concatenate(PM) if PM else np.zeros(0, np.int64))
if res["uv"]:
    arrays["uv"] = np.concatenate(UV)
if SK:
    total = off
    dk = np.zeros((len(SK), total, 3), np.float32)
    for k, (name, parts) in enumerate(SK.items()):
        for o, d in parts:
            dk[k, o:o + len(d)] = d
    arrays["deltas"] = dk
np.savez(out, spec=np.array(json.dumps(res)), **arrays)
print("FACERIG_OK")
"""


def _run_blender(script: str, args: list[str], what: str, timeout: float = 900) -> str:
    """Run ``script`` in a child interpreter that imports bpy; returns its stdout."""
    with tempfile.TemporaryDirectory(prefix="facerig-bpy-") as tmp:
        sp = Path(tmp) / "script.py"
        sp.write_text(script)
        try:
            proc = subprocess.run(
                [sys.executable, str(sp), *args], capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise FacerigError(f"{what}: Blender did not finish within {timeout:.0f}s") from None
    if proc.returncode != 0 or "FACERIG_OK" not in proc.stdout:
        lines = [
            ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip() and "numpy.core.multiarray" not in ln
        ]
        err = next((ln for ln in reversed(lines) if "Error" in ln), lines[-1] if lines else "no output")
        raise FacerigError(f"{what}: Blender failed ({err.strip()[:160]})")
    return proc.stdout


def _polygons(rig: Rig, mesh: Mesh | None) -> tuple[np.ndarray, np.ndarray, list]:
    """-> counts (P,), corners (sum counts,), polygon list-or-array used."""
    polys = None
    if mesh is not None:
        polys = mesh.polygons if mesh.polygons is not None else mesh.faces
    if polys is None or len(polys) == 0:
        polys = rig.faces
    if polys is None or len(polys) == 0:
        raise FacerigError("cannot write an FBX without faces (no mesh given and the rig has none)")
    if isinstance(polys, np.ndarray):
        counts = np.full(len(polys), polys.shape[1], np.int64)
        corners = polys.reshape(-1).astype(np.int64)
    else:
        counts = np.array([len(p) for p in polys], np.int64)
        corners = np.concatenate([np.asarray(p, np.int64) for p in polys])
    return counts, corners, polys


#: metres per unit of the unit names facerig understands
UNIT_METRES = {
    "m": 1.0,
    "meter": 1.0,
    "meters": 1.0,
    "metre": 1.0,
    "metres": 1.0,
    "cm": 0.01,
    "centimeter": 0.01,
    "centimeters": 0.01,
    "centimetre": 0.01,
    "centimetres": 0.01,
    "mm": 0.001,
    "millimeter": 0.001,
    "millimeters": 0.001,
    "millimetre": 0.001,
    "millimetres": 0.001,
    "in": 0.0254,
    "inch": 0.0254,
    "inches": 0.0254,
    "ft": 0.3048,
    "foot": 0.3048,
    "feet": 0.3048,
}


def input_units(rig: Rig, mesh: Mesh | None, units: str | float | None = None) -> tuple[float, str]:
    """The unit to declare for the rig's numbers -> (metres per unit, where that came from).

    ``units`` (a name in :data:`UNIT_METRES` or metres per unit) wins; then a glTF / GLB
    input (metres by the glTF spec), an FBX input's UnitScaleFactor, ``rig.meta["units"]`` if
    it names a unit; otherwise centimetres, assumed (OBJ / PLY / STL carry no unit).
    """
    if units is not None:
        if isinstance(units, str):
            if units.strip().lower() not in UNIT_METRES:
                raise FacerigError(f"units={units!r}: expected one of m, cm, mm, in, ft or metres per unit")
            return UNIT_METRES[units.strip().lower()], f"{units} (given)"
        if not (float(units) > 0 and np.isfinite(float(units))):
            raise FacerigError(f"units={units!r}: metres per unit must be a positive number")
        return float(units), f"{float(units):g} m per unit (given)"
    info = mesh.info if mesh is not None else {}
    if info.get("format") in ("glb", "gltf", "vrm"):
        return 1.0, "m (glTF input: metres by the glTF spec)"
    if info.get("fbx_unit_scale_cm"):
        return float(info["fbx_unit_scale_cm"]) / 100.0, f"the FBX input's unit ({info['fbx_unit_scale_cm']:g} cm)"
    u = (rig.meta or {}).get("units")
    if isinstance(u, str) and u.strip().lower() in UNIT_METRES:
        return UNIT_METRES[u.strip().lower()], f"{u} (rig meta)"
    return 0.01, "cm (assumed: the input declares no unit)"


def save_rig_fbx(
    path: str | os.PathLike,
    rig: Rig,
    mesh: Mesh | None = None,
    *,
    names: str = "arkit",
    units: str | float | None = None,
) -> dict:
    """Write the rig as an FBX mesh with one shape key per shape (through Blender, see module doc).

    Args:
        path: output ``.fbx`` (written atomically).
        rig: names (K,), deltas (K, V, 3), neutral (V, 3), faces (F, 3) (used without ``mesh``).
        mesh: the input :class:`Mesh` (same V): its polygons (quads kept), per-corner UVs
            (``uv`` (T, 2) + ``uv_faces``) and materials (``info["materials"]``) are written.
        names: ``"arkit"`` or ``"ict"`` shape key names.
        units: the unit of the rig's numbers (``"m"``, ``"cm"``, ``"mm"``, ``"in"``, ``"ft"`` or
            metres per unit); None: the input's (see :func:`input_units` and the module doc).

    Returns:
        dict: ``path``, ``bytes``, ``shape_keys`` (as created in Blender), ``blender`` version,
        ``unit_scale_cm`` (the UnitScaleFactor written) and ``units`` (where it came from).

    Raises:
        FacerigError: bpy not installed, V mismatch, no faces, Blender failure.
    """
    from facerig.io.gltf import _target_names

    path = Path(path)
    if path.suffix.lower() != ".fbx":
        raise FacerigError(f"{path}: FBX output must end in .fbx")
    if not bpy_available():
        raise FacerigError(BPY_HINT)
    V = rig.num_vertices
    if mesh is not None and mesh.num_vertices != V:
        raise FacerigError(f"mesh has {mesh.num_vertices} vertices but the rig has {V}")
    counts, corners, _ = _polygons(rig, mesh)
    if corners.min() < 0 or corners.max() >= V:
        raise FacerigError(f"face index out of range (0..{V - 1})")
    metres, unit_note = input_units(rig, mesh, units)
    spec = {
        "name": (Path(mesh.source).stem if mesh is not None and mesh.source else "head"),
        "names": _target_names(rig.names, names),
        "materials": [],
        "metres_per_unit": metres,
    }
    arrays = {
        "neutral": rig.neutral.astype(np.float64),
        "deltas": rig.deltas.astype(np.float32),
        "counts": counts,
        "corners": corners,
    }
    if mesh is not None and mesh.uv is not None and mesh.uv_faces is not None:
        uvf = mesh.uv_faces
        uvc = uvf.reshape(-1) if isinstance(uvf, np.ndarray) else np.concatenate([np.asarray(u) for u in uvf])
        if len(uvc) == len(corners):
            arrays["uv"] = np.asarray(mesh.uv, np.float64)[:, :2]
            arrays["uv_corners"] = uvc.astype(np.int64)
    if mesh is not None and mesh.info.get("materials") and mesh.info.get("face_material") is not None:
        tp = mesh.info.get("triangle_polygon")
        fm = np.asarray(mesh.info["face_material"])
        if tp is not None and len(tp) == len(fm):
            pm = np.zeros(len(counts), np.int64)
            pm[np.asarray(tp)] = fm
            spec["materials"] = [m or f"material{i}" for i, m in enumerate(mesh.info["materials"])]
            arrays["poly_material"] = pm
    with tempfile.TemporaryDirectory(prefix="facerig-fbx-") as tmp:
        src = Path(tmp) / "rig.npz"
        np.savez(src, spec=np.array(json.dumps(spec)), **arrays)
        with atomic_path(path) as tmp_out:
            stdout = _run_blender(_SAVE_SCRIPT, [str(src), str(tmp_out)], str(path))
            if not tmp_out.exists() or tmp_out.stat().st_size == 0:
                raise FacerigError(f"{path}: Blender wrote no FBX")
    info = json.loads(stdout.split("FACERIG_OK", 1)[1].strip().splitlines()[0])
    return {
        "path": str(path),
        "bytes": path.stat().st_size,
        **info,
        "unit_scale_cm": metres * 100.0,
        "units": unit_note,
    }


def read_rig_fbx(path: str | os.PathLike) -> tuple[Mesh, Rig | None]:
    """Read an FBX through Blender: the mesh and its shape keys (if any).

    Vertices are each mesh object's *local* coordinates as stored in the file (FBX control
    points, no node transform / unit scale / axis conversion applied), objects sorted by
    name and concatenated; the file's unit (UnitScaleFactor, cm per unit) is in
    ``mesh.info["fbx_unit_scale_cm"]``. Returns ``(mesh, rig or None)``: mesh with ``vertices`` (V, 3),
    ``faces`` (F, 3) fan-triangulated, ``polygons``, per-corner ``uv`` / ``uv_faces``,
    ``info["materials"]`` / ``info["face_material"]``; rig with the shape keys' names and
    deltas (K, V, 3) (key minus basis), or None without shape keys.
    """
    path = Path(path)
    if not bpy_available():
        raise MeshError(BPY_HINT)
    if not path.is_file():
        raise MeshError(f"{path}: no such file")
    with tempfile.TemporaryDirectory(prefix="facerig-fbx-") as tmp:
        out = Path(tmp) / "mesh.npz"
        try:
            _run_blender(_READ_SCRIPT, [str(path.resolve()), str(out)], str(path))
        except FacerigError as e:
            raise MeshError(str(e)) from None
        z = np.load(out, allow_pickle=False)
        spec = json.loads(str(z["spec"]))
        verts = z["vertices"].astype(np.float64)
        counts, corners, pm = z["counts"], z["corners"], z["poly_material"]
        uv = z["uv"] if "uv" in z.files else None
        deltas = z["deltas"] if "deltas" in z.files else None
    if len(verts) == 0:
        raise MeshError(f"{path}: the FBX has no mesh")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    ntri = counts - 2
    tri_poly = np.repeat(np.arange(len(counts)), ntri)
    k = np.arange(len(tri_poly)) - np.repeat(np.concatenate([[0], np.cumsum(ntri)[:-1]]), ntri) + 1
    base = starts[tri_poly]
    faces = np.stack([corners[base], corners[base + k], corners[base + k + 1]], 1).astype(np.int64)
    same = bool(len(counts)) and bool((counts == counts[0]).all())
    polys = corners.reshape(len(counts), -1) if same else np.split(corners, np.cumsum(counts)[:-1])
    uv_faces = None
    if uv is not None:
        ci = np.arange(len(corners))
        uv_faces = ci.reshape(len(counts), -1) if same else np.split(ci, np.cumsum(counts)[:-1])
    info = {
        "format": "fbx",
        "reader": "bpy (subprocess), local coordinates",
        "objects": spec["names"],
        "triangle_polygon": tri_poly,
    }
    if spec.get("unit_cm"):
        info["fbx_unit_scale_cm"] = spec["unit_cm"]  # the file's UnitScaleFactor (cm per unit)
    if spec["materials"] and (pm >= 0).all():
        info["materials"] = spec["materials"]
        info["face_material"] = pm[tri_poly]
    mesh = Mesh(vertices=verts, faces=faces, polygons=polys, uv=uv, uv_faces=uv_faces, source=str(path), info=info)
    rig = None
    if deltas is not None:
        rig = Rig(names=spec["shape_keys"], deltas=deltas, neutral=verts, faces=faces, meta={"source": str(path)})
    return mesh, rig


def load_mesh_fbx(path: str | os.PathLike) -> Mesh:
    """Read an FBX mesh through Blender (see :func:`read_rig_fbx`; shape keys are dropped).

    Returns:
        Mesh: vertices (V, 3) in file order/units, faces (F, 3), polygons, uv/uv_faces.

    Raises:
        MeshError: bpy missing, unreadable file, no mesh.
    """
    return read_rig_fbx(path)[0]

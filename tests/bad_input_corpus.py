"""A corpus of bad inputs for every reader and every command, generated at test time.

Each :class:`Spec` builds one :class:`Case`: the files it needs (written under its own folder),
the ``facerig`` command line, the pattern its one-line error must match, the files that must
stay unchanged and the outputs that must not appear. Valid base files (an egg of 162 vertices
as OBJ / PLY / STL / GLB, a small rig NPZ and GLB, a take) come from :class:`Bases`, built once;
each case corrupts one of them in one way. ``tests/test_bad_inputs.py`` runs the cases, and its
fuzz test mutates the same base files.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: xfail reasons for code owned by other branches (see the report of the inputs branch)
GLTF = None
CLISAFE = None


@dataclass
class Case:
    """One bad-input run of the CLI.

    argv: arguments of ``facerig.cli.main``; match: regex the single stderr line must match;
    inputs: files that must be byte-identical afterwards; outputs: paths that must not exist;
    env: environment variables set for the run.
    """

    argv: list[str]
    match: str
    inputs: list[Path]
    outputs: list[Path]
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Spec:
    id: str
    build: Callable[[Bases, Path], Case]
    owner: str | None = None  # xfail reason when the failure is in code another branch owns


def egg() -> tuple[np.ndarray, np.ndarray]:
    """A closed egg (+Y up): vertices (162, 3), faces (320, 3); big enough to rig."""
    import trimesh

    m = trimesh.creation.icosphere(subdivisions=2)
    return np.asarray(m.vertices) * [1.0, 1.2, 0.9], np.asarray(m.faces, dtype=np.int64)


class Bases:
    """Valid small files, as bytes, built once (lazily)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    @functools.cached_property
    def head(self) -> tuple[np.ndarray, np.ndarray]:
        return egg()

    @functools.cached_property
    def obj(self) -> bytes:
        from facerig.io.obj import write_obj

        p = self.root / "base.obj"
        write_obj(p, *self.head)
        return p.read_bytes()

    def _trimesh(self, **kw) -> bytes:
        import trimesh

        return trimesh.Trimesh(*self.head, process=False).export(**kw)

    @functools.cached_property
    def ply_ascii(self) -> bytes:
        return self._trimesh(file_type="ply", encoding="ascii")

    @functools.cached_property
    def ply_binary(self) -> bytes:
        return self._trimesh(file_type="ply", encoding="binary")

    @functools.cached_property
    def stl_binary(self) -> bytes:
        return self._trimesh(file_type="stl")

    @functools.cached_property
    def stl_ascii(self) -> bytes:
        return self._trimesh(file_type="stl_ascii").encode()

    @functools.cached_property
    def rig(self):
        from facerig.io.rig import Rig

        v, f = self.head
        deltas = np.zeros((2, len(v), 3), np.float32)
        deltas[0, :, 1] = -0.1 * (v[:, 1] < 0)
        deltas[1, :, 0] = 0.05
        return Rig(names=["jawOpen", "eyeBlinkLeft"], deltas=deltas, neutral=v, faces=f, meta={"method": "test"})

    @functools.cached_property
    def npz(self) -> bytes:
        from facerig.io.rig import save_rig

        p = self.root / "base.npz"
        save_rig(p, self.rig)
        return p.read_bytes()

    @functools.cached_property
    def glb(self) -> bytes:
        from facerig.io.gltf import save_rig_gltf

        p = self.root / "base.glb"
        save_rig_gltf(p, self.rig)
        return p.read_bytes()

    @functools.cached_property
    def take_json(self) -> bytes:
        return json.dumps(
            {
                "fps": 30,
                "frames": [
                    {"jawOpen": 0.0, "eyeBlinkLeft": 0.2},
                    {"jawOpen": 0.5, "eyeBlinkLeft": 0.4},
                    {"jawOpen": 1.0, "eyeBlinkLeft": 0.6},
                ],
            }
        ).encode()

    @functools.cached_property
    def take_csv(self) -> bytes:
        return (
            b"Timecode,BlendShapeCount,JawOpen,EyeBlinkLeft,HeadYaw\n"
            b"00:00:00:01.000,52,0.1,0.2,0.0\n00:00:00:02.000,52,0.2,0.3,0.1\n00:00:00:03.000,52,0.3,0.4,0.2\n"
        )

    def write(self, folder: Path, name: str, data: bytes) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        p = folder / name
        p.write_bytes(data)
        return p


# ----------------------------------------------------------------------------- case builders


def _rig(
    name: str,
    data: Callable[[Bases], bytes] | bytes,
    match: str,
    *extra: str,
    out: str = "out.npz",
    env: dict | None = None,
) -> Callable[[Bases, Path], Case]:
    """``facerig rig HEAD -o OUT`` with HEAD = ``data`` written as ``name``."""

    def build(b: Bases, d: Path) -> Case:
        head = b.write(d, name, data(b) if callable(data) else data)
        o = d / "o" / out
        o.parent.mkdir(exist_ok=True)
        return Case(["rig", str(head), "-o", str(o), *extra], match, [head], [o], env or {})

    return build


def _animate(
    rig: tuple[str, Callable[[Bases], bytes] | bytes],
    take: tuple[str, Callable[[Bases], bytes] | bytes],
    match: str,
    out: str = "anim.glb",
    *extra: str,
) -> Callable[[Bases, Path], Case]:
    def build(b: Bases, d: Path) -> Case:
        r = b.write(d, rig[0], rig[1](b) if callable(rig[1]) else rig[1])
        t = b.write(d, take[0], take[1](b) if callable(take[1]) else take[1])
        o = d / "o" / out
        o.parent.mkdir(exist_ok=True)
        return Case(["animate", str(r), "-w", str(t), "-o", str(o), *extra], match, [r, t], [o])

    return build


def _view(
    rig: tuple[str, Callable[[Bases], bytes] | bytes],
    take: tuple[str, Callable[[Bases], bytes] | bytes] | None,
    match: str,
) -> Callable[[Bases, Path], Case]:
    def build(b: Bases, d: Path) -> Case:
        r = b.write(d, rig[0], rig[1](b) if callable(rig[1]) else rig[1])
        argv = ["view", str(r), "--no-browser", "--port", "0"]
        inputs = [r]
        if take is not None:
            t = b.write(d, take[0], take[1](b) if callable(take[1]) else take[1])
            argv += ["--animation", str(t)]
            inputs.append(t)
        return Case(argv, match, inputs, [])

    return build


def _eval(files: dict[str, bytes | str], match: str, *extra: str) -> Callable[[Bases, Path], Case]:
    def build(b: Bases, d: Path) -> Case:
        s = d / "set"
        s.mkdir(parents=True, exist_ok=True)
        inputs = []
        for rel, data in files.items():
            inputs.append(b.write(s, rel, data.encode() if isinstance(data, str) else data))
        o = d / "o" / "eval.json"
        o.parent.mkdir(exist_ok=True)
        return Case(["eval", "--set", str(s), "--method", "zero", "--json", str(o), "-q", *extra], match, inputs, [o])

    return build


def _sub(base: str, old: bytes, new: bytes, count: int = 1) -> Callable[[Bases], bytes]:
    def make(b: Bases) -> bytes:
        data = getattr(b, base)
        assert old in data, (base, old)
        return data.replace(old, new, count)

    return make


def _cut(base: str, frac: float) -> Callable[[Bases], bytes]:
    return lambda b: getattr(b, base)[: int(len(getattr(b, base)) * frac)]


def _append(base: str, tail: bytes) -> Callable[[Bases], bytes]:
    return lambda b: getattr(b, base) + tail


def _npz(**arrays) -> Callable[[Bases], bytes]:
    def make(b: Bases) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, **{k: (v(b) if callable(v) else v) for k, v in arrays.items()})
        return buf.getvalue()

    return make


def _npz_pickled(b: Bases) -> bytes:
    buf = io.BytesIO()
    np.savez(
        buf, names=np.array(["jawOpen"], dtype=object), deltas=np.zeros((1, 3, 3), np.float32), neutral=np.zeros((3, 3))
    )
    return buf.getvalue()


def _zip_not_npy(b: Bases) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("names.npy", b"this is not an npy array")
    return buf.getvalue()


def _gltf_json(doc: dict) -> bytes:
    return json.dumps(doc).encode()


_TRI = b"v 0 0 0\nv 1 0 0\nv 0 1 0\n"
_OK_TAKE = ("take.json", lambda b: b.take_json)
_OK_NPZ = ("rig.npz", lambda b: b.npz)


def _cube_obj() -> bytes:
    v = [(x, y, z) for x in (0, 1) for y in (0, 1) for z in (0, 1)]
    quads = [(1, 3, 4, 2), (5, 6, 8, 7), (1, 2, 6, 5), (3, 7, 8, 4), (1, 5, 7, 3), (2, 4, 8, 6)]
    return (
        "".join(f"v {x} {y} {z}\n" for x, y, z in v) + "".join(f"f {a} {b} {c} {d}\n" for a, b, c, d in quads)
    ).encode()


def _output_is_input(b: Bases, d: Path) -> Case:
    head = b.write(d, "h.obj", b.obj)
    return Case(["rig", str(head), "-o", str(head)], r"is the input", [head], [])


def _missing(b: Bases, d: Path, command: str, missing: str, match: str) -> Case:
    """``animate`` / ``view`` with one file missing: the rig when ``missing`` is an .npz, else the take."""
    rig = d / missing if missing.endswith(".npz") else b.write(d, "rig.npz", b.npz)
    take = d / missing if not missing.endswith(".npz") else b.write(d, "take.json", b.take_json)
    present = [p for p in (rig, take) if p.exists()]
    if command == "animate":
        return Case(["animate", str(rig), "-w", str(take), "-o", str(d / "a.glb")], match, present, [d / "a.glb"])
    return Case(["view", str(rig), "--no-browser", "--port", "0", "--animation", str(take)], match, present, [])


# ----------------------------------------------------------------------------- the corpus

SPECS: list[Spec] = [
    # --- OBJ (rig)
    Spec("obj-empty", _rig("h.obj", b"", r"h\.obj: empty file")),
    Spec("obj-binary", _rig("h.obj", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" * 4, r"not a text OBJ")),
    Spec("obj-not-obj", _rig("h.obj", b"hello\nthis is a letter\n", r"not an OBJ mesh")),
    Spec("obj-3//", _rig("h.obj", _append("obj", b"f 1// 2// 3//\n"), r"line \d+: bad face corner '1//'")),
    Spec("obj-index-0", _rig("h.obj", _append("obj", b"f 0 1 2\n"), r"line \d+: vertex index 0 is out of range")),
    Spec(
        "obj-index-range", _rig("h.obj", _append("obj", b"f 1 2 999\n"), r"line \d+: vertex index 999 is out of range")
    ),
    Spec(
        "obj-index-huge",
        _rig(
            "h.obj",
            _append("obj", b"f 1 2 123456789012345678901234567890\n"),
            r"line \d+: face index 1234567890.* is out of range",
        ),
    ),
    Spec("obj-index-negative", _rig("h.obj", _append("obj", b"f -1 -2 -999\n"), r"line \d+: vertex index -999")),
    Spec("obj-index-float", _rig("h.obj", _append("obj", b"f 1 2 3.5\n"), r"line \d+: bad face corner '3\.5'")),
    Spec("obj-non-utf8", _rig("h.obj", _sub("obj", b"\nv ", b"\nv \xff\xfe", 1), r"line 2: bad number")),
    Spec(
        "obj-v-two-coords",
        _rig("h.obj", b"v 0 0\n" + _TRI + b"f 2 3 4\n", r"line 1: vertex needs 3 coordinates, got 2"),
    ),
    Spec("obj-v-text", _rig("h.obj", b"v 0 zero 0\n" + _TRI + b"f 2 3 4\n", r"line 1: bad number 'zero'")),
    Spec("obj-v-bare", _rig("h.obj", _append("obj", b"v\n"), r"line \d+: vertex needs 3 coordinates, got 0")),
    Spec("obj-f-bare", _rig("h.obj", _append("obj", b"f\n"), r"line \d+: face has 0 corner")),
    Spec("obj-f-two", _rig("h.obj", _append("obj", b"f 1 2\n"), r"line \d+: face has 2 corner")),
    Spec("obj-vt-text", _rig("h.obj", _append("obj", b"vt 0 x\n"), r"line \d+: bad number 'x' in a 'vt' line")),
    Spec("obj-vn-short", _rig("h.obj", _append("obj", b"vn 0 1\n"), r"line \d+: a 'vn' line needs 3 values")),
    Spec(
        "obj-nbsp-then-bad",
        _rig("h.obj", _append("obj", "\u00a0\n\x1f\nf 1 2 x\n".encode()), r"line \d+: bad face corner 'x'"),
    ),
    Spec("obj-nan", _rig("h.obj", _sub("obj", b"\nv ", b"\nv nan ", 1), r"NaN or infinite coordinates")),
    Spec("obj-inf", _rig("h.obj", _sub("obj", b"\nv ", b"\nv 1e999 ", 1), r"NaN or infinite coordinates")),
    Spec("obj-point-cloud", _rig("h.obj", b"".join(f"v {i} {i * i} 0\n".encode() for i in range(200)), r"no faces")),
    Spec("obj-no-vertices", _rig("h.obj", b"# nothing\ng head\n", r"no vertices")),
    Spec(
        "obj-single-triangle",
        _rig("h.obj", _TRI + b"f 1 2 3\n", r"does not look like a head \(3 vertices", "--method", "raf"),
    ),
    Spec("obj-cube", _rig("h.obj", _cube_obj(), r"does not look like a head \(8 vertices", "--method", "raf")),
    Spec("obj-degenerate", _rig("h.obj", _append("obj", b"f 1 1 2\n"), r"degenerate face", "--strict")),
    Spec("obj-duplicate", _rig("h.obj", _append("obj", b"f 3 2 1\nf 1 2 3\n"), r"duplicate face", "--strict")),
    Spec("obj-unreferenced", _rig("h.obj", _append("obj", b"v 9 9 9\n"), r"not used by any face", "--strict")),
    Spec(
        "obj-max-vertices",
        _rig("h.obj", lambda b: b.obj, r"162 vertices is over the limit of 50", "--max-vertices", "50"),
    ),
    Spec(
        "obj-file-size",
        _rig("h.obj", lambda b: b.obj, r"over the limit of 1000 bytes", env={"FACERIG_MAX_FILE_BYTES": "1000"}),
    ),
    Spec(
        "rig-missing-head",
        lambda b, d: Case(
            ["rig", str(d / "none.obj"), "-o", str(d / "o.npz")], r"none\.obj: no such file", [], [d / "o.npz"]
        ),
    ),
    Spec(
        "rig-head-folder",
        lambda b, d: (
            (d / "x.obj").mkdir(parents=True)
            or Case(["rig", str(d / "x.obj"), "-o", str(d / "o.npz")], r"is a folder", [], [d / "o.npz"])
        ),
    ),
    Spec("rig-unsupported-suffix", _rig("h.txt", lambda b: b.obj, r"unsupported mesh format \('\.txt'\)")),
    Spec("rig-output-suffix", _rig("h.obj", lambda b: b.obj, r"unknown format '\.xyz'", out="out.xyz")),
    Spec("rig-output-is-input", lambda b, d: _output_is_input(b, d)),
    # --- PLY
    Spec("ply-empty", _rig("h.ply", b"", r"empty file")),
    Spec("ply-truncated-ascii", _rig("h.ply", _cut("ply_ascii", 0.7), r"truncated ASCII PLY")),
    Spec("ply-truncated-ascii-last", _rig("h.ply", lambda b: b.ply_ascii[:-3], r"truncated ASCII PLY")),
    Spec("ply-truncated-binary", _rig("h.ply", _cut("ply_binary", 0.7), r"truncated binary PLY")),
    Spec("ply-binary-trailing", _rig("h.ply", _append("ply_binary", b"junk"), r"not the length its header declares")),
    Spec("ply-no-end-header", _rig("h.ply", _cut("ply_binary", 0.02), r"no 'end_header'")),
    Spec("ply-bad-format", _rig("h.ply", _sub("ply_ascii", b"format ascii", b"format utf8"), r"unknown format")),
    Spec(
        "ply-bad-count", _rig("h.ply", _sub("ply_ascii", b"element vertex ", b"element vertex -"), r"bad element line")
    ),
    Spec("ply-not-ply", _rig("h.ply", b"this is not a mesh at all\n", r"not a PLY file")),
    Spec(
        "ply-vertices-only",
        _rig(
            "h.ply",
            b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\n"
            b"property float y\nproperty float z\nend_header\n0 0 0\n1 0 0\n0 1 0\n",
            r"no faces",
        ),
    ),
    Spec(
        "ply-max-vertices",
        _rig("h.ply", lambda b: b.ply_binary, r"162 vertices is over the limit of 50", "--max-vertices", "50"),
    ),
    Spec("ply-nan", _rig("h.ply", lambda b: _ply_nan(b.ply_ascii), r"NaN or infinite")),
    # --- STL
    Spec("stl-empty", _rig("h.stl", b"", r"empty file")),
    Spec("stl-truncated-binary", _rig("h.stl", _cut("stl_binary", 0.7), r"truncated or corrupt binary STL")),
    Spec("stl-truncated-ascii", _rig("h.stl", _cut("stl_ascii", 0.7), r"ASCII STL ends without 'endsolid'")),
    Spec("stl-garbage-binary", _rig("h.stl", bytes(range(256)) * 4, r"truncated or corrupt binary STL")),
    Spec("stl-garbage-text", _rig("h.stl", b"hello, not a mesh\n" * 5, r"not an STL file")),
    Spec("stl-ascii-bad-number", _rig("h.stl", _sub("stl_ascii", b"vertex ", b"vertex x"), r"bad number")),
    Spec(
        "stl-single-triangle",
        _rig(
            "h.stl",
            b"solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\n"
            b"vertex 0 1 0\nendloop\nendfacet\nendsolid t\n",
            r"does not look like a head \(3 vertices",
            "--method",
            "raf",
        ),
    ),
    # --- glTF / GLB (reader owned by the gltf branch)
    Spec("glb-empty", _rig("h.glb", b"", r"empty file")),
    Spec("glb-garbage", _rig("h.glb", b"glTF" + bytes(range(200)), r"GLB version .* is not supported"), GLTF),
    Spec("glb-truncated", _rig("h.glb", _cut("glb", 0.5), r"h\.glb: .*(truncated|cannot read|buffer)"), GLTF),
    Spec("gltf-not-json", _rig("h.gltf", b"{ not json", r"not a glTF file \(bad JSON")),
    Spec("gltf-empty-doc", _rig("h.gltf", b"{}", r"h\.gltf: .*(no triangle meshes|not a glTF)")),
    Spec(
        "gltf-missing-buffer",
        _rig(
            "h.gltf",
            _gltf_json(
                {
                    "asset": {"version": "2.0"},
                    "buffers": [{"uri": "gone.bin", "byteLength": 36}],
                    "bufferViews": [{"buffer": 0, "byteLength": 36}],
                    "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"}],
                    "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
                    "nodes": [{"mesh": 0}],
                    "scenes": [{"nodes": [0]}],
                }
            ),
            r"file 'gone\.bin' not found next to the file",
        ),
    ),
    Spec(
        "gltf-accessor-range",
        _rig(
            "h.gltf",
            _gltf_json(
                {
                    "asset": {"version": "2.0"},
                    "buffers": [{"uri": "data:application/octet-stream;base64,AAAA", "byteLength": 3}],
                    "bufferViews": [{"buffer": 0, "byteLength": 3}],
                    "accessors": [{"bufferView": 0, "componentType": 5126, "count": 300, "type": "VEC3"}],
                    "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
                    "nodes": [{"mesh": 0}],
                    "scenes": [{"nodes": [0]}],
                }
            ),
            r"h\.gltf: .*(accessor|buffer)",
        ),
        GLTF,
    ),
    Spec(
        "gltf-node-index",
        _rig(
            "h.gltf",
            _gltf_json({"asset": {"version": "2.0"}, "nodes": [], "scenes": [{"nodes": [5]}]}),
            r"h\.gltf: .*node",
        ),
        GLTF,
    ),
    # --- NPZ rigs (animate / view; loader owned by the clisafe branch)
    Spec("animate-rig-missing", lambda b, d: _missing(b, d, "animate", "none.npz", r"none\.npz: no such rig file")),
    Spec(
        "animate-npz-garbage", _animate(("rig.npz", b"not a zip at all"), _OK_TAKE, r"rig\.npz: not a facerig rig NPZ")
    ),
    Spec("animate-npz-truncated", _animate(("rig.npz", _cut("npz", 0.5)), _OK_TAKE, r"rig\.npz: .*(NPZ|truncated)")),
    Spec(
        "animate-npz-no-deltas",
        _animate(
            ("rig.npz", _npz(names=np.array(["jawOpen"]), neutral=np.zeros((3, 3)))), _OK_TAKE, r"rig NPZ lacks deltas"
        ),
    ),
    Spec(
        "animate-npz-shape",
        _animate(
            ("rig.npz", _npz(names=np.array(["jawOpen"]), deltas=np.zeros((2, 3, 3)), neutral=np.zeros((3, 3)))),
            _OK_TAKE,
            r"rig\.npz: .*deltas",
        ),
        CLISAFE,
    ),
    Spec("animate-npz-pickle", _animate(("rig.npz", _npz_pickled), _OK_TAKE, r"rig\.npz: .*(pickle|object)"), CLISAFE),
    Spec("animate-npz-not-npy", _animate(("rig.npz", _zip_not_npy), _OK_TAKE, r"rig\.npz: .*(NPZ|npy|array)")),
    Spec("animate-rig-suffix", _animate(("rig.txt", lambda b: b.npz), _OK_TAKE, r"unknown rig format '\.txt'")),
    Spec("animate-glb-garbage", _animate(("rig.glb", b"glTF" + bytes(40)), _OK_TAKE, r"rig\.glb: ")),
    Spec("animate-output-suffix", _animate(_OK_NPZ, _OK_TAKE, r"use a \.glb/\.gltf file or a folder", out="a.fbx")),
    # --- takes (animate)
    Spec("take-missing", lambda b, d: _missing(b, d, "animate", "none.csv", r"none\.csv: no such take file")),
    Spec("take-empty", _animate(_OK_NPZ, ("t.csv", b""), r"empty take")),
    Spec("take-binary", _animate(_OK_NPZ, ("t.csv", b"\xff\xfe\x00\x01" * 20), r"not a text file")),
    Spec(
        "take-nan",
        _animate(_OK_NPZ, ("t.csv", b"jawOpen,eyeBlinkLeft\n0.1,0.2\n0.3,nan\n"), r"line 3, column 'eyeBlinkLeft'"),
    ),
    Spec(
        "take-headyaw-text",
        _animate(
            _OK_NPZ,
            ("t.csv", _sub("take_csv", b"0.1\n", b"left\n")),
            r"line \d, column 'HeadYaw': 'left' is not a number",
        ),
    ),
    Spec(
        "take-timecode",
        _animate(_OK_NPZ, ("t.csv", _sub("take_csv", b"00:00:00:02.000", b"soon")), r"line 3: bad timecode 'soon'"),
    ),
    Spec("take-no-columns", _animate(_OK_NPZ, ("t.csv", b"foo,bar\n1,2\n"), r"no ARKit blendshape columns")),
    Spec(
        "take-time-backwards",
        _animate(_OK_NPZ, ("t.csv", b"time,jawOpen\n0.5,0.1\n0.1,0.2\n"), r"line 3: time does not increase"),
    ),
    Spec("take-json-invalid", _animate(_OK_NPZ, ("t.json", b'[{"jawOpen": 0.1'), r"invalid JSON at line 1")),
    Spec("take-json-deep", _animate(_OK_NPZ, ("t.json", b"[" * 100_000 + b"]" * 100_000), r"nested too deeply")),
    Spec(
        "take-json-null",
        _animate(
            _OK_NPZ,
            ("t.json", b'[{"jawOpen": 0.1}, {"jawOpen": null}]'),
            r"frame 1, 'jawOpen': None is not a finite number",
        ),
    ),
    Spec(
        "take-mediapipe-no-face",
        _animate(
            _OK_NPZ,
            (
                "t.json",
                json.dumps(
                    [
                        {
                            "timestampMs": 0,
                            "faceBlendshapes": [
                                {"categories": [{"index": 25, "score": 0.5, "categoryName": "jawOpen"}]}
                            ],
                        },
                        {"timestampMs": 33, "faceBlendshapes": []},
                    ]
                ).encode(),
            ),
            r"frame 1: no face in this frame",
        ),
    ),
    Spec("take-json-scalar", _animate(_OK_NPZ, ("t.json", b"42"), r"'frames' must be a list")),
    Spec("take-fps", _animate(_OK_NPZ, _OK_TAKE, r"--fps must be", "a.glb", "--fps", "0")),
    # --- view (fails before serving)
    Spec(
        "view-rig-missing",
        lambda b, d: Case(
            ["view", str(d / "none.npz"), "--no-browser", "--port", "0"], r"none\.npz: no such rig file", [], []
        ),
    ),
    Spec("view-npz-garbage", _view(("rig.npz", b"PK\x03\x04 not really"), None, r"rig\.npz: not a facerig rig NPZ")),
    Spec(
        "view-npz-no-neutral",
        _view(
            ("rig.npz", _npz(names=np.array(["jawOpen"]), deltas=np.zeros((1, 3, 3)))), None, r"rig NPZ lacks neutral"
        ),
    ),
    Spec("view-glb-garbage", _view(("rig.glb", b"glTF" + bytes(40)), None, r"rig\.glb: ")),
    Spec("view-take-nan", _view(_OK_NPZ, ("t.csv", b"jawOpen\n0.1\nnan\n"), r"line 3, column 'jawOpen'")),
    Spec("view-take-deep", _view(_OK_NPZ, ("t.json", b"[" * 100_000 + b"]" * 100_000), r"t\.json: "), CLISAFE),
    Spec(
        "view-take-missing", lambda b, d: _missing(b, d, "view", "none.json", r"none\.json: animation file not found")
    ),
    # --- eval (set-level problems; a bad head is a skipped head, by design)
    Spec(
        "eval-no-set",
        lambda b, d: Case(
            ["eval", "--set", str(d / "none"), "--method", "zero", "-q"], r"index\.json not found", [], []
        ),
    ),
    Spec("eval-index-not-json", _eval({"index.json": "{ nope"}, r"malformed eval index")),
    Spec("eval-heads-not-list", _eval({"index.json": '{"heads": 3}'}, r"'heads' must be a list")),
    Spec("eval-no-heads", _eval({"index.json": '{"heads": []}'}, r"no heads selected")),
    Spec("eval-limit", _eval({"index.json": '{"heads": []}'}, r"--limit must be >= 1", "--limit", "0")),
    Spec("eval-option", _eval({"index.json": '{"heads": []}'}, r"-O expects KEY=VALUE", "-O", "oops")),
]


def _ply_nan(data: bytes) -> bytes:
    head, body = data.split(b"end_header\n", 1)
    first, rest = body.split(b"\n", 1)
    return head + b"end_header\n" + b"nan " + first.split(b" ", 1)[1] + b"\n" + rest


def case_ids() -> list[str]:
    return [s.id for s in SPECS]

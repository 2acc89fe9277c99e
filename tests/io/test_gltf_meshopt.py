"""meshopt-compressed glTF (EXT_/KHR_meshopt_compression): decoded to the uncompressed file's data."""

from __future__ import annotations

import copy
import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from facerig.cli import main
from facerig.errors import MeshError
from facerig.io import read_mesh
from fixtures.gltf_build import mesh_glb, pack_glb

pytest.importorskip("meshopt")


def _head(tiny_head) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import trimesh

    v, f = tiny_head(12, 16)
    v = v * np.array([0.09, 0.11, 0.1]) + np.array([0.0, 1.6, 0.02])  # metres, where an avatar's head is
    return v, f, trimesh.Trimesh(v, f, process=False).vertex_normals


def _same_triangles(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal triangle lists up to a rotation of each triangle's corners (winding kept)."""

    def canon(t):
        k = np.argmin(t, axis=1)
        return np.stack([np.roll(row, -i) for row, i in zip(t, k)])

    return np.array_equal(canon(a), canon(b))


@pytest.mark.parametrize("ext", ["EXT", "KHR"])
@pytest.mark.parametrize("quantize", [None, "int16"])
def test_compressed_reads_as_the_uncompressed_file(tiny_head, tmp_path: Path, ext: str, quantize) -> None:
    v, f, n = _head(tiny_head)
    plain = read_mesh(mesh_glb(tmp_path / "plain.glb", v, f, normals=n, quantize=quantize))
    p = mesh_glb(tmp_path / "packed.glb", v, f, normals=n, quantize=quantize, meshopt=ext)
    assert json.dumps(f"{ext}_meshopt_compression") in p.read_bytes()[:4000].decode("latin-1")
    m = read_mesh(p)
    np.testing.assert_array_equal(m.vertices, plain.vertices)  # bit for bit, same order
    np.testing.assert_array_equal(m.normals, plain.normals)
    assert _same_triangles(m.faces, plain.faces)  # the TRIANGLES codec may rotate a triangle's corners
    assert m.info["meshopt_views"] == 3 and any("meshopt" in x for x in m.info["notes"])


def test_filters_octahedral_and_exponential(tiny_head, tmp_path: Path) -> None:
    v, f, n = _head(tiny_head)
    p = mesh_glb(
        tmp_path / "f.glb", v, f, normals=n, meshopt="EXT", normal_filter="OCTAHEDRAL", position_filter="EXPONENTIAL"
    )
    m = read_mesh(p)
    assert np.abs(m.vertices - v).max() < 1e-4  # 16-bit mantissas of metres
    assert np.abs(m.normals - n).max() < 0.03  # 8-bit octahedral normals
    assert np.abs(m.vertices - v).max() > 0  # the filter really was lossy: not the plain floats


def test_without_the_decoder_says_how_to_install(tiny_head, tmp_path: Path, monkeypatch, capsys) -> None:
    v, f, n = _head(tiny_head)
    p = mesh_glb(tmp_path / "m.glb", v, f, meshopt="EXT")
    monkeypatch.setitem(sys.modules, "meshopt", None)  # import meshopt -> ImportError
    with pytest.raises(MeshError, match="pip install meshopt"):
        read_mesh(p)
    assert main(["rig", str(p), "-o", str(tmp_path / "r.npz"), "--method", "zero"]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install meshopt" in err and len(err.splitlines()) == 1


def _parts(p: Path) -> tuple[dict, bytes]:
    raw = p.read_bytes()
    n = struct.unpack_from("<I", raw, 12)[0]
    doc = json.loads(raw[20 : 20 + n])
    return doc, raw[20 + n + 8 :]


def _ext(doc: dict, view: int = 0) -> dict:
    return doc["bufferViews"][view]["extensions"]["EXT_meshopt_compression"]


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d, b: (d, bytes([b[0] ^ 0xFF]) + b[1:]), "cannot decode"),  # not a meshopt stream header
        (lambda d, b: (d, b[:10] + bytes([b[10] ^ 0xFF]) + b[11:]), None),  # flipped bits: either error or data
        (lambda d, b: (_ext(d).update(byteLength=7) or d, b), "cannot decode"),  # cut short
        (lambda d, b: (_ext(d).update(count=_ext(d)["count"] + 1) or d, b), "do not fill"),
        (lambda d, b: (_ext(d).update(filter="QUATERNION") or d, b), "needs a byteStride of 8"),
        (lambda d, b: (_ext(d).update(mode="VERTICES") or d, b), "'mode' must be one of"),
        (lambda d, b: (_ext(d).update(filter="COLOR") or d, b), "'filter' must be one of"),  # KHR only
        (lambda d, b: (_ext(d, 2).update(filter="OCTAHEDRAL") or d, b), "only allowed with ATTRIBUTES"),
        (lambda d, b: (_ext(d).pop("count") and d, b), "'count' is missing"),
        (lambda d, b: (_ext(d).update(byteOffset=10**6) or d, b), "run past buffer 0"),
        (lambda d, b: (_ext(d).update(buffer=5) or d, b), "buffer index 5 is out of range"),
        (lambda d, b: (d["bufferViews"][0]["extensions"].update(EXT_meshopt_compression=[1]) or d, b), "an object"),
        (lambda d, b: (d["bufferViews"][0].update(byteStride=16) or d, b), "differs from the bufferView's"),
    ],
)
def test_bad_extension_data_is_one_line(tiny_head, tmp_path: Path, mutate, match, capsys) -> None:
    v, f, n = _head(tiny_head)
    doc, blob = _parts(mesh_glb(tmp_path / "m.glb", v, f, normals=n, meshopt="EXT"))
    doc, blob = mutate(copy.deepcopy(doc), blob)
    p = tmp_path / "bad.glb"
    p.write_bytes(pack_glb(doc, blob))
    try:
        m = read_mesh(p)
    except MeshError as e:
        assert "\n" not in str(e) and (match is None or match in str(e)), str(e)
        assert main(["rig", str(p), "-o", str(tmp_path / "r.npz"), "--method", "zero"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
    else:
        assert match is None, f"expected an error naming {match!r}"
        assert m.num_vertices == len(v)  # a flipped data byte may decode to other numbers, never crash


def test_hostile_counts_are_refused_before_decoding(tiny_head, tmp_path: Path) -> None:
    """A tiny file declaring billions of decoded bytes: refused by the size cap, nothing allocated."""
    v, f, n = _head(tiny_head)
    doc, blob = _parts(mesh_glb(tmp_path / "m.glb", v, f, meshopt="EXT"))
    big = 2**31
    _ext(doc).update(count=big, byteStride=16)
    doc["bufferViews"][0].update(byteLength=16 * big, byteStride=16)
    doc["accessors"][0]["count"] = big
    p = tmp_path / "huge.glb"
    p.write_bytes(pack_glb(doc, blob))
    with pytest.raises(MeshError, match="limit"):
        read_mesh(p)


def test_fuzzed_compressed_files_only_raise_facerig_errors(tiny_head, tmp_path: Path) -> None:
    """Bytes flipped in the compressed streams, streams cut, extension fields replaced: every
    outcome is a mesh or a one-line MeshError (the C decoder never crashes on hostile bytes)."""
    v, f, n = _head(tiny_head)
    doc0, blob0 = _parts(mesh_glb(tmp_path / "m.glb", v, f, normals=n, meshopt="EXT", normal_filter="OCTAHEDRAL"))
    rng = np.random.default_rng(7)
    junk = [None, -1, 0, 3, 2**40, "ATTRIBUTES", "TRIANGLES", "INDICES", "EXPONENTIAL", 1.5, [], {}]
    keys = ["buffer", "byteOffset", "byteLength", "byteStride", "count", "mode", "filter"]
    outcomes = {"ok": 0, "error": 0}
    for case in range(240):
        doc, blob = copy.deepcopy(doc0), bytearray(blob0)
        if case % 3 == 0:
            for _ in range(int(rng.integers(1, 6))):
                blob[int(rng.integers(len(blob)))] = int(rng.integers(256))
        elif case % 3 == 1:
            e = _ext(doc, int(rng.integers(3)))
            e["byteLength"] = int(rng.integers(0, e["byteLength"] + 1))
        else:
            e = _ext(doc, int(rng.integers(3)))
            e[keys[int(rng.integers(len(keys)))]] = junk[int(rng.integers(len(junk)))]
        p = tmp_path / f"f{case}.glb"
        p.write_bytes(pack_glb(doc, bytes(blob)))
        try:
            read_mesh(p)
            outcomes["ok"] += 1
        except MeshError as err:
            assert "\n" not in str(err)
            outcomes["error"] += 1
        p.unlink()
    assert outcomes["ok"] > 0 and outcomes["error"] > 0


def test_optional_extension_falls_back_to_the_uncompressed_copy(tiny_head, tmp_path: Path, monkeypatch) -> None:
    """meshopt listed as used but not required, the uncompressed data kept in the parent views (the
    spec's fallback layout): decoded with the package, read from the copy without it; same mesh."""
    v, f, n = _head(tiny_head)
    pdoc, pblob = _parts(mesh_glb(tmp_path / "p.glb", v, f, normals=n))
    cdoc, cblob = _parts(mesh_glb(tmp_path / "c.glb", v, f, normals=n, meshopt="EXT"))
    shift = len(pblob) + (-len(pblob)) % 4
    doc = copy.deepcopy(cdoc)
    for view, plain in zip(doc["bufferViews"], pdoc["bufferViews"]):
        view.update(buffer=0, byteOffset=plain["byteOffset"])
        view["extensions"]["EXT_meshopt_compression"]["byteOffset"] += shift
    doc["buffers"] = [{"byteLength": shift + len(cblob)}]
    doc.pop("extensionsRequired")
    p = tmp_path / "both.glb"
    p.write_bytes(pack_glb(doc, pblob + b"\0" * (shift - len(pblob)) + cblob))
    decoded = read_mesh(p)
    assert decoded.info["meshopt_views"] == 3
    monkeypatch.setitem(sys.modules, "meshopt", None)
    plain = read_mesh(p)
    assert "meshopt_views" not in plain.info
    np.testing.assert_array_equal(plain.vertices, decoded.vertices)
    np.testing.assert_array_equal(plain.normals, decoded.normals)
    assert _same_triangles(plain.faces, decoded.faces)

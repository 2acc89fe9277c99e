"""OBJ reader / writer: vertex order is the file's, faces are fan-triangulated, nothing is lost."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from facerig.errors import MeshError
from facerig.io.obj import read_obj, write_obj

COMPLEX_OBJ = """\
# a messy but valid OBJ
mtllib skin.mtl
o Head
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
vt 0 0
vt 1 0
vt 1 1
vt 0 1
vn 0 0 1
usemtl Skin
f 1/1/1 2/2/1 3/3/1 4/4/1
g Jaw
v 2 0 0
v 2 1 0
v 3 0.5 0
f -6/-4/1 -3/-3/1 -2/-2/1 -1/-1/1 3/3/1
o Eye
usemtl Eye
v 0 0 1
v 1 0 1
v 0 1 1
f 8//1 9//1 10//1
f 10 9 8
"""


def _hand_parse_v(text: str) -> list[list[float]]:
    return [[float(x) for x in ln.split()[1:4]] for ln in text.splitlines() if ln.startswith("v ")]


def test_complex_obj_keeps_v_order_and_triangulates(tmp_path: Path) -> None:
    p = tmp_path / "complex.obj"
    p.write_text(COMPLEX_OBJ)
    m = read_obj(p)
    np.testing.assert_array_equal(m.vertices, np.array(_hand_parse_v(COMPLEX_OBJ)))
    assert m.vertices.dtype == np.float64
    # quad -> 2 triangles, pentagon (negative indices) -> 3, two triangles
    expected = [
        [0, 1, 2],
        [0, 2, 3],
        [1, 4, 5],
        [1, 5, 6],
        [1, 6, 2],  # -6 of 7 seen = index 1, ...
        [7, 8, 9],
        [9, 8, 7],
    ]
    np.testing.assert_array_equal(m.faces, expected)
    assert [p.tolist() for p in m.polygons] == [[0, 1, 2, 3], [1, 4, 5, 6, 2], [7, 8, 9], [9, 8, 7]]
    assert m.group_names == ["Head", "Head/Jaw", "Eye"]
    np.testing.assert_array_equal(m.groups, [0, 0, 1, 1, 1, 2, 2])
    assert m.info["mtllib"] == ["skin.mtl"]
    assert m.info["materials"] == ["Skin", "Eye"]
    np.testing.assert_array_equal(m.info["face_material"], [0, 0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(m.info["triangle_polygon"], [0, 0, 1, 1, 1, 2, 3])
    assert m.uv.shape == (4, 2)
    assert m.uv_faces is None  # the last two faces have no vt: no per-corner uv for the mesh


def test_uv_faces_and_per_vertex_normals(tmp_path: Path) -> None:
    p = tmp_path / "uvn.obj"
    p.write_text(
        "v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nvn 0 0 1\nvn 0 0 1\nvn 0 0 1\nf 1/3/1 2/2/2 3/1/3\n"
    )
    m = read_obj(p)
    assert m.polygons is None  # triangles only
    np.testing.assert_array_equal(m.uv_faces, [[2, 1, 0]])
    np.testing.assert_array_equal(m.normals, [[0, 0, 1]] * 3)


def test_mixed_corner_formats_and_extra_columns(tmp_path: Path) -> None:
    p = tmp_path / "mixed.obj"
    p.write_text(
        "v 0 0 0 1 0 0\nv 1 0 0 0 1 0\nv 0 1 0 0 0 1\nv 1 1 0 1 1 1\n"
        "vt 0 0\nf 1/1 2/1 3/1\nf 2 4 3\n  f\t3//1 2//1 1//1 # trailing comment\n"
    )
    m = read_obj(p)
    np.testing.assert_array_equal(m.faces, [[0, 1, 2], [1, 3, 2], [2, 1, 0]])
    np.testing.assert_array_equal(m.info["vertex_extra"][:, :3], [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])


def test_trimesh_would_reindex_but_we_do_not(tmp_path: Path) -> None:
    """trimesh drops unused vertices and splits UV seams; we keep the v lines as they are."""
    import trimesh

    text = (
        "v 0 0 0\nv 9 9 9\nv 1 0 0\nv 1 1 0\nv 0 1 0\n"
        "vt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nvt 0.5 0.5\n"
        "f 1/1 3/2 4/3 5/4\nf 1/5 5/4 4/3\n"
    )
    p = tmp_path / "seam.obj"
    p.write_text(text)
    ours = read_obj(p).vertices
    np.testing.assert_array_equal(ours, _hand_parse_v(text))
    theirs = np.asarray(trimesh.load(p).vertices)  # trimesh default (process=True)
    if theirs.shape == ours.shape and np.array_equal(theirs, ours):  # pragma: no cover - guard
        pytest.skip("this trimesh version keeps OBJ order; nothing to compare")
    assert not (theirs.shape == ours.shape and np.array_equal(theirs, ours))


def test_write_read_round_trip_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(30, 3)) * 123.456
    quads = rng.integers(0, 30, size=(10, 4))
    uv = rng.random((12, 2))
    uvf = rng.integers(0, 12, size=(10, 4))
    p = tmp_path / "out" / "rt.obj"
    write_obj(p, v, quads, uv=uv, uv_faces=uvf, header="hello\nworld")
    m = read_obj(p)
    np.testing.assert_array_equal(m.vertices, v)  # bit-exact
    np.testing.assert_array_equal(m.polygons, quads)
    np.testing.assert_array_equal(m.uv, uv)
    np.testing.assert_array_equal(m.uv_faces, uvf)
    assert p.read_text().startswith("# hello\n# world\n")
    assert sorted(x.name for x in p.parent.iterdir()) == ["rt.obj"]  # no temporary left


def test_write_ngons_list(tmp_path: Path) -> None:
    v = np.eye(3).repeat(2, axis=0)
    polys = [[0, 1, 2], [2, 3, 4, 5]]
    p = tmp_path / "ng.obj"
    write_obj(p, v, polys)
    m = read_obj(p)
    assert [x.tolist() for x in m.polygons] == polys
    np.testing.assert_array_equal(m.faces, [[0, 1, 2], [2, 3, 4], [2, 4, 5]])


@pytest.mark.parametrize(
    "content, match",
    [
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0", "not a text OBJ"),
        (b"hello, this is a text file\nnot a mesh\n", "not an OBJ mesh"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n", "out of range"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 0\n", "out of range"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf -4 1 2\n", "out of range"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2\n", "at least 3"),
        (b"v 0 zero 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "bad number"),
        (b"v 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "3 coordinates"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 x\n", "line 4: bad face corner 'x'"),
    ],
)
def test_bad_obj_raises_one_line(tmp_path: Path, content: bytes, match: str) -> None:
    p = tmp_path / "bad.obj"
    p.write_bytes(content)
    with pytest.raises(MeshError, match=match) as e:
        read_obj(p)
    assert "\n" not in str(e.value)


def test_max_vertices_checked_before_parsing(tmp_path: Path) -> None:
    p = tmp_path / "big.obj"
    p.write_text("v 0 0 0\n" * 50 + "f 1 2 3\n")
    with pytest.raises(MeshError, match="50 vertices is over the limit of 10"):
        read_obj(p, max_vertices=10)


@pytest.mark.ict
def test_ict_neutral_reads_fast_and_exact(ict_neutral_obj: Path) -> None:
    t0 = time.perf_counter()
    m = read_obj(ict_neutral_obj)
    dt = time.perf_counter() - t0
    assert m.vertices.shape == (26719, 3)
    assert dt < 3.0, f"reading ICT took {dt:.2f}s"  # ~0.25 s on one core; generous for shared CI
    first = [ln for ln in ict_neutral_obj.read_text().splitlines() if ln.startswith("v ")][:3]
    np.testing.assert_array_equal(m.vertices[:3], [[float(x) for x in ln.split()[1:]] for ln in first])
    assert m.info["polygon_sizes"] == {3: 548, 4: 25836}
    assert len(m.polygons) == 26384 and m.faces.shape == (548 + 2 * 25836, 3)


GROUPED_OBJ = """\
mtllib a.mtl
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 2 0 0\r
vt 0 0
vt 1 0
vt 1 1
vn 0 0 1
o Head
usemtl skin
f 1/1/1 2/2/1 3/3/1 4/1/1
g jaw
f 2/1/1 5/2/1 3/3/1
o Eye
usemtl eye
f 3/1/1 4/2/1 5/3/1
"""


def _assert_same(a, b) -> None:
    for field in ("vertices", "uv", "vn", "counts", "vi", "ti", "ni", "f_group", "f_mat", "extra"):
        x, y = getattr(a, field), getattr(b, field)
        assert (x is None) == (y is None), field
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=field)
    assert a.group_names == b.group_names and a.materials == b.materials and a.mtllibs == b.mtllibs


@pytest.mark.parametrize(
    "text", [GROUPED_OBJ, GROUPED_OBJ.replace("/1/1", "//1").replace("/2/1", "//1").replace("/3/1", "//1")]
)
def test_fast_and_line_scanners_agree(text: str, tmp_path: Path) -> None:
    from facerig.io.obj import _parse_fast, _parse_slow

    p = tmp_path / "g.obj"
    _assert_same(_parse_fast(text, p, None), _parse_slow(text, p, None))


def test_fast_scanner_agrees_on_tiny_head(tiny_obj: Path) -> None:
    from facerig.io.obj import _parse_fast, _parse_slow

    text = tiny_obj.read_text()
    _assert_same(_parse_fast(text, tiny_obj, None), _parse_slow(text, tiny_obj, None))


@pytest.mark.ict
def test_fast_scanner_agrees_on_ict(ict_neutral_obj: Path) -> None:
    from facerig.io.obj import _parse_fast, _parse_slow

    text = ict_neutral_obj.read_text()
    _assert_same(_parse_fast(text, ict_neutral_obj, None), _parse_slow(text, ict_neutral_obj, None))


_TRI = b"v 0 0 0\nv 1 0 0\nv 0 1 0\n"


@pytest.mark.parametrize(
    "content, match",
    [
        (_TRI + b"f 1// 2// 3//\n", r"line 4: bad face corner '1//'"),
        (_TRI + b"vn 0 0 1\nf 1//1 2//1 3//\n", r"line 5: bad face corner '3//'"),
        (_TRI + b"vt 0 0\nf 1/1/ 2/1/ 3/1/\n", r"line 5: bad face corner '1/1/'"),
        (_TRI + b"f 1///2 2 3\n", r"line 4: bad face corner '1///2'"),
        (_TRI + b"f /1 2 3\n", r"line 4: bad face corner '/1'"),
        (_TRI + b"f 1 2 3.0\n", r"line 4: bad face corner '3.0'"),
        (_TRI + b"f 0 1 2\n", r"line 4: vertex index 0 is out of range \(3 vertices defined\)"),
        (_TRI + b"f 1 2 99999999999999999999999\n", r"line 4: face index 99999999999999999999999 is out of range"),
        (_TRI + b"f 1 2 -99999999999999999999999\n", r"line 4: face index -99999999999999999999999 is out of range"),
        (_TRI + b"f 1 2 9223372036854775807\n", r"line 4: vertex index 9223372036854775807 is out of range"),
        (_TRI.replace(b"v 1 0 0", b"v 1\xff 0 0") + b"f 1 2 3\n", r"line 2: bad number '1\xff' in a 'v' line"),
        (_TRI.replace(b"v 1 0 0", b"v 1 3x 0") + b"f 1 2 3\n", r"line 2: bad number '3x' in a 'v' line"),
        (_TRI + b"v\nf 1 2 3\n", r"line 4: vertex needs 3 coordinates, got 0"),
        (_TRI + b"f\n", r"line 4: face has 0 corner\(s\)"),
        (_TRI + b"vt 0 q\nf 1 2 3\n", r"line 4: bad number 'q' in a 'vt' line"),
        (_TRI + b"vn 0 1\nf 1 2 3\n", r"line 4: a 'vn' line needs 3 values, got 2"),
        (_TRI + "f 1 2 \u0663\n".encode(), r"line 4: bad face corner"),
    ],
)
def test_malformed_lines_are_named(tmp_path: Path, content: bytes, match: str) -> None:
    p = tmp_path / "bad.obj"
    p.write_bytes(content)
    with pytest.raises(MeshError, match=match) as e:
        read_obj(p)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("blank", ["\u00a0", "\x1f", "\x0c", " \t\u00a0 "])
def test_lines_of_odd_whitespace_are_blank(tmp_path: Path, blank: str) -> None:
    p = tmp_path / "ws.obj"
    p.write_bytes((f"v 0 0 0\n{blank}\nv 1 0 0\nv 0 1 0\n{blank}\nf 1 2 3\n").encode())
    m = read_obj(p)
    np.testing.assert_array_equal(m.vertices, [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(m.faces, [[0, 1, 2]])


def test_no_break_space_separates_like_a_space_and_line_numbers_count_lf(tmp_path: Path) -> None:
    p = tmp_path / "nbsp.obj"
    # U+001C would end a line for str.splitlines(); editors (and this reader) count LF only
    p.write_bytes("v\u00a00 0 0\nv 1 0 0\x1c\nv 0 1 0\nf 1 2 3\nf 1 2 x\n".encode())
    with pytest.raises(MeshError, match="line 5: bad face corner 'x'"):
        read_obj(p)
    p.write_bytes("v\u00a00 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n".encode())
    np.testing.assert_array_equal(read_obj(p).vertices[0], [0, 0, 0])


def test_cr_only_line_ends(tmp_path: Path) -> None:
    p = tmp_path / "mac.obj"
    p.write_bytes(b"v 0 0 0\rv 1 0 0\rv 0 1 0\rf 1 2 3\r")
    m = read_obj(p)
    assert m.vertices.shape == (3, 3)
    np.testing.assert_array_equal(m.faces, [[0, 1, 2]])


def test_face_and_file_size_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "many.obj"
    p.write_bytes(_TRI + b"f 1 2 3\n" * 20)
    with pytest.raises(MeshError, match="20 faces is over the limit of 10"):
        read_obj(p, max_faces=10)
    p.write_bytes(_TRI + b"f 1 2 3 1 2 3\n" * 4)  # 4 polygons, 16 triangles
    with pytest.raises(MeshError, match="16 faces is over the limit of 10"):
        read_obj(p, max_faces=10)
    with pytest.raises(MeshError, match="over the limit of 50 bytes"):
        read_obj(p, max_bytes=50)
    monkeypatch.setenv("FACERIG_MAX_FILE_BYTES", "60")
    with pytest.raises(MeshError, match="over the limit of 60 bytes .*FACERIG_MAX_FILE_BYTES"):
        read_obj(p)
    assert read_obj(p, max_bytes=0).num_vertices == 3  # 0 = no limit


@pytest.mark.slow
def test_million_vertex_file_over_the_limit_fails_fast(tmp_path: Path) -> None:
    p = tmp_path / "big.obj"
    n = 1_000_001
    rng = np.random.default_rng(0)
    v = rng.random((n, 3))
    body = ("v %.6f %.6f %.6f\n" * n) % tuple(v.ravel())
    p.write_text(body + "f 1 2 3\nf 1 2 x\n")
    t0 = time.perf_counter()
    with pytest.raises(MeshError, match="1,000,001 vertices is over the limit of 1,000,000"):
        read_obj(p, max_vertices=1_000_000)
    assert time.perf_counter() - t0 < 10.0
    with pytest.raises(MeshError, match=f"line {n + 2}: bad face corner 'x'"):  # parsed through to the bad line
        read_obj(p, max_vertices=None)

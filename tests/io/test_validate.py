"""validate_mesh / load_mesh: every bad input is a one-line MeshError; repairs are opt-in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facerig.errors import MeshError
from facerig.io import load_mesh
from facerig.io.mesh import Mesh
from facerig.io.validate import degenerate_triangles, duplicate_triangles, validate_mesh


def _err(mesh: Mesh, **kw) -> str:
    with pytest.raises(MeshError) as e:
        validate_mesh(mesh, **kw)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_good_mesh_passes_unchanged(tiny_head) -> None:
    v, f = tiny_head()
    m = Mesh(v, f)
    assert validate_mesh(m) is m


def test_no_vertices_no_faces() -> None:
    assert "no vertices" in _err(Mesh(np.zeros((0, 3)), np.zeros((0, 3), np.int64)))
    assert "no faces" in _err(Mesh(np.eye(3), np.zeros((0, 3), np.int64)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite(tiny_head, bad: float) -> None:
    v, f = tiny_head()
    v[7, 1] = bad
    v[9, 0] = bad
    msg = _err(Mesh(v, f))
    assert "2 vertices have NaN or infinite" in msg and "vertex 7" in msg


def test_index_out_of_range(tiny_head) -> None:
    v, f = tiny_head()
    f[3, 2] = len(v)
    msg = _err(Mesh(v, f))
    assert f"vertex index {len(v)}" in msg and "face 3" in msg
    f[3, 2] = -1
    assert "vertex index -1" in _err(Mesh(v, f))


def test_too_many_vertices_names_count_and_limit(tiny_head) -> None:
    v, f = tiny_head()
    msg = _err(Mesh(v, f), max_vertices=10)
    assert f"{len(v)} vertices is over the limit of 10" in msg
    validate_mesh(Mesh(v, f), max_vertices=None)


def test_all_degenerate_is_an_error_even_when_allowed() -> None:
    v = np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0]])
    assert "all 2 faces are degenerate" in _err(Mesh(v, np.array([[0, 1, 2], [0, 0, 1]])), allow_degenerate=True)


def test_some_degenerate_faces(tiny_head) -> None:
    v, f = tiny_head()
    f2 = np.concatenate([f, [[0, 0, 5]], [[1, 2, 2]]])  # repeated index
    msg = _err(Mesh(v, f2))
    assert "2 degenerate face(s)" in msg and f"first: face {len(f)}" in msg and "--strict" in msg
    out = validate_mesh(Mesh(v, f2), allow_degenerate=True)
    np.testing.assert_array_equal(out.faces, f)
    assert out.vertices is v  # vertices untouched
    assert out.info["repairs"]["dropped_degenerate_triangles"] == 2


def test_zero_area_collinear_face(tiny_head) -> None:
    v, f = tiny_head()
    v = np.concatenate([v, [[0, 0, 0], [1, 1, 1], [2, 2, 2]]])
    n = len(v)
    f2 = np.concatenate([f, [[n - 3, n - 2, n - 1]]])
    assert degenerate_triangles(v, f2).sum() == 1
    assert "1 degenerate face(s)" in _err(Mesh(v, f2))
    # dropping it leaves its 3 vertices unused: say so
    msg = _err(Mesh(v, f2), allow_degenerate=True)
    assert "3 vertices are not used by any face once degenerate faces are dropped" in msg
    out = validate_mesh(Mesh(v, f2), allow_degenerate=True, allow_unreferenced=True)
    assert out.num_faces == len(f) and out.info["repairs"]["unreferenced_vertices"] == 3


def test_face_with_a_corner_on_its_opposite_edge_is_degenerate() -> None:
    """An edge's midpoint a rounding digit off the edge (height 1e-9 of the size) makes a face of no
    area though its area is far above ``rel_eps``; a thin but real face (height 1e-4) is kept."""
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0.5, 1e-9, 0], [0.5, 1e-4, 0.0]])
    f = np.array([[0, 1, 2], [0, 1, 3], [0, 1, 4]])
    assert degenerate_triangles(v, f).tolist() == [False, True, False]
    assert degenerate_triangles(v * 1000.0, f).tolist() == [False, True, False]  # scale-free


def test_duplicate_faces_either_winding(tiny_head) -> None:
    v, f = tiny_head()
    f2 = np.concatenate([f, f[[4]], f[[9], ::-1]])
    assert duplicate_triangles(f2).sum() == 2
    msg = _err(Mesh(v, f2))
    assert "2 duplicate face(s)" in msg and f"first: face {len(f)}" in msg
    out = validate_mesh(Mesh(v, f2), allow_degenerate=True)
    np.testing.assert_array_equal(out.faces, f)
    assert out.info["repairs"]["dropped_duplicate_triangles"] == 2


def test_unreferenced_vertices(tiny_head) -> None:
    v, f = tiny_head()
    v2 = np.concatenate([v[:5], [[9.0, 9, 9]], v[5:]])
    f2 = np.where(f >= 5, f + 1, f)
    msg = _err(Mesh(v2, f2))
    assert "1 vertices are not used by any face" in msg and "first: vertex 5" in msg and "--strict" in msg
    out = validate_mesh(Mesh(v2, f2), allow_unreferenced=True)
    assert out.vertices is v2 and out.faces is f2
    assert out.info["repairs"] == {"unreferenced_vertices": 1}


def test_groups_and_polygon_map_follow_dropped_triangles(tmp_path: Path) -> None:
    p = tmp_path / "d.obj"
    p.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\ng a\nf 1 2 3\ng b\nf 2 4 3\nf 3 2 4\n")
    with pytest.raises(MeshError, match="1 duplicate face"):
        load_mesh(p)
    m = load_mesh(p, allow_degenerate=True)
    np.testing.assert_array_equal(m.faces, [[0, 1, 2], [1, 3, 2]])
    np.testing.assert_array_equal(m.groups, [0, 1])
    np.testing.assert_array_equal(m.info["triangle_polygon"], [0, 1])


@pytest.mark.parametrize(
    "text, match",
    [
        ("# nothing here\n", "no vertices"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\n", "no faces"),
        ("v 0 0 nan\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "NaN or infinite"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 5 5 5\nf 1 2 3\n", "not used by any face"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nf 1 2 3\nf 1 1 4\n", "degenerate"),
    ],
)
def test_load_mesh_bad_obj_files(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "bad.obj"
    p.write_text(text)
    before = p.read_bytes()
    with pytest.raises(MeshError, match=match) as e:
        load_mesh(p)
    assert "\n" not in str(e.value) and str(p) in str(e.value)
    assert p.read_bytes() == before


def test_dropped_faces_are_recorded(tiny_head) -> None:
    v, f = tiny_head()
    bad = np.array([[0, 0, 5], [1, 2, 2]])
    out = validate_mesh(Mesh(v, np.concatenate([f, bad, f[:1]])), allow_degenerate=True)
    np.testing.assert_array_equal(out.info["dropped_faces"], np.concatenate([bad, f[:1]]))


@pytest.mark.parametrize("scale, match", [(1e37, "too large"), (1e-36, "too small"), (None, "from the origin")])
def test_extreme_coordinates_one_line_no_warning(tiny_head, scale, match) -> None:
    import warnings

    v, f = tiny_head()
    v = v * scale if scale is not None else v * 1e-12 + 5.0  # a speck far from the origin
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would fail the test
        msg = _err(Mesh(v, f))
    assert match in msg and "\n" not in msg


@pytest.mark.parametrize("scale", [1e30, 1e-30])
def test_large_and_small_but_workable_coordinates_pass(tiny_head, scale) -> None:
    import warnings

    v, f = tiny_head()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert validate_mesh(Mesh(v * scale, f)).num_vertices == len(v)


def test_duplicate_triangles_match_unique_rows() -> None:
    """Duplicates (either winding) are the rows np.unique(sorted rows, axis=0) does not keep first."""
    rng = np.random.default_rng(2)
    f = rng.integers(0, 40, size=(3000, 3))  # many repeats of the same vertex sets
    ref = np.ones(len(f), bool)
    ref[np.unique(np.sort(f, axis=1), axis=0, return_index=True)[1]] = False
    np.testing.assert_array_equal(duplicate_triangles(f), ref)
    np.testing.assert_array_equal(duplicate_triangles(f[:, ::-1]), ref)

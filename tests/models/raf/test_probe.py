"""The face probe: landmarks, face-measured frame, head check, orientation search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facerig.io.mesh import Mesh


def test_face_frame_factor():
    """(f / f0) ** beta for the face size f = sqrt(iod * eye_mouth), capped both ways; 1 for a
    typical face, a missing face or beta = 0."""
    from facerig.models.raf.probe import face_frame_factor

    lm = {"iod": 0.4, "eye_mouth": 0.4}
    assert face_frame_factor(lm, beta=0.5, f0=0.4) == pytest.approx(1.0)
    assert face_frame_factor({"iod": 0.8, "eye_mouth": 0.2}, beta=0.5, f0=0.4) == pytest.approx(1.0)
    assert face_frame_factor({"iod": 0.6, "eye_mouth": 0.6}, beta=0.5, f0=0.4) == pytest.approx(1.5**0.5)
    assert face_frame_factor({"iod": 0.3, "eye_mouth": 0.3}, beta=0.5, f0=0.4) == pytest.approx(0.75**0.5)
    assert face_frame_factor({"iod": 4.0, "eye_mouth": 4.0}, beta=1.0, f0=0.4, max_factor=1.4) == pytest.approx(1.4)
    assert face_frame_factor({"iod": 0.0, "eye_mouth": 0.4}, beta=0.5, f0=0.4) == 1.0
    assert face_frame_factor({"iod": float("nan"), "eye_mouth": 0.4}, beta=0.5, f0=0.4) == 1.0
    assert face_frame_factor(lm, beta=0.0, f0=0.2) == 1.0


def test_shipped_weights_find_the_face_of_the_example_head():
    """On the bundled example head the shipped network puts the eyes either side of the mid-line,
    level with each other and above the mouth, which sits on the mid-line: the landmarks the
    face-measured frame uses. (The example is an ICT head, cm: eyes ~6 cm apart.)"""
    from facerig.geometry.proxy import prepare_head
    from facerig.io import load_mesh
    from facerig.models.raf.config import RIG_PROXY_VERTICES
    from facerig.models.raf.probe import face_check, face_landmarks
    from facerig.models.raf.weights import load_model

    mesh = load_mesh(str(Path(__file__).resolve().parents[3] / "examples" / "ict_head" / "head.obj"))
    model, _ = load_model()
    prep = prepare_head(
        np.asarray(mesh.vertices, np.float64), mesh.faces, proxy_vertices=RIG_PROXY_VERTICES, k=model.k_eig
    )
    lm = face_landmarks(model, prep)
    assert face_check(lm) == ("ok", [])
    el, er, m = (lm[k] * prep.scale + prep.center for k in ("eye_left", "eye_right", "mouth"))
    assert el[0] > 2.0 and er[0] < -2.0 and abs(el[0] + er[0]) < 0.3
    assert abs(el[1] - er[1]) < 0.3 and abs(m[0]) < 0.3
    assert 4.5 < lm["iod"] * prep.scale < 8.0 and el[1] - m[1] > 4.0


def test_probe_mesh_decimates_large_proxies_only():
    """The face probe's mesh: the proxy as it is up to 1.2 x the target, else a decimation to
    about the target that keeps the head's extent."""
    from facerig.io import load_mesh
    from facerig.models.raf.probe import probe_mesh

    mesh = load_mesh(str(Path(__file__).resolve().parents[3] / "examples" / "ict_head" / "head.obj"))
    v, f = np.asarray(mesh.vertices), mesh.faces
    same_v, same_f = probe_mesh(v, f, target=len(v))
    assert same_v is v or np.array_equal(same_v, v)
    assert np.array_equal(same_f, f)
    pv, pf = probe_mesh(v, f, target=2500)
    assert 2000 < len(pv) < 3200 and pf.max() < len(pv)
    np.testing.assert_allclose(pv.min(0), v.min(0), atol=0.05 * np.ptp(v, 0).max())
    np.testing.assert_allclose(pv.max(0), v.max(0), atol=0.05 * np.ptp(v, 0).max())


def test_probe_mesh_of_a_subdivided_low_poly_head_keeps_a_solvable_laplacian():
    """A 1.7k-vertex Rocketbox head split once at its edge midpoints (flat facets): the plain
    decimation left the probe mesh a singular Laplacian (``facerig rig`` failed on it); the vertices
    it throws off are put back and the eigenbasis solves."""
    from facerig.config import data_root
    from facerig.errors import DataError
    from facerig.geometry.operators import eigenbasis, laplacian_and_mass
    from facerig.geometry.proxy import prepare_head
    from facerig.io import load_mesh
    from facerig.models.raf.densify import midpoint_subdivide
    from facerig.models.raf.probe import probe_mesh

    try:
        path = data_root() / "heads" / "rocketbox_female_adult_01.obj"
    except DataError:
        pytest.skip("public data not available")
    if not path.is_file():
        pytest.skip("Rocketbox head not available")
    mesh = load_mesh(str(path))
    sv, sf = midpoint_subdivide(mesh.vertices, mesh.faces)
    prep = prepare_head(sv, sf, proxy_vertices=8000, operators=False)
    pv, pf = probe_mesh(prep.xyz, prep.proxy.faces)
    assert 2000 < len(pv) < 3200
    L, mass = laplacian_and_mass(pv, pf)
    evals, _ = eigenbasis(L, mass, 16)
    assert np.isfinite(evals).all() and evals.shape == (16,)
    # only the corners of the decimation's faces of no area move: every other vertex keeps
    # simplify's own position (rebuilding them all moved sound ones and the MediaPipe mask's probe warned)
    import fast_simplification as fs

    xyz, faces = prep.xyz, np.asarray(prep.proxy.faces, np.int32)
    n_faces = max(int(2 * 2500 * len(faces) / (2 * len(xyz))), 4)
    sv0, sf0 = fs.simplify(xyz, faces, target_count=n_faces)
    assert np.array_equal(pf, sf0)
    a2 = np.linalg.norm(np.cross(sv0[sf0[:, 1]] - sv0[sf0[:, 0]], sv0[sf0[:, 2]] - sv0[sf0[:, 0]]), axis=1)
    flat = np.unique(sf0[a2 <= 1e-12 * np.median(a2)])
    moved = np.flatnonzero(np.any(pv != sv0, axis=1))
    assert 0 < moved.size and np.isin(moved, flat).all()


def _landmarks(el, er, m):
    el, er, m = (np.array(p, float) for p in (el, er, m))
    return {
        "eye_left": el,
        "eye_right": er,
        "mouth": m,
        "iod": float(np.linalg.norm(el - er)),
        "eye_mouth": float(np.linalg.norm(0.5 * (el + er) - m)),
    }


def test_face_check_limits():
    """An upright face facing +Z is ok; a rolled one is a warning; an upside-down one, or one with
    an eye far in front of the other (a head lying down), is an error; reasons name the cause."""
    from facerig.models.raf.probe import face_check, face_layout

    ok = _landmarks([0.2, 0.1, -0.15], [-0.2, 0.1, -0.15], [0.0, -0.35, -0.1])
    assert face_check(ok) == ("ok", [])
    assert face_layout(ok)["below"] == pytest.approx(0.45 / np.hypot(0.45, 0.05))
    rolled = _landmarks([0.2, 0.25, -0.15], [-0.2, 0.1, -0.15], [0.0, -0.35, -0.1])  # level 0.375
    status, why = face_check(rolled)
    assert status == "warn" and any("level" in w for w in why)
    upside = _landmarks([0.2, -0.1, -0.15], [-0.2, -0.1, -0.15], [0.0, 0.35, -0.1])
    status, why = face_check(upside)
    assert status == "error" and any("not below" in w for w in why)
    lying = _landmarks([0.2, 0.1, -0.05], [-0.1, 0.1, -0.35], [0.0, -0.35, -0.1])  # depth 0.3 / 0.42
    assert face_check(lying)[0] == "error"
    nan = _landmarks([0.2, 0.1, 0.0], [0.2, 0.1, 0.0], [0.0, -0.35, 0.0])  # the eyes at one point
    assert face_check(nan)[0] == "error"


def test_a_sphere_is_not_a_head():
    """The shipped network finds no face on a sphere: ``rig_raf`` refuses it (NotAHeadError)
    unless ``head_check=False``; the example head passes."""
    trimesh = pytest.importorskip("trimesh")
    from facerig.models.raf.method import rig_raf
    from facerig.models.raf.probe import NotAHeadError

    s = trimesh.creation.icosphere(subdivisions=4)
    mesh = Mesh(vertices=np.asarray(s.vertices) * 10.0, faces=np.asarray(s.faces))
    with pytest.raises(NotAHeadError, match="no plausible face"):
        rig_raf(mesh)
    out = rig_raf(mesh, head_check=False)
    assert out.meta["raf"]["face_frame"]["check"] == "error"


def test_orientation_candidates_and_score():
    """24 axis-aligned (up, forward) pairs, each perpendicular; the score grows as the face
    departs from an upright one: ideal < rolled < upside down."""
    from facerig.geometry.frame import orientation_matrix
    from facerig.models.raf.probe import ORIENTATIONS, face_check_score

    assert len(ORIENTATIONS) == len(set(ORIENTATIONS)) == 24
    for up, fwd in ORIENTATIONS:
        R = orientation_matrix(up, fwd)
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(R) == pytest.approx(1.0)
    ideal = _landmarks([0.2, 0.1, -0.15], [-0.2, 0.1, -0.15], [0.0, -0.35, -0.15])
    rolled = _landmarks([0.2, 0.25, -0.15], [-0.2, 0.1, -0.15], [0.0, -0.35, -0.1])
    upside = _landmarks([0.2, -0.1, -0.15], [-0.2, -0.1, -0.15], [0.0, 0.35, -0.1])
    assert face_check_score(ideal) == pytest.approx(0.0, abs=1e-12)
    assert 1.0 < face_check_score(rolled) < face_check_score(upside)
    assert face_check_score(_landmarks([0, 0, 0], [0, 0, 0], [0, -1, 0])) == float("inf")


@pytest.mark.slow
def test_a_head_in_blenders_axes_is_rigged_in_the_right_orientation(tmp_path, capsys):
    """The example head turned to Blender's axes (+Z up, -Y forward) and rigged without saying so
    is rigged in those axes with a note naming them; given the default axes explicitly, it is
    refused and the error names the orientation that makes it a head; ``--auto-orient`` finds that
    orientation and rigs the same."""
    from facerig.cli import main
    from facerig.io import read_mesh
    from facerig.io.obj import write_obj
    from facerig.io.rig import load_rig

    m = read_mesh(str(Path(__file__).resolve().parents[3] / "examples" / "ict_head" / "head.obj"))
    R = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # +Y -> +Z, +Z -> -Y
    head = tmp_path / "blender_head.obj"
    write_obj(head, np.asarray(m.vertices) @ R.T, m.faces)
    out = tmp_path / "rig.npz"
    assert main(["rig", str(head), "-o", str(out), "--up", "+y", "--forward", "+z"]) == 2 and not out.exists()
    err = capsys.readouterr().err.strip()
    assert "does not look like a head" in err and "--up +z --forward -y" in err and len(err.splitlines()) == 1
    assert main(["rig", str(head), "-o", str(out)]) == 0  # no axes given: rigged in the ones it names
    printed = capsys.readouterr().out
    assert "does not look like a head; rigged in the axes" in printed and "--up +z --forward -y" in printed
    meta = load_rig(out).meta
    assert (meta["input"]["up"], meta["input"]["forward"]) == ("+z", "-y")
    assert meta["orientation"]["turned_from"] == ["+y", "+z"]
    auto = tmp_path / "auto.npz"
    assert main(["rig", str(head), "-o", str(auto), "--auto-orient"]) == 0  # finds it by itself
    meta = load_rig(auto).meta
    assert (meta["input"]["up"], meta["input"]["forward"]) == ("+z", "-y")
    assert meta["raf"]["face_frame"]["check"] == "ok"
    np.testing.assert_array_equal(load_rig(auto).deltas, load_rig(out).deltas)

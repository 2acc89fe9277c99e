"""A head's parts: skin, eyeballs or eye holes, mouth parts."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from facerig.geometry.face_parts import boundary_loops, find_layout, fit_sphere
from fixtures.face_plate import synthetic_head


def test_layout_finds_eyeballs_and_scale():
    v, f, ix = synthetic_head()
    lay = find_layout(v, f)
    assert [e.side for e in lay.eyes] == ["Left", "Right"] and all(e.kind == "eyeball" for e in lay.eyes)
    assert lay.eyes[0].center[0] > 0 > lay.eyes[1].center[0]
    assert lay.scale == pytest.approx(2.0, abs=0.05)
    assert lay.eye_y == pytest.approx(1.0, abs=0.05)
    assert lay.mouth_parts == [int(lay.labels[ix["teeth"][0]])]
    _c, r, res = fit_sphere(v[ix["balls"][0][0] : ix["balls"][0][1]])
    assert r == pytest.approx(0.5, rel=0.02) and res < 0.02


def test_layout_eye_holes_without_eyeballs():
    v, f, ix = synthetic_head()
    plate = f[(f < ix["balls"][0][0]).all(1)]
    lay = find_layout(v, plate)
    assert [e.kind for e in lay.eyes] == ["hole", "hole"]
    assert lay.eyes[0].center[0] == pytest.approx(1.0, abs=0.05)
    # the plate's loops: outline, two eyes, the mouth slit
    assert len(boundary_loops(plate)) == 4


def test_part_rows_are_the_rows_of_each_label():
    import numpy as np

    from facerig.geometry.face_parts import _PartRows

    labels = np.random.default_rng(4).integers(0, 7, size=500)
    parts = _PartRows(labels)
    for p in range(8):  # label 7: none
        np.testing.assert_array_equal(parts.rows(p), np.flatnonzero(labels == p))


def _band(center, radius: float, rings: int, around: int = 48):
    """A band of a sphere (centre (3,), radius) open toward +Z, polar angles 45-90 degrees about +Z:
    an occlusion shell around an eye's opening; ``rings`` rows of quads. Vertices (N, 3), faces (F, 3)."""
    import numpy as np

    th = np.radians(np.linspace(45.0, 90.0, rings + 1))
    ph = np.linspace(0.0, 2 * np.pi, around, endpoint=False)
    T, P = np.meshgrid(th, ph, indexing="ij")
    v = np.c_[np.sin(T).ravel() * np.cos(P).ravel(), np.sin(T).ravel() * np.sin(P).ravel(), np.cos(T).ravel()]
    f = []
    for i in range(rings):
        for j in range(around):
            a, b = i * around + j, i * around + (j + 1) % around
            f += [[a, b, b + around], [a, b + around, a + around]]
    return np.asarray(center) + radius * v, np.asarray(f)


@pytest.mark.parametrize("rings", [2, 12])
def test_a_shell_in_front_of_one_eye_is_no_eyeball_at_any_density(rings):
    """A band around one eye (a larger sphere than the eyeball, mirrored closely enough to pair)
    is no eyeball, however finely it is meshed: finely meshed, its share of boundary edges is
    under 12 % (the ICT head subdivided to 105k vertices); its outline (2 x a disc's) is not."""
    import numpy as np

    from facerig.geometry.components import boundary_ratio, outline_ratio

    v, f, ix = synthetic_head()
    right = min((v[a:b].mean(0) for a, b in ix["balls"]), key=lambda c: c[0])  # the eyeball at -X
    sv, sf = _band(right, 0.6, rings)
    assert outline_ratio(sv, sf) == pytest.approx(2.06, abs=0.1)
    assert (boundary_ratio(sf) <= 0.12) == (rings == 12)
    lay = find_layout(np.vstack([v, sv]), np.vstack([f, sf + len(v)]))
    assert [e.kind for e in lay.eyes] == ["eyeball", "eyeball"]
    for e in lay.eyes:  # the eyeballs (radius 0.5), not the shell (0.6)
        assert e.radius == pytest.approx(0.5, abs=0.05)
        assert (e.faces < len(f)).all()


def test_outline_ratio_is_the_shape_not_the_mesh():
    import numpy as np

    from facerig.geometry.components import outline_ratio

    for rings in (3, 30):
        r = np.linspace(0.0, 1.0, rings + 1)[1:]
        ph = np.linspace(0.0, 2 * np.pi, 64, endpoint=False)
        x, y = np.outer(r, np.cos(ph)).ravel(), np.outer(r, np.sin(ph)).ravel()
        disc = np.r_[[[0.0, 0.0, 0.0]], np.c_[x, y, np.zeros_like(x)]]
        f = [[0, 1 + j, 1 + (j + 1) % 64] for j in range(64)]
        for i in range(rings - 1):
            for j in range(64):
                a, b = 1 + i * 64 + j, 1 + i * 64 + (j + 1) % 64
                f += [[a, b + 64, b], [a, a + 64, b + 64]]
        assert outline_ratio(disc, np.array(f)) == pytest.approx(1.0, abs=0.01)
    import trimesh

    ball = trimesh.creation.icosphere(2)
    assert outline_ratio(ball.vertices, ball.faces) == 0.0
    assert outline_ratio(np.zeros((0, 3)), np.zeros((0, 3), int)) == float("inf")


def test_a_part_far_behind_the_eyes_is_no_mouth_part():
    """A rivet on the mid-line at the back of a helmet is not teeth; the teeth behind the lips still are."""
    import numpy as np
    import trimesh

    from facerig.geometry.face_parts import MOUTH_PART_BEHIND

    v, f, ix = synthetic_head()
    v = v.copy()
    low = (np.arange(len(v)) < ix["balls"][0][0]) & (v[:, 1] < -6)  # the plate's bottom bends back: a helmet
    v[low, 2] = 3.0 * (v[low, 1] + 6)  # down to z = -9
    lay0 = find_layout(v, f)
    back_z = lay0.eye_z - (MOUTH_PART_BEHIND + 1) * lay0.scale  # inside the skin's box, far behind the eyes
    rivet = trimesh.creation.box(extents=[0.2, 0.2, 0.2])
    rivet.apply_translation([0.0, -7.0, back_z])
    near = trimesh.creation.box(extents=[0.2, 0.2, 0.2])
    near.apply_translation([0.0, -2.5, lay0.eye_z - (MOUTH_PART_BEHIND - 1) * lay0.scale])  # a tongue's depth
    n = len(v)
    v2 = np.vstack([v, rivet.vertices, near.vertices])
    f2 = np.vstack([f, rivet.faces + n, near.faces + n + len(rivet.vertices)])
    lay = find_layout(v2, f2)
    assert lay.scale == pytest.approx(lay0.scale) and lay.skin == lay0.skin
    teeth, rivet_p, near_p = (int(lay.labels[i]) for i in (ix["teeth"][0], n, n + len(rivet.vertices)))
    assert v2[:, 2].min() < back_z  # the rivet is inside the skin's bounding box
    assert teeth in lay.mouth_parts and near_p in lay.mouth_parts
    assert rivet_p not in lay.mouth_parts


def _flat_shaded(v, f):
    """Every face on its own three corners, as a flat-shaded export writes a mesh."""
    return v[f].reshape(-1, 3), np.arange(3 * len(f)).reshape(-1, 3)


def test_eye_holes_of_a_flat_shaded_plate_are_its_openings():
    v, f, ix = synthetic_head()
    plate = f[(f < ix["balls"][0][0]).all(1)]
    want = find_layout(v, plate)
    fv, ff = _flat_shaded(v, plate)
    lay = find_layout(fv, ff)
    assert [e.kind for e in lay.eyes] == ["hole", "hole"]
    for a, b in zip(lay.eyes, want.eyes):
        assert a.side == b.side and np.allclose(a.center, b.center) and a.radius == pytest.approx(b.radius)
    assert lay.scale == pytest.approx(want.scale)


def test_a_closed_head_split_along_seams_has_no_eye_holes():
    """Seams (a UV island cut around each eye: its vertices doubled) are no openings."""
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=5.0)
    v, f = np.asarray(sphere.vertices, np.float64), np.asarray(sphere.faces).copy()
    fc = v[f].mean(1)
    for x in (2.0, -2.0):  # each eye's patch of faces on its own copies of its vertices
        eye = np.array([x, 1.5, np.sqrt(25 - x * x - 2.25)])
        patch = np.linalg.norm(fc - eye, axis=1) < 1.3
        rows = np.unique(f[patch])
        f[patch] = np.searchsorted(rows, f[patch]) + len(v)
        v = np.vstack([v, v[rows]])
    assert len(boundary_loops(f)) >= 4  # the cuts: open edges around each patch
    lay = find_layout(v, f)
    assert lay.eyes == [] and lay.eye_y is None

"""The shape prior of the 24 orientations: exact under turns, symmetric axis first."""

import numpy as np

from facerig.geometry.frame import orientation_matrix
from facerig.geometry.orient import ORIENTATIONS, orientation_features, rank_orientations, symmetry_residuals


def _face_like(tiny_head):
    """The tiny head (+Y up, eye toward +Z) with a second eye mirrored across x = 0: symmetric
    left-right, not up-down or front-back."""
    v, f = tiny_head(10, 12)
    eye = v[-6:] * np.array([-1.0, 1, 1])
    eye_f = f[-8:][:, ::-1] - (len(v) - 6) + len(v)
    return np.concatenate([v, eye]), np.concatenate([f, eye_f])


def test_orientations_are_the_24_rotations():
    mats = {tuple(np.round(orientation_matrix(u, f), 6).ravel()) for u, f in ORIENTATIONS}
    assert len(ORIENTATIONS) == 24 and len(mats) == 24


def _example():
    from pathlib import Path

    from facerig.io import read_mesh

    m = read_mesh(Path(__file__).resolve().parents[2] / "examples" / "ict_head" / "head.obj")
    return np.asarray(m.vertices), np.asarray(m.faces)


def test_mirror_axis_has_the_smallest_residual():
    from facerig.geometry.orient import surface_samples

    v, f = _example()
    for perm in ([0, 1, 2], [2, 0, 1]):  # the head as it is, and with its axes permuted
        res = symmetry_residuals(surface_samples(v[:, perm], f)[0])
        assert int(np.argmin(res)) == perm.index(0) and res.min() < 0.5 * np.delete(res, perm.index(0)).min()


def test_ranking_turns_with_the_mesh(tiny_head):
    """The rank of the truth is the same in every one of the 24 turns (features are exact under
    axis permutations and sign flips), and the truth's left-right axis is the symmetric one."""
    v, f = _face_like(tiny_head)
    ranks = []
    for up, fwd in ORIENTATIONS:
        turned = v @ orientation_matrix(up, fwd)
        r = rank_orientations(turned, f)
        ranks.append(next(i for i, x in enumerate(r) if x[:2] == (up, fwd)))
        assert len(r) == 24
    assert len(set(ranks)) == 1 and ranks[0] < 8
    feats = orientation_features(v, f)
    assert feats["parts"][2] > 0  # the eyes sit in front


def test_ranks_the_example_head_first_in_blenders_axes():
    v, f = _example()
    assert rank_orientations(v @ orientation_matrix("+z", "-y"), f)[0][:2] == ("+z", "-y")
    assert rank_orientations(v, f)[0][:2] == ("+y", "+z")


def test_eyeball_parts_are_the_small_spheres():
    """Two small spheres beside a big one and a box: the two small spheres are the eyeball-like
    parts, with their centres; the box and the big sphere (over the area limit) are not."""
    trimesh = __import__("pytest").importorskip("trimesh")
    from facerig.geometry.components import connected_components
    from facerig.geometry.orient import eyeball_parts

    big = trimesh.creation.icosphere(3, radius=5.0)
    parts = [big, trimesh.creation.icosphere(2, radius=0.6), trimesh.creation.icosphere(2, radius=0.6)]
    parts[1].apply_translation([1.5, 1.0, 4.5])
    parts[2].apply_translation([-1.5, 1.0, 4.5])
    box = trimesh.creation.box([1.0, 1.0, 1.0])
    box.apply_translation([0, -3.0, 4.5])
    m = trimesh.util.concatenate(parts + [box])
    v, f = np.asarray(m.vertices), np.asarray(m.faces)
    tri = v[f]
    area = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    eyes = eyeball_parts(v, f, connected_components(len(v), f), area)
    assert eyes.shape == (2, 4)
    np.testing.assert_allclose(sorted(eyes[:, 1]), [-1.5, 1.5], atol=1e-6)
    np.testing.assert_allclose(eyes[:, 2:], [[1.0, 4.5], [1.0, 4.5]], atol=1e-6)


def test_hull_is_flat_on_a_cones_base():
    trimesh = __import__("pytest").importorskip("trimesh")
    from facerig.geometry.orient import hull_flatness

    cone = trimesh.creation.cone(radius=1.0, height=2.0, sections=64)  # base at z = 0, apex at +z
    flat = hull_flatness(np.asarray(cone.vertices))
    assert flat[2] < -0.2 and abs(flat[0]) < 0.02 and abs(flat[1]) < 0.02
    assert np.all(hull_flatness(np.zeros((4, 3))) == 0)  # degenerate: no hull, no evidence


def _ball_with_eyes():
    """An ellipsoid "head" with two small spheres for eyes in front, above the middle: (V, 3), (F, 3)."""
    trimesh = __import__("pytest").importorskip("trimesh")
    head = trimesh.creation.icosphere(3)
    head.apply_scale([8.0, 10.0, 9.0])
    eyes = [trimesh.creation.icosphere(2, radius=1.2) for _ in range(2)]
    eyes[0].apply_translation([3.0, 2.5, 7.5])
    eyes[1].apply_translation([-3.0, 2.5, 7.5])
    m = trimesh.util.concatenate([head] + eyes)
    return np.asarray(m.vertices), np.asarray(m.faces)


def test_features_see_through_a_polygon_soup():
    """Every triangle its own vertices (an exporter's soup): the seams are stitched first, so the
    cues are those of the connected mesh."""
    v, f = _ball_with_eyes()
    soup_v = v[f].reshape(-1, 3)
    soup_f = np.arange(len(soup_v)).reshape(-1, 3)
    a, b = orientation_features(v, f), orientation_features(soup_v, soup_f)
    for k in ("detail", "crease", "boundary", "eyes", "hull", "skew", "normal3", "symmetry"):
        np.testing.assert_allclose(a[k], b[k], atol=1e-9, err_msg=k)
    assert a["eyes"][1] > 0 and a["eyes"][2] > 0  # the eyes sit above the middle, in front
    unwelded = orientation_features(soup_v, soup_f, weld=0)
    assert np.abs(unwelded["eyes"]).max() == 0  # in the soup every triangle is a part: no eyes


def test_mirror_axis_is_clear_on_a_head_not_on_a_sphere():
    trimesh = __import__("pytest").importorskip("trimesh")
    from facerig.geometry.orient import mirror_axis

    v, f = _example()
    axis, clear = mirror_axis(orientation_features(v[:, [1, 0, 2]], f))
    assert axis == 1 and clear > 2.0
    s = trimesh.creation.icosphere(4)
    assert mirror_axis(orientation_features(np.asarray(s.vertices), np.asarray(s.faces)))[1] < 1.5


def _mouthless_box_head():
    """A mouthless robot-like head: a box body with a flat base, a slightly narrower top set back,
    and two eye domes in front at mid-height (no mouth, no nose, no neck): (V, 3), (F, 3)."""
    trimesh = __import__("pytest").importorskip("trimesh")
    bottom = [[x, -0.8, z] for x in (-1.3, 1.3) for z in (-1.2, 1.2)]
    top = [[x, 0.8, z - 0.1] for x in (-1.2, 1.2) for z in (-1.1, 1.1)]
    body = trimesh.convex.convex_hull(np.array(bottom + top, np.float64)).subdivide().subdivide()
    eyes = [trimesh.creation.icosphere(2, radius=0.42) for _ in range(2)]
    eyes[0].apply_translation([0.65, 0.0, 1.15])
    eyes[1].apply_translation([-0.65, 0.0, 1.15])
    m = trimesh.util.concatenate([body] + eyes)
    return np.asarray(m.vertices), np.asarray(m.faces)


def test_a_mouthless_box_head_is_ranked_upright_in_every_turn():
    """No mouth, nose or neck: the eyes at the front surface, the flat base and the narrower top
    still rank the truth first in all 24 turns."""
    v, f = _mouthless_box_head()
    for up, fwd in ORIENTATIONS:
        assert rank_orientations(v @ orientation_matrix(up, fwd), f)[0][:2] == (up, fwd)


def test_width_profile_and_extreme_points():
    """A cone standing on its base is wide at the bottom; a ball with a snout low in front ends
    forward below its middle."""
    trimesh = __import__("pytest").importorskip("trimesh")
    from facerig.geometry.orient import extreme_points, surface_samples, width_profile

    cone = trimesh.creation.cone(radius=1.0, height=2.0, sections=64)  # base at z = 0, apex at +z
    pts = surface_samples(np.asarray(cone.vertices), np.asarray(cone.faces))[0]
    w = width_profile(pts, 0, 0.0)
    assert w[2] < -0.3 and w[0] == 0 and abs(w[1]) < 0.1
    head = trimesh.creation.icosphere(3, radius=5.0)
    snout = trimesh.creation.icosphere(3, radius=2.0)
    snout.apply_translation([0, -2.5, 5.0])
    m = trimesh.util.concatenate([head, snout])
    pts = surface_samples(np.asarray(m.vertices), np.asarray(m.faces))[0]
    tips = extreme_points(pts, pts.mean(0), 1.0)
    assert tips.shape == (6, 3) and tips[4, 1] < -1.5 and tips[4, 2] > 4.0  # +z end: the snout, low
    assert abs(tips[2, 2]) < 1.0  # +y end: the crown, centred front to back


def test_prior_terms_match_the_weights():
    from facerig.geometry.orient import prior_terms, prior_weights

    v, f = _ball_with_eyes()
    feats = orientation_features(v, f)
    t = prior_terms(feats, "+y", "+z")
    assert t.shape == prior_weights().shape and np.all(np.isfinite(t))
    no_eyes = {**feats, "eyes": np.zeros(3), "eyebox": np.zeros(3)}
    assert len(prior_terms(no_eyes, "+y", "+z")) == len(t)  # eyeless heads: those terms are 0, not missing

"""Sample generator: determinism, identity split, and the exact GT of every augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.data import generator as G
from facerig.data.families import HeadFamily, split_rng
from facerig.data.generator import SampleConfig, generate_sample

OFF = dict(p_exaggerate=0.0, p_remove_parts=0.0, p_reframe=0.0, p_warp=0.0, p_remesh=0.0, p_units=0.0)


def _base(fam, seed=0, **kw):
    return G.identity_sample(fam, split_rng(seed), SampleConfig(**dict(OFF, **kw)))


# ----------------------------------------------------------------------------- tiny family (no data)


def test_tiny_family_is_a_head_family(tiny_family):
    assert isinstance(tiny_family, HeadFamily)


def test_determinism_tiny(tiny_family):
    cfg = SampleConfig(p_remesh=0.0, p_warp=1.0, p_units=1.0)
    a, b = generate_sample(tiny_family, 7, cfg), generate_sample(tiny_family, 7, cfg)
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(a.deltas, b.deltas)
    assert a.info == b.info
    c = generate_sample(tiny_family, 8, cfg)
    assert not np.array_equal(a.vertices, c.vertices)


def test_warp_gt_is_warp_of_posed(tiny_family):
    s = _base(tiny_family)
    w = G.random_warp(np.random.default_rng(3), s.vertices, SampleConfig())
    out = G.apply_warp(s, w)
    k, i = 0, int(np.flatnonzero(np.abs(s.deltas[0]).sum(1) > 0)[0])
    posed = s.vertices[i] + s.deltas[k, i]
    np.testing.assert_allclose(out.vertices[i], w(s.vertices[i]), atol=1e-12)
    np.testing.assert_allclose(out.deltas[k, i], w(posed) - w(s.vertices[i]), atol=1e-5)
    # unmoved vertices stay exactly unmoved; the warp is smooth and not the identity
    still = (s.deltas[k] == 0).all(1)
    assert (out.deltas[k, still] == 0).all()
    assert np.abs(out.vertices - s.vertices).max() > 0.01
    assert w.lipschitz_bound() <= 0.5 * w.stretch.min() + 1e-9


def test_units_scale_gt(tiny_family):
    s = _base(tiny_family)
    out = G.change_units(s, np.random.default_rng(0), SampleConfig(), unit="m")
    assert out.mm_per_unit == 1000.0
    np.testing.assert_allclose(out.deltas, s.deltas / 100.0, rtol=1e-6)  # cm -> m
    # same shape up to translation: edge vectors scale by 1/100
    e = s.faces[:, :2]
    np.testing.assert_allclose(
        out.vertices[e[:, 1]] - out.vertices[e[:, 0]], (s.vertices[e[:, 1]] - s.vertices[e[:, 0]]) / 100.0, atol=1e-9
    )
    mm = G.change_units(s, np.random.default_rng(0), SampleConfig(), unit="arbitrary").mm_per_unit
    assert 0.01 <= mm <= 100


def test_remove_parts_keeps_gt_rows(tiny_family):
    s = _base(tiny_family)
    out = G.remove_parts(s, np.random.default_rng(0), SampleConfig(), groups=("eyeballs",))
    assert out.num_vertices == s.num_vertices - 12
    np.testing.assert_array_equal(out.vertices, s.vertices[out.source_vertex])
    np.testing.assert_array_equal(out.deltas, s.deltas[:, out.source_vertex])
    assert out.faces.max() < out.num_vertices and (out.regions == 0).all()


# ----------------------------------------------------------------------------- ICT


@pytest.mark.ict
def test_determinism_ict(ict_family):
    cfg = SampleConfig(p_remesh=0.0, p_warp=1.0, p_reframe=1.0, p_remove_parts=1.0, p_units=1.0)
    a, b = generate_sample(ict_family, 11, cfg), generate_sample(ict_family, 11, cfg)
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(a.deltas, b.deltas)
    np.testing.assert_array_equal(a.landmarks68, b.landmarks68)
    assert a.info == b.info


@pytest.mark.ict
def test_identity_split_streams_differ(ict_family):
    tr = G.identity_sample(ict_family, split_rng(0, "train"), SampleConfig(**OFF))
    ev = G.identity_sample(ict_family, split_rng(0, "eval"), SampleConfig(**OFF))
    assert np.abs(tr.vertices - ev.vertices).max() > 0.1
    assert tr.deltas.shape == (51, 26719, 3)


@pytest.mark.ict
def test_exaggeration_scales_identity(ict_family):
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    a = ict_family.sample_neutral(rng_a, 1.0) - ict_family.template
    b = ict_family.sample_neutral(rng_b, 3.0) - ict_family.template
    np.testing.assert_allclose(b, 3.0 * a, rtol=1e-4, atol=1e-4)


@pytest.mark.ict
@pytest.mark.parametrize("group", ["eyeballs", "teeth_tongue", "lashes", "eye_extras", "mouth_socket"])
def test_remove_parts_ict(ict_family, group):
    s = _base(ict_family)
    out = G.remove_parts(s, np.random.default_rng(0), SampleConfig(), groups=(group,))
    removed = [s.region_names.index(r) for r in G.PART_GROUPS[group]]
    assert not np.isin(out.regions, removed).any()
    np.testing.assert_array_equal(out.deltas, s.deltas[:, out.source_vertex])
    assert out.polygons is not None and sum(len(p) - 2 for p in out.polygons) == out.faces.shape[0]
    # landmarks (all on the face skin) survive, remapped
    np.testing.assert_array_equal(out.source_vertex[out.landmarks68], s.landmarks68)


@pytest.mark.ict
@pytest.mark.parametrize("framing", ["face", "no_neck", "back_removed"])
def test_reframe_ict(ict_family, framing):
    s = _base(ict_family)
    out = G.reframe(s, np.random.default_rng(1), SampleConfig(), framing=framing)
    assert 3000 < out.num_vertices < s.num_vertices
    np.testing.assert_array_equal(out.deltas, s.deltas[:, out.source_vertex])
    ok = out.landmarks68 >= 0
    np.testing.assert_array_equal(out.source_vertex[out.landmarks68[ok]], s.landmarks68[ok])
    assert ok[27:68].all()  # nose, eyes and mouth always stay
    skin = np.isin(out.regions, [0, 1])
    v = out.vertices[skin]
    if framing == "no_neck":
        assert v[:, 1].min() > s.vertices[:, 1].min() + 3.0
    if framing in ("face", "back_removed"):
        assert v[:, 2].min() > s.vertices[:, 2].min() + 3.0
    # the skin stays one piece
    from facerig.data.ict import connected_components

    lab = connected_components(out.num_vertices, out.faces)
    assert np.unique(lab[skin]).size == 1


@pytest.mark.ict
def test_full_pipeline_gt_consistent(ict_family):
    cfg = SampleConfig(p_remesh=0.0, p_warp=1.0, p_reframe=1.0, p_remove_parts=1.0, p_units=1.0, split="eval")
    s = generate_sample(ict_family, 3, cfg)
    assert s.deltas.shape == (51, s.num_vertices, 3) and s.deltas.dtype == np.float32
    assert s.parts.shape == (s.num_vertices,) and s.faces.max() < s.num_vertices
    jaw = np.linalg.norm(s.deltas[s.names.index("jawOpen")], axis=1).max() * s.mm_per_unit
    assert 20 < jaw < 80  # mm, after warp and unit change
    assert set(s.info["steps"]) == set(G.STEPS)


@pytest.mark.ict
@pytest.mark.slow
def test_remesh_ict(ict_family):
    pytest.importorskip("facerig.geometry.remesh")
    s = _base(ict_family)
    out = G.remesh_sample(s, np.random.default_rng(0), SampleConfig(), target_vertices=3000)
    assert 2000 < out.num_vertices < 5000
    assert (out.landmarks68 >= 0).all()
    # landmarks land near their old positions (cm)
    assert np.linalg.norm(out.vertices[out.landmarks68] - s.vertices[s.landmarks68], axis=1).max() < 1.5
    # GT by barycentric interpolation: jawOpen's largest displacement survives, and the posed
    # remeshed vertices lie on the posed source surface (as the neutral ones on the neutral)
    from facerig.geometry.correspondence import closest_points

    k = s.names.index("jawOpen")
    assert abs(np.linalg.norm(out.deltas[k], axis=1).max() - np.linalg.norm(s.deltas[k], axis=1).max()) < 0.5
    for new, src in ((out.vertices, s.vertices), (out.vertices + out.deltas[k], s.vertices + s.deltas[k])):
        _, _, dist = closest_points(new, src, s.faces)
        assert dist.max() < 1e-4  # cm


def _with_face_landmarks(s):
    """Landmarks on the tiny skin's front: eyes (36-47) at x = -/+3, nose 30, mouth 51/57."""
    v = s.vertices
    front = np.flatnonzero((s.parts == 0) & (v[:, 2] > 0))

    def near(p):
        return int(front[np.argmin(((v[front] - p) ** 2).sum(1))])

    lm = np.full(68, -1, np.int64)
    for base, x in ((36, -3.0), (42, 3.0)):
        for j, (dx, dy) in enumerate([(-1.2, 0), (-0.5, 0.5), (0.5, 0.5), (1.2, 0), (0.5, -0.5), (-0.5, -0.5)]):
            p = np.array([x + dx, 3.0 + dy, 0.0])
            p[2] = 9.0 * np.sqrt(max(1 - (p[0] / 8) ** 2 - (p[1] / 11) ** 2, 0.0))
            lm[base + j] = near(p)
    lm[30], lm[51], lm[57] = near([0, 0, 9.0]), near([0, -4, 8.0]), near([0, -6, 7.0])
    s.landmarks68 = lm
    return s


def test_feature_warp_enlarges_eyes_pushes_a_snout_and_keeps_gt_exact(tiny_family):
    s = _with_face_landmarks(_base(tiny_family))
    cfg = SampleConfig(eye_scale=(1.8, 1.8), snout=(0.1, 0.1))
    w = G.feature_warp(np.random.default_rng(0), s, cfg)
    assert w is not None and w.negative_bound() <= 0.9 + 1e-9
    out = G.apply_warp(s, w)
    lm = s.landmarks68
    width = np.linalg.norm(s.vertices[lm[39]] - s.vertices[lm[36]])
    assert np.linalg.norm(out.vertices[lm[39]] - out.vertices[lm[36]]) > 1.2 * width  # larger eyes
    assert out.vertices[lm[30], 2] - s.vertices[lm[30], 2] > 0.3 * 0.1 * np.linalg.norm(np.ptp(s.vertices, 0))
    k, i = 0, int(np.flatnonzero(np.abs(s.deltas[0]).sum(1) > 0)[0])
    np.testing.assert_allclose(out.deltas[k, i], w(s.vertices[i] + s.deltas[k, i]) - w(s.vertices[i]), atol=1e-5)
    # without eye landmarks there is no feature warp; p_feature_warp=0 draws nothing (samples unchanged)
    assert G.feature_warp(np.random.default_rng(0), _base(tiny_family), cfg) is None
    plain = SampleConfig(**dict(OFF, p_warp=1.0))
    a = G.stylise(s, np.random.default_rng(1), plain)
    b = G.stylise(s, np.random.default_rng(1), SampleConfig(**dict(OFF, p_warp=1.0, p_feature_warp=1.0)))
    assert "feature_warp" not in a.info["steps"]["stylise"] and "feature_warp" in b.info["steps"]["stylise"]
    np.testing.assert_array_equal(a.vertices, G.stylise(s, np.random.default_rng(1), plain).vertices)

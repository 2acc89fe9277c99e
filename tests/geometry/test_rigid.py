"""Rigid parts: the best rigid motion of a part, per shape."""

from __future__ import annotations

import numpy as np
import trimesh

from facerig.geometry.rigid import kabsch, rigid_part_deltas


def test_kabsch_recovers_a_rotation_and_translation():
    rng = np.random.default_rng(0)
    p = rng.normal(size=(30, 3))
    r = trimesh.transformations.rotation_matrix(0.4, [1, 2, 3])[:3, :3]
    q = p @ r.T + [0.1, -0.2, 0.3]
    rr, t = kabsch(p, q)
    np.testing.assert_allclose(rr, r, atol=1e-10)
    np.testing.assert_allclose(t, [0.1, -0.2, 0.3], atol=1e-10)


def test_a_bent_part_becomes_rigid_and_the_rest_is_kept():
    s = trimesh.creation.icosphere(2)
    v = np.vstack([s.vertices, s.vertices + [5, 0, 0]])
    part = np.r_[np.ones(len(s.vertices), bool), np.zeros(len(s.vertices), bool)]
    r = trimesh.transformations.rotation_matrix(0.3, [1, 0, 0])[:3, :3]
    turn = np.zeros((3, len(v), 3), np.float32)
    turn[0, part] = s.vertices @ r.T - s.vertices  # a rigid turn: kept
    turn[1, part] = turn[0, part] + 0.05 * np.random.default_rng(1).normal(size=(part.sum(), 3))  # bent
    turn[1, ~part] = 0.3  # the other part: untouched
    out = rigid_part_deltas(v, turn, part)
    np.testing.assert_allclose(out[0], turn[0], atol=1e-6)
    np.testing.assert_allclose(out[1, part], turn[0, part], atol=0.03)
    np.testing.assert_array_equal(out[1, ~part], turn[1, ~part])
    assert not np.any(out[2])
    pp = v[part] + out[1, part]  # distances within the part are kept
    np.testing.assert_allclose(
        np.linalg.norm(pp - pp[0], axis=1), np.linalg.norm(v[part] - v[part][0], axis=1), atol=1e-5
    )


def test_teeth_are_small_mouth_parts_glued_to_nothing():
    from facerig.geometry.face_parts import find_layout
    from facerig.geometry.rigid import teeth_parts
    from fixtures.face_plate import synthetic_head

    v, f, ix = synthetic_head()
    lay = find_layout(v, f)
    teeth = teeth_parts(lay, v)
    assert len(teeth) == 1 and set(np.flatnonzero(lay.labels == teeth[0])) == set(ix["teeth"].tolist())
    glued = v.copy()
    glued[ix["teeth"][0]] = v[ix["lower"][0]]  # a corner at a lip vertex: a patch of the skin, not a body
    assert teeth_parts(lay, glued) == []
    few = np.r_[ix["teeth"], np.arange(100)]
    lay.labels = lay.labels[few]  # a head of 108 vertices: 8 are too many for teeth
    assert teeth_parts(lay, v[few]) == []


def test_rigid_part_in_place_equals_the_copy():
    rng = np.random.default_rng(5)
    v = rng.normal(size=(60, 3))
    d = rng.normal(size=(3, 60, 3)).astype(np.float32)
    part = np.zeros(60, bool)
    part[10:30] = True
    ref = rigid_part_deltas(v, d, part)
    own = d.copy()
    out = rigid_part_deltas(v, own, part, copy=False)
    assert out is own and not np.array_equal(ref, d)
    np.testing.assert_array_equal(out, ref)

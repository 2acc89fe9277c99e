"""Automatic landmark placement (eye detection, sphere fit, accuracy on a held-out ICT head)."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from facerig.data import landmarks as L
from facerig.errors import DataError


def test_fit_sphere():
    p = trimesh.creation.icosphere(subdivisions=2, radius=2.5).vertices + [1.0, -2.0, 3.0]
    c, r = L.fit_sphere(p)
    np.testing.assert_allclose(c, [1, -2, 3], atol=1e-9)
    assert r == pytest.approx(2.5)


def _scene(with_eyes: bool = True):
    """A 'head' ellipsoid, a curved strip (lash-like, sphere-fitting but not a full sphere) pair and
    optionally two eyeballs at x = +-3."""
    parts = [trimesh.creation.icosphere(subdivisions=3, radius=1.0).apply_scale([8, 11, 9])]
    strip = trimesh.creation.icosphere(subdivisions=3, radius=4.0)
    strip = strip.submesh([np.flatnonzero(strip.triangles_center[:, 2] > 3.6)], append=True)
    parts += [strip.copy().apply_translation([3, 2, 4]), strip.copy().apply_translation([-3, 2, 4])]
    if with_eyes:
        for x in (3.0, -3.0):
            parts.append(trimesh.creation.icosphere(subdivisions=2, radius=1.2).apply_translation([x, 3, 7]))
    m = trimesh.util.concatenate(parts)
    return np.asarray(m.vertices), np.asarray(m.faces, dtype=np.int64)


def test_find_eyes():
    v, f = _scene()
    left, right = L.find_eyes(v, f)
    np.testing.assert_allclose(left, [3, 3, 7], atol=1e-6)
    np.testing.assert_allclose(right, [-3, 3, 7], atol=1e-6)
    with pytest.raises(DataError):
        L.find_eyes(*_scene(with_eyes=False))


@pytest.mark.ict
@pytest.mark.slow
def test_auto_landmarks_on_ict_head(ict_family):
    """On an unseen ICT identity in metres and moved, landmarks land within a few mm."""
    from facerig.data.families import split_rng

    v = ict_family.sample_neutral(split_rng(5, "eval"))
    vm = v / 100.0 + [0.3, -1.0, 2.0]  # cm -> m, translated
    lm, info = L.auto_landmarks(vm, ict_family.faces)
    err_mm = np.linalg.norm(v[lm] - v[ict_family.landmarks68], axis=1) * 10.0
    assert err_mm.mean() < 4.0 and np.median(err_mm) < 3.0
    assert info["scale"] == pytest.approx(0.01, rel=0.1)

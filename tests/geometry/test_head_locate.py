"""``facerig.geometry.head_locate``: the head on a body or bust, and nothing on a head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facerig.data.bodies import on_body
from facerig.geometry.head_locate import crop_vertices, locate_head, turn_points, width_profile

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ict_head" / "head.obj"


@pytest.fixture(scope="module")
def example_head():
    from facerig.io import read_mesh

    m = read_mesh(EXAMPLE)
    return np.asarray(m.vertices, np.float64), np.asarray(m.faces, np.int64)


def test_width_profile_of_a_box_measures_its_extents():
    rng = np.random.default_rng(0)
    p = rng.uniform([-2.0, 0.0, -0.5], [2.0, 10.0, 0.5], size=(20000, 3))
    depth, wx, wz, cx = width_profile(p, slices=10)
    assert depth[0] < depth[-1] and np.isclose(depth[-1] - depth[0], 9.0, atol=0.01)
    np.testing.assert_allclose(wx, 4.0, atol=0.05)
    np.testing.assert_allclose(wz, 1.0, atol=0.05)
    np.testing.assert_allclose(cx, 0.0, atol=0.05)


def test_a_head_is_not_a_body(example_head, head_arrays):
    assert locate_head(*example_head) is None
    assert locate_head(*head_arrays) is None


@pytest.mark.parametrize("kind", ["body", "bust"])
def test_the_head_on_a_body_is_found_above_the_neck(example_head, kind):
    v, f = example_head
    bv, bf = on_body(v, f, kind)
    region = locate_head(bv, bf)
    assert region is not None
    lo, hi = v[:, 1].min(), v[:, 1].max()
    assert np.isclose(region.top, hi, atol=0.01 * (hi - lo))
    # the neck lies between the head's middle and its lowest point, the crop's end below the neck
    assert lo < region.neck < 0.5 * (lo + hi)
    assert region.cut < region.neck
    assert region.fraction < 0.5
    inside = crop_vertices(bv, bf, region)
    n = len(v)
    assert inside[:n][v[:, 1] > region.neck].all()  # the whole head above the neck
    assert not inside[n:].any()  # nothing of the separate body below it
    assert not inside[bv[:, 1] < region.cut].any()


def test_a_body_in_blender_axes_is_found_with_its_up_and_forward(example_head):
    bv, bf = on_body(*example_head, "body")
    region = locate_head(bv, bf)
    # Blender: z up, -y forward. canonical (x, y, z) -> blender (x, -z, y)
    blender = np.stack([bv[:, 0], -bv[:, 2], bv[:, 1]], 1)
    turned = locate_head(blender, bf, "+z", "-y")
    assert turned is not None
    assert np.isclose(turned.neck, region.neck, atol=0.02 * region.head_height)
    np.testing.assert_array_equal(crop_vertices(blender, bf, turned, "+z", "-y"), crop_vertices(bv, bf, region))


def test_width_profile_is_each_slices_extent():
    """Every slice's extents are its own points' (slices of fewer than 3 points: NaN), checked slice by slice."""
    rng = np.random.default_rng(1)
    p = rng.normal(size=(3000, 3)) * [1.0, 4.0, 0.5]  # a thin tail: sparse and empty slices
    slices = 60
    depth, wx, wz, cx = width_profile(p, slices=slices)
    top, H = p[:, 1].max(), np.ptp(p[:, 1])
    k = np.minimum(((top - p[:, 1]) / H * slices).astype(int), slices - 1)
    assert np.isnan(wx).any() and np.isfinite(wx).any()
    for i in range(slices):
        s = p[k == i]
        if len(s) < 3:
            assert np.isnan(wx[i]) and np.isnan(wz[i]) and np.isnan(cx[i])
            continue
        assert wx[i] == np.ptp(s[:, 0]) and wz[i] == np.ptp(s[:, 2])
        assert cx[i] == 0.5 * (s[:, 0].max() + s[:, 0].min())


def test_turn_points_is_the_orientation_matrix():
    from facerig.geometry.frame import orientation_matrix
    from facerig.geometry.orient import ORIENTATIONS

    p = np.random.default_rng(2).normal(size=(500, 3))
    for up, forward in ORIENTATIONS:
        np.testing.assert_array_equal(turn_points(p, up, forward), p @ orientation_matrix(up, forward).T)

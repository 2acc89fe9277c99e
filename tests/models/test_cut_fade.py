"""The fade to a neck cut, lengthened where it would fold the neck over."""

import numpy as np

from facerig.models.cut_fade import cosine_rise, fold_safe_fades, fold_safe_lengths, squeeze


def _column(n=400, reach=3.0):
    """Vertices on a line going up from a cut at 0: distances (N,), directions away (N, 3)."""
    dist = np.linspace(0.0, reach, n)
    away = np.tile([0.0, 1.0, 0.0], (n, 1))
    return dist, away


def test_squeeze_is_the_fades_largest_slope_times_the_motion_toward_the_cut():
    dist, away = _column()
    d = np.zeros((3, len(dist), 3))
    d[0, :, 1] = -0.3  # toward the cut
    d[1, :, 1] = +0.3  # away from it: stretches, never folds
    d[2, :, 0] = -0.3  # sideways: shears, never folds
    s = squeeze(d, dist, away, 0.5)
    np.testing.assert_allclose(s[0], 0.3 * np.pi / 2 / 0.5, rtol=1e-4)
    assert s[1] == 0 and s[2] == 0


def test_a_fade_too_steep_for_its_shape_is_lengthened_until_it_is_not():
    dist, away = _column()
    d = np.zeros((2, len(dist), 3))
    d[0, :, 1] = -0.3  # squeeze 0.94 at 0.5 face sizes
    d[1, :, 1] = -0.05  # squeeze 0.16: fine as it is
    L = fold_safe_lengths(d, dist, away, 0.5, limit=0.5, max_length=2.0)
    assert L[1] == 0.5
    assert L[0] > 0.5 and squeeze(d[:1], dist, away, L[0])[0] <= 0.5
    assert squeeze(d[:1], dist, away, L[0] / 1.25)[0] > 0.5  # the first length that is enough
    capped = fold_safe_lengths(d, dist, away, 0.5, limit=0.01, max_length=0.8)
    assert capped[0] == 0.8  # never past max_length


def test_cosine_rise_goes_from_0_at_the_cut_to_1_at_the_fades_length():
    r = cosine_rise(np.array([0.0, 0.25, 0.5, 2.0]), 0.5)
    np.testing.assert_allclose(r, [0.0, 0.5, 1.0, 1.0], atol=1e-12)


def test_a_fade_still_too_steep_at_its_longest_keeps_motion_at_the_cut():
    """Past max_length, the fade keeps the share of the motion at the cut that brings the squeeze
    down to the limit: 1 - (1 - keep)(1 - rise) squeezes (1 - keep) times less."""
    dist, away = _column()
    d = np.zeros((2, len(dist), 3))
    d[0, :, 1] = -0.6  # squeeze 1.26 at 0.75 face sizes
    d[1, :, 1] = -0.2  # squeeze 0.42 at 0.75: lengthened only
    L, keep = fold_safe_fades(d, dist, away, 0.5, limit=0.5, max_length=0.75)
    assert L[0] == 0.75 and L[1] == 0.75 and keep[1] == 0
    s = squeeze(d[:1], dist, away, 0.75)[0]
    np.testing.assert_allclose(keep[0], 1 - 0.5 / s)
    np.testing.assert_allclose(squeeze(d[:1] * (1 - keep[0]), dist, away, 0.75)[0], 0.5)

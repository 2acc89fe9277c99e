"""Mirror test-time augmentation: mirror images of RGB and normal maps, the Left / Right weight swap."""

from __future__ import annotations

import numpy as np

from facerig.arkit import ARKIT52
from facerig.models.image_inversion.mirror import (
    combine_head_logits,
    mirror_images,
    normals_foreground,
    unmirror_weights,
)


def _sphere_normals(S: int = 16, shift: int = 3) -> np.ndarray:
    """(1, S, S, 3) camera-space normal map of a sphere left of centre, on black: RGB = (n + 1) / 2."""
    y, x = np.mgrid[0:S, 0:S].astype(np.float64)
    u, v = (x - (S / 2 - shift)) / (S / 3), (y - S / 2) / (S / 3)
    r2 = u**2 + v**2
    n = np.stack([u, -v, np.sqrt(np.clip(1 - r2, 0, None))], -1)
    img = np.where((r2 < 1)[..., None], (n + 1) / 2, 0.0)
    return img[None].astype(np.float32)


def test_normals_foreground_is_the_head():
    n = _sphere_normals()
    fg = normals_foreground(n)
    assert fg.shape == (1, 16, 16) and fg.dtype == np.float32
    assert fg[0, 8, 5] == 1 and fg[0, 0, 0] == 0 and fg[0, 8, 15] == 0  # on the sphere / black background


def test_mirror_flips_columns_and_the_normal_x_on_the_head_only():
    rng = np.random.default_rng(0)
    rgb = rng.uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    n = np.repeat(_sphere_normals(), 2, 0)
    n[1][normals_foreground(n)[1] == 0] = (0.3, 0.6, 0.9)  # a flat non-unit background colour
    xm, nm = mirror_images(rgb, n)
    assert np.array_equal(xm, rgb[:, :, ::-1])
    # the mirror image of a sphere left of centre is the sphere right of centre (normals pointing outward)
    assert np.allclose(nm[0], _sphere_normals(shift=-2)[0], atol=1e-6)
    fg = normals_foreground(n)[:, :, ::-1]
    head = fg[1] == 1
    assert np.allclose(nm[1][head, 0], 1 - n[1][:, ::-1][head, 0]) and np.allclose(nm[1][~head], (0.3, 0.6, 0.9))
    assert np.allclose(nm[..., 1:], n[:, :, ::-1, 1:])
    # a sphere at column c: the mirror's pixel at S - 1 - c has the opposite x component (outward both sides)
    c = 3
    assert n[0, 8, c, 0] < 0.5 and nm[0, 8, 15 - c, 0] > 0.5
    # mirroring twice gives the input back; a given soft mask blends the flip at the edges
    x2, n2 = mirror_images(xm, nm)
    assert np.array_equal(x2, rgb) and np.allclose(n2, n)
    half = np.full((2, 16, 16), 0.5, np.float32)
    _, nh = mirror_images(None, n, half)
    assert np.allclose(nh[..., 0], 0.5)


def test_unmirror_weights_swaps_left_and_right():
    w = np.zeros((3, 52))
    for name, v in (("eyeBlinkLeft", 0.9), ("mouthSmileRight", 0.4), ("jawOpen", 0.7), ("eyeLookInLeft", 0.2)):
        w[:, ARKIT52.index(name)] = v
    u = unmirror_weights(w)
    got = {ARKIT52[i]: u[0, i] for i in np.flatnonzero(u[0])}
    assert got == {"eyeBlinkRight": 0.9, "mouthSmileLeft": 0.4, "jawOpen": 0.7, "eyeLookInRight": 0.2}
    assert np.array_equal(unmirror_weights(u), w) and u.shape == w.shape


def test_combine_head_logits_averages_the_readings():
    assert np.array_equal(combine_head_logits(np.array([3.0, -1.0, 2.0]), np.array([-2.0, 4.0, 1.0])), [0.5, 1.5, 1.5])

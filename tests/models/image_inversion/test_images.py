"""Input images: files, alpha, grayscale, 16 bit, sizes, refusals."""

from __future__ import annotations

import numpy as np
import pytest

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

from facerig.errors import FacerigError  # noqa: E402
from facerig.models.image_inversion.images import prepare_pair, read_image, square_resize  # noqa: E402


def test_read_modes(tmp_path):
    rgb = (np.random.default_rng(0).uniform(0, 255, (20, 30, 3))).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=95)
    Image.fromarray(np.dstack([rgb, np.full((20, 30), 128, np.uint8)])).save(tmp_path / "rgba.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "gray.png")
    Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(tmp_path / "g16.png")
    a = read_image(tmp_path / "a.png")
    assert a.shape == (20, 30, 3) and np.allclose(a * 255, rgb, atol=1e-3)
    assert read_image(tmp_path / "a.jpg").shape == (20, 30, 3)
    assert read_image(tmp_path / "rgba.png").shape == (20, 30, 4)
    g = read_image(tmp_path / "gray.png")
    assert g.shape == (20, 30, 1)
    assert np.allclose(read_image(tmp_path / "g16.png"), g, atol=1e-3)


def test_unreadable_and_empty_files(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    for name, msg in (("empty.png", "empty"), ("junk.png", "not a readable image"), ("none.png", "not found")):
        with pytest.raises(FacerigError, match=msg):
            read_image(tmp_path / name)


def test_prepare_alpha_grayscale_sizes():
    rng = np.random.default_rng(0)
    rgba = rng.uniform(0, 1, (40, 60, 4)).astype(np.float32)
    rgba[..., 3] = 0.0
    rgba[10:30, 20:40, 3] = 1.0
    p = prepare_pair(rgba, None, 16)
    assert p["rgb"].shape == (16, 16, 3) and np.isclose(p["foreground"], 400 / 2400)
    assert np.allclose(p["rgb"][0, 0], 0.5)  # transparent corner -> mid grey
    gray = prepare_pair(rng.uniform(0, 1, (16, 16, 1)), None, 16)
    assert np.allclose(gray["rgb"][..., 0], gray["rgb"][..., 1]) and gray["notes"]
    with pytest.raises(FacerigError, match="same size"):
        prepare_pair(rng.uniform(0, 1, (16, 16, 3)), rng.uniform(0, 1, (16, 18, 3)), 16)
    with pytest.raises(FacerigError, match="grayscale"):
        prepare_pair(None, rng.uniform(0, 1, (16, 16, 1)), 16)
    with pytest.raises(FacerigError):
        prepare_pair(np.zeros((0, 5, 3)), None, 16)


def test_normal_map_foreground_and_square_crop():
    n = np.zeros((30, 50, 3), np.float32)  # black background
    n[5:25, 15:35] = (0.5, 0.5, 1.0)  # a facing-the-camera patch
    p = prepare_pair(None, n, 30)
    assert np.isclose(p["foreground"], 400 / 1500)
    # centre square crop of 30x50 keeps columns 10..40: the patch sits in the middle
    assert np.allclose(p["normals"][15, 15], (0.5, 0.5, 1.0)) and p["normals"][0, 0].max() == 0
    assert square_resize(np.ones((8, 8, 3), np.float32), 16).shape == (16, 16, 3)

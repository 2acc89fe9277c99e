"""facerig.models.eye_falloff: a spread-out eye shape is confined to its eye, a local one is untouched."""

from __future__ import annotations

import numpy as np

from facerig.models.eye_falloff import EYE_FALLOFF, eye_falloff

EYES = np.array([[0.5, 0.0, 0.0], [-0.5, 0.0, 0.0]])  # character's left at +X
MOUTH = np.array([0.0, -1.0, 0.0])


def _bump(v: np.ndarray, c: np.ndarray, r: float) -> np.ndarray:
    """(V, 3) deltas along +Z, a smooth bump of radius r at c (3,)."""
    w = np.clip(1.0 - np.linalg.norm(v - c, axis=1) / r, 0.0, None) ** 2
    return np.stack([np.zeros_like(w), np.zeros_like(w), w], 1)


def _rig(spread: bool):
    rng = np.random.default_rng(0)
    v = rng.uniform(-4.0, 4.0, (20000, 3))
    names = ["eyeBlinkLeft", "eyeBlinkRight", "mouthFunnel", "mouthPucker", "jawOpen"]
    blink_l = _bump(v, EYES[0], 0.5)
    if spread:
        blink_l = blink_l + 0.2 * _bump(v, EYES[0], 20.0)  # the whole head moves a little too
    d = np.stack(
        [blink_l, _bump(v, EYES[1], 0.5), _bump(v, MOUTH, 0.5), _bump(v, MOUTH, 0.5), _bump(v, MOUTH, 8.0)]
    ).astype(np.float32)
    return v, d, names


def test_spread_eye_shape_is_confined_to_its_eye():
    v, d, names = _rig(spread=True)
    out, info = eye_falloff(v, d, names)
    size = info["face_size"]  # ~1: eye distance 1, eyes-to-mouth 1, as the rig's motion places them
    assert abs(size - 1.0) < 0.1
    r = np.linalg.norm(v - EYES[0], axis=1) / size  # the eye found lies within ~0.05 of EYES[0]
    m = np.linalg.norm(out[0], axis=1)
    assert set(info["shapes"]) == {"eyeBlinkLeft"} and info["shapes"]["eyeBlinkLeft"] > 0.5
    assert m[r > EYE_FALLOFF["outer"] + 0.2].max() == 0.0  # nothing far from the eye moves
    near = r < EYE_FALLOFF["inner"] - 0.2
    np.testing.assert_array_equal(out[0][near], d[0][near])  # the eye itself as it was
    np.testing.assert_array_equal(out[4], d[4])  # other shapes untouched
    assert not np.shares_memory(out, d) and np.abs(d[0][r > 3]).max() > 0.05  # input not modified


def test_local_eye_shapes_are_untouched():
    v, d, names = _rig(spread=False)
    out, info = eye_falloff(v, d, names)
    assert info == {} and out is d


def test_no_eye_shapes_is_a_no_op():
    v, d, names = _rig(spread=True)
    rest = d[2:]
    out, info = eye_falloff(v, rest, names[2:])
    assert info == {} and out is rest

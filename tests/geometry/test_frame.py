"""Canonical frame: +Y up, face toward +Z, right-handed; exact round trips."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from facerig.errors import FacerigError
from facerig.geometry.frame import Frame, axis_vector, fit_frame, orientation_matrix

AXES = ["+x", "-x", "+y", "-y", "+z", "-z"]
PAIRS = [(u, f) for u, f in itertools.product(AXES, AXES) if u[1] != f[1]]


def test_identity_for_default() -> None:
    np.testing.assert_array_equal(orientation_matrix(), np.eye(3))


@pytest.mark.parametrize("up, forward", PAIRS)
def test_all_24_orientations_are_rotations(up: str, forward: str) -> None:
    R = orientation_matrix(up, forward)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-15)
    assert np.isclose(np.linalg.det(R), 1.0)
    np.testing.assert_array_equal(R @ axis_vector(up), [0, 1, 0])
    np.testing.assert_array_equal(R @ axis_vector(forward), [0, 0, 1])


def test_blender_z_up_minus_y_forward() -> None:
    R = orientation_matrix("+z", "-y")
    # Blender: head top at +Z, nose toward -Y, the character's left ear at +X
    top, nose, left_ear = np.array([0, 0, 1.0]), np.array([0, -1.0, 0]), np.array([1.0, 0, 0])
    np.testing.assert_array_equal(R @ top, [0, 1, 0])
    np.testing.assert_array_equal(R @ nose, [0, 0, 1])
    np.testing.assert_array_equal(R @ left_ear, [1, 0, 0])  # stays +X: no mirroring


@pytest.mark.parametrize("up, forward", [("+y", "+y"), ("+z", "-z"), ("+w", "+y"), ("up", "+z")])
def test_bad_axes_rejected(up: str, forward: str) -> None:
    with pytest.raises(FacerigError):
        orientation_matrix(up, forward)


def test_axis_vector_forms() -> None:
    np.testing.assert_array_equal(axis_vector("Y"), [0, 1, 0])
    np.testing.assert_array_equal(axis_vector("-Z"), [0, 0, -1])


def test_fit_frame_round_trips_and_normalises() -> None:
    rng = np.random.default_rng(1)
    p = rng.normal(size=(50, 3)) * [3, 10, 2] + [100, -5, 7]
    fr = fit_frame(p, up="+z", forward="-y")
    q = fr.to_canonical(p)
    np.testing.assert_allclose(np.linalg.norm(q.max(0) - q.min(0)), 1.0)
    np.testing.assert_allclose((q.max(0) + q.min(0)) / 2, 0, atol=1e-12)
    np.testing.assert_allclose(fr.from_canonical(q), p, atol=1e-12)
    d = rng.normal(size=(4, 50, 3))
    np.testing.assert_allclose(fr.deltas_from_canonical(fr.deltas_to_canonical(d)), d, atol=1e-12)
    # deltas ignore the centre: moving a point by d moves its canonical image by the canonical d
    np.testing.assert_allclose(fr.to_canonical(p + d[0]) - q, fr.deltas_to_canonical(d[0]), atol=1e-12)


def test_frame_by_hand() -> None:
    fr = Frame(R=orientation_matrix("+z", "-y"), center=np.array([1.0, 2, 3]), scale=2.0)
    np.testing.assert_allclose(fr.to_canonical(np.array([1.0, 2, 5])), [0, 1, 0])
    np.testing.assert_allclose(fr.to_canonical(np.array([1.0, 0, 3])), [0, 0, 1])


def test_zero_size_mesh_rejected() -> None:
    with pytest.raises(FacerigError, match="zero size"):
        fit_frame(np.ones((4, 3)))

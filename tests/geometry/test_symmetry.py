"""A head turned or rolled 8-30 degrees is found level by its mirror plane; an upright one is left
alone (robustness sweep: a head turned 20 degrees lost its blink)."""

import numpy as np
import pytest
import trimesh

from facerig.geometry.symmetry import level_rotation, mirror_plane


def _head_points():
    """A mirror-symmetric (about x = 0) head-like point set: skull, nose, eyes, chin."""
    skull = trimesh.creation.icosphere(3).vertices * [1.0, 1.3, 1.1]
    nose = trimesh.creation.icosphere(1).vertices * 0.2 + [0, 0.0, 1.1]
    eyes = [trimesh.creation.icosphere(1).vertices * 0.15 + [s * 0.4, 0.35, 0.95] for s in (-1, 1)]
    chin = trimesh.creation.icosphere(1).vertices * [0.35, 0.2, 0.3] + [0, -1.15, 0.6]
    return np.concatenate([skull, nose, *eyes, chin])


def _rot(axis: str, deg: float) -> np.ndarray:
    """(3, 3) rotation by ``deg`` degrees about a coordinate axis ("x", "y" or "z")."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler(axis, deg, degrees=True).as_matrix()


def test_upright_head_is_left_alone():
    v = _head_points()
    R, tilt = level_rotation(v)
    assert R is None and tilt < 1.0


@pytest.mark.parametrize("axis,deg", [("y", 20.0), ("z", 12.0), ("y", -25.0)])
def test_turned_or_rolled_head_is_levelled(axis, deg):
    v = _head_points() @ _rot(axis, deg).T + [5.0, -2.0, 7.0]
    R, tilt = level_rotation(v)
    assert R is not None and tilt == pytest.approx(abs(deg), abs=1.0)
    n, res, res_x = mirror_plane(v @ R.T)
    assert n[0] > np.cos(np.radians(1.0)) and res < 0.5 * res_x + 1e-9


def test_small_lean_and_nod_are_left_alone():
    v = _head_points()
    assert level_rotation(v @ _rot("y", 4.0).T)[0] is None  # under MIN_TILT_DEG
    assert level_rotation(v @ _rot("x", 15.0).T)[0] is None  # a nod keeps the mirror plane


def _public_head(name):
    from facerig.config import data_root
    from facerig.io import read_mesh

    path = data_root() / "heads" / f"{name}.obj"
    if not path.exists():
        pytest.skip(f"needs DATA/heads/{name}.obj (FACERIG_DATA)")
    return read_mesh(path).vertices


@pytest.mark.parametrize("deg", [20.0, -20.0])
def test_turn_where_upright_is_a_local_minimum_is_levelled(deg):
    # weboji_boy turned 20 degrees: x = const mirrors it better than every plane 5 degrees away
    # (the median residual is bumpy), so the head passed as upright and lost its blink
    v = _public_head("weboji_boy")
    assert level_rotation(v)[0] is None
    c = 0.5 * (v.min(0) + v.max(0))
    R, tilt = level_rotation((v - c) @ _rot("y", deg).T + c)
    assert R is not None and tilt == pytest.approx(20.0, abs=1.0)

"""The shape prior of the 24 orientations: exact under turns, symmetric axis first."""

import numpy as np

from facerig.geometry.frame import orientation_matrix
from facerig.geometry.orient import ORIENTATIONS, orientation_features, rank_orientations, symmetry_residuals


def _face_like(tiny_head):
    """The tiny head (+Y up, eye toward +Z) with a second eye mirrored across x = 0: symmetric
    left-right, not up-down or front-back."""
    v, f = tiny_head(10, 12)
    eye = v[-6:] * np.array([-1.0, 1, 1])
    eye_f = f[-8:][:, ::-1] - (len(v) - 6) + len(v)
    return np.concatenate([v, eye]), np.concatenate([f, eye_f])


def test_orientations_are_the_24_rotations():
    mats = {tuple(np.round(orientation_matrix(u, f), 6).ravel()) for u, f in ORIENTATIONS}
    assert len(ORIENTATIONS) == 24 and len(mats) == 24


def _example():
    from pathlib import Path

    from facerig.io import read_mesh

    m = read_mesh(Path(__file__).resolve().parents[2] / "examples" / "ict_head" / "head.obj")
    return np.asarray(m.vertices), np.asarray(m.faces)


def test_mirror_axis_has_the_smallest_residual():
    from facerig.geometry.orient import surface_samples

    v, f = _example()
    for perm in ([0, 1, 2], [2, 0, 1]):  # the head as it is, and with its axes permuted
        res = symmetry_residuals(surface_samples(v[:, perm], f)[0])
        assert int(np.argmin(res)) == perm.index(0) and res.min() < 0.5 * np.delete(res, perm.index(0)).min()


def test_ranking_turns_with_the_mesh(tiny_head):
    """The rank of the truth is the same in every one of the 24 turns (features are exact under
    axis permutations and sign flips), and the truth's left-right axis is the symmetric one."""
    v, f = _face_like(tiny_head)
    ranks = []
    for up, fwd in ORIENTATIONS:
        turned = v @ orientation_matrix(up, fwd)
        r = rank_orientations(turned, f)
        ranks.append(next(i for i, x in enumerate(r) if x[:2] == (up, fwd)))
        assert len(r) == 24
    assert len(set(ranks)) == 1 and ranks[0] < 8
    feats = orientation_features(v, f)
    assert feats["parts"][2] > 0  # the eyes sit in front


def test_ranks_the_example_head_first_in_blenders_axes():
    v, f = _example()
    assert rank_orientations(v @ orientation_matrix("+z", "-y"), f)[0][:2] == ("+z", "-y")
    assert rank_orientations(v, f)[0][:2] == ("+y", "+z")

"""The co-activation prior: the take split, the fit, and what it does to a solve."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from facerig.arkit import ARKIT52
from facerig.errors import FacerigError
from facerig.invert.prior import (
    WeightPrior,
    fit_prior,
    load_prior,
    prior_terms,
    resolve_prior,
    save_prior,
    split_take,
    take_prior,
)
from facerig.invert.solver import prepare, solve
from facerig.io.rig import Rig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from invert_helpers import pose, sparse_weights, synthetic_rig


def test_split_take_holds_out_the_contiguous_end():
    W = np.arange(100)[:, None] * np.ones((1, 52))
    fitted, held = split_take(W)
    assert len(fitted) == 80 and len(held) == 20
    assert fitted[-1, 0] == 79 and held[0, 0] == 80  # the last fifth, in time order, no overlap
    with pytest.raises(FacerigError):
        split_take(W, 1.0)


def test_fit_prior_and_file_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    W = rng.random((200, 52))
    p = fit_prior(W, source="random")
    np.testing.assert_allclose(p.mean, W.mean(0))
    np.testing.assert_allclose(p.cov, np.cov(W.T))
    save_prior(tmp_path / "p.npz", p)
    q = resolve_prior(str(tmp_path / "p.npz"))
    np.testing.assert_array_equal(q.mean, p.mean)
    assert q.frames == 200 and q.source == "random"
    with pytest.raises(FacerigError):
        fit_prior(W[:, :10])
    with pytest.raises(FacerigError, match="unknown prior"):
        resolve_prior("gaussian")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(FacerigError, match="not a weight prior"):
        load_prior(tmp_path / "bad.npz")


def test_prior_terms_follow_the_rig_order_and_skip_unnamed_shapes():
    rng = np.random.default_rng(1)
    p = fit_prior(rng.random((300, 52)))
    names = ["jawOpen", "my_custom_shape", "eyeBlinkLeft"]
    P, q = prior_terms(p, names)
    j, b = ARKIT52.index("jawOpen"), ARKIT52.index("eyeBlinkLeft")
    marginal = np.linalg.inv(p.cov[np.ix_([j, b], [j, b])] + 1e-3 * np.eye(2))
    np.testing.assert_allclose(P[np.ix_([0, 2], [0, 2])], marginal)
    assert not P[1].any() and not P[:, 1].any() and q[1] == 0.0
    np.testing.assert_allclose(q[[0, 2]], marginal @ p.mean[[j, b]])


def _ambiguous_scene():
    """A rig whose shapes 0 and 1 move the same vertices (any split of their sum fits equally),
    a prior in which shape 0 moves with shape 2 and shape 1 never moves, and frames of a rig
    style the rig cannot rebuild exactly (an extra bump no shape has)."""
    rng = np.random.default_rng(4)
    V = 60
    d0 = rng.normal(size=(V, 3))
    d2 = rng.normal(size=(V, 3))
    bump = np.zeros((V, 3))
    bump[:5] = rng.normal(size=(5, 3))
    rig = Rig(names=list(ARKIT52[:3]), deltas=np.stack([d0, d0, d2]), neutral=rng.normal(size=(V, 3)))
    a = rng.random(400)
    train = np.zeros((400, 52))
    train[:, 0] = a
    train[:, 2] = np.clip(a + 0.05 * rng.normal(size=400), 0, 1)
    w = np.array([0.2, 0.5, 0.8])
    frames = rig.neutral[None] + w[:, None, None] * (d0 + d2 + 0.5 * bump)[None]
    return rig, fit_prior(train), frames, w


def test_prior_pulls_an_ambiguous_solve_towards_the_coactivation():
    rig, prior, frames, w = _ambiguous_scene()
    prep = prepare(rig)
    plain = solve(prep, frames)
    with_prior = solve(prep, frames, prior=prior, prior_strength=0.1)
    # without the prior the ambiguous pair shares the motion; with it shape 0 takes it all
    np.testing.assert_allclose(plain[:, 0], plain[:, 1], atol=1e-3)
    assert np.abs(with_prior[:, 1]).max() < 0.05
    np.testing.assert_allclose(with_prior[:, 0], w, atol=0.05)
    np.testing.assert_allclose(with_prior[:, 2], w, atol=0.05)
    assert np.abs(plain[:, 0] - w).max() > 0.1  # the plain solve got the ambiguous pair wrong
    assert np.abs(solve(prep, frames, prior=prior, prior_strength=0.0) - plain).max() < 1e-9


def test_frames_the_rig_rebuilds_keep_their_weights():
    rig = synthetic_rig(V=200, K=20)
    W = sparse_weights(30, 20, seed=2)
    prior = fit_prior(np.random.default_rng(5).random((100, 52)) * 0.3)
    prep = prepare(rig)
    W_hat = solve(prep, pose(rig, W), prior=prior, prior_strength=1.0)
    np.testing.assert_allclose(W_hat, W, atol=1e-5)  # the round trip stays exact


def test_prior_strength_is_free_of_units_and_vertex_count():
    rig, prior, frames, _ = _ambiguous_scene()
    W1 = solve(prepare(rig), frames, prior=prior, prior_strength=0.1)
    # the same head in millimetres instead of centimetres
    big = Rig(names=rig.names, deltas=rig.deltas * 10.0, neutral=rig.neutral * 10.0)
    W2 = solve(prepare(big), frames * 10.0, prior=prior, prior_strength=0.1)
    # every vertex twice (a denser mesh of the same surface)
    dense = Rig(names=rig.names, deltas=np.concatenate([rig.deltas] * 2, 1), neutral=np.concatenate([rig.neutral] * 2))
    W3 = solve(prepare(dense), np.concatenate([frames] * 2, 1), prior=prior, prior_strength=0.1)
    np.testing.assert_allclose(W2, W1, atol=1e-6)
    np.testing.assert_allclose(W3, W1, atol=1e-6)


def test_projected_solve_needs_the_energy():
    rig, prior, frames, _ = _ambiguous_scene()
    from facerig.invert.solver import motion_energy, projections

    prep = prepare(rig)
    with pytest.raises(FacerigError, match="energy"):
        solve(prep, projected=projections(prep, frames), prior=prior)
    a = solve(prep, projected=projections(prep, frames), energy=motion_energy(prep, frames), prior=prior)
    np.testing.assert_allclose(a, solve(prep, frames, prior=prior), atol=1e-12)


def test_prior_with_smoothing_stays_in_the_box():
    rig, prior, frames, w = _ambiguous_scene()
    W = solve(prepare(rig), frames, prior=prior, prior_strength=0.1, smooth=0.01)
    assert W.min() >= 0.0 and W.max() <= 1.0 and np.abs(W[:, 1]).max() < 0.1


def test_shipped_prior_is_the_takes_first_four_fifths():
    p = take_prior()
    assert isinstance(p, WeightPrior) and p.mean.shape == (52,) and p.frames > 100
    assert "80%" in p.source
    from facerig.config import data_root

    take = data_root() / "takes" / "livelink_rom_a.csv"
    if not take.exists():
        pytest.skip("the real take is not installed")
    from facerig.invert.prior import fit_take_prior

    fresh = fit_take_prior(take)
    np.testing.assert_allclose(p.mean, fresh.mean)
    np.testing.assert_allclose(p.cov, fresh.cov)
    assert p.frames == fresh.frames


def test_motion_energy_of_a_low_rank_animation_equals_the_dense_frames():
    from facerig.invert.frames import Frames
    from facerig.invert.solver import motion_energy

    rig = synthetic_rig(V=80, K=12)
    src = synthetic_rig(V=80, K=6, seed=3)  # another rig's animation of a slightly different base
    W = sparse_weights(9, 6, seed=4)
    base = rig.neutral + 0.01
    D = src.deltas.reshape(6, -1).astype(np.float64)
    dense = (base.reshape(1, -1) + W @ D).reshape(9, -1, 3)
    low = Frames(None, [str(t) for t in range(9)], lowrank=(base, W, D))
    prep = prepare(rig)
    np.testing.assert_allclose(motion_energy(prep, low), motion_energy(prep, dense), rtol=1e-10)
    np.testing.assert_allclose(motion_energy(prep, dense), ((dense - rig.neutral) ** 2).sum((1, 2)), rtol=1e-12)

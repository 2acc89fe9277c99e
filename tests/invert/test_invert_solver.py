"""The bounded least-squares solver: exact recovery, bounds, and what each term does."""

from __future__ import annotations

import numpy as np
import pytest
from invert_helpers import pose, sparse_weights, synthetic_rig
from scipy.optimize import lsq_linear, minimize

from facerig.arkit import ARKIT52
from facerig.errors import FacerigError
from facerig.invert.solver import arkit_to_rig_weights, prepare, residuals, rig_weights_to_arkit, solve, solve_weights
from facerig.io.rig import Rig


@pytest.fixture
def rig52() -> Rig:
    return synthetic_rig()


def test_known_weights_recovered_exactly(rig52):
    W = sparse_weights(200, 52)
    W52 = solve_weights(rig52, pose(rig52, W))
    assert W52.shape == (200, 52)
    np.testing.assert_allclose(W52, W, atol=1e-7)


def test_single_frame_and_own_neutral(rig52):
    W = sparse_weights(1, 52, seed=5)
    other = rig52.neutral + 3.0  # frames measured from a neutral that is not the rig's
    Y = other + np.einsum("k,kvc->vc", W[0], rig52.deltas.astype(np.float64))
    np.testing.assert_allclose(solve_weights(rig52, Y, neutral=other)[0], W[0], atol=1e-7)


def test_bounds_match_reference_bounded_least_squares(rig52):
    rng = np.random.default_rng(2)
    W = rng.uniform(-0.6, 1.6, size=(6, 52))  # out-of-range truths: the answer sits on the bounds
    Y = pose(rig52, W) + rng.normal(scale=0.05, size=(6, rig52.num_vertices, 3))
    got = solve_weights(rig52, Y)
    assert got.min() >= 0.0 and got.max() <= 1.0
    assert ((got == 0) | (got == 1)).sum() > 52  # many weights are at a bound
    A = rig52.deltas.astype(np.float64).reshape(52, -1).T
    for t in range(6):
        ref = lsq_linear(A, (Y[t] - rig52.neutral).ravel(), bounds=(0, 1), tol=1e-12, method="bvls").x
        np.testing.assert_allclose(got[t], ref, atol=1e-6)


def test_l1_makes_weights_sparser(rig52):
    rng = np.random.default_rng(3)
    Y = pose(rig52, sparse_weights(50, 52)) + rng.normal(scale=0.3, size=(50, rig52.num_vertices, 3))
    prep = prepare(rig52)
    nnz = [int((solve(prep, Y, l1=l1) > 1e-9).sum()) for l1 in (0.0, 0.01, 0.1)]
    assert nnz[0] > nnz[1] > nnz[2]


def _full_objective(prep, Y, W, smooth, symmetry=0.0):
    C = (Y.reshape(len(Y), -1) - prep.neutral) @ prep.basis.T / prep.scale
    H = prep.gram / prep.scale
    f = 0.5 * np.einsum("tk,kj,tj->", W, H, W) - (C * W).sum() + 0.5 * smooth * (np.diff(W, axis=0) ** 2).sum()
    i, j = prep.pairs.T
    return f + 0.5 * symmetry * ((W[:, i] - W[:, j]) ** 2).sum()


def test_smoothness_optimal_and_smoother():
    rig = synthetic_rig(V=60, K=6, seed=4)
    prep = prepare(rig)
    rng = np.random.default_rng(5)
    T = 40
    truth = np.clip(0.5 + 0.4 * np.sin(np.linspace(0, 3, T))[:, None] * np.ones((1, 6)), 0, 1)
    Y = pose(rig, truth) + rng.normal(scale=0.5, size=(T, 60, 3))
    rough = solve(prep, Y)
    smooth = solve(prep, Y, smooth=1.0)
    tv = lambda W: np.abs(np.diff(W, axis=0)).sum()
    assert tv(smooth) < 0.5 * tv(rough)
    assert np.abs(smooth - truth).mean() < 0.5 * np.abs(rough - truth).mean()  # noise averaged out
    # the ADMM answer is the constrained optimum: a generic bounded optimiser finds nothing lower
    ref = minimize(
        lambda w: _full_objective(prep, Y, w.reshape(T, 6), 1.0),
        rough.ravel(),
        method="L-BFGS-B",
        bounds=[(0, 1)] * (T * 6),
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000},
    )
    assert _full_objective(prep, Y, smooth, 1.0) <= ref.fun + 1e-6


def test_symmetry_pulls_pairs_together():
    names = ["eyeBlinkLeft", "eyeBlinkRight", "jawOpen", "mouthSmileLeft", "mouthSmileRight"]
    rng = np.random.default_rng(6)
    rig = Rig(names=names, deltas=rng.normal(size=(5, 80, 3)).astype(np.float32), neutral=np.zeros((80, 3)))
    prep = prepare(rig)
    assert sorted(map(tuple, prep.pairs.tolist())) == [(0, 1), (3, 4)]
    W = np.array([[0.9, 0.1, 0.5, 0.2, 0.8]])
    Y = pose(rig, W)
    free = solve(prep, Y)
    tied = solve(prep, Y, symmetry=100.0)
    np.testing.assert_allclose(free, W, atol=1e-7)
    assert abs(tied[0, 0] - tied[0, 1]) < 0.05 * abs(W[0, 0] - W[0, 1])
    assert abs(tied[0, 3] - tied[0, 4]) < 0.05 * abs(W[0, 3] - W[0, 4])
    ref = minimize(
        lambda w: _full_objective(prep, Y, w[None], 0.0, 100.0),
        free.ravel(),
        method="L-BFGS-B",
        bounds=[(0, 1)] * 5,
        options={"ftol": 1e-15, "gtol": 1e-12},
    )
    assert _full_objective(prep, Y, tied, 0.0, 100.0) <= ref.fun + 1e-9


def test_dead_and_duplicate_shapes():
    rng = np.random.default_rng(7)
    d = rng.normal(size=(3, 40, 3))
    d[1] = 0.0  # a shape the rig cannot make (e.g. tongueOut without a tongue)
    d = np.concatenate([d, d[:1]])  # and an exact duplicate of shape 0
    rig = Rig(
        names=["jawOpen", "tongueOut", "eyeBlinkLeft", "mouthClose"],
        deltas=d.astype(np.float32),
        neutral=np.zeros((40, 3)),
    )
    W = solve(prepare(rig), pose(rig, np.array([[0.6, 0.0, 0.3, 0.0]])))
    assert W[0, 1] == 0.0
    assert W[0, 0] + W[0, 3] == pytest.approx(0.6, abs=1e-6)  # the pair shares the motion
    assert W[0, 2] == pytest.approx(0.3, abs=1e-6)


def test_name_mapping_and_residuals(rig52):
    names = ["jawOpen", "not_a_shape", "eyeBlink_L"]
    W = np.array([[0.2, 0.5, 0.7]])
    W52 = rig_weights_to_arkit(names, W)
    assert W52[0, ARKIT52.index("jawOpen")] == 0.2 and W52[0, ARKIT52.index("eyeBlinkLeft")] == 0.7
    assert W52.sum() == pytest.approx(0.9)
    back = arkit_to_rig_weights(names, W52)
    np.testing.assert_allclose(back, [[0.2, 0.0, 0.7]])
    prep = prepare(rig52)
    Wt = sparse_weights(3, 52)
    Y = pose(rig52, Wt)
    Y[1] += 0.5  # a rigid shift the shapes cannot make
    res = residuals(prep, Y, solve(prep, Y))
    assert res["rms"][0] < 1e-6 and res["rms"][2] < 1e-6 and res["rms"][1] > 0.1
    assert res["max"][1] >= res["rms"][1] >= res["mean"][1]


def test_bad_input(rig52):
    Y = pose(rig52, sparse_weights(3, 52))
    with pytest.raises(FacerigError, match="vertices"):
        solve_weights(rig52, Y[:, :-1])
    Y[2, 5, 1] = np.nan
    with pytest.raises(FacerigError, match="frame 2"):
        solve_weights(rig52, Y)
    with pytest.raises(FacerigError, match="l1"):
        solve_weights(rig52, Y[:2], l1=-1)


def test_prior_solve_equals_a_per_frame_reference():
    """The batched prior path (loose prior-free solve -> lambda_t, warm-started Newton with per-frame
    Hessians, one BLAS thread) against scipy's bounded least squares frame by frame: the same answers for
    the loose solve's lambda_t, and within 1e-3 for lambda_t from the exact prior-free optimum."""
    from facerig.invert.prior import fit_prior
    from facerig.invert.solver import (
        _LAMBDA_TOL,
        _hessian,
        _newton,
        _prior_terms,
        motion_energy,
        prior_weights,
        projections,
    )

    rig = synthetic_rig(V=150, K=24, seed=3)
    rng = np.random.default_rng(4)
    W = sparse_weights(40, 24, seed=5)
    frames = pose(rig, W) + rng.normal(scale=0.3, size=(40, 150, 3))  # off the rig's span: lambda_t > 0
    frames[:5] += rng.normal(scale=3.0, size=(5, 150, 3))  # and some far off it (weights pushed to the box)
    prior = fit_prior(rng.random((200, 52)) * 0.4)
    prep = prepare(rig)
    fast = solve(prep, frames, prior=prior, prior_strength=0.05, prior_tolerance=np.inf)  # lambda_t unbounded

    H = _hessian(prep, 0.0, 1e-10)
    raw = projections(prep, frames)
    C = raw / prep.scale

    def bounded(Hf, c):  # Hf = R^T R: 1/2 w Hf w - c w = 1/2 |R w - R^-T c|^2 + const
        R = np.linalg.cholesky(Hf).T
        return lsq_linear(R, np.linalg.solve(R.T, c), bounds=(0.0, 1.0), method="bvls", tol=1e-14).x

    plain = np.array([bounded(H, c) for c in C])
    energy = motion_energy(prep, frames)
    lam = prior_weights(prep, raw, energy, plain, 0.05)
    assert lam.min() > 0 and lam.max() > 10 * lam.min()
    P, q = _prior_terms(prep, prior, None)
    ref = np.array([bounded(H + lt * P, c + lt * q) for lt, c in zip(lam, C)])
    assert ((ref == 0) | (ref == 1)).mean() > 0.1  # the box is active
    np.testing.assert_allclose(fast, ref, atol=1e-3)
    assert np.abs(fast - ref).mean() < 1e-4
    lam_loose = prior_weights(prep, raw, energy, _newton(H, C, _LAMBDA_TOL, 100), 0.05)
    np.testing.assert_allclose(lam_loose, lam, rtol=0.02)
    ref_loose = np.array([bounded(H + lt * P, c + lt * q) for lt, c in zip(lam_loose, C)])
    np.testing.assert_allclose(fast, ref_loose, atol=1e-7)


def test_prior_tolerance_bounds_every_frames_residual():
    """``prior_tolerance``: no frame's squared residual exceeds (1 + tau) x the prior-free one; frames
    within it keep the unbounded prior's weights, the others are the exact bounded MAP (scipy's bvls,
    frame by frame) at a smaller lambda that lands near the bound."""
    from facerig.invert.prior import fit_prior
    from facerig.invert.solver import _hessian, _prior_terms, _solve_weights, motion_energy, projections, rebuild

    rig = synthetic_rig(V=150, K=24, seed=3)
    rng = np.random.default_rng(4)
    frames = pose(rig, sparse_weights(40, 24, seed=5)) + rng.normal(scale=0.3, size=(40, 150, 3))
    prior = fit_prior(rng.random((200, 52)) * 0.4)
    prep = prepare(rig)
    tau = 0.1

    def r2(W):
        return ((rebuild(prep, W) - frames) ** 2).sum((1, 2))

    plain = solve(prep, frames)
    free = solve(prep, frames, prior=prior, prior_strength=0.01, prior_tolerance=np.inf)
    bound = solve(prep, frames, prior=prior, prior_strength=0.01, prior_tolerance=tau)
    r0, r_free, r_bound = r2(plain), r2(free), r2(bound)
    over = r_free > (1 + tau) * r0
    assert 0 < over.sum() < len(over)  # both kinds of frame
    assert (r_bound <= (1 + tau) * r0 * (1 + 1e-9)).all()
    # (the unbounded path takes lambda_t from a loose prior-free solve, the bounded one from the exact fit)
    np.testing.assert_allclose(bound[~over], free[~over], atol=1e-4)
    assert (r_bound[over] >= (1 + 0.75 * tau) * r0[over]).all()  # the search lands near the bound
    # the bounded frames are the MAP at their own (smaller) lambda
    H = _hessian(prep, 0.0, 1e-10)
    raw = projections(prep, frames)
    _, lam = _solve_weights(
        prep, raw, raw / prep.scale, H, 1e-8, None, 0.0, prior, 0.01, None, tau, motion_energy(prep, frames)
    )
    _, lam_free = _solve_weights(
        prep, raw, raw / prep.scale, H, 1e-8, None, 0.0, prior, 0.01, None, np.inf, motion_energy(prep, frames)
    )
    assert (lam[over] < lam_free[over]).all() and (lam[over] > 0).all()
    P, q = _prior_terms(prep, prior, None)

    def bounded(Hf, c):
        R = np.linalg.cholesky(Hf).T
        return lsq_linear(R, np.linalg.solve(R.T, c), bounds=(0.0, 1.0), method="bvls", tol=1e-14).x

    for t in np.flatnonzero(over):
        ref = bounded(H + lam[t] * P, raw[t] / prep.scale + lam[t] * q)
        np.testing.assert_allclose(bound[t], ref, atol=1e-6)
    # tolerance 0: the prior-free fit; a negative one is refused
    np.testing.assert_allclose(solve(prep, frames, prior=prior, prior_tolerance=0.0), plain, atol=1e-4)
    with pytest.raises(FacerigError, match="prior-tolerance"):
        solve(prep, frames, prior=prior, prior_tolerance=-1.0)

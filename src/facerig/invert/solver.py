"""Inverse rigging: per-frame blendshape weights that rebuild given meshes with a linear rig.

For a rig ``neutral + sum_k w_k D_k`` with ``B = deltas.reshape(K, 3V)`` and frames ``Y`` (T, V, 3),
the weights ``W`` (T, K) minimise, frame by frame and all frames at once::

    sum_t 1/2 |B^T w_t - (y_t - neutral)|^2 / s                     (data, s = mean |D_k|^2)
        + l1 * sum_tk w_tk                                           (sparsity; w >= 0, so L1 is linear)
        + smooth / 2 * sum_t |w_t - w_{t-1}|^2                        (temporal smoothness)
        + symmetry / 2 * sum_t sum_(L,R) (w_tL - w_tR)^2              (Left/Right pairs agree)
    subject to 0 <= w <= 1

the terms Audio2Face's blendshape solver exposes. The data term is divided by the mean squared norm
of the rig's shapes, so the three weights are dimensionless (``l1=0.01`` costs one full shape 1 % of a
typical shape's squared size). Everything after the one-off factorisation (:func:`prepare`: ``G =
B B^T`` (K, K), ``B neutral``) lives in the K-dimensional weight space: the per-frame cost is one
(3V,) x (3V, K) product. Without ``smooth`` each frame is a box-constrained QP solved by projected
Newton (Bertsekas 1982) with batched (n, K, K) solves, exact once the active set is right; with
``smooth`` the frames are coupled and the problem is solved by ADMM whose linear step is diagonal in
the eigenbasis of ``G`` times the DCT-II basis of the time axis (the eigenvectors of the path graph's
Laplacian), so it is exact and costs O(T K^2 + T K log T) per iteration.

With ``prior=`` (:mod:`facerig.invert.prior`) a Gaussian co-activation prior
``lambda_t / 2 (w - m)^T P (w - m)`` joins the frame's terms, ``lambda_t = prior_strength * |r_t|^2 / s``
from the residual ``r_t`` of the prior-free solve (frames the rig rebuilds exactly keep their
weights); each frame's Newton steps use its own Hessian ``H + lambda_t P``, starting from that
prior-free solve. ``prior_tolerance`` (tau, default :data:`facerig.invert.prior.DEFAULT_TOLERANCE`) bounds
what the prior may cost the fit (a discrepancy principle, Morozov 1966): a frame whose residual with the
prior exceeds ``(1 + tau) |r_t|^2`` gets the largest ``lambda <= lambda_t`` whose residual stays within
it (a safeguarded log-log secant search on ``lambda``, vectorised over the frames it binds), i.e. among
the weights that rebuild the frame within ``1 + tau`` of the best bounded fit, the ones the prior likes
most. ``threads=1`` (what the CLI asks for) runs the weight-space part (everything after
the projections: (n, K, K) batches of small products and solves) on one BLAS thread, a scoped
:func:`facerig.parallel.blas_threads` limit restored on exit: extra BLAS threads only add
synchronisation at these sizes (2x slower on a busy 2-core machine); the default leaves BLAS alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facerig.arkit import ARKIT52, canonical_name, mirror_permutation
from facerig.errors import FacerigError

#: Newton tolerance of the prior-free solve whose residual sets the prior's per-frame weight
_LAMBDA_TOL = 1e-3
#: search steps on ``lambda`` for frames whose residual the prior raises by more than ``prior_tolerance``
_TOL_STEPS = 6
#: a frame's search stops once its residual increase lies in [_TOL_NEAR * tau, tau] of the prior-free one
_TOL_NEAR = 0.8
#: frames per batched Newton block (bounds the (n, K, K) temporaries to ~22 MB at K = 52)
_BLOCK = 1024


@dataclass
class Prepared:
    """The one-off factorisation of a rig for inversion.

    Attributes:
        names: (K,) the rig's shape names.
        basis: (K, 3V) float64 shape deltas, flattened (``rig.deltas.reshape(K, -1)``).
        neutral: (3V,) float64 flattened neutral the frames are measured from.
        gram: (K, K) ``basis @ basis.T``.
        basis_neutral: (K,) ``basis @ neutral``.
        scale: mean squared norm of the non-zero shapes (the data term's normaliser).
        live: (K,) bool, shapes with a non-zero delta (dead shapes keep weight 0).
        pairs: (P, 2) int Left/Right shape pairs (by ARKit name).
    """

    names: list[str]
    basis: np.ndarray
    neutral: np.ndarray
    gram: np.ndarray
    basis_neutral: np.ndarray
    scale: float
    live: np.ndarray
    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))

    @property
    def num_vertices(self) -> int:
        return int(self.neutral.shape[0] // 3)

    @property
    def num_shapes(self) -> int:
        return len(self.names)


def prepare(rig, neutral: np.ndarray | None = None) -> Prepared:
    """Factorise ``rig`` once for :func:`solve`.

    Args:
        rig: a :class:`facerig.io.rig.Rig` (``deltas`` (K, V, 3), ``neutral`` (V, 3), ``names`` (K,)).
        neutral: (V, 3) the frames' neutral when it is not ``rig.neutral`` (same vertex order).

    Returns:
        :class:`Prepared`.
    """
    names = [str(n) for n in rig.names]
    K = len(names)
    if K == 0:
        raise FacerigError("the rig has no shapes to solve for")
    base = np.asarray(rig.neutral if neutral is None else neutral, dtype=np.float64)
    V = int(rig.deltas.shape[1])
    if base.shape != (V, 3):
        raise FacerigError(f"the neutral has {base.shape[0]} vertices, the rig {V}")
    B = np.ascontiguousarray(np.asarray(rig.deltas, dtype=np.float64).reshape(K, 3 * V))
    G = B @ B.T
    d = np.diag(G).copy()
    live = d > 1e-12 * max(float(d.max()), 1e-300)
    if not live.any():
        raise FacerigError("every shape of the rig is zero; nothing to solve for")
    scale = float(d[live].mean())
    canon = [canonical_name(n) or n for n in names]
    perm = mirror_permutation(canon)
    pairs = np.array(sorted({(min(i, j), max(i, j)) for i, j in enumerate(perm) if i != j}), np.int64).reshape(-1, 2)
    return Prepared(
        names=names,
        basis=B,
        neutral=base.reshape(-1),
        gram=G,
        basis_neutral=B @ base.reshape(-1),
        scale=scale,
        live=live,
        pairs=pairs,
    )


def projections(prep: Prepared, frames) -> np.ndarray:
    """``B (y_t - neutral)`` for every frame: the only product that touches vertices.

    Args:
        frames: (T, V, 3) or (T, 3V) posed vertices in the neutral's order, or a
            :class:`facerig.invert.frames.Frames` (a low-rank animation is projected without
            expanding it: ``B (base - neutral) + W (B D^T)^T``).

    Returns:
        (T, K) float64.
    """
    from facerig.invert.frames import Frames

    if isinstance(frames, Frames):
        if frames.num_vertices != prep.num_vertices:
            raise FacerigError(f"frames have {frames.num_vertices} vertices, the rig {prep.num_vertices}")
        if frames.lowrank is not None:
            base, W, D = frames.lowrank
            return (prep.basis @ base.reshape(-1) - prep.basis_neutral)[None] + W @ (D @ prep.basis.T)
        frames = frames.dense
    Y = np.asarray(frames)
    T = Y.shape[0]
    Y = Y.reshape(T, -1)
    if Y.shape[1] != prep.basis.shape[1]:
        raise FacerigError(f"frames have {Y.shape[1] // 3} vertices, the rig {prep.num_vertices}")
    if Y.dtype != np.float64:
        Y = Y.astype(np.float64)
    return Y @ prep.basis.T - prep.basis_neutral


def motion_energy(prep: Prepared, frames, *, chunk: int = 32) -> np.ndarray:
    """``|y_t - neutral|^2`` of every frame (mesh units squared).

    Args:
        frames: as for :func:`projections`.

    Returns:
        (T,) float64.
    """
    from facerig.invert.frames import Frames

    if isinstance(frames, Frames) and frames.lowrank is not None:
        base, W, D = frames.lowrank
        b = base.reshape(-1) - prep.neutral
        W = np.asarray(W, np.float64)
        return float(b @ b) + 2.0 * W @ (D @ b) + np.einsum("tk,kl,tl->t", W, D @ D.T, W)
    Y = frames.dense if isinstance(frames, Frames) else np.asarray(frames)
    T = Y.shape[0]
    Y = Y.reshape(T, -1)
    out = np.empty(T)
    buf = np.empty((min(chunk, T), Y.shape[1]))
    for s in range(0, T, chunk):
        d = buf[: min(chunk, T - s)]
        np.subtract(Y[s : s + chunk], prep.neutral[None], out=d)
        out[s : s + chunk] = np.einsum("tk,tk->t", d, d)
    return out


def _hessian(prep: Prepared, symmetry: float, ridge: float) -> np.ndarray:
    """(K, K) normalised Hessian of one frame's terms (data + symmetry + ridge)."""
    H = prep.gram / prep.scale
    if symmetry > 0 and len(prep.pairs):
        i, j = prep.pairs[:, 0], prep.pairs[:, 1]
        H = H.copy()
        H[i, i] += symmetry
        H[j, j] += symmetry
        H[i, j] -= symmetry
        H[j, i] -= symmetry
    H = H + ridge * np.eye(len(H))
    dead = ~prep.live
    if dead.any():  # dead shapes: identity rows, zero coupling, rhs 0 -> weight 0
        H = H.copy()
        H[dead, :] = 0.0
        H[:, dead] = 0.0
        H[dead, dead] = 1.0
    return H


def solve(
    prep: Prepared,
    frames: np.ndarray | None = None,
    *,
    projected: np.ndarray | None = None,
    l1: float = 0.0,
    smooth: float = 0.0,
    symmetry: float = 0.0,
    ridge: float = 1e-10,
    tol: float = 1e-8,
    max_iter: int | None = None,
    prior=None,
    prior_strength: float | None = None,
    prior_floor: float | None = None,
    prior_tolerance: float | None = None,
    energy: np.ndarray | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Bounded least-squares weights for every frame (see the module docstring for the objective).

    Args:
        prep: :func:`prepare` of the rig.
        frames: (T, V, 3) posed vertices (or give ``projected``).
        projected: (T, K) ``projections(prep, frames)`` when already computed.
        l1: sparsity weight (>= 0). smooth: temporal smoothness weight (>= 0; frames in time order).
        symmetry: Left/Right agreement weight (>= 0). ridge: tiny Tikhonov term that keeps exactly
            collinear shapes solvable. tol: a frame is done when its largest projected-gradient entry is below
            ``tol * max(1, |c_t|)`` (normalised units; rounding of ``c_t`` sets that floor) or no step
            lowers its objective. max_iter: Newton steps (default 100) or ADMM iterations (default 1000).
        prior: a co-activation prior (:class:`facerig.invert.prior.WeightPrior`, ``"take"`` for the
            shipped one, a prior .npz, or None). prior_strength: its ``strength`` (default
            :data:`facerig.invert.prior.DEFAULT_STRENGTH`); prior_floor: its variance floor. With
            ``smooth`` every frame gets the mean ``lambda_t`` (the ADMM needs one Hessian).
            prior_tolerance: how much the prior may raise a frame's squared residual, relative to the
            prior-free fit's (default :data:`facerig.invert.prior.DEFAULT_TOLERANCE`; ``inf``: no bound).
        energy: (T,) ``motion_energy(prep, frames)`` when ``projected`` is given with a prior.
        threads: BLAS threads for the weight-space part (a scoped limit, restored on exit; 1 is
            fastest at these sizes); None leaves the process's BLAS as it is.

    Returns:
        (T, K) float64 weights in [0, 1], columns in ``prep.names`` order.
    """
    for name, v in (("l1", l1), ("smooth", smooth), ("symmetry", symmetry)):
        if not (np.isfinite(v) and v >= 0):
            raise FacerigError(f"--{name} must be a number >= 0, got {v}")
    from facerig.invert.prior import resolve_prior

    prior = resolve_prior(prior)
    C = projections(prep, frames) if projected is None else np.asarray(projected, np.float64)
    if not np.isfinite(C).all():
        t = int(np.flatnonzero(~np.isfinite(C).all(1))[0])
        raise FacerigError(f"frame {t}: non-finite vertex coordinates (NaN or infinite)")
    raw = C
    C = C / prep.scale - l1
    C[:, ~prep.live] = 0.0
    H = _hessian(prep, symmetry, ridge)
    if prior is not None and prior_strength is not None:
        if not (np.isfinite(prior_strength) and prior_strength >= 0):
            raise FacerigError(f"--prior-strength must be a number >= 0, got {prior_strength}")
        if prior_strength == 0:
            prior = None
    from facerig.invert.prior import DEFAULT_TOLERANCE

    tau = DEFAULT_TOLERANCE if prior_tolerance is None else float(prior_tolerance)
    if not (tau >= 0):  # NaN or negative; inf is allowed (no bound)
        raise FacerigError(f"--prior-tolerance must be a number >= 0, got {prior_tolerance}")
    if prior is not None and energy is None:
        if frames is None:
            raise FacerigError("a prior with projected= needs energy= (motion_energy of the frames)")
        energy = motion_energy(prep, frames)
    from facerig.parallel import blas_threads

    # everything below lives in the K-dimensional weight space: (n, K, K) batches of small products and
    # solves, which a second BLAS thread only slows (2x on a busy 2-core machine); scoped, restored on exit
    with blas_threads(threads):
        return _solve_weights(prep, raw, C, H, tol, max_iter, smooth, prior, prior_strength, prior_floor, tau, energy)[
            0
        ]


def _solve_weights(
    prep, raw, C, H, tol, max_iter, smooth, prior, prior_strength, prior_floor, tau, energy
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`solve` after the projections: (T, K) ``raw`` projections, ``C`` the normalised linear terms,
    ``H`` (K, K) the Hessian. Returns (T, K) weights and the (T,) prior weights ``lambda_t`` used (None
    without a prior)."""
    newton_iter = 100 if max_iter is None else max_iter
    lam = None
    if prior is not None:
        # lambda_t only needs the prior-free residual to ~1 %: a loose solve gives it (a frame the rig
        # rebuilds exactly gets lambda_t ~ 1e-9 or less, which moves its weights by less than 1e-5);
        # the prior's solve starts from it. The tolerance bound compares residuals with the best fit's,
        # which takes the prior-free solve to full accuracy.
        energy = np.asarray(energy, np.float64)
        bounded = np.isfinite(tau)
        W0 = _newton(H, C, tol if bounded else max(tol, _LAMBDA_TOL), newton_iter)
        lam = prior_weights(prep, raw, energy, W0, prior_strength)
        P, q = _prior_terms(prep, prior, prior_floor)
        smoothing = smooth > 0 and C.shape[0] > 1
        if bounded or not smoothing:  # (smoothing without a bound only needs lambda_t)
            W = _newton(H, C + lam[:, None] * q[None], tol, newton_iter, P=P, lam=lam, W0=W0)
        if bounded:  # with smoothing: the frames' bounded lambda_t set the mean
            W, lam = _bound_prior_cost(prep, raw, energy, H, C, P, q, W0, W, lam, tau, tol, newton_iter)
        if smoothing:
            m = float(lam.mean())
            H, C = H + m * P, C + m * q[None]
        else:
            return W, lam
    W0 = _newton(H, C, tol, newton_iter)
    if smooth > 0 and C.shape[0] > 1:
        return _admm_smooth(H, C, smooth, W0, tol, 1000 if max_iter is None else max_iter), lam
    return W0, lam


def squared_residuals(prep: Prepared, projected: np.ndarray, energy: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``|B^T w_t - (y_t - neutral)|^2`` of every frame from weight-space quantities alone.

    Args:
        projected: (T, K) ``projections(prep, frames)``; energy: (T,) ``motion_energy(prep, frames)``;
        W: (T, K) weights.

    Returns:
        (T,) float64 >= 0 (mesh units squared).
    """
    r2 = energy - 2.0 * np.einsum("tk,tk->t", W, projected) + np.einsum("tk,tk->t", W @ prep.gram, W)
    return np.maximum(r2, 0.0)


def _bound_prior_cost(prep, raw, energy, H, C, P, q, W0, W, lam, tau, tol, newton_iter):
    """Frames whose squared residual with the prior (``W``, (T, K)) exceeds ``(1 + tau)`` times the
    prior-free one (``W0``): the largest ``lambda`` in ``[0, lam_t]`` that keeps it within (discrepancy
    principle), found to within :data:`_TOL_NEAR` of the bound by a safeguarded secant on
    ``log excess(lambda)`` against ``log lambda`` (the excess grows like ``lambda^2`` for small ``lambda``),
    each step one warm-started batched Newton solve of the frames still searching.

    Returns:
        ``(W, lam)``: (T, K) weights and (T,) the ``lambda_t`` they were solved with.
    """
    r0 = squared_residuals(prep, raw, energy, W0)
    # rounding of |r|^2 computed from weight-space terms: ~1e-13 of the frame's motion energy
    slack = 1e-12 * energy
    allowed = tau * r0 + slack
    ex = squared_residuals(prep, raw, energy, W) - r0
    idx = np.flatnonzero(ex > allowed)
    if idx.size == 0:
        return W, lam
    W, lam = W.copy(), lam.copy()
    lo = np.zeros(idx.size)  # lambda = 0 (the prior-free fit) always keeps the bound
    ex_lo = np.zeros(idx.size)
    W_lo = W0[idx].copy()
    hi, ex_hi = lam[idx].copy(), ex[idx]
    active = np.arange(idx.size)
    for _ in range(_TOL_STEPS):
        a = active
        goal = 0.5 * (1.0 + _TOL_NEAR) * allowed[idx[a]]  # aim inside the accepted band
        with np.errstate(divide="ignore", invalid="ignore"):
            # the excess as c * lambda^p through the bracket's ends (p = 2 until the lower end is off 0)
            p = np.where(lo[a] > 0, np.log(ex_hi[a] / ex_lo[a]) / np.log(hi[a] / lo[a]), 2.0)
            p = np.where(np.isfinite(p) & (p > 0.1), p, 2.0)
            guess = hi[a] * (goal / ex_hi[a]) ** (1.0 / p)
        # safeguard: strictly inside the bracket, at least a tenth of the way (in log lambda) from either end
        lo_g = np.where(lo[a] > 0, lo[a], hi[a] * 1e-4)
        llo, lhi = np.log(lo_g), np.log(hi[a])
        lg = np.log(np.where(np.isfinite(guess) & (guess > 0), guess, np.sqrt(lo_g * hi[a])))
        lam_a = np.exp(np.clip(lg, llo + 0.1 * (lhi - llo), lhi - 0.1 * (lhi - llo)))
        t = idx[a]
        Wa = _newton(H, C[t] + lam_a[:, None] * q[None], tol, newton_iter, P=P, lam=lam_a, W0=W_lo[a])
        ex_a = squared_residuals(prep, raw[t], energy[t], Wa) - r0[t]
        ok = ex_a <= allowed[t]
        good, bad = a[ok], a[~ok]
        lo[good], ex_lo[good], W_lo[good] = lam_a[ok], np.maximum(ex_a[ok], 0.0), Wa[ok]
        hi[bad], ex_hi[bad] = lam_a[~ok], ex_a[~ok]
        done = ok & (ex_a >= _TOL_NEAR * allowed[t])
        active = a[~done]
        if active.size == 0:
            break
    W[idx], lam[idx] = W_lo, lo
    return W, lam


def prior_weights(
    prep: Prepared, projected: np.ndarray, energy: np.ndarray, W: np.ndarray, strength: float | None = None
) -> np.ndarray:
    """Per-frame prior weight ``lambda_t = strength * |r_t|^2 / s`` (see :mod:`facerig.invert.prior`).

    Args:
        projected: (T, K) ``projections(prep, frames)``; energy: (T,) ``motion_energy(prep, frames)``.
        W: (T, K) the prior-free weights whose residual ``r_t = B^T w_t - (y_t - neutral)`` sets it.

    Returns:
        (T,) float64 >= 0.
    """
    from facerig.invert.prior import DEFAULT_STRENGTH

    strength = DEFAULT_STRENGTH if strength is None else float(strength)
    if not (np.isfinite(strength) and strength >= 0):
        raise FacerigError(f"--prior-strength must be a number >= 0, got {strength}")
    return strength * squared_residuals(prep, projected, energy, W) / prep.scale


def _prior_terms(prep: Prepared, prior, floor: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The prior's (K, K) precision and (K,) linear term in the solver's units (dead shapes: none)."""
    from facerig.invert.prior import DEFAULT_FLOOR, prior_terms

    P, q = prior_terms(prior, prep.names, DEFAULT_FLOOR if floor is None else floor)
    dead = ~prep.live
    P[dead, :] = 0.0
    P[:, dead] = 0.0
    q[dead] = 0.0
    return P, q


def _objective(H: np.ndarray, C: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Per-row ``1/2 w H w - c w`` for (..., K) arrays."""
    return 0.5 * np.einsum("...k,...k->...", W @ H, W) - np.einsum("...k,...k->...", C, W)


def _newton(
    H: np.ndarray,
    C: np.ndarray,
    tol: float,
    max_iter: int,
    P: np.ndarray | None = None,
    lam: np.ndarray | None = None,
    W0: np.ndarray | None = None,
) -> np.ndarray:
    """Box-constrained QP ``min 1/2 w H w - c w, 0 <= w <= 1`` for every row of C (T, K); with ``P``
    (K, K) and ``lam`` (T,) row t's Hessian is ``H + lam_t P`` (a per-frame prior weight).

    ``W0`` (T, K): the start (default the clipped unconstrained solution).
    """
    import scipy.linalg

    T, K = C.shape
    if P is None:
        cho = scipy.linalg.cho_factor(H)
        W = np.clip(scipy.linalg.cho_solve(cho, C.T).T, 0.0, 1.0)
        L = np.full(T, float(np.linalg.eigvalsh(H)[-1]))
        lam = np.zeros(T)
    elif W0 is not None:  # a warm start (the prior-free solve): the one-off eigen-factorisation is not needed
        W = np.clip(W0, 0.0, 1.0)
        L = float(np.linalg.eigvalsh(H)[-1]) + lam * max(float(np.linalg.eigvalsh(P)[-1]), 0.0)
    else:
        # H = R^T R, R^-T P R^-1 = U s U^T: (H + l P)^-1 = R^-1 U (1 + l s)^-1 U^T R^-T for every l at once
        R = scipy.linalg.cholesky(H)
        Ri = scipy.linalg.solve_triangular(R, np.eye(K))
        s, U = scipy.linalg.eigh(Ri.T @ P @ Ri)  # numpy's eigh: ~100 ms at 52 x 52 on a busy OpenBLAS
        M = Ri @ U
        W = np.clip(((C @ M) / (1.0 + lam[:, None] * np.maximum(s, 0.0)[None])) @ M.T, 0.0, 1.0)
        L = float(np.linalg.eigvalsh(H)[-1]) + lam * max(float(np.linalg.eigvalsh(P)[-1]), 0.0)
    alphas = 0.5 ** np.arange(0, 12)
    eye = np.eye(K, dtype=bool)
    todo = np.arange(T)
    floor = tol * np.maximum(1.0, np.abs(C).max(1))  # rounding of C sets the reachable accuracy
    for _ in range(max_iter):
        w = W[todo]
        g = w @ H - C[todo]
        if P is not None:
            g += lam[todo, None] * (w @ P)
        pg = w - np.clip(w - g, 0.0, 1.0)
        viol = np.abs(pg).max(1)
        keep = viol > floor[todo]
        todo, w, g, viol = todo[keep], w[keep], g[keep], viol[keep]
        if todo.size == 0:
            break
        stalled = np.zeros(todo.size, bool)
        for s in range(0, todo.size, _BLOCK):
            idx = todo[s : s + _BLOCK]
            wb, gb = w[s : s + _BLOCK], g[s : s + _BLOCK]
            eps = np.minimum(viol[s : s + _BLOCK], 1e-3)[:, None]
            bind = ((wb <= eps) & (gb > 0)) | ((wb >= 1.0 - eps) & (gb < 0))
            free = ~bind
            if P is None:
                M = np.where(free[:, :, None] & free[:, None, :], H, 0.0)
            else:
                M = lam[idx, None, None] * P[None]
                M += H
                M *= free[:, :, None] & free[:, None, :]
            M[:, eye] += bind
            d = np.linalg.solve(M, (-gb * free)[:, :, None])[:, :, 0]
            W[idx], best = _line_search(H, P, None if P is None else lam[idx], wb, gb, C[idx], d, L[idx], alphas)
            stalled[s : s + _BLOCK] = best < 0  # no candidate lowers f: at the rounding floor
        todo = todo[~stalled]
        if todo.size == 0:
            break
    return W


def _line_search(
    H: np.ndarray,
    P: np.ndarray | None,
    lam: np.ndarray | None,
    w: np.ndarray,
    g: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    L: np.ndarray,
    alphas: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The best of the projected steps ``clip(w + a d)`` (a in ``alphas`` (A,)) and ``clip(w - g / L)``.

    Args:
        H: (K, K), P: (K, K) or None, lam: (n,) or None: row i's Hessian is ``H + lam_i P``.
        w: (n, K) current weights, g: (n, K) their gradient, c: (n, K) the linear terms, d: (n, K) Newton
            directions, L: (n,) step bound.

    Returns:
        ``(W, best)``: (n, K) the chosen weights and (n,) int, the chosen candidate (-1: none lowers the
        objective, ``W = w``). Candidates are compared by their change of the objective,
        ``e g + 1/2 e (H + lam P) e`` for ``e = cand - w``; where the full step stays in the box, every
        ``a d`` does and the change is ``a g d + a^2/2 d (H + lam P) d`` (no (n, A, K) products).
    """
    n, K = w.shape
    A = len(alphas)

    def hess(e):  # (..., K) -> (..., K) rows times their frame's Hessian
        out = e @ H
        if P is not None:
            out += lam.reshape((n,) + (1,) * (e.ndim - 2) + (1,)) * (e @ P)
        return out

    gc = np.clip(w - g / L[:, None], 0.0, 1.0)
    eg = gc - w
    delta = np.empty((n, A + 1))
    delta[:, A] = np.einsum("nk,nk->n", eg, g + 0.5 * hess(eg))
    full = w + d
    inbox = ((full >= 0.0) & (full <= 1.0)).all(1)
    gd = np.einsum("nk,nk->n", g, d)
    dHd = np.einsum("nk,nk->n", d, hess(d))
    delta[:, :A] = alphas[None] * gd[:, None] + 0.5 * alphas[None] ** 2 * dHd[:, None]
    out = np.flatnonzero(~inbox)
    cand = None
    if out.size:
        sub = slice(None) if out.size == n else out
        cand = np.clip(w[sub, None, :] + alphas[None, :, None] * d[sub, None, :], 0.0, 1.0)  # (m, A, K)
        e = cand - w[sub, None, :]
        he = e @ H
        if P is not None:
            he += lam[sub, None, None] * (e @ P)
        delta[out, :A] = np.einsum("mak,mak->ma", e, g[sub, None, :] + 0.5 * he)
    best = np.argmin(delta, axis=1)
    # a change below the rounding of the objective's terms is no change (the frame is at its floor)
    f0 = np.abs(np.einsum("nk,nk->n", w, c)) + np.abs(np.einsum("nk,nk->n", w, g + c)) + 1e-300
    best = np.where(delta[np.arange(n), best] < -4e-16 * f0, best, -1)
    W = w + np.minimum(alphas[np.clip(best, 0, A - 1)], 1.0)[:, None] * d
    W = np.clip(W, 0.0, 1.0)
    W[best == A] = gc[best == A]
    W[best < 0] = w[best < 0]
    return W, best


def _admm_smooth(H: np.ndarray, C: np.ndarray, smooth: float, W0: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """Frames coupled by ``smooth/2 |w_t - w_{t-1}|^2``: ADMM with the box as the second block.

    The W-step solves ``W H + smooth Lap W + rho W = R`` exactly: ``Lap`` (T, T) is the path graph's
    Laplacian, diagonal in the orthonormal DCT-II basis with eigenvalues ``2 - 2 cos(pi t / T)``.
    """
    import scipy.linalg
    from scipy.fft import dct, idct

    T, _K = C.shape
    lam, Q = scipy.linalg.eigh(H)  # numpy's eigh: ~100 ms at 52 x 52 on a busy OpenBLAS
    mu = 2.0 - 2.0 * np.cos(np.pi * np.arange(T) / T)
    rho = float(np.sqrt(max(lam[0], 1e-6 * lam[-1]) * lam[-1]))
    denom = lam[None, :] + smooth * mu[:, None] + rho
    Z = W0.copy()
    U = np.zeros_like(Z)
    Ct = dct(C @ Q, type=2, norm="ortho", axis=0)
    W = Z
    for it in range(max_iter):
        R = dct((Z - U) @ Q, type=2, norm="ortho", axis=0) * rho + Ct
        W = idct(R / denom, type=2, norm="ortho", axis=0) @ Q.T
        Zold = Z
        Z = np.clip(W + U, 0.0, 1.0)
        U = U + W - Z
        if it % 10 == 9:
            r = np.abs(W - Z).max()
            s = rho * np.abs(Z - Zold).max()
            if max(r, s) < max(100 * tol, 1e-6):
                break
    return Z


def rig_weights_to_arkit(names: list[str], W: np.ndarray) -> np.ndarray:
    """(T, K) weights in a rig's name order -> (T, 52) in :data:`facerig.arkit.ARKIT52` order.

    Shapes without an ARKit name are dropped; ARKit shapes the rig lacks get 0.
    """
    out = np.zeros((W.shape[0], 52))
    for k, n in enumerate(names):
        c = canonical_name(n)
        if c is not None:
            out[:, ARKIT52.index(c)] = W[:, k]
    return out


def arkit_to_rig_weights(names: list[str], W52: np.ndarray) -> np.ndarray:
    """(T, 52) ARKit-order weights -> (T, K) in a rig's name order (non-ARKit rig shapes get 0)."""
    out = np.zeros((W52.shape[0], len(names)))
    for k, n in enumerate(names):
        c = canonical_name(n)
        if c is not None:
            out[:, k] = W52[:, ARKIT52.index(c)]
    return out


def solve_weights(
    rig,
    frames: np.ndarray,
    *,
    neutral: np.ndarray | None = None,
    l1: float = 0.0,
    smooth: float = 0.0,
    symmetry: float = 0.0,
    **kw,
) -> np.ndarray:
    """ARKit-52 weights of posed meshes under ``rig``.

    Args:
        rig: :class:`facerig.io.rig.Rig` (or a :class:`Prepared`).
        frames: (T, V, 3) posed vertices in the rig's vertex order ((V, 3): one frame).
        neutral: (V, 3) the frames' neutral if it is not ``rig.neutral``.
        l1, smooth, symmetry: see the module docstring; ``**kw`` goes to :func:`solve`.

    Returns:
        (T, 52) float64 in [0, 1], :data:`facerig.arkit.ARKIT52` order (shapes the rig lacks: 0).
    """
    from facerig.invert.frames import Frames

    prep = rig if isinstance(rig, Prepared) else prepare(rig, neutral)
    Y = frames if isinstance(frames, Frames) else np.asarray(frames, dtype=np.float64)
    if not isinstance(Y, Frames) and Y.ndim == 2:
        Y = Y[None]
    W = solve(prep, Y, l1=l1, smooth=smooth, symmetry=symmetry, **kw)
    return rig_weights_to_arkit(prep.names, W)


def rebuild(prep: Prepared, W: np.ndarray) -> np.ndarray:
    """(T, K) weights -> (T, V, 3) rebuilt vertices ``neutral + W B``."""
    return (prep.neutral[None] + W @ prep.basis).reshape(W.shape[0], -1, 3)


def residuals(prep: Prepared, frames, W: np.ndarray, *, chunk: int = 256) -> dict[str, np.ndarray]:
    """Per-frame fit errors (mesh units).

    Args:
        frames: (T, V, 3) the posed input, or a :class:`facerig.invert.frames.Frames`.
        W: (T, K) solved weights.

    Returns:
        ``{"mean": (T,), "rms": (T,), "max": (T,), "motion_rms": (T,)}``: per-vertex distance between
        the rebuilt and the input mesh (mean, root mean square, max) and the input's own RMS
        displacement from the neutral (how much there was to fit).
    """
    from facerig.invert.frames import Frames

    T = W.shape[0]
    out = {k: np.zeros(T) for k in ("mean", "rms", "max", "motion_rms")}
    base = prep.neutral.reshape(-1, 3)
    for s in range(0, T, chunk):
        part = frames.block(s, s + chunk) if isinstance(frames, Frames) else frames[s : s + chunk]
        Y = np.asarray(part, np.float64).reshape(-1, prep.num_vertices, 3)
        d = np.linalg.norm(rebuild(prep, W[s : s + chunk]) - Y, axis=2)
        out["mean"][s : s + chunk] = d.mean(1)
        out["rms"][s : s + chunk] = np.sqrt((d**2).mean(1))
        out["max"][s : s + chunk] = d.max(1)
        out["motion_rms"][s : s + chunk] = np.sqrt(((Y - base) ** 2).sum(2).mean(1))
    return out

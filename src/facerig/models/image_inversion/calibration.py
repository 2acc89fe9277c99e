"""Output calibration: a monotone map per shape and modality applied to the network's weights (torch-free).

A regressor trained with an L1 loss on noisy inputs answers toward each shape's typical value: small
weights read a little high, large ones low. :class:`OutputCalibration` maps every read weight through a
piecewise-linear, non-decreasing function on a fixed grid of knots (one per shape and modality: RGB only,
normals only, both), clipped to [0, 1]. :func:`fit_calibration` fits the knots' values by least absolute
deviation (the weight MAE the evaluation reports) with a weak pull toward the identity, so a reading the
fitting renders never produced keeps its value; Left / Right mirror partners share one map.

It is fitted on renders of training identities only (:mod:`facerig.train.image_inversion_calibration`) and
stored in the weights file (:mod:`.weights`); a weights file without one reads uncalibrated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Modality rows of a calibration, in the order of their (RGB, normals) flags.
MODALITIES = ("rgb", "normals", "both")
#: Default knots (read weight values) of the piecewise-linear maps: denser where most weights lie.
GRID = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass
class OutputCalibration:
    """Per-modality, per-shape monotone maps.

    Attributes:
        grid: (K,) increasing knots in [0, 1] (read weights), first 0 and last 1.
        values: (3, 52, K) the calibrated weight at each knot, non-decreasing along K, in [0, 1]; rows
            :data:`MODALITIES`.
    """

    grid: np.ndarray
    values: np.ndarray

    def __post_init__(self):
        self.grid = np.asarray(self.grid, np.float64)
        self.values = np.asarray(self.values, np.float64)
        K = len(self.grid)
        if self.values.ndim != 3 or self.values.shape[0] != 3 or self.values.shape[2] != K:
            raise ValueError(f"calibration values of shape {self.values.shape} do not fit {K} knots")
        if K < 2 or np.any(np.diff(self.grid) <= 0):
            raise ValueError("calibration knots must increase")

    @classmethod
    def identity(cls, n_out: int = 52, grid=GRID) -> OutputCalibration:
        """The map that changes nothing: (3, n_out, K) values equal to the knots."""
        g = np.asarray(grid, np.float64)
        return cls(g, np.broadcast_to(g, (3, n_out, len(g))).copy())

    def apply(self, weights: np.ndarray, use: np.ndarray) -> np.ndarray:
        """(N, 52) read weights and (N, 2) modality flags (RGB, normals) -> (N, 52) calibrated weights in [0, 1]."""
        W = np.clip(np.asarray(weights, np.float64), 0, 1)
        rows = modality_rows(use)
        out = np.empty_like(W)
        for m in np.unique(rows):
            sel = rows == m
            for k in range(W.shape[1]):
                out[sel, k] = np.interp(W[sel, k], self.grid, self.values[m, k])
        return np.clip(out, 0, 1)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for the weights file (``calibration/grid`` (K,), ``calibration/values`` (3, 52, K))."""
        return {"calibration/grid": self.grid.astype(np.float32), "calibration/values": self.values.astype(np.float32)}

    @classmethod
    def from_arrays(cls, arrays) -> OutputCalibration | None:
        """The calibration stored by :meth:`to_arrays` in a mapping (an open NPZ), or None when there is none."""
        keys = set(getattr(arrays, "files", arrays))
        if not {"calibration/grid", "calibration/values"} <= keys:
            return None
        return cls(arrays["calibration/grid"], arrays["calibration/values"])


def modality_rows(use: np.ndarray) -> np.ndarray:
    """(N, 2) modality flags (RGB, normals) -> (N,) index into :data:`MODALITIES` (0 RGB only, 1 normals only,
    2 both; a row with neither counts as both)."""
    u = np.asarray(use) > 0.5
    return np.where(u[:, 0] & ~u[:, 1], 0, np.where(~u[:, 0] & u[:, 1], 1, 2))


def interpolation_matrix(x: np.ndarray, grid: np.ndarray):
    """(N,) values in [0, 1] -> sparse (N, K) matrix A with ``A @ v`` the piecewise-linear function of knot
    values ``v`` on ``grid`` at ``x``."""
    from scipy.sparse import csr_matrix

    g = np.asarray(grid, np.float64)
    x = np.clip(np.asarray(x, np.float64), g[0], g[-1])
    j = np.clip(np.searchsorted(g, x, side="right") - 1, 0, len(g) - 2)
    t = (x - g[j]) / (g[j + 1] - g[j])
    n = len(x)
    rows = np.repeat(np.arange(n), 2)
    cols = np.stack([j, j + 1], 1).ravel()
    vals = np.stack([1 - t, t], 1).ravel()
    return csr_matrix((vals, (rows, cols)), shape=(n, len(g)))


def fit_monotone(
    read: np.ndarray,
    target: np.ndarray,
    grid=GRID,
    *,
    prior: float = 1e-3,
    affine: bool = False,
    large_weight: float = 0.0,
) -> np.ndarray:
    """One monotone map: knot values (K,) minimising
    ``sum_i (1 + large_weight * target_i) |f(read_i) - target_i| + prior * N * sum_k |f(g_k) - g_k|``.

    Args:
        read: (N,) network readings in [0, 1]; target: (N,) true weights.
        grid: (K,) knots.
        prior: weight of the pull toward the identity per knot, relative to the number of readings (it only
            decides where the readings do not).
        affine: fit ``clip(a x + b, 0, 1)`` (a >= 0) instead of a free piecewise-linear map.
        large_weight: large targets count up to ``1 + large_weight`` times (0: the plain L1, the conditional
            median of the target given the reading; larger: a reading of a large weight is pushed up toward it,
            as the training loss weighs them).

    Returns:
        (K,) non-decreasing values in [0, 1] at the knots.
    """
    from scipy.optimize import linprog
    from scipy.sparse import bmat, diags, eye, hstack

    g = np.asarray(grid, np.float64)
    K, N = len(g), len(read)
    wt = 1 + large_weight * np.clip(np.asarray(target, np.float64), 0, 1)
    if affine:
        # minimise sum |a x + b - t| over (a >= 0, b), then clip: variables (a, b, r+ (N), r- (N))
        x = np.clip(np.asarray(read, np.float64), 0, 1)
        A = hstack([np.c_[x, np.ones(N)], -eye(N), eye(N)], format="csr")
        c = np.r_[0.0, 0.0, wt, wt]
        bounds = [(0, None), (None, None)] + [(0, None)] * (2 * N)
        res = linprog(c, A_eq=A, b_eq=np.asarray(target, np.float64), bounds=bounds, method="highs")
        a, b = res.x[:2] if res.success else (1.0, 0.0)
        return np.clip(a * g + b, 0, 1)
    # variables: v (K), r+ (N), r- (N), s+ (K), s- (K);  A v - r+ + r- = t;  v - s+ + s- = g;  v_{k+1} >= v_k
    Ai = interpolation_matrix(read, g)
    A_eq = bmat(
        [
            [Ai, -eye(N), eye(N), None, None],
            [eye(K), None, None, -eye(K), eye(K)],
        ],
        format="csr",
    )
    b_eq = np.r_[np.asarray(target, np.float64), g]
    D = diags([np.ones(K - 1), -np.ones(K - 1)], [0, 1], shape=(K - 1, K))  # v_k - v_{k+1} <= 0
    A_ub = hstack([D, np.zeros((K - 1, 2 * N + 2 * K))], format="csr")
    lam = prior * max(N, 1)
    c = np.r_[np.zeros(K), wt, wt, np.full(2 * K, lam)]
    bounds = [(0, 1)] * K + [(0, None)] * (2 * N + 2 * K)
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(K - 1), A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if not res.success:
        return g.copy()
    return np.maximum.accumulate(np.clip(res.x[:K], 0, 1))


def fit_calibration(
    read: np.ndarray,
    target: np.ndarray,
    use: np.ndarray,
    *,
    names=None,
    grid=GRID,
    prior: float = 1e-3,
    affine: bool = False,
    large_weight: float = 0.0,
    pair_mirrors: bool = True,
) -> OutputCalibration:
    """Fit every shape's map per modality.

    Args:
        read: (N, 52) network readings; target: (N, 52) true weights; use: (N, 2) modality flags.
        names: the 52 shape names (default ARKit-52) for the mirror pairing.
        pair_mirrors: Left / Right partners share one map fitted on both columns' readings.
        prior, affine, large_weight, grid: as :func:`fit_monotone`.

    Returns:
        an :class:`OutputCalibration`; a modality without readings keeps the identity.
    """
    from facerig.arkit import mirror_permutation

    read, target = np.asarray(read, np.float64), np.asarray(target, np.float64)
    K = read.shape[1]
    perm = mirror_permutation() if names is None else mirror_permutation(names)
    cal = OutputCalibration.identity(K, grid)
    rows = modality_rows(use)
    for m in range(3):
        sel = rows == m
        if not sel.any():
            continue
        done: set[int] = set()
        for k in range(K):
            if k in done:
                continue
            cols = sorted({k, int(perm[k])}) if pair_mirrors else [k]
            x = np.concatenate([read[sel, c] for c in cols])
            t = np.concatenate([target[sel, c] for c in cols])
            v = fit_monotone(x, t, grid, prior=prior, affine=affine, large_weight=large_weight)
            for c in cols:
                cal.values[m, c] = v
                done.add(c)
    return cal

"""Helpers for the inversion tests: a synthetic ARKit rig with known weights."""

from __future__ import annotations

import numpy as np

from facerig.arkit import ARKIT52
from facerig.io.rig import Rig


def synthetic_rig(V: int = 300, K: int = 52, seed: int = 0, corr: float = 0.6) -> Rig:
    """A rig with K correlated random shapes on V random points (names: the first K ARKit names)."""
    rng = np.random.default_rng(seed)
    D = rng.normal(size=(K, V, 3))
    D = D + corr * np.roll(D, 1, axis=0)  # neighbouring shapes overlap, as real rigs' do
    D *= rng.uniform(0.2, 2.0, size=(K, 1, 1))  # and differ in size
    return Rig(names=list(ARKIT52[:K]), deltas=D.astype(np.float32), neutral=rng.normal(size=(V, 3)) * 10)


def sparse_weights(T: int, K: int, seed: int = 1) -> np.ndarray:
    """(T, K) weights in [0, 1], ~70 % zeros and a few at exactly 1."""
    rng = np.random.default_rng(seed)
    W = rng.random((T, K))
    W[rng.random((T, K)) < 0.7] = 0.0
    W[rng.random((T, K)) < 0.05] = 1.0
    return W


def pose(rig: Rig, W: np.ndarray) -> np.ndarray:
    """(T, K) weights -> (T, V, 3) posed vertices."""
    return rig.neutral[None] + np.einsum("tk,kvc->tvc", W, rig.deltas.astype(np.float64))

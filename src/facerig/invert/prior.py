"""A co-activation prior for inverse rigging: how a real face's ARKit-52 weights move together.

Faces move in correlated patterns (a smile raises both mouth corners and the cheeks, a jaw drop
opens the lips). :func:`fit_prior` fits a Gaussian ``N(mean, cov)`` to the frames of a take (T,
52), and :func:`prior_terms` turns it into the quadratic the solver adds to its objective
(:func:`facerig.invert.solver.solve`, ``prior=``)::

    lambda_t / 2 * (w - mean)^T P (w - mean),     P = (cov + floor * I)^-1

in the normalised units of the solver's data term (``|rig(w) - frame|^2 / s``, ``s`` the rig's mean
squared shape norm, so ``lambda`` does not depend on the head's size or vertex count). ``floor``
(a variance, in weight units) keeps shapes the take barely moves from being pinned to its mean.

``lambda_t`` is set per frame from how well the rig can explain the frame at all (empirical Bayes:
the data term's noise variance estimated from the plain bounded solve's residual):
``lambda_t = strength * |r_t|^2 / s``, ``r_t`` the residual of the prior-free solve. A frame that
the rig rebuilds exactly (its own animation, a round trip) keeps its exact weights; a frame the rig
cannot rebuild (another author's rig style: shapes that move other vertices, or less) leans on the
co-activations instead of explaining the motion with whatever shapes fit best. How far it leans is
bounded (:data:`DEFAULT_TOLERANCE`, a discrepancy principle): the prior may raise a frame's squared
residual by at most ``tau`` of the prior-free fit's; where ``lambda_t`` would cost more, the solver
takes the largest ``lambda`` that stays within (:func:`facerig.invert.solver.solve`,
``prior_tolerance``).

The shipped prior (:func:`take_prior`, ``weights/take_prior.npz``) is fitted on the first 80 %
(:data:`TAKE_HOLDOUT`) of the real Live Link Face take ``takes/livelink_rom_a.csv`` (MIT, see
``data/takes/README.md``); the last 20 % is held out for evaluation (:func:`split_take`, also used
by the expression encoder's training and ``facerig eval --task invert``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facerig.errors import FacerigError

#: the share of a take's frames (its end, a contiguous stretch) held out from anything fitted on it
TAKE_HOLDOUT = 0.2
#: default prior variance floor (weight units: a standard deviation of ~0.03)
DEFAULT_FLOOR = 1e-3
#: default ``strength`` of the prior (see the module docstring)
DEFAULT_STRENGTH = 3e-3
#: default ``prior_tolerance``: the prior may raise a frame's squared residual by at most 10 % of the
#: prior-free fit's (about 5 % RMS); chosen on the in-family heads (ICT, MakeHuman) as the tightest bound
#: that leaves their weight error where the unbounded prior has it (BENCHMARKS.md "Invert and retarget")
DEFAULT_TOLERANCE = 0.1
#: the prior ``facerig invert`` / ``retarget`` and :func:`facerig.invert.invert_meshes` use unless told
#: (``--prior none`` / ``prior=None`` turns it off); see BENCHMARKS.md "Invert and retarget"
DEFAULT_PRIOR = "take"
#: where the shipped prior lives
PRIOR_FILE = Path(__file__).resolve().parents[1] / "weights" / "take_prior.npz"


@dataclass(frozen=True)
class WeightPrior:
    """A Gaussian over ARKit-52 weight vectors.

    Attributes:
        mean: (52,) ARKit-order mean weights.
        cov: (52, 52) covariance of the weights.
        frames: how many frames it was fitted on.
        source: where the frames came from (one line).
    """

    mean: np.ndarray
    cov: np.ndarray
    frames: int = 0
    source: str = ""

    def precision(self, floor: float = DEFAULT_FLOOR, shapes: np.ndarray | None = None) -> np.ndarray:
        """(S, S) ``(cov[shapes, shapes] + floor I)^-1``: the marginal precision of ``shapes`` (S,)
        ARKit indices (default all 52)."""
        if not (np.isfinite(floor) and floor > 0):
            raise FacerigError(f"the prior's variance floor must be a number > 0, got {floor}")
        idx = np.arange(len(self.mean)) if shapes is None else np.asarray(shapes, np.int64)
        return np.linalg.inv(self.cov[np.ix_(idx, idx)] + floor * np.eye(len(idx)))


def split_take(weights: np.ndarray, holdout: float = TAKE_HOLDOUT) -> tuple[np.ndarray, np.ndarray]:
    """A take's frames (T, ...) -> (its first ``1 - holdout``, the held-out rest), in time order.

    A contiguous end stretch is held out (not every n-th frame: neighbouring frames of a 60 fps take
    are nearly equal, so interleaving would leak).
    """
    if not 0.0 <= holdout < 1.0:
        raise FacerigError(f"holdout must be in [0, 1), got {holdout}")
    W = np.asarray(weights)
    cut = int(round(len(W) * (1.0 - holdout)))
    return W[:cut], W[cut:]


def fit_prior(weights: np.ndarray, *, source: str = "") -> WeightPrior:
    """Gaussian prior of a take's weights.

    Args:
        weights: (T, 52) ARKit-order weights (T >= 2), e.g. ``split_take(take.weights)[0]``.

    Returns:
        :class:`WeightPrior`.
    """
    W = np.asarray(weights, np.float64)
    if W.ndim != 2 or W.shape[1] != 52:
        raise FacerigError(f"a prior is fitted on (T, 52) ARKit weights, got {W.shape}")
    if len(W) < 2 or not np.isfinite(W).all():
        raise FacerigError("a prior needs at least two finite frames")
    return WeightPrior(mean=W.mean(0), cov=np.cov(W.T), frames=len(W), source=source)


def fit_take_prior(path=None, holdout: float = TAKE_HOLDOUT) -> WeightPrior:
    """:func:`fit_prior` on the first ``1 - holdout`` of a take file (default the real take in the data root)."""
    from facerig.io.takes import read_take

    if path is None:
        from facerig.eval.invert import take_path

        path = take_path()
    train, _ = split_take(read_take(path).weights, holdout)
    return fit_prior(train, source=f"{Path(path).name}, first {len(train)} frames ({1 - holdout:.0%})")


def save_prior(path, prior: WeightPrior) -> None:
    """Write ``prior`` as a small .npz (atomically)."""
    import io

    from facerig.io.atomic import write_bytes_atomic

    buf = io.BytesIO()
    np.savez(buf, mean=prior.mean, cov=prior.cov, frames=np.int64(prior.frames), source=np.str_(prior.source))
    write_bytes_atomic(path, buf.getvalue())


def load_prior(path) -> WeightPrior:
    """Read a prior written by :func:`save_prior`."""
    try:
        with np.load(path, allow_pickle=False) as z:
            mean, cov = np.asarray(z["mean"], np.float64), np.asarray(z["cov"], np.float64)
            frames, source = int(z["frames"]), str(z["source"])
    except (OSError, KeyError, ValueError) as e:
        raise FacerigError(f"{path}: not a weight prior ({e})") from None
    if mean.shape != (52,) or cov.shape != (52, 52) or not (np.isfinite(mean).all() and np.isfinite(cov).all()):
        raise FacerigError(f"{path}: a weight prior needs a finite (52,) mean and (52, 52) covariance")
    return WeightPrior(mean=mean, cov=cov, frames=frames, source=source)


@functools.lru_cache(maxsize=1)
def take_prior() -> WeightPrior:
    """The shipped prior: the real take's first 80 % (``weights/take_prior.npz``)."""
    if not PRIOR_FILE.is_file():
        raise FacerigError(f"{PRIOR_FILE}: the shipped weight prior is missing (reinstall facerig)")
    return load_prior(PRIOR_FILE)


def resolve_prior(prior) -> WeightPrior | None:
    """``None`` / ``"none"`` -> None; ``"take"`` -> :func:`take_prior`; a path -> :func:`load_prior`;
    a :class:`WeightPrior` as is."""
    if prior is None or isinstance(prior, WeightPrior):
        return prior
    if isinstance(prior, str) and prior.lower() in ("none", "off", ""):
        return None
    if isinstance(prior, str) and prior.lower() == "take":
        return take_prior()
    if isinstance(prior, (str, Path)) and Path(prior).suffix.lower() == ".npz":
        return load_prior(prior)
    raise FacerigError(f"unknown prior {prior!r}: use 'take', 'none' or a prior .npz")


def prior_terms(prior: WeightPrior, names: list[str], floor: float = DEFAULT_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """The prior in a rig's shape order.

    Args:
        names: (K,) the rig's shape names (shapes without an ARKit name get no prior).

    Returns:
        ``(P, q)``: (K, K) precision (the marginal of the shapes the rig has; a shape named twice
        counts twice) and (K,) ``P @ mean``, so that the prior is
        ``1/2 w P w - q w + const``.
    """
    from facerig.arkit import ARKIT52, canonical_name

    idx = np.array([ARKIT52.index(c) if (c := canonical_name(n)) is not None else -1 for n in names], np.int64)
    ok = idx >= 0
    K = len(names)
    P = np.zeros((K, K))
    q = np.zeros(K)
    if ok.any():
        Ps = prior.precision(floor, idx[ok])  # marginal over the shapes the rig has
        P[np.ix_(ok, ok)] = Ps
        q[ok] = Ps @ prior.mean[idx[ok]]
    return P, q

"""A fade to a neck cut that never folds the neck over (issue 24).

:func:`facerig.models.finish.face_falloff` stills the motion at a cut below the jaw (the open
boundary where a neck or a bust ends) and brings it back in full over ``cut_length`` face sizes
(a cosine of the distance to the cut). A shape that moves the neck toward the cut by ``a`` over
that fade squeezes it by ``a`` over its length: where the network's jawOpen drags the whole neck
down (``weboji_facecustom_human``, the validation set's ``reframed_001``, whose cut is right under
the jaw) the lower neck moves faster than the fade's length allows and the neck folds over itself
(rendered: dark torn patches on the neck; the check's ``folds``).

Along the direction ``e`` away from the nearest cut vertex, the faded motion ``w d`` changes the
length of the surface by ``1 + w' (d . e)`` (``w'`` the fade's slope per unit length), so the
neck folds where ``-w' (d . e)`` (its *squeeze*) reaches 1. :func:`fold_safe_fades` lengthens
the fade of each shape whose squeeze passes :data:`CUT_FADE` ``["limit"]`` until it does not, up to
``max_length``; a shape that still squeezes too much there keeps part of its motion at the cut
itself (the fade no longer goes to 0 but to the share that brings the squeeze down to the limit).
Other shapes keep the fade as it was, bit for bit.

On the validation set's ``reframed_001`` (an ICT head whose neck is cut right under the jaw, where
ICT's own jawOpen still moves it) fading jawOpen to 0 over the neck costs accuracy the longer the
fade: ``max_length`` 2 face sizes doubled the head's jawOpen error (0.99 -> 7.4 mm active: the fade
reached the jaw), 1.0 left the head as it was (active 0.3539 -> 0.3540 mm), 0.75 improved it
(0.3533; 0.5, no lengthening: 0.3535), while every choice unfolded its jawOpen (check ``folds``
0.297 -> 0.003-0.023).
"""

from __future__ import annotations

import numpy as np

#: ``limit``: the largest squeeze a shape's fade may make (the neck folds at 1; the margin is for
#: the shape's own strain there); a fade too steep is lengthened ``grow`` times at a time up to
#: ``max_length`` face sizes (1.5 x the cut's own fade; see the module doc), then keeps motion at
#: the cut.
CUT_FADE = {"limit": 0.5, "grow": 1.25, "max_length": 0.75}


def cosine_rise(dist: np.ndarray, length: float) -> np.ndarray:
    """0 at distance 0, 1 from ``length`` on, a cosine in between: dist (...) -> (...)."""
    return 0.5 * (1.0 - np.cos(np.pi * np.clip(dist / max(length, 1e-12), 0.0, 1.0)))


def squeeze(deltas: np.ndarray, dist: np.ndarray, away: np.ndarray, length: float) -> np.ndarray:
    """How much the fade of ``length`` squeezes each shape's motion toward the cut: (K,).

    deltas (K, N, 3) motion of N vertices near the cut, in face sizes; dist (N,) their distance
    to the cut (face sizes); away (N, 3) unit directions away from their nearest cut vertex. The
    largest ``-w'(dist) (d . away)`` over the vertices within ``length`` (0 where the motion
    leaves the cut: stretching never folds)."""
    length = max(float(length), 1e-12)
    x = np.clip(dist / length, 0.0, 1.0)
    slope = np.where(dist < length, 0.5 * np.pi * np.sin(np.pi * x) / length, 0.0)  # (N,)
    toward = -np.einsum("knc,nc->kn", deltas, away)  # (K, N): motion toward the cut
    if not toward.size:
        return np.zeros(deltas.shape[0])
    return np.maximum(toward * slope[None], 0.0).max(1)


def fold_safe_lengths(
    deltas: np.ndarray,
    dist: np.ndarray,
    away: np.ndarray,
    length: float,
    limit: float = CUT_FADE["limit"],
    grow: float = CUT_FADE["grow"],
    max_length: float = CUT_FADE["max_length"],
) -> np.ndarray:
    """Fade length (face sizes) of each shape: (K,) ``length`` where its :func:`squeeze` stays
    within ``limit``, else the first of ``length * grow**i`` (at most ``max_length``) where it
    does. deltas (K, N, 3) in face sizes, dist (N,), away (N, 3) as for :func:`squeeze`."""
    out = np.full(deltas.shape[0], float(length))
    todo = squeeze(deltas, dist, away, length) > limit
    L = float(length)
    while todo.any() and L < max_length:
        L = min(L * grow, max_length)
        out[todo] = L
        todo[todo] = squeeze(deltas[todo], dist, away, L) > limit
    return out


def fold_safe_fades(
    deltas: np.ndarray,
    dist: np.ndarray,
    away: np.ndarray,
    length: float,
    limit: float = CUT_FADE["limit"],
    grow: float = CUT_FADE["grow"],
    max_length: float = CUT_FADE["max_length"],
) -> tuple[np.ndarray, np.ndarray]:
    """Fade of each shape that does not fold: (K,) lengths (:func:`fold_safe_lengths`) and (K,)
    the share of its motion kept at the cut itself: 0, unless the squeeze at ``max_length`` still
    passes ``limit``; then the fade is ``1 - (1 - keep) (1 - cosine_rise)``, which squeezes
    ``(1 - keep)`` times less (exactly ``limit``)."""
    lengths = fold_safe_lengths(deltas, dist, away, length, limit, grow, max_length)
    keep = np.zeros(deltas.shape[0])
    for k in np.flatnonzero(lengths >= max_length):
        s = float(squeeze(deltas[k : k + 1], dist, away, lengths[k])[0])
        if s > limit:
            keep[k] = 1.0 - limit / s
    return lengths, keep

"""Row-wise products of 3-vectors, (N, 3) arrays: numpy's own values, several times faster.

``np.cross`` and ``np.linalg.norm(x, axis=1)`` on (N, 3) rows go through numpy's generic paths
(broadcast checks, temporaries, an axis reduction); spelled out per component, in the same order
of operations, the arithmetic is the same and so are the results, bit for bit
(``tests/geometry/test_rows.py``).
"""

from __future__ import annotations

import numpy as np


def cross_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.cross(a, b)`` of float rows a, b (N, 3) -> (N, 3)."""
    a0, a1, a2 = a[:, 0], a[:, 1], a[:, 2]
    b0, b1, b2 = b[:, 0], b[:, 1], b[:, 2]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), np.result_type(a, b))
    out[:, 0] = a1 * b2 - a2 * b1
    out[:, 1] = a2 * b0 - a0 * b2
    out[:, 2] = a0 * b1 - a1 * b0
    return out


def norm_rows(x: np.ndarray) -> np.ndarray:
    """``np.linalg.norm(x, axis=1)`` of float rows x (N, 3) -> (N,)."""
    x0, x1, x2 = x[:, 0], x[:, 1], x[:, 2]
    return np.sqrt(x0 * x0 + x1 * x1 + x2 * x2)

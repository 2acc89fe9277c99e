"""Row-wise cross products and norms: numpy's values bit for bit."""

from __future__ import annotations

import numpy as np

from facerig.geometry.rows import cross_rows, norm_rows


def test_cross_and_norm_rows_equal_numpy_bit_for_bit():
    rng = np.random.default_rng(0)
    for scale in (1e-8, 1.0, 1e6):
        a, b = rng.normal(size=(2, 5000, 3)) * scale
        a[:3] = [[0.0, -0.0, 1.0], [np.inf, 1.0, 0.0], [1e308, 1e308, 1.0]]  # signed zeros, overflow
        t = rng.normal(size=(5000, 3, 3))[:, ::2]  # strided rows, as tri[:, 1] - tri[:, 0] gives
        with np.errstate(all="ignore"):
            assert cross_rows(a, b).tobytes() == np.cross(a, b).tobytes()
            assert norm_rows(a).tobytes() == np.linalg.norm(a, axis=1).tobytes()
            d = t[:, 1] - t[:, 0]
            assert cross_rows(d, a).tobytes() == np.cross(d, a).tobytes()
            assert norm_rows(d).tobytes() == np.linalg.norm(d, axis=1).tobytes()

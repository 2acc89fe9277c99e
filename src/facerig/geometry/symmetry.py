"""A head's mirror plane, and the small rotation that makes it the left-right plane.

A scanned or hand-placed head is often not quite upright. The network rigs in a frame whose
mirror plane is x = 0 (and averages its answer with its answer on the head's mirror image), so a
head turned by 20 degrees about the vertical got an odd face probe and a blink that no longer
closed (``benchmarks/robustness_sweep.py``).

:func:`mirror_plane` finds the plane that maps the head onto itself: a coarse search over turns
about the vertical and rolls about the forward axis (every 5 degrees up to :data:`MAX_TILT_DEG`),
each scored by the median distance from a reflected point to its nearest point (skipped when
x = const scores better than its eight neighbours 5 degrees away and than turns alone and rolls
alone every 10 degrees: the median is bumpy, and a head turned 20 degrees had x = const as a
local minimum), then refined by
reflective ICP (pair each reflected point with its nearest point, refit the plane from the pairs,
trimming the worst). :func:`level_rotation` turns the fitted normal onto +X by the smallest
rotation, only when that is clearly a tilt: at least :data:`MIN_TILT_DEG` off, and the head
mirrors itself much better about the fitted plane than about x = const. Stylised (warped) and
asymmetric heads, whose best plane leans a few degrees for other reasons, are left as they are. A
nod (about the left-right axis) keeps the mirror plane and is not corrected.
"""

from __future__ import annotations

import numpy as np

#: Tilts below this (degrees between the fitted plane's normal and +X) are left alone; the public
#: and validation heads lean up to 7.3 degrees (warped stylised heads) and are not tilted.
MIN_TILT_DEG = 8.0
#: The largest tilt searched; beyond it ``--up/--forward`` and the head check deal with the head.
MAX_TILT_DEG = 30.0
#: The fitted plane must mirror the head at most this fraction as badly as x = const does.
MAX_RESIDUAL_RATIO = 0.6
#: Beyond its eight neighbours 5 degrees away, x = const is held against turns alone and rolls
#: alone this many degrees apart (up to :data:`MAX_TILT_DEG`) before the head counts as upright.
CROSS_STEP_DEG = 10.0


def _normal(yaw: float, roll: float) -> np.ndarray:
    """+X turned by ``yaw`` degrees about +Y, then ``roll`` degrees about +Z."""
    a, b = np.radians(yaw), np.radians(roll)
    n = np.array([np.cos(a), 0.0, -np.sin(a)])
    return np.array([n[0] * np.cos(b), n[0] * np.sin(b), n[2]])


def _residual(v: np.ndarray, tree, n: np.ndarray) -> float:
    d = float(np.mean(v @ n))  # a symmetric head's centroid lies on its mirror plane
    r = v - 2.0 * (v @ n - d)[:, None] * n
    return float(np.median(tree.query(r)[0]))


def mirror_plane(vertices: np.ndarray, sample: int = 2000, seed: int = 0) -> tuple[np.ndarray, float, float]:
    """Fit the mirror plane of a roughly upright head's points (V, 3) (module doc).

    Returns:
        ``(normal (3,), residual, residual_x)``: the unit normal (``normal[0] > 0``), the median
        reflected-point distance about the fitted plane and about x = const (through the
        centroid), both in units of the points' bounding-box diagonal.
    """
    from scipy.spatial import cKDTree

    v = np.asarray(vertices, dtype=np.float64)
    if len(v) > sample:
        v = v[np.random.default_rng(seed).choice(len(v), sample, replace=False)]
    diag = float(np.linalg.norm(np.ptp(v, axis=0))) or 1.0
    tree = cKDTree(v)
    x = np.array([1.0, 0.0, 0.0])
    res_x = _residual(v, tree, x)
    near = [_residual(v, tree, _normal(a, b)) for a in (-5, 0, 5) for b in (-5, 0, 5) if a or b]
    # the median residual is bumpy: x = const can be a local minimum 20 degrees from the mirror
    # plane, so turns and rolls alone are tried out to MAX_TILT_DEG too (CROSS_STEP_DEG apart)
    cross = np.arange(CROSS_STEP_DEG, MAX_TILT_DEG + 1e-9, CROSS_STEP_DEG)
    near += [_residual(v, tree, _normal(s * a, 0.0)) for a in cross for s in (-1, 1)]
    near += [_residual(v, tree, _normal(0.0, s * a)) for a in cross for s in (-1, 1)]
    if min(near) >= res_x:  # upright: x = const mirrors the head best among its neighbours
        return x, res_x / diag, res_x / diag
    steps = np.arange(-MAX_TILT_DEG, MAX_TILT_DEG + 1e-9, 5.0)
    best, n = res_x, x
    for yaw in steps:
        for roll in steps:
            m = _normal(yaw, roll)
            r = _residual(v, tree, m)
            if r < best:
                best, n = r, m
    for _ in range(20):  # reflective ICP from the best grid plane
        d = float(np.mean(v @ n))
        dist, j = tree.query(v - 2.0 * (v @ n - d)[:, None] * n)
        keep = dist <= 2.0 * np.median(dist) + 1e-12 * diag
        w = v[keep] - v[j[keep]]  # along the normal for a mirrored pair
        w = w[np.linalg.norm(w, axis=1) > 0.05 * diag]
        if len(w) < 10:
            break
        new = np.linalg.svd(w, full_matrices=False)[2][0]
        new = new * np.sign(new[0] or 1.0)
        if _residual(v, tree, new) >= _residual(v, tree, n):
            break
        n = new
    return n, _residual(v, tree, n) / diag, res_x / diag


def level_rotation(vertices: np.ndarray) -> tuple[np.ndarray | None, float]:
    """The rotation (3, 3) that turns a slightly tilted head's mirror plane (vertices (V, 3), +Y up,
    face toward +Z) onto the left-right plane, and the tilt in degrees.

    Returns ``(None, tilt)`` unless the tilt is between :data:`MIN_TILT_DEG` and
    :data:`MAX_TILT_DEG` and the fitted plane mirrors the head clearly better than x = const
    (:data:`MAX_RESIDUAL_RATIO`). Apply as ``vertices @ R.T`` (about any centre)."""
    n, res, res_x = mirror_plane(vertices)
    x = np.array([1.0, 0.0, 0.0])
    tilt = float(np.degrees(np.arccos(np.clip(n @ x, -1.0, 1.0))))
    if not (MIN_TILT_DEG <= tilt <= MAX_TILT_DEG + 5.0 and res <= MAX_RESIDUAL_RATIO * res_x):
        return None, tilt
    from scipy.spatial.transform import Rotation

    axis = np.cross(n, x)
    axis /= np.linalg.norm(axis)
    return Rotation.from_rotvec(axis * np.radians(tilt)).as_matrix(), tilt  # R @ n = x

"""Front view by rays for ``facerig check``: which triangle each ray along -Z hits first.

An orthographic ray cast on a regular grid of the XY plane (rays travel along -Z, from the
viewer at +Z toward the face), written in NumPy: each triangle is tested only against the grid
points inside its XY bounding box, and the hit with the largest z wins. It answers "what is
seen from the front" (an eyeball through the lids, the inside of the mouth between the lips)
without a renderer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    """A regular grid of ray origins in the XY plane.

    Attributes:
        x0, y0: coordinates of point (0, 0); step: spacing; nx, ny: points per row / column.
    """

    x0: float
    y0: float
    step: float
    nx: int
    ny: int

    @classmethod
    def around(cls, xmin: float, xmax: float, ymin: float, ymax: float, step: float) -> Grid:
        """The grid with spacing ``step`` covering the box ``[xmin, xmax] x [ymin, ymax]``."""
        step = float(step)
        nx = max(1, int(np.floor((xmax - xmin) / step)) + 1)
        ny = max(1, int(np.floor((ymax - ymin) / step)) + 1)
        return cls(float(xmin), float(ymin), step, nx, ny)

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """Ray origins: ``(X, Y)`` each (ny, nx)."""
        return np.meshgrid(self.x0 + self.step * np.arange(self.nx), self.y0 + self.step * np.arange(self.ny))


def first_hits(vertices: np.ndarray, faces: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """First triangle hit by each ray of ``grid`` travelling along -Z.

    Args:
        vertices: (V, 3) positions. faces: (F, 3) int triangles (any subset of the mesh's faces).
        grid: the ray origins.

    Returns:
        ``(face (ny, nx) int64, depth (ny, nx) float64)``: row of ``faces`` hit first (-1 for a
        miss) and the z of that hit (-inf for a miss). Triangles seen edge-on are skipped.
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    face = -np.ones((grid.ny, grid.nx), np.int64)
    depth = np.full((grid.ny, grid.nx), -np.inf)
    if len(f) == 0:
        return face, depth
    t = v[f]  # (F,3,3)
    lo = (t[:, :, :2].min(1) - (grid.x0, grid.y0)) / grid.step
    hi = (t[:, :, :2].max(1) - (grid.x0, grid.y0)) / grid.step
    i0 = np.maximum(np.ceil(lo[:, 0]).astype(np.int64), 0)
    i1 = np.minimum(np.floor(hi[:, 0]).astype(np.int64), grid.nx - 1)
    j0 = np.maximum(np.ceil(lo[:, 1]).astype(np.int64), 0)
    j1 = np.minimum(np.floor(hi[:, 1]).astype(np.int64), grid.ny - 1)
    w = i1 - i0 + 1
    h = j1 - j0 + 1
    keep = (w > 0) & (h > 0)
    if not keep.any():
        return face, depth
    idx = np.flatnonzero(keep)
    n = (w * h)[idx]
    tri = np.repeat(idx, n)
    # position of each pair inside its triangle's box
    start = np.repeat(np.cumsum(n) - n, n)
    k = np.arange(tri.size) - start
    ii = i0[tri] + k % w[tri]
    jj = j0[tri] + k // w[tri]
    px = grid.x0 + grid.step * ii
    py = grid.y0 + grid.step * jj
    a, b, c = t[tri, 0], t[tri, 1], t[tri, 2]
    d = (b[:, 1] - c[:, 1]) * (a[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (a[:, 1] - c[:, 1])
    ok = np.abs(d) > 1e-30
    d = np.where(ok, d, 1.0)
    l0 = ((b[:, 1] - c[:, 1]) * (px - c[:, 0]) + (c[:, 0] - b[:, 0]) * (py - c[:, 1])) / d
    l1 = ((c[:, 1] - a[:, 1]) * (px - c[:, 0]) + (a[:, 0] - c[:, 0]) * (py - c[:, 1])) / d
    l2 = 1.0 - l0 - l1
    eps = -1e-9
    inside = ok & (l0 >= eps) & (l1 >= eps) & (l2 >= eps)
    if not inside.any():
        return face, depth
    z = (l0 * a[:, 2] + l1 * b[:, 2] + l2 * c[:, 2])[inside]
    pix = (jj * grid.nx + ii)[inside]
    tri = tri[inside]
    order = np.lexsort((z, pix))
    pix, z, tri = pix[order], z[order], tri[order]
    last = np.r_[pix[1:] != pix[:-1], True]
    face.ravel()[pix[last]] = tri[last]
    depth.ravel()[pix[last]] = z[last]
    return face, depth

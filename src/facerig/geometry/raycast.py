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


#: From this many faces on, :func:`first_hits` casts in two passes: the front half of the faces
#: first, then only the other faces its hits do not hide (same answer, far fewer ray tests).
TWO_PASS = 4000
#: Side (in rays) of the blocks whose nearest hit of the first pass decides what it hides.
_BLOCK = 8


def _ray_box(t: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rays each triangle's xy box can meet: ``(i0, i1, j0, j1)``, each (F,) int64 column and
    row bounds (inclusive; empty where ``i1 < i0`` or ``j1 < j0``) for triangles t (F, 3, 3)."""
    xy = t[:, :, :2]
    # the corners' min / max pairwise (the same values as .min(1) / .max(1), several times faster)
    lo = (np.minimum(np.minimum(xy[:, 0], xy[:, 1]), xy[:, 2]) - (grid.x0, grid.y0)) / grid.step
    hi = (np.maximum(np.maximum(xy[:, 0], xy[:, 1]), xy[:, 2]) - (grid.x0, grid.y0)) / grid.step
    i0 = np.maximum(np.ceil(lo[:, 0]).astype(np.int64), 0)
    i1 = np.minimum(np.floor(hi[:, 0]).astype(np.int64), grid.nx - 1)
    j0 = np.maximum(np.ceil(lo[:, 1]).astype(np.int64), 0)
    j1 = np.minimum(np.floor(hi[:, 1]).astype(np.int64), grid.ny - 1)
    return i0, i1, j0, j1


def first_hits(vertices: np.ndarray, faces: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """First triangle hit by each ray of ``grid`` travelling along -Z.

    Args:
        vertices: (V, 3) positions. faces: (F, 3) int triangles (any subset of the mesh's faces).
        grid: the ray origins.

    Returns:
        ``(face (ny, nx) int64, depth (ny, nx) float64)``: row of ``faces`` hit first (-1 for a
        miss) and the z of that hit (-inf for a miss); of hits at the same z, the last face's.
        Triangles seen edge-on are skipped.
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    if len(f) >= TWO_PASS:
        keep = _over_grid(v, f, grid)
        if not keep.all():  # the faces beside the grid meet no ray: cast the others (same answer)
            rows = np.flatnonzero(keep)
            face, depth = _first_hits(v, f[rows], grid)
            return np.where(face >= 0, rows[np.maximum(face, 0)], -1) if len(rows) else face, depth
    return _first_hits(v, f, grid)


def _over_grid(v: np.ndarray, f: np.ndarray, grid: Grid) -> np.ndarray:
    """(F,) bool: faces f (F, 3) of v (V, 3) that are not wholly beside the grid: :func:`over_rays`
    of all its rays."""
    return over_rays(v, f, grid, (0, grid.nx - 1, 0, grid.ny - 1))


def over_rays(v: np.ndarray, f: np.ndarray, grid: Grid, box: tuple[int, int, int, int]) -> np.ndarray:
    """(F,) bool: faces f (F, 3) of v (V, 3) not wholly beside the rays of ``grid`` in columns
    ``box[0]..box[1]`` and rows ``box[2]..box[3]`` (all corners left of the first column, right of
    the last, below the first row or above the last). A face beside them gets a box in
    :func:`_ray_box` that holds none of those rays (the same per-corner ``(x - x0) / step``: a
    monotone rounding, so its min / max over the corners is this one's), so leaving it out changes
    no hit of those rays. One code per vertex (a bit per side); a face is beside when its corners
    share a bit."""
    i0, i1, j0, j1 = box
    qx = (v[:, 0] - grid.x0) / grid.step
    qy = (v[:, 1] - grid.y0) / grid.step
    code = (qx < i0).astype(np.uint8)
    code |= (qx > i1).astype(np.uint8) << 1
    code |= (qy < j0).astype(np.uint8) << 2
    code |= (qy > j1).astype(np.uint8) << 3
    return (code[f[:, 0]] & code[f[:, 1]] & code[f[:, 2]]) == 0


def _first_hits(v: np.ndarray, f: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """:func:`first_hits` of v (V, 3) float64, f (F, 3) int64."""
    if len(f) < TWO_PASS:
        return _cast(v, f, grid)
    z = v[f, 2]
    zmax = np.maximum(np.maximum(z[:, 0], z[:, 1]), z[:, 2])
    zmin = np.minimum(np.minimum(z[:, 0], z[:, 1]), z[:, 2])
    front = zmax >= np.median(zmax)
    a, rest = np.flatnonzero(front), np.flatnonzero(~front)
    face_a, depth_a = _cast(v, f[a], grid)
    # a face lies behind the first pass wherever its box is when its highest corner is below the
    # nearest first-pass hit of every block its box touches (the smallest blocks it spans 2 x 2 of)
    i0, i1, j0, j1 = _ray_box(v[f[rest]], grid)
    boxed = (i1 >= i0) & (j1 >= j0)  # the others meet no ray
    zr, zn = zmax[rest], zmin[rest]
    margin = 1e-6 * (np.abs(zr) + (zr - zn)) + 1e-300  # far above rounding: no tie is lost
    hidden = np.zeros(len(rest), bool)
    todo = boxed.copy()
    B = _BLOCK
    while todo.any() and B < 4 * max(grid.nx, grid.ny):  # blocks of 8, 32, 128 ... rays
        nyb, nxb = -(-grid.ny // B), -(-grid.nx // B)
        pad = np.full((nyb * B, nxb * B), np.inf)
        pad[: grid.ny, : grid.nx] = depth_a
        block = pad.reshape(nyb, B, nxb, B).min((1, 3))
        bi0, bi1 = np.clip(i0, 0, grid.nx - 1) // B, np.clip(i1, 0, grid.nx - 1) // B
        bj0, bj1 = np.clip(j0, 0, grid.ny - 1) // B, np.clip(j1, 0, grid.ny - 1) // B
        fits = todo & (bi1 - bi0 <= 1) & (bj1 - bj0 <= 1)
        near = np.minimum(np.minimum(block[bj0, bi0], block[bj0, bi1]), np.minimum(block[bj1, bi0], block[bj1, bi1]))
        hidden |= fits & (zr + margin < near)
        todo &= ~fits
        B *= 4
    b = rest[boxed & ~hidden]
    face_b, depth_b = _cast(v, f[b], grid)
    face_a = np.where(face_a >= 0, a[np.maximum(face_a, 0)], -1) if len(a) else face_a
    face_b = np.where(face_b >= 0, b[np.maximum(face_b, 0)], -1) if len(b) else face_b
    take = (depth_b > depth_a) | ((depth_b == depth_a) & (face_b > face_a))  # ties: the last face
    return np.where(take, face_b, face_a), np.where(take, depth_b, depth_a)


def _cast(v: np.ndarray, f: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """:func:`first_hits` in one pass: v (V, 3) float64, f (F, 3) int64."""
    face = -np.ones((grid.ny, grid.nx), np.int64)
    depth = np.full((grid.ny, grid.nx), -np.inf)
    if len(f) == 0:
        return face, depth
    t = v[f]  # (F,3,3)
    i0, i1, j0, j1 = _ray_box(t, grid)
    w = i1 - i0 + 1
    h = j1 - j0 + 1
    keep = (w > 0) & (h > 0)
    if not keep.any():
        return face, depth
    idx = np.flatnonzero(keep)
    n = (w * h)[idx]
    # position of each pair inside its triangle's box (per-triangle values repeated per pair:
    # np.repeat, cheaper than gathering them by each pair's row)
    start = np.repeat(np.cumsum(n) - n, n)
    k = np.arange(start.size) - start
    jk, ik = np.divmod(k, np.repeat(w[idx], n))
    ii = np.repeat(i0[idx], n) + ik
    jj = np.repeat(j0[idx], n) + jk
    px = grid.x0 + grid.step * ii
    py = grid.y0 + grid.step * jj
    # per triangle once, then per ray (the same arithmetic, in the same order, as with its corners)
    a, b, c = t[idx, 0], t[idx, 1], t[idx, 2]
    by_c, cb_x, ca_y, ac_x = b[:, 1] - c[:, 1], c[:, 0] - b[:, 0], c[:, 1] - a[:, 1], a[:, 0] - c[:, 0]
    d = by_c * ac_x + cb_x * (a[:, 1] - c[:, 1])
    ok = np.abs(d) > 1e-30
    d = np.where(ok, d, 1.0)
    dx, dy = px - np.repeat(c[:, 0], n), py - np.repeat(c[:, 1], n)
    dr = np.repeat(d, n)
    l0 = (np.repeat(by_c, n) * dx + np.repeat(cb_x, n) * dy) / dr
    l1 = (np.repeat(ca_y, n) * dx + np.repeat(ac_x, n) * dy) / dr
    l2 = 1.0 - l0 - l1
    eps = -1e-9
    inside = (l0 >= eps) & (l1 >= eps) & (l2 >= eps)
    if not ok.all():
        inside &= np.repeat(ok, n)
    if not inside.any():
        return face, depth
    r = np.repeat(np.arange(len(idx)), n)[inside]  # each hit pair's row of idx
    z = l0[inside] * a[r, 2] + l1[inside] * b[r, 2] + l2[inside] * c[r, 2]
    pix = (jj * grid.nx + ii)[inside]
    tri = idx[r]
    # the hit with the largest z wins, of equal ones the last face (as a stable sort by (pixel, z) picks)
    best = np.full(grid.ny * grid.nx, -np.inf)
    np.maximum.at(best, pix, z)
    top = z == best[pix]
    win = np.full(grid.ny * grid.nx, -1, np.int64)
    np.maximum.at(win, pix[top], tri[top])
    hitp = win >= 0
    face.ravel()[hitp] = win[hitp]
    depth.ravel()[hitp] = best[hitp]
    return face, depth


def inside_polygon(x: np.ndarray, y: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Points (x, y) (any shape) inside the XY polygon poly (L, 2) (even-odd rule)."""
    inside = np.zeros(x.shape, bool)
    px, py = poly[:, 0], poly[:, 1]
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    for ax, ay, bx, by in zip(px, py, qx, qy):
        cross = (ay > y) != (by > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = ax + (y - ay) * (bx - ax) / (by - ay)
        inside ^= cross & (x < xi)
    return inside

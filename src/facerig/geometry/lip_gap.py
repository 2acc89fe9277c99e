"""The lip gap a shape opens on a head's mid-line: ``facerig check``'s ``mouth_open`` /
``mouth_close`` measure, which the rig's jaw step (:mod:`facerig.geometry.jaw`) also uses.

Rays from the front over a strip around the mid-plane (+Y up, face toward +Z) find, per column,
the longest run of rays between skin above and below that see nothing, teeth, or skin hidden at
neutral; the gap is the median over columns. Lengths in the layout's eye distance ``S``.
"""

from __future__ import annotations

import numpy as np

from facerig.geometry.face_parts import Layout
from facerig.geometry.raycast import Grid, first_hits


def _mouth_grid(lay: Layout, v0: np.ndarray, half_width: float, posed: np.ndarray | None = None) -> Grid:
    """Rays over the mid-line strip from below the chin (neutral or posed) to just under the eyes."""
    S = lay.scale
    skin = lay.labels == lay.skin
    sv = v0[skin]
    bottom = float(sv[:, 1].min()) if posed is None else min(float(sv[:, 1].min()), float(posed[skin, 1].min()))
    top = lay.eye_y - 0.3 * S if lay.eye_y is not None else float(sv[:, 1].max())
    return Grid.around(lay.mid_x - half_width, lay.mid_x + half_width, bottom - 0.02 * S, top, S / 150)


def lip_gap(
    vertices: np.ndarray,
    faces: np.ndarray,
    lay: Layout,
    seen0: np.ndarray,
    v0: np.ndarray,
    inside: np.ndarray | None = None,
) -> float:
    """Gap between the lips along the mid-line (median over 5 columns within 0.15 S of it), in units.

    Args:
        vertices: (V, 3) posed. faces: (F, 3). lay: the head's layout. seen0: (F,) bool faces seen
            from the front at neutral. v0: (V, 3) neutral (for the scan's extent). inside: (V,)
            bool, the walls of a fold between the lips (:attr:`facerig.geometry.mouth.Mouth.inside`).

    A ray sees into the mouth when it hits nothing, a mouth part, a face hidden at neutral, or a
    face of a fold's walls; the gap is the longest run of such rays with a seen-at-neutral hit
    at both ends.
    """
    grid = _mouth_grid(lay, v0, 0.15 * lay.scale, vertices)
    mouth = np.isin(lay.face_part, lay.mouth_parts)
    if inside is not None:
        ins = np.asarray(inside)[np.asarray(faces, np.int64)]
        mouth = mouth | (ins[:, 0] & ins[:, 1] & ins[:, 2])  # = ins.all(1)
    gaps = []
    f = np.asarray(faces, np.int64)
    xs = np.asarray(vertices)[:, 0][f]
    x_lo = np.minimum(np.minimum(xs[:, 0], xs[:, 1]), xs[:, 2])  # = xs.min(1), several times faster
    x_hi = np.maximum(np.maximum(xs[:, 0], xs[:, 1]), xs[:, 2])
    for x in np.linspace(grid.x0, grid.x0 + grid.step * (grid.nx - 1), 5):  # one column of rays each
        rows = np.flatnonzero((x_lo <= x) & (x_hi >= x))  # the faces its rays can meet (same hits)
        hit, _ = first_hits(vertices, f[rows], Grid(float(x), grid.y0, grid.step, 1, grid.ny))
        hit = np.where(hit >= 0, rows[np.maximum(hit, 0)], -1)
        col = ((hit < 0) | mouth[hit] | ~seen0[hit])[:, 0]
        ends = np.flatnonzero(~col)  # rays meeting seen skin: the longest run of others between two
        best = int((np.diff(ends) - 1).max()) if len(ends) > 1 else 0
        gaps.append(best * grid.step)
    return float(np.median(gaps))


def seen_at_neutral(v0: np.ndarray, faces: np.ndarray, lay: Layout) -> np.ndarray:
    """Faces (F,) bool seen from the front at neutral v0 (V, 3) over the mouth strip (finer rays):
    skin a posed shape uncovers is told from skin hidden at neutral by it."""
    grid = _mouth_grid(lay, v0, 0.25 * lay.scale)
    fine = Grid(grid.x0, grid.y0, grid.step * 0.75, int(grid.nx / 0.75), int(grid.ny / 0.75))
    f = np.asarray(faces, np.int64)
    rows = _faces_across(v0, f, fine.x0, fine.x0 + fine.step * (fine.nx - 1))
    hit, _ = first_hits(v0, f[rows], fine)
    hit = rows[hit[hit >= 0]]
    seen = np.zeros(len(faces), bool)
    seen[hit] = True
    return seen


def _faces_across(vertices: np.ndarray, faces: np.ndarray, x0: float, x1: float) -> np.ndarray:
    """Rows of faces (F, 3) reaching into the strip ``x0 <= x <= x1`` of vertices (V, 3): the only
    ones rays there can meet."""
    xs = np.asarray(vertices)[faces, 0]
    return np.flatnonzero((xs.max(1) >= x0) & (xs.min(1) <= x1))


def opening_measure(v0: np.ndarray, faces: np.ndarray, lay: Layout, inside: np.ndarray | None = None):
    """The ``mouth_open`` measure of one head as a function: ``delta (V, 3) -> (gap(v0 + delta) -
    gap(v0)) / S`` (:func:`lip_gap`) for a neutral v0 (V, 3), faces (F, 3), its layout and the
    mouth's inside (V,); what does not depend on the shape is computed once."""
    f = np.asarray(faces, np.int64)
    seen0 = seen_at_neutral(v0, f, lay)
    g0 = lip_gap(v0, f, lay, seen0, v0, inside)

    def measure(delta: np.ndarray) -> float:
        return float(lip_gap(v0 + delta, f, lay, seen0, v0, inside) - g0) / lay.scale

    return measure


def opening(
    v0: np.ndarray, faces: np.ndarray, lay: Layout, delta: np.ndarray, inside: np.ndarray | None = None
) -> float:
    """The lip gap a shape opens on the mid-line (the ``mouth_open`` value): ``(gap(v0 + delta)
    - gap(v0)) / S`` (:func:`opening_measure`)."""
    return opening_measure(v0, faces, lay, inside)(delta)

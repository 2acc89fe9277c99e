"""Where the head is on a body or a bust: the top of the mesh down to its neck.

Users bring whole characters (a MakeHuman, Mixamo or VRM body) or head-and-shoulders busts. The rig
network and its face probe expect a head: on a 17-unit body the probe measured a "face" with eyes
4.6 units apart (``benchmarks/head_on_body.py``). :func:`locate_head` finds the head from the
mesh's shape alone, in the ``up`` / ``forward`` axes the user gave:

1. the horizontal cross-sections of the surface (area-weighted samples in :data:`SLICES` slices of
   the height) give a width profile from the top down: the left-right extent ``wx`` and the
   front-back extent ``wz`` of each slice, ``size = sqrt(wx * wz)``;
2. a slice is a neck when, with the head's width the widest left-right extent above it, it lies
   :data:`MIN_HEAD_DEPTH` to :data:`MAX_HEAD_DEPTH` head widths below the top, its ``size`` is at
   most :data:`NECK` of the largest above it, and within :data:`SHOULDER_REACH` times its depth
   below it a slice is :data:`SHOULDERS` times wider than the head (shoulders: a neck stump, a bust
   that narrows, a creature's ears never are);
3. of those, the neck is the one narrowest left to right against the head's width: the head is
   everything above it, ``head_height`` deep;
4. it is a body (or a bust) when what lies below the neck is at least as tall as the head
   (:data:`BODY_BELOW`): a head whose shoulder stubs end just under the neck (the ICT FaceKit head, a
   sculpted bust) is not.

The crop to rig (:func:`crop_vertices`) reaches :data:`CROP_BELOW` head heights below the neck,
so that the rig's own falloff (:func:`facerig.models.finish.face_falloff`, 3.5 face sizes below the
face) has faded the motion to zero before the cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Horizontal slices of the mesh's height for the width profile.
SLICES = 400
#: Surface samples for the profile (area-weighted, fixed seed).
SAMPLES = 60_000
#: The shoulders are a slice this many times wider (left-right) than the head above it.
SHOULDERS = 1.6
#: The neck lies at least this many head widths below the top (a head is about as tall as 1.3 times
#: its width) ...
MIN_HEAD_DEPTH = 0.8
#: ... and at most this many (a head with its neck is under 2 widths tall).
MAX_HEAD_DEPTH = 2.5
#: The neck is at most this fraction of the head's largest cross-section (sqrt of its two extents).
NECK = 0.9
#: The shoulders lie within this many head heights below the neck.
SHOULDER_REACH = 1.5
#: A body or bust: the mesh below the neck is at least this many head heights tall.
BODY_BELOW = 1.0
#: The crop reaches this many head heights below the neck.
CROP_BELOW = 0.6


@dataclass(frozen=True)
class HeadRegion:
    """A head found on a body, in the mesh's units along its ``up`` axis.

    top: the mesh's highest point; neck: the height of the neck (the head is above it); cut: the
    height of the crop's lower end (:data:`CROP_BELOW` head heights below the neck); shoulders: the
    height of the first slice :data:`SHOULDERS` times wider than the head; head_width: the head's
    widest left-right extent; height: the mesh's height; center: (2,) the head's left-right and
    front-back centre at its widest slice, in the canonical frame (x right, z forward).
    """

    top: float
    neck: float
    cut: float
    shoulders: float
    head_width: float
    height: float
    center: tuple[float, float]

    @property
    def head_height(self) -> float:
        """Top to neck."""
        return self.top - self.neck

    @property
    def fraction(self) -> float:
        """The head's share of the mesh's height (about 1/7 on an adult body, 1/2 on a bust)."""
        return self.head_height / self.height

    def as_dict(self) -> dict:
        """JSON-ready summary (rounded)."""
        return {
            "head_height": round(self.head_height, 6),
            "mesh_height": round(self.height, 6),
            "fraction": round(self.fraction, 4),
            "neck": round(self.neck, 6),
            "cut": round(self.cut, 6),
            "head_width": round(self.head_width, 6),
        }


def width_profile(points: np.ndarray, slices: int = SLICES) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal cross-sections of canonical-frame points (N, 3) (y up) from the top down:
    ``(depth, wx, wz, cx)``, each (slices,): the slice's depth below the top (its middle), its
    left-right and front-back extents (NaN where no point falls), and its left-right middle."""
    p = np.asarray(points, np.float64)
    y = p[:, 1]
    top, H = float(y.max()), float(np.ptp(y))
    k = np.minimum(((top - y) / max(H, 1e-300) * slices).astype(np.int64), slices - 1)
    wx = np.full(slices, np.nan)
    wz = np.full(slices, np.nan)
    cx = np.full(slices, np.nan)
    order = np.argsort(k.astype(np.int16) if slices <= 32767 else k, kind="stable")  # int16: a radix sort
    s = p[order]
    count = np.bincount(k, minlength=slices)
    filled = np.flatnonzero(count)  # one reduction per slice holding points: exact minima and maxima
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])[filled]
    lo, hi = np.minimum.reduceat(s, starts, axis=0), np.maximum.reduceat(s, starts, axis=0)
    enough = count[filled] >= 3
    i = filled[enough]
    lo, hi = lo[enough], hi[enough]
    wx[i], wz[i], cx[i] = hi[:, 0] - lo[:, 0], hi[:, 2] - lo[:, 2], 0.5 * (hi[:, 0] + lo[:, 0])
    depth = (np.arange(slices) + 0.5) * H / slices
    return depth, wx, wz, cx


def turn_points(points: np.ndarray, up: str = "+y", forward: str = "+z") -> np.ndarray:
    """``points @ orientation_matrix(up, forward).T`` (N, 3) for points (N, 3), by picking and
    negating coordinates (the same values, without a matrix product over every point)."""
    from facerig.geometry.frame import orientation_matrix

    R = orientation_matrix(up, forward)
    axis = np.argmax(np.abs(R), axis=1)
    p = np.asarray(points, np.float64)[:, axis]
    return p * R[np.arange(3), axis]


def locate_head(
    vertices: np.ndarray, faces: np.ndarray, up: str = "+y", forward: str = "+z", *, seed: int = 0
) -> HeadRegion | None:
    """The head on a body or bust (module doc), or None when the mesh is a head (no shoulders
    :data:`SHOULDERS` times its width below a neck, or less body below the neck than
    :data:`BODY_BELOW` head heights).

    Args:
        vertices: (V, 3); faces: (F, 3) int triangles; up, forward: the mesh's axes (``"+y"``,
            ``"-z"`` ...), as for ``facerig rig``.

    Returns:
        :class:`HeadRegion` (heights along ``up``, in the mesh's units) or None.
    """
    from facerig.geometry.frame import orientation_matrix
    from facerig.geometry.orient import surface_samples

    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    if len(f) == 0 or len(v) == 0:
        return None
    R = orientation_matrix(up, forward)
    with np.errstate(all="ignore"):
        pts, _ = surface_samples(v @ R.T, f, n=SAMPLES, seed=seed)
    return locate_in_samples(pts)


def locate_in_samples(pts: np.ndarray) -> HeadRegion | None:
    """:func:`locate_head` on surface samples (N, 3) already in the canonical frame (y up, z
    forward; :func:`facerig.geometry.orient.surface_samples` of the turned mesh)."""
    if len(pts) == 0 or not np.isfinite(pts).all():
        return None
    top, H = float(pts[:, 1].max()), float(np.ptp(pts[:, 1]))
    if not H > 0:
        return None
    depth, wx, wz, cx = width_profile(pts)
    size = np.sqrt(wx * wz)
    ok = np.isfinite(wx)
    head_w = np.maximum.accumulate(np.where(ok, wx, 0.0))  # the widest slice so far, from the top
    head_s = np.maximum.accumulate(np.where(ok, size, 0.0))
    # the neck candidates (module doc, 2.): deep enough below the top and narrower than the head ...
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero(
            ok
            & (head_w > 0)
            & (MIN_HEAD_DEPTH * head_w <= depth)
            & (depth <= MAX_HEAD_DEPTH * head_w)
            & (size <= NECK * head_s)
        )
    if cand.size == 0:
        return None
    # ... with shoulders SHOULDERS times the head's width in the slices (i, reach] below them
    t = depth[cand]
    reach = np.searchsorted(depth, t + SHOULDER_REACH * t, side="right")
    j = np.arange(len(depth))
    window = (j[None, :] > cand[:, None]) & (j[None, :] < reach[:, None]) & ok[None, :]
    wide = window & (np.where(ok, wx, -np.inf)[None, :] >= SHOULDERS * head_w[cand][:, None])
    has = wide.any(1)
    if not has.any():
        return None
    cand, wide = cand[has], wide[has]
    ratio = wx[cand] / head_w[cand]
    pick = int(np.argmin(ratio))  # the narrowest neck against its head (the first of equals)
    best = (float(ratio[pick]), int(cand[pick]), int(np.argmax(wide[pick])))
    _, neck_i, shoulders = best
    head_h, head_w = float(depth[neck_i]), float(head_w[neck_i])
    if H - head_h < BODY_BELOW * head_h:
        return None
    widest = int(np.nanargmax(np.where(np.arange(len(wx)) < neck_i, wx, np.nan)))
    zs = pts[np.abs(top - pts[:, 1] - depth[widest]) <= H / SLICES, 2]
    center = (float(cx[widest]), float(0.5 * (zs.min() + zs.max())) if zs.size else 0.0)
    neck = top - head_h
    return HeadRegion(
        top=top,
        neck=neck,
        cut=neck - CROP_BELOW * head_h,
        shoulders=top - float(depth[shoulders]),
        head_width=head_w,
        height=H,
        center=center,
    )


def crop_vertices(
    vertices: np.ndarray, faces: np.ndarray, region: HeadRegion, up: str = "+y", forward: str = "+z"
) -> np.ndarray:
    """(V,) bool: the vertices of the head crop of ``region``: those of the faces lying wholly above
    ``region.cut`` (along ``up``), in the connected pieces of those faces whose centre lies within
    one head width of the head's centre (left-right and front-back) and that are either a whole
    part of the mesh (eyeballs, teeth, tongue, lashes) or reach the head's upper half (the skin of
    the head, its neck and the top of the shoulders); not the ends of arms raised above the cut, nor
    the top of a separate body piece under the head. vertices (V, 3), faces (F, 3)."""
    from facerig.geometry.components import connected_components
    from facerig.geometry.frame import orientation_matrix

    v = np.asarray(vertices, np.float64) @ orientation_matrix(up, forward).T
    f = np.asarray(faces, np.int64)
    above = v[:, 1] >= region.cut
    kept = f[above[f].all(1)]
    inside = np.zeros(len(v), bool)
    if len(kept) == 0:
        return inside
    parts = connected_components(len(v), f)
    whole = np.ones(int(parts.max()) + 1, bool)
    whole[parts[~above]] = False  # parts reaching below the cut
    labels = connected_components(len(v), kept)
    used = np.zeros(len(v), bool)
    used[kept.ravel()] = True
    lab = labels[used]
    n = int(lab.max()) + 1
    cnt = np.bincount(lab, minlength=n).astype(np.float64)
    cx = np.bincount(lab, v[used, 0], n) / np.maximum(cnt, 1)
    cz = np.bincount(lab, v[used, 2], n) / np.maximum(cnt, 1)
    high = np.full(n, -np.inf)
    np.maximum.at(high, lab, v[used, 1])
    is_whole = np.zeros(n, bool)
    is_whole[lab] = whole[parts[used]]
    near = np.hypot(cx - region.center[0], cz - region.center[1]) <= region.head_width
    reaches = high >= region.neck + 0.5 * region.head_height
    inside[used] = (near & (is_whole | reaches))[lab]
    return inside

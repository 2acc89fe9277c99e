"""Where things are on a head, for ``facerig check``: skin, eyeballs or eye holes, mouth parts.

Coordinates are the face frame: +Y up, face toward +Z, the character's left at +X (rotate the
mesh first when it is not). Parts are connected components after stitching open seams
(:func:`facerig.geometry.weld.weld_seams`), so a head split along its UV seams still has one skin.

- skin: the part with the largest bounding box (not a loose piece away from the head or a floor,
  :func:`facerig.geometry.junk.loose_junk`);
- eyeballs: a left/right pair of other parts, mirrored across the mid-plane, shaped like a
  ball or a cap (extents sorted: the second >= 0.55 and the third >= 0.3 of the largest; on a
  least-squares sphere to 10 % of its radius, spanning >= 1.2 radii, <= 12 % boundary edges
  and an outline at most 1.2 x a flat disc's at any mesh density: not a lash card or strip, a
  whisker, an ear or a thin shell in front of the eye), the pair on the largest spheres winning;
- eye holes (no eyeballs): a mirrored pair of the skin's boundary loops (duplicate vertices
  merged) in the front half of the head (a face mask's eye openings), the pair with the largest
  area seen from the front;
- mouth parts (teeth, gums, tongue): other parts closer to the mid-plane than a third of the
  eye distance, below the eyes, inside the skin's bounding box (or at most half an eye distance
  behind it), and not more than :data:`MOUTH_PART_BEHIND` eye distances behind the eyes (a
  rivet at the back of a robot's helmet is not its teeth); none on a head without eyes.

``scale`` is the distance between the eyes (or 0.4 x the skin's width without eyes): every
distance threshold of the check is a multiple of it, so the check does not depend on units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Most outline an eyeball part may have: L**2 / (4 pi A) of its open edges (L) and area (A)
#: (:func:`facerig.geometry.components.outline_ratio`): 0 for a closed ball, 0.5 for a hemisphere
#: cap, 1 for a flat disc; the occlusion shells around the ICT eyes have 2.1, the tear strips in
#: front of them 1.5, the eyeballs and caps of the public and validation heads <= 0.96.
_OUTLINE_MAX = 1.2

#: Deepest a mouth part's centroid may lie behind the eyes, in eye distances (about the depth of the
#: ears): the teeth and tongues of the public and validation heads lie within 0.33 (ICT); the
#: rivets around the robot's helmet (heads/robot_expressive_head) 1.5 and more.
MOUTH_PART_BEHIND = 1.0


@dataclass
class Eye:
    """One eye seen from the front.

    Attributes:
        side: "Left" (+X) or "Right" (-X).
        kind: "eyeball" or "hole".
        center: (3,) centre (eyeball centroid, or loop centroid).
        radius: half the larger XY extent.
        faces: (Fe,) rows of the mesh's faces belonging to the eyeball (empty for a hole).
        loop: (L,) vertex indices of the hole's boundary loop (empty for an eyeball).
    """

    side: str
    kind: str
    center: np.ndarray
    radius: float
    faces: np.ndarray
    loop: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass
class Layout:
    """Parts of a head (see module doc).

    Attributes:
        labels: (V,) part of each vertex; face_part: (F,) part of each face.
        skin: label of the skin part.
        eyes: eyes found (0 or 2); eyeball_parts: their labels; mouth_parts: labels of teeth etc.
        mid_x: x of the mid-plane; eye_y, eye_z: height and depth of the eyes (None without eyes).
        scale: eye distance (or 0.4 x skin width).
    """

    labels: np.ndarray
    face_part: np.ndarray
    skin: int
    eyes: list[Eye]
    eyeball_parts: list[int]
    mouth_parts: list[int]
    mid_x: float
    eye_y: float | None
    eye_z: float | None
    scale: float


def pitched_layout(layout: Layout, rotation: np.ndarray) -> Layout:
    """The :class:`Layout` of the same head turned by ``rotation`` (3, 3) about +X (a pitch, which
    keeps the mid-plane and the eye distance): the eyes' centres and height and depth turned with
    it, the parts as they are."""
    from dataclasses import replace

    R = np.asarray(rotation, np.float64)
    eyes = [replace(e, center=R @ np.asarray(e.center, np.float64)) for e in layout.eyes]
    if not eyes:
        return replace(layout, eyes=eyes)
    c = 0.5 * (eyes[0].center + eyes[1].center)
    return replace(layout, eyes=eyes, eye_y=float(c[1]), eye_z=float(c[2]))


def part_labels(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V,) connected-component labels after stitching open seams (vertices (V,3), faces (F,3))."""
    from facerig.geometry.components import connected_components
    from facerig.geometry.weld import weld_seams

    _, wf, index = weld_seams(vertices, faces)
    lab = connected_components(int(index.max()) + 1 if index.size else 0, wf)
    return lab[index]


def boundary_loops(faces: np.ndarray) -> list[np.ndarray]:
    """Closed boundary loops of a triangle set: faces (F,3) -> list of (L,) vertex index arrays.

    Edges used by one face are chained head to tail; vertices where several loops touch are
    followed in the order met (a loop that cannot close is dropped).
    """
    f = np.asarray(faces, dtype=np.int64)
    if f.size == 0:
        return []
    a, b = f.ravel(), f[:, [1, 2, 0]].ravel()
    key = np.minimum(a, b) * (int(f.max()) + 1) + np.maximum(a, b)
    _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    border = cnt[inv] == 1
    nxt: dict[int, list[int]] = {}
    for x, y in zip(a[border].tolist(), b[border].tolist()):
        nxt.setdefault(x, []).append(y)
    loops = []
    while nxt:
        start = next(iter(nxt))
        loop = [start]
        cur = start
        while True:
            outs = nxt.get(cur)
            if not outs:
                break
            y = outs.pop()
            if not outs:
                del nxt[cur]
            if y == start:
                loops.append(np.array(loop, np.int64))
                break
            loop.append(y)
            cur = y
    return loops


def _area_xy(p: np.ndarray) -> float:
    """Area of a closed polygon (L, >=2) projected on XY (shoelace, absolute)."""
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def fit_sphere(p: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Least-squares sphere through points (N, 3) -> (centre (3,), radius, RMS residual / radius)."""
    A = np.c_[2 * p, np.ones(len(p))]
    sol = np.linalg.lstsq(A, (p**2).sum(1), rcond=None)[0]
    c = sol[:3]
    r = float(np.sqrt(max(sol[3] + c @ c, 0.0)))
    res = float(np.sqrt(((np.linalg.norm(p - c, axis=1) - r) ** 2).mean()) / r) if r > 0 else np.inf
    return c, r, res


class _PartRows:
    """The vertices of each part: ``rows(p)`` = ``np.flatnonzero(labels == p)`` (V,) from one stable
    sort, so that looking at every part costs one pass, not one per part."""

    def __init__(self, labels: np.ndarray):
        self.order = np.argsort(labels, kind="stable")
        self.sorted = labels[self.order]

    def rows(self, p: int) -> np.ndarray:
        lo = int(np.searchsorted(self.sorted, p, side="left"))
        hi = int(np.searchsorted(self.sorted, p, side="right"))
        return self.order[lo:hi]


def _eyeball_pair(
    v: np.ndarray, f: np.ndarray, labels: np.ndarray, skin: int, mid_x: float, skin_lo, skin_hi, parts=None
):
    """Best mirrored pair of ball-shaped parts -> (left label, right label) or None. ``parts``:
    the :class:`_PartRows` of ``labels`` when already made."""
    from facerig.geometry.components import boundary_ratio, outline_ratio

    parts = _PartRows(labels) if parts is None else parts
    size = skin_hi - skin_lo
    cands = []
    fpart = labels[f[:, 0]]
    for p in np.unique(labels):
        if p == skin:
            continue
        pv = v[parts.rows(p)]
        if len(pv) < 8:
            continue
        ext = pv.max(0) - pv.min(0)
        e1, e2, e3 = np.sort(ext)[::-1]
        if e1 <= 0 or e2 < 0.55 * e1 or e3 < 0.3 * e1 or e1 > 0.35 * size[0]:
            continue
        _, r, res = fit_sphere(pv)
        if res > 0.1 or e1 < 1.2 * r:  # not on a sphere, or a shallow shell of a large one
            continue
        pf = f[fpart == p]
        if boundary_ratio(pf) > 0.12:  # a curved strip (lashes), not a ball or a cap
            continue
        if outline_ratio(v, pf) > _OUTLINE_MAX:  # the same at any mesh density (a subdivided strip
            continue  # has a smaller share of boundary edges, not a shorter outline)
        c = 0.5 * (pv.max(0) + pv.min(0))
        if abs(c[0] - mid_x) < 0.05 * size[0]:
            continue
        cands.append((int(p), c, ext, r))
    best, best_r = None, -np.inf
    for i, (p, c, e, rp) in enumerate(cands):
        for q, d, g, rq in cands[i + 1 :]:
            r = max(e.max(), g.max())
            mirrored = (
                abs((c[0] - mid_x) + (d[0] - mid_x)) < 0.5 * r
                and abs(c[1] - d[1]) < 0.5 * r
                and abs(c[2] - d[2]) < 0.5 * r
                and abs(e.max() - g.max()) < 0.25 * r
            )
            if mirrored and rp + rq > best_r:
                best, best_r = ((p, q) if c[0] > d[0] else (q, p)), rp + rq
    return best


def find_layout(vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray | None = None) -> Layout:
    """Find skin, eyes and mouth parts of a head in the face frame (see module doc).

    Args:
        vertices: (V, 3) neutral. faces: (F, 3) int triangles. labels: (V,) parts (default
            :func:`part_labels`).

    Returns:
        :class:`Layout`.
    """
    from facerig.geometry.junk import loose_junk

    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    labels = part_labels(v, f) if labels is None else np.asarray(labels, dtype=np.int64)
    face_part = labels[f[:, 0]] if len(f) else np.zeros(0, np.int64)
    used = np.unique(face_part)
    junk = loose_junk(v, f, labels)  # a floor or stray pieces are not the skin
    junk_parts = set(np.unique(labels[junk]).tolist())
    parts = _PartRows(labels)  # v[parts.rows(p)] is v[labels == p], the same rows in the same order
    diag = [float(np.linalg.norm(np.ptp(v[parts.rows(p)], axis=0))) * (int(p) not in junk_parts) for p in used]
    skin = int(used[int(np.argmax(diag))]) if used.size else 0
    sv = v[parts.rows(skin)]
    skin_lo, skin_hi = sv.min(0), sv.max(0)
    mid_x = float(0.5 * (skin_lo[0] + skin_hi[0]))
    eyes: list[Eye] = []
    eyeball_parts: list[int] = []
    pair = _eyeball_pair(v, f, labels, skin, mid_x, skin_lo, skin_hi, parts)
    if pair is not None:
        for side, p in zip(("Left", "Right"), pair):
            pv = v[parts.rows(p)]
            c = 0.5 * (pv.max(0) + pv.min(0))
            r = 0.5 * float(np.ptp(pv[:, :2], axis=0).max())
            eyes.append(Eye(side, "eyeball", c, r, np.flatnonzero(face_part == p)))
        eyeball_parts = list(pair)
    else:
        eyes = _eye_holes(v, f[face_part == skin], mid_x, skin_lo, skin_hi)
    if eyes:
        mid_x = float(0.5 * (eyes[0].center[0] + eyes[1].center[0]))
        scale = float(abs(eyes[0].center[0] - eyes[1].center[0]))
        eye_y = float(0.5 * (eyes[0].center[1] + eyes[1].center[1]))
        eye_z = float(0.5 * (eyes[0].center[2] + eyes[1].center[2]))
    else:
        scale = 0.4 * float(skin_hi[0] - skin_lo[0])
        eye_y = eye_z = None
    mouth_parts = []
    for p in used if eyes else []:  # without eyes there is no telling where the mouth is
        if p == skin or p in eyeball_parts:
            continue
        pv = v[parts.rows(p)]
        c = pv.mean(0)
        if abs(c[0] - mid_x) > scale / 3 or c[1] > eye_y - 0.4 * scale:
            continue
        if (
            np.any(c[:2] < skin_lo[:2])
            or np.any(c[:2] > skin_hi[:2])
            or c[2] > skin_hi[2]
            or c[2] < skin_lo[2] - 0.5 * scale
            or c[2] < eye_z - MOUTH_PART_BEHIND * scale  # far behind the face: a rivet, a bun, not teeth
        ):
            continue
        mouth_parts.append(int(p))
    return Layout(labels, face_part, skin, eyes, eyeball_parts, mouth_parts, mid_x, eye_y, eye_z, max(scale, 1e-12))


def _eye_holes(v: np.ndarray, skin_faces: np.ndarray, mid_x: float, lo: np.ndarray, hi: np.ndarray) -> list[Eye]:
    """A mirrored pair of the skin's boundary loops in the upper half (largest front area), or [].

    Loops are those of the skin with duplicate vertices merged: a mesh exported flat-shaded
    (every face on its own corners, heads/robot_expressive_head) has no holes for all its open
    edges. The loops' vertices are the first row of each merged position."""
    width = float(hi[0] - lo[0])
    used = np.unique(skin_faces)
    _, first, same = np.unique(v[used], axis=0, return_index=True, return_inverse=True)
    rep = used[first]  # (U,) an original row of each distinct position
    index = np.zeros(len(v), np.int64)
    index[used] = same.reshape(-1)
    loops = [rep[lp] for lp in boundary_loops(index[skin_faces])]
    if len(loops) < 2:
        return []
    info = []
    perim = [float(np.linalg.norm(v[lp] - v[np.roll(lp, -1)], axis=1).sum()) for lp in loops]
    outer = int(np.argmax(perim))
    for i, lp in enumerate(loops):
        if i == outer or len(lp) < 4:
            continue
        p = v[lp]
        c = p.mean(0)
        r = 0.5 * float(np.ptp(p[:, :2], axis=0).max())
        if abs(c[0] - mid_x) < 0.05 * width or r > 0.25 * width or c[2] < 0.5 * (lo[2] + hi[2]):
            continue  # on the mid-line (the mouth), too large, or in the back half of the head
        info.append((lp, c, r, _area_xy(p)))
    best, best_area = None, 0.0
    for i, (lp, c, r, a) in enumerate(info):
        for lq, d, s, b in info[i + 1 :]:
            rr = max(r, s)
            if (
                abs((c[0] - mid_x) + (d[0] - mid_x)) < 0.5 * rr
                and abs(c[1] - d[1]) < rr
                and abs(c[2] - d[2]) < rr
                and min(a, b) > 0
                and c[1] > 0.5 * (lo[1] + hi[1]) - 0.25 * (hi[1] - lo[1])
                and a + b > best_area
            ):
                best, best_area = ((lp, c, r), (lq, d, s)) if c[0] > d[0] else ((lq, d, s), (lp, c, r)), a + b
    if best is None:
        return []
    return [Eye(side, "hole", c, r, np.zeros(0, np.int64), lp) for side, (lp, c, r) in zip(("Left", "Right"), best)]

"""What every rig gets after its method ran on the usable part of a mesh.

:func:`facerig.models.registry.rig_mesh` runs a method on the triangles it can use (degenerate
and duplicate triangles dropped, vertices no triangle uses left out); these functions then make
the rig whole and consistent, on plain arrays:

- :func:`fill_unused`: vertices the method did not see move with the surface next to them: a
  vertex used only by dropped triangles with the kept triangles around its neighbours in them,
  an isolated vertex with the nearest point of the surface (barycentric interpolation of the
  deltas there), so no sliver opens between a loose vertex and the face it sits on.
- :func:`share_coincident`: vertices at exactly the same position (a seam split by an
  exporter, an unmerged mirror half) get one delta, the mean of theirs (not two points of one
  closed surface that merely touch: a mouth modelled as a closed slit keeps its two lips).
- :func:`face_falloff`: motion fades out with the distance from the face the rig itself moves
  (eyes and mouth found from its blink and lip shapes, as the face probe finds them), so a
  bust's base or shoulders do not move with the jaw; in the rig's frame it also fades below the
  neck and behind the ears, where no author's rig moves (a robot's casing, the back of a skull),
  and to nothing at a cut below the jaw (the open boundary where a neck or a bust ends).
- :func:`untangle_folds`: triangles a shape turns over (the chin folding under itself in jawOpen)
  are smoothed out locally (:func:`facerig.geometry.untangle.untangle`).
- :func:`pad_to_arkit52`: a rig with ARKit names carries all 52 in Apple's order.
"""

from __future__ import annotations

import numpy as np

#: :func:`face_falloff`: motion is kept in full within ``inner`` face sizes of the face centre
#: (the mean of the two eyes and the mouth) and fades to zero (cosine) at ``outer`` face sizes,
#: the face size being sqrt(eye distance x eye-to-mouth distance). A human face is about 1.5
#: face sizes from the face centre to the chin and 3 to the crown or the back of the skull, so
#: ``inner`` keeps the whole head, jaw, throat and ears (benchmarks/results/falloff.json: the
#: validation rigs' own motion beyond ``inner``); a bust's base or a torso lies beyond ``outer``.
FALLOFF = {"inner": 3.5, "outer": 5.0}

#: :func:`face_falloff` in the rig's frame (``up`` / ``forward`` given): motion is also kept in
#: full down to ``below[0]`` face sizes below the face centre and faded to zero (cosine) at
#: ``below[1]``; likewise ``behind`` along the face's backward direction. Authors' rigs move the
#: throat and the neck with the jaw and the lips (ICT's platysma shapes down to ~3 face sizes
#: below the centre) and the ears and the jaw hinge (up to ~2 behind), but not the back of the
#: skull or the base of the neck (``python benchmarks/falloff.py EVALSET``, columns ``below`` and
#: ``behind``); ``facerig check``'s far region (4 eye distances below the eyes or 2.5 behind them,
#: about 3.5 and 2.5 face sizes from the centre) then lies past both fades. With the mesh's faces,
#: an open boundary loop lying wholly more than ``cut_below`` face sizes below the centre (below
#: the lower lip: around the neck or a bust's base, never the edge of a face mask, which runs up
#: around the face) is a cut, where a body or a stand that no expression moves begins: motion is 0
#: there and back in full ``cut_length`` face sizes from it. Authors' rigs end 1.9-3.5 face sizes
#: below the centre (``lowest_below`` in falloff.json) and barely move there; a neck cut right
#: under the jaw (the validation set's ``reframed_001``) loses some true motion (BENCHMARKS.md
#: "Falloff").
FALLOFF_FRAME = {"below": (3.0, 3.5), "behind": (2.0, 2.75), "cut_below": 1.25, "cut_length": 0.5}

#: Shapes whose motion places the eyes and the mouth for :func:`face_falloff` (those of the face
#: probe, :data:`facerig.models.raf.probe.FACE_PROBES`).
FACE_SHAPES = ("eyeBlinkLeft", "eyeBlinkRight", "mouthFunnel", "mouthPucker")


def fill_unused(
    vertices: np.ndarray, faces: np.ndarray, used: np.ndarray, deltas: np.ndarray, dropped: np.ndarray | None = None
) -> np.ndarray:
    """Deltas of the vertices no kept triangle uses, from the surface next to them.

    Args:
        vertices: (V, 3) positions.
        faces: (F, 3) kept triangles (what the method rigged).
        used: (V,) bool, vertices some kept triangle uses (their deltas are the method's).
        deltas: (K, V, 3) the rig; rows of unused vertices are overwritten (a copy is returned).
        dropped: (D, 3) dropped triangles (degenerate / duplicate), or None.

    Returns:
        (K, V, 3) float32: a vertex used only by dropped triangles reads the closest point of the
        kept triangles around its used neighbours in them; any other unused vertex reads the
        closest point of the whole kept surface.
    """
    from facerig.geometry.correspondence import closest_points, closest_points_among

    vertices = np.asarray(vertices, np.float64)
    faces = np.asarray(faces, np.int64)
    used = np.asarray(used, bool)
    out = np.array(deltas, dtype=np.float32, copy=True)
    loose = np.flatnonzero(~used)
    if loose.size == 0 or len(faces) == 0:
        return out
    face_of = np.full(len(loose), -1, np.int64)
    bary = np.zeros((len(loose), 3))
    if dropped is not None and len(dropped):
        # kept triangles around each loose vertex's used neighbours in the dropped triangles
        d = np.asarray(dropped, np.int64)
        pos = np.full(len(vertices), -1, np.int64)
        pos[loose] = np.arange(len(loose))
        a, b = np.repeat(d, 3, axis=1).ravel(), np.tile(d, (1, 3)).ravel()  # all corner pairs
        pairs = np.unique(np.stack([a, b], 1)[(pos[a] >= 0) & used[b]], axis=0)  # (loose, used neighbour)
        if len(pairs):
            inc_v, inc_f = faces.ravel(), np.repeat(np.arange(len(faces)), 3)
            order = np.argsort(inc_v, kind="stable")
            start = np.searchsorted(inc_v[order], np.arange(len(vertices) + 1))
            cnt = start[pairs[:, 1] + 1] - start[pairs[:, 1]]
            pi = np.repeat(pos[pairs[:, 0]], cnt)
            fi = inc_f[order][np.concatenate([np.arange(start[n], start[n + 1]) for n in pairs[:, 1]])]
            have = np.unique(pi)
            remap = np.full(len(loose), -1, np.int64)
            remap[have] = np.arange(len(have))
            f, bc, _ = closest_points_among(vertices[loose[have]], vertices, faces, remap[pi], fi)
            face_of[have], bary[have] = f, bc
    rest = face_of < 0
    if rest.any():
        f, bc, _ = closest_points(vertices[loose[rest]], vertices, faces)
        face_of[rest], bary[rest] = f, bc
    corners = faces[face_of]  # (L, 3)
    out[:, loose] = np.einsum("klcd,lc->kld", out[:, corners], bary.astype(np.float32))
    return out


def share_coincident(vertices: np.ndarray, deltas: np.ndarray, faces: np.ndarray | None = None) -> np.ndarray:
    """Vertices at exactly the same position get the mean of their deltas.

    vertices (V, 3), deltas (K, V, 3) -> (K, V, 3) float32 (``deltas`` itself when no two
    vertices coincide; a copy otherwise).

    With ``faces`` (F, 3), a group of coincident vertices that are all inside one connected
    piece of the mesh, none on an open boundary, keeps its own deltas: that is no exporter's
    seam (a seam's copies lie on open boundaries, a touching piece is another component) but two
    points of one closed surface that merely touch, as along a mouth modelled as a closed slit
    (``weboji_facecustom_human``: its lip line is 8 such pairs, one on each lip; sharing their
    deltas pulled every pair halfway, tearing the lips into spikes in jawOpen)."""
    v = np.ascontiguousarray(np.asarray(vertices, np.float64))
    if len(v) == 0:
        return deltas
    # groups of equal rows (as np.unique(v, axis=0) compares them: -0.0 == 0.0), by one lexsort:
    # several times faster; the groups, not their numbering, decide the result
    order = np.lexsort((v[:, 2], v[:, 1], v[:, 0]))
    s = v[order]
    start = np.ones(len(v), bool)
    start[1:] = (s[1:, 0] != s[:-1, 0]) | (s[1:, 1] != s[:-1, 1]) | (s[1:, 2] != s[:-1, 2])
    inverse = np.empty(len(v), np.int64)
    inverse[order] = np.cumsum(start) - 1
    counts = np.bincount(inverse)
    shared = counts[inverse] > 1
    if shared.any() and faces is not None and len(faces):
        shared &= ~_touching_points(len(v), np.asarray(faces, np.int64), inverse, shared)
    if not shared.any():
        return deltas
    idx = np.flatnonzero(shared)
    groups = np.unique(inverse[idx], return_inverse=True)[1].ravel()
    out = np.array(deltas, dtype=np.float32, copy=True)
    sums = np.zeros((out.shape[0], int(groups.max()) + 1, 3), np.float64)
    np.add.at(sums, (slice(None), groups), out[:, idx].astype(np.float64))
    out[:, idx] = (sums / np.bincount(groups)[None, :, None])[:, groups].astype(np.float32)
    return out


def _touching_points(n: int, faces: np.ndarray, group: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """(n,) bool: the coincident vertices (``shared`` (n,) bool, ``group`` (n,) their position's
    id) of groups lying wholly inside one connected component of faces (F, 3), none on an open
    boundary (an edge of one face) nor unused by the faces."""
    from facerig.geometry.components import connected_components
    from facerig.geometry.weld import boundary_edges

    open_ = np.zeros(n, bool)
    open_[np.unique(boundary_edges(faces))] = True
    open_[np.setdiff1d(np.arange(n), faces.ravel())] = True
    comp = connected_components(n, faces)
    idx = np.flatnonzero(shared)
    g = group[idx]
    first = np.full(int(group.max()) + 1, -1, np.int64)
    first[g[::-1]] = comp[idx[::-1]]  # a component of each group
    bad = np.zeros(len(first), bool)  # groups with a member open or in another component
    bad[g[open_[idx] | (comp[idx] != first[g])]] = True
    out = np.zeros(n, bool)
    out[idx[~bad[g]]] = True
    return out


def _fade(t: np.ndarray, inner: float, outer: float) -> np.ndarray:
    """1 up to ``inner``, 0 from ``outer``, a cosine in between: t (V,) -> (V,)."""
    x = np.clip((t - inner) / max(outer - inner, 1e-12), 0.0, 1.0)
    return 0.5 * (1.0 + np.cos(np.pi * x))


def _cut_weights(
    v: np.ndarray,
    faces: np.ndarray,
    below: np.ndarray,
    size: float,
    cut_below: float,
    length: float,
    reach: float | None = None,
) -> tuple[np.ndarray, int, tuple | None]:
    """Weights (V,) that are 0 on the mesh's cut below the face and rise (cosine) to 1 at
    ``length`` face sizes from it, the number of cut vertices, and ``(near, dist, away)``: the
    vertices within ``reach`` (default ``length``) face sizes below the cut's top (N,), their
    distance to it (N,, face sizes) and their unit direction away from their nearest cut vertex
    (N, 3) (None when there is no cut). The cut is every open boundary
    loop (after stitching exporter seams, :func:`facerig.geometry.weld.weld_seams`) lying wholly
    more than ``cut_below`` face sizes below the face centre (``below`` (V,) in face sizes): a
    neck's or a bust's cut, where the head meets a body or a stand that no expression moves. The
    edge of a face mask, which runs under the chin and up around the face, is none."""
    from scipy.spatial import cKDTree

    from facerig.geometry.components import connected_components
    from facerig.geometry.weld import boundary_edges, weld_seams

    w = np.ones(len(v))
    low = below > cut_below
    # only the triangles that reach below the jaw line: where this patch is cropped, its new
    # boundary runs through vertices above the line and joins any loop that continues upward
    sub = faces[low[faces].any(1)]
    if not len(sub):
        return w, 0, None
    _wv, wf, index = weld_seams(v, sub)
    edges = boundary_edges(wf)  # welded vertex ids
    if not len(edges):
        return w, 0, None
    n = int(index.max()) + 1
    low_w = np.zeros(n, bool)
    low_w[index[low]] = True
    loop = connected_components(n, edges)
    bv = np.unique(edges)
    high_loops = np.unique(loop[bv[~low_w[bv]]])  # loops reaching above the line
    cut_w = bv[low_w[bv] & ~np.isin(loop[bv], high_loops)]
    on = np.isin(index, cut_w)
    if not on.any():
        return w, 0, None
    from facerig.models.cut_fade import cosine_rise

    reach = max(length, length if reach is None else float(reach))
    near = np.flatnonzero(below > cut_below - reach)  # the others are > reach from any cut vertex
    dist, nearest = cKDTree(v[on]).query(v[near])
    away = v[near] - v[on][nearest]
    away /= np.maximum(np.linalg.norm(away, axis=1, keepdims=True), 1e-300)
    dist = dist / size
    inside = dist < length
    w[near[inside]] = cosine_rise(dist[inside], length)
    w[near[~inside]] = 1.0
    return w, int(on.sum()), (near, dist, away)


def face_falloff(
    vertices: np.ndarray,
    deltas: np.ndarray,
    names: list[str],
    inner: float | None = None,
    outer: float | None = None,
    *,
    up: str | np.ndarray | None = None,
    forward: str | np.ndarray | None = None,
    below: tuple[float, float] | None = None,
    behind: tuple[float, float] | None = None,
    faces: np.ndarray | None = None,
    cut: tuple[float, float] | None = None,
    per_shape: bool = False,
) -> tuple[np.ndarray | None, dict]:
    """Weights (V,) fading the rig's motion out far from the face, and what they were made from.

    The eyes and the mouth are where the rig's blinks and lip shapes (:data:`FACE_SHAPES`) move
    the surface (:func:`facerig.models.raf.probe.landmarks_from_motion` on ``vertices`` (V, 3)
    and ``deltas`` (K, V, 3)); the face centre is their mean and the face size ``s`` sqrt(eye
    distance x eye-to-mouth distance). The weight is 1 within ``inner`` x ``s`` of the centre,
    0 beyond ``outer`` x ``s``, a cosine in between (:data:`FALLOFF`). With the rig's ``up`` and
    ``forward`` axes (``"+y"``, or (3,) vectors) it is also multiplied by the same cosine fade of
    the height below the centre (``below`` = (inner, outer) face sizes) and of the depth behind
    it (``behind``; both default to :data:`FALLOFF_FRAME`). The weight is a smooth function of
    position: coincident vertices get the same one, whatever part they belong to. With
    ``per_shape``, the weights are (K, V): a shape the fade to a cut would fold over (its motion
    toward the cut faster than the fade allows) gets a longer fade there, which may keep part of
    its motion at the cut (:func:`facerig.models.cut_fade.fold_safe_fades`; info
    ``cut_lengthened``: {shape: [face sizes, share kept]}), the others the (V,) weights' row. Returns
    ``(None, {})`` when the rig lacks those shapes or they do not move.
    """
    from facerig.models.raf.probe import landmarks_from_motion

    inner = FALLOFF["inner"] if inner is None else float(inner)
    outer = FALLOFF["outer"] if outer is None else float(outer)
    if not set(FACE_SHAPES) <= set(names):
        return None, {}
    d = np.stack([np.asarray(deltas[list(names).index(n)], np.float64) for n in FACE_SHAPES])
    if not all(np.abs(s).max() > 0 for s in d):
        return None, {}
    v = np.asarray(vertices, np.float64)
    lm = landmarks_from_motion(v, d)
    size = float(np.sqrt(lm["iod"] * lm["eye_mouth"]))
    if not (np.isfinite(size) and size > 0):
        return None, {}
    center = (lm["eye_left"] + lm["eye_right"] + lm["mouth"]) / 3.0
    rel = (v - center) / size  # (V, 3) in face sizes
    w = _fade(np.linalg.norm(rel, axis=1), inner, outer)
    info = {
        "center": [round(float(c), 6) for c in center],
        "face_size": round(size, 6),
        "inner": inner,
        "outer": outer,
    }
    if up is not None and forward is not None:
        from facerig.geometry.frame import axis_vector

        u = axis_vector(up) if isinstance(up, str) else np.asarray(up, np.float64)
        f = axis_vector(forward) if isinstance(forward, str) else np.asarray(forward, np.float64)
        u = u / np.linalg.norm(u)
        f = f - (f @ u) * u
        f = f / np.linalg.norm(f)
        below = FALLOFF_FRAME["below"] if below is None else tuple(float(x) for x in below)
        behind = FALLOFF_FRAME["behind"] if behind is None else tuple(float(x) for x in behind)
        w = w * _fade(-(rel @ u), *below) * _fade(-(rel @ f), *behind)
        info.update(below=list(below), behind=list(behind))
        if faces is not None and len(faces):
            cut = (FALLOFF_FRAME["cut_below"], FALLOFF_FRAME["cut_length"]) if cut is None else cut
            from facerig.models.cut_fade import CUT_FADE

            reach = CUT_FADE["max_length"] if per_shape else None
            wc, n_cut, near = _cut_weights(v, np.asarray(faces, np.int64), -(rel @ u), size, *cut, reach=reach)
            if n_cut:
                base = w
                w = w * wc
                info.update(cut_below=float(cut[0]), cut_length=float(cut[1]), cut_vertices=n_cut)
                if per_shape:
                    w, longer = _fold_safe_cut(base, w, deltas, names, near, size, float(cut[1]))
                    if longer:
                        info["cut_lengthened"] = longer
    if per_shape and w.ndim == 1:
        w = np.broadcast_to(w, (len(names), len(w)))
    info["vertices_faded"] = int((w < 1).any(0).sum()) if w.ndim == 2 else int((w < 1).sum())
    info["vertices_still"] = int((w == 0).any(0).sum()) if w.ndim == 2 else int((w == 0).sum())
    return w, info


def _fold_safe_cut(
    base: np.ndarray, w: np.ndarray, deltas: np.ndarray, names: list[str], near: tuple, size: float, length: float
) -> tuple[np.ndarray, dict]:
    """(K, V) weights: ``w`` (V,) for each shape but those the cut's fade (``length`` face sizes)
    would fold, which get ``base`` (V,, the weights without the cut) x a longer fade, that may keep
    part of the motion at the cut (:func:`facerig.models.cut_fade.fold_safe_fades`; mouthClose,
    posed on jawOpen, at least jawOpen's), and {shape: [its fade length, the share kept at the cut]}.
    ``near`` = (vertices (N,), their distance to the cut (N,), directions away from it (N, 3))."""
    from facerig.models import cut_fade

    idx, dist, away = near
    d = np.asarray(deltas)[:, idx].astype(np.float64) * (base[idx] / size)[None, :, None]  # (K, N, 3) face sizes
    lengths, keep = cut_fade.fold_safe_fades(d, dist, away, length, **cut_fade.CUT_FADE)
    if "jawOpen" in names and "mouthClose" in names:  # mouthClose is posed on jawOpen: faded alike
        jaw, close = names.index("jawOpen"), names.index("mouthClose")
        lengths[close] = max(lengths[close], lengths[jaw])
        keep[close] = max(keep[close], keep[jaw])
    out = np.broadcast_to(w, (len(names), len(w)))
    longer = np.flatnonzero((lengths > length) | (keep > 0))
    if not len(longer):
        return out, {}
    out = np.array(out)
    for k in longer:
        out[k, idx] = base[idx] * (1.0 - (1.0 - keep[k]) * (1.0 - cut_fade.cosine_rise(dist, lengths[k])))
    return out, {names[k]: [round(float(lengths[k]), 4), round(float(keep[k]), 4)] for k in longer}


#: Shapes :func:`untangle_folds` leaves alone: authors' blinks tuck the lid into its crease
#: (MakeHuman, Weboji kangaroo, tiger: their blinks turn the most triangles of their rigs over),
#: and ARKit's mouthClose presses the lips through each other alone and together on top of
#: jawOpen, in ICT FaceKit's rigs too (untangling jawOpen + mouthClose moved facerig's mouthClose
#: 0.085 mm further from ICT's on average over the validation set).
#: The eye shapes are left alone too: the lids crease over the eyeball as it turns, and authors'
#: rigs fold there (ICT FaceKit's eyeLookDown on the example head folds 16-28 triangles; untangling
#: facerig's moved it 0.15-0.24 mm further from ICT's, active error 0.35 -> 0.59 mm;
#: ``benchmarks/untangle_example.py``).
UNTANGLE_SKIP = (
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "mouthClose",
    *(f"eye{m}{s}" for m in ("LookDown", "LookIn", "LookOut", "LookUp", "Squint", "Wide") for s in ("Left", "Right")),
)

#: :func:`untangle_folds` smooths a shape only when its folds on the head's largest piece cover at
#: least this many face sizes squared (:func:`face_falloff`'s face size): facerig's rigs of ICT
#: heads and ICT FaceKit's own fold about 0.001 there (lip corners, the inner lips; smoothing
#: folds of 0.003 moved jawOpen 0.015 mm further from ICT's); the chin folded under itself in
#: jawOpen covers 0.18 (weboji_facecustom_human), 0.019 (weboji_lama), 0.056 (weboji_triceratops).
UNTANGLE_MIN_AREA = 0.005

#: ``rig_mesh``'s default (``untangle=None``) smooths only the shapes whose folds cover at least
#: this many face sizes squared (as :data:`UNTANGLE_MIN_AREA`): past every shape of facerig's rigs
#: of the 26 validation heads (ICT, MakeHuman, stylised, external: median of each head's worst
#: shape 0.0037, 90th percentile 0.018, largest 0.037, makehuman_000's jawOpen;
#: ``python benchmarks/jaw_folds.py --set /work/evalset -O untangle=false``,
#: ``results/jaw_folds_trigger.json``), so those rigs are unchanged; jawOpen passes it on
#: weboji_facecustom_human (0.114, its chin folded under itself), robot_expressive_head (0.076) and
#: weboji_triceratops (0.058).
UNTANGLE_TRIGGER = 0.05

#: ``rig_mesh``'s default untangling (:func:`untangle_folds` with ``keep_motion``) keeps a shape's
#: smoothed deltas only where its strongest motion (the summed displacement of the 2 % of vertices it
#: moves most) keeps at least this share: smoothing a fold at the lips can close the mouth the shape
#: opens (Rocketbox female nodded 20 degrees: jawOpen kept 0.39 of its strongest motion and the mouth
#: no longer opened, ``benchmarks/nod_sweep.py``; the Weboji mask's chin fold 0.98, triceratops 1.0,
#: the robot's jaw 0.47). ``--untangle`` smooths every fold it finds (a spike's fold is all its motion).
UNTANGLE_KEEP_MOTION = 0.8


def _strongest(d: np.ndarray) -> float:
    """Summed displacement norm of the 2 % of vertices (at least one) that ``d`` (V, 3) moves most."""
    n = np.linalg.norm(np.asarray(d, np.float64), axis=1)
    top = max(1, len(n) // 50)
    return float(np.partition(n, len(n) - top)[len(n) - top :].sum()) if len(n) else 0.0


def untangle_folds(
    vertices: np.ndarray,
    faces: np.ndarray,
    deltas: np.ndarray,
    names: list[str],
    face_size: float | None = None,
    min_area: float = UNTANGLE_MIN_AREA,
    keep_motion: float | None = None,
) -> tuple[np.ndarray, dict]:
    """Deltas (K, V, 3) with the folds of the shapes smoothed away, and what was done.

    :func:`facerig.geometry.untangle.untangle` on vertices (V, 3), faces (F, 3): every shape
    but :data:`UNTANGLE_SKIP` whose folds on the head's largest connected piece (seams the rig
    moves as one joined; not a mouth bag, teeth or eyes, whose folds nobody sees) cover
    ``min_area`` (default :data:`UNTANGLE_MIN_AREA`; ``rig_mesh``'s default uses
    :data:`UNTANGLE_TRIGGER`) x ``face_size``^2 (default: a fifth of the bounding-box diagonal).
    Where the new jawOpen makes jawOpen + mouthClose (how ARKit poses mouthClose) fold more than
    before, mouthClose takes jawOpen's change, so that pose stays as it was. Info: ``{"shapes", "folded_before", "folded_after", "min_area", "seconds"}`` (shapes changed,
    their folded triangles before and after), empty when no shape was changed. With ``keep_motion``
    (:data:`UNTANGLE_KEEP_MOTION`), a shape whose smoothing keeps less than that share of its strongest
    motion is left as it was."""
    import time

    from facerig.geometry.untangle import folded_faces, untangle

    t0 = time.perf_counter()
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    if not len(f):
        return deltas, {}
    if face_size is None:
        face_size = 0.2 * float(np.linalg.norm(v.max(0) - v.min(0)))
    shapes = np.array([n not in UNTANGLE_SKIP for n in names], bool)
    out, info = untangle(v, f, deltas, shapes=shapes, where="largest", min_area=min_area * face_size**2)
    done = np.asarray(info["vertices_changed"]) > 0
    for k in np.flatnonzero(done) if keep_motion else ():  # smoothed with its own strongest motion: as it was
        if _strongest(out[k]) < keep_motion * _strongest(deltas[k]):
            out[k] = deltas[k]
            done[k] = False
    if not done.any():
        return out, {}
    if "mouthClose" in names and "jawOpen" in names and done[names.index("jawOpen")]:
        # mouthClose is posed on top of jawOpen: where the new jawOpen makes that pose fold more,
        # mouthClose takes jawOpen's change and the pose stays as it was
        jaw, close = names.index("jawOpen"), names.index("mouthClose")
        posed = np.stack([deltas[jaw] + deltas[close], out[jaw] + deltas[close]])
        was, now = folded_faces(v, f, posed).sum(1)
        if now > was:
            out[close] = deltas[close] + deltas[jaw] - out[jaw]
    return out, {
        "shapes": int(done.sum()),
        "folded_before": int(np.asarray(info["folded_before"])[done].sum()),
        "folded_after": int(np.asarray(info["folded_after"])[done].sum()),
        "min_area": float(min_area),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def pad_to_arkit52(rig):
    """A rig whose names are all ARKit names gets the full 52, in Apple's order: shapes the
    method did not make are added with zero deltas (K', V, 3) and listed in ``meta["missing"]``.
    Rigs with other names are returned unchanged."""
    from facerig.arkit import ARKIT52
    from facerig.io.rig import Rig

    if list(rig.names) == list(ARKIT52) or not set(rig.names) <= set(ARKIT52):
        return rig
    index = {n: i for i, n in enumerate(rig.names)}
    deltas = np.zeros((len(ARKIT52), rig.num_vertices, 3), np.float32)
    for k, n in enumerate(ARKIT52):
        if n in index:
            deltas[k] = rig.deltas[index[n]]
    meta = dict(rig.meta)
    absent = [n for n in ARKIT52 if n not in index]
    meta["missing"] = list(dict.fromkeys(list(meta.get("missing") or []) + absent))
    return Rig(names=list(ARKIT52), deltas=deltas, neutral=rig.neutral, faces=rig.faces, parts=rig.parts, meta=meta)

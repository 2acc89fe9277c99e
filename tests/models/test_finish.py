"""What every rig gets after its method: loose vertices, coincident vertices, falloff, padding."""

import numpy as np

from facerig.models.finish import face_falloff, fill_unused, share_coincident


def _grid(n=6):
    x, y = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float))
    v = np.stack([x.ravel(), y.ravel(), np.zeros(n * n)], 1)
    f = []
    for i in range(n - 1):
        for j in range(n - 1):
            a = i * n + j
            f += [[a, a + 1, a + n + 1], [a, a + n + 1, a + n]]
    return v, np.array(f)


def test_isolated_vertex_reads_the_nearest_surface_point():
    v, f = _grid()
    v = np.concatenate([v, [[2.25, 3.5, 0.7]]])
    used = np.r_[np.ones(len(v) - 1, bool), False]
    d = np.zeros((1, len(v), 3), np.float32)
    d[0, :-1] = v[:-1]  # delta = position: the loose vertex must get its foot point's position
    out = fill_unused(v, f, used, d)
    np.testing.assert_allclose(out[0, -1], [2.25, 3.5, 0.0], atol=1e-6)
    np.testing.assert_array_equal(out[0, :-1], d[0, :-1])


def test_vertex_of_a_dropped_sliver_moves_with_its_neighbours():
    """A vertex used only by a dropped zero-area triangle on an edge reads the kept triangles
    around its neighbours in it, even when another part of the surface is nearer."""
    v, f = _grid()
    far = v + np.array([0.0, 0.0, 0.05])  # a second sheet just above: nearer to nothing in particular
    v2 = np.concatenate([v, far, [[1.5, 0.0, 0.04]]])  # on the edge (1,0)-(2,0), 0.04 above it
    f2 = np.concatenate([f, f + len(v)])
    k = len(v2) - 1
    used = np.r_[np.ones(len(v2) - 1, bool), False]
    d = np.zeros((1, len(v2), 3), np.float32)
    d[0, : len(v)] = 1.0  # the first sheet moves by 1, the second by 0
    out = fill_unused(v2, f2, used, d, dropped=np.array([[1, 2, k]]))
    np.testing.assert_allclose(out[0, k], 1.0, atol=1e-6)  # its neighbours' sheet, not the nearer one
    out_free = fill_unused(v2, f2, used, d)  # with no dropped face: the nearest surface, the second sheet
    np.testing.assert_allclose(out_free[0, k], 0.0, atol=1e-6)


def test_coincident_vertices_share_the_mean_delta():
    v = np.array([[0.0, 0, 0], [1, 0, 0], [0.0, 0, 0], [2, 0, 0]])
    d = np.array([[[1.0, 0, 0], [5, 5, 5], [3, 0, 0], [7, 7, 7]]], np.float32)
    out = share_coincident(v, d)
    np.testing.assert_array_equal(out[0, 0], [2, 0, 0])
    np.testing.assert_array_equal(out[0, 2], [2, 0, 0])
    np.testing.assert_array_equal(out[0, [1, 3]], d[0, [1, 3]])
    assert share_coincident(v[[0, 1, 3]], d[:, [0, 1, 3]]) is not None


def test_falloff_keeps_the_face_and_stills_far_pieces():
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(size=(300, 3)) * 0.5, [[0.0, -20.0, 0.0]]])  # a far base vertex
    names = ["eyeBlinkLeft", "eyeBlinkRight", "mouthFunnel", "mouthPucker", "jawOpen"]
    d = np.zeros((5, len(v), 3), np.float32)
    for k, c in enumerate([[0.3, 0.2, 0.5], [-0.3, 0.2, 0.5], [0, -0.3, 0.5], [0, -0.3, 0.5]]):
        near = np.linalg.norm(v - c, axis=1) < 0.2
        d[k, near, 1] = -0.1
    d[4] = 0.05  # the jaw shape moves everything, the base too
    w, info = face_falloff(v, d, names)
    assert w[-1] == 0.0 and info["vertices_still"] >= 1
    assert (w[:-1] == 1.0).all()  # the head itself is untouched
    assert face_falloff(v, d[4:], names[4:]) == (None, {})  # no blink or lip shapes: no falloff


def _bust(n=4000, seed=0):
    """A point head (+Y up, face toward +Z, face size 1) on a long neck down to a base: (V, 3)
    positions, the K=5 rig (blinks and lips move their patches, jawOpen moves the chin, the
    throat, the neck and the base alike) and the indices of a few named points."""
    rng = np.random.default_rng(seed)
    skull = rng.normal(size=(n, 3))
    skull = skull / np.linalg.norm(skull, axis=1, keepdims=True) * 1.5 + [0.0, 0.0, -0.5]
    t = rng.uniform(0, 2 * np.pi, n)
    neck = np.stack([0.7 * np.cos(t), rng.uniform(-5.0, -1.0, n), -0.4 + 0.7 * np.sin(t)], 1)
    named = {
        "chin": [0.0, -1.3, 0.8],
        "throat": [0.0, -1.8, 0.2],  # under the jaw
        "neck_low": [0.0, -2.5, -0.4],
        "base": [0.0, -4.5, -0.4],
        "ear": [1.5, 0.0, -0.5],
        "back_of_skull": [0.0, 0.0, -2.0],
        "crown": [0.0, 1.5, -0.5],
    }
    v = np.concatenate([skull, neck, list(named.values())])
    idx = {k: len(v) - len(named) + i for i, k in enumerate(named)}
    names = ["eyeBlinkLeft", "eyeBlinkRight", "mouthFunnel", "mouthPucker", "jawOpen"]
    d = np.zeros((5, len(v), 3), np.float32)
    for k, c in enumerate([[0.5, 0.35, 1.0], [-0.5, 0.35, 1.0], [0, -0.65, 1.0], [0, -0.65, 1.0]]):
        v = np.concatenate([v, [c]])  # a vertex at each landmark, its patch around it
        d = np.concatenate([d, np.zeros((5, 1, 3), np.float32)], 1)
        d[k, np.linalg.norm(v - c, axis=1) < 0.2, 1] = -0.1
    d[4, :, 1] = -0.3  # the network's jaw moves everything down, the base too
    return v, d, names, idx


def test_frame_falloff_stills_a_bust_base_and_the_back_of_the_skull_and_keeps_the_jaw():
    v, d, names, idx = _bust()
    w, info = face_falloff(v, d, names, up="+y", forward="+z")
    assert abs(info["face_size"] - 1.0) < 0.15
    below = -(v[:, 1] - info["center"][1]) / info["face_size"]
    assert (w[below > 3.5] == 0).all() and (below > 3.5).sum() > 100  # the base: no motion
    assert w[idx["base"]] == 0 and w[idx["back_of_skull"]] == 0
    for k in ("chin", "throat", "ear", "crown"):  # the jaw's own motion and the head itself survive
        assert w[idx[k]] == 1.0, k
    assert w[idx["neck_low"]] == 1.0  # the neck as far as authors' rigs move it (ICT's platysma)
    assert info["vertices_still"] == int((w == 0).sum()) > 0
    # the radial rule alone leaves the neck's lower part and the back of the skull moving
    w0, _ = face_falloff(v, d, names)
    assert w0[idx["back_of_skull"]] == 1.0 and (w0[(below > 3.5) & (below < 4.5)] > 0).all()
    assert ((w0 > 0) & (w == 0)).sum() > 100


def test_frame_falloff_follows_the_rigs_axes():
    """The same bust in Blender's axes (up +Z, forward -Y) gets the same weights."""
    v, d, names, _ = _bust(n=1500)
    R = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # +Y -> +Z, +Z -> -Y
    w, _ = face_falloff(v, d, names, up="+y", forward="+z")
    wb, _ = face_falloff(v @ R.T, d @ R.T.astype(np.float32), names, up="+z", forward="-y")
    np.testing.assert_allclose(wb, w, atol=1e-9)
    wrong, _ = face_falloff(v @ R.T, d @ R.T.astype(np.float32), names, up="+y", forward="+z")
    assert not np.allclose(wrong, w)


def _tube(y0, y1, radius=0.5, z=-0.3, n=24, m=12):
    """An open tube (a neck) from y0 down to y1: (n*m, 3) vertices, faces, and its two rims."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ys = np.linspace(y0, y1, m)
    v = np.array([[radius * np.cos(a), y, z + radius * np.sin(a)] for y in ys for a in t])
    f = []
    for i in range(m - 1):
        for j in range(n):
            a, b, c, d = i * n + j, i * n + (j + 1) % n, (i + 1) * n + j, (i + 1) * n + (j + 1) % n
            f += [[a, b, d], [a, d, c]]
    return v, np.array(f), np.arange(n), np.arange((m - 1) * n, m * n)


def _jaw_only(d, n):
    """(K, n, 3) motion of n more vertices: the jaw's (the last shape) only."""
    out = np.zeros((d.shape[0], n, 3), np.float32)
    out[-1, :, 1] = -0.3
    return out


def test_a_bust_cut_below_the_jaw_stays_still_and_the_chin_keeps_its_motion():
    """A short neck cut 2.4 face sizes below the face centre (Nefertiti's base): within the
    radial and the below fades, so only the cut stills it; the chin and the throat keep theirs."""
    hv, d, names, idx = _bust(n=1500)
    tv, tf, top, rim = _tube(-1.0, -2.4)
    v = np.concatenate([hv, tv])
    d = np.concatenate([d, _jaw_only(d, len(tv))], axis=1)
    faces = tf + len(hv)
    w, info = face_falloff(v, d, names, up="+y", forward="+z", faces=faces)
    assert info["cut_vertices"] == len(rim)
    assert (w[len(hv) + rim] == 0).all()  # the base: still
    w_nocut, _ = face_falloff(v, d, names, up="+y", forward="+z")  # without the faces: no cut found
    assert (w_nocut[len(hv) + rim] == 1).all()
    np.testing.assert_array_equal(w[len(hv) + top], w_nocut[len(hv) + top])  # the top rim is above the jaw: no cut
    for k in ("chin", "throat", "ear", "crown"):
        assert w[idx[k]] == 1.0, k
    lower = len(hv) + np.flatnonzero(tv[:, 1] < -2.4 + 0.5 * info["face_size"])
    assert (w[lower] < 1).all() and (w[lower] >= 0).all()


def test_the_edge_of_a_face_mask_is_no_cut():
    """A mask whose one edge runs under the chin (2 face sizes below the centre) and up around
    the face keeps its motion there: only a loop wholly below the mouth is a cut."""
    hv, d, names, _ = _bust(n=1500)
    tv, tf, _top, rim = _tube(1.2, -1.8)
    front = np.flatnonzero(tv[:, 2] > -0.3)  # the front half of the tube: a mask
    keep = np.isin(tf, front).all(1)
    remap = np.full(len(tv), -1)
    remap[front] = np.arange(len(front))
    mv, mf = tv[front], remap[tf[keep]]
    v = np.concatenate([hv, mv])
    d = np.concatenate([d, _jaw_only(d, len(mv))], axis=1)
    w, info = face_falloff(v, d, names, up="+y", forward="+z", faces=mf + len(hv))
    chin_edge = len(hv) + np.flatnonzero(np.isin(front, rim))
    assert "cut_vertices" not in info and len(chin_edge) and (w[chin_edge] == 1).all()


def test_a_slanted_neck_cut_is_still_all_round():
    """A neck cut lower in front than at the back (as collars are) is still all along its loop."""
    hv, d, names, idx = _bust(n=1500)
    tv, tf, _top, rim = _tube(-1.0, -2.4)
    tv[:, 1] -= 0.4 * (tv[:, 2] + 0.3) / 0.5 * (tv[:, 1] < -1.5)  # the lower neck sheared: front down, back up
    v = np.concatenate([hv, tv])
    d = np.concatenate([d, _jaw_only(d, len(tv))], axis=1)
    w, info = face_falloff(v, d, names, up="+y", forward="+z", faces=tf + len(hv))
    assert np.ptp(tv[rim, 1]) > 0.7 and info["cut_vertices"] == len(rim)
    assert (w[len(hv) + rim] == 0).all() and w[idx["chin"]] == 1.0 and w[idx["throat"]] == 1.0


def test_coincident_groups_are_those_of_unique_rows():
    """share_coincident groups equal rows as np.unique(v, axis=0) does (signed zeros equal): the
    same mean deltas as averaging over those groups directly."""
    rng = np.random.default_rng(3)
    v = np.round(rng.normal(size=(400, 3)), 1)  # many exact coincidences
    v[:20, 0] = 0.0
    v[20:40] = v[:20]
    v[20:40, 0] = -0.0
    d = rng.normal(size=(2, 400, 3)).astype(np.float32)
    out = share_coincident(v, d)
    _, inverse = np.unique(v, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    for g in np.unique(inverse):
        members = np.flatnonzero(inverse == g)
        mean = d[:, members].astype(np.float64).mean(axis=1, keepdims=True).astype(np.float32)
        np.testing.assert_allclose(out[:, members], np.broadcast_to(mean, (2, len(members), 3)), rtol=1e-6, atol=1e-7)
    few = d[:, :4]
    assert share_coincident(np.arange(12.0).reshape(4, 3), few) is few  # no two coincide: the deltas as given


def _touching_tetrahedra(joined: bool, open_: bool):
    """Two closed tetrahedra whose apexes 3 and 6 coincide: joined at vertex 0 (one piece) or
    not (two pieces, vertex 7 for the second's base corner); ``open_`` drops a face at each apex."""
    v = np.array(
        [[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0.3, 0.3, 1], [-1, 0, 0], [0, -1, 0], [0.3, 0.3, 1], [0.0, 0, 0.01]]
    )
    b = 0 if joined else 7
    f = [[0, 2, 1], [0, 1, 3], [1, 2, 3], [2, 0, 3], [b, 4, 5], [b, 6, 4], [4, 6, 5], [5, 6, b]]
    if open_:
        f = f[:1] + f[2:5] + f[6:]
    return v, np.array(f)


def test_touching_points_of_one_closed_piece_keep_their_deltas():
    """A mouth modelled as a closed slit: two points of one closed surface at the same position
    (one on each lip) keep their own deltas; seam copies (open) and touching pieces share."""
    d = np.zeros((1, 8, 3), np.float32)
    d[0, 3] = [0.0, -1.0, 0.0]  # one lip goes down, the other stays
    v, f = _touching_tetrahedra(joined=True, open_=False)
    out = share_coincident(v, d, f)
    np.testing.assert_array_equal(out[0, [3, 6]], d[0, [3, 6]])
    np.testing.assert_array_equal(share_coincident(v, d)[0, 6], [0, -0.5, 0])  # without faces: as before
    for joined, open_ in ((False, False), (True, True)):  # two pieces touching, or seam copies on a border
        v, f = _touching_tetrahedra(joined, open_)
        out = share_coincident(v, d, f)
        np.testing.assert_allclose(out[0, [3, 6]], [[0, -0.5, 0], [0, -0.5, 0]])


def test_untangle_folds_fixes_shapes_leaves_blinks_and_small_folds():
    from facerig.geometry.untangle import folded_faces
    from facerig.models.finish import untangle_folds

    n = 21
    v, f = _grid(n)
    fold = np.zeros_like(v)
    fold[(n // 2) * n + n // 2, 0] = 1.6  # one vertex pushed past its neighbour: a fold
    names = ["jawOpen", "mouthClose", "eyeBlinkLeft", "cheekPuff"]
    deltas = np.zeros((4, len(v), 3), np.float32)
    deltas[0] = fold  # jawOpen folds
    deltas[1] = 0.5 * fold  # mouthClose and a blink: left alone
    deltas[2] = fold
    deltas[3] = 0.05 * fold  # no fold at all
    assert folded_faces(v, f, deltas[:1]).any()
    out, info = untangle_folds(v, f, deltas, names, face_size=4.0)
    assert not folded_faces(v, f, out[:1]).any()
    assert all(np.array_equal(out[k], deltas[k]) for k in (2, 3))
    # mouthClose cancels jawOpen's fold: with the new jawOpen that pose would fold, so it is kept
    deltas[1] = -fold
    out, _ = untangle_folds(v, f, deltas, names, face_size=4.0)
    assert np.allclose(out[0] + out[1], deltas[0] + deltas[1], atol=1e-6)
    assert info["shapes"] == 1 and info["folded_after"] == 0 and info["folded_before"] > 0
    # a fold smaller than UNTANGLE_MIN_AREA x face_size^2 is left alone
    small, info = untangle_folds(v, f, deltas[:1], names[:1], face_size=1000.0)
    assert np.array_equal(small, deltas[:1]) and info == {}


def test_untangle_folds_keep_motion_leaves_a_shape_whose_smoothing_takes_its_motion():
    """``keep_motion`` (rig_mesh's default): a shape whose smoothing would take away its strongest
    motion (a spike here; a mouth the smoothing closes on a real head) is left as it was; a broad
    shape whose fold is away from its strongest motion is still smoothed."""
    from facerig.geometry.untangle import folded_faces
    from facerig.models.finish import UNTANGLE_KEEP_MOTION, untangle_folds

    n = 21
    v, f = _grid(n)
    spike = np.zeros((1, len(v), 3), np.float32)
    spike[0, (n // 2) * n + n // 2, 0] = 1.6
    out, info = untangle_folds(v, f, spike, ["jawOpen"], face_size=4.0, keep_motion=UNTANGLE_KEEP_MOTION)
    assert np.array_equal(out, spike) and info == {}
    broad = spike.copy()
    broad[0, :, 2] = np.where(v[:, 1] < 4, 3.0, 0.0)  # a strong motion far from the fold
    out, info = untangle_folds(v, f, broad, ["jawOpen"], face_size=4.0, keep_motion=UNTANGLE_KEEP_MOTION)
    assert info["shapes"] == 1 and not folded_faces(v, f, out).any()


def test_a_jaw_that_drags_the_neck_to_its_cut_gets_a_longer_fade_that_does_not_fold_it():
    """The network's jawOpen moving a short neck down faster than the cut's fade allows: the fade
    folds the neck over (issue 24, weboji_facecustom_human's neck); per shape, jawOpen's fade is
    lengthened until it does not, and every other shape keeps the weights as they were."""
    from facerig.geometry.untangle import folded_faces

    hv, d, names, _ = _bust(n=1500)
    tv, tf, _top, rim = _tube(-1.0, -2.4, m=24)
    v = np.concatenate([hv, tv])
    jaw = _jaw_only(d, len(tv))
    jaw[-1, :, 1] = -0.6
    d = np.concatenate([d, jaw], axis=1)
    faces = tf + len(hv)
    w, info = face_falloff(v, d, names, up="+y", forward="+z", faces=faces)
    assert folded_faces(v, faces, (d[-1] * w[:, None])[None]).sum() > 0  # the one fade folds the neck
    ws, info_s = face_falloff(v, d, names, up="+y", forward="+z", faces=faces, per_shape=True)
    assert ws.shape == (len(names), len(v))
    length, keep = info_s["cut_lengthened"]["jawOpen"]
    assert set(info_s["cut_lengthened"]) == {"jawOpen"} and length > 0.5 and 0 < keep < 1
    assert folded_faces(v, faces, (d[-1] * ws[-1][:, None])[None]).sum() == 0
    np.testing.assert_array_equal(ws[:-1], np.broadcast_to(w, (len(names) - 1, len(v))))  # the others: as before
    np.testing.assert_allclose(ws[-1, len(hv) + rim], keep, atol=1e-4)  # the cut keeps that share of the motion
    d[-1, :, 1] = -0.2  # a slower jaw (the bust's own neck too): a longer fade is enough, the cut stays still
    ws, info_s = face_falloff(v, d, names, up="+y", forward="+z", faces=faces, per_shape=True)
    length, keep = info_s["cut_lengthened"]["jawOpen"]
    assert 0.5 < length <= 0.75 and keep == 0 and (ws[-1, len(hv) + rim] == 0).all()
    assert folded_faces(v, faces, (d[-1] * ws[-1][:, None])[None]).sum() == 0
    calm = d.copy()
    calm[-1] /= 12.0  # the neck moved 0.05 at most: the fade as it was
    wc, info_c = face_falloff(v, calm, names, up="+y", forward="+z", faces=faces, per_shape=True)
    assert "cut_lengthened" not in info_c
    np.testing.assert_array_equal(wc, np.broadcast_to(w, wc.shape))

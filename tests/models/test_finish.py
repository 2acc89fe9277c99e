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

"""build_proxy on meshes with vertices no face uses (they used to crash it with an IndexError)."""

import numpy as np

from facerig.geometry.proxy import build_proxy


def _grid(n=40):
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    v = np.stack([x.ravel(), y.ravel(), 0.1 * np.sin(6 * x.ravel()) * np.cos(5 * y.ravel())], 1)
    f = []
    for i in range(n - 1):
        for j in range(n - 1):
            a = i * n + j
            f += [[a, a + 1, a + n + 1], [a, a + n + 1, a + n]]
    return v, np.array(f)


def test_unreferenced_vertex_samples_the_proxy_near_it():
    v, f = _grid()
    v2 = np.concatenate([v, [[0.5, 0.5, 0.3]]])
    proxy = build_proxy(v2, f, target_vertices=400, weld=0.0)
    assert not proxy.identity and proxy.num_vertices < len(v)
    values = proxy.vertices[None]  # (1, P, 3): interpolating positions gives points on the proxy
    full = proxy.to_full(values)[0]
    assert full.shape == (len(v2), 3)
    assert np.linalg.norm(full[-1] - [0.5, 0.5, 0.0]) < 0.15  # the loose vertex reads the surface below it
    np.testing.assert_allclose(full[:-1], v, atol=0.05)


def test_sample_one_ring_skips_degenerate_proxy_faces():
    """A proxy face with two corners at one point has no barycentrics (NaN): an input vertex whose
    proxy vertex keeps only such faces reads that proxy vertex, and others pick a proper face."""
    from facerig.geometry.proxy import sample_one_ring

    pv = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]])  # proxy vertex 3 lies on vertex 0
    pf = np.array([[0, 3, 1], [3, 1, 2]])  # vertex 0's only face is degenerate
    vertices = np.array([[0.01, 0.01, 0], [0.9, 0.05, 0], [0.05, 0.9, 0]])
    faces = np.array([[0, 1, 2]])
    face, bary = sample_one_ring(vertices, faces, pv, pf, np.array([0, 1, 2]))
    assert np.isfinite(bary).all()
    np.testing.assert_allclose(bary.sum(1), 1.0)
    read = np.einsum("vk,vkc->vc", bary, pv[pf[face]])
    np.testing.assert_allclose(read[0], pv[0])  # its own proxy vertex
    assert face[1] == 1 and face[2] == 1  # the proper face
    np.testing.assert_allclose(read[1:, :2], vertices[1:, :2], atol=1e-12)  # the closest points on it


def test_to_full_of_many_queries_is_one_product_for_all_of_them():
    """(Q, P, C) values go back to the input one query at a time: bit for bit what one sparse product of
    all queries' channels side by side gives (each entry sums its three weighted values in the same order),
    and what each query alone gives; other shapes, (P, C) and (A, B, P, C), as before."""
    import scipy.sparse as sp

    v, f = _grid()
    proxy = build_proxy(v, f, target_vertices=400, weld=0.0)
    P, V = proxy.num_vertices, len(v)
    values = np.random.default_rng(0).normal(size=(5, P, 3)).astype(np.float32)
    W = sp.csr_matrix(
        (proxy.full_bary.astype(np.float32).ravel(), proxy.faces[proxy.full_face].ravel(), np.arange(0, 3 * V + 1, 3)),
        shape=(V, P),
    )
    together = (W @ values.transpose(1, 0, 2).reshape(P, -1)).reshape(V, 5, 3).transpose(1, 0, 2)
    out = proxy.to_full(values)
    assert out.dtype == np.float32 and out.shape == (5, V, 3) and out.flags.c_contiguous
    assert out.tobytes() == np.ascontiguousarray(together).tobytes()
    for q in range(5):
        assert proxy.to_full(values[q]).tobytes() == out[q].tobytes()
    four = proxy.to_full(values.reshape(5, 1, P, 3))
    assert four.shape == (5, 1, V, 3) and four[:, 0].tobytes() == out.tobytes()

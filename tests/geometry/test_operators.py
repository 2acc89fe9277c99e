"""Operators: spectra (sphere, multi-part), M-orthonormality, exact gradients, cache, torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import trimesh

from facerig.geometry.operators import compute_operators


def _sphere(subdiv=3, r=1.0, center=(0.0, 0.0, 0.0)):
    m = trimesh.creation.icosphere(subdivisions=subdiv, radius=r)
    return np.asarray(m.vertices) + np.asarray(center), np.asarray(m.faces, dtype=np.int64)


def _spheres(n, subdiv=3):
    vs, fs, off = [], [], 0
    for i in range(n):
        v, f = _sphere(subdiv, r=1.0 + 0.3 * i, center=(4.0 * i, 0, 0))
        vs.append(v)
        fs.append(f + off)
        off += len(v)
    return np.concatenate(vs), np.concatenate(fs)


def _grid(n=12):
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    v = np.stack([x.ravel(), y.ravel(), np.zeros(n * n)], 1)
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    f = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    return v, f


def _read_obj_triangles(path):
    """v (V,3), fan-triangulated f (F,3) of an OBJ (keeps ``v`` order)."""
    vs, fs = [], []
    for line in Path(path).read_text().splitlines():
        if line.startswith("v "):
            vs.append([float(t) for t in line.split()[1:4]])
        elif line.startswith("f "):
            idx = [int(t.split("/")[0]) - 1 for t in line.split()[1:]]
            fs += [[idx[0], idx[a], idx[a + 1]] for a in range(1, len(idx) - 1)]
    return np.array(vs), np.array(fs, dtype=np.int64)


def test_sphere_spectrum_and_orthonormality(tmp_path):
    v, f = _sphere(3, r=2.0)  # 642 vertices -> sparse shift-invert path
    ops = compute_operators(v, f, k=16, cache_dir=tmp_path)
    assert ops.evals.shape == (16,) and ops.evecs.shape == (642, 16)
    assert ops.mass.shape == (642,) and ops.L.shape == (642, 642)
    assert np.all(np.diff(ops.evals) >= -1e-12)
    expected = np.repeat([0, 2, 6, 12], [1, 3, 5, 7]) / 4.0  # l(l+1)/r^2, multiplicities 1,3,5,7
    assert abs(ops.evals[0]) < 1e-8
    np.testing.assert_allclose(ops.evals[1:], expected[1:], rtol=0.03)
    G = ops.evecs.T @ (ops.mass[:, None] * ops.evecs)
    np.testing.assert_allclose(G, np.eye(16), atol=1e-8)
    # total mass = surface area
    assert abs(ops.mass.sum() - 4 * np.pi * 4) / (16 * np.pi) < 0.01


@pytest.mark.parametrize("subdiv", [2, 3])  # dense (486 v) and sparse (1926 v) eigensolver paths
def test_one_zero_eigenvalue_per_component(tmp_path, subdiv):
    v, f = _spheres(3, subdiv)
    ops = compute_operators(v, f, k=8, cache=False)
    assert np.all(ops.evals[:3] < 1e-8 * ops.evals[3])
    assert ops.evals[3] > 0.1
    # the null space is spanned by the component indicators
    labels = np.repeat(np.arange(3), len(v) // 3)
    for c in range(3):
        ind = (labels == c).astype(float)
        coef = ops.evecs[:, :3].T @ (ops.mass * ind)
        np.testing.assert_allclose(ops.evecs[:, :3] @ coef, ind, atol=1e-6)


def test_gradient_of_linear_function_is_exact():
    v, f = _grid(10)
    rng = np.random.default_rng(0)
    v[:, :2] += rng.uniform(-0.02, 0.02, size=(len(v), 2))  # irregular planar mesh
    R, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    v = v @ R.T  # arbitrary plane orientation
    ops = compute_operators(v, f, k=4, cache=False)
    a = np.array([0.3, -1.2, 2.0])
    fun = v @ a
    gx, gy = ops.grad_x @ fun, ops.grad_y @ fun
    np.testing.assert_allclose(gx, ops.frames[:, 0] @ a, atol=1e-6)
    np.testing.assert_allclose(gy, ops.frames[:, 1] @ a, atol=1e-6)
    # frames are orthonormal, normal = plane normal (up to sign)
    F = ops.frames
    np.testing.assert_allclose(np.einsum("vij,vkj->vik", F, F), np.broadcast_to(np.eye(3), F.shape), atol=1e-10)
    np.testing.assert_allclose(np.abs(F[:, 2] @ R[:, 2]), 1.0, atol=1e-10)
    # constants have zero gradient
    assert np.abs(ops.grad_x @ np.ones(len(v))).max() < 1e-10


def test_k_clamped_and_loose_vertices():
    v, f = _sphere(1)  # 42 vertices
    ops = compute_operators(v, f, k=128, cache=False)
    assert ops.evals.shape == (42,) and ops.evecs.shape == (42, 42)
    # loose vertices (not referenced by faces) get a point-cloud block
    rng = np.random.default_rng(1)
    loose = rng.normal(size=(6, 3)) * 0.1 + 5.0
    v2 = np.concatenate([v, loose])
    ops2 = compute_operators(v2, f, k=5, cache=False)
    assert np.all(np.isfinite(ops2.evecs)) and np.all(ops2.mass > 0)
    assert np.sum(ops2.evals < 1e-8) == 2  # sphere + the loose cluster


def test_cache_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("FACERIG_CACHE", str(tmp_path))
    v, f = _sphere(3)
    a = compute_operators(v, f, k=10)
    files = list(Path(tmp_path, "operators").glob("*.npz"))
    assert len(files) == 1
    timings = {}
    b = compute_operators(v, f, k=10, timings=timings)
    assert "load" in timings and "eigen" not in timings  # read back, not recomputed
    for name in ("mass", "evals", "evecs", "frames"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for name in ("L", "grad_x", "grad_y"):
        assert (getattr(a, name) != getattr(b, name)).nnz == 0
    compute_operators(v, f, k=11)  # different k -> different key
    assert len(list(Path(tmp_path, "operators").glob("*.npz"))) == 2


def test_operators_to_torch_and_for_network():
    torch = pytest.importorskip("torch")
    v, f = _sphere(2)
    ops = compute_operators(v, f, k=6, cache=False)
    t = ops.to_torch()
    assert t.evecs.dtype == torch.float32 and t.evecs.shape == (len(v), 6)
    assert t.grad_x.layout == torch.sparse_csr and t.L.shape == (len(v), len(v))
    x = np.random.default_rng(0).normal(size=len(v))
    got = (t.grad_y @ torch.from_numpy(x).float()[:, None])[:, 0].numpy()
    np.testing.assert_allclose(got, ops.grad_y @ x, rtol=1e-4, atol=1e-4)
    assert ops.to_torch(torch.float64).mass.dtype == torch.float64
    n = ops.for_network(k=4)
    assert n.evecs.dtype == np.float32 and n.evecs.shape == (len(v), 4) and n.grad_x.dtype == np.float32
    assert n.L is None and n.cross is None
    m = n.mirrored()
    assert (m.grad_y != -n.grad_y).nnz == 0 and m.evecs is n.evecs
    assert n.cached("x", lambda: 1) == 1 and n.cached("x", lambda: 2) == 1
    assert m.cached("x", lambda: 2) == 2  # copies do not share the cache


@pytest.mark.slow
@pytest.mark.ict
def test_ict_head_one_zero_per_component(ict_neutral_obj):
    v, f = _read_obj_triangles(ict_neutral_obj)
    ops = compute_operators(v, f, k=64, cache=False)
    assert np.all(np.isfinite(ops.evecs))
    n_comp = 56
    assert np.all(ops.evals[:n_comp] < 1e-6 * ops.evals[n_comp])
    assert ops.evals[n_comp] > 1e-3
    G = ops.evecs.T @ (ops.mass[:, None] * ops.evecs)
    np.testing.assert_allclose(G, np.eye(64), atol=1e-6)


def test_per_component_solve_matches_global_dense():
    import scipy.linalg

    from facerig.geometry.operators import eigenbasis, laplacian_and_mass

    v, f = _spheres(3, 3)  # 3 x 642 vertices: each component above the dense threshold
    L, mass = laplacian_and_mass(v, f)
    evals, evecs = eigenbasis(L, mass, 20)
    ref = scipy.linalg.eigh(L.toarray(), np.diag(mass), eigvals_only=True, subset_by_index=[0, 19])
    np.testing.assert_allclose(evals, np.clip(ref, 0, None), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(L @ evecs, mass[:, None] * evecs * evals, atol=1e-7)


def test_bounded_solve_of_smaller_parts_matches_global_dense():
    """Parts of different sizes and scales: after the largest part, the others only solve up to
    the bound; the result must still be the k smallest of the whole spectrum."""
    import scipy.linalg

    from facerig.geometry.operators import eigenbasis, laplacian_and_mass

    parts = [
        (4, 1.0, 0.0),  # 2,562 vertices, the largest: solved in full
        (3, 0.5, 6.0),  # 642 (sparse path, bounded): small, ~16 eigenvalues below the bound
        (2, 0.3, 11.0),  # 162 (dense, bounded): tiny, only its zero mode is below the bound
        (1, 4.0, 20.0),
    ]  # 42 (dense, bounded): large, several eigenvalues below the bound
    vs, fs, off = [], [], 0
    for subdiv, r, x in parts:
        v, f = _sphere(subdiv, r=r, center=(x, 0, 0))
        vs.append(v)
        fs.append(f + off)
        off += len(v)
    v, f = np.concatenate(vs), np.concatenate(fs)
    L, mass = laplacian_and_mass(v, f)
    k = 60
    evals, evecs = eigenbasis(L, mass, k)
    ref = scipy.linalg.eigh(L.toarray(), np.diag(mass), eigvals_only=True, subset_by_index=[0, k - 1])
    np.testing.assert_allclose(evals, np.clip(ref, 0, None), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(L @ evecs, mass[:, None] * evecs * evals, atol=1e-7)
    owners = [np.abs(evecs[o : o + len(vv)]).sum() for o, vv in zip(np.cumsum([0] + [len(x) for x in vs[:-1]]), vs)]
    assert all(w > 0 for w in owners)  # every part contributes


def test_standard_form_of_the_dense_parts_gives_the_same_spectrum():
    """``eigenbasis(..., standard=True)`` (the encoder's): the same k smallest pairs as the generalized
    solve, over parts solved densely (bounded and not) and a sparse one, M-orthonormal."""
    import scipy.linalg

    from facerig.geometry.operators import eigenbasis, laplacian_and_mass

    vs, fs, off = [], [], 0
    for subdiv, r, x in [(3, 1.0, 0.0), (2, 0.3, 6.0), (1, 4.0, 11.0), (2, 0.8, 20.0)]:  # 642, 162, 42, 162 v
        v, f = _sphere(subdiv, r=r, center=(x, 0, 0))
        vs.append(v)
        fs.append(f + off)
        off += len(v)
    v, f = np.concatenate(vs), np.concatenate(fs)
    L, mass = laplacian_and_mass(v, f)
    for k in (40, len(v)):  # bounded dense parts; every pair (each part dense in full)
        evals, evecs = eigenbasis(L, mass, k, standard=True)
        ref = scipy.linalg.eigh(L.toarray(), np.diag(mass), eigvals_only=True, subset_by_index=[0, k - 1])
        np.testing.assert_allclose(evals, np.clip(ref, 0, None), rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose(L @ evecs, mass[:, None] * evecs * evals, atol=1e-6)
        np.testing.assert_allclose(evecs.T @ (mass[:, None] * evecs), np.eye(k), atol=1e-8)
    np.testing.assert_allclose(eigenbasis(L, mass, 40)[0], eigenbasis(L, mass, 40, standard=True)[0], atol=1e-8)


def test_rescaled_operators_match_recomputed(tmp_path):
    """Operators of a mesh scaled by 1/a, from the originals, equal recomputing them: mass, L,
    gradients and tangent frames directly; the eigenbasis through the heat operator
    ``Phi exp(-t Lambda) Phi^T M`` (unique even where eigenvalues repeat), with every eigenpair."""

    rng = np.random.default_rng(0)
    v, f = _sphere(1)  # 42 vertices: k = V, the full basis
    v = v * (1.0 + 0.2 * rng.random((len(v), 1))) * [1.0, 1.3, 0.8]
    a = 2.5
    ops = compute_operators(v, f, k=len(v), cache_dir=tmp_path)
    ref = compute_operators(v / a, f, k=len(v), cache_dir=tmp_path)
    got = ops.rescaled(a)
    np.testing.assert_allclose(got.mass, ref.mass, rtol=1e-9)
    np.testing.assert_allclose(got.L.toarray(), ref.L.toarray(), atol=1e-9)
    np.testing.assert_allclose(got.evals, ref.evals, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(got.grad_x.toarray(), ref.grad_x.toarray(), atol=1e-8)
    np.testing.assert_allclose(got.grad_y.toarray(), ref.grad_y.toarray(), atol=1e-8)
    np.testing.assert_allclose(got.frames, ref.frames, atol=1e-9)

    def heat(o, t):
        return (o.evecs * np.exp(-t * o.evals)) @ (o.evecs.T * o.mass)

    for t in (0.01, 0.1):
        np.testing.assert_allclose(heat(got, t), heat(ref, t), atol=1e-7)
    with pytest.raises(ValueError, match="positive"):
        ops.rescaled(0.0)


def test_spectral_cut_keeps_clusters_whole():
    from facerig.geometry.operators import spectral_cut

    ev = np.r_[np.linspace(0, 10, 20), [10.5, 11.0, 12.0, 12.001, 12.002, 12.003, 13.0, 13.5, 14.0]]
    # a hard cut at 24 would split the cluster 12.000-12.003 (indices 22-25): keep all of it (26)
    assert spectral_cut(ev, 24, window=6) == 26
    assert spectral_cut(ev, 24, window=0) == 24
    assert spectral_cut(ev, 22, window=6) == 22  # a gap at k: the cut stays there
    assert spectral_cut(ev[:24], 24, window=6) == 24  # no (k+1)-th eigenvalue: a plain cut
    assert spectral_cut(ev, 40, window=6) == ev.size  # fewer than k: all of them
    # the same under noise far below the gaps
    rng = np.random.default_rng(0)
    assert all(spectral_cut(ev + rng.uniform(0, 1e-5, ev.size).cumsum(), 24, 6) == 26 for _ in range(5))


def test_gradient_stencil_fades_out_near_zero_weights():
    from facerig.geometry.operators import gradient_operators

    rng = np.random.default_rng(1)
    v = np.c_[rng.uniform(size=(6, 2)), np.zeros(6)]
    frames = np.broadcast_to(np.eye(3), (6, 3, 3)).copy()
    W = np.ones((6, 6)) - np.eye(6)
    W[0, 5] = W[5, 0] = 1e-9  # a neighbour whose Laplacian weight all but vanishes ...
    without = W.copy()
    without[0, 5] = without[5, 0] = 0  # ... and the same stencil without it
    a = gradient_operators(v, frames, sp.csr_matrix(W), fade=0.1)
    b = gradient_operators(v, frames, sp.csr_matrix(without), fade=0.1)
    assert abs(a[0] - b[0]).max() < 1e-6 and abs(a[1] - b[1]).max() < 1e-6
    plain = gradient_operators(v, frames, sp.csr_matrix(W))  # unweighted, the neighbour counts in full
    assert abs(plain[0] - b[0]).max() > 1e-3


def test_gradient_of_a_vertex_with_collinear_neighbours_is_bounded():
    from facerig.geometry.operators import gradient_operators

    # vertex 0's only neighbours lie almost on a line through it (a sliver's corner)
    v = np.array([[0, 0, 0], [1, 1e-7, 0], [-1, 1e-7, 0], [0, 1, 0.0]])
    frames = np.broadcast_to(np.eye(3), (4, 3, 3)).copy()
    N = sp.csr_matrix(np.array([[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 0.0]]))
    gx, gy = gradient_operators(v, frames, N)
    assert abs(gy[0]).max() < 1e3  # unregularised: ~1e7
    np.testing.assert_allclose((gx @ v[:, 0])[0], 1.0, atol=0.02)  # along the line: 1, shrunk ~1 %

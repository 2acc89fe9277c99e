"""remesh: vertex counts (decimation and refinement), exact ground truth, parts, lips, seeds."""

from __future__ import annotations

import time

import numpy as np
import pytest
import trimesh

from facerig.geometry.remesh import interpolate, remesh


def _two_spheres():
    """Concentric spheres 0.03 apart: two parts that nearly touch."""
    a = trimesh.creation.icosphere(subdivisions=3, radius=1.0)
    b = trimesh.creation.icosphere(subdivisions=3, radius=1.03)
    v = np.concatenate([a.vertices, b.vertices])
    f = np.concatenate([a.faces, b.faces + len(a.vertices)])
    parts = np.repeat([3, 7], [len(a.vertices), len(b.vertices)])
    return v, f.astype(np.int64), parts


def _u_fold(n=21, gap=0.01):
    """One component: two sheets ``gap`` apart facing each other, joined along x=1 (a closed mouth)."""
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    base = np.stack([x.ravel(), y.ravel(), np.zeros(n * n)], 1)
    L = np.arange(n * n).reshape(n, n)
    U = L + n * n
    a, b, c, d = L[:-1, :-1].ravel(), L[1:, :-1].ravel(), L[1:, 1:].ravel(), L[:-1, 1:].ravel()
    lower = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])  # normal +z
    upper = lower[:, ::-1] + n * n  # normal -z
    j = np.arange(n - 1)
    p0, p1, q0, q1 = L[-1, j], L[-1, j + 1], U[-1, j], U[-1, j + 1]
    strip = np.concatenate([np.stack([p0, q1, p1], 1), np.stack([p0, q0, q1], 1)])
    v = np.concatenate([base, base + [0, 0, gap]])
    f = np.concatenate([lower, upper, strip])
    if not trimesh.Trimesh(v, f, process=False).is_winding_consistent:
        f = np.concatenate([lower, upper, strip[:, ::-1]])
    return v, f


def test_interpolate_shapes_and_linearity():
    v, f, _ = _two_spheres()
    r = remesh(v, f, 500, seed=0)
    K = np.random.default_rng(0).normal(size=(2, 4, 3))
    vals = np.einsum("vc,kjc->kjv", v, K)[..., None].repeat(2, -1)  # (2,4,V,2) linear in position
    out = interpolate(vals, f, r.src_face, r.bary)
    assert out.shape == (2, 4, len(r.vertices), 2)
    np.testing.assert_allclose(out[..., 0], np.einsum("vc,kjc->kjv", r.vertices, K), atol=1e-10)
    f32 = interpolate(v.astype(np.float32), f, r.src_face, r.bary)
    assert f32.dtype == np.float32


@pytest.mark.parametrize("target", [300, 1500, 6000])  # decimation and refinement (source 1284 v)
def test_counts_parts_and_exact_ground_truth(target):
    v, f, parts = _two_spheres()
    r = remesh(v, f, target, parts=parts, seed=1)
    V2 = len(r.vertices)
    assert abs(V2 - target) < 0.15 * target
    assert r.faces.shape[1] == 3 and r.faces.min() >= 0 and r.faces.max() < V2
    assert set(np.unique(r.faces)) == set(range(V2))  # every vertex is used
    np.testing.assert_allclose(interpolate(v, f, r.src_face, r.bary), r.vertices, atol=1e-12)
    assert np.all(r.bary >= -1e-12) and np.allclose(r.bary.sum(1), 1)
    # every vertex stays on its own part (radius 1 vs 1.03), faces never mix parts
    np.testing.assert_array_equal(parts[f[r.src_face, 0]], r.parts)
    radius = np.linalg.norm(r.vertices, axis=1)
    assert np.all(np.where(r.parts == 3, radius < 1.0 + 1e-9, radius > 1.02))  # chords: inner <= 1, outer >= 1.026
    assert np.all(r.parts[r.faces[:, 0]] == r.parts[r.faces[:, 1]])
    assert set(np.unique(r.parts)) == {3, 7}


def test_triangulation_differs_and_seed_is_deterministic():
    v, f, parts = _two_spheres()
    a = remesh(v, f, len(v), parts=parts, seed=0)  # same size, still a new triangulation
    b = remesh(v, f, len(v), parts=parts, seed=0)
    c = remesh(v, f, len(v), parts=parts, seed=1)
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(a.faces, b.faces)
    assert a.vertices.shape != c.vertices.shape or not np.allclose(a.vertices, c.vertices)
    # few output vertices coincide with source vertices
    d = np.min(np.linalg.norm(a.vertices[:, None] - v[None, ::4], axis=2), axis=1)
    assert np.mean(d < 1e-6) < 0.2


def test_vertices_do_not_jump_across_a_closed_mouth():
    v, f = _u_fold()
    for target, seed in [(150, 0), (400, 1), (1600, 2)]:
        r = remesh(v, f, target, seed=seed)
        src = v[f[r.src_face]]
        fn = np.cross(src[:, 1] - src[:, 0], src[:, 2] - src[:, 0])
        fn /= np.linalg.norm(fn, axis=1, keepdims=True)
        m = trimesh.Trimesh(r.vertices, r.faces, process=False)
        vn = m.vertex_normals
        away = r.vertices[:, 0] < 0.85  # away from the fold at x = 1
        assert np.all(np.einsum("vc,vc->v", fn, vn)[away] > -0.5), (target, seed)  # a jump gives -1
        assert r.info["outliers"] <= 0.01 * len(r.vertices)


@pytest.mark.slow
@pytest.mark.ict
def test_ict_head_remesh_range(ict_neutral_obj):
    vs, fs = [], []
    for line in ict_neutral_obj.read_text().splitlines():
        if line.startswith("v "):
            vs.append([float(t) for t in line.split()[1:4]])
        elif line.startswith("f "):
            idx = [int(t.split("/")[0]) - 1 for t in line.split()[1:]]
            fs += [[idx[0], idx[a], idx[a + 1]] for a in range(1, len(idx) - 1)]
    v, f = np.array(vs), np.array(fs, dtype=np.int64)
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]]])
    parts = connected_components(sp.coo_matrix((np.ones(len(e)), e.T), shape=(len(v),) * 2), directed=False)[1]
    for target in (1000, 10000, 50000):
        t = time.perf_counter()
        r = remesh(v, f, target, parts=parts, seed=3)
        dt = time.perf_counter() - t
        assert abs(len(r.vertices) - target) < 0.2 * target
        np.testing.assert_array_equal(parts[f[r.src_face, 0]], r.parts)
        np.testing.assert_allclose(interpolate(v, f, r.src_face, r.bary), r.vertices, atol=1e-9)
        assert len(np.unique(r.parts)) == 56
        assert r.info["outliers"] < 0.005 * len(r.vertices)
        print(target, len(r.vertices), f"{dt:.2f}s", r.info["max_rel_dist"])

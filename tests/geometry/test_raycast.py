"""The front ray cast: the first triangle each ray along -Z meets."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from facerig.geometry.raycast import Grid, first_hits


def _moller_trumbore_first(v, f, origins):
    """Reference: nearest hit along -Z of each origin (P, 3), brute force over all triangles (3D test)."""
    d = np.array([0.0, 0.0, -1.0])
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    e1, e2 = b - a, c - a
    p = np.cross(d, e2)
    det = np.einsum("fi,fi->f", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origins[:, None, :] - a[None]  # (P, F, 3)
    u = np.einsum("pfi,fi->pf", s, p) * inv
    q = np.cross(s, e1[None])
    w = (q @ d) * inv
    t = np.einsum("pfi,fi->pf", q, e2) * inv
    hit = ok & (u >= 0) & (w >= 0) & (u + w <= 1) & (t > 0)
    t = np.where(hit, t, np.inf)
    first = np.argmin(t, axis=1)
    tmin = t[np.arange(len(origins)), first]
    return np.where(np.isfinite(tmin), first, -1), np.where(np.isfinite(tmin), origins[:, 2] - tmin, -np.inf)


def test_first_hits_matches_brute_force_rays():
    mesh = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
    box = trimesh.creation.box(extents=[0.5, 0.5, 0.5])
    box.apply_translation([0.3, 0.2, 1.5])
    v = np.vstack([mesh.vertices, box.vertices])
    f = np.vstack([mesh.faces, box.faces + len(mesh.vertices)])
    grid = Grid.around(-1.2, 1.2, -1.2, 1.2, 0.1)
    hit, depth = first_hits(v, f, grid)
    X, Y = grid.points()
    origins = np.c_[X.ravel(), Y.ravel(), np.full(X.size, 10.0)]
    ref, zref = _moller_trumbore_first(v, f, origins)
    ours = hit.ravel()
    assert np.mean((ours >= 0) == (ref >= 0)) > 0.99  # rays grazing the silhouette may differ
    both = (ours >= 0) & (ref >= 0)
    np.testing.assert_allclose(depth.ravel()[both], zref[both], atol=1e-9)  # same surface, maybe other face
    assert depth.max() == pytest.approx(1.75, abs=1e-9)  # the box's top face in front of the sphere
    assert (depth.ravel()[ours < 0] == -np.inf).all()


def _layers(rng, n_back: int, cover: bool):
    """Small triangles in layers at z = 0 / 3 (z rounded: exact ties), duplicated faces, and
    optionally one big front triangle at z = 10 over the whole grid (it hides every other face)."""
    v = rng.normal(size=(300, 3))
    v[:, 2] = np.round(v[:, 2], 1) + np.where(rng.random(300) < 0.5, 3.0, 0.0)
    f = rng.integers(0, 300, size=(n_back, 3))
    f[:50] = f[50:100]  # the same face twice: a tie the last one wins
    if cover:
        v = np.vstack([v, [[-10, -10, 10], [10, -10, 10], [0, 10, 10]]])
        f = np.vstack([f, [[300, 301, 302]]])
    return v, f


@pytest.mark.parametrize("cover", [False, True])
def test_first_hits_two_passes_give_the_one_pass_answer(monkeypatch, cover):
    """From TWO_PASS faces on, first_hits casts the front half first and skips what it hides: the
    faces and depths are bit-identical to one pass over every face (ties included); with a front
    face over everything, every other face is skipped."""
    import facerig.geometry.raycast as rc

    rng = np.random.default_rng(3)
    v, f = _layers(rng, 600, cover)
    grid = Grid.around(-2, 2, -2, 2, 0.02)
    one = rc._cast(v, f, grid)
    monkeypatch.setattr(rc, "TWO_PASS", 50)
    two = first_hits(v, f, grid)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])
    assert (one[0] >= 0).sum() > 1000
    if cover:
        assert (two[0] == len(f) - 1).all()


def test_first_hits_faces_beside_the_grid_left_out_give_the_same_answer(monkeypatch):
    """first_hits leaves out the faces wholly beside the grid before its two passes: a grid over part
    of the layers gives the one-pass answer over every face, bit for bit (face rows of the full list)."""
    import facerig.geometry.raycast as rc

    rng = np.random.default_rng(5)
    v, f = _layers(rng, 600, False)
    grid = Grid.around(0.6, 2.1, 0.5, 1.9, 0.013)
    beside = ~rc._over_grid(v, f, grid)
    assert 100 < beside.sum() < len(f) - 100  # both kinds are there
    one = rc._cast(v, f, grid)
    assert not np.isin(one[0], np.flatnonzero(beside)).any() and (one[0] >= 0).sum() > 1000
    monkeypatch.setattr(rc, "TWO_PASS", 50)
    two = first_hits(v, f, grid)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])


def test_over_rays_keeps_every_face_that_a_ray_of_the_box_meets():
    """over_rays: the faces it leaves out meet no ray in the box, so a cast with only the others has the
    same hits there (and a smaller box leaves out more)."""
    from facerig.geometry.raycast import _cast, over_rays

    rng = np.random.default_rng(6)
    v, f = _layers(rng, 600, False)
    grid = Grid.around(-2, 2, -2, 2, 0.02)
    box = (60, 130, 90, 110)
    keep = over_rays(v, f, grid, box)
    assert 0 < keep.sum() < over_rays(v, f, grid, (0, grid.nx - 1, 0, grid.ny - 1)).sum()
    full, part = _cast(v, f, grid), _cast(v, f[keep], grid)
    inner = (slice(box[2], box[3] + 1), slice(box[0], box[1] + 1))
    rows = np.flatnonzero(keep)
    mapped = np.where(part[0] >= 0, rows[np.maximum(part[0], 0)], -1)
    assert np.array_equal(full[0][inner], mapped[inner]) and np.array_equal(full[1][inner], part[1][inner])
    assert (full[0][inner] >= 0).sum() > 100

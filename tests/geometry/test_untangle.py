"""Folds found and smoothed away on a small synthetic sheet."""

import numpy as np

from facerig.geometry.untangle import folded_faces, untangle


def _sheet(n: int = 21):
    """A flat n x n grid in the XY plane: vertices (n*n, 3), faces (2(n-1)^2, 3) facing +Z."""
    x, y = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float))
    v = np.stack([x.ravel(), y.ravel(), np.zeros(n * n)], 1)
    i = np.arange(n * n).reshape(n, n)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, :-1].ravel(), i[1:, 1:].ravel()
    f = np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)])
    return v, f


def _folding_shape(v: np.ndarray, n: int = 21) -> np.ndarray:
    """(V, 3): the sheet slides in +X, except one vertex near the middle pushed 1.6 cells past
    its right-hand neighbour: the triangles around it turn over."""
    d = np.zeros_like(v)
    d[:, 0] = 0.3
    mid = (n // 2) * n + n // 2
    d[mid, 0] += 1.6
    return d


def test_folded_faces_finds_the_fold_and_nothing_else():
    v, f = _sheet()
    d = np.stack([_folding_shape(v), np.full_like(v, 0.3)])
    fold = folded_faces(v, f, d)
    assert fold[0].sum() > 0
    assert not fold[1].any()  # a translation folds nothing
    mid = (21 // 2) * 21 + 21 // 2
    assert (f[fold[0]] == mid).any(1).all()  # every folded triangle touches the pushed vertex


def test_untangle_removes_folds_and_leaves_far_vertices():
    v, f = _sheet()
    d = np.stack([_folding_shape(v), np.full_like(v, 0.3)]).astype(np.float32)
    keep = d.copy()
    out, info = untangle(v, f, d)
    assert np.array_equal(d, keep)  # input untouched
    assert out.shape == d.shape
    assert info["folded_before"][0] > 0 and info["folded_after"] == [0, 0]
    assert not folded_faces(v, f, out).any()
    mid = v[(21 // 2) * 21 + 21 // 2]
    far = np.linalg.norm(v - mid, axis=1) > 6
    assert np.array_equal(out[0, far], d[0, far])  # far vertices keep their deltas exactly
    assert np.array_equal(out[1], d[1])  # a shape without folds is unchanged
    assert info["vertices_changed"][1] == 0
    # the fix is local and small: the shape still slides the sheet, the push is only softened
    assert np.abs(out[0, :, 0] - 0.3).max() < 1.6
    assert info["vertices_changed"][0] < 0.25 * len(v)


def test_untangle_respects_skipped_shapes_and_frozen_vertices():
    v, f = _sheet()
    d = np.stack([_folding_shape(v)]).astype(np.float32)
    out, info = untangle(v, f, d, shapes=np.array([False]))
    assert out is d and info["folded_before"] == [0]
    mid = (21 // 2) * 21 + 21 // 2
    frozen = np.zeros(len(v), bool)
    frozen[mid] = True
    out, _ = untangle(v, f, d, frozen=frozen)
    assert np.array_equal(out[0, mid], d[0, mid])


def test_untangle_keeps_seam_copies_together():
    v, f = _sheet()
    n = 21
    # split the sheet along its middle column: the right half gets its own copies of the column
    col = np.arange(n) * n + n // 2
    copies = np.arange(len(v), len(v) + n)
    v2 = np.concatenate([v, v[col]])
    f2 = f.copy()
    right = v[f].mean(1)[:, 0] > n // 2
    remap = np.arange(len(v))
    remap[col] = copies
    f2[right] = remap[f[right]]
    d = np.zeros((1, len(v2), 3), np.float32)
    d[0, :, 0] = 0.3
    d[0, (n // 2) * n + n // 2 - 1, 0] += 2.2  # folds triangles right at the seam
    d[0, copies] = d[0, col]  # the rig moves the seam's two copies as one
    assert folded_faces(v2, f2, d).any()
    out, info = untangle(v2, f2, d)
    assert info["folded_after"] == [0]
    assert np.array_equal(out[0, copies], out[0, col])  # no crack opens


def test_folded_area_is_what_untangles_min_area_is_compared_with():
    from facerig.geometry.untangle import folded_area

    v, f = _sheet()
    d = np.stack([_folding_shape(v), np.full_like(v, 0.3)]).astype(np.float32)
    area = folded_area(v, f, d)
    fold = folded_faces(v, f, d)
    assert area[1] == 0 and np.isclose(area[0], 0.5 * fold[0].sum())  # unit-cell halves: 0.5 each
    kept, info = untangle(v, f, d, min_area=area[0] * 1.001)
    assert kept is d and info["vertices_changed"] == [0, 0]
    done, info = untangle(v, f, d, min_area=area[0] * 0.999)
    assert info["vertices_changed"][0] > 0 and not folded_faces(v, f, done[:1]).any()
    # the largest piece only: a second, folded sheet far away is smaller, its folds do not count
    small_v, small_f = _sheet(11)
    v2 = np.concatenate([v, small_v + [0.0, 0.0, 50.0]])
    f2 = np.concatenate([f, small_f + len(v)])
    d2 = np.concatenate([d, np.zeros((2, 121, 3), np.float32)], axis=1)
    d2[1, len(v) + 60, 0] = 1.6
    np.testing.assert_allclose(folded_area(v2, f2, d2, where="largest"), [area[0], 0.0])
    assert folded_area(v2, f2, d2)[1] > 0


def test_folded_faces_in_chunks_equals_one_shape_at_a_time(monkeypatch):
    """Shapes tested together a chunk of triangles at a time find, bit for bit, what each shape
    tested alone over all its triangles finds (chunk boundaries inside the mesh)."""
    import facerig.geometry.untangle as untangle_module

    v, f = _sheet()
    rng = np.random.default_rng(0)
    d = np.stack([_folding_shape(v), np.full_like(v, 0.3), rng.normal(0, 0.4, v.shape)]).astype(np.float32)
    alone = np.stack([folded_faces(v, f, d[k], 0.2)[0] for k in range(len(d))])
    monkeypatch.setattr(untangle_module, "_CHUNK", 97)  # 800 triangles: 9 chunks, the last one short
    together = folded_faces(v, f, d, 0.2)
    assert alone[2].any() and not alone[2].all()
    np.testing.assert_array_equal(together, alone)


def test_untangle_with_half_the_shapes_tested_in_a_forked_child_is_the_same(monkeypatch, allow_fork):
    """Where the host allows forks, half of the shapes' fold tests run in a forked child: the same
    folds and the same untangled rig, bit for bit, as all tested here."""
    import facerig.geometry.untangle as untangle_module
    from facerig import parallel

    v, f = _sheet()
    rng = np.random.default_rng(1)
    d = np.stack([_folding_shape(v), np.full_like(v, 0.3), rng.normal(0, 0.4, v.shape), _folding_shape(v)[::-1]])
    d = d.astype(np.float32)
    alone, info = untangle(v, f, d)
    forks = []
    real = parallel.fork_call
    monkeypatch.setattr(parallel, "fork_call", lambda fn, *a: forks.append(a[2].shape) or real(fn, *a))
    monkeypatch.setattr(untangle_module, "_SPLIT_MIN", 1)
    monkeypatch.setattr(parallel, "spare_cores", lambda: 1)  # (the machine's load decides otherwise)
    monkeypatch.setitem(parallel._SETTINGS, "beside", True)  # (off by default)
    halves = untangle_module._folded_faces_halves(v, f, d, 0.0)
    assert forks == [(2, len(v), 3)]  # the last two shapes in the child
    np.testing.assert_array_equal(halves, folded_faces(v, f, d))
    split, split_info = untangle(v, f, d)
    assert len(forks) == 2 and split.tobytes() == alone.tobytes() and split_info == info
    assert info["folded_before"][0] > 0 and info["folded_after"][0] < info["folded_before"][0]

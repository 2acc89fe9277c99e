"""Triangles wound every which way are re-wound consistently and outward; a consistent mesh is
left as it is (robustness sweep: half the faces flipped lost a blink or a jaw)."""

import numpy as np
import trimesh

from facerig.geometry.winding import consistent_winding


def _sphere():
    m = trimesh.creation.icosphere(2)
    return np.asarray(m.vertices), np.asarray(m.faces, np.int64)


def test_consistent_mesh_is_returned_as_it_is():
    v, f = _sphere()
    out, n = consistent_winding(v, f)
    assert n == 0 and out is f


def test_half_flipped_sphere_is_rewound_outward():
    v, f = _sphere()
    flip = np.random.default_rng(0).random(len(f)) < 0.5
    g = f.copy()
    g[flip] = g[flip][:, ::-1]
    out, n = consistent_winding(v, g)
    assert n == flip.sum()
    np.testing.assert_array_equal(out, f)


def test_islands_split_along_seams_agree_across_them():
    v, f = _sphere()
    top = v[f].mean(1)[:, 1] > 0  # split into two islands: the top faces get their own vertices
    ids = np.unique(f[top])
    remap = np.arange(len(v))
    remap[ids] = len(v) + np.arange(len(ids))
    v2 = np.concatenate([v, v[ids]])
    f2 = f.copy()
    f2[top] = remap[f[top]]
    g = f2.copy()
    flip = np.random.default_rng(1).random(len(f)) < 0.4
    g[flip] = g[flip][:, ::-1]
    out, _ = consistent_winding(v2, g)
    np.testing.assert_array_equal(out, f2)


def test_winding_beside_gives_what_consistent_winding_gives(allow_fork, monkeypatch):
    """Started in a forked child (the host allows forks) or computed when asked (it does not): the
    same faces and count; faces that needed nothing come back as the very array given."""
    from facerig import parallel
    from facerig.geometry.winding import winding_beside

    v, f = _sphere()
    flipped = f.copy()
    flipped[::2] = flipped[::2, ::-1]
    want, n = consistent_winding(v, flipped)
    assert n > 0
    forks = []
    real = parallel.fork_call

    def counted(fn, *a):
        job = real(fn, *a)
        if job is not None:
            forks.append(fn.__name__)
        return job

    monkeypatch.setattr(parallel, "fork_call", counted)
    monkeypatch.setattr(parallel, "spare_cores", lambda: 1)  # (the machine's load decides otherwise)
    monkeypatch.setitem(parallel._SETTINGS, "beside", True)  # (off by default)
    for fork in (True, False):
        parallel.configure(fork=fork)
        with winding_beside(v, flipped) as job:
            got, m = job.result()
        np.testing.assert_array_equal(got, want)
        assert m == n and got.dtype == np.int64
        same = np.asarray(f, np.int64)
        with winding_beside(v, same) as job:
            got, m = job.result()
        assert got is same and m == 0
        with winding_beside(v, same):  # its answer never asked for: the child is reaped
            pass
    assert forks == ["_changed"] * 3

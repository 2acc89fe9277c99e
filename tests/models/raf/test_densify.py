"""``rig_raf``'s ``densify`` option: a coarse head rigged on its midpoint subdivision, its own rows kept."""

from __future__ import annotations

import numpy as np
from _raf_helpers import _head, _rig

from facerig.models.raf import densify as D


def test_midpoint_subdivide_keeps_the_input_vertices_first_and_adds_edge_midpoints(tiny_head):
    v, f = _head(tiny_head)
    sv, sf = D.midpoint_subdivide(v, f)
    edges = np.unique(np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1), axis=0)
    assert sv.shape == (len(v) + len(edges), 3) and sf.shape == (4 * len(f), 3)
    np.testing.assert_array_equal(sv[: len(v)], v)
    mids = np.sort((v[edges[:, 0]] + v[edges[:, 1]]) / 2, axis=0)
    np.testing.assert_allclose(np.sort(sv[len(v) :], axis=0), mids, atol=1e-12)
    # every new triangle has the input's surface area in total (nothing moved off the surface)
    area = lambda x, t: np.linalg.norm(np.cross(x[t[:, 1]] - x[t[:, 0]], x[t[:, 2]] - x[t[:, 0]]), axis=1).sum()  # noqa: E731
    assert np.isclose(area(sv, sf), area(v, f))


def test_densify_rigs_the_subdivided_head_and_keeps_the_input_rows(tiny_head, random_weights):
    v, f = _head(tiny_head)
    out = _rig(v, f, random_weights, densify=True)
    sv, sf = D.midpoint_subdivide(v, f)
    dense = _rig(sv, sf, random_weights)
    assert out.deltas.shape == (52, len(v), 3) and out.deltas.dtype == np.float32
    assert out.meta["raf"]["densified"] == {"vertices": len(sv), "below": D.DENSIFY_BELOW}
    assert out.meta["raf"]["proxy_vertices"] == len(sv)
    np.testing.assert_allclose(out.deltas, dense.deltas[:, : len(v)], atol=1e-5 * np.abs(dense.deltas).max())
    plain = _rig(v, f, random_weights)  # the network on the coarse head itself answers differently
    assert np.abs(plain.deltas - out.deltas).max() > 1e-3 * np.abs(plain.deltas).max()


def test_densify_keeps_the_input_vertex_order(tiny_head, random_weights):
    v, f = _head(tiny_head)
    perm = np.random.default_rng(0).permutation(len(v))
    inv = np.argsort(perm)
    d = _rig(v, f, random_weights, densify=True).deltas
    dp = _rig(v[perm], inv[f], random_weights, densify=True).deltas
    np.testing.assert_allclose(dp, d[:, perm], atol=1e-3 * np.abs(d).max())


def test_densify_leaves_heads_at_or_above_the_threshold_alone(tiny_head, random_weights, monkeypatch):
    v, f = _head(tiny_head)
    monkeypatch.setattr(D, "DENSIFY_BELOW", len(v))
    out = _rig(v, f, random_weights, densify=True)
    assert "densified" not in out.meta["raf"]
    np.testing.assert_array_equal(out.deltas, _rig(v, f, random_weights).deltas)

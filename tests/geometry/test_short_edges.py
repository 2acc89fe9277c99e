"""Merging the ends of zero-length edges (faces of coincident corners)."""

from __future__ import annotations

import numpy as np

from facerig.geometry.short_edges import merge_short_edges


def _strip():
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [1, 1 + 1e-9, 0], [2, 1, 0.0]])
    f = np.array([[0, 1, 2], [1, 3, 2], [1, 5, 3], [3, 5, 4]])  # 3-4: a zero-length edge
    return v, f


def test_zero_length_edge_merged_and_its_face_dropped():
    v, f = _strip()
    wv, wf, index = merge_short_edges(v, f, 1e-4)
    assert wv.shape == (5, 3)
    assert index.tolist() == [0, 1, 2, 3, 3, 4]
    assert len(wf) == 3 and np.all(wf[:, 0] != wf[:, 1]) and np.all(wf[:, 1] != wf[:, 2])
    assert np.allclose(wv[3], (v[3] + v[4]) / 2)
    assert np.allclose(wv[index], v, atol=1e-8)  # every input vertex reads a point where it is


def test_nothing_short_comes_back_as_it_is():
    v, f = _strip()
    v[4] = [1.5, 1.5, 0]
    wv, wf, index = merge_short_edges(v, f, 1e-4)
    assert wv is not None and np.array_equal(wv, v) and np.array_equal(wf, f)
    assert np.array_equal(index, np.arange(len(v)))
    assert merge_short_edges(*_strip(), 0.0)[0].shape == (6, 3)  # 0 disables it


def test_coincident_vertices_without_an_edge_are_kept_apart():
    v, f = _strip()
    f = f[:3]  # vertex 4 now lies on 3 but shares no edge with it
    f = np.r_[f, [[4, 5, 0]]]
    wv, _, index = merge_short_edges(v, f, 1e-4)
    assert len(wv) == 6 and np.array_equal(index, np.arange(6))

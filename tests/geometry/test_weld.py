"""Stitching open seams: boundary vertices of one part that lie on top of each other."""

from __future__ import annotations

import numpy as np

from facerig.geometry.components import connected_components
from facerig.geometry.weld import boundary_edges, weld_seams


def test_seam_within_a_part_is_stitched_back_to_the_closed_mesh(tiny_head, split_meridian):
    v, f = tiny_head(8, 12)
    v2, f2, cut = split_meridian(v, f, range(2, 7), 12)
    parts = connected_components(len(v2), f2)
    assert len(np.unique(parts)) == 2  # the cut head is still one piece (plus the eye)
    assert len(boundary_edges(f2)) > 0 and len(boundary_edges(f)) == 0
    wv, wf, index = weld_seams(v2, f2)
    assert wv.shape == v.shape and len(wf) == len(f)
    np.testing.assert_array_equal(index[: len(v)], np.arange(len(v)))  # numbered by lowest input vertex
    np.testing.assert_array_equal(index[len(v) :], cut)  # each copy joins its original
    np.testing.assert_array_equal(wf, f)  # the closed surface, faces in their order
    assert len(boundary_edges(wf)) == 0
    np.testing.assert_allclose(wv[cut], v[cut] + 0.5e-6, atol=1e-12)  # mean of the pair


def test_real_openings_stay_open(tiny_head, split_meridian):
    v, f = tiny_head(8, 12)
    # the two lips of the cut 1 % of the diagonal apart: an opening, not a seam
    v2, f2, _ = split_meridian(v, f, range(2, 7), 12, gap=0.01 * np.linalg.norm(np.ptp(v, 0)))
    wv, wf, index = weld_seams(v2, f2)
    assert wv.shape == v2.shape and np.array_equal(index, np.arange(len(v2))) and np.array_equal(wf, f2)


def test_islands_split_at_a_seam_are_joined_unless_parts_say_otherwise():
    """Two pieces meeting along an edge of opposite orientation (an exporter's UV-island split)
    are stitched into one surface; with ``parts`` labels, only within a label."""
    a = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0.0]])
    b = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0.0]])
    v, f = np.concatenate([a, b]), np.array([[0, 1, 2], [3, 5, 4]])
    assert len(np.unique(connected_components(len(v), f))) == 2
    wv, wf, index = weld_seams(v, f)
    assert len(wv) == 4 and index[3] == 1 and index[4] == 2 and len(wf) == 2
    assert len(np.unique(connected_components(len(wv), wf))) == 1
    wv, wf, index = weld_seams(v, f, parts=np.array([0, 0, 0, 1, 1, 1]))
    assert len(wv) == 6 and np.array_equal(index, np.arange(6))


def test_nothing_to_weld_returns_the_input(tiny_head):
    v, f = tiny_head()
    wv, wf, index = weld_seams(v, f)
    assert wv is not None and np.array_equal(wv, v) and np.array_equal(wf, f)
    np.testing.assert_array_equal(index, np.arange(len(v)))
    wv, wf, index = weld_seams(v, f, tol=0.0)
    assert np.array_equal(index, np.arange(len(v)))


def test_stacked_copies_are_not_seams():
    """Two copies of a strip lying on top of each other with the same orientation (ICT's eyelash
    strips are stacked like this) are not a seam: nothing is merged, every face survives."""
    grid = np.array([[x, y, 0.0] for y in (0, 1) for x in (0, 1, 2)])
    strip = np.array([[0, 1, 4], [0, 4, 3], [1, 2, 5], [1, 5, 4]])
    v = np.concatenate([grid, grid, [[-1.0, -1.0, 0.5]]])
    f = np.concatenate([strip, strip + 6, [[0, 12, 6]]])  # a bridge keeps both copies in one part
    assert len(np.unique(connected_components(len(v), f))) == 1
    wv, wf, index = weld_seams(v, f)
    assert np.array_equal(index, np.arange(len(v))) and np.array_equal(wf, f)
    # flipped, its border edges do pair up, but stitching them would lay every face on a copy of
    # itself (a zero-thickness pillow): refused, every face survives
    f2 = np.concatenate([strip, strip[:, ::-1] + 6, [[0, 12, 6]]])
    wv, wf, index = weld_seams(v, f2)
    assert np.array_equal(index, np.arange(len(v))) and np.array_equal(wf, f2)


def test_refused_stitches_and_duplicate_faces_anywhere_decide_as_over_every_face():
    """weld_seams re-checks only the faces a stitch touches: a seam is stitched beside a refused
    pillow stitch, and an earlier duplicate face anywhere (which every check over all faces finds)
    still leaves the mesh unstitched."""
    a = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0.0]])
    b = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0.0]])
    grid = np.array([[x, y, 0.0] for y in (0, 1) for x in (0, 1, 2)]) + [5.0, 0.0, 0.0]
    strip = np.array([[0, 1, 4], [0, 4, 3], [1, 2, 5], [1, 5, 4]])
    v = np.concatenate([a, b, grid, grid, [[4.0, -1.0, 0.5]]])
    f = np.concatenate([[[0, 1, 2], [3, 5, 4]], strip + 6, strip[:, ::-1] + 12, [[6, 18, 12]]])
    wv, wf, index = weld_seams(v, f)
    assert index[3] == 1 and index[4] == 2 and len(wv) == len(v) - 2  # the islands' seam only
    np.testing.assert_array_equal(index[6:], np.arange(4, len(v) - 2))  # the flipped strips stay apart
    assert len(wf) == len(f) and len(np.unique(np.sort(wf, axis=1), axis=0)) == len(f)
    dup = np.concatenate([f, [[6, 7, 10]]])  # the strip's first face once more, far from the seam
    wv, wf, index = weld_seams(v, dup)
    assert np.array_equal(index, np.arange(len(v))) and np.array_equal(wf, dup)

"""connected_components: labels per vertex, ordered by each component's lowest vertex index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facerig.geometry.components import connected_components


def test_tiny_head_has_two_parts(tiny_head) -> None:
    v, f = tiny_head()
    labels = connected_components(len(v), f)
    assert labels.shape == (len(v),)
    assert labels.max() == 1
    assert (labels[:-6] == 0).all() and (labels[-6:] == 1).all()


def test_labels_ordered_by_lowest_vertex_and_loose_vertices() -> None:
    # components {5, 6, 7}, {0, 3, 4} (quad), vertex 1 and 2 loose
    faces = np.array([[7, 6, 5], [4, 3, 0], [0, 3, 4]])
    labels = connected_components(8, faces)
    np.testing.assert_array_equal(labels, [0, 1, 2, 0, 0, 3, 3, 3])


def test_quads_accepted() -> None:
    labels = connected_components(6, np.array([[0, 1, 2, 3], [4, 5, 4, 5]]))
    np.testing.assert_array_equal(labels, [0, 0, 0, 0, 1, 1])


def test_no_faces() -> None:
    np.testing.assert_array_equal(connected_components(3, np.zeros((0, 3), int)), [0, 1, 2])
    assert connected_components(0, np.zeros((0, 3), int)).shape == (0,)


@pytest.mark.ict
def test_ict_neutral_has_56_parts(ict_neutral_obj: Path) -> None:
    from facerig.io import load_mesh

    m = load_mesh(ict_neutral_obj)
    labels = connected_components(m.num_vertices, m.faces)
    assert labels.max() + 1 == 56
    first = [int(np.flatnonzero(labels == k)[0]) for k in range(56)]
    assert first == sorted(first)


def test_large_mesh_labels_are_kept_per_mesh_and_returned_fresh() -> None:
    """The last large mesh's labels are kept (facerig rig asks three times): each call returns a
    new array, and a different mesh (even one face changed) gets its own labels."""
    rng = np.random.default_rng(0)
    V = 30_000
    faces = rng.integers(0, V // 2, size=(12_000, 3))  # >= 30,000 corners: kept; vertices >= V/2 loose
    first = connected_components(V, faces)
    first[:] = -1  # the caller may change what it gets
    again = connected_components(V, faces.copy())
    assert again.min() == 0 and (again[V // 2 :] > 0).all()
    other = faces.copy()
    other[0] = [V - 3, V - 2, V - 1]  # three loose vertices become one part
    joined = connected_components(V, other)
    assert joined[V - 3] == joined[V - 2] == joined[V - 1] and again[V - 3] != again[V - 2]
    np.testing.assert_array_equal(connected_components(V, faces), again)

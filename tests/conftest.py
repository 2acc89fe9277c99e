"""Shared test fixtures: a tiny synthetic head and ICT FaceKit availability."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from facerig.config import ict_dir


@functools.lru_cache(maxsize=1)
def _ict_neutral_obj() -> Path | None:
    """The ICT generic neutral OBJ if ICT FaceKit is present, else None. Resolved by the loader's
    own rule (``facerig.data.ict.find_model_dir``), which unpacks the archive into the cache on
    first use, so a fresh machine runs the same tests as one with a warm cache."""
    root = ict_dir_or_none()
    if root is None:
        return None
    from facerig.data.ict import find_model_dir

    try:
        return find_model_dir(root) / "generic_neutral_mesh.obj"
    except Exception:  # noqa: BLE001 - an unreadable archive just means "not available"
        return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip tests marked ``@pytest.mark.ict`` when ICT FaceKit is not available."""
    if item.get_closest_marker("ict") is not None and ict_dir_or_none() is None:
        pytest.skip("ICT FaceKit not available (set FACERIG_ICT_DIR)")


def ict_dir_or_none() -> Path | None:
    try:
        return ict_dir(required=False)
    except Exception:  # noqa: BLE001
        return None


def make_tiny_head(n_lat: int = 6, n_lon: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A small closed "head": an ellipsoid (Y up, face toward +Z) plus a separate "eye" octahedron.

    Returns:
        vertices (V, 3) float64 with V = (n_lat - 1) * n_lon + 2 + 6, faces (F, 3) int64;
        two connected components (head first, eye second).
    """
    verts = [[0.0, 1.2, 0.0]]
    for i in range(1, n_lat):
        th = np.pi * i / n_lat
        for j in range(n_lon):
            ph = 2 * np.pi * j / n_lon
            verts.append([np.sin(th) * np.cos(ph), 1.2 * np.cos(th), 0.9 * np.sin(th) * np.sin(ph)])
    verts.append([0.0, -1.2, 0.0])
    faces = []
    ring = lambda i, j: 1 + (i - 1) * n_lon + (j % n_lon)  # noqa: E731
    for j in range(n_lon):
        faces.append([0, ring(1, j + 1), ring(1, j)])
    for i in range(1, n_lat - 1):
        for j in range(n_lon):
            a, b, c, d = ring(i, j), ring(i, j + 1), ring(i + 1, j + 1), ring(i + 1, j)
            faces += [[a, b, c], [a, c, d]]
    last = len(verts) - 1
    for j in range(n_lon):
        faces.append([last, ring(n_lat - 1, j), ring(n_lat - 1, j + 1)])
    # the "eye": an octahedron in front of the face
    o = len(verts)
    c = np.array([0.3, 0.3, 0.95])
    r = 0.08
    verts += (c + r * np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])).tolist()
    for a, b in [(0, 2), (2, 1), (1, 3), (3, 0)]:
        faces.append([o + a, o + b, o + 4])
        faces.append([o + b, o + a, o + 5])
    return np.asarray(verts, dtype=np.float64), np.asarray(faces, dtype=np.int64)


def split_tiny_head_meridian(v: np.ndarray, f: np.ndarray, rows: range, n_lon: int, gap: float = 1e-6):
    """Cut the tiny head's ellipsoid along meridian 0 over ``rows`` (latitude rings): the cut
    vertices are duplicated (appended, moved by ``gap``) and the faces on the -Z side of the
    cut use the copies. Returns (vertices, faces, originals (D,) of the appended copies)."""
    ring = lambda i, j: 1 + (i - 1) * n_lon + (j % n_lon)  # noqa: E731
    cut = np.array([ring(i, 0) for i in rows])
    copy = {int(c): len(v) + k for k, c in enumerate(cut)}
    side = v[f].mean(1)[:, 2] < 0  # faces on the -Z side of the cut (meridian 0 lies at z = 0, x > 0)
    near = v[f].mean(1)[:, 0] > 0
    f2 = f.copy()
    for k, face in enumerate(f):
        if side[k] and near[k]:
            f2[k] = [copy.get(int(x), int(x)) for x in face]
    v2 = np.concatenate([v, v[cut] + gap])
    return v2, f2, cut


def split_tiny_head_ring(v: np.ndarray, f: np.ndarray, ring_index: int, n_lon: int):
    """Cut the tiny head's ellipsoid all the way round along latitude ring ``ring_index``, as an
    exporter splits UV islands: the ring's vertices are duplicated (appended) and the faces
    below the ring use the copies, so the head becomes two disconnected pieces. Returns
    (vertices, faces, originals (D,) of the appended copies)."""
    cut = np.array([1 + (ring_index - 1) * n_lon + j for j in range(n_lon)])
    copy = np.full(len(v), -1)
    copy[cut] = len(v) + np.arange(len(cut))
    below = v[f].mean(1)[:, 1] < v[cut, 1].mean()
    f2 = f.copy()
    f2[below] = np.where(copy[f[below]] >= 0, copy[f[below]], f[below])
    return np.concatenate([v, v[cut]]), f2, cut


@pytest.fixture
def split_ring():
    """The :func:`split_tiny_head_ring` helper: the tiny head cut into two islands."""
    return split_tiny_head_ring


@pytest.fixture
def split_meridian():
    """The :func:`split_tiny_head_meridian` helper: an open seam cut into the tiny head."""
    return split_tiny_head_meridian


@pytest.fixture
def tiny_head():
    """The :func:`make_tiny_head` builder: ``tiny_head(n_lat=6, n_lon=8) -> (vertices, faces)``."""
    return make_tiny_head


@pytest.fixture
def head_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(vertices (V, 3), faces (F, 3)) of :func:`make_tiny_head`."""
    return make_tiny_head()


@pytest.fixture
def tiny_obj(tmp_path: Path) -> Path:
    """:func:`make_tiny_head` written as ``tmp_path/tiny.obj``."""
    from facerig.io.obj import write_obj

    v, f = make_tiny_head()
    path = tmp_path / "tiny.obj"
    write_obj(path, v, f, header="facerig test head")
    return path


@pytest.fixture
def ict_neutral_obj() -> Path:
    """Path of the ICT generic neutral OBJ (skips the test when ICT FaceKit is absent)."""
    path = _ict_neutral_obj()
    if path is None:
        pytest.skip("ICT FaceKit not available")
    return path


@pytest.fixture
def allow_fork():
    """Let the library fork helpers for this test, as the CLI does (``facerig.parallel.configure``)."""
    from facerig import parallel

    before = parallel.configure()
    parallel.configure(fork=True)
    yield
    parallel.configure(fork=before["fork"])

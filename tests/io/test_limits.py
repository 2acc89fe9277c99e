"""Size limits: file size (argument / environment), counts, and the too-small-to-be-a-head rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facerig.errors import FacerigError, MeshError
from facerig.io.limits import check_counts, check_file_size, check_head_size, max_file_bytes
from facerig.io.mesh import Mesh


def test_file_size_limit_argument_environment_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "f.obj"
    p.write_bytes(b"x" * 2000)
    monkeypatch.delenv("FACERIG_MAX_FILE_BYTES", raising=False)
    assert max_file_bytes() == 2 * 1024**3
    assert check_file_size(p) == 2000
    with pytest.raises(MeshError, match=r"file is 2.0 kB, over the limit of 1.0 kB"):
        check_file_size(p, 1024)
    monkeypatch.setenv("FACERIG_MAX_FILE_BYTES", "1500")
    with pytest.raises(MeshError, match="over the limit of 1.5 kB"):
        check_file_size(p)
    assert check_file_size(p, 0) == 2000  # an explicit 0 = no limit wins over the environment
    monkeypatch.setenv("FACERIG_MAX_FILE_BYTES", "lots")
    with pytest.raises(FacerigError, match="FACERIG_MAX_FILE_BYTES must be a number"):
        check_file_size(p)
    with pytest.raises(MeshError, match="no such file"):
        check_file_size(tmp_path / "none.obj", 10)


def test_counts() -> None:
    check_counts("m", 10, 20, max_vertices=10, max_faces=20)
    check_counts("m", None, None, max_vertices=1, max_faces=1)  # unknown counts pass
    with pytest.raises(MeshError, match="11 vertices is over the limit of 10"):
        check_counts("m", 11, 0, max_vertices=10)
    with pytest.raises(MeshError, match="21 faces is over the limit of 20"):
        check_counts("m", 0, 21, max_faces=20)


def test_head_size(tiny_head) -> None:
    tri = Mesh(vertices=np.eye(3), faces=np.array([[0, 1, 2]]), source="tri.obj")
    with pytest.raises(MeshError, match=r"tri.obj: too small to rig \(3 vertices; a head needs at least 100\)"):
        check_head_size(tri)
    v, f = tiny_head(10, 12)
    assert len(v) >= 100 and len(f) >= 100
    check_head_size(Mesh(vertices=v, faces=f))
    with pytest.raises(MeshError, match=r"too small to rig \(\d+ triangles"):
        check_head_size(Mesh(vertices=v, faces=f[:50]))

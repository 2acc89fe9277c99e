"""The method registry: default method choice and the one interface every method goes through."""

import numpy as np
import pytest

from facerig.errors import FacerigError
from facerig.io.mesh import Mesh
from facerig.models import registry


def test_default_is_first_available(monkeypatch):
    monkeypatch.setattr(registry, "PREFERENCE", ("dt", "raf"))
    monkeypatch.setattr(registry, "method_available", lambda n: n == "raf")
    assert registry.default_method() == "raf"
    monkeypatch.setattr(registry, "method_available", lambda n: True)
    assert registry.default_method() == "dt"
    monkeypatch.setattr(registry, "method_available", lambda n: False)
    assert registry.default_method() == "zero"


def test_dt_unavailable_without_ict(monkeypatch, tmp_path):
    monkeypatch.setenv("FACERIG_DATA", str(tmp_path))  # an empty data folder
    monkeypatch.delenv("FACERIG_ICT_DIR", raising=False)
    assert not registry.method_available("dt")


def test_rig_mesh_keeps_vertex_count_and_meta():
    v = np.random.default_rng(0).normal(size=(30, 3))
    mesh = Mesh(vertices=v, faces=np.array([[0, 1, 2], [2, 3, 4]]))
    rig = registry.rig_mesh(mesh, "zero")
    assert rig.deltas.shape == (52, 30, 3) and rig.meta["method"] == "zero"
    np.testing.assert_array_equal(rig.neutral, v)
    with pytest.raises(FacerigError, match="unknown method"):
        registry.rig_mesh(mesh, "nope")

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


def _position_method(mesh, **options):
    """A stand-in method: each vertex moves by its own position (what the method saw)."""
    d = np.asarray(mesh.vertices, np.float32)
    _position_method.seen = np.asarray(mesh.vertices).copy()
    return registry.MethodOutput(names=["jawOpen"], deltas=d[None])


def test_flawed_mesh_is_handled_by_default_and_refused_when_strict(monkeypatch, tiny_head):
    monkeypatch.setitem(registry.METHODS, "pos", f"{__name__}:_position_method")
    v, f = tiny_head()
    v2 = np.concatenate([v, [[0.0, 0.0, 2.0]]])
    f2 = np.concatenate([f, [[0, 0, 1]]])
    rig = registry.rig_mesh(Mesh(v2, f2), "pos", falloff=False)
    assert rig.deltas.shape == (52, len(v2), 3)
    assert len(_position_method.seen) == len(v)  # the method never saw the loose vertex
    assert rig.meta["repairs"] == {
        "dropped_degenerate_triangles": 1,
        "dropped_duplicate_triangles": 0,
        "unreferenced_vertices": 1,
    }
    np.testing.assert_array_equal(rig.faces, f2)  # the file's faces, the dropped one too
    from facerig.errors import MeshError

    with pytest.raises(MeshError, match="--strict"):
        registry.rig_mesh(Mesh(v2, f2), "pos", strict=True)


@pytest.mark.parametrize("scale", [1e30, 1e-30])
def test_extreme_scales_are_computed_at_a_power_of_two(monkeypatch, tiny_head, scale):
    import warnings

    monkeypatch.setitem(registry.METHODS, "pos", f"{__name__}:_position_method")
    v, f = tiny_head()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rig = registry.rig_mesh(Mesh(v * scale, f), "pos", falloff=False)
    factor = rig.meta["computed_at_scale"]
    assert factor == 2.0 ** np.round(np.log2(factor))  # a power of two
    assert 0.5 <= np.linalg.norm(np.ptp(_position_method.seen, axis=0)) <= 2  # the method worked near unit size
    k = rig.names.index("jawOpen")
    np.testing.assert_allclose(rig.deltas[k], (v * scale).astype(np.float32), rtol=1e-6)


def test_raf_refuses_a_mesh_too_small_for_a_face(tiny_head):
    from facerig.models.raf.probe import NotAHeadError

    v, f = tiny_head()  # 48 vertices
    with pytest.raises(NotAHeadError, match="too few"):
        registry.rig_mesh(Mesh(v, f), "raf")
    tri = Mesh(np.eye(3), np.array([[0, 1, 2]]))
    with pytest.raises(NotAHeadError, match="3 vertices"):
        registry.rig_mesh(tri, "raf")

"""ICT FaceKit loader: counts, parts, regions, landmarks, ARKit mapping, side convention, cache."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest

from facerig.arkit import ARKIT52
from facerig.data import ict
from facerig.errors import DataError

pytestmark = pytest.mark.ict


def test_counts(ict_model):
    m = ict_model
    V = ict.NUM_VERTICES
    assert m.neutral.shape == (V, 3) and m.neutral.dtype == np.float64
    assert len(m.polygons) == 26384
    assert sum(len(p) == 4 for p in m.polygons) == 25836
    assert m.faces.shape == (25836 * 2 + 548, 3)
    assert (ict.triangulate(m.polygons) == m.faces).all()
    assert m.identity_modes.shape == (100, V, 3) and m.identity_modes.dtype == np.float32
    assert m.expression_deltas.shape == (53, V, 3) and m.expression_deltas.dtype == np.float32
    assert len(m.uv_faces) == len(m.polygons) and m.uv.shape[1] == 2
    assert m.mm_per_unit == 10.0
    # modes are real displacements (identity files differ from the neutral)
    assert np.abs(m.identity_modes[0]).max() > 0.1


def test_parts_regions_landmarks(ict_model):
    m = ict_model
    assert int(m.parts.max()) + 1 == 56
    assert (m.regions >= 0).all()
    teeth = m.regions == ict.REGION_NAMES.index("teeth")
    assert np.unique(m.parts[teeth]).size == 32  # 32 separate teeth
    assert m.landmarks68.tolist() == list(ict.LANDMARKS68_README)


def test_arkit_mapping(ict_model):
    names, deltas = ict_model.arkit()
    assert len(names) == 51 and deltas.shape == (51, ict.NUM_VERTICES, 3)
    assert set(names) == set(ARKIT52) - {"tongueOut"}
    assert names == [n for n in ARKIT52 if n in names]  # Apple's order
    assert ict.missing_arkit() == ["tongueOut"]
    en = [str(n) for n in ict_model.expression_names]
    for whole in ("browInnerUp", "cheekPuff"):
        expect = (
            ict_model.expression_deltas[en.index(whole + "_L")] + ict_model.expression_deltas[en.index(whole + "_R")]
        )
        np.testing.assert_allclose(deltas[names.index(whole)], expect, atol=1e-6)
    np.testing.assert_array_equal(deltas[names.index("jawOpen")], ict_model.expression_deltas[en.index("jawOpen")])
    # largest jawOpen displacement ~4.2 cm (README)
    assert 3.5 < np.linalg.norm(deltas[names.index("jawOpen")], axis=1).max() < 5.0


@pytest.mark.parametrize("shape", ["eyeBlink", "mouthSmile", "browDown", "cheekSquint"])
def test_left_is_plus_x(ict_model, shape):
    """ICT ``_L`` = character's left = ARKit ``...Left`` = +X."""
    names, deltas = ict_model.arkit()
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        mag = np.linalg.norm(deltas[names.index(shape + side)], axis=1)
        moving = mag > 0.5 * mag.max()
        assert sign * ict_model.neutral[moving, 0].mean() > 1.0
    left_eye = ict_model.regions == ict.REGION_NAMES.index("eyeball_left")
    assert ict_model.neutral[left_eye, 0].min() > 0


def test_cached_load_reads_the_cache_only(ict_model, monkeypatch):
    """A load with the cache in place neither looks for the source model nor converts it (the
    time that saves is a benchmark matter, not a unit test's)."""

    def refuse(*a, **k):
        raise AssertionError("the cached model was converted again")

    monkeypatch.setattr(ict, "_MEMO", {})
    monkeypatch.setattr(ict, "_convert", refuse)
    monkeypatch.setattr(ict, "find_model_dir", refuse)
    m = ict.load_ict()
    np.testing.assert_array_equal(m.neutral, ict_model.neutral)
    np.testing.assert_array_equal(m.faces, ict_model.faces)


def _tiny_model_tar(path):
    """A fake FaceXModel archive with a 1-triangle 'neutral'."""
    files = {
        "FaceXModel/generic_neutral_mesh.obj": b"v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nf 1/1 2/1 3/1\n",
        "FaceXModel/vertex_indices.json": json.dumps({"expressions": []}).encode(),
        "LICENSE": b"MIT\n",  # the real archive has files beside FaceXModel/
    }
    with tarfile.open(path, "w:xz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_unpack_archive(tmp_path, monkeypatch):
    monkeypatch.setenv("FACERIG_CACHE", str(tmp_path / "cache"))
    archive = tmp_path / "src" / "FaceXModel.tar.xz"
    archive.parent.mkdir()
    _tiny_model_tar(archive)
    for p in (archive, archive.parent):
        d = ict.find_model_dir(p)
        assert d == tmp_path / "cache" / "ict" / "FaceXModel"
        assert (d / "generic_neutral_mesh.obj").is_file()
    # a fake model is rejected with a one-line DataError (wrong vertex count / no landmarks)
    with pytest.raises(DataError):
        ict._convert(d, tmp_path / "x.npz", progress=False)
    with pytest.raises(DataError):
        ict.find_model_dir(tmp_path / "nowhere")


def test_read_obj_vertices(tmp_path):
    p = tmp_path / "a.obj"
    p.write_text("# c\nv 1 2 3\nvt 0 0\nv 4.5 -5 6e-1\nf 1 2 1\n")
    np.testing.assert_array_equal(ict.read_obj_vertices(p), [[1, 2, 3], [4.5, -5, 0.6]])

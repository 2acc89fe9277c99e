"""MakeHuman family: target format, macro blending, head cut, face units, generator."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from facerig.arkit import ARKIT52
from facerig.data import makehuman as mh

MH = mh.makehuman_dir(required=False)
needs_mh = pytest.mark.skipif(MH is None, reason="MakeHuman data not available")
# converting the MakeHuman targets takes ~25 s once; later loads are fast
maybe_slow = pytest.mark.slow if not mh._cache_path().is_file() else (lambda f: f)


def test_read_target(tmp_path):
    text = "# comment\n3 0.1 -0.2 .5\n7 0 0 1e-3\n"
    (tmp_path / "a.target").write_text(text)
    (tmp_path / "b.target.gz").write_bytes(gzip.compress(text.encode()))
    for name in ("a.target", "b.target.gz"):
        idx, d = mh.read_target(tmp_path / name)
        assert idx.tolist() == [3, 7]
        np.testing.assert_allclose(d, [[0.1, -0.2, 0.5], [0, 0, 0.001]])


def test_macro_parts():
    macro = {
        "macrotargets": {
            "age": {
                "parts": [
                    {"lowest": -0.01, "highest": 0.1874998, "low": "baby", "high": "child"},
                    {"lowest": 0.1874999, "highest": 0.49998, "low": "child", "high": "young"},
                    {"lowest": 0.49999, "highest": 1.01, "low": "young", "high": "old"},
                ]
            },
            "height": {
                "parts": [
                    {"lowest": -0.01, "highest": 0.49, "low": "minheight", "high": ""},
                    {"lowest": 0.51, "highest": 1.01, "low": "", "high": "maxheight"},
                ]
            },
        }
    }
    assert mh._macro_parts(macro, "age", 0.5) == pytest.approx({"young": 1.0, "old": 0.0}, abs=1e-4)
    assert mh._macro_parts(macro, "age", 0.75) == pytest.approx({"young": 0.5, "old": 0.5}, abs=1e-4)
    assert sum(mh._macro_parts(macro, "age", 0.3).values()) == pytest.approx(1.0)
    assert mh._macro_parts(macro, "height", 1.0) == pytest.approx({"maxheight": 1.0}, abs=1e-3)


@pytest.fixture(scope="module")
def mh_family():
    if MH is None:
        pytest.skip("MakeHuman data not available")
    return mh.MakeHumanFamily()


@needs_mh
@maybe_slow
def test_family(mh_family):
    f = mh_family
    V = f.num_vertices
    assert 4500 < V < 6000 and f.faces.max() < V
    assert sorted(f.names) == sorted(ARKIT52) and len(f.names) == 52
    d = f.deltas_for(f.template)
    assert d.shape == (52, V, 3) and d.dtype == np.float32
    jaw = np.linalg.norm(d[f.names.index("jawOpen")], axis=1).max() * f.mm_per_unit
    assert 10 < jaw < 80  # mm
    # eyeBlinkLeft moves the +X side (character's left)
    mag = np.linalg.norm(d[f.names.index("eyeBlinkLeft")], axis=1)
    assert f.template[mag > 0.5 * mag.max(), 0].mean() > 0
    # every vertex a face unit moves is in the cut; eyes/teeth/tongue/lashes present
    assert set(np.unique(f.regions)) == set(range(len(mh.REGION_NAMES)))
    assert (f.template[f.regions == 0, 1] > mh.NECK_CUT_Y).all()
    # identities: deterministic, different per seed, plausible change (< 1 dm)
    a = f.sample_neutral(np.random.default_rng(1))
    b = f.sample_neutral(np.random.default_rng(1))
    c = f.sample_neutral(np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert 0.01 < np.abs(a - c).max() < 1.0


@needs_mh
@maybe_slow
def test_generator_on_makehuman(mh_family):
    from facerig.data.generator import SampleConfig, generate_sample

    cfg = SampleConfig(p_remesh=0.0, p_reframe=1.0, p_remove_parts=1.0, p_warp=1.0, p_units=1.0)
    s = generate_sample(mh_family, 4, cfg)
    t = generate_sample(mh_family, 4, cfg)
    np.testing.assert_array_equal(s.deltas, t.deltas)
    assert s.deltas.shape == (52, s.num_vertices, 3)
    assert (s.landmarks68 == -1).all()
    json.dumps(s.info)  # JSON-able

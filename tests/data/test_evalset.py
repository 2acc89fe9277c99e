"""Eval set writer: layout, readability, landmarks JSON, determinism; the data CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facerig.data import evalset


def test_make_eval_tiny_family(tmp_path, tiny_family):
    """Layout, GT/OBJ consistency and determinism, fast (synthetic family, no data)."""
    groups = ("unseen", "stylised", "parts_removed", "reframed")
    for d in ("a", "b"):
        evalset.make_eval(tmp_path / d, per_group=2, seed=0, groups=groups, family=tiny_family, log=None)
    index = evalset.load_index(tmp_path / "a")
    assert len(index["heads"]) == 8
    from facerig.io.obj import read_obj

    for h in index["heads"]:
        mesh = read_obj(tmp_path / "a" / h["mesh"])
        gt, other = np.load(tmp_path / "a" / h["gt"]), np.load(tmp_path / "b" / h["gt"])
        np.testing.assert_array_equal(gt["neutral"], mesh.vertices)
        np.testing.assert_array_equal(gt["faces"], mesh.faces)
        assert gt["deltas"].shape == (2, mesh.vertices.shape[0], 3)
        np.testing.assert_array_equal(other["deltas"], gt["deltas"])
        assert h["landmarks"] is None  # no ICT correspondence
    # re-running one group keeps the others in the index
    evalset.make_eval(tmp_path / "a", per_group=1, seed=0, groups=("unseen",), family=tiny_family, log=None)
    assert len(evalset.load_index(tmp_path / "a")["heads"]) == 7


@pytest.mark.ict
@pytest.mark.slow
def test_make_eval_layout_and_determinism(tmp_path, ict_family):
    groups = ("unseen", "reframed")
    a = evalset.make_eval(tmp_path / "a", per_group=1, seed=0, groups=groups, family=ict_family, log=None)
    evalset.make_eval(tmp_path / "b", per_group=1, seed=0, groups=groups, family=ict_family, log=None)
    index = evalset.load_index(tmp_path / "a")
    assert index == json.loads(json.dumps(a)) and index["version"] == 1
    assert [h["group"] for h in index["heads"]] == list(groups)
    from facerig.io.obj import read_obj

    for h in index["heads"]:
        assert {"id", "group", "mesh", "gt", "landmarks", "mm_per_unit", "info"} <= set(h)
        mesh = read_obj(tmp_path / "a" / h["mesh"])
        gt = np.load(tmp_path / "a" / h["gt"])
        V = mesh.vertices.shape[0]
        assert gt["deltas"].shape == (51, V, 3) and gt["deltas"].dtype == np.float32
        np.testing.assert_array_equal(gt["neutral"], mesh.vertices)
        np.testing.assert_array_equal(gt["faces"], mesh.faces)
        assert gt["parts"].shape == (V,) and float(gt["mm_per_unit"]) == h["mm_per_unit"]
        lm = json.loads((tmp_path / "a" / h["landmarks"]).read_text())
        assert lm["template"] == "ict-facekit" and len(lm["pairs"]) == len(lm["names"]) > 20
        assert all(0 <= t < 26719 and 0 <= v < V for t, v in lm["pairs"])
        other = np.load(tmp_path / "b" / h["gt"])
        np.testing.assert_array_equal(other["deltas"], gt["deltas"])
        np.testing.assert_array_equal(other["neutral"], gt["neutral"])
    unseen = index["heads"][0]
    assert unseen["mm_per_unit"] == 10.0 and unseen["info"]["vertices"] == 26719


@pytest.mark.ict
@pytest.mark.slow
def test_external_group(tmp_path):
    if not evalset.external_samples():
        pytest.skip("external rigs not available")
    index = evalset.make_eval(tmp_path, per_group=0, groups=("external",), log=None)
    assert {h["id"] for h in index["heads"]} == {"johnsmith_head", "makehuman_hm08"}
    for h in index["heads"]:
        gt = np.load(tmp_path / h["gt"])
        assert gt["deltas"].shape[1] == gt["neutral"].shape[0]
        lm = json.loads((tmp_path / h["landmarks"]).read_text())  # automatic placement
        assert len(lm["pairs"]) == 68 and lm["source"].startswith("auto")
        assert max(v for _, v in lm["pairs"]) < gt["neutral"].shape[0]


def test_cli_info(capsys):
    from facerig.cli import main

    assert main(["data", "info"]) == 0
    assert "ICT FaceKit" in capsys.readouterr().out

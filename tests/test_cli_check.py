"""``facerig check``: table, --json, exit 0 (pass) / 1 (a check fails) / 2 (bad input)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from facerig.cli import main
from facerig.io.gltf import save_rig_gltf
from facerig.io.obj import write_obj
from facerig.io.rig import Rig, save_rig

_spec = importlib.util.spec_from_file_location("_check_head", Path(__file__).parent / "eval" / "test_check.py")
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
good_rig = _mod.good_rig


@pytest.fixture(scope="module")
def rig() -> Rig:
    return good_rig()


def test_pass_exit_0_and_json(tmp_path, rig, capsys):
    save_rig(tmp_path / "r.npz", rig)
    out = tmp_path / "c.json"
    assert main(["check", str(tmp_path / "r.npz"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "eyelid_closure" in text and "PASS" in text and "FAIL" not in text
    res = json.loads(out.read_text())
    assert res["passed"] is True
    assert res["summary"]["mouth_open"]["status"] == "pass"
    assert {r["check"] for r in res["rows"]} >= {"eyelid_closure", "mouth_open", "mirror", "rigidity", "stretch"}


def test_fail_exit_1(tmp_path, rig, capsys):
    d = rig.deltas.copy()
    d[rig.names.index("eyeBlinkLeft")] = 0.0  # the left eye never closes
    save_rig(tmp_path / "bad.npz", Rig(rig.names, d, rig.neutral, rig.faces))
    assert main(["check", str(tmp_path / "bad.npz"), "--all-rows"]) == 1
    text = capsys.readouterr().out
    assert "FAIL" in text and "eyeBlinkLeft" in text


def test_glb_and_obj_folder_with_head(tmp_path, rig):
    save_rig_gltf(tmp_path / "r.glb", rig)
    assert main(["check", str(tmp_path / "r.glb"), "--checks", "eyelid_closure,mouth_open"]) == 0
    np.savez(tmp_path / "only.npz", names=np.array(rig.names), deltas=rig.deltas)
    write_obj(tmp_path / "head.obj", rig.neutral, rig.faces)
    assert (
        main(["check", str(tmp_path / "only.npz"), "--head", str(tmp_path / "head.obj"), "--checks", "mouth_open"]) == 0
    )


def test_bad_input_exit_2(tmp_path, rig, capsys):
    assert main(["check", str(tmp_path / "missing.npz")]) == 2
    assert "no such rig" in capsys.readouterr().err
    np.savez(tmp_path / "only.npz", names=np.array(rig.names), deltas=rig.deltas)
    assert main(["check", str(tmp_path / "only.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "--head" in err and "Traceback" not in err
    save_rig(tmp_path / "r.npz", rig)
    assert main(["check", str(tmp_path / "r.npz"), "--checks", "bogus"]) == 2
    assert main(["check", str(tmp_path / "r.npz"), "--up", "+y", "--forward", "+y"]) == 2

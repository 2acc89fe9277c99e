"""benchmarks/bench_eval.py on the tiny eval set of test_harness."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from facerig.config import repo_root


def _bench():
    spec = importlib.util.spec_from_file_location("bench_eval", repo_root() / "benchmarks" / "bench_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_writes_json_and_markdown(evalset: Path, tmp_path: Path, capsys):
    out = tmp_path / "results"
    rc = _bench().main([str(evalset), "--methods", "zero", "--quiet", "--out-dir", str(out), "--no-interp"])
    assert rc == 0
    r = json.loads((out / "eval_zero.json").read_text())
    assert r["overall"]["heads"] == 3 and "machine" in r
    text = capsys.readouterr().out
    assert "| group | heads |" in text and "| all |" in text


def test_bench_without_set(tmp_path: Path):
    assert _bench().main([str(tmp_path / "none"), "--quiet"]) == 2


def test_results_say_when_and_which_weights(evalset: Path, tmp_path: Path):
    """A result records its date, and a raf result the weights it measured (step, file hash)."""
    import hashlib

    from facerig.models.raf.weights import weights_path

    out = tmp_path / "results"
    assert _bench().main([str(evalset), "--methods", "zero", "--quiet", "--out-dir", str(out), "--no-interp"]) == 0
    assert json.loads((out / "eval_zero.json").read_text())["date"].endswith("UTC")
    ident = _bench().weights_identity(None)
    shipped = weights_path()
    assert ident["path"] == str(shipped.resolve())
    assert ident["sha256"] == hashlib.sha256(shipped.read_bytes()).hexdigest()[:12]
    assert isinstance(ident["step"], int) and ident["step"] > 0

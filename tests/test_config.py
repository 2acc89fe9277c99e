"""facerig.config: the only reader of the environment; the cache helpers say once what a cold cache holds."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

import facerig
from facerig import config
from facerig.config import cache_note, cache_root, cache_usage

SRC = Path(facerig.__file__).resolve().parent


def test_only_config_reads_the_environment():
    """``os.environ``/``getenv`` appear in config.py only (the CLI may look at the terminal's
    display variables to decide whether to open a browser)."""
    pattern = re.compile(r"os\.environ|getenv\(")
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if p.name != "config.py" and not p.parts[-2] == "_cli" and pattern.search(p.read_text())
    ]
    assert offenders == []


def test_switches(monkeypatch, tmp_path):
    monkeypatch.delenv("FACERIG_NO_FORK", raising=False)
    assert not config.fork_disabled()
    monkeypatch.setenv("FACERIG_NO_FORK", "0")
    assert not config.fork_disabled()
    monkeypatch.setenv("FACERIG_NO_FORK", "1")
    assert config.fork_disabled()
    monkeypatch.setenv("FACERIG_KEEP_FREED_MEMORY", "0")
    assert config.keep_freed_memory_disabled()
    monkeypatch.setenv("FACERIG_RAF_WEIGHTS", str(tmp_path / "w.npz"))
    assert config.raf_weights_override() == tmp_path / "w.npz"
    monkeypatch.setenv("FACERIG_RAF_WEIGHTS", "")
    assert config.raf_weights_override() is None


def test_every_switch_is_documented():
    doc = config.__doc__
    read = set(re.findall(r"environ(?:\.get)?\(?\[?\s*\"(FACERIG_[A-Z_]+)", (SRC / "config.py").read_text()))
    assert {"FACERIG_DATA", "FACERIG_CACHE", "FACERIG_NO_FORK"} <= read
    for name in read:
        assert name in doc, name


def test_operators_cache_says_what_it_caches_once(tmp_path, monkeypatch, caplog, head_arrays):
    from facerig.geometry.operators import compute_operators

    monkeypatch.setenv("FACERIG_CACHE", str(tmp_path / "c"))
    v, f = head_arrays
    with caplog.at_level(logging.INFO, logger="facerig"):
        compute_operators(v, f, k=8)
        compute_operators(v * 2.0, f, k=8)  # a second mesh: the cache is warm, nothing said
        compute_operators(v, f, k=8)  # a hit
    lines = [r.getMessage() for r in caplog.records if r.name == "facerig.cache"]
    assert lines == [
        (
            f"caching mesh operators (one small NPZ per new mesh, reused when it comes back) in "
            f"{tmp_path / 'c' / 'operators'} (one-off)"
        )
    ]
    assert cache_usage()["kinds"]["operators"]["files"] == 2


def test_cache_note_first_only_and_root_is_not_created(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("FACERIG_CACHE", str(tmp_path / "none"))
    assert cache_root() == tmp_path / "none" and not cache_root().exists()
    assert cache_usage() == {"root": str(tmp_path / "none"), "exists": False, "bytes": 0, "files": 0, "kinds": {}}
    with caplog.at_level(logging.INFO, logger="facerig"):
        assert cache_note("eval", "x", first_only=True)
        (tmp_path / "none" / "eval").mkdir(parents=True)
        np.save(tmp_path / "none" / "eval" / "a.npy", np.zeros(2))
        assert not cache_note("eval", "x", first_only=True)
    assert not (tmp_path / "none" / "other").exists()

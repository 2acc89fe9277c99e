"""facerig.config reads every environment switch; the library reads none elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import facerig
from facerig import config

SRC = Path(facerig.__file__).resolve().parent


def test_only_config_reads_the_environment():
    """``os.environ``/``getenv`` appear in config.py only (the CLI may look at the terminal's
    display variables to decide whether to open a browser)."""
    pattern = re.compile(r"os\.environ|getenv\(")
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if p.name != "config.py" and not p.parts[-2] == "_cli" and pattern.search(p.read_text())]
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

"""docs/CONTRACTS.md stays true to the code: names exist, option lists match signatures."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from facerig import config

DOC = (Path(__file__).resolve().parents[1] / "docs" / "CONTRACTS.md").read_text()


def _resolve(dotted: str):
    """The object a dotted ``facerig.…`` name points to (a module, or an attribute path in one)."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(dotted)


NAMES = sorted({m.rstrip(".") for m in re.findall(r"`(facerig(?:\.[A-Za-z_][A-Za-z0-9_]*)+)", DOC)})


@pytest.mark.parametrize("dotted", NAMES)
def test_every_named_object_exists(dotted):
    if dotted.split(".")[1] == "models" and "network" in dotted:
        pytest.importorskip("torch")
    _resolve(dotted)


def _section(tag: str) -> str:
    m = re.search(rf"<!-- {tag} -->(.*?)<!-- /{tag} -->", DOC, re.S)
    assert m, f"section {tag} missing from CONTRACTS.md"
    return m.group(1)


def test_rig_raf_options_match_its_signature():
    from facerig.models.raf.method import rig_raf

    params = inspect.signature(rig_raf).parameters
    wanted = {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY}
    listed = set()
    for line in _section("rig_raf-options").splitlines():
        m = re.match(r"\s*- ((?:`\w+`(?:, )?)+):", line)
        if m:
            listed |= set(re.findall(r"`(\w+)`", m.group(1)))
    assert listed == wanted


def test_every_environment_switch_is_listed():
    listed = set(re.findall(r"`(FACERIG_[A-Z_]+)`", _section("env-switches")))
    read = set(re.findall(r"\"(FACERIG_[A-Z_]+)\"", inspect.getsource(config)))
    assert listed == read

"""benchmarks/_meta.py: the one metadata block of every benchmark result."""

from __future__ import annotations

import importlib.util
import json
import platform
import re
import subprocess
import sys

import pytest

from facerig.config import repo_root

BENCH = repo_root() / "benchmarks"


def _meta():
    spec = importlib.util.spec_from_file_location("_meta", BENCH / "_meta.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_keys_and_formats():
    m = _meta().run_meta(threads=3, heads=["a"])
    assert list(m)[:6] == ["date", "machine", "python", "load_average", "torch", "commit"]
    assert m["threads"] == 3 and m["heads"] == ["a"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", m["date"])
    assert re.fullmatch(r".+, \d+ CPUs, .+", m["machine"]) and platform.platform() in m["machine"]
    assert m["python"] == platform.python_version()
    assert len(m["load_average"]) == 3 and all(x == round(x, 2) >= 0 for x in m["load_average"])
    assert m["commit"] is None or re.fullmatch(r"[0-9a-f]{4,40}", m["commit"])
    assert json.loads(json.dumps(m)) == m


def test_commit_is_this_checkout():
    git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=BENCH, capture_output=True, text=True)
    if git.returncode:
        pytest.skip("not a git checkout")
    commit = _meta().run_meta()["commit"]
    assert commit and git.stdout.strip().startswith(commit)


def test_extra_may_not_replace_a_standard_key():
    with pytest.raises(ValueError, match="machine"):
        _meta().run_meta(machine="mine")


def test_torch_version_only_when_the_caller_imported_it():
    code = (
        f"import sys; sys.path.insert(0, {str(BENCH)!r}); from _meta import run_meta; m = run_meta(); "
        "print(m['torch'], 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["None", "False"]
    torch = pytest.importorskip("torch")
    assert _meta().run_meta()["torch"] == torch.__version__


def test_no_script_stamps_its_own_date_or_machine():
    own = re.compile(r"datetime|date\.today\(|time\.gmtime\(|strftime\(|platform\.(platform|node|machine)\(")
    found = [p.name for p in sorted(BENCH.glob("*.py")) if p.name != "_meta.py" and own.search(p.read_text())]
    assert found == []

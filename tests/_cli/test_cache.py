"""``facerig cache``: location, size and files per kind; ``--clear`` (all, one kind, never foreign entries)."""

from __future__ import annotations

import json
import logging

import pytest

from facerig.cli import main


def fill(root, files: dict[str, int]) -> None:
    for rel, size in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"\0" * size)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "facerig"
    monkeypatch.setenv("FACERIG_CACHE", str(root))
    fill(root, {"ict/ict_v1.npz": 3000, "ict/FaceXModel/a.obj": 500, "operators/a.npz": 1200, "operators/b.npz": 800})
    return root


def test_cache_shows_location_sizes_and_files(cache, capsys):
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert f"cache: {cache}" in out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("  ")}
    assert "3.5 kB" in lines["ict"] and "2 files" in lines["ict"]
    assert "2.0 kB" in lines["operators"] and "2 files" in lines["operators"]
    assert "5.5 kB" in lines["total"] and "4 files" in lines["total"]
    assert main(["cache", "--json"]) == 0
    use = json.loads(capsys.readouterr().out)
    assert use["bytes"] == 5500 and use["files"] == 4
    assert {k: (v["bytes"], v["files"]) for k, v in use["kinds"].items()} == {"ict": (3500, 2), "operators": (2000, 2)}


def test_cache_clear_one_kind_then_all(cache, capsys):
    assert main(["cache", "--clear", "--kind", "operators"]) == 0
    assert "cleared operators: 2.0 kB in 2 files freed" in capsys.readouterr().out
    assert sorted(p.name for p in cache.iterdir()) == ["ict"]
    assert main(["cache", "--clear"]) == 0
    assert "cleared ict: 3.5 kB in 2 files freed" in capsys.readouterr().out
    assert list(cache.iterdir()) == []
    assert main(["cache"]) == 0
    assert "empty" in capsys.readouterr().out


def test_clear_never_wipes_a_foreign_cache_folder(tmp_path, monkeypatch, capsys):
    shared = tmp_path / "shared"
    fill(shared, {"ict/x.npz": 10, "photos/me.jpg": 10, "notes.txt": 10})
    monkeypatch.setenv("FACERIG_CACHE", str(shared))
    assert main(["cache", "--clear"]) == 0
    out = capsys.readouterr().out
    assert "cleared ict" in out and "left alone (not facerig's): notes.txt, photos" in out
    assert sorted(p.name for p in shared.iterdir()) == ["notes.txt", "photos"]


def test_kind_needs_clear(cache, capsys):
    assert main(["cache", "--kind", "ict"]) == 2
    assert "--kind goes with --clear" in capsys.readouterr().err


def test_cli_prints_the_library_cache_line(cache, capsys):
    from facerig.config import cache_note

    assert main(["cache"]) == 0  # configures the CLI's log handler
    capsys.readouterr()
    assert cache_note("makehuman", "the MakeHuman head conversion", cost="about 30 s")
    assert capsys.readouterr().err.strip() == (
        f"caching the MakeHuman head conversion in {cache / 'makehuman'} (one-off, about 30 s)"
    )
    logging.getLogger("facerig").setLevel(logging.WARNING)  # as after --quiet
    cache_note("makehuman", "x")
    assert capsys.readouterr().err == ""

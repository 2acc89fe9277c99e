"""facerig.config cache helpers: cache_note says once what a cold cache is filled with."""

from __future__ import annotations

import logging

import numpy as np

from facerig.config import cache_note, cache_root, cache_usage


def test_operators_cache_says_what_it_caches_once(tmp_path, monkeypatch, caplog, head_arrays):
    from facerig.geometry.operators import compute_operators

    monkeypatch.setenv("FACERIG_CACHE", str(tmp_path / "c"))
    v, f = head_arrays
    with caplog.at_level(logging.INFO, logger="facerig"):
        compute_operators(v, f, k=8)
        compute_operators(v * 2.0, f, k=8)  # a second mesh: the cache is warm, nothing said
        compute_operators(v, f, k=8)  # a hit
    lines = [r.getMessage() for r in caplog.records if r.name == "facerig.cache"]
    assert lines == [(f"caching mesh operators (one small NPZ per new mesh, reused when it comes back) in "
                     f"{tmp_path / 'c' / 'operators'} (one-off)")]
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

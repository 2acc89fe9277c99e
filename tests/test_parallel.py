"""facerig.parallel: forked children (only when the host asks), the opt-in allocator setting."""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest

from facerig import parallel as _fork

needs_fork = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="needs fork")


def _big(n):
    return np.arange(n, dtype=np.float64), {"pid": os.getpid()}


def _fail():
    raise ValueError("no face here")


class _Unpicklable(Exception):
    def __init__(self, a, b):  # pickling calls __init__ with one argument: fails to load
        super().__init__(f"{a} {b}")


def _fail_unpicklable():
    raise _Unpicklable(1, 2)


@needs_fork
def test_result_comes_back_from_another_process(allow_fork):
    job = _fork.fork_call(_big, 3_000_000)  # 24 MB: more than a pipe holds
    arr, info = job.result()
    assert info["pid"] != os.getpid()
    np.testing.assert_array_equal(arr, np.arange(3_000_000, dtype=np.float64))
    with pytest.raises(RuntimeError, match="already"):
        job.result()


@needs_fork
def test_exceptions_are_raised_in_the_parent(allow_fork):
    with pytest.raises(ValueError, match="no face here"):
        _fork.fork_call(_fail).result()
    with pytest.raises(Exception, match="1 2"):
        _fork.fork_call(_fail_unpicklable).result()


@needs_fork
def test_cancel_kills_the_child_and_a_block_cancels(allow_fork):
    t = time.perf_counter()
    with _fork.fork_call(time.sleep, 30) as job:
        pass
    assert time.perf_counter() - t < 10
    job.cancel()  # twice is harmless


@needs_fork
def test_can_be_turned_off(allow_fork, monkeypatch):
    monkeypatch.setenv("FACERIG_NO_FORK", "1")
    assert not _fork.can_fork()
    assert _fork.fork_call(_big, 3) is None


@needs_fork
def test_fork_beside_forks_only_while_a_core_is_idle(allow_fork, monkeypatch):
    """Work split off only to use an idle core is done by the caller while every core is busy."""
    n = os.cpu_count() or 1
    assert 0 <= _fork.spare_cores() <= n - 1  # this process itself is running
    monkeypatch.setattr(_fork, "spare_cores", lambda: 1)
    assert _fork.fork_beside(_big, 3) is None  # off unless the host asks for it (configure(beside=True))
    monkeypatch.setitem(_fork._SETTINGS, "beside", True)
    monkeypatch.setattr(_fork, "spare_cores", lambda: 0)
    assert _fork.fork_beside(_big, 3) is None
    monkeypatch.setattr(_fork, "spare_cores", lambda: 1)
    arr, info = _fork.fork_beside(_big, 3).result()
    assert info["pid"] != os.getpid() and arr.tolist() == [0.0, 1.0, 2.0]
    monkeypatch.setenv("FACERIG_NO_FORK", "1")  # and never where forking is off
    assert _fork.fork_beside(_big, 3) is None


def test_the_library_does_not_fork_unless_asked(monkeypatch):
    """A host process (a Blender add-on, a server) that calls the library is never forked:
    forking is off until :func:`facerig.parallel.configure` turns it on (the CLI does)."""
    monkeypatch.setitem(_fork._SETTINGS, "fork", False)
    assert not _fork.can_fork()
    assert _fork.fork_call(_big, 3) is None


@needs_fork
def test_the_cli_allows_forking(monkeypatch):
    from facerig.cli import main

    monkeypatch.setitem(_fork._SETTINGS, "fork", False)
    monkeypatch.setattr(_fork, "keep_freed_memory", lambda: True)
    with pytest.raises(SystemExit):
        main(["rig", "--help"])
    assert _fork.can_fork()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_keep_freed_memory_applies_once_and_allocations_still_work():
    assert _fork.keep_freed_memory() is True
    assert _fork.keep_freed_memory() is True  # idempotent
    a = np.ones((4000, 2000), np.float32)  # 32 MB: above the old threshold, on the heap now
    del a
    b = np.zeros((4000, 2000), np.float32)
    assert b.sum() == 0.0  # reused memory is still handed out zeroed by numpy.zeros


def test_keep_freed_memory_can_be_turned_off(monkeypatch):
    import facerig.parallel as alloc

    monkeypatch.setattr(alloc, "_done", False)
    monkeypatch.setenv("FACERIG_KEEP_FREED_MEMORY", "0")
    assert alloc.keep_freed_memory() is False

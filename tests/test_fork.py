"""facerig._fork: a function in a forked child, its result or exception back in the parent."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from facerig import _fork

pytestmark = pytest.mark.skipif(not _fork.can_fork(), reason="needs fork")


def _big(n):
    return np.arange(n, dtype=np.float64), {"pid": os.getpid()}


def _fail():
    raise ValueError("no face here")


class _Unpicklable(Exception):
    def __init__(self, a, b):  # pickling calls __init__ with one argument: fails to load
        super().__init__(f"{a} {b}")


def _fail_unpicklable():
    raise _Unpicklable(1, 2)


def test_result_comes_back_from_another_process():
    job = _fork.fork_call(_big, 3_000_000)  # 24 MB: more than a pipe holds
    arr, info = job.result()
    assert info["pid"] != os.getpid()
    np.testing.assert_array_equal(arr, np.arange(3_000_000, dtype=np.float64))
    with pytest.raises(RuntimeError, match="already"):
        job.result()


def test_exceptions_are_raised_in_the_parent():
    with pytest.raises(ValueError, match="no face here"):
        _fork.fork_call(_fail).result()
    with pytest.raises(Exception, match="1 2"):
        _fork.fork_call(_fail_unpicklable).result()


def test_cancel_kills_the_child_and_a_block_cancels():
    t = time.perf_counter()
    with _fork.fork_call(time.sleep, 30) as job:
        pass
    assert time.perf_counter() - t < 10
    job.cancel()  # twice is harmless


def test_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("FACERIG_NO_FORK", "1")
    assert not _fork.can_fork()
    assert _fork.fork_call(_big, 3) is None

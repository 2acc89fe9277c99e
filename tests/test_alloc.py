"""facerig._alloc: the allocator setting the network's speed relies on."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from facerig._alloc import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_keep_freed_memory_applies_once_and_allocations_still_work():
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True  # idempotent
    a = np.ones((4000, 2000), np.float32)  # 32 MB: above the old threshold, on the heap now
    del a
    b = np.zeros((4000, 2000), np.float32)
    assert b.sum() == 0.0  # reused memory is still handed out zeroed by numpy.zeros


def test_keep_freed_memory_can_be_turned_off(monkeypatch):
    import facerig._alloc as alloc

    monkeypatch.setattr(alloc, "_done", False)
    monkeypatch.setenv("FACERIG_KEEP_FREED_MEMORY", "0")
    assert alloc.keep_freed_memory() is False

"""The bundled example head's rig stays what it was: a refactor must not change it.

``tests/data_files/example_rig_fingerprint.npz`` holds, for ``facerig rig
examples/ict_head/head.obj`` with the shipped weights, each shape's summed and largest absolute
delta and the deltas of 500 fixed vertices. A change that moves the rig on purpose regenerates
it (the script is in this test's docstring of :func:`test_example_head_rig_is_unchanged`) and
says so in its commit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_example_head_rig_is_unchanged(tmp_path):
    """Regenerate: rig the example head to NPZ, then store names, idx (500 sorted vertex ids,
    seed 0), sample = deltas[:, idx], l1 = |deltas| summed per shape, maxabs per shape."""
    from facerig.cli import main

    out = tmp_path / "head.npz"
    assert main(["rig", str(ROOT / "examples" / "ict_head" / "head.obj"), "-o", str(out), "-q"]) == 0
    ref = np.load(ROOT / "tests" / "data_files" / "example_rig_fingerprint.npz")
    with np.load(out) as z:
        assert [str(n) for n in z["names"]] == [str(n) for n in ref["names"]]
        d = z["deltas"]
    scale = float(np.abs(ref["sample"]).max())
    np.testing.assert_allclose(d[:, ref["idx"]], ref["sample"], rtol=0, atol=1e-5 * scale)  # float32 round-off
    np.testing.assert_allclose(np.abs(d.astype(np.float64)).sum((1, 2)), ref["l1"], rtol=1e-5)
    np.testing.assert_allclose(np.abs(d).max((1, 2)), ref["maxabs"], rtol=1e-5)

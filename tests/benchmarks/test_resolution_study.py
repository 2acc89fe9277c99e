"""``benchmarks/resolution_study.py``: the Loop subdivision's row map and the scores."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np

from facerig.config import repo_root


def _study():
    folder = repo_root() / "benchmarks"
    sys.path.insert(0, str(folder))  # the script imports its sibling _meta
    try:
        spec = importlib.util.spec_from_file_location("resolution_study", folder / "resolution_study.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(folder))
    return mod


def test_loop_subdivide_maps_each_input_vertex_to_its_smoothed_copy(tiny_head):
    import trimesh

    v, f = tiny_head(6, 8)
    sv, sf, rows = _study().loop_subdivide(v, f)
    assert len(np.unique(rows)) == len(v) and sf.max() < len(sv)
    # the head component on its own: trimesh's smoothed originals, in order
    head = np.unique(f[:-8])
    hv, _ = trimesh.remesh.subdivide_loop(v[head], np.searchsorted(head, f[:-8]))
    np.testing.assert_allclose(sv[rows[head]], hv[: len(head)])
    assert np.linalg.norm(sv[rows] - v, axis=1).max() < 0.2 * np.ptp(v, 0).max()


def test_scores_of_the_ground_truth_and_of_a_broader_rig():
    rng = np.random.default_rng(0)
    gt = np.zeros((2, 200, 3))
    gt[:, :20] = rng.uniform(1.0, 2.0, (2, 20, 1)) * rng.choice([-1.0, 1.0], (2, 20, 3))  # every one moves > 0.5 mm
    names = ["eyeBlinkLeft", "eyeBlinkRight"]
    s = _study().score(gt.astype(np.float32), gt, names, 1.0)
    assert s["relative"] < 1e-6 and abs(s["completion"] - 1) < 1e-6 and s["spread"] == 0
    broad = gt.copy()
    broad[:, 20:40] = 0.5  # motion where the ground truth is still
    b = _study().score(broad.astype(np.float32), gt, names, 1.0)
    # the active error does not see it (still vertices are not active): the spread does
    assert b["spread"] > 0.05 and b["relative"] < 1e-6 and abs(b["completion"] - 1) < 1e-6

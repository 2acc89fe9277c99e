"""Image inversion evaluation helpers that need no network: the goal table, the scores."""

from __future__ import annotations

import numpy as np

from facerig.eval.image_inversion import goal_table, score


def test_goal_table_counts_passes_per_goal_and_modality():
    rows = [
        {"goal": "blinks", "modality": "rgb", "pass": True},
        {"goal": "blinks", "modality": "rgb", "pass": False},
        {"goal": "blinks", "modality": "both", "pass": True},
        {"goal": "neutral", "modality": "rgb", "pass": False},
    ]
    assert goal_table(rows) == {"blinks": {"rgb": "1/2", "both": "1/1"}, "neutral": {"rgb": "0/1"}}


def test_score_mesh_error_is_the_rig_distance():
    d = {"weights": np.zeros((2, 52)), "gram": np.eye(52)[None] * 4.0, "head": np.zeros(2, int)}
    W = np.zeros((2, 52))
    W[1, 3] = 0.5  # one weight off by 0.5 with |d|^2 = 4 mm^2: 1 mm
    s = score(W, d, np.arange(2))
    assert np.isclose(s["weight_mae"], 0.5 / 104) and np.isclose(s["mesh_rms_mm"], 0.5)

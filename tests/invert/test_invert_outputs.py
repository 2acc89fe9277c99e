"""Weights written as Live Link Face CSV / MediaPipe JSON read back by facerig.io.takes."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.errors import FacerigError
from facerig.invert.outputs import LIVELINK_ORDER, ROTATIONS, write_weights
from facerig.io.takes import read_take


@pytest.mark.parametrize("T,fps", [(5, 60.0), (130, 30.0), (75, 60.0)])
def test_livelink_csv_round_trip(tmp_path, T, fps):
    W = np.random.default_rng(T).random((T, 52))
    p = tmp_path / "w.csv"
    write_weights(p, W, fps=fps)
    header = p.read_text().splitlines()[0].split(",")
    assert header == ["Timecode", "BlendShapeCount", *LIVELINK_ORDER, *ROTATIONS]
    take = read_take(p)
    assert take.format == "livelinkface" and not take.missing and not take.unknown
    np.testing.assert_allclose(take.weights, W, atol=1e-9)
    np.testing.assert_allclose(take.times, np.arange(T) / fps, atol=2e-5)
    assert take.fps == pytest.approx(fps, rel=1e-3)


def test_mediapipe_json_round_trip_with_times(tmp_path):
    W = np.random.default_rng(1).random((4, 52))
    times = np.array([0.0, 0.02, 0.05, 0.09])
    p = tmp_path / "w.json"
    write_weights(p, W, times=times)
    take = read_take(p)
    assert take.format == "mediapipe"
    np.testing.assert_allclose(take.weights, W, atol=1e-7)
    np.testing.assert_allclose(take.times, times, atol=1e-9)


def test_bad_outputs(tmp_path):
    W = np.zeros((2, 52))
    with pytest.raises(FacerigError, match="unknown suffix"):
        write_weights(tmp_path / "w.txt", W)
    with pytest.raises(FacerigError, match="needs a rig"):
        write_weights(tmp_path / "w.glb", W)
    with pytest.raises(FacerigError, match=r"\(T, 52\)"):
        write_weights(tmp_path / "w.csv", np.zeros((2, 51)))

"""Inverting a sequence through an estimated neutral (facerig.invert.neutral_estimate)."""

from __future__ import annotations

import numpy as np
import pytest
from invert_helpers import pose, sparse_weights, synthetic_rig

from facerig.errors import FacerigError
from facerig.invert.neutral_estimate import invert_with_estimated_neutral, pick_start_frame

FACES = np.array([[0, 1, 2], [1, 2, 3]])


def _sequence(T: int = 60, seed: int = 1):
    rig = synthetic_rig(V=200, K=52)
    W = sparse_weights(T, 52, seed=seed)
    W[7] = 0.0
    W[7, :4] = 0.1  # a near-neutral frame (the jaw a little open), never the exact neutral
    return rig, W, pose(rig, W)


def test_shift_recovers_the_weights_and_the_neutral():
    """With the rig's own deltas the signed shift moves the rigged frame back to the true neutral: the
    weights come back exactly, though no frame is the neutral and the rigged frame is an expression."""
    rig, W, Y = _sequence()
    inv = invert_with_estimated_neutral(Y, FACES, rig=rig, shift=True, prior=None, level=None)
    assert W[inv.start_frame].sum() > 0  # the rigged frame is an expression
    np.testing.assert_allclose(inv.neutral, rig.neutral, atol=1e-6)
    np.testing.assert_allclose(inv.rig_weights, W, atol=1e-6)
    assert inv.weights.shape == (len(W), 52) and inv.residual["rms"].max() < 1e-6


def test_without_the_shift_weights_are_relative_to_the_picked_frame():
    """No shift: the neutral is the picked frame itself and every frame is solved from it; the least
    active frame picked as neutral reads all zero."""
    rig, W, Y = _sequence()
    inv = invert_with_estimated_neutral(Y, FACES, rig=rig, shift=False, prior=None, level=None)
    t = inv.start_frame
    np.testing.assert_allclose(inv.neutral, Y[t])
    assert np.abs(inv.rig_weights[t]).max() < 1e-9
    # frames whose every shape is at least the picked frame's are rebuilt exactly, as W - W[t]
    above = np.flatnonzero((W >= W[t]).all(1))
    np.testing.assert_allclose(inv.rig_weights[above], W[above] - W[t], atol=1e-6)


def test_least_squares_refinement_lowers_the_fit_error_of_a_biased_start():
    rig, W, Y = _sequence()
    plain = invert_with_estimated_neutral(Y, FACES, rig=rig, shift=False, refine=0, prior=None, level=None)
    refined = invert_with_estimated_neutral(Y, FACES, rig=rig, shift=False, refine=2, prior=None, level=None)
    assert refined.residual["rms"].mean() < plain.residual["rms"].mean()


def test_medoid_pick_is_the_frame_nearest_the_median():
    rig, W, Y = _sequence()
    t, _ = pick_start_frame(Y, FACES, pick="medoid", pick_frames=len(Y))
    med = np.median(Y, axis=0)
    assert t == int(np.argmin(((Y - med) ** 2).sum(axis=(1, 2))))
    with pytest.raises(FacerigError, match="pick"):
        pick_start_frame(Y, FACES, pick="nope")


def test_a_sequence_facerig_cannot_rig_falls_back_to_the_encoder_by_default_only(head_arrays):
    """48 vertices are too few for raf's head check: by default the encoder's path is taken (here it
    fails on the faces' check, the encoder's own), asked for explicitly the rigging error stops."""
    from facerig.invert import invert_meshes

    v, f = head_arrays
    frames = np.stack([v, v * 1.01])
    with pytest.raises(FacerigError, match="does not look like a head"):
        invert_meshes(frames, faces=f, neutral_estimate=True)
    with pytest.raises(FacerigError, match="faces must be"):
        invert_meshes(frames, faces=f[:, :2].repeat(2, 1)[:, :3] * 0 + len(v), prior=None)


def test_one_mesh_or_bad_input_fails_in_one_line():
    rig, W, Y = _sequence(T=10)
    with pytest.raises(FacerigError, match="sequence"):
        invert_with_estimated_neutral(Y[:1], FACES, rig=rig)
    bad = Y.copy()
    bad[1, 0, 0] = np.nan
    with pytest.raises(FacerigError, match="frame 1"):
        invert_with_estimated_neutral(bad, FACES, rig=rig)
    with pytest.raises(FacerigError, match="faces"):
        invert_with_estimated_neutral(Y, np.array([[0, 1, 999]]), rig=rig)


@pytest.mark.slow
@pytest.mark.ict
def test_invert_meshes_and_the_cli_use_it_for_a_sequence_on_request(ict_neutral_obj, tmp_path, capsys):
    """``invert_meshes(..., neutral_estimate=True)`` and ``facerig invert FRAMES`` (the default for a sequence)
    rig a frame of the sequence (raf) and solve through it (so ``--report`` works); one mesh keeps the
    encoder's path."""
    from facerig.cli import main
    from facerig.invert import invert_meshes
    from facerig.invert.neutral_estimate import EstimatedInversion
    from facerig.io import load_mesh
    from facerig.io.obj import write_obj

    m = load_mesh(ict_neutral_obj, allow_degenerate=True, allow_unreferenced=True)
    v, f = m.vertices, m.faces
    low = (v[:, 1] < np.percentile(v[:, 1], 30)).astype(float)[:, None]  # a lower face moving down and back
    frames = np.stack([v + s * low * np.array([0.0, -0.3, -0.1]) for s in (0.0, 0.5, 1.0)])
    inv = invert_meshes(frames, faces=f, prior=None)  # the default for a sequence without a neutral
    assert isinstance(inv, EstimatedInversion) and inv.weights.shape == (3, 52)
    assert inv.neutral.shape == v.shape and inv.rig.num_vertices == len(v)
    # the picked frame reads as the encoder's level alone, and the neutral is that frame less the level
    np.testing.assert_allclose(inv.weights[inv.start_frame], inv.level, atol=1e-9)
    rebuilt = inv.rig.neutral + np.einsum("k,kvc->vc", inv.rig_weights[inv.start_frame], inv.rig.deltas)
    np.testing.assert_allclose(rebuilt, frames[inv.start_frame], atol=1e-4)
    folder = tmp_path / "frames"
    folder.mkdir()
    for t, y in enumerate(frames):
        write_obj(folder / f"f{t}.obj", y, f)
    out = tmp_path / "w.csv"
    assert main(["invert", str(folder), "-o", str(out), "--report"]) == 0
    assert "estimated from frame" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 4
    assert main(["invert", str(folder), "--no-neutral-estimate", "-o", str(out)]) == 0
    assert "no neutral: expression encoder" in capsys.readouterr().out
    enc = invert_meshes(frames, faces=f, neutral_estimate=False)
    assert enc.rig is None and not isinstance(enc, EstimatedInversion)

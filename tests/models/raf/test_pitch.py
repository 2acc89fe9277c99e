"""A nodding head: where the face probe finds an odd face, the pitch at which it finds a plausible one."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.geometry.frame import pitch_matrix
from facerig.io.mesh import Mesh
from facerig.models.raf.pitch import MAX_SCORE, MIN_GAIN, choose_pitch


def test_pitch_matrix_nods_the_face_down():
    P = pitch_matrix(15.0)
    np.testing.assert_allclose(P @ P.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(P) == pytest.approx(1.0)
    np.testing.assert_allclose(P @ [1.0, 0, 0], [1.0, 0, 0])  # the left-right axis stays
    fwd = P @ [0, 0, 1.0]
    assert fwd[1] < 0 and np.degrees(np.arcsin(-fwd[1])) == pytest.approx(15.0)  # the face looks down
    np.testing.assert_allclose(pitch_matrix(-15.0) @ P, np.eye(3), atol=1e-12)


def test_choose_pitch_takes_only_a_clearly_better_plausible_face():
    rows = [(-10.0, "warn", 1.2), (10.0, "ok", 0.3), (-15.0, "ok", 0.15), (15.0, "error", 3.0)]
    assert choose_pitch(rows, own_score=1.06) == -15.0  # the best plausible face
    assert choose_pitch(rows, own_score=0.15 / MIN_GAIN - 0.01) is None  # not clearly better than its own
    assert choose_pitch(rows, own_score=float("inf")) == -15.0  # no face of its own at all
    mediocre = [(d, "ok", MAX_SCORE + 0.05) for d in (-10.0, 10.0)] + [(20.0, "warn", 0.1)]
    assert choose_pitch(mediocre, own_score=11.0) is None  # a robot's or a creature's odd face stays
    assert choose_pitch([(10.0, "warn", 0.2), (-10.0, "error", 5.0)], own_score=3.0) is None


def _mask():
    from facerig.config import data_root
    from facerig.io import read_mesh

    path = data_root() / "heads" / "mediapipe_canonical_face.obj"
    if not path.exists():
        pytest.skip("needs DATA/heads/mediapipe_canonical_face.obj (FACERIG_DATA)")
    return read_mesh(path)


def test_a_nodding_face_mask_is_rigged_upright():
    """The MediaPipe face mask (468 vertices) nodded 15 degrees: the shipped network's eyes were not
    level (an orientation warning); pitched back 15 degrees its face is the upright mask's, and so is
    the rig, turned with the head."""
    from facerig.models.raf.method import rig_raf

    mask = _mask()
    v = np.asarray(mask.vertices, np.float64)
    c = 0.5 * (v.min(0) + v.max(0))
    P = pitch_matrix(15.0)
    nod = Mesh(vertices=(v - c) @ P.T + c, faces=mask.faces)
    upright = rig_raf(mask, threads=1)
    assert upright.meta["raf"]["face_frame"]["check"] == "ok" and "pitched_deg" not in upright.meta["raf"]
    out = rig_raf(nod, threads=1)
    raf = out.meta["raf"]
    assert raf["pitch_search"]["own"]["check"] != "ok"
    assert raf["pitched_deg"] == -15.0 and raf["face_frame"]["check"] == "ok"
    assert raf["face_frame"]["iod"] == pytest.approx(upright.meta["raf"]["face_frame"]["iod"], rel=1e-3)
    back = out.deltas @ P  # the nodded rig turned upright
    err = np.abs(back - upright.deltas).max()
    assert err < 1e-3 * np.abs(upright.deltas).max()  # (rigged as given: 0.48)
    assert out.deltas.shape == upright.deltas.shape

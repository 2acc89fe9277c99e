"""invert_meshes / retarget / rig_for on small rigs."""

from __future__ import annotations

import numpy as np
import pytest
from invert_helpers import pose, sparse_weights, synthetic_rig

from facerig.arkit import ARKIT52
from facerig.errors import FacerigError
from facerig.invert.pipeline import flag_frames, invert_meshes, retarget, rig_for
from facerig.io.mesh import Mesh
from facerig.io.obj import write_obj
from facerig.io.rig import Rig, save_rig


def test_invert_meshes_with_a_rig_and_report():
    rig = synthetic_rig(V=200)
    W = sparse_weights(20, 52)
    Y = pose(rig, W)
    Y[7] += np.random.default_rng(0).normal(scale=2.0, size=Y[7].shape)  # one frame the rig cannot make
    inv = invert_meshes(Y, rig=rig)
    good = np.arange(20) != 7
    np.testing.assert_allclose(inv.weights[good], W[good], atol=1e-7)
    flagged = flag_frames(inv.residual, mm_per_unit=1.0, bad_mm=1.0)
    assert flagged.tolist() == (~good).tolist()


def test_needs_a_neutral_and_matching_sizes():
    with pytest.raises(FacerigError, match="without a neutral needs the frames' faces"):
        invert_meshes(np.zeros((1, 5, 3)))
    rig = synthetic_rig(V=30)
    with pytest.raises(FacerigError, match="29 vertices"):
        invert_meshes(np.zeros((2, 29, 3)), rig=rig)
    with pytest.raises(FacerigError, match="the rig has 30 vertices, the neutral 29"):
        invert_meshes(np.zeros((2, 29, 3)), np.zeros((29, 3)), rig=rig)


def test_invert_meshes_rigs_the_neutral(head_arrays):
    v, f = head_arrays
    with pytest.raises(FacerigError, match="every shape of the rig is zero"):  # the zero method's rig
        invert_meshes(v[None] + 0.0, mesh=Mesh(vertices=v, faces=f), method="zero")


def test_retarget_matches_names():
    W52 = np.zeros((3, 52))
    W52[:, ARKIT52.index("jawOpen")] = [0.1, 0.2, 0.3]
    W52[:, ARKIT52.index("eyeBlinkLeft")] = 0.5
    target = Rig(names=["EyeBlinkLeft", "custom", "jaw_open"], deltas=np.zeros((3, 4, 3)), neutral=np.zeros((4, 3)))
    np.testing.assert_allclose(retarget(W52, target), [[0.5, 0, 0.1], [0.5, 0, 0.2], [0.5, 0, 0.3]])


def test_rig_for_rig_file_or_mesh(tmp_path, head_arrays):
    v, f = head_arrays
    save_rig(tmp_path / "r.npz", Rig(names=["jawOpen"], deltas=np.ones((1, len(v), 3)), neutral=v, faces=f))
    rig, _, how = rig_for(tmp_path / "r.npz")
    assert how == "own rig" and rig.names == ["jawOpen"]
    write_obj(tmp_path / "h.obj", v, f)
    rig, mesh, how = rig_for(tmp_path / "h.obj", method="zero")
    assert how == "facerig zero" and rig.num_vertices == len(v) == mesh.num_vertices

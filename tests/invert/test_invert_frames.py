"""Reading posed frames: files, folders, globs, glTF animations, and the errors for bad frames."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.errors import FacerigError
from facerig.invert.frames import read_frames
from facerig.io.gltf import GltfAnimation, save_rig_gltf
from facerig.io.obj import write_obj
from facerig.io.rig import Rig


@pytest.fixture
def folder(tmp_path, head_arrays):
    v, f = head_arrays
    d = tmp_path / "frames"
    d.mkdir()
    for t in (0, 2, 10, 1):  # natural order: 0, 1, 2, 10
        write_obj(d / f"pose{t}.obj", v + t, f)
    (d / "notes.txt").write_text("not a frame")
    return d


def test_folder_in_natural_order(folder, head_arrays):
    fr = read_frames(folder, len(head_arrays[0]))
    assert fr.labels == ["pose0.obj", "pose1.obj", "pose2.obj", "pose10.obj"]
    np.testing.assert_allclose(fr.vertices[:, 0] - head_arrays[0][0], [[0] * 3, [1] * 3, [2] * 3, [10] * 3])
    assert fr.times is None


def test_glob_and_single_file(folder, head_arrays):
    V = len(head_arrays[0])
    assert read_frames(str(folder / "pose1*.obj"), V).labels == ["pose1.obj", "pose10.obj"]
    assert read_frames(folder / "pose2.obj", V).num_frames == 1


def test_gltf_animation_gives_one_frame_per_key(tmp_path, head_arrays):
    v, f = head_arrays
    rng = np.random.default_rng(0)
    rig = Rig(
        names=["jawOpen", "eyeBlinkLeft"], deltas=rng.normal(size=(2, len(v), 3)).astype(np.float32), neutral=v, faces=f
    )
    W = np.array([[0.0, 0.0], [0.5, 0.25], [1.0, 0.0]], np.float32)
    save_rig_gltf(
        tmp_path / "a.glb", rig, animation=GltfAnimation(weights=W, times=np.array([0.0, 0.1, 0.3])), delta_epsilon=0
    )
    fr = read_frames(tmp_path / "a.glb", len(v))
    np.testing.assert_allclose(fr.times, [0.0, 0.1, 0.3], atol=1e-6)
    np.testing.assert_allclose(fr.vertices, [rig.pose(w) for w in W], atol=1e-5)


def test_bad_frames_name_the_frame(tmp_path, folder, head_arrays):
    v, f = head_arrays
    V = len(v)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FacerigError, match="no mesh frames"):
        read_frames(empty, V)
    with pytest.raises(FacerigError, match="matches no mesh"):
        read_frames(str(tmp_path / "*.ply"), V)
    with pytest.raises(FacerigError, match=r"frame 0 \(pose0.obj\): 48 vertices, the neutral has 47"):
        read_frames(folder, V - 1)
    write_obj(folder / "pose3.obj", v[:-6], f[:-8])  # a frame of another size
    with pytest.raises(FacerigError, match=r"frame 3 \(pose3.obj\): 42 vertices"):
        read_frames(folder, V)
    bad = v.copy()
    bad[4] = np.nan
    write_obj(folder / "pose3.obj", bad, f)
    with pytest.raises(FacerigError, match=r"frame 3 \(pose3.obj\): 1 vertices with NaN"):
        read_frames(folder, V)


def test_lowrank_animation_solves_like_its_dense_frames(tmp_path, head_arrays):
    from facerig.invert.solver import prepare, residuals, solve

    v, f = head_arrays
    rng = np.random.default_rng(1)
    src = Rig(
        names=["jawOpen", "eyeBlinkLeft", "mouthSmileLeft"],
        deltas=rng.normal(size=(3, len(v), 3)).astype(np.float32),
        neutral=v,
        faces=f,
    )
    save_rig_gltf(
        tmp_path / "a.glb", src, animation=GltfAnimation(weights=rng.random((7, 3)).astype(np.float32)), delta_epsilon=0
    )
    fr = read_frames(tmp_path / "a.glb", len(v))
    assert fr.lowrank is not None and fr.dense is None
    other = Rig(
        names=["jawOpen", "eyeBlinkLeft"], deltas=rng.normal(size=(2, len(v), 3)).astype(np.float32), neutral=v
    )  # another rig: the fit is not exact, so both paths must agree on a real optimum
    prep = prepare(other)
    np.testing.assert_allclose(solve(prep, fr), solve(prep, fr.vertices), atol=1e-9)
    W = solve(prep, fr)
    np.testing.assert_allclose(residuals(prep, fr, W)["rms"], residuals(prep, fr.vertices, W)["rms"], rtol=1e-9)

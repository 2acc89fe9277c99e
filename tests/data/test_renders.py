"""Training-image generator: ARKit mapping, expressions, renders of a synthetic rigged head, negatives, datasets."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
trimesh = pytest.importorskip("trimesh")

from facerig.arkit import ARKIT52  # noqa: E402
from facerig.data import renders  # noqa: E402
from facerig.errors import FacerigError  # noqa: E402
from facerig.io.rig import Rig  # noqa: E402

JAW = ARKIT52.index("jawOpen")


def ball_head() -> renders.RenderHead:
    """An icosphere 'head' (radius 10 units of 1 mm) whose jawOpen pulls the lower front down."""
    m = trimesh.creation.icosphere(3, radius=10.0)
    v = np.asarray(m.vertices, np.float64)
    d = np.zeros((52, len(v), 3), np.float32)
    low = (v[:, 1] < -2) & (v[:, 2] > 0)
    d[JAW, low, 1] = -4.0
    d[JAW, low, 2] = 2.0
    present = np.zeros(52, bool)
    present[JAW] = True
    return renders.RenderHead(
        "ball", v, np.asarray(m.faces, np.int64), d, present, 1.0, np.zeros(len(v), np.int8), family="test"
    )


def test_to_arkit52_maps_names_and_marks_absent_shapes():
    deltas = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    out, present = renders.to_arkit52(["jaw_open", "EyeBlinkLeft"], deltas)
    assert out.shape == (52, 4, 3) and present.sum() == 2
    assert np.array_equal(out[JAW], deltas[0]) and np.array_equal(out[ARKIT52.index("eyeBlinkLeft")], deltas[1])
    assert not out[ARKIT52.index("tongueOut")].any()


def test_sample_weights_range_absent_shapes_and_neutrals():
    rng = np.random.default_rng(0)
    frames = rng.uniform(0, 0.6, (30, 52)).astype(np.float32)
    frames[:, [i for i, n in enumerate(ARKIT52) if n.startswith("eyeLook")]] = 0
    present = np.ones(52, bool)
    present[ARKIT52.index("tongueOut")] = False
    W = renders.sample_weights(rng, 400, frames, present, p_neutral=0.1, p_isolated=0.0, jitter=0.0)
    assert W.shape == (400, 52) and W.min() >= 0 and W.max() <= 1
    assert not W[:, ARKIT52.index("tongueOut")].any()
    assert 10 < (W.max(1) == 0).sum() < 80  # about 10 % neutral faces
    gaze = W[:, ARKIT52.index("eyeLookOutLeft")] > 0
    assert np.allclose(W[gaze, ARKIT52.index("eyeLookOutLeft")], W[gaze, ARKIT52.index("eyeLookInRight")])


def test_render_head_images_masks_normals_and_expression():
    head = ball_head()
    W = np.zeros((2, 52), np.float32)
    W[1, JAW] = 1.0
    cfg = renders.RenderConfig(size=48, yaw=0, pitch=0, roll=0, shift=0, fov=(30, 30), face_fraction=(0.6, 0.6))
    out = renders.render_head(head, W, np.random.default_rng(1), cfg)
    assert out["rgb"].shape == (2, 48, 48, 3) and out["normals"].dtype == np.uint8 and out["mask"].shape == (2, 48, 48)
    n = out["normals"][0].reshape(-1, 3).astype(float) / 255 * 2 - 1  # camera space, (n + 1) / 2
    on = out["mask"][0].reshape(-1) == 255
    assert np.allclose(np.linalg.norm(n[on], axis=1), 1, atol=0.05)
    front = n[on][np.argmax(n[on, 2])]  # the sphere point facing the camera
    assert front[2] > 0.98 and abs(front[0]) < 0.15 and abs(front[1]) < 0.15
    assert out["mask"][0, 0, 0] == 0 and out["normals"][0, 0, 0].max() == 0
    assert out["rgb"][0, 0, 0].max() == 0 and out["rgb"][0][out["mask"][0] == 255].max() > 0
    # same camera (no pose / shift / fov range): only the jaw changes the normal map, in the lower half
    diff = np.abs(out["normals"][1].astype(int) - out["normals"][0]).max(-1) > 20
    assert diff.mean() > 0.03 and diff[:12].mean() < diff[24:].mean()


def test_gram_gives_the_rebuilt_mesh_error():
    head = ball_head()
    G = head.gram()
    e = np.zeros(52)
    e[JAW] = 0.5
    d = head.deltas[JAW]
    moving = np.linalg.norm(d, axis=1) > 0
    rms = np.sqrt((np.linalg.norm(0.5 * d[moving], axis=1) ** 2).mean())
    assert np.isclose(np.sqrt(e @ G @ e), rms, rtol=1e-5)


def test_negative_images_and_dataset():
    rng = np.random.default_rng(0)
    neg = renders.negative_images(rng, 3, 32)
    assert neg["rgb"].shape == (3, 32, 32, 3)
    frames = np.zeros((5, 52), np.float32)
    d = renders.build_dataset([ball_head], 4, 0, frames, negatives=2, config=renders.RenderConfig(size=32))
    assert d["rgb"].shape == (6, 32, 32, 3) and d["gram"].shape == (1, 52, 52)
    assert d["is_head"].tolist() == [True] * 4 + [False] * 2 and d["head"].tolist() == [0] * 4 + [-1] * 2
    assert not d["weights"][:, ~d["present"][0]].any()


def test_head_from_rig_and_warp():
    head = ball_head()
    rig = Rig(names=["jawOpen"], deltas=head.deltas[JAW][None], neutral=head.vertices, faces=head.faces)
    h = renders.head_from_rig(rig)
    assert h.present.sum() == 1 and np.array_equal(h.deltas[JAW], head.deltas[JAW])
    with pytest.raises(FacerigError):
        renders.head_from_rig(Rig(names=["jawOpen"], deltas=head.deltas[JAW][None], neutral=head.vertices))
    with pytest.raises(FacerigError):
        renders.head_from_rig(
            Rig(names=["foo"], deltas=head.deltas[JAW][None], neutral=head.vertices, faces=head.faces)
        )
    w = renders.warped_head(head, 3)
    assert w.vertices.shape == head.vertices.shape and not np.allclose(w.vertices, head.vertices)
    assert not w.deltas[ARKIT52.index("eyeBlinkLeft")].any()

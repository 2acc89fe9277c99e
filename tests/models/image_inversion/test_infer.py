"""The Python API's network pass: the mirror test-time augmentation (shapes, names, exact mirror symmetry) and,
with the shipped weights, a mirrored render of a posed head reads the Left / Right-swapped weights."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facerig.arkit import ARKIT52  # noqa: E402
from facerig.models.image_inversion.config import ImageInversionConfig  # noqa: E402
from facerig.models.image_inversion.infer import invert_arrays, network_pass  # noqa: E402
from facerig.models.image_inversion.mirror import mirror_images, unmirror_weights  # noqa: E402
from facerig.models.image_inversion.network import ImageInversionNet  # noqa: E402

CFG = ImageInversionConfig(size=32, channels=(4, 8, 8, 8), convs=(1, 1, 1, 2), feature=16, hidden=16)


def _model(seed: int = 0) -> ImageInversionNet:
    torch.manual_seed(seed)
    m = ImageInversionNet(CFG)
    with torch.no_grad():  # move the linear output off the clamp so the weights differ per image
        m.mlp[-1].bias.fill_(0.5)
    return m.eval()


def _frames(n: int = 3, S: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, S, S, 3) random RGB and normal maps of a sphere off centre (unit normals on black)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:S, 0:S].astype(np.float64)
    u, v = (x - S * 0.4) / (S / 3), (y - S / 2) / (S / 3)
    r2 = u**2 + v**2
    nrm = np.where((r2 < 1)[..., None], (np.stack([u, -v, np.sqrt(np.clip(1 - r2, 0, None))], -1) + 1) / 2, 0)
    return rng.uniform(0, 1, (n, S, S, 3)).astype(np.float32), np.repeat(nrm[None], n, 0).astype(np.float32)


def test_mirror_tta_output_shape_and_names():
    rgb, nrm = _frames()
    model = _model()
    res = invert_arrays(list(rgb), list(nrm), model=model)  # mirror is the default
    assert res.weights.shape == (3, 52) and res.head_probability.shape == (3,) and res.low_confidence.shape == (3,)
    assert ((res.weights >= 0) & (res.weights <= 1)).all()
    d = res.as_dicts()
    assert len(d) == 3 and list(d[0]["weights"]) == list(ARKIT52)
    plain = invert_arrays(list(rgb), list(nrm), model=model, mirror=False)
    assert plain.weights.shape == (3, 52) and not np.allclose(plain.weights, res.weights)
    # RGB only: no normal maps to mirror
    assert invert_arrays(list(rgb), model=model).weights.shape == (3, 52)


@pytest.mark.parametrize("use", [(1.0, 1.0), (1.0, 0.0), (0.0, 1.0)])
def test_mirror_tta_reads_a_mirror_image_as_the_swapped_weights(use):
    """Any network with the augmentation: the mirror image's weights are exactly the swapped weights, and the
    head logit is the same (each reading sees the same pair of images)."""
    rgb, nrm = _frames()
    model = _model(1)
    u = np.repeat(np.array([use], np.float32), 3, 0)
    w, h = network_pass(model, rgb, nrm, u, mirror=True)
    xm, nm = mirror_images(rgb, nrm)
    wm, hm = network_pass(model, xm, nm, u, mirror=True)
    assert np.allclose(unmirror_weights(wm), w, atol=1e-5) and np.allclose(hm, h, atol=1e-5)
    w0, _ = network_pass(model, rgb, nrm, u, mirror=False)
    w1, _ = network_pass(model, xm, nm, u, mirror=False)
    assert np.allclose(w, np.clip(0.5 * (w0 + unmirror_weights(w1)), 0, 1), atol=1e-6)


def _heads_available() -> bool:
    try:
        from facerig.config import data_root

        return any((data_root() / "heads").glob("rocketbox_male*.blendshapes.npz"))
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.slow  # loads and renders an author head (seconds; minutes on a busy machine)
@pytest.mark.skipif(not _heads_available(), reason="needs DATA/heads (FACERIG_DATA)")
def test_a_flipped_render_of_a_posed_head_reads_the_swapped_weights():
    from facerig.data import renders

    head = renders.author_heads("rocketbox_male*")[0]
    W = np.zeros((1, 52), np.float32)
    for name, v in (("eyeBlinkLeft", 1.0), ("mouthSmileLeft", 0.8), ("jawOpen", 0.3), ("browInnerUp", 0.5)):
        W[0, ARKIT52.index(name)] = v
    cfg = renders.RenderConfig(size=160, yaw=2, pitch=2, roll=1, shift=0.0, face_fraction=(0.7, 0.7), fov=(25, 25))
    out = renders.render_head(head, W, np.random.default_rng(0), cfg)
    mask = out["mask"][0].astype(np.float32) / 255
    rgba = np.dstack([out["rgb"][0].astype(np.float32) / 255, mask])
    nrm = out["normals"][0].astype(np.float32) / 255
    # the flipped frame, made by hand: columns reversed, the normals' x negated on the head
    flipped = nrm[:, ::-1].copy()
    m = mask[:, ::-1]
    flipped[..., 0] = m * (1 - flipped[..., 0]) + (1 - m) * flipped[..., 0]
    for mirror, tta, tol in ((False, False, 0.1), (True, False, 0.01), (True, True, 0.02)):
        res = invert_arrays([rgba, rgba[:, ::-1]], [nrm, flipped], mirror=mirror, tta=tta)
        assert not res.low_confidence.any()
        assert np.abs(unmirror_weights(res.weights[1]) - res.weights[0]).max() < tol
    # the test-time views are symmetric under mirroring: RGB alone reads the swapped weights exactly (the normal
    # maps differ a little: the hand-made flip blends by the render's soft mask, the mirror by the decoded normals)
    rgb_only = invert_arrays([rgba, rgba[:, ::-1]], None)
    assert np.abs(unmirror_weights(rgb_only.weights[1]) - rgb_only.weights[0]).max() < 1e-5
    w = res.weights[0]
    assert w[ARKIT52.index("eyeBlinkLeft")] > 0.3 and w[ARKIT52.index("jawOpen")] > 0.1

"""``facerig retarget SOURCE --to TARGET`` without ``--neutral``: the path ``facerig invert`` takes
without a neutral (a sequence through an estimated neutral, one mesh through the expression
encoder), with one line saying which."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.arkit import ARKIT52
from facerig.cli import main
from facerig.invert.frames import gltf_animation, read_frames
from facerig.io.obj import write_obj
from facerig.io.rig import Rig, save_rig

TARGET = ["jawOpen", "eyeBlinkLeft", "mouthSmileLeft", "browInnerUp"]


@pytest.fixture
def scene(tmp_path, head_arrays, monkeypatch):
    """Tiny posed frames (a folder of 3 and one mesh), a target rig, and a small random encoder
    (FACERIG_ENCODER_WEIGHTS) whose weights depend on the pose."""
    torch = pytest.importorskip("torch")
    from facerig.models.encoder.config import EncoderConfig
    from facerig.models.encoder.network import ExpressionEncoder
    from facerig.models.encoder.runtime import EncoderRuntime
    from facerig.models.raf.weights import save_weights

    v, f = head_arrays
    rng = np.random.default_rng(5)
    (tmp_path / "frames").mkdir()
    for t in range(3):
        write_obj(tmp_path / "frames" / f"f{t}.obj", v + rng.normal(0, 0.02, v.shape), f)
    tgt = Rig(names=TARGET, deltas=np.ones((4, len(v), 3), np.float32), neutral=v, faces=f)
    save_rig(tmp_path / "target.npz", tgt)
    torch.manual_seed(0)
    model = ExpressionEncoder(EncoderConfig(width=8, n_block=1, head_hidden=8, n_hks=4, k_eig=16))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    w = save_weights(tmp_path / "enc.npz", model.config.to_dict(), model.state_dict())
    monkeypatch.setenv("FACERIG_ENCODER_WEIGHTS", str(w))
    return tmp_path, f, EncoderRuntime.load(w)


def _retarget(d, source, *extra) -> list[str]:
    return ["retarget", str(source), "--to", str(d / "target.npz"), "-o", str(d / "anim.glb"), *extra]


def test_one_mesh_is_read_by_the_encoder(scene, capsys):
    from facerig.models.encoder.runtime import encode_frames

    d, f, model = scene
    assert main(_retarget(d, d / "frames" / "f1.obj")) == 0
    out = capsys.readouterr().out
    assert "one mesh: nothing to estimate a neutral from; the expression encoder reads" in out
    expect = encode_frames(read_frames(d / "frames" / "f1.obj", int(f.max()) + 1), f, model=model)
    assert expect.std() > 1e-3
    _r, _, Wa, _ = gltf_animation(d / "anim.glb")
    np.testing.assert_allclose(Wa, expect[:, [ARKIT52.index(n) for n in TARGET]], atol=1e-6)


def test_a_sequence_facerig_cannot_rig_falls_back_to_the_encoder_unless_asked(scene, capsys):
    """The tiny head is not a head to raf: the estimated neutral is tried, fails, and the encoder
    reads the frames (as ``facerig invert`` does); ``--neutral-estimate`` makes that failure the
    error, ``--no-neutral-estimate`` skips the attempt."""
    from facerig.models.encoder.runtime import encode_frames

    d, f, model = scene
    expect = encode_frames(read_frames(d / "frames", int(f.max()) + 1), f, model=model)
    cols = [ARKIT52.index(n) for n in TARGET]
    assert main(_retarget(d, d / "frames")) == 0
    out = capsys.readouterr().out
    assert "estimating the neutral of 3 frames" in out and "no neutral: no estimated neutral (" in out
    np.testing.assert_allclose(gltf_animation(d / "anim.glb")[2], expect[:, cols], atol=1e-6)
    assert main(_retarget(d, d / "frames", "--no-neutral-estimate")) == 0
    out = capsys.readouterr().out
    assert "estimating" not in out and "no neutral: --no-neutral-estimate; the expression encoder" in out
    assert main(_retarget(d, d / "frames", "--neutral-estimate")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "does not look like a head" in err and "\n" not in err


@pytest.mark.slow
@pytest.mark.ict
def test_a_sequence_is_solved_through_the_estimated_neutral_as_invert_does(ict_neutral_obj, tmp_path, capsys):
    """ICT frames without a neutral: retarget solves them through an estimated neutral, the weights
    ``facerig invert FRAMES`` (no neutral) writes."""
    from facerig.io import load_mesh
    from facerig.io.takes import read_take

    m = load_mesh(ict_neutral_obj, allow_degenerate=True, allow_unreferenced=True)
    v, f = m.vertices, m.faces
    low = (v[:, 1] < np.percentile(v[:, 1], 30)).astype(float)[:, None]  # the lower face down and back
    (tmp_path / "frames").mkdir()
    for t, s in enumerate((0.0, 0.5, 1.0)):
        write_obj(tmp_path / "frames" / f"f{t}.obj", v + s * low * np.array([0.0, -0.3, -0.1]), f)
    tgt = Rig(names=TARGET, deltas=np.ones((4, len(v), 3), np.float32), neutral=v, faces=f)
    save_rig(tmp_path / "target.npz", tgt)
    assert main(_retarget(tmp_path, tmp_path / "frames")) == 0
    assert "solved through an estimated neutral" in capsys.readouterr().out
    assert main(["invert", str(tmp_path / "frames"), "-o", str(tmp_path / "w.csv"), "-q"]) == 0
    W = read_take(tmp_path / "w.csv").weights
    Wa = gltf_animation(tmp_path / "anim.glb")[2]
    assert Wa.shape == (3, 4) and W[:, ARKIT52.index("jawOpen")].max() > 0.05
    np.testing.assert_allclose(Wa, W[:, [ARKIT52.index(n) for n in TARGET]], atol=1e-4)

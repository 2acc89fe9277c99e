"""``facerig invert`` and ``facerig retarget`` round trips on a tiny rig, and their one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from facerig.arkit import ARKIT52
from facerig.cli import main
from facerig.invert.frames import gltf_animation
from facerig.io.obj import write_obj
from facerig.io.rig import Rig, save_rig
from facerig.io.takes import read_take

sys.path.insert(0, str(Path(__file__).resolve().parent / "invert"))
from invert_helpers import sparse_weights

DATA = Path(__file__).resolve().parent / "data_files"


@pytest.fixture
def scene(tmp_path, head_arrays):
    """A 12-shape rig of the tiny head (npz), its neutral (obj) and 6 posed frames with known weights."""
    v, f = head_arrays
    rng = np.random.default_rng(11)
    names = list(ARKIT52[:12])
    rig = Rig(names=names, deltas=(rng.normal(size=(12, len(v), 3)) * 0.05).astype(np.float32), neutral=v, faces=f)
    save_rig(tmp_path / "rig.npz", rig)
    write_obj(tmp_path / "neutral.obj", v, f)
    W = sparse_weights(6, 12, seed=3)
    (tmp_path / "frames").mkdir()
    for t in range(6):
        write_obj(tmp_path / "frames" / f"frame_{t}.obj", rig.pose(W[t]), f)
    W52 = np.zeros((6, 52))
    W52[:, :12] = W
    return tmp_path, rig, W52


def test_invert_round_trip_all_outputs(scene, capsys):
    d, _rig, W52 = scene
    outs = [d / "w.csv", d / "w.json", d / "w.glb"]
    args = [
        "invert",
        str(d / "frames"),
        "--neutral",
        str(d / "neutral.obj"),
        "--rig",
        str(d / "rig.npz"),
        "--report",
        "--report-json",
        str(d / "report.json"),
    ]
    for o in outs:
        args += ["-o", str(o)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "0 frame(s) flagged" in out and "frame_5.obj" in out
    for o in outs[:2]:
        np.testing.assert_allclose(read_take(o).weights, W52, atol=1e-7)
    _r, _, Wa, times = gltf_animation(outs[2])
    np.testing.assert_allclose(Wa, W52[:, :12], atol=1e-6)
    np.testing.assert_allclose(times, np.arange(6) / 60, atol=1e-6)
    rep = json.loads((d / "report.json").read_text())
    assert len(rep["frames"]) == 6 and all(fr["rms_mm"] < 1e-6 for fr in rep["frames"])


def test_invert_flags_a_bad_frame(scene, capsys):
    d, rig, _ = scene
    v = rig.neutral.copy()
    v[:, 0] *= 1.3  # a stretch no shape makes
    write_obj(d / "frames" / "frame_9.obj", v, rig.faces)
    assert main(["invert", str(d / "frames"), "--rig", str(d / "rig.npz"), "--report", "--units", "cm"]) == 0
    out = capsys.readouterr().out
    assert "1 frame(s) flagged" in out and "BAD FIT" in out


def test_retarget_frames_and_take(scene, tmp_path):
    d, rig, W52 = scene
    v, f = rig.neutral, rig.faces
    tgt = Rig(
        names=["jawOpen", "eyeBlinkLeft", "eyeLookDownLeft"],
        deltas=np.ones((3, len(v), 3), np.float32),
        neutral=v * 2,
        faces=f,
    )
    save_rig(d / "target.npz", tgt)
    out = d / "anim.glb"
    assert (
        main(
            [
                "retarget",
                str(d / "frames"),
                "--neutral",
                str(d / "neutral.obj"),
                "--rig",
                str(d / "rig.npz"),
                "--to",
                str(d / "target.npz"),
                "-o",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    r, _, Wa, _ = gltf_animation(out)
    cols = [ARKIT52.index(n) for n in tgt.names]
    np.testing.assert_allclose(Wa, W52[:, cols], atol=1e-6)
    np.testing.assert_allclose(r.neutral, tgt.neutral, atol=1e-5)
    assert (
        main(["retarget", str(DATA / "livelink_5frames.csv"), "--to", str(d / "target.npz"), "-o", str(out), "-q"]) == 0
    )
    take = read_take(DATA / "livelink_5frames.csv")
    np.testing.assert_allclose(gltf_animation(out)[2], take.weights[:, cols], atol=1e-6)


@pytest.mark.parametrize(
    "case,message",
    [
        ("no_neutral", "an animated glTF needs a rig; give --neutral or --rig"),
        ("empty", "no mesh frames in the folder"),
        ("count", "frame 0 (frame_0.obj): 48 vertices, the neutral has 42"),
        ("no_arkit", "no ARKit blendshape columns"),
    ],
)
def test_one_line_errors(scene, capsys, case, message):
    d, rig, _ = scene
    if case == "no_neutral":
        args = ["invert", str(d / "frames"), "-o", str(d / "out.glb")]
    elif case == "empty":
        (d / "empty").mkdir()
        args = ["invert", str(d / "empty"), "--rig", str(d / "rig.npz")]
    elif case == "count":
        write_obj(d / "small.obj", rig.neutral[:42], rig.faces[:-8])
        args = ["invert", str(d / "frames"), "--neutral", str(d / "small.obj")]  # fails before rigging
    else:
        (d / "t.csv").write_text("time,foo,bar\n0,1,2\n")
        args = ["retarget", str(d / "t.csv"), "--to", str(d / "rig.npz"), "-o", str(d / "x.glb")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err


def test_invert_without_neutral_uses_the_encoder(scene, capsys, monkeypatch, tmp_path):
    """No --neutral / --rig: the expression encoder's weights (here a small random one, given by
    FACERIG_ENCODER_WEIGHTS) are written, frame by frame as encode_frames computes them."""
    torch = pytest.importorskip("torch")
    from facerig.invert.frames import read_frames
    from facerig.models.encoder.config import EncoderConfig
    from facerig.models.encoder.network import ExpressionEncoder
    from facerig.models.encoder.runtime import EncoderRuntime, encode_frames
    from facerig.models.raf.weights import save_weights

    d, rig, _ = scene
    torch.manual_seed(0)
    model = ExpressionEncoder(EncoderConfig(width=8, n_block=1, head_hidden=8, n_hks=4, k_eig=16))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    w = save_weights(tmp_path / "enc.npz", model.config.to_dict(), model.state_dict())
    monkeypatch.setenv("FACERIG_ENCODER_WEIGHTS", str(w))
    assert main(["invert", str(d / "frames"), "-o", str(d / "w.csv"), "-o", str(d / "w.json")]) == 0
    assert "no neutral: expression encoder" in capsys.readouterr().out
    expect = encode_frames(read_frames(d / "frames", rig.num_vertices), rig.faces, model=EncoderRuntime.load(w))
    assert expect.std() > 1e-3
    for o in ("w.csv", "w.json"):
        np.testing.assert_allclose(read_take(d / o).weights, expect, atol=2e-6)
    assert main(["invert", str(d / "frames"), "--report"]) == 2
    monkeypatch.setenv("FACERIG_ENCODER_WEIGHTS", str(tmp_path / "missing.npz"))
    assert main(["invert", str(d / "frames"), "-o", str(d / "x.csv")]) == 2
    assert "expression encoder weights not found" in capsys.readouterr().err


def test_invert_with_the_take_prior(scene, capsys):
    d, _rig, W52 = scene
    base = ["invert", str(d / "frames"), "--rig", str(d / "rig.npz"), "-q"]
    assert main([*base, "--prior", "take", "-o", str(d / "p.csv")]) == 0
    # the frames are the rig's own poses: the prior leaves them exact
    np.testing.assert_allclose(read_take(d / "p.csv").weights, W52, atol=1e-4)
    assert main([*base, "--prior", "gaussian", "-o", str(d / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "unknown prior 'gaussian'" in err and "\n" not in err
    assert main([*base, "--prior", "take", "--prior-strength", "-1", "-o", str(d / "x.csv")]) == 2
    assert "--prior-strength must be a number >= 0" in capsys.readouterr().err
    assert main([*base, "--prior-tolerance", "-0.5", "-o", str(d / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--prior-tolerance must be a number >= 0" in err and "\n" not in err
    assert main([*base, "--prior-tolerance", "inf", "-o", str(d / "u.csv")]) == 0  # unbounded: still exact here
    np.testing.assert_allclose(read_take(d / "u.csv").weights, W52, atol=1e-4)

"""``facerig invert-image``: JSON / CSV outputs on rendered heads, folders, modalities, bad input in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("PIL")

from facerig.arkit import ARKIT52  # noqa: E402
from facerig.cli import main  # noqa: E402
from facerig.config import data_root  # noqa: E402
from facerig.io.takes import read_take  # noqa: E402
from facerig.render import write_png  # noqa: E402

JAW = ARKIT52.index("jawOpen")


def _heads_available() -> bool:
    try:
        return any((data_root() / "heads").glob("rocketbox_male*.blendshapes.npz"))
    except Exception:  # noqa: BLE001
        return False


pytestmark = pytest.mark.skipif(not _heads_available(), reason="needs DATA/heads (FACERIG_DATA)")


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """Near-frontal renders (160 px, RGBA + normal maps) of the held-out Rocketbox male: neutral, jawOpen."""
    from facerig.data import renders

    head = renders.author_heads("rocketbox_male*")[0]
    W = np.zeros((2, 52), np.float32)
    W[1, JAW] = 1.0
    cfg = renders.RenderConfig(size=160, yaw=2, pitch=2, roll=1, shift=0.0, face_fraction=(0.7, 0.7), fov=(25, 25))
    out = renders.render_head(head, W, np.random.default_rng(0), cfg)
    d = tmp_path_factory.mktemp("frames")
    (d / "rgb").mkdir()
    (d / "nrm").mkdir()
    for i, name in enumerate(("f1_neutral", "f2_jaw")):
        write_png(d / "rgb" / f"{name}.png", np.dstack([out["rgb"][i], out["mask"][i]]))
        write_png(d / "nrm" / f"{name}.png", out["normals"][i])
    return d


def _run(args, capsys):
    rc = main(["invert-image", *map(str, args)])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_one_image_json_reads_the_expression(frames, tmp_path, capsys):
    rc, out, err = _run(
        [frames / "rgb" / "f2_jaw.png", "--normals", frames / "nrm" / "f2_jaw.png", "-o", tmp_path / "w.json"], capsys
    )
    assert rc == 0, err
    doc = json.loads((tmp_path / "w.json").read_text())
    assert doc["modalities"] == "rgb+normals" and list(doc["weights"]) == list(ARKIT52)
    assert not doc["low_confidence"] and doc["head_probability"] > 0.5
    rc, out, _ = _run([frames / "rgb" / "f1_neutral.png", "--normals", frames / "nrm" / "f1_neutral.png"], capsys)
    neutral = json.loads(out)
    assert doc["weights"]["jawOpen"] > neutral["weights"]["jawOpen"] + 0.3


def test_no_calibration_reads_the_raw_weights(frames, capsys):
    """The shipped calibration sends the small readings of a neutral frame to (nearly) 0; --no-calibration keeps
    the network's own."""
    args = [frames / "rgb" / "f1_neutral.png", "--normals", frames / "nrm" / "f1_neutral.png"]
    rc, out, err = _run(args, capsys)
    assert rc == 0, err
    cal = np.array(list(json.loads(out)["weights"].values()))
    rc, out, err = _run([*args, "--no-calibration"], capsys)
    assert rc == 0, err
    raw = np.array(list(json.loads(out)["weights"].values()))
    assert cal.sum() < raw.sum() and (cal < 0.01).sum() > (raw < 0.01).sum()


def test_no_tta_reads_the_mirror_reading_alone(frames, capsys):
    """The shipped weights file's test-time views change the weights, not the head probability; --no-tta gives the
    plain mirror reading of the API."""
    from facerig.models.image_inversion.infer import invert_image_files
    from facerig.models.image_inversion.weights import load_model

    if load_model().tta is None:
        pytest.skip("the shipped weights have no test-time augmentation")
    rgb, nrm = frames / "rgb" / "f2_jaw.png", frames / "nrm" / "f2_jaw.png"
    rc, out, err = _run([rgb, "--normals", nrm], capsys)
    assert rc == 0, err
    tta = json.loads(out)
    rc, out, err = _run([rgb, "--normals", nrm, "--no-tta"], capsys)
    assert rc == 0, err
    plain = json.loads(out)
    api = invert_image_files([rgb], [nrm], tta=False).as_dicts()[0]
    assert plain["weights"] == api["weights"] and plain["weights"] != tta["weights"]
    assert plain["head_probability"] == tta["head_probability"]
    assert tta["weights"]["jawOpen"] > 0.5 and plain["weights"]["jawOpen"] > 0.5


@pytest.mark.parametrize("modality", ["rgb", "normals"])
def test_folder_to_csv_with_one_modality(frames, tmp_path, capsys, modality):
    args = [frames / "rgb"] if modality == "rgb" else ["-", "--normals", frames / "nrm"]
    rc, _, err = _run([*args, "-o", tmp_path / "w.csv"], capsys)
    assert rc == 0, err
    take = read_take(tmp_path / "w.csv")
    assert take.num_frames == 2  # f1 before f2
    assert take.weights[1, JAW] > take.weights[0, JAW] + 0.2


def test_no_head_is_flagged(tmp_path, capsys):
    rng = np.random.default_rng(0)
    write_png(tmp_path / "noise.png", rng.uniform(0, 1, (64, 80, 3)))
    rc, out, err = _run([tmp_path / "noise.png"], capsys)
    assert rc == 0 and json.loads(out)["low_confidence"] is True
    assert "no head found" in err


def test_no_head_frame_is_neutral_in_a_csv(frames, tmp_path, capsys):
    """A CSV has no flag column: the head-free frame is written neutral, the head frame as read."""
    import shutil

    d = tmp_path / "mixed"
    d.mkdir()
    shutil.copy(frames / "rgb" / "f2_jaw.png", d / "f1_jaw.png")
    write_png(d / "f2_noise.png", np.random.default_rng(0).uniform(0, 1, (160, 160, 3)))
    rc, out, err = _run([d, "-o", tmp_path / "w.json"], capsys)
    assert rc == 0, err
    raw = json.loads((tmp_path / "w.json").read_text())["frames"]
    assert [f["low_confidence"] for f in raw] == [False, True]
    assert max(raw[1]["weights"].values()) > 0  # the JSON keeps the untrusted weights next to the flag
    rc, _, err = _run([d, "-o", tmp_path / "w.csv"], capsys)
    assert rc == 0 and "written neutral" in err and "f2_noise.png" in err
    take = read_take(tmp_path / "w.csv")
    assert np.all(take.weights[1] == 0)
    assert take.weights[0, JAW] == pytest.approx(raw[0]["weights"]["jawOpen"], abs=1e-3)


def test_bad_input_one_line_errors(frames, tmp_path, capsys):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "junk.jpg").write_bytes(b"\xff\xd8 broken")
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 64)
    write_png(tmp_path / "small.png", np.zeros((10, 12, 3)))
    write_png(tmp_path / "gray_n.png", np.zeros((160, 160)))
    cases = [
        ([tmp_path / "none.png"], "not found"),
        ([tmp_path / "empty.png"], "empty"),
        ([tmp_path / "junk.jpg"], "not a readable image"),
        ([tmp_path / "clip.mp4"], "video"),
        ([tmp_path / "small.png", "--normals", frames / "nrm" / "f2_jaw.png"], "same size"),
        (["-", "--normals", tmp_path / "gray_n.png"], "grayscale"),
        (["-"], "give an RGB image"),
        ([frames / "rgb", "-o", tmp_path / "w.txt"], "use .json or .csv"),
        ([tmp_path / "small.png", "--weights", tmp_path / "none.npz"], "weights not found"),
    ]
    for args, msg in cases:
        rc, out, err = _run(args, capsys)
        assert rc == 2, (args, err)
        assert err.count("\n") == 1 and err.startswith("error:") and msg in err, (args, err)

"""``facerig animate``: takes drive a rig into an animated GLB or a mesh sequence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from facerig.cli import main
from facerig.io.gltf import _read_accessor, _read_document, save_rig_gltf
from facerig.io.obj import read_obj
from facerig.io.rig import Rig, load_rig, save_rig

DATA = Path(__file__).resolve().parents[1] / "data_files"
NAMES = ["jawOpen", "eyeBlinkLeft", "mouthLeft", "eyeBlinkRight"]


@pytest.fixture
def rig_npz(tmp_path, head_arrays) -> Path:
    v, f = head_arrays
    rng = np.random.default_rng(3)
    d = (rng.normal(size=(len(NAMES), len(v), 3)) * 0.05).astype(np.float32)
    path = tmp_path / "rig.npz"
    save_rig(path, Rig(names=NAMES, deltas=d, neutral=v, faces=f, meta={"units": "cm"}))
    return path


def sampler(path: Path):
    doc, bufs = _read_document(path)
    smp = doc["animations"][0]["samplers"][0]
    times = _read_accessor(doc, bufs, smp["input"]).ravel()
    values = _read_accessor(doc, bufs, smp["output"]).reshape(len(times), -1)
    return doc, times, values


def test_livelink_to_glb(tmp_path, rig_npz, capsys):
    out = tmp_path / "anim.glb"
    assert main(["animate", str(rig_npz), "--weights", str(DATA / "livelink_5frames.csv"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "livelinkface, 5 frames, 60 fps" in printed and "HeadYaw" in printed
    doc, times, values = sampler(out)
    np.testing.assert_allclose(times, np.arange(5) / 60, atol=1e-6)
    assert values.shape == (5, 4)
    np.testing.assert_allclose(values[:, 0], [0.1, 0.2, 0.3, 0.4, 0.5], rtol=1e-6)  # jawOpen
    np.testing.assert_allclose(values[:, 1], [0, 0.25, 0.5, 0.75, 1.0])  # eyeBlinkLeft
    np.testing.assert_allclose(values[:, 2], 0.3, rtol=1e-6)  # mouthLeft
    assert doc["animations"][0]["samplers"][0]["interpolation"] == "LINEAR"
    assert doc["animations"][0]["channels"][0]["target"]["path"] == "weights"
    assert doc["meshes"][0]["extras"]["targetNames"] == NAMES


def test_swap_mouth_and_fps_and_step(tmp_path, rig_npz):
    out = tmp_path / "swap.glb"
    assert (
        main(
            [
                "animate",
                str(rig_npz),
                "-w",
                str(DATA / "livelink_5frames.csv"),
                "-o",
                str(out),
                "--swap-mouth-lr",
                "--fps",
                "30",
                "--interpolation",
                "step",
                "-q",
            ]
        )
        == 0
    )
    doc, times, values = sampler(out)
    np.testing.assert_allclose(times, np.arange(5) / 30, atol=1e-6)
    np.testing.assert_allclose(values[:, 2], 0.0)  # mouthLeft now reads the MouthRight column
    assert doc["animations"][0]["samplers"][0]["interpolation"] == "STEP"


def test_obj_sequence_is_neutral_plus_weighted_deltas(tmp_path, rig_npz):
    out = tmp_path / "frames"
    assert main(["animate", str(rig_npz), "-w", str(DATA / "named_variants.csv"), "-o", str(out) + "/", "-q"]) == 0
    files = sorted(out.glob("frame_*.obj"))
    assert [f.name for f in files] == [f"frame_{i:04d}.obj" for i in range(4)]
    rig = load_rig(rig_npz)
    W = np.array([[0.0, 0.0, 0, 0.1], [0.25, 0.5, 0, 0.6], [0.5, 1.0, 0, 1.0], [0.75, 0.5, 0, 0.6]])
    for t, f in enumerate(files):
        m = read_obj(f)
        expected = rig.neutral + np.tensordot(W[t], rig.deltas.astype(np.float64), axes=1)
        np.testing.assert_allclose(m.vertices, expected, atol=1e-12)
        np.testing.assert_array_equal(m.faces, rig.faces)


def test_glb_rig_to_ply_sequence(tmp_path, rig_npz):
    import trimesh

    rig = load_rig(rig_npz)
    glb = tmp_path / "rig.glb"
    save_rig_gltf(glb, rig)
    out = tmp_path / "ply"
    assert (
        main(["animate", str(glb), "-w", str(DATA / "mediapipe_3frames.json"), "-o", str(out), "--format", "ply", "-q"])
        == 0
    )
    files = sorted(out.glob("*.ply"))
    assert len(files) == 3
    m = trimesh.load(files[2], process=False)
    # frame 2: jawOpen 1.0, eyeBlinkRight 0.6, eyeBlinkLeft 0.009, mouthLeft 0.033 (index * 0.001)
    W = np.array([1.0, 0.009, 0.033, 0.6])
    expected = rig.neutral + np.tensordot(W, rig.deltas.astype(np.float64), axes=1)
    np.testing.assert_allclose(m.vertices, expected, atol=1e-5)  # glb stores float32
    assert len(m.vertices) == rig.num_vertices


def test_glb_output_from_glb_rig_keeps_extras(tmp_path, rig_npz):
    glb = tmp_path / "rig.glb"
    save_rig_gltf(glb, load_rig(rig_npz))
    out = tmp_path / "anim.gltf"
    assert main(["animate", str(glb), "-w", str(DATA / "mediapipe_3frames.json"), "-o", str(out), "-q"]) == 0
    doc = json.loads(out.read_text())
    ex = doc["animations"][0]["extras"]
    assert ex["format"] == "mediapipe" and ex["missingShapes"] == ["tongueOut"]
    assert doc["asset"]["extras"]["facerig"]["units"] == "cm"


@pytest.mark.parametrize(
    "take,extra,match",
    [
        ("nan.csv", [], "line 3, column 'eyeBlinkLeft'"),
        ("named_variants.csv", ["--strict"], "unknown columns (--strict): confidence"),
        ("empty.json", [], "empty take"),
        ("missing.csv", [], "no such take file"),
    ],
)
def test_failures_are_one_line(tmp_path, rig_npz, capsys, take, extra, match):
    (tmp_path / "nan.csv").write_text("jawOpen,eyeBlinkLeft\n0.1,0.2\n0.3,NaN\n")
    (tmp_path / "empty.json").write_text("[]")
    src = DATA / take if (DATA / take).exists() else tmp_path / take
    rc = main(["animate", str(rig_npz), "-w", str(src), "-o", str(tmp_path / "o.glb"), *extra])
    err = capsys.readouterr().err
    assert rc == 2 and match in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.glb").exists()


def test_rig_and_output_errors(tmp_path, rig_npz, capsys):
    take = str(DATA / "named_variants.csv")
    assert main(["animate", str(tmp_path / "none.npz"), "-w", take, "-o", str(tmp_path / "o.glb")]) == 2
    assert "no such rig file" in capsys.readouterr().err
    assert main(["animate", str(rig_npz), "-w", take, "-o", str(tmp_path / "o.fbx")]) == 2
    assert "use a .glb/.gltf file or a folder/" in capsys.readouterr().err
    (tmp_path / "r.txt").write_text("x")
    assert main(["animate", str(tmp_path / "r.txt"), "-w", take, "-o", str(tmp_path / "o.glb")]) == 2
    assert "unknown rig format" in capsys.readouterr().err
    # a rig lacking shapes the take drives: noted, and an error with --strict
    assert (
        main(
            [
                "animate",
                str(rig_npz),
                "-w",
                str(DATA / "livelink_5frames.csv"),
                "-o",
                str(tmp_path / "o.glb"),
                "--strict",
            ]
        )
        == 2
    )
    assert "the take drives shapes the rig lacks" in capsys.readouterr().err


def test_help_explains_swap(capsys):
    with pytest.raises(SystemExit):
        main(["animate", "--help"])
    out = capsys.readouterr().out
    assert "--swap-mouth-lr" in out and "mirrored" in out


def test_output_that_is_an_input_is_refused_before_any_work(tmp_path, rig_npz, capsys):
    take = tmp_path / "take.csv"
    take.write_bytes((DATA / "livelink_5frames.csv").read_bytes())
    glb = tmp_path / "head.glb"
    assert main(["animate", str(rig_npz), "-w", str(take), "-o", str(glb)]) == 0
    before = (glb.read_bytes(), glb.stat().st_mtime_ns)
    capsys.readouterr()
    for out, match in [
        (glb, "is the input"),
        (tmp_path, "contains the input"),
        (tmp_path / ".." / tmp_path.name, "contains the input"),
    ]:
        assert main(["animate", str(glb), "-w", str(take), "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert match in err and len(err.strip().splitlines()) == 1, err
    assert (glb.read_bytes(), glb.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["head.glb", "rig.npz", "take.csv"]


def test_obj_folder_rig_and_outputs_inside_it(tmp_path, rig_npz, capsys):
    from facerig.io.objset import save_rig_obj_folder

    folder = tmp_path / "rig_objs"
    save_rig_obj_folder(folder, load_rig(rig_npz))
    take = str(DATA / "livelink_5frames.csv")
    assert main(["animate", str(folder), "-w", take, "-o", str(folder / "frames")]) == 2
    assert "inside the input folder" in capsys.readouterr().err
    assert main(["animate", str(folder), "-w", take, "-o", str(tmp_path / "frames")]) == 0
    assert len(list((tmp_path / "frames").glob("frame_*.obj"))) == 5


def test_unwritable_output_is_refused_before_reading_anything(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    take = str(DATA / "livelink_5frames.csv")
    # the rig does not even exist: the output is checked first
    assert main(["animate", str(tmp_path / "none.npz"), "-w", take, "-o", str(tmp_path / "file.txt" / "o.glb")]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and len(err.strip().splitlines()) == 1
    assert main(["animate", str(tmp_path / "none.npz"), "-w", take, "-o", str(tmp_path / "file.txt" / "f/")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err

"""Face-tracking take readers (facerig.io.takes): Live Link Face CSV, MediaPipe / ARKit JSON, named CSV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from facerig.arkit import ARKIT52
from facerig.errors import FacerigError
from facerig.io.takes import read_take, timecodes_to_seconds

DATA = Path(__file__).resolve().parents[1] / "data_files"
A = ARKIT52.index


def test_live_link_face_csv():
    t = read_take(DATA / "livelink_5frames.csv")
    assert t.format == "livelinkface" and t.weights.shape == (5, 52)
    # columns matched by name: the file has JawRight before JawLeft and MouthRight before MouthLeft
    np.testing.assert_allclose(t.weights[:, A("eyeBlinkLeft")], [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(t.weights[:, A("jawOpen")], [0.1, 0.2, 0.3, 0.4, 0.5])
    np.testing.assert_allclose(t.weights[:, A("mouthLeft")], 0.3)
    np.testing.assert_allclose(t.weights[:, A("mouthRight")], 0.0)
    # 57, 58, 59 | rollover | 00, 01 at 60 fps (subframe .816 is constant)
    np.testing.assert_allclose(t.times, np.arange(5) / 60, atol=1e-9)
    assert t.fps == pytest.approx(60.0)
    assert t.missing == [] and t.unknown == []
    assert set(t.extra) == {
        "HeadYaw",
        "HeadPitch",
        "HeadRoll",
        "LeftEyeYaw",
        "LeftEyePitch",
        "LeftEyeRoll",
        "RightEyeYaw",
        "RightEyePitch",
        "RightEyeRoll",
    }
    np.testing.assert_allclose(t.extra["HeadYaw"], [0, 0.05, 0.1, 0.15, 0.2])
    assert any("rotation columns not applied" in n for n in t.notes)


def test_fps_override_and_swap():
    t = read_take(DATA / "livelink_5frames.csv", fps=30)
    np.testing.assert_allclose(t.times, np.arange(5) / 30)
    t.swap_mouth_lr()
    np.testing.assert_allclose(t.weights[:, A("mouthRight")], 0.3)
    np.testing.assert_allclose(t.weights[:, A("mouthLeft")], 0.0)


def test_timecode_rate_without_rollover():
    s, note = timecodes_to_seconds(["00:00:01:10.0", "00:00:01:11.0", "00:00:01:12.5"])
    assert "assumed" in note  # max frame 12 -> smallest standard rate above: 24
    np.testing.assert_allclose(s - s[0], [0, 1 / 24, 2.5 / 24])
    s, note = timecodes_to_seconds(["00:00:00:29", "00:00:01:00", "00:00:01:01"])
    assert "30" in note
    np.testing.assert_allclose(s - s[0], [0, 1 / 30, 2 / 30])
    with pytest.raises(FacerigError, match="bad timecode"):
        timecodes_to_seconds(["12:00"])


def test_mediapipe_json():
    t = read_take(DATA / "mediapipe_3frames.json")
    assert t.format == "mediapipe" and t.weights.shape == (3, 52)
    np.testing.assert_allclose(t.weights[:, A("jawOpen")], [0, 0.5, 1.0])
    np.testing.assert_allclose(t.weights[:, A("eyeBlinkRight")], [0.2, 0.4, 0.6])
    np.testing.assert_allclose(t.times, [0, 0.04, 0.08])  # timestamp_ms
    assert t.missing == ["tongueOut"] and t.unknown == []  # _neutral silently ignored


def test_named_csv_case_variants():
    t = read_take(DATA / "named_variants.csv")
    assert t.format == "csv"
    np.testing.assert_allclose(t.weights[:, A("eyeBlinkLeft")], [0, 0.5, 1.0, 0.5])
    np.testing.assert_allclose(t.weights[:, A("eyeBlinkRight")], [0.1, 0.6, 1.0, 0.6])
    np.testing.assert_allclose(t.weights[:, A("jawOpen")], [0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(t.weights[:, A("mouthSmileLeft")], [0.2, 0.3, 0.4, 0.5])
    np.testing.assert_allclose(t.weights[:, A("mouthSmileRight")], [0.2, 0.3, 0.4, 0.5])
    assert t.unknown == ["confidence"] and len(t.missing) == 47
    assert t.fps == pytest.approx(25.0)
    with pytest.raises(FacerigError, match=r"unknown columns \(--strict\): confidence"):
        read_take(DATA / "named_variants.csv", strict=True)


@pytest.mark.parametrize(
    "frames,expected",
    [
        ([{"jawOpen": 0.5}, {"jawOpen": 1.0}], [0.5, 1.0]),
        ({"fps": 30, "frames": [{"JawOpen": 0.2}, {"JawOpen": 0.4}]}, [0.2, 0.4]),
        (
            [{"time": 0.0, "blendshapes": {"jaw_open": 0.1}}, {"time": 0.5, "blendshapes": {"jaw_open": 0.2}}],
            [0.1, 0.2],
        ),
        ([[{"categoryName": "jawOpen", "score": 0.3}], [{"categoryName": "jawOpen", "score": 0.6}]], [0.3, 0.6]),
    ],
)
def test_json_variants(tmp_path, frames, expected):
    p = tmp_path / "t.json"
    p.write_text(json.dumps(frames))
    t = read_take(p)
    np.testing.assert_allclose(t.weights[:, A("jawOpen")], expected)
    if isinstance(frames, dict):
        np.testing.assert_allclose(t.times, [0, 1 / 30])
        assert t.fps == pytest.approx(30)
    elif isinstance(frames[0], dict) and "time" in frames[0]:
        np.testing.assert_allclose(t.times, [0, 0.5])


def test_clamping_note_and_strict(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("jawOpen,eyeBlinkLeft\n1.2,0.5\n-0.1,0.5\n")
    t = read_take(p)
    np.testing.assert_allclose(t.weights[:, A("jawOpen")], [1.0, 0.0])
    assert any("2 weight(s) outside [0, 1] clamped" in n for n in t.notes)
    with pytest.raises(FacerigError, match=r"line 2, jawOpen: weight 1.2 outside \[0, 1\] \(--strict\)"):
        read_take(p, strict=True)
    assert any("assuming 60 fps" in n for n in t.notes)


@pytest.mark.parametrize(
    "content,match",
    [
        ("jawOpen,eyeBlinkLeft\n0.1,0.2\n0.3,nan\n", r"line 3, column 'eyeBlinkLeft': 'nan' \(NaN"),
        ("jawOpen,eyeBlinkLeft\n0.1,0.2\n0.3,\n", r"line 3, column 'eyeBlinkLeft': empty value"),
        ("jawOpen,eyeBlinkLeft\n0.1,abc\n", r"line 2, column 'eyeBlinkLeft': 'abc' is not a number"),
        ("jawOpen,eyeBlinkLeft\n", r"empty take \(a header but no frames\)"),
        ("", r"empty take \(no frames\)"),
        ("foo,bar\n1,2\n", r"no ARKit blendshape columns"),
        ("jawOpen,JawOpen\n1,2\n", r"columns 'jawOpen' and 'JawOpen' are both jawOpen"),
        ("time,jawOpen\n0.1,0.2\n0.1,0.3\n", r"line 3: time does not increase"),
    ],
)
def test_csv_failures(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(FacerigError, match=match):
        read_take(p)


@pytest.mark.parametrize(
    "content,match",
    [
        ("[]", r"empty take"),
        ('{"fps": 30, "frames": []}', r"empty take"),
        ('{"fps": 30}', r"without 'frames'"),
        ('[{"jawOpen": 0.1}, {"jawOpen": null}]', r"frame 1, 'jawOpen': None is not a finite number"),
        ('[{"jawOpen": 0.1}, {"eyeBlinkLeft": 0.1}]', r"frame 0: 'eyeBlinkLeft' missing"),
        ('[{"jawOpen": 0.1', r"invalid JSON at line 1"),
        ("[1, 2]", r"frame 0: expected an object or a list"),
    ],
)
def test_json_failures(tmp_path, content, match):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(FacerigError, match=match):
        read_take(p)


def test_file_errors(tmp_path):
    with pytest.raises(FacerigError, match="no such take file"):
        read_take(tmp_path / "nope.csv")
    with pytest.raises(FacerigError, match="is a folder"):
        read_take(tmp_path)
    with pytest.raises(FacerigError, match="--fps must be a positive"):
        read_take(DATA / "named_variants.csv", fps=0)


def test_for_rig_matches_names():
    t = read_take(DATA / "livelink_5frames.csv")
    W, unmatched, absent = t.for_rig(["eyeBlink_L", "JawOpen", "cheekRaiser_L"])
    np.testing.assert_allclose(W[:, 0], [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(W[:, 1], [0.1, 0.2, 0.3, 0.4, 0.5])
    np.testing.assert_allclose(W[:, 2], 0)
    assert unmatched == ["cheekRaiser_L"] and "mouthLeft" in absent and "jawOpen" not in absent


# ----------------------------------------------------------------------------- MediaPipe Tasks layouts


def _categories(scores: dict[str, float], snake: bool = False) -> list[dict]:
    """A FaceLandmarker category list: _neutral first, then the given shapes (index = MediaPipe's)."""
    from facerig.io.takes import MEDIAPIPE_ORDER

    out = []
    for name, score in {"_neutral": 0.9, **scores}.items():
        if snake:
            out.append(
                {"index": MEDIAPIPE_ORDER.index(name), "score": score, "category_name": name, "display_name": ""}
            )
        else:
            out.append({"index": MEDIAPIPE_ORDER.index(name), "score": score, "categoryName": name, "displayName": ""})
    return out


def _js_result(jaw: float, blink: float) -> dict:
    return {
        "faceBlendshapes": [
            {"categories": _categories({"jawOpen": jaw, "eyeBlinkLeft": blink}), "headIndex": -1, "headName": ""}
        ],
        "faceLandmarks": [[{"x": 0.5, "y": 0.5, "z": 0.0}]],
        "facialTransformationMatrixes": [],
    }


def _py_result(jaw: float, blink: float) -> dict:
    return {
        "face_landmarks": [[{"x": 0.5, "y": 0.5, "z": 0.0}]],
        "face_blendshapes": [_categories({"jawOpen": jaw, "eyeBlinkLeft": blink}, snake=True)],
        "facial_transformation_matrixes": [],
    }


def _write(tmp_path: Path, doc) -> Path:
    p = tmp_path / "mp.json"
    p.write_text(json.dumps(doc))
    return p


def test_mediapipe_order_is_the_models():
    from facerig.io.takes import MEDIAPIPE_ORDER

    assert len(MEDIAPIPE_ORDER) == 52 and MEDIAPIPE_ORDER[0] == "_neutral"
    assert MEDIAPIPE_ORDER[9:11] == ("eyeBlinkLeft", "eyeBlinkRight") and MEDIAPIPE_ORDER[25] == "jawOpen"
    assert MEDIAPIPE_ORDER[-1] == "noseSneerRight"


@pytest.mark.parametrize("result", [_js_result, _py_result], ids=["js", "python"])
def test_mediapipe_tasks_one_result_is_one_frame(tmp_path, result):
    t = read_take(_write(tmp_path, result(0.25, 0.75)))
    assert t.format == "mediapipe" and t.weights.shape == (1, 52)
    assert t.weights[0, A("jawOpen")] == 0.25 and t.weights[0, A("eyeBlinkLeft")] == 0.75
    assert t.unknown == []  # _neutral ignored


@pytest.mark.parametrize("result", [_js_result, _py_result], ids=["js", "python"])
def test_mediapipe_tasks_list_of_results(tmp_path, result):
    t = read_take(_write(tmp_path, [result(0.1, 0.0), result(0.2, 0.5), result(0.3, 1.0)]))
    np.testing.assert_allclose(t.weights[:, A("jawOpen")], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(t.weights[:, A("eyeBlinkLeft")], [0.0, 0.5, 1.0])
    assert any("assuming 60 fps" in n for n in t.notes)


@pytest.mark.parametrize("layout", ["js", "python"])
def test_mediapipe_tasks_timestamps_give_frame_times(tmp_path, layout):
    if layout == "js":
        doc = [
            {"timestampMs": 1000 + 40 * k, "faceBlendshapes": _js_result(0.1 * k, 0)["faceBlendshapes"]}
            for k in range(4)
        ]
    else:
        doc = [
            {"timestamp_ms": 1000 + 40 * k, "face_blendshapes": _py_result(0.1 * k, 0)["face_blendshapes"]}
            for k in range(4)
        ]
    t = read_take(_write(tmp_path, doc))
    np.testing.assert_allclose(t.times, [0, 0.04, 0.08, 0.12])
    assert t.fps == pytest.approx(25.0)
    np.testing.assert_allclose(t.weights[:, A("jawOpen")], [0, 0.1, 0.2, 0.3])


def test_mediapipe_unnamed_categories_use_the_model_index(tmp_path):
    cats = [{"index": 25, "score": 0.4}, {"index": 0, "score": 0.9}]
    t = read_take(_write(tmp_path, {"faceBlendshapes": [{"categories": cats}]}))
    assert t.weights[0, A("jawOpen")] == 0.4


@pytest.mark.parametrize(
    "doc,match",
    [
        ([_js_result(0.1, 0), {"timestampMs": 5, "faceBlendshapes": []}], r"frame 1: no face in this frame"),
        ([{"timestampMs": 0, **_js_result(0.1, 0)}, _js_result(0.2, 0)], r"frame 1 lacks a timestamp but frame 0 does"),
        ([{"timestampMs": "soon", **_js_result(0.1, 0)}], r"frame 0, 'timestampMs': 'soon' is not a finite number"),
        ({"faceBlendshapes": [{"categories": [{"score": 0.1}]}]}, r"frame 0: a category without categoryName"),
        ([{"jawOpen": 10**400}], r"frame 0, 'jawOpen': 1000.*is not a finite number"),
        ({"fps": 10**400, "frames": [{"jawOpen": 0.5}, {"jawOpen": True}]}, r"frame 1, 'jawOpen': True is not"),
        ([{"jawOpen": 0.5, "HeadYaw": "left"}], r"frame 0, 'HeadYaw': 'left' is not a number"),
    ],
)
def test_mediapipe_and_json_damage(tmp_path, doc, match):
    with pytest.raises(FacerigError, match=match) as e:
        read_take(_write(tmp_path, doc))
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_is_one_line(tmp_path, depth):
    p = tmp_path / "deep.json"
    p.write_text("[" * depth + "]" * depth)
    with pytest.raises(FacerigError) as e:
        read_take(p)
    assert "\n" not in str(e.value) and str(e.value).startswith(str(p))


@pytest.mark.parametrize(
    "content,match",
    [
        (
            "Timecode,BlendShapeCount,JawOpen,HeadYaw\n00:00:00:01.0,52,0.1,0.2\n00:00:00:02.0,52,0.2,left\n",
            r"line 3, column 'HeadYaw': 'left' is not a number",
        ),
        (
            "Timecode,BlendShapeCount,JawOpen,HeadYaw\n00:00:00:01.0,52,0.1,inf\n",
            r"line 2, column 'HeadYaw': 'inf' \(NaN / infinite rotations are errors\)",
        ),
        ("time,jawOpen\n0.0,0.1\nsoon,0.2\n", r"line 3, column 'time': 'soon' is not a number"),
        ("frame,jawOpen\n0,0.1\n1.5e999,0.2\n", r"line 3, column 'frame'"),
        ('jawOpen,eyeBlinkLeft\n0.1,0.2\n0.3,"' + "x" * 200_000 + '"\n', r"line \d+: not a readable CSV row"),
    ],
)
def test_csv_non_numeric_cells_name_row_and_column(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(FacerigError, match=match) as e:
        read_take(p)
    assert "\n" not in str(e.value)


def test_empty_rotation_cell_is_kept_as_nan(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("Timecode,BlendShapeCount,JawOpen,HeadYaw\n00:00:00:01.0,52,0.1,\n00:00:00:02.0,52,0.2,0.3\n")
    t = read_take(p)
    assert np.isnan(t.extra["HeadYaw"][0]) and t.extra["HeadYaw"][1] == 0.3


def test_take_file_size_limit(tmp_path, monkeypatch):
    p = tmp_path / "t.json"
    p.write_text(json.dumps([{"jawOpen": 0.5}] * 50))
    monkeypatch.setenv("FACERIG_MAX_FILE_BYTES", "100")
    with pytest.raises(FacerigError, match="over the limit of 100"):
        read_take(p)


@pytest.mark.parametrize(
    "doc,match",
    [
        (
            {"fps": 1e-320, "frames": [{"jawOpen": 0.1}, {"jawOpen": 0.2}]},
            r"'fps' 9.99989e-321 is not a plausible frame rate",
        ),
        ([{"t": 0, "jawOpen": 0.1}, {"t": 1e-320, "jawOpen": 0.2}], r"frame times give inf fps, not a plausible"),
        ([{"t": -1e308, "jawOpen": 0.1}, {"t": 1e308, "jawOpen": 0.2}], r"frame times out of range"),
    ],
)
def test_implausible_frame_times(tmp_path, doc, match):
    with pytest.raises(FacerigError, match=match):
        read_take(_write(tmp_path, doc))
    with pytest.raises(FacerigError, match="--fps 1e-09 is not a plausible frame rate"):
        read_take(_write(tmp_path, doc), fps=1e-9)


def test_column_names_in_messages_stay_on_one_line(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text('"a\nb",c\n1,2\n')
    with pytest.raises(FacerigError, match=r"no ARKit blendshape columns found \(columns: a\\nb, c\)") as e:
        read_take(p)
    assert "\n" not in str(e.value)
    with pytest.raises(FacerigError, match=r"bad timecode"):
        timecodes_to_seconds(["00:00:00:" + "9" * 400])

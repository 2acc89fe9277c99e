"""facerig.eval.check: the no-ground-truth audit on a small synthetic head with known faults."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from facerig.errors import FacerigError
from facerig.eval import check as C
from facerig.geometry.face_parts import find_layout
from facerig.io.rig import Rig, save_rig
from fixtures.face_plate import EYES, HOLE, MOUTH_W, MOUTH_Y, synthetic_head  # noqa: F401


def good_rig() -> Rig:
    v, f, ix = synthetic_head()
    names = ["eyeBlinkLeft", "eyeBlinkRight", "jawOpen", "mouthClose", "eyeLookUpLeft", "eyeLookUpRight"]
    d = np.zeros((len(names), len(v), 3))
    for k, lid in enumerate(ix["lids"]):
        d[k, lid, 1] = -2 * HOLE[1]  # the lid row comes down over the opening
    d[2, ix["lower"], 1] = -0.5 * ix["jaw"]  # jaw drops 0.5 = a quarter of the eye distance
    d[3, ix["lower"], 1] = 0.5 * ix["jaw"]  # mouthClose on top of jawOpen brings the lower lip back
    for k, (a, b) in zip((4, 5), ix["balls"]):
        c = v[a:b].mean(0)
        rot = trimesh.transformations.rotation_matrix(0.3, [1, 0, 0])[:3, :3]
        d[k, a:b] = (v[a:b] - c) @ rot.T + c - v[a:b]  # eyes look up: a rigid rotation
    return Rig(names=names, deltas=d, neutral=v, faces=f)


def _status(res, check, shape=None):
    rows = [r for r in res["rows"] if r["check"] == check and (shape is None or r["shape"] == shape)]
    assert rows, (check, shape)
    return rows[0]


def test_good_rig_passes():
    res = C.check_rig(good_rig())
    assert res["passed"], [r for r in res["rows"] if r["status"] == "fail"]
    assert _status(res, "eyelid_closure", "eyeBlinkLeft")["value"] > 0.95
    assert _status(res, "mouth_open", "jawOpen")["value"] == pytest.approx(0.25, abs=0.03)
    assert _status(res, "mouth_close", "mouthClose")["value"] > 0.9
    assert _status(res, "rigidity", "eyeLookUpLeft")["value"] < 1e-6
    assert _status(res, "mirror")["value"] < 1e-6
    assert 1.0 <= _status(res, "jaw_teeth")["value"] < 1.2  # teeth move as much as the chin (its 99th pct)
    assert _status(res, "rigidity", "jawOpen")["value"] < 1e-6  # the teeth translate
    assert "tongueOut" in res["missing"]


def test_faults_are_caught():
    rig = good_rig()
    ix_teeth = synthetic_head()[2]["teeth"]
    v = rig.neutral
    i = {n: k for k, n in enumerate(rig.names)}
    d = rig.deltas.astype(np.float64).copy()
    d[i["eyeBlinkRight"]] *= 0.2  # the right lid hardly moves
    d[i["mouthClose"]] = 0.0  # mouthClose does nothing
    lay = find_layout(v, rig.faces)
    a = np.flatnonzero(lay.labels == lay.eyeball_parts[0])
    d[i["eyeLookUpLeft"], a, 1] += 0.3 * (v[a, 1] - v[a, 1].mean())  # eyeball stretched, not rotated
    d[i["jawOpen"], ix_teeth] = 0.0  # the teeth stay behind when the jaw opens
    far = np.flatnonzero(v[:, 1] < -8.5)
    d[i["jawOpen"], far, 2] += 1.0  # the bottom of the plate moves with the jaw
    bad = Rig(rig.names, d, v, rig.faces)
    res = C.check_rig(bad)
    assert not res["passed"]
    assert _status(res, "eyelid_closure", "eyeBlinkRight")["status"] == "fail"
    assert _status(res, "eyelid_closure", "eyeBlinkLeft")["status"] == "pass"
    assert _status(res, "mouth_close", "mouthClose")["status"] == "fail"
    assert _status(res, "rigidity", "eyeLookUpLeft")["status"] == "fail"
    assert _status(res, "far_motion", "jawOpen")["status"] == "fail"
    assert _status(res, "jaw_teeth")["status"] == "fail"
    # |d - 0.2 d| / mean(|d|, |0.2 d|) = 1.33: the two sides no longer mirror each other
    assert _status(res, "mirror", "eyeBlinkLeft/eyeBlinkRight")["value"] == pytest.approx(4 / 3, abs=0.05)


def test_swapped_sides_and_tearing():
    rig = good_rig()
    i = {n: k for k, n in enumerate(rig.names)}
    d = rig.deltas.astype(np.float64).copy()
    d[[i["eyeBlinkLeft"], i["eyeBlinkRight"]]] = d[[i["eyeBlinkRight"], i["eyeBlinkLeft"]]]
    d[i["jawOpen"], 100, 2] = 5.0  # one vertex torn away
    res = C.check_rig(Rig(rig.names, d, rig.neutral, rig.faces))
    assert _status(res, "side", "eyeBlinkLeft")["status"] == "fail"
    assert _status(res, "side", "eyeBlinkLeft")["value"] < 0.01
    assert _status(res, "stretch", "jawOpen")["status"] == "fail"
    assert _status(res, "stretch", "eyeBlinkLeft")["status"] == "pass"


def test_closed_eyes_and_missing_shapes_are_na():
    rig = good_rig()
    v = rig.pose({"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0})  # a head sculpted with closed eyes
    keep = [k for k, n in enumerate(rig.names) if n != "mouthClose"]
    res = C.check_rig(Rig([rig.names[k] for k in keep], rig.deltas[keep], v, rig.faces))
    assert _status(res, "mouth_close")["status"] == "n/a"
    # the eyeballs are found, but not seen at neutral
    row = _status(res, "eyelid_closure", "eyeBlinkLeft")
    assert row["status"] == "n/a" and "closed at neutral" in row["note"]


def test_orientation_blender_axes():
    rig = good_rig()
    R = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # canonical -> Blender (+z up, -y forward)
    blender = Rig(rig.names, rig.deltas @ R.T, rig.neutral @ R.T, rig.faces)
    res = C.check_rig(blender, up="+z", forward="-y")
    assert res["passed"]
    assert _status(res, "mouth_open", "jawOpen")["value"] == pytest.approx(0.25, abs=0.03)


def test_read_rig_npz_variants(tmp_path):
    from facerig.io.obj import write_obj

    rig = good_rig()
    save_rig(tmp_path / "r.npz", rig)
    back = C._read_rig(tmp_path / "r.npz")
    assert back.names == rig.names and back.faces is not None
    # deltas only (a NAME.blendshapes.npz) + the head mesh; names matched to ARKit
    np.savez(
        tmp_path / "b.npz",
        names=np.array(["EyeBlinkLeft", "jawOpen"]),
        deltas=rig.deltas[:2].astype(np.float32),
        mm_per_unit=np.float64(10.0),
    )
    write_obj(tmp_path / "head.obj", rig.neutral, rig.faces)
    with pytest.raises(FacerigError, match="--head"):
        C._read_rig(tmp_path / "b.npz")
    b = C._read_rig(tmp_path / "b.npz", tmp_path / "head.obj")
    assert b.names == ["eyeBlinkLeft", "jawOpen"] and b.meta["mm_per_unit"] == 10.0
    np.testing.assert_allclose(b.neutral, rig.neutral, atol=1e-5)
    write_obj(tmp_path / "small.obj", np.eye(3), np.array([[0, 1, 2]]))
    with pytest.raises(FacerigError, match="vertices"):
        C._read_rig(tmp_path / "b.npz", tmp_path / "small.obj")
    with pytest.raises(FacerigError):
        C.check_rig(rig, checks=("nope",))
    with pytest.raises(FacerigError, match="ARKit"):
        C.check_rig(Rig(["foo"], rig.deltas[:1], rig.neutral, rig.faces))
    nan = rig.deltas.copy()
    nan[2, 5, 0] = np.nan
    with pytest.raises(FacerigError, match="jawOpen"):
        C.check_rig(Rig(rig.names, nan, rig.neutral, rig.faces))


def test_check_summary_for_eval():
    from facerig.eval.check import check_pass_rates, check_summary

    rig = good_rig()
    s = check_summary(Rig(rig.names, rig.deltas, rig.neutral), rig.faces)
    assert s["passed"] and "interpenetration" not in s["checks"]
    rates = check_pass_rates([{"check": s}, {"check": s}, {"status": "skipped"}])
    assert rates["eyelid_closure"] == {"pass": 2, "fail": 0, "na": 0, "pass_rate": 1.0}


def test_eval_runs_the_check(evalset):
    from facerig.eval.harness import evaluate

    r = evaluate(evalset, "zero", progress=False, interp=False)
    heads = [h for h in r["heads"] if h["status"] == "ok"]
    assert heads and all("checks" in h["check"] for h in heads)
    # the zero rig moves nothing: the jaw opens no gap on any head
    assert all(h["check"]["checks"]["mouth_open"]["status"] != "pass" for h in heads)
    assert set(r["check"]) == set(C.EVAL_CHECKS)
    off = evaluate(evalset, "zero", progress=False, interp=False, check=False)
    assert "check" not in off and all("check" not in h for h in off["heads"])


def test_lids_pushed_into_the_eyeball():
    from facerig.eval.check_contact import penetration_ratios

    rig = good_rig()
    v = rig.neutral
    lay = find_layout(v, rig.faces)
    ex, ey = EYES[0]
    plate = ~np.isin(lay.labels, lay.eyeball_parts)
    around = plate & (np.hypot(v[:, 0] - ex, v[:, 1] - ey) < 0.8)
    d = np.zeros((2, len(v), 3))
    d[0, around, 2] = -0.4  # the skin around the left eye sinks into the eyeball
    d[1, around, 2] = 0.4  # ...or moves away from it
    ratio, n = penetration_ratios(v, rig.faces, d, lay.labels, lay.eyeball_parts, lay.scale)
    assert n > 0 and ratio[1] == 0.0
    assert 0.3 < ratio[0] < 0.7  # the left eye's candidates, about half of all
    res = C.check_rig(Rig(["eyeSquintLeft", "eyeSquintRight"], d, v, rig.faces), checks=("interpenetration",))
    assert _status(res, "interpenetration", "eyeSquintLeft")["status"] == "fail"
    assert _status(res, "interpenetration", "eyeSquintRight")["status"] == "pass"


def _profile_rig(kind: str, jaw: str) -> Rig:
    """A swept-profile head (fixtures.profile_head) with jawOpen turning the jaw ("turn", and a
    mouthClose taking it back over the lips) or dropping both lips alike ("both")."""
    from facerig.geometry.jaw import jaw_weights, turn_deltas
    from facerig.geometry.mouth import find_mouth
    from fixtures.profile_head import LIP_Y, profile_head

    v, f, ns = profile_head(kind)
    d = np.zeros((2, len(v), 3))
    if jaw == "turn":
        lay = find_layout(v, f)
        w, lip, hinge = jaw_weights(v, f, lay, find_mouth(v, f, lay)[0])
        d[0] = turn_deltas(v, w, hinge, 0.4)
        d[1] = -lip[:, None] * d[0]
    else:
        d[0, (np.arange(len(v)) < ns) & (v[:, 1] < LIP_Y + 0.5), 1] = -0.3
    return Rig(names=["jawOpen", "mouthClose"], deltas=d, neutral=v, faces=f)


def test_mouth_of_a_fold_opens_and_closes():
    res = C.check_rig(_profile_rig("fold", "turn"), checks=("mouth_open", "mouth_close"))
    assert res["layout"]["mouth"]["found"] and res["layout"]["mouth"]["kind"] == "fold"
    assert _status(res, "mouth_open", "jawOpen")["status"] == "pass"
    assert _status(res, "mouth_close", "mouthClose")["value"] > 0.9
    # a jawOpen moving both lips alike leaves the fold closed
    res = C.check_rig(_profile_rig("fold", "both"), checks=("mouth_open", "mouth_close"))
    assert _status(res, "mouth_open", "jawOpen")["status"] == "fail"
    assert _status(res, "mouth_close")["status"] == "n/a"


@pytest.mark.parametrize("kind", ["notch", "none"])
def test_no_mouth_opening_is_na(kind):
    res = C.check_rig(_profile_rig(kind, "both"), checks=("mouth_open", "mouth_close"))
    for check in ("mouth_open", "mouth_close"):
        row = _status(res, check)
        assert row["status"] == "n/a" and row["note"].startswith("no mouth opening")
    assert not res["layout"]["mouth"]["found"]


def test_lip_tear_catches_lips_torn_into_spikes():
    """jawOpen dropping the lower lip evenly passes lip_tear; the same jawOpen with every other
    lower-lip vertex along the mouth left behind (spikes between the lips) fails it."""
    rig = good_rig()
    res = C.check_rig(rig, checks=("lip_tear",))
    row = _status(res, "lip_tear", "jawOpen")
    assert row["status"] == "pass" and row["value"] < 0.05
    v, f, ix = synthetic_head()
    lower = np.asarray(ix["lower"])
    lower = lower[np.abs(v[lower, 1] - v[lower, 1].max()) < 1e-6]  # the lower lip's edge row
    lower = lower[np.argsort(v[lower, 0])][1:-1:2]  # every other vertex along it
    d = rig.deltas.copy()
    d[rig.names.index("jawOpen"), lower] = 0.0
    res = C.check_rig(Rig(rig.names, d, rig.neutral, rig.faces), checks=("lip_tear",))
    row = _status(res, "lip_tear", "jawOpen")
    assert row["status"] == "fail" and row["value"] > 0.2


def test_folds_catch_a_patch_turned_over():
    rig = good_rig()
    res = C.check_rig(rig, checks=("folds",))
    assert _status(res, "folds", "jawOpen")["value"] == 0.0  # dropping the jaw turns nothing over
    assert _status(res, "folds", "mouthClose")["note"].endswith("(with jawOpen)")
    v, f = rig.neutral, rig.faces
    lay = find_layout(v, f)
    skin = np.flatnonzero(lay.labels == lay.skin)
    c = v[skin[np.argmin(np.linalg.norm(v[skin] - np.median(v[skin], 0), axis=1))]]
    patch = skin[np.linalg.norm(v[skin] - c, axis=1) < 0.6 * lay.scale]
    d = np.zeros((1, len(v), 3))
    d[0, patch, 0] = 2 * (c[0] - v[patch, 0])  # the patch mirrored across x = c_x: turned over
    bad = Rig(names=["cheekPuff"], deltas=d, neutral=v, faces=f)
    row = _status(C.check_rig(bad, checks=("folds",)), "folds", "cheekPuff")
    assert row["status"] == "fail" and row["value"] > C.THRESHOLDS["folds"][1]


def test_a_rig_of_a_body_is_checked_on_its_head():
    from facerig.data.bodies import on_body

    head = good_rig()
    bv, bf = on_body(head.neutral, head.faces, "body")
    d = np.zeros((len(head.names), len(bv), 3))
    d[:, : len(head.neutral)] = head.deltas
    res = C.check_rig(Rig(names=head.names, deltas=d, neutral=bv, faces=bf))
    body = res["layout"]["head_on_body"]
    assert body["of"] == len(bv) and body["vertices"] < len(head.neutral) and body["outside_motion"] == 0
    alone = C.check_rig(head)
    for check in ("eyelid_closure", "mouth_open", "mouth_close", "rigidity"):
        assert res["summary"][check]["status"] == alone["summary"][check]["status"] == "pass", check
    assert "head_on_body" not in alone["layout"]


def test_mirror_is_na_on_a_head_without_mirror_image():
    """Left and right are compared only where the head mirrors itself: a lopsided head gives n/a."""
    rig = good_rig()
    v = rig.neutral.astype(np.float64).copy()
    # the plate's right half shifted sideways by half its grid step (0.05 = 0.025 S, the eye distance
    # S = 2), the right eyeball up by as much: the vertices on the right no longer land on a
    # reflected left one (the mid-plane, between the eyeballs, stays)
    ix = synthetic_head()[2]
    plate = np.arange(len(v)) < ix["balls"][0][0]
    v[plate & (v[:, 0] < 0.01), 0] -= 0.05
    a, b = ix["balls"][1] if v[ix["balls"][1][0], 0] < 0 else ix["balls"][0]
    v[a:b, 1] += 0.05
    lop = Rig(rig.names, rig.deltas, v, rig.faces)
    row = _status(C.check_rig(lop, checks=("mirror",)), "mirror", "eyeBlinkLeft/eyeBlinkRight")
    assert row["status"] == "n/a" and "not mirror-symmetric" in row["note"]
    # the same rig on its symmetric head is still scored
    assert _status(C.check_rig(rig, checks=("mirror",)), "mirror")["status"] == "pass"

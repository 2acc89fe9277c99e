"""``facerig.models.raf.head_crop``: a head on a body is rigged on its crop, the rest keeps still."""

from __future__ import annotations

import numpy as np
import pytest

from facerig.data.bodies import on_body
from facerig.geometry.head_locate import crop_vertices, locate_head
from facerig.io.mesh import Mesh
from facerig.models.raf.head_crop import CUT_FADE, rig_head_on_body
from facerig.models.raf.method import rig_raf


def _options(weights: str) -> dict:
    return {"weights": weights, "head_check": False, "threads": 1, "close_eyes": False, "open_mouth": False}


def test_the_body_rig_is_the_crops_rig_put_back(random_weights, tiny_head):
    v, f = tiny_head(16, 24)
    bv, bf = on_body(v, f, "body")
    opts = _options(random_weights)
    out, meta = rig_head_on_body(rig_raf, Mesh(vertices=bv, faces=bf), **opts)
    region = locate_head(bv, bf)
    inside = crop_vertices(bv, bf, region)
    assert out.deltas.shape == (52, len(bv), 3)
    assert not out.deltas[:, ~inside].any()  # exactly zero outside the head's crop
    assert not inside[len(v) :].any()  # the separate body piece is not rigged
    assert meta["head_on_body"]["vertices"] == int(inside.sum())
    assert meta["head_on_body"]["of"] == len(bv)
    index = np.full(len(bv), -1)
    index[inside] = np.arange(inside.sum())
    crop = Mesh(vertices=bv[inside], faces=index[bf[inside[bf].all(1)]])
    alone = rig_raf(crop, **opts).deltas
    assert np.abs(alone).max() > 0
    height = bv[inside, 1]
    full = height >= region.cut + CUT_FADE * region.head_height  # above the fade at the crop's end
    np.testing.assert_array_equal(out.deltas[:, inside][:, full], alone[:, full])
    assert (np.abs(out.deltas[:, inside]) <= np.abs(alone) + 1e-7).all()  # the fade only shrinks


def test_a_head_alone_is_not_cropped(random_weights, tiny_head):
    v, f = tiny_head(16, 24)
    assert rig_head_on_body(rig_raf, Mesh(vertices=v, faces=f), **_options(random_weights)) is None


def test_rig_mesh_rigs_the_head_of_a_body_and_keeps_every_vertex(random_weights, tiny_head):
    from facerig.models.registry import rig_mesh

    v, f = tiny_head(16, 24)
    bv, bf = on_body(v, f, "body")
    rig = rig_mesh(
        Mesh(vertices=bv, faces=bf), "raf", falloff=False, **_options(random_weights)
    )  # random weights: no face
    assert rig.deltas.shape == (52, len(bv), 3)
    np.testing.assert_array_equal(rig.neutral, bv)
    assert rig.meta["head_on_body"]["fraction"] < 0.3
    assert not rig.deltas[:, len(v) :].any()
    assert np.abs(rig.deltas[:, : len(v)]).max() > 0


@pytest.mark.slow
def test_the_makehuman_body_is_rigged_on_its_head_and_checks_like_the_head(tmp_path, capsys):
    """``facerig rig`` + ``facerig check`` on MakeHuman hm08's whole body (FACERIG_DATA)."""
    import json

    from facerig.cli import main
    from facerig.data.bodies import makehuman_body
    from facerig.data.makehuman import makehuman_dir
    from facerig.io.obj import write_obj

    root = makehuman_dir(required=False)
    if root is None:
        pytest.skip("MakeHuman data not available")
    v, f, _ = makehuman_body(root / "3dobjs" / "base.obj")
    head = tmp_path / "body.obj"
    write_obj(head, v, f)
    out = tmp_path / "rig.npz"
    assert main(["rig", str(head), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "found a head on a body" in printed
    z = np.load(out)
    meta = json.loads(str(z["meta"]))
    body = meta["head_on_body"]
    assert body["of"] == len(v) and body["vertices"] < len(v) // 2
    face = meta["raf"]["face_frame"]
    assert face["check"] == "ok" and 0.4 < face["iod"] < 0.8  # hm08's eyes are ~0.6 apart, not 4.6
    low = v[:, 1] < body["cut"]
    assert low.sum() > len(v) // 2 and not z["deltas"][:, low].any()
    report = tmp_path / "check.json"
    main(["check", str(out), "--head", str(head), "--json", str(report)])
    summary = json.loads(report.read_text())["summary"]
    for check in ("eyelid_closure", "mouth_open", "mouth_close", "jaw_teeth", "far_motion"):
        assert summary[check]["status"] == "pass", check


@pytest.mark.slow
def test_a_body_in_blender_axes_is_rigged_in_its_axes(tmp_path, capsys):
    """The ICT example head on a tall body, in Blender's axes: rigged without flags in
    ``--up +z --forward -y`` (a note names them), as with those flags or ``--auto-orient``; given
    other axes, the refusal names them."""
    from pathlib import Path

    from facerig.cli import main
    from facerig.io import read_mesh
    from facerig.io.obj import write_obj

    m = read_mesh(Path(__file__).resolve().parents[3] / "examples" / "ict_head" / "head.obj")
    v, f = on_body(m.vertices, m.faces, "body")
    head = tmp_path / "body.obj"
    write_obj(head, np.stack([v[:, 0], -v[:, 2], v[:, 1]], 1), f)  # z up, -y forward
    out = tmp_path / "rig.npz"
    plain = tmp_path / "plain.npz"
    assert main(["rig", str(head), "-o", str(plain)]) == 0
    printed = capsys.readouterr().out
    assert "found a head on a body" in printed and "--up +z --forward -y" in printed
    assert main(["rig", str(head), "-o", str(tmp_path / "no.npz"), "--up", "+y", "--forward", "+z"]) == 2
    err = capsys.readouterr()
    assert "body" in err.err + err.out and "--up +z --forward -y" in err.err + err.out
    assert main(["rig", str(head), "-o", str(out), "--up", "+z", "--forward", "-y"]) == 0
    assert "found a head on a body" in capsys.readouterr().out
    z = np.load(out)
    assert not z["deltas"][:, len(m.vertices) :].any()
    auto = tmp_path / "auto.npz"  # --auto-orient finds the body's axes and rigs the same
    assert main(["rig", str(head), "-o", str(auto), "--auto-orient"]) == 0
    printed = capsys.readouterr().out
    assert "found a head on a body" in printed and "--up +z --forward -y" in printed
    np.testing.assert_array_equal(np.load(auto)["deltas"], z["deltas"])
    np.testing.assert_array_equal(np.load(plain)["deltas"], z["deltas"])


def test_a_faceless_head_on_a_body_is_refused_as_one(tiny_head):
    from facerig.models.raf.probe import NotAHeadError
    from facerig.models.registry import rig_mesh

    v, f = tiny_head(16, 24)  # an ellipsoid: no face for the shipped network to find
    bv, bf = on_body(v, f, "body")
    with pytest.raises(NotAHeadError, match="found a head on a body"):
        rig_mesh(Mesh(vertices=bv, faces=bf), "raf")


def test_body_axes_probes_the_head_not_the_hands(monkeypatch, random_weights):
    """MakeHuman hm08's body in Blender's axes (FACERIG_DATA): the locator also takes its hands, along
    +-x, for heads on a body; the face probe sees only the head's crop (``+z``; the mirror axis is x),
    and with random weights (no face) at most ``PROBED_UPS`` crops."""
    from facerig.data.bodies import makehuman_body
    from facerig.data.makehuman import makehuman_dir
    from facerig.geometry.frame import orientation_matrix
    from facerig.models.raf import head_crop, orientation

    root = makehuman_dir(required=False)
    if root is None:
        pytest.skip("MakeHuman data not available")
    v, f, _ = makehuman_body(root / "3dobjs" / "base.obj")
    calls = []
    real = orientation.probe_candidates

    def probe(crop, candidates, options):  # the real probe, its calls recorded
        calls.append(list(candidates))
        return real(crop, candidates, options)

    monkeypatch.setattr(orientation, "probe_candidates", probe)
    blender = Mesh(vertices=np.stack([v[:, 0], -v[:, 2], v[:, 1]], 1), faces=f)
    with np.errstate(all="ignore"):
        assert head_crop.body_axes(blender, {"weights": random_weights}) is None
    assert 1 <= len(calls) <= head_crop.PROBED_UPS
    assert {u for u, _ in calls[0]} == {"+z"}
    for up, forward in (c for call in calls for c in call):
        assert up not in ("+x", "-x") and abs(orientation_matrix(up, forward)[0, 0]) == 1.0  # left-right along x

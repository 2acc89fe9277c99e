"""VRM avatars (.vrm): read as glTF binary, rigged in the axes their VRM version declares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facerig.cli import main
from facerig.config import data_root
from facerig.errors import MeshError
from facerig.io import SUPPORTED_SUFFIXES, load_mesh, read_mesh
from fixtures.vrm_avatar import write_vrm

HEAD = "rocketbox_female_adult_01.obj"


def _public_head() -> Path | None:
    try:
        p = data_root() / "heads" / HEAD
    except Exception:  # noqa: BLE001 - no data configured
        return None
    return p if p.is_file() else None


@pytest.mark.parametrize("version, forward", [("0.x", "-z"), ("1.0", "+z")])
def test_vrm_reads_like_a_glb_with_its_declared_facing(tiny_head, tmp_path: Path, version: str, forward: str) -> None:
    v, f = tiny_head()
    p = tmp_path / "avatar.vrm"
    exp = write_vrm(p, v * 0.1, f, version=version)
    m = load_mesh(p)
    # every vertex in file order at its world position (the body's node translation applied)
    np.testing.assert_allclose(m.vertices, exp["vertices"], atol=1e-6)
    np.testing.assert_array_equal(m.faces, exp["faces"])
    assert m.group_names == ["Face", "Body"] and m.info["materials"] == ["Skin", "Cloth"]
    assert m.info["format"] == "vrm"
    axes = m.info["axes"]
    assert (axes["up"], axes["forward"], axes["vrm"]) == ("+y", forward, version)
    notes = " ".join(m.info["notes"])
    assert f"facing {forward.upper()}" in notes and "skins ignored" in notes and "morph targets" in notes
    if version == "0.x":  # the head really was turned: its nose side is at -Z
        assert m.vertices[: exp["head_vertices"], 2].min() < -0.08


def test_vrm_without_vrm_extension_is_plain_gltf(tiny_head, tmp_path: Path) -> None:
    v, f = tiny_head()
    p = tmp_path / "plain.vrm"
    write_vrm(p, v, f, version="none", body=False)
    m = read_mesh(p)
    assert "axes" not in m.info and any("no VRM" in n for n in m.info["notes"])
    assert ".vrm" in SUPPORTED_SUFFIXES


@pytest.mark.parametrize("bad", [["not", "an", "object"], "VRM", 7])
def test_corrupt_vrm_extension_is_one_line(tiny_head, tmp_path: Path, bad, capsys: pytest.CaptureFixture) -> None:
    v, f = tiny_head()
    p = tmp_path / "bad.vrm"
    write_vrm(p, v, f, extension=bad)
    with pytest.raises(MeshError, match="corrupt VRM extension") as e:
        read_mesh(p)
    assert "\n" not in str(e.value)
    out = tmp_path / "r.npz"
    assert main(["rig", str(p), "-o", str(out), "--method", "zero"]) == 2 and not out.exists()
    err = capsys.readouterr().err.strip()
    assert "corrupt VRM extension" in err and len(err.splitlines()) == 1


def test_a_glb_that_is_not_a_vrm_named_vrm_and_garbage(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    p = tmp_path / "junk.vrm"
    p.write_bytes(b"glTF\x02\x00\x00\x00\xff\xff\xff\x7f" + b"\0" * 40)
    assert main(["rig", str(p), "-o", str(tmp_path / "r.npz"), "--method", "zero"]) == 2
    err = capsys.readouterr().err.strip()
    assert "truncated GLB" in err and len(err.splitlines()) == 1


SEEN: list[tuple] = []


def rig_spy(mesh, **options):
    """A fake method recording the axes it is given (no motion)."""
    from facerig.models.registry import MethodOutput

    SEEN.append((options.get("up"), options.get("forward")))
    return MethodOutput(names=["jawOpen"], deltas=np.zeros((1, mesh.num_vertices, 3), np.float32))


def test_declared_axes_reach_the_method_unless_given(tiny_head, tmp_path: Path, monkeypatch) -> None:
    """rig_mesh and facerig rig give the method the VRM's axes; --up/--forward win over them."""
    from facerig.models import registry
    from facerig.models.registry import rig_mesh

    seen = SEEN
    monkeypatch.setitem(registry.METHODS, "spy", f"{__name__}:rig_spy")
    v, f = tiny_head()
    p = tmp_path / "a.vrm"
    write_vrm(p, v, f, version="0.x", body=False)
    rig = rig_mesh(read_mesh(p), "spy", falloff=False)
    assert seen[-1] == ("+y", "-z") and rig.meta["input"]["forward"] == "-z"
    assert "VRM 0.x" in rig.meta["input"]["axes_from"]
    assert main(["rig", str(p), "-o", str(tmp_path / "a.npz"), "--method", "spy", "-q"]) == 0
    assert seen[-1] == ("+y", "-z")
    assert main(["rig", str(p), "-o", str(tmp_path / "b.npz"), "--method", "spy", "-q", "--forward", "+z"]) == 0
    assert seen[-1] == ("+y", "+z")
    assert "axes_from" not in rig_mesh(read_mesh(p), "spy", falloff=False, up="+y", forward="+z").meta["input"]


@pytest.mark.skipif(_public_head() is None, reason=f"needs DATA/heads/{HEAD} (FACERIG_DATA)")
def test_vrm_avatar_rigs_end_to_end_like_its_head(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A Rocketbox head turned to face -Z on a box body, as a VRM 0.x: `facerig rig` finds the head
    on the body in the declared axes, keeps every vertex in order, and its shapes are the plain
    head's (rigged as an OBJ facing +Z) turned by the same 180 degrees; the GLB reads back."""
    from facerig.io.gltf import read_rig_gltf
    from facerig.io.obj import read_obj
    from facerig.models.raf.weights import weights_available

    if not weights_available():
        pytest.skip("raf weights not installed")
    head = read_obj(_public_head())
    p = tmp_path / "avatar.vrm"
    exp = write_vrm(p, head.vertices * 0.01, head.faces, version="0.x")
    npz, glb, ref = tmp_path / "a.npz", tmp_path / "a.glb", tmp_path / "ref.npz"
    assert main(["rig", str(p), "-o", str(npz), "-o", str(glb)]) == 0
    out = capsys.readouterr().out
    assert "declares +Y up and the model facing -Z" in out and "found a head on a body" in out
    a = np.load(npz)
    np.testing.assert_allclose(a["neutral"], exp["vertices"], atol=1e-6)  # the file's vertices, in order
    np.testing.assert_array_equal(a["faces"], exp["faces"])
    assert np.abs(a["deltas"][:, exp["head_vertices"] :]).max() == 0  # the body keeps still
    assert main(["rig", str(_public_head()), "-o", str(ref), "-q"]) == 0
    r = np.load(ref)
    turned = a["deltas"][:, : exp["head_vertices"]] * np.float32([-100, 100, -100])  # back to +Z, cm
    jaw = list(r["names"]).index("jawOpen")
    assert np.linalg.norm(r["deltas"][jaw], axis=1).max() > 1.0  # the reference really opens its jaw (cm)
    assert np.abs(turned - r["deltas"]).max() < 0.05  # within half a millimetre of the plain head's rig
    assert main(["check", str(npz)]) == 0  # audited in the axes it was rigged in (eyes close, sides right)
    rig, mesh = read_rig_gltf(glb)
    assert rig.num_vertices == len(exp["vertices"])
    np.testing.assert_allclose(mesh.vertices, exp["vertices"], atol=1e-6)

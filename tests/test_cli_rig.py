"""``facerig rig``: end to end on a tiny head, and every bad input is one clean line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facerig.cli import main


def _v_lines(path: Path) -> np.ndarray:
    return np.array(
        [[float(x) for x in ln.split()[1:4]] for ln in path.read_text().splitlines() if ln.startswith("v ")]
    )


def _check_npz(out: Path, head: Path) -> None:
    z = np.load(out)
    V = len(_v_lines(head))
    assert z["names"].shape == (52,)
    assert z["deltas"].shape == (52, V, 3) and z["deltas"].dtype == np.float32
    np.testing.assert_array_equal(z["neutral"], _v_lines(head))
    assert z["parts"].max() == 1  # head + eye


def test_rig_zero_npz_in_process(tiny_obj: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out" / "rig.npz"
    stat = tiny_obj.stat()
    assert main(["rig", str(tiny_obj), "-o", str(out), "--method", "zero"]) == 0
    _check_npz(out, tiny_obj)
    printed = capsys.readouterr().out
    assert "48 vertices" in printed and "2 parts" in printed and "wrote" in printed and str(out) in printed
    assert tiny_obj.stat().st_mtime_ns == stat.st_mtime_ns


def test_rig_zero_npz_subprocess(tiny_obj: Path, tmp_path: Path) -> None:
    out = tmp_path / "rig.npz"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "facerig.cli",
            "rig",
            str(tiny_obj),
            "-o",
            str(out),
            "--method",
            "zero",
            "--up",
            "+z",
            "--forward",
            "-y",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    _check_npz(out, tiny_obj)


def test_several_outputs(tiny_obj: Path, tmp_path: Path) -> None:
    pytest.importorskip("facerig.io.gltf")
    pytest.importorskip("facerig.io.objset")
    outs = [tmp_path / "a.npz", tmp_path / "a.glb", tmp_path / "objs/"]
    argv = ["rig", str(tiny_obj), "--method", "zero"]
    for o in outs:
        argv += ["-o", str(o) + ("/" if o.name == "objs" else "")]
    assert main(argv) == 0
    assert outs[0].is_file() and outs[1].is_file() and outs[2].is_dir() and any(outs[2].iterdir())


def test_landmarks_next_to_head_are_found(tiny_obj: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lm = tiny_obj.with_name("tiny.landmarks.json")
    lm.write_text('{"template": "ict-facekit", "pairs": [], "names": []}')
    assert main(["rig", str(tiny_obj), "-o", str(tmp_path / "r.npz"), "--method", "zero"]) == 0
    assert str(lm) in capsys.readouterr().out


def test_flawed_mesh_is_rigged_by_default_with_one_note(tiny_head, tmp_path: Path, capsys) -> None:
    """Degenerate and duplicate faces and a loose vertex: rigged with one note line, every vertex
    and face kept; ``--strict`` refuses; the old ``--allow-*`` flags are accepted."""
    from facerig.io.obj import write_obj

    v, f = tiny_head()
    v = np.concatenate([v, [[5.0, 5, 5]]])  # a loose vertex
    f = np.concatenate([f, [[0, 0, 3]], f[:1]])  # a degenerate and a duplicate face
    head = tmp_path / "messy.obj"
    write_obj(head, v, f)
    out = tmp_path / "messy.npz"
    assert main(["rig", str(head), "-o", str(out), "--method", "zero"]) == 0
    notes = [ln for ln in capsys.readouterr().out.splitlines() if "note" in ln]
    assert len(notes) == 1 and "1 zero-area" in notes[0] and "1 duplicate" in notes[0] and "1 vertices" in notes[0]
    z = np.load(out)
    np.testing.assert_array_equal(z["neutral"], v)
    assert z["deltas"].shape == (52, len(v), 3)
    np.testing.assert_array_equal(z["faces"], f)  # outputs keep the file's faces, bad ones too
    out.unlink()
    assert main(["rig", str(head), "-o", str(out), "--method", "zero", "--strict"]) == 2 and not out.exists()
    assert "--strict" in capsys.readouterr().err
    assert (
        main(["rig", str(head), "-o", str(out), "--method", "zero", "--allow-degenerate", "--allow-unreferenced"]) == 0
    )


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


TRI = b"v 0 0 0\nv 1 0 0\nv 0 1 0\n"
BAD_INPUTS = {
    "empty": ("empty.obj", b"", [], "empty file"),
    "text": ("notes.obj", b"hello world\nthis is not a mesh\n", [], "not an OBJ mesh"),
    "png": ("image.obj", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", [], "not a text OBJ"),
    "nan": ("nan.obj", b"v 0 0 nan\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", [], "NaN"),
    "no_faces": ("cloud.obj", TRI, [], "no faces"),
    "out_of_range": ("oor.obj", TRI + b"f 1 2 9\n", [], "out of range"),
    "degenerate": ("deg.obj", TRI + b"v 1 1 0\nf 1 2 3\nf 2 4 3\nf 1 1 2\n", ["--strict"], "degenerate"),
    "duplicate": ("dup.obj", TRI + b"v 1 1 0\nf 1 2 3\nf 2 4 3\nf 3 1 2\n", ["--strict"], "duplicate"),
    "unreferenced": ("unref.obj", TRI + b"v 1 1 1\nf 1 2 3\n", ["--strict"], "not used by any face"),
    "extreme": ("far.obj", b"v 0 0 0\nv 1e37 0 0\nv 0 1 0\nf 1 2 3\n", [], "too large"),
    "too_big": ("big.obj", TRI + b"f 1 2 3\n", ["--max-vertices", "2"], "over the limit of 2"),
    "unsupported": ("head.abc", TRI + b"f 1 2 3\n", [], "unsupported mesh format"),
    "bad_output": ("ok.obj", TRI + b"f 1 2 3\n", ["-o", "x.abc"], "unknown format"),
    "onto_input": ("self.obj", TRI + b"f 1 2 3\n", ["-o", "{head}"], "is the input"),
    "bad_landmarks": ("lm.obj", TRI + b"f 1 2 3\n", ["--landmarks", "nope.json"], "landmarks file"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_one_line_nonzero_input_untouched(case: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    name, data, extra, match = BAD_INPUTS[case]
    head = _write(tmp_path / name, data)
    os.utime(head, ns=(1_000_000_000, 1_000_000_000))
    extra = [x.format(head=head) for x in extra]
    out = tmp_path / "out.npz"
    rc = main(["rig", str(head), "-o", str(out), "--method", "zero", *extra])
    err = capsys.readouterr().err
    assert rc != 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and match in lines[0], err
    assert "Traceback" not in err
    assert head.read_bytes() == data and head.stat().st_mtime_ns == 1_000_000_000
    assert not out.exists()


def test_missing_input_subprocess(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "facerig.cli",
            "rig",
            str(tmp_path / "nope.obj"),
            "-o",
            str(tmp_path / "o.npz"),
            "--method",
            "zero",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


def rig_position(mesh, **options):
    """A fake method: each vertex moves by its own position (records the options it got)."""
    from facerig.models.registry import MethodOutput

    rig_position.options = options
    d = np.asarray(mesh.vertices, np.float32)
    return MethodOutput(names=["a", "b"], deltas=np.stack([d, 2 * d]), meta={"missing": ["tongueOut"]})


def test_loose_vertices_move_with_the_surface_and_options_pass_through(
    tiny_head, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from facerig.geometry.correspondence import closest_points
    from facerig.io.obj import write_obj
    from facerig.models import registry

    monkeypatch.setitem(registry.METHODS, "pos", f"{__name__}:rig_position")
    v, f = tiny_head()
    loose = np.array([[0.1, 0.2, 1.3]])  # just off the face
    v = np.concatenate([v[:3], loose, v[3:]])
    f = np.where(f >= 3, f + 1, f)
    head = tmp_path / "loose.obj"
    write_obj(head, v, f)
    out = tmp_path / "loose.npz"
    assert main(["rig", str(head), "-o", str(out), "--method", "pos", "--up", "+z", "--forward", "-y"]) == 0
    d = np.load(out)["deltas"]
    face, bary, dist = closest_points(loose, v, f)
    near = (bary[0][:, None] * v[f[face[0]]]).sum(0)
    assert dist[0] > 0.1
    np.testing.assert_allclose(d[0, 3], near, atol=1e-5)  # the surface point's motion, not zero
    np.testing.assert_allclose(d[1, 3], 2 * near, atol=1e-5)
    np.testing.assert_allclose(np.delete(d[0], 3, axis=0), np.delete(v, 3, axis=0), atol=1e-6)
    assert rig_position.options == {"landmarks": None, "up": "+z", "forward": "-y"}
    printed = capsys.readouterr().out
    assert "missing shapes" in printed and "tongueOut" in printed


def test_python_api_gives_the_cli_rig(tiny_head, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Python API (read_mesh, rig_mesh, save_rig) writes the NPZ ``facerig rig``
    writes, array for array, for a flawed mesh (loose vertex, degenerate and duplicate faces)."""
    from facerig.io import read_mesh
    from facerig.io.obj import write_obj
    from facerig.io.rig import save_rig
    from facerig.models import registry
    from facerig.models.registry import rig_mesh

    monkeypatch.setitem(registry.METHODS, "pos", f"{__name__}:rig_position")
    v, f = tiny_head()
    v = np.concatenate([v, [[0.3, 0.1, 1.2]]])
    f = np.concatenate([f, [[0, 0, 3]], f[:1]])
    head = tmp_path / "messy.obj"
    write_obj(head, v, f)
    assert main(["rig", str(head), "-o", str(tmp_path / "cli.npz"), "--method", "pos", "-q"]) == 0
    save_rig(tmp_path / "api.npz", rig_mesh(read_mesh(head), method="pos"))
    a, b = np.load(tmp_path / "cli.npz"), np.load(tmp_path / "api.npz")
    assert sorted(a.files) == sorted(b.files)
    for k in a.files:
        if k != "meta":  # meta holds the seconds it took
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_folder_output_never_overwrites_the_head(tiny_head, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from facerig.io.obj import write_obj

    v, f = tiny_head()
    head = tmp_path / "jawOpen.obj"
    write_obj(head, v, f)
    before = head.read_bytes()
    assert main(["rig", str(head), "-o", str(tmp_path) + "/", "--method", "zero"]) == 2
    assert "contains the input" in capsys.readouterr().err
    assert head.read_bytes() == before


def rig_51(mesh, **options):
    """A fake ARKit method without tongueOut (like dt)."""
    from facerig.arkit import ARKIT52
    from facerig.models.registry import MethodOutput

    names = [n for n in ARKIT52 if n != "tongueOut"][::-1]  # any order
    deltas = np.stack([np.full((mesh.num_vertices, 3), ARKIT52.index(n), np.float32) for n in names])
    return MethodOutput(names=names, deltas=deltas, meta={"missing": ["tongueOut"]})


def test_rig_is_padded_to_52_arkit_shapes(tiny_obj: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from facerig.arkit import ARKIT52
    from facerig.io.rig import load_rig
    from facerig.models import registry

    monkeypatch.setitem(registry.METHODS, "m51", f"{__name__}:rig_51")
    out = tmp_path / "r.npz"
    assert main(["rig", str(tiny_obj), "-o", str(out), "--method", "m51", "-q"]) == 0
    rig = load_rig(out)
    assert rig.names == list(ARKIT52)
    for k, n in enumerate(ARKIT52):
        assert (rig.deltas[k] == (0 if n == "tongueOut" else k)).all(), n
    assert rig.meta["missing"] == ["tongueOut"]


def _options_seen(tmp_path, monkeypatch, tiny_head):
    """A tiny head file and a stand-in method recording the options ``facerig rig`` passes:
    -> (head path, dict filled by the next run)."""
    from facerig.models import registry
    from facerig.models.registry import MethodOutput

    seen: dict = {}

    def fake(mesh, **options):
        seen.clear()
        seen.update(options)
        return MethodOutput(names=["jawOpen"], deltas=np.zeros((1, mesh.num_vertices, 3), np.float32))

    monkeypatch.setattr(registry, "get_method", lambda name: fake)
    from facerig.io.obj import write_obj

    head = tmp_path / "head.obj"
    write_obj(head, *tiny_head(12, 12))  # 140 vertices: enough for raf's head check
    return head, seen


def test_dt_mode_reaches_the_method(tmp_path, monkeypatch, tiny_head):
    """`--dt-mode copy` is passed to the dt method (checked without running the registration)."""
    from facerig.cli import main

    head, seen = _options_seen(tmp_path, monkeypatch, tiny_head)
    assert (
        main(
            [
                "rig",
                str(head),
                "-o",
                str(tmp_path / "r.npz"),
                "--method",
                "dt",
                "--dt-mode",
                "copy",
                "--landmarks",
                str(_landmarks(tmp_path)),
                "-q",
            ]
        )
        == 0
    )
    assert seen["dt_mode"] == "copy"


def _landmarks(tmp_path):
    p = tmp_path / "lm.json"
    p.write_text('{"pairs": [[0, 0], [1, 1], [2, 2], [3, 3]]}')
    return p


def test_seam_tolerance_reaches_the_method_and_is_checked(tmp_path, monkeypatch, tiny_head, capsys):
    from facerig.cli import main

    head, seen = _options_seen(tmp_path, monkeypatch, tiny_head)
    out = str(tmp_path / "r.npz")
    assert main(["rig", str(head), "-o", out, "--method", "raf", "-q"]) == 0
    assert "weld" not in seen  # the method's default
    assert main(["rig", str(head), "-o", out, "--method", "raf", "--seam-tolerance", "0", "-q"]) == 0
    assert seen["weld"] == 0.0
    assert main(["rig", str(head), "-o", out, "--method", "raf", "--seam-tolerance", "0.5", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seam-tolerance" in err[0]


def test_proxy_size_and_mirror_options_reach_the_method(tmp_path, monkeypatch, tiny_head, capsys):
    from facerig.cli import main

    head, seen = _options_seen(tmp_path, monkeypatch, tiny_head)
    out = str(tmp_path / "r.npz")
    assert main(["rig", str(head), "-o", out, "--method", "raf", "-q"]) == 0
    assert "proxy_vertices" not in seen and "mirror" not in seen  # the method's defaults
    assert "face_frame" not in seen
    assert (
        main(
            [
                "rig",
                str(head),
                "-o",
                out,
                "--method",
                "raf",
                "--proxy-vertices",
                "5000",
                "--no-mirror",
                "--no-face-frame",
                "-q",
            ]
        )
        == 0
    )
    assert seen["proxy_vertices"] == 5000 and seen["mirror"] is False and seen["face_frame"] is False
    assert main(["rig", str(head), "-o", out, "--method", "raf", "--proxy-vertices", "10", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--proxy-vertices" in err[0]


def test_no_mouth_amplitude_reaches_the_method(tmp_path, monkeypatch, tiny_head):
    from facerig.cli import main

    head, seen = _options_seen(tmp_path, monkeypatch, tiny_head)
    out = str(tmp_path / "r.npz")
    assert main(["rig", str(head), "-o", out, "--method", "raf", "-q"]) == 0
    assert "mouth_amplitude" not in seen  # the method's default (on)
    assert main(["rig", str(head), "-o", out, "--method", "raf", "--no-mouth-amplitude", "-q"]) == 0
    assert seen["mouth_amplitude"] is False


@pytest.mark.slow
def test_python_api_gives_the_cli_rig_with_the_network(tmp_path: Path) -> None:
    """The same with the shipped network: the example head plus a loose vertex and a zero-area
    triangle, rigged by the README's API and by ``facerig rig``: every NPZ array identical."""
    from facerig.io import read_mesh
    from facerig.io.obj import write_obj
    from facerig.io.rig import save_rig
    from facerig.models.registry import rig_mesh

    m = read_mesh(Path(__file__).resolve().parents[1] / "examples" / "ict_head" / "head.obj")
    v = np.concatenate([m.vertices, [m.vertices[0] + 0.1]])
    f = np.concatenate([m.faces, [[0, 1, 1]]])
    head = tmp_path / "head.obj"
    write_obj(head, v, f)
    assert main(["rig", str(head), "-o", str(tmp_path / "cli.npz"), "-q"]) == 0
    save_rig(tmp_path / "api.npz", rig_mesh(read_mesh(head)))
    a, b = np.load(tmp_path / "cli.npz"), np.load(tmp_path / "api.npz")
    for k in a.files:
        if k != "meta":
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert np.abs(a["deltas"][:, -1]).max() > 0  # the loose vertex moves with the face


def test_hair_cards_get_one_note(tiny_head, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A head with hair cards on the crown: rigged, every vertex kept, one note naming the cards."""
    from facerig.io.obj import write_obj

    v, f = tiny_head()
    rng = np.random.default_rng(0)
    n = 20
    roots = v[rng.choice(np.flatnonzero(v[:, 1] > 0.5), n)]
    d1 = rng.normal(size=(n, 3))
    d1 /= np.linalg.norm(d1, axis=1, keepdims=True)
    d2 = np.cross(d1, rng.normal(size=(n, 3)))
    d2 /= np.linalg.norm(d2, axis=1, keepdims=True)
    cards = np.stack([roots, roots + 0.15 * d1, roots + 0.15 * (d1 + 0.3 * d2), roots + 0.045 * d2], 1)
    q = len(v) + np.arange(4 * n).reshape(n, 4)
    head = tmp_path / "hair.obj"
    write_obj(head, np.concatenate([v, cards.reshape(-1, 3)]), np.concatenate([f, q[:, [0, 1, 2]], q[:, [0, 2, 3]]]))
    out = tmp_path / "hair.npz"
    assert main(["rig", str(head), "-o", str(out), "--method", "zero"]) == 0
    notes = [ln for ln in capsys.readouterr().out.splitlines() if "hair card" in ln]
    assert len(notes) == 1 and f"{n} hair cards ({4 * n} vertices)" in notes[0]
    assert np.load(out)["deltas"].shape[1] == len(v) + 4 * n


def test_untangle_flags_reach_rig_mesh_and_the_default_is_the_trigger() -> None:
    """`--untangle` reaches rig_mesh as untangle=True, `--no-untangle` as False; without either the
    option is not passed (rig_mesh's default None: only folds past the trigger)."""
    import argparse

    from facerig._cli.rig import _method_options, add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    off = _method_options(parser.parse_args(["head.obj", "-o", "x.npz"]), "zero", None)
    on = _method_options(parser.parse_args(["head.obj", "-o", "x.npz", "--untangle"]), "zero", None)
    never = _method_options(parser.parse_args(["head.obj", "-o", "x.npz", "--no-untangle"]), "zero", None)
    assert "untangle" not in off and on["untangle"] is True and never["untangle"] is False
    import inspect

    from facerig.models.registry import rig_mesh

    assert inspect.signature(rig_mesh).parameters["untangle"].default is None


def test_the_report_says_when_folds_were_smoothed() -> None:
    """A rig whose meta records the fold smoothing gets one line naming it, the shapes and the counts."""
    import io

    import numpy as np
    from rich.console import Console

    from facerig._cli.rig import _report
    from facerig.io.rig import Rig

    rig = Rig(
        neutral=np.zeros((3, 3), np.float32),
        faces=np.array([[0, 1, 2]]),
        names=["jawOpen"],
        deltas=np.zeros((1, 3, 3), np.float32),
        meta={"untangled": {"shapes": 1, "folded_before": 164, "folded_after": 46, "seconds": 0.04}},
    )
    buf = io.StringIO()
    _report(Console(file=buf, width=200, highlight=False), rig, "raf")
    assert "folds smoothed away (--untangle) in 1 shape: 164 -> 46 triangles turned over" in buf.getvalue()
    from facerig.models.finish import UNTANGLE_TRIGGER

    rig.meta["untangled"]["min_area"] = UNTANGLE_TRIGGER  # the default: only folds past the trigger
    buf = io.StringIO()
    _report(Console(file=buf, width=200, highlight=False), rig, "raf")
    assert "folds smoothed away (large folds) in 1 shape: 164 -> 46" in buf.getvalue()
    buf = io.StringIO()
    rig.meta = {}
    _report(Console(file=buf, width=200, highlight=False), rig, "raf")
    assert "folds" not in buf.getvalue()


def test_densify_reaches_the_method(tmp_path, monkeypatch, tiny_head):
    from facerig.cli import main

    head, seen = _options_seen(tmp_path, monkeypatch, tiny_head)
    out = str(tmp_path / "r.npz")
    assert main(["rig", str(head), "-o", out, "--method", "raf", "-q"]) == 0
    assert "densify" not in seen  # the method's default (off)
    assert main(["rig", str(head), "-o", out, "--method", "raf", "--densify", "-q"]) == 0
    assert seen["densify"] is True

"""``facerig view``: starts a loopback server, prints the URL, serves the rig, stops cleanly."""

from __future__ import annotations

import json
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from facerig.cli import main
from facerig.io.rig import save_rig
from fixtures.egg import egg_rig


@pytest.fixture(scope="module")
def rig_path(tmp_path_factory):
    p = tmp_path_factory.mktemp("view") / "egg.npz"
    save_rig(p, egg_rig())
    return p


def read_line(proc: subprocess.Popen, prefix: str, timeout: float = 20.0) -> str:
    """The first stdout line starting with ``prefix`` (fails on timeout or exit)."""
    lines: queue.Queue = queue.Queue()
    proc.reader = threading.Thread(target=lambda: [lines.put(ln) for ln in iter(proc.stdout.readline, "")], daemon=True)
    proc.reader.start()
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if line.startswith(prefix):
            return line.strip()
    proc.kill()
    raise AssertionError(f"no {prefix!r} line; got {seen!r}; stderr: {proc.stderr.read()!r}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_view_serves_and_stops(rig_path, tmp_path, sig):
    anim = tmp_path / "take.json"
    anim.write_text(json.dumps({"fps": 30, "frames": [{"jawOpen": 0.0}, {"jawOpen": 1.0}]}))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "facerig.cli",
            "view",
            str(rig_path),
            "--port",
            "0",
            "--no-browser",
            "--animation",
            str(anim),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = read_line(proc, "serving ")
        url = line.split()[1]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        port = int(url.rsplit(":", 1)[1].strip("/"))
        info = json.load(urllib.request.urlopen(url + "rig.json", timeout=5))
        assert info["num_vertices"] == 738 and "jawOpen" in info["names"] and info["title"] == "egg.npz"
        assert info["animation"]["num_frames"] == 2
        assert urllib.request.urlopen(url, timeout=5).status == 200
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if hasattr(proc, "reader"):
            proc.reader.join(timeout=5)
        proc.stdout.close()
        proc.stderr.close()


def test_view_errors_are_one_line(rig_path, tmp_path, capsys):
    assert main(["view", str(tmp_path / "missing.npz"), "--no-browser"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'missing.npz'}: no such rig file"
    assert main(["view", str(rig_path), "--host", "0.0.0.0", "--no-browser"]) == 2
    assert "loopback" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"names": ["notAShape"], "frames": [[1]]}')
    assert main(["view", str(rig_path), "--animation", str(bad), "--no-browser"]) == 2
    assert "match a rig shape name" in capsys.readouterr().err
    assert main(["view", str(rig_path), "--up", "+q", "--no-browser", "--port", "0"]) == 2
    assert "up must be" in capsys.readouterr().err


def test_view_port_in_use_is_an_error_when_explicit(rig_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["view", str(rig_path), "--port", str(port), "--no-browser"]) == 2
    assert "--port 0" in capsys.readouterr().err


def test_view_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["view", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for opt in ("--port", "--host", "--animation", "--no-browser"):
        assert opt in out


def test_view_glb_rig_plays_its_own_animation(tmp_path, monkeypatch, capsys):
    gltf = pytest.importorskip("facerig.io.gltf")
    import numpy as np

    from facerig.viewer import server as server_mod

    rig = egg_rig()
    w = np.zeros((3, len(rig.names)))
    w[1, rig.names.index("jawOpen")] = 1.0
    path = tmp_path / "egg.glb"
    gltf.save_rig_gltf(path, rig, animation=gltf.GltfAnimation(weights=w, fps=2))

    seen = {}

    class Fake(server_mod.ViewerServer):  # serve nothing: record what would be served
        def serve_forever(self):
            seen["info"] = self.payload.info
            seen["anim"] = json.loads(self.anim_json)

    monkeypatch.setattr(server_mod, "ViewerServer", Fake)
    assert main(["view", str(path), "--port", "0", "--no-browser"]) == 0
    assert seen["info"]["num_vertices"] == 738 and seen["info"]["names"] == rig.names
    assert seen["anim"]["names"] == rig.names and seen["anim"]["times"] == [0, 0.5, 1.0]
    assert seen["anim"]["weights"][1][rig.names.index("jawOpen")] == 1.0
    assert "animation 3 frames" in capsys.readouterr().out


def _fake_server(monkeypatch) -> dict:
    """Replace ViewerServer by a subclass that builds everything but serves nothing."""
    from facerig.viewer import server as server_mod

    seen: dict = {}

    class Fake(server_mod.ViewerServer):
        def serve_forever(self):
            seen["info"] = self.payload.info

    monkeypatch.setattr(server_mod, "ViewerServer", Fake)
    return seen


def test_view_accepts_every_rig_format(tmp_path, monkeypatch, capsys):
    from facerig.io.gltf import save_rig_gltf
    from facerig.io.objset import save_rig_obj_folder

    rig = egg_rig()
    save_rig(tmp_path / "egg.npz", rig)
    save_rig_gltf(tmp_path / "egg.glb", rig)
    save_rig_obj_folder(tmp_path / "egg_objs", rig)
    for name in ("egg.npz", "egg.glb", "egg_objs"):
        seen = _fake_server(monkeypatch)
        assert main(["view", str(tmp_path / name), "--port", "0", "--no-browser"]) == 0, capsys.readouterr().err
        assert seen["info"]["num_vertices"] == 738 and seen["info"]["names"] == rig.names


def test_view_refuses_unusable_rigs_before_serving(tmp_path, monkeypatch, capsys):
    import numpy as np

    from facerig.io.rig import Rig

    seen = _fake_server(monkeypatch)
    rig = egg_rig()
    d = rig.deltas.copy()
    d[0, 10, 1] = np.nan
    save_rig(tmp_path / "nan.npz", Rig(names=rig.names, deltas=d, neutral=rig.neutral, faces=rig.faces))
    save_rig(tmp_path / "empty.npz", Rig(names=["jawOpen"], deltas=np.zeros((1, 0, 3)), neutral=np.zeros((0, 3))))
    save_rig(tmp_path / "ok.npz", rig)
    for name, match in [("nan.npz", "shape 'jawOpen' has non-finite deltas"), ("empty.npz", "no vertices")]:
        assert main(["view", str(tmp_path / name), "--port", "0", "--no-browser"]) == 2
        err = capsys.readouterr().err
        assert match in err and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("FACERIG_MAX_RIG_BYTES", "10000")  # the size limit applies to view too
    assert main(["view", str(tmp_path / "ok.npz"), "--port", "0", "--no-browser"]) == 2
    assert "over the 10 kB limit" in capsys.readouterr().err
    assert seen == {}

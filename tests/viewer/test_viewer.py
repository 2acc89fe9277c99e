"""Viewer without a browser: payload bytes, HTTP endpoints, loopback-only binding, animations."""

from __future__ import annotations

import http.client
import json
import socket
import struct
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from facerig.errors import FacerigError
from facerig.io.rig import Rig
from facerig.viewer import ViewerServer, build_payload, load_animation
from facerig.viewer.payload import vertex_normals
from facerig.viewer.server import assets_dir
from fixtures.egg import egg_rig


@pytest.fixture(scope="module")
def rig() -> Rig:
    return egg_rig()


@pytest.fixture(scope="module")
def server(rig):
    with ViewerServer(rig, port=0).start() as s:
        yield s


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def section(info: dict, data: bytes, name: str) -> np.ndarray:
    b = info["buffers"][name]
    return np.frombuffer(
        data, dtype="<" + {"float32": "f4", "uint32": "u4"}[b["dtype"]], count=b["count"], offset=b["offset"]
    ).reshape(b["shape"])


# --- payload --------------------------------------------------------------------------------


def test_payload_sections_roundtrip(rig):
    p = build_payload(rig)
    info = p.info
    V, K = rig.num_vertices, len(rig.names)
    assert (info["num_vertices"], info["num_shapes"], info["num_faces"]) == (V, K, len(rig.faces))
    assert info["names"] == rig.names and info["byte_length"] == len(p.data)
    assert all(b["offset"] % 4 == 0 for b in info["buffers"].values())
    np.testing.assert_array_equal(section(info, p.data, "positions"), rig.neutral.astype(np.float32))
    np.testing.assert_array_equal(section(info, p.data, "indices"), rig.faces)
    np.testing.assert_array_equal(section(info, p.data, "deltas"), rig.deltas)
    n0 = section(info, p.data, "normals")
    np.testing.assert_allclose(np.linalg.norm(n0, axis=1), 1.0, atol=1e-5)
    nd = section(info, p.data, "ndeltas")
    k_jaw, k_empty = rig.names.index("jawOpen"), rig.names.index("tongueOut")
    assert np.abs(nd[k_jaw]).max() > 0.1 and not nd[k_empty].any()
    np.testing.assert_allclose(nd[k_jaw] + n0, vertex_normals(rig.neutral + rig.deltas[k_jaw], rig.faces), atol=1e-5)
    assert info["shape_max_displacement"][k_empty] == 0 and info["shape_max_displacement"][k_jaw] > 3
    assert (info["method"], info["units"], info["up"], info["forward"]) == ("synthetic", "cm", "+y", "+z")


def test_vertex_normals_point_outward(rig):
    n = vertex_normals(rig.neutral, rig.faces)
    assert (np.einsum("ij,ij->i", n, rig.neutral) > 0).all()


def test_payload_without_faces_and_axes():
    r = Rig(names=["jawOpen"], deltas=np.ones((1, 4, 3)), neutral=np.eye(4, 3), meta={"up": "z"})
    p = build_payload(r, forward="-y")
    assert "indices" not in p.info["buffers"] and "ndeltas" not in p.info["buffers"]
    assert (p.info["up"], p.info["forward"], p.info["num_faces"]) == ("+z", "-y", 0)
    assert p.info["units"] == "input units" and p.info["method"] == "unknown"
    with pytest.raises(FacerigError, match="different axes"):
        build_payload(r, up="+y", forward="-y")
    with pytest.raises(FacerigError, match="up must be"):
        build_payload(r, up="sideways")


def test_long_units_are_shortened():
    r = Rig(
        names=[],
        deltas=np.zeros((0, 3, 3)),
        neutral=np.eye(3),
        meta={"units": "input units (deltas are in the same units and frame as the input vertices)"},
    )
    assert build_payload(r).info["units"] == "input units"


# --- HTTP -----------------------------------------------------------------------------------


def test_endpoints_return_the_rig(server, rig):
    assert server.url == f"http://127.0.0.1:{server.port}/"
    status, headers, body = get(server.url + "rig.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    info = json.loads(body)
    assert info["num_vertices"] == rig.num_vertices == 738
    assert info["names"] == rig.names and info["animation"] is None and info["title"] == "egg.obj"
    status, headers, data = get(server.url + "rig.bin")
    assert status == 200 and int(headers["Content-Length"]) == len(data) == info["byte_length"]
    np.testing.assert_array_equal(section(info, data, "positions"), rig.neutral.astype(np.float32))
    np.testing.assert_array_equal(section(info, data, "deltas")[rig.names.index("jawOpen")], rig.delta("jawOpen"))
    assert get(server.url + "anim.json")[0] == 404


def test_static_assets_are_served_locally(server):
    status, headers, html = get(server.url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'src="/static/viewer.js"' in html and b'href="/static/viewer.css"' in html
    status, headers, js = get(server.url + "static/viewer.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert b"./vendor/three-orbit.module.min.js" in js
    status, headers, three = get(server.url + "static/vendor/three-orbit.module.min.js")
    assert status == 200 and len(three) > 500_000 and b"OrbitControls" in three
    assert get(server.url + "static/vendor/LICENSE-three.txt")[2].startswith(b"The MIT License")
    # nothing of ours loads from the network (the vendored bundle only mentions URLs in strings)
    for name in ("index.html", "viewer.js", "viewer.css"):
        text = assets_dir().joinpath(name).read_text()
        assert "http://" not in text and "https://" not in text, name


def test_unknown_paths_and_traversal_are_404(server):
    for path in ("nope", "static/", "static/../server.py", "static/%2e%2e/viewer.js", "..%2fpyproject.toml"):
        assert get(server.url + path)[0] == 404, path


def test_head_request_and_foreign_host_header(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("HEAD", "/rig.bin")
    r = conn.getresponse()
    assert r.status == 200 and int(r.getheader("Content-Length")) == server.payload.info["byte_length"]
    assert r.read() == b""
    conn.close()
    # DNS-rebinding guard: a page on evil.example resolving to 127.0.0.1 gets nothing
    assert get(server.url + "rig.json", {"Host": f"evil.example:{server.port}"})[0] == 403
    assert get(server.url + "rig.json", {"Host": f"localhost:{server.port}"})[0] == 200


def test_binds_loopback_only(rig):
    for host in ("0.0.0.0", "8.8.8.8"):
        with pytest.raises(FacerigError, match="loopback"):
            ViewerServer(rig, host=host, port=0)
    with ViewerServer(rig, host="localhost", port=0) as s:
        assert s.host == "127.0.0.1" and s._httpd.server_address[0] == "127.0.0.1"


def test_port_in_use_and_clean_shutdown(rig):
    s = ViewerServer(rig, port=0).start()
    port = s.port
    assert get(s.url + "rig.json")[0] == 200
    with pytest.raises(FacerigError, match="port"):
        ViewerServer(rig, port=port)
    s.shutdown()
    s.shutdown()  # idempotent
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    # the port is free again
    with ViewerServer(rig, port=port) as again:
        assert again.port == port


# --- animation ------------------------------------------------------------------------------


def test_simple_json_animation(tmp_path, rig):
    p = tmp_path / "a.json"
    p.write_text(
        json.dumps(
            {
                "fps": 10,
                "names": ["JawOpen", "eyeBlink_L", "cheekPuff"],
                "frames": [[0, 0, 0], [1, 0.5, 1], [0.5, 1, 0]],
            }
        )
    )
    a = load_animation(p, rig.names)
    assert a.names == ["jawOpen", "eyeBlinkLeft"] and a.unmatched == ["cheekPuff"]
    np.testing.assert_allclose(a.times, [0, 0.1, 0.2])
    np.testing.assert_allclose(a.weights, [[0, 0], [1, 0.5], [0.5, 1]])
    assert a.fps == 10 and a.duration == pytest.approx(0.2)

    p.write_text(json.dumps({"times": [0.5, 1.5], "names": ["jawOpen"], "frames": [[1], [0]]}))
    np.testing.assert_allclose(load_animation(p, rig.names).times, [0, 1.0])

    for bad, msg in (
        (json.dumps({"names": ["nothing"], "frames": [[1]]}), "match"),
        (json.dumps({"names": ["jawOpen"], "frames": [[1, 2]]}), "shape"),
        (json.dumps({"names": ["jawOpen"], "times": [1, 0], "frames": [[1], [2]]}), "increase"),
        ("{", "invalid JSON"),
    ):
        p.write_text(bad)
        with pytest.raises(FacerigError, match=msg):
            load_animation(p, rig.names)
    with pytest.raises(FacerigError, match="not found"):
        load_animation(tmp_path / "missing.json", rig.names)


def test_named_frames_json_animation(tmp_path, rig):
    p = tmp_path / "a.json"
    p.write_text(
        json.dumps({"fps": 30, "frames": [{"jawOpen": 0.2, "JawLeft": 0.0}, {"jawOpen": 0.0, "JawLeft": 1.0}]})
    )
    a = load_animation(p, rig.names)
    assert a.names == ["jawOpen", "jawLeft"]
    np.testing.assert_allclose(a.weights, [[0.2, 0], [0, 1]], atol=1e-6)
    np.testing.assert_allclose(a.times, [0, 1 / 30])
    for bad in (json.dumps({"frames": [{"nothing": 1}]}), json.dumps({"frames": []}), "{"):
        p.write_text(bad)
        with pytest.raises(FacerigError):
            load_animation(p, rig.names)


def test_take_csv_animation(tmp_path, rig):
    pytest.importorskip("facerig.io.takes")
    p = tmp_path / "take.csv"
    p.write_text("time,jawOpen,EyeBlinkLeft,mouthClose,HeadYaw\n0,0,0,0,0.1\n0.5,1,0.5,0,0.1\n1.0,0.5,1,0,0.1\n")
    a = load_animation(p, rig.names)
    # mouthClose is an ARKit shape the egg rig lacks; the head rotation is not a shape
    assert a.names == ["jawOpen", "eyeBlinkLeft"] and a.unmatched == ["mouthClose"]
    np.testing.assert_allclose(a.times, [0, 0.5, 1.0])
    np.testing.assert_allclose(a.weights, [[0, 0], [1, 0.5], [0.5, 1]])


def write_weights_glb(path: Path, names: list[str], times: np.ndarray, weights: np.ndarray) -> None:
    """A minimal GLB: one node/mesh with len(names) morph targets and a weights animation."""
    times = np.asarray(times, "<f4")
    weights = np.asarray(weights, "<f4")
    pos = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], "<f4")
    blob = pos.tobytes() + times.tobytes() + weights.tobytes()
    n_pos, n_t = pos.nbytes, times.nbytes
    doc = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(blob)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": n_pos},
            {"buffer": 0, "byteOffset": n_pos, "byteLength": n_t},
            {"buffer": 0, "byteOffset": n_pos + n_t, "byteLength": weights.nbytes},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3", "min": [0, 0, 0], "max": [1, 1, 0]},
            {
                "bufferView": 1,
                "componentType": 5126,
                "count": len(times),
                "type": "SCALAR",
                "min": [float(times.min())],
                "max": [float(times.max())],
            },
            {"bufferView": 2, "componentType": 5126, "count": weights.size, "type": "SCALAR"},
        ],
        "meshes": [
            {
                "primitives": [{"attributes": {"POSITION": 0}, "targets": [{"POSITION": 0}] * len(names)}],
                "extras": {"targetNames": names},
            }
        ],
        "nodes": [{"mesh": 0}],
        "scenes": [{"nodes": [0]}],
        "animations": [
            {
                "samplers": [{"input": 1, "output": 2, "interpolation": "LINEAR"}],
                "channels": [{"sampler": 0, "target": {"node": 0, "path": "weights"}}],
            }
        ],
    }
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    blob += b"\0" * (-len(blob) % 4)
    out = struct.pack("<III", 0x46546C67, 2, 12 + 8 + len(js) + 8 + len(blob))
    out += struct.pack("<II", len(js), 0x4E4F534A) + js + struct.pack("<II", len(blob), 0x004E4942) + blob
    path.write_bytes(out)


def test_glb_weights_animation(tmp_path, rig):
    w = np.array([[0.0, 0.0], [1.0, 0.25], [0.5, 0.75]])
    write_weights_glb(tmp_path / "take.glb", ["mouthSmile_L", "jawOpen"], [0.0, 0.5, 1.0], w)
    a = load_animation(tmp_path / "take.glb", rig.names)
    # columns come in rig order: jawOpen (rig index 0) before mouthSmileLeft (index 4)
    assert a.names == ["jawOpen", "mouthSmileLeft"]
    np.testing.assert_allclose(a.weights, w[:, ::-1], atol=1e-6)
    np.testing.assert_allclose(a.times, [0, 0.5, 1.0])
    (tmp_path / "still.glb").write_bytes((tmp_path / "take.glb").read_bytes().replace(b'"weights"', b'"scale"  '))
    with pytest.raises(FacerigError, match="no morph-weights animation"):
        load_animation(tmp_path / "still.glb", rig.names)


def test_animation_is_served(tmp_path, rig):
    p = tmp_path / "a.json"
    p.write_text(json.dumps({"fps": 2, "frames": [{"jawOpen": 0}, {"jawOpen": 1}, {"jawOpen": 0.5}]}))
    with ViewerServer(rig, port=0, animation=load_animation(p, rig.names)).start() as s:
        info = json.loads(get(s.url + "rig.json")[2])
        assert info["animation"]["num_frames"] == 3 and info["animation"]["names"] == ["jawOpen"]
        assert "weights" not in info["animation"]
        status, _, body = get(s.url + "anim.json")
        anim = json.loads(body)
        assert status == 200 and anim["times"] == [0, 0.5, 1.0] and anim["weights"] == [[0], [1], [0.5]]

"""Viewer server hardening: exact Host match, idle timeout, bounded workers, bursts answered."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest

from facerig.viewer.server import ViewerServer, allowed_hosts
from fixtures.egg import egg_rig


@pytest.fixture(scope="module")
def rig():
    return egg_rig(rings=6, segments=8)


def raw_request(port: int, host: str | None, path: str = "/rig.json") -> int:
    """Status of one HTTP/1.1 GET with exactly this Host header (None: no Host header at all)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        head = (
            f"GET {path} HTTP/1.1\r\n" + (f"Host: {host}\r\n" if host is not None else "") + "Connection: close\r\n\r\n"
        )
        s.sendall(head.encode("latin-1"))
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


def test_exact_host_table(rig):
    with ViewerServer(rig, port=0).start() as srv:
        p = srv.port
        ok = ["127.0.0.1", f"127.0.0.1:{p}", "localhost", f"localhost:{p}", f"LOCALHOST:{p}", "[::1]", f"[::1]:{p}"]
        bad = [
            None,
            "",
            "127.0.0.1.evil.example",
            f"127.0.0.1.evil.example:{p}",
            f"evil.example:{p}",
            f"localhost.:{p}",
            f"localhost:{p + 1}",
            f"127.0.0.2:{p}",
            "::1",
            f"127.0.0.1:{p}@evil.example",
            f"0x7f000001:{p}",
            f"localhost:{p}, evil.example",
            f"sub.localhost:{p}",
        ]
        assert {h: raw_request(p, h) for h in ok} == dict.fromkeys(ok, 200)
        assert {h: raw_request(p, h) for h in bad} == dict.fromkeys(bad, 403)
    assert allowed_hosts(80) == {"127.0.0.1", "localhost", "[::1]", "127.0.0.1:80", "localhost:80", "[::1]:80"}


def test_idle_connections_are_closed_after_the_timeout(rig):
    with ViewerServer(rig, port=0, idle_timeout=0.3, workers=2).start() as srv:
        socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(6)]
        try:
            t0 = time.monotonic()
            # a kept-alive connection that went quiet after one request is closed too
            socks[0].sendall(f"GET /rig.json HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n\r\n".encode())
            received = []
            for s in socks:
                buf = b""
                while chunk := s.recv(65536):  # returns b"" once the server closed the connection
                    buf += chunk
                received.append(buf)
            elapsed = time.monotonic() - t0
            assert received[0].startswith(b"HTTP/1.1 200") and received[1:] == [b""] * 5
            assert 0.25 < elapsed < 4.0
            deadline = time.monotonic() + 3
            while srv._httpd.open_connections() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert srv._httpd.open_connections() == 0
        finally:
            for s in socks:
                s.close()


def test_idle_connections_hold_a_bounded_number_of_threads(rig):
    workers = 8
    before = threading.active_count()
    with ViewerServer(rig, port=0, idle_timeout=6.0, workers=workers).start() as srv:
        socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(300)]
        try:
            deadline = time.monotonic() + 3  # (connections past the backlog are retried by the client's kernel)
            while srv._httpd.open_connections() < 300 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert srv._httpd.open_connections() == 300
            # the accept loop, the waiting room and at most `workers` pool threads, whatever the number
            # of connections
            viewer_threads = [t for t in threading.enumerate() if t.name.startswith("facerig-viewer")]
            assert len(viewer_threads) <= workers + 2
            assert threading.active_count() <= before + workers + 2
            # idle connections do not hold workers: a real request is answered at once
            t0 = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
            for _ in range(3):
                conn.request("GET", "/rig.json")
                r = conn.getresponse()
                assert r.status == 200 and r.read()
            conn.close()
            assert time.monotonic() - t0 < 1.0
            assert srv._httpd.open_connections() >= 300  # the idle ones are still open (timeout 6 s)
        finally:
            for s in socks:
                s.close()


def test_a_burst_of_1000_requests_all_get_answers(rig):
    n_clients, per_client = 5, 200
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    with ViewerServer(rig, port=0, workers=4).start() as srv:

        def client() -> None:
            keep = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            try:
                for j in range(per_client):  # half on one kept-alive connection, half on fresh ones
                    c = keep if j % 2 == 0 else http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
                    c.request("GET", "/rig.json" if j % 3 else "/")
                    r = c.getresponse()
                    r.read()
                    with lock:
                        statuses.append(r.status)
                    if c is not keep:
                        c.close()
            except BaseException as e:  # noqa: BLE001 - reported by the assertion below
                with lock:
                    errors.append(e)
            finally:
                keep.close()

        threads = [threading.Thread(target=client, daemon=True) for _ in range(n_clients)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=9)
        assert not any(t.is_alive() for t in threads), "burst did not finish in 9 s"
        assert time.monotonic() - t0 < 9
    assert errors == [], errors[:3]
    assert len(statuses) == n_clients * per_client and set(statuses) == {200}


def test_pipelined_requests_on_one_connection_are_all_answered(rig):
    with ViewerServer(rig, port=0, workers=2).start() as srv:
        req = f"GET /rig.json HTTP/1.1\r\nHost: localhost:{srv.port}\r\n\r\n".encode()
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            s.sendall(req * 3 + req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
            buf = b""
            while chunk := s.recv(65536):
                buf += chunk
        assert buf.count(b"HTTP/1.1 200 OK") == 4

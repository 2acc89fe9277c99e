"""A small local HTTP server for the rig viewer (loopback only, no network at run time).

Routes:

- ``/``                 the page (``facerig/assets/viewer/index.html``)
- ``/static/<file>``    the page's JS/CSS and the vendored three.js (from the package assets)
- ``/rig.json``         rig description (see :mod:`facerig.viewer.payload`)
- ``/rig.bin``          mesh + deltas as little-endian float32/uint32 sections
- ``/anim.json``        the animation, if one was given (404 otherwise)

Safety: it binds a loopback address only; a request is answered only when its ``Host`` header
is exactly ``127.0.0.1``, ``localhost`` or ``[::1]`` (with or without this server's port;
anything else, or no Host, gets 403: DNS rebinding); connections are served by a bounded pool
of worker threads (``workers``), each idle connection is closed after ``idle_timeout`` seconds,
and the listen backlog is 128.

Usage::

    with ViewerServer(rig, port=0) as server:   # port 0 = any free port
        print(server.url)
        server.serve_forever()                  # or server.start() for a background thread
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import mimetypes
import queue
import select
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from facerig.errors import FacerigError
from facerig.io.rig import Rig
from facerig.viewer.animation import Animation
from facerig.viewer.payload import Payload, build_payload

ASSET_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def assets_dir():
    """The viewer's static files (an importlib Traversable; works from a wheel or a checkout)."""
    return resources.files("facerig").joinpath("assets", "viewer")


def _static_files() -> dict[str, bytes]:
    """url path -> bytes for every file under assets/viewer (read once; about 0.8 MB)."""
    out: dict[str, bytes] = {}

    def walk(node, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.is_file():
                out[prefix + child.name] = child.read_bytes()

    walk(assets_dir(), "")
    if "index.html" not in out:
        raise FacerigError("viewer assets are missing from the facerig install (facerig/assets/viewer)")
    return out


def check_loopback(host: str) -> str:
    """Return the numeric loopback address for ``host``; raise FacerigError for anything else."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as e:
        raise FacerigError(f"cannot resolve host {host!r}: {e}") from None
    addrs = sorted({i[4][0] for i in infos}, key=lambda a: (":" in a, a))  # IPv4 first
    for a in addrs:
        if ipaddress.ip_address(a.split("%")[0]).is_loopback:
            return a
    raise FacerigError(
        f"the viewer only serves on loopback (127.0.0.1 / ::1), not {host!r} "
        f"({', '.join(addrs)}); use an SSH tunnel to view it remotely"
    )


#: Worker threads serving connections, seconds an idle connection is kept, listen backlog.
WORKERS = 16
IDLE_TIMEOUT = 10.0
BACKLOG = 128
#: Connections open at once (served or waiting); more are closed as soon as they are accepted.
MAX_PENDING = 512


def allowed_hosts(port: int) -> frozenset[str]:
    """The exact ``Host`` header values the viewer answers (lower case)."""
    names = ("127.0.0.1", "localhost", "[::1]")
    return frozenset(names) | frozenset(f"{n}:{port}" for n in names)


def _readable(sock: socket.socket) -> bool:
    """Whether ``sock`` has data (or EOF) to read right now (poll: no FD_SETSIZE limit)."""
    try:
        if hasattr(select, "poll"):
            p = select.poll()
            p.register(sock, select.POLLIN)
            return bool(p.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True  # let a worker find out what is wrong with it


class _Server(HTTPServer):
    """HTTPServer with a bounded worker pool and a waiting room for idle connections.

    A connection holds a worker only while a request is being read and answered: a new
    connection, and a kept-alive one between requests, waits in one selector thread (the
    waiting room) until it has data, and is closed there after ``idle_timeout`` seconds of
    silence. Threads: the accept loop, the waiting room, at most ``workers`` workers.
    """

    request_queue_size = BACKLOG
    allow_reuse_address = True  # rebind over TIME_WAIT; a second *listener* still fails (no SO_REUSEPORT)
    viewer: ViewerServer

    def __init__(self, address, handler, *, workers: int, idle_timeout: float) -> None:
        self.idle_timeout = float(idle_timeout)
        self._pool = ThreadPoolExecutor(max_workers=max(1, int(workers)), thread_name_prefix="facerig-viewer")
        self._open: dict[socket.socket, Any] = {}  # socket -> client address
        self._lock = threading.Lock()
        self._parked: queue.SimpleQueue = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._closing = threading.Event()
        self._room = threading.Thread(target=self._waiting_room, name="facerig-viewer-idle", daemon=True)
        self._room.start()
        super().__init__(address, handler)  # on a bind error it calls server_close, which stops the room

    # -- connection life cycle: accept -> park -> (readable) worker -> park ... -> close

    def process_request(self, request, client_address) -> None:
        with self._lock:
            full = len(self._open) >= MAX_PENDING
            if not full:
                self._open[request] = client_address
        if full:
            self.shutdown_request(request)
            return
        with contextlib.suppress(OSError):  # small responses on a kept-alive connection: no Nagle delay
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._dispatch(request)

    def _dispatch(self, sock: socket.socket) -> None:
        """To a worker at once when the request is already there, else to the waiting room."""
        if not _readable(sock):
            self._park(sock)
            return
        try:
            self._pool.submit(self._serve, sock)
        except RuntimeError:  # pool shut down
            self._forget(sock)

    def _park(self, sock: socket.socket) -> None:
        self._parked.put(sock)
        try:
            self._wake_w.send(b"\0")
        except OSError:  # wake-up pipe full (the room is awake anyway) or closed
            pass

    def _waiting_room(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._wake_r, selectors.EVENT_READ)
        since: dict[socket.socket, float] = {}
        try:
            while not self._closing.is_set():
                for key, _ in sel.select(timeout=min(0.5, self.idle_timeout / 4)):
                    sock = key.fileobj
                    if sock is self._wake_r:
                        with contextlib.suppress(OSError):
                            while self._wake_r.recv(4096):
                                pass
                        continue
                    sel.unregister(sock)
                    since.pop(sock, None)
                    try:
                        self._pool.submit(self._serve, sock)
                    except RuntimeError:  # pool shut down
                        self._forget(sock)
                while True:
                    try:
                        sock = self._parked.get_nowait()
                    except queue.Empty:
                        break
                    try:
                        sel.register(sock, selectors.EVENT_READ)
                        since[sock] = time.monotonic()
                    except (ValueError, KeyError, OSError):  # closed meanwhile
                        self._forget(sock)
                now = time.monotonic()
                for sock in [s for s, t in since.items() if now - t > self.idle_timeout]:
                    sel.unregister(sock)
                    del since[sock]
                    self._forget(sock)
        finally:
            sel.close()

    def _serve(self, sock: socket.socket) -> None:
        """Answer the request(s) waiting on ``sock``; park it again if it stays open."""
        keep = False
        try:
            handler = self.RequestHandlerClass(sock, self._open.get(sock), self)
            keep = handler.keep_open and not self._closing.is_set()
        except Exception:  # noqa: BLE001 - one bad connection never stops the server
            if self.viewer.verbose:
                self.handle_error(sock, self._open.get(sock))
        if keep:
            self._park(sock)
        else:
            self._forget(sock)

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            known = self._open.pop(sock, None) is not None
        if known:
            self.shutdown_request(sock)

    def open_connections(self) -> int:
        """Connections accepted and not yet closed (being served or waiting)."""
        with self._lock:
            return len(self._open)

    def server_close(self) -> None:
        self._closing.set()
        super().server_close()
        with contextlib.suppress(OSError):  # wake the room so that it sees _closing
            self._wake_w.send(b"\0")
        self._room.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            pending = list(self._open)
        for sock in pending:
            self._forget(sock)
        self._wake_r.close()
        self._wake_w.close()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "facerig-viewer"

    keep_open = False  # set by handle(): park the connection for its next request
    wbufsize = -1  # headers and body leave in one send (handle_one_request flushes after each request)

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # a request must arrive in full without such a pause
        super().setup()

    def handle(self) -> None:
        """Answer the request that woke this connection, and any already sent behind it; the
        connection then goes back to the server's waiting room instead of holding this thread."""
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection and self._more_input():
            self.handle_one_request()
        self.keep_open = not self.close_connection

    def _more_input(self) -> bool:
        """True when bytes of a next request are already buffered or readable right now."""
        try:
            self.connection.settimeout(0)
            return bool(self.rfile.peek(1))
        except (OSError, ValueError):
            return False
        finally:
            with contextlib.suppress(OSError):
                self.connection.settimeout(self.timeout)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.viewer.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, ctype: str, *, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _host_ok(self) -> bool:
        # DNS-rebinding guard: answer only requests addressed to this loopback server by name
        host = self.headers.get("Host")
        return host is not None and host.strip().lower() in self.server.viewer.allowed_hosts

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_GET(self) -> None:
        self._route(head=False)

    def _route(self, *, head: bool) -> None:
        v = self.server.viewer
        if not self._host_ok():
            self._send(HTTPStatus.FORBIDDEN, b"forbidden host\n", "text/plain", head=head)
            return
        path = unquote(urlsplit(self.path).path)
        try:
            if path in ("/", "/index.html"):
                self._send(200, v.static["index.html"], ASSET_TYPES[".html"], head=head)
            elif path == "/rig.json":
                self._send(200, v.rig_json, "application/json", head=head)
            elif path == "/rig.bin":
                self._send(200, v.payload.data, "application/octet-stream", head=head)
            elif path == "/anim.json":
                if v.anim_json is None:
                    self._send(404, b'{"error": "no animation"}', "application/json", head=head)
                else:
                    self._send(200, v.anim_json, "application/json", head=head)
            elif path == "/favicon.ico":
                self._send(204, b"", "image/x-icon", head=head)
            elif path.startswith("/static/") and path[len("/static/") :] in v.static:
                name = path[len("/static/") :]
                ext = "." + name.rsplit(".", 1)[-1] if "." in name else ""
                ctype = ASSET_TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"
                self._send(200, v.static[name], ctype, head=head)
            else:
                self._send(404, b"not found\n", "text/plain", head=head)
        except (BrokenPipeError, ConnectionResetError):
            pass


class ViewerServer:
    """Serve one rig (and optionally one animation) to a browser on a loopback address.

    Args:
        rig: the rig to show.
        host: a loopback host (``127.0.0.1`` default, ``localhost``, ``::1``); others raise.
        port: TCP port; 0 picks a free one. A port in use raises :class:`FacerigError`.
        animation: optional :class:`~facerig.viewer.animation.Animation` (see ``load_animation``).
        title, up, forward: passed to :func:`~facerig.viewer.payload.build_payload`.
        verbose: log each request to stderr.
        workers: threads serving connections (a pool; more connections wait for a free one).
        idle_timeout: seconds a connection may stay silent (before or between requests).
    """

    def __init__(
        self,
        rig: Rig,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        animation: Animation | None = None,
        title: str | None = None,
        up: str | None = None,
        forward: str | None = None,
        normals: bool | str = "auto",
        verbose: bool = False,
        workers: int = WORKERS,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.verbose = verbose
        addr = check_loopback(host)
        self.static = _static_files()
        self.payload: Payload = build_payload(rig, title=title, up=up, forward=forward, normals=normals)
        self.anim_json: bytes | None = None
        if animation is not None:
            self.payload.info["animation"] = {
                k: v for k, v in animation.to_json().items() if k not in ("times", "weights")
            }
            self.anim_json = json.dumps(animation.to_json(), separators=(",", ":")).encode()
        self.rig_json = self.payload.json_bytes()

        cls = type("_BoundServer", (_Server,), {"address_family": socket.AF_INET6 if ":" in addr else socket.AF_INET})
        try:
            self._httpd = cls((addr, int(port)), _Handler, workers=workers, idle_timeout=idle_timeout)
        except OSError as e:
            raise FacerigError(
                f"cannot listen on {addr} port {port}: {e.strerror or e}"
                + ("; pass --port 0 for any free port" if port else "")
            ) from None
        self._httpd.viewer = self
        self._thread: threading.Thread | None = None
        self.host, self.port = addr, int(self._httpd.server_address[1])
        self.allowed_hosts = allowed_hosts(self.port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def serve_forever(self) -> None:
        """Block serving requests until :meth:`shutdown` (from another thread) or Ctrl-C."""
        self._httpd.serve_forever(poll_interval=0.2)

    def start(self) -> ViewerServer:
        """Serve in a daemon thread and return at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.serve_forever, name="facerig-viewer", daemon=True)
            self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

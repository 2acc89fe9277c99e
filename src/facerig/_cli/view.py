"""``facerig view RIG``: an interactive local viewer for a rig (sliders, search, orbit, playback)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path

from facerig.errors import FacerigError

DEFAULT_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "rig",
        help="rig: .npz (facerig rig), .glb/.gltf with morph targets, .fbx with shape keys "
        "or an OBJ rig folder (rig.json)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"TCP port (default {DEFAULT_PORT}, or any free port if that is taken; 0 = any free port)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address to bind (127.0.0.1, localhost or ::1; nothing else is allowed)",
    )
    parser.add_argument(
        "--animation",
        metavar="TAKE_OR_GLB",
        help="animation to play: a take (Live Link Face CSV, MediaPipe JSON... via "
        "facerig.io.takes), a .glb with a weights animation, or JSON "
        "{fps, names, frames}; a .glb RIG plays its own animation by default",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument("--up", default=None, help="the mesh's up axis (+y default, or the rig's meta)")
    parser.add_argument("--forward", default=None, help="the axis the face looks along (+z default)")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")


def _serve(args: argparse.Namespace, rig, animation):
    from facerig.viewer.server import ViewerServer

    kw = {
        "host": args.host,
        "animation": animation,
        "up": args.up,
        "forward": args.forward,
        "verbose": args.verbose,
        "title": Path(args.rig).name,
    }
    if args.port is not None:
        return ViewerServer(rig, port=args.port, **kw)
    try:
        return ViewerServer(rig, port=DEFAULT_PORT, **kw)
    except FacerigError as e:
        if "port" not in str(e):
            raise
        return ViewerServer(rig, port=0, **kw)


def _open_browser(url: str) -> None:
    """Open ``url`` in a graphical browser; on a display-less Linux box just print the URL
    (``webbrowser`` would otherwise start a text browser such as lynx in this terminal)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        port = url.rstrip("/").rsplit(":", 1)[-1]
        print(
            f"no display: open the URL in a browser (remote machine: ssh -L {port}:127.0.0.1:{port} HOST)", flush=True
        )
        return
    import webbrowser

    with contextlib.suppress(Exception):  # no browser is fine, the URL is printed
        webbrowser.open(url)


def run(args: argparse.Namespace) -> int:
    from facerig.io.rigfile import read_rig

    rig = read_rig(args.rig)
    from facerig.viewer.animation import load_animation

    animation = None
    if args.animation:
        animation = load_animation(args.animation, rig.names)
    elif Path(args.rig).suffix.lower() in (".glb", ".gltf"):
        try:  # a GLB written with an animation (facerig animate) plays it
            animation = load_animation(args.rig, rig.names)
        except FacerigError:
            animation = None
    server = _serve(args, rig, animation)

    def _stop(signum, frame):  # SIGTERM behaves like Ctrl-C: close the socket, exit 0
        raise KeyboardInterrupt

    # SIGINT explicitly too: a process started in the background by a shell inherits SIGINT as
    # ignored, and Python then never raises KeyboardInterrupt for Ctrl-C / kill -INT.
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        extra = ""
        if animation is not None:
            extra = f"; animation {len(animation.times)} frames, {len(animation.names)} channels"
            if animation.unmatched:
                extra += f" ({len(animation.unmatched)} unmatched: {', '.join(animation.unmatched[:5])})"
        print(f"facerig viewer: {rig.num_vertices} vertices, {len(rig.names)} shapes{extra}", flush=True)
        print(f"serving {server.url}  (Ctrl-C to stop)", flush=True)
        if not args.no_browser:
            _open_browser(server.url)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr, flush=True)
    finally:
        server.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0

"""Interactive local rig viewer (``facerig view``).

A page of our own (three.js r187 vendored in ``facerig/assets/viewer``; no CDN, no network)
served from Python's ``http.server`` on a loopback address. The neutral mesh and the (K, V, 3)
deltas go to the browser as float32 binary and are morphed on the GPU
(``morphTargetInfluences``): one slider per shape, search, reset, orbit, the neutral side by
side, and playback of an animation (JSON frames, a glTF weights animation, or a take readable
by :mod:`facerig.io.takes`).
"""

from facerig.viewer.animation import Animation, load_animation
from facerig.viewer.payload import Payload, build_payload
from facerig.viewer.server import ViewerServer

__all__ = ["Animation", "Payload", "ViewerServer", "build_payload", "load_animation"]

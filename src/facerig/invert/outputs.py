"""Write solved weights: Live Link Face CSV, MediaPipe-style JSON, or an animated GLB of a rig.

The CSV and JSON are what :func:`facerig.io.takes.read_take` reads back (same weights to the
written precision, same times), so a solved take can drive any rig with ``facerig animate``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from facerig.arkit import ARKIT52
from facerig.errors import FacerigError
from facerig.io.atomic import write_text_atomic
from facerig.io.takes import ROTATION_COLUMNS, STANDARD_RATES

#: Live Link Face's shape column order (as the iPhone app writes it; it differs from Apple's list)
LIVELINK_ORDER: tuple[str, ...] = (
    "EyeBlinkLeft",
    "EyeLookDownLeft",
    "EyeLookInLeft",
    "EyeLookOutLeft",
    "EyeLookUpLeft",
    "EyeSquintLeft",
    "EyeWideLeft",
    "EyeBlinkRight",
    "EyeLookDownRight",
    "EyeLookInRight",
    "EyeLookOutRight",
    "EyeLookUpRight",
    "EyeSquintRight",
    "EyeWideRight",
    "JawForward",
    "JawRight",
    "JawLeft",
    "JawOpen",
    "MouthClose",
    "MouthFunnel",
    "MouthPucker",
    "MouthRight",
    "MouthLeft",
    "MouthSmileLeft",
    "MouthSmileRight",
    "MouthFrownLeft",
    "MouthFrownRight",
    "MouthDimpleLeft",
    "MouthDimpleRight",
    "MouthStretchLeft",
    "MouthStretchRight",
    "MouthRollLower",
    "MouthRollUpper",
    "MouthShrugLower",
    "MouthShrugUpper",
    "MouthPressLeft",
    "MouthPressRight",
    "MouthLowerDownLeft",
    "MouthLowerDownRight",
    "MouthUpperUpLeft",
    "MouthUpperUpRight",
    "BrowDownLeft",
    "BrowDownRight",
    "BrowInnerUp",
    "BrowOuterUpLeft",
    "BrowOuterUpRight",
    "CheekPuff",
    "CheekSquintLeft",
    "CheekSquintRight",
    "NoseSneerLeft",
    "NoseSneerRight",
    "TongueOut",
)
ROTATIONS = ROTATION_COLUMNS  # the Live Link Face rotation columns, as the takes reader knows them
_RATES = STANDARD_RATES


def _times(T: int, times: np.ndarray | None, fps: float) -> np.ndarray:
    if times is None:
        return np.arange(T, dtype=np.float64) / fps
    times = np.asarray(times, np.float64)
    if times.shape != (T,) or (T > 1 and (np.diff(times) <= 0).any()):
        raise FacerigError("frame times must be (T,) and strictly increasing")
    return times - times[0]


def livelink_csv(W: np.ndarray, times: np.ndarray | None = None, fps: float = 60.0) -> str:
    """Live Link Face CSV text: ``Timecode, BlendShapeCount``, the 52 shapes, 9 rotation columns (0).

    Args:
        W: (T, 52) weights in :data:`facerig.arkit.ARKIT52` order. times: (T,) seconds (None:
            ``arange(T) / fps``). fps: frame rate; the timecode rate is the standard rate nearest it.

    Timecodes are ``HH:MM:SS:FF.fff`` at that rate, as the app writes them. A take shorter than a
    second starts on the last frame of second 0, so the reader sees a seconds rollover and infers
    the rate (relative times are unchanged).
    """
    W = np.asarray(W, np.float64)
    T = W.shape[0]
    t = _times(T, times, fps)
    rate = min(_RATES, key=lambda r: abs(r - fps))
    if T > 1 and t[-1] < 1.0:
        t = t + (rate - 1) / rate
    secs = np.floor(t + 1e-9)
    frac = (t - secs) * rate
    ff = np.floor(frac + 1e-6)
    sub = np.clip(frac - ff, 0.0, 0.999)
    col = [ARKIT52.index(n[0].lower() + n[1:]) for n in LIVELINK_ORDER]
    lines = [",".join(("Timecode", "BlendShapeCount") + LIVELINK_ORDER + ROTATIONS)]
    zeros = ",".join(["0.0000000000"] * len(ROTATIONS))
    for i in range(T):
        s = int(secs[i])
        tc = f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{int(ff[i]):02d}.{round(sub[i] * 1000):03d}"
        lines.append(f"{tc},61," + ",".join(f"{v:.10f}" for v in W[i, col]) + "," + zeros)
    return "\n".join(lines) + "\n"


def mediapipe_json(W: np.ndarray, times: np.ndarray | None = None, fps: float = 60.0) -> str:
    """MediaPipe-style JSON: ``{"fps", "frames": [{"timestamp_ms", "categories": [{"index",
    "categoryName", "score"}, ...]}]}`` with the 52 ARKit names (MediaPipe's own list has no
    ``tongueOut`` and a ``_neutral`` first; we write ``_neutral`` with score 0 and keep ``tongueOut``).

    Args:
        W: (T, 52) ARKit-order weights. times: (T,) seconds or None.
    """
    W = np.asarray(W, np.float64)
    t = _times(W.shape[0], times, fps)
    names = ("_neutral",) + ARKIT52
    frames = []
    for i in range(W.shape[0]):
        scores = (0.0,) + tuple(float(round(v, 8)) for v in W[i])
        frames.append(
            {
                "timestamp_ms": float(t[i]) * 1000.0,
                "categories": [
                    {"index": k, "categoryName": n, "score": s} for k, (n, s) in enumerate(zip(names, scores))
                ],
            }
        )
    return json.dumps({"fps": fps, "frames": frames}, separators=(",", ":"))


def output_kind(path: str | os.PathLike) -> str:
    """``"csv"``, ``"json"`` or ``"glb"`` from an output path's suffix."""
    suffix = Path(path).suffix.lower()
    kinds = {".csv": "csv", ".json": "json", ".glb": "glb", ".gltf": "glb"}
    if suffix not in kinds:
        raise FacerigError(
            f"output {path}: unknown suffix {Path(path).suffix!r}; use .csv (Live Link Face), "
            ".json (MediaPipe-style) or .glb/.gltf (animated head)"
        )
    return kinds[suffix]


def write_weights(
    path: str | os.PathLike,
    W: np.ndarray,
    *,
    times: np.ndarray | None = None,
    fps: float = 60.0,
    rig=None,
    mesh=None,
    name: str = "inverted",
    extras: dict | None = None,
) -> dict:
    """Write (T, 52) ARKit-order weights by the suffix of ``path``.

    Args:
        W: (T, 52) weights. times: (T,) seconds or None (``arange(T) / fps``).
        rig, mesh: the rig (and its :class:`facerig.io.mesh.Mesh` for UVs / materials) an animated
            .glb/.gltf is written for (required for those suffixes).

    Returns:
        summary: ``path``, ``kind``, ``frames``, ``bytes``.
    """
    kind = output_kind(path)
    W = np.asarray(W, np.float64)
    if W.ndim != 2 or W.shape[1] != 52:
        raise FacerigError(f"weights must be (T, 52), got {W.shape}")
    if kind == "csv":
        text = livelink_csv(W, times, fps)
        write_text_atomic(path, text)
        size = len(text)
    elif kind == "json":
        text = mediapipe_json(W, times, fps)
        write_text_atomic(path, text)
        size = len(text)
    else:
        if rig is None:
            raise FacerigError(f"output {path}: an animated glTF needs a rig")
        from facerig.invert.solver import arkit_to_rig_weights
        from facerig.io.gltf import GltfAnimation, save_rig_gltf

        t = _times(W.shape[0], times, fps)
        anim = GltfAnimation(
            weights=arkit_to_rig_weights(rig.names, W).astype(np.float32), times=t, fps=fps, name=name, extras=extras
        )
        size = int(save_rig_gltf(path, rig, mesh, animation=anim)["bytes"])
    return {"path": str(path), "kind": kind, "frames": int(W.shape[0]), "bytes": size}

"""Face-tracking takes: per-frame ARKit blendshape weights from Live Link Face, MediaPipe, JSON, CSV.

:func:`read_take` auto-detects the format:

- **Live Link Face CSV** (header starts ``Timecode,BlendShapeCount,EyeBlinkLeft,...``): 52
  PascalCase shape columns, then ``HeadYaw, HeadPitch, HeadRoll, LeftEyeYaw, LeftEyePitch,
  LeftEyeRoll, RightEyeYaw, RightEyePitch, RightEyeRoll``. Timecodes ``HH:MM:SS:FF.fff`` are
  SMPTE-style: ``FF`` counts frames at the *timecode rate* R and ``.fff`` is a sub-frame
  fraction. R is the largest ``FF`` seen before a seconds rollover + 1 (snapped to 24, 25, 30,
  48, 50, 60, 120); takes shorter than a second carry no rollover, so R is then the smallest
  standard rate above the largest ``FF`` unless ``fps`` is given. Frame times are
  ``(H*3600 + M*60 + S) + (FF + fff) / R`` relative to the first frame; the take's frame rate is
  ``1 / median(dt)``. With ``fps=`` the timecodes are ignored and frame ``i`` is at ``i / fps``.
- **JSON**: a list of frames, or ``{"fps": .., "frames": [..]}``. A frame is ``{name: weight}``,
  or a dict holding such a mapping / list under ``blendshapes`` / ``blendShapes`` /
  ``weights`` / ``faceBlendshapes`` / ``face_blendshapes`` / ``categories`` (plus optional
  ``time`` / ``t`` seconds or ``timestamp_ms`` / ``timestampMs``), or MediaPipe's category list
  ``[{"categoryName": "eyeBlinkLeft", "score": 0.1}, ...]`` (possibly nested per face: the
  first face is used).
- **MediaPipe Tasks** FaceLandmarker results: one result is one frame, in the JavaScript
  layout ``{"faceBlendshapes": [{"categories": [{"index", "score", "categoryName",
  "displayName"}, ...]}, ...]}`` or the Python one (``dataclasses.asdict``)
  ``{"face_blendshapes": [[{"index", "score", "category_name", "display_name"}, ...]]}``;
  a file holds one result, a list of results, or a list of ``{"timestampMs" |
  "timestamp_ms": ms, "faceBlendshapes" | "face_blendshapes": ...}`` whose timestamps give the
  frame times. The first face of each frame is used; a frame in which MediaPipe found no face
  (an empty list) is an error naming the frame, like a NaN weight. A category without a name
  is named by its ``index`` in MediaPipe's blendshape order (``_neutral``, then the 51 ARKit
  names without ``tongueOut``, alphabetically). MediaPipe's ``_neutral`` category is ignored.
- **CSV of named weights**: a header of shape names, optional time column (``time``, ``t``,
  ``seconds``, ``timestamp`` in seconds; ``timestamp_ms`` / ``time_ms`` in ms; ``frame``:
  frame numbers at ``fps``).

Names are matched with :func:`facerig.arkit.canonical_name` (``EyeBlinkLeft``, ``eyeBlink_L``,
``eye_blink_left`` are all ``eyeBlinkLeft``), never by column position. Policies:

- unknown columns: ignored and listed once in ``take.unknown`` (``strict=True``: error);
- head / eye rotation columns (Live Link Face): kept in ``take.extra`` (radians as recorded)
  but not applied to the rig (listed in ``take.notes``);
- ARKit shapes missing from the take: weight 0, listed in ``take.missing``;
- NaN / empty / non-numeric weight: **error** naming the row (1-based file line for CSV,
  0-based frame for JSON) and the column, because silently zeroing a tracking dropout makes
  the face snap to neutral; a non-numeric rotation or time cell is an error too (an empty
  rotation cell is kept as NaN);
- files larger than :func:`facerig.io.limits.max_file_bytes` (2 GB, ``FACERIG_MAX_FILE_BYTES``)
  and JSON nested too deeply to parse are refused with one line;
- values outside [0, 1]: clamped, with a note counting them (``strict=True``: error);
- empty take (no frames) or no known shape column: error.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facerig.arkit import ARKIT52, canonical_name
from facerig.errors import FacerigError
from facerig.io.limits import max_file_bytes

#: Live Link Face rotation columns (kept in Take.extra, not applied)
ROTATION_COLUMNS = (
    "HeadYaw",
    "HeadPitch",
    "HeadRoll",
    "LeftEyeYaw",
    "LeftEyePitch",
    "LeftEyeRoll",
    "RightEyeYaw",
    "RightEyePitch",
    "RightEyeRoll",
)
_ROT_KEYS = {c.lower() for c in ROTATION_COLUMNS}
#: Frame rates a take's timecodes are snapped to.
STANDARD_RATES = (24.0, 25.0, 30.0, 48.0, 50.0, 60.0, 120.0)
_TIME_SECONDS = ("time", "t", "seconds", "sec", "timestamp", "time_s")
_TIME_MS = ("timestamp_ms", "timestampms", "time_ms", "ms")
_TIMECODE_RE = re.compile(r"^\s*(\d{1,6}):(\d{1,2}):(\d{1,2})[:;.](\d{1,4})(?:\.(\d{1,9}))?\s*$")
#: plausible frame rates (a rate outside is a damaged file or a wrong --fps)
MIN_FPS, MAX_FPS = 1e-3, 1e4


@dataclass
class Take:
    """Per-frame ARKit-52 weights.

    Attributes:
        weights: (T, 52) float64 in :data:`facerig.arkit.ARKIT52` order, clamped to [0, 1].
        times: (T,) float64 seconds from the first frame, strictly increasing.
        fps: frame rate (given, from the file, or 1 / median frame interval).
        present: (52,) bool, True for shapes the take has a column for.
        source: file path.
        format: ``"livelinkface"``, ``"json"``, ``"mediapipe"`` or ``"csv"``.
        unknown: columns that are neither ARKit shapes nor time / rotation columns (ignored).
        missing: ARKit names absent from the take (weight 0).
        extra: other numeric columns kept as (T,) arrays (head / eye rotations).
        notes: human-readable notes (clamping, frame rate derivation, ignored rotations).
    """

    weights: np.ndarray
    times: np.ndarray
    fps: float
    present: np.ndarray
    source: str = ""
    format: str = ""
    unknown: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        return int(self.weights.shape[0])

    def swap_mouth_lr(self) -> None:
        """Swap the ``mouthLeft`` / ``mouthRight`` columns in place (see ``facerig animate --help``)."""
        i, j = ARKIT52.index("mouthLeft"), ARKIT52.index("mouthRight")
        self.weights[:, [i, j]] = self.weights[:, [j, i]]
        self.present[[i, j]] = self.present[[j, i]]
        self.notes.append("mouthLeft/mouthRight swapped (--swap-mouth-lr)")

    def for_rig(self, rig_names: list[str]) -> tuple[np.ndarray, list[str], list[str]]:
        """Weights for a rig's shapes.

        Args:
            rig_names: (K,) the rig's shape names (ARKit or ICT style; matched canonically).

        Returns:
            ``(weights (T, K) float64, unmatched_rig_names, driven_but_absent)``: rig shapes the
            take cannot drive (weight 0), and ARKit shapes with non-zero weights in the take
            that the rig lacks.
        """
        W = np.zeros((self.num_frames, len(rig_names)))
        unmatched, used = [], set()
        for k, n in enumerate(rig_names):
            c = canonical_name(n)
            if c is None:
                unmatched.append(n)
                continue
            W[:, k] = self.weights[:, ARKIT52.index(c)]
            used.add(c)
        absent = [n for i, n in enumerate(ARKIT52) if n not in used and np.any(self.weights[:, i] != 0)]
        return W, unmatched, absent


# --------------------------------------------------------------------------- entry point


def read_take(path: str | os.PathLike, *, fps: float | None = None, strict: bool = False) -> Take:
    """Read a take file (format auto-detected; see module docstring).

    Args:
        path: ``.csv`` (Live Link Face or named-weights CSV) or ``.json``.
        fps: frame rate override: frame ``i`` is at ``i / fps`` (file times ignored).
        strict: unknown columns and out-of-range weights are errors instead of notes.

    Returns:
        :class:`Take` with weights (T, 52), times (T,).

    Raises:
        FacerigError: missing/unreadable file, unknown format, empty take, NaN or non-numeric
            weights (with row and column), no known shape column, bad timestamps.
    """
    path = Path(path)
    if fps is not None and not (fps > 0 and math.isfinite(fps)):
        raise FacerigError(f"--fps must be a positive number, got {fps}")
    if fps is not None and not (MIN_FPS <= fps <= MAX_FPS):
        raise FacerigError(f"--fps {fps:g} is not a plausible frame rate ({MIN_FPS:g} to {MAX_FPS:g})")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FacerigError(f"{path}: no such take file") from None
    except OSError as e:
        raise FacerigError(f"{path}: cannot read ({e.strerror or e})") from None
    limit = max_file_bytes()
    if limit is not None and size > limit and not path.is_dir():
        raise FacerigError(
            f"{path}: take file is {size:,} bytes, over the limit of {limit:,} (set FACERIG_MAX_FILE_BYTES to raise it)"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FacerigError(f"{path}: no such take file") from None
    except IsADirectoryError:
        raise FacerigError(f"{path}: is a folder, not a take file") from None
    except UnicodeDecodeError:
        raise FacerigError(f"{path}: not a text file (expected a CSV or JSON take)") from None
    except OSError as e:
        raise FacerigError(f"{path}: cannot read ({e.strerror or e})") from None
    if not text.strip():
        raise FacerigError(f"{path}: empty take (no frames)")
    head = text.lstrip()[:1]
    if path.suffix.lower() == ".json" or head in "[{":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise FacerigError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
        except RecursionError:
            raise FacerigError(f"{path}: JSON nested too deeply to be a take") from None
        return _from_json(data, path, fps, strict)
    return _from_csv(text, path, fps, strict)


# --------------------------------------------------------------------------- column handling


def _classify(columns: list[str], path: Path, strict: bool) -> tuple[dict[int, int], dict[int, str], list[str]]:
    """columns -> ({col: ARKit index}, {col: rotation name}, unknown names)."""
    shapes: dict[int, int] = {}
    rot: dict[int, str] = {}
    unknown: list[str] = []
    seen: dict[int, str] = {}
    for j, c in enumerate(columns):
        name = c.strip()
        if name == "_neutral":
            continue
        canon = canonical_name(name)
        if canon is not None:
            k = ARKIT52.index(canon)
            if k in seen:
                raise FacerigError(f"{path}: columns {seen[k]!r} and {name!r} are both {canon}")
            seen[k] = name
            shapes[j] = k
        elif name.lower() in _ROT_KEYS:
            rot[j] = name
        elif name:
            unknown.append(name)
    if strict and unknown:
        raise FacerigError(f"{path}: unknown columns (--strict): {', '.join(map(_label, unknown))}")
    if not shapes:
        shown = ", ".join(_label(c) for c in columns[:8] if c.strip())
        raise FacerigError(
            f"{path}: no ARKit blendshape columns found (columns: {shown or 'none'}"
            f"{', ...' if len(columns) > 8 else ''})"
        )
    return shapes, rot, unknown


def _label(name: str) -> str:
    """A column name for a one-line message: control characters escaped, long names cut."""
    r = name.strip()
    if not r.isprintable():
        r = repr(r)[1:-1]
    return r if len(r) <= 40 else r[:37] + "..."


def _finish(
    W: np.ndarray,
    present: np.ndarray,
    times: np.ndarray | None,
    fps: float | None,
    path: Path,
    fmt: str,
    unknown: list[str],
    extra: dict[str, np.ndarray],
    notes: list[str],
    strict: bool,
    rows: list[str] | None = None,
) -> Take:
    """Common tail: clamp, times, fps, missing list."""
    T = W.shape[0]
    if T == 0:
        raise FacerigError(f"{path}: empty take (no frames)")
    out = (W < 0) | (W > 1)
    if out.any():
        r, c = np.argwhere(out)[0]
        where = rows[r] if rows else f"frame {r}"
        if strict:
            raise FacerigError(f"{path}: {where}, {ARKIT52[c]}: weight {W[r, c]:g} outside [0, 1] (--strict)")
        notes.append(f"{int(out.sum())} weight(s) outside [0, 1] clamped (first: {where}, {ARKIT52[c]} = {W[r, c]:g})")
        W = np.clip(W, 0.0, 1.0)
    if fps is not None:
        times = np.arange(T, dtype=np.float64) / fps
        notes.append(f"frame rate {fps:g} fps (given; file timestamps ignored)")
    elif times is None:
        fps = 60.0
        times = np.arange(T, dtype=np.float64) / fps
        notes.append("no timestamps in the take: assuming 60 fps (use --fps)")
    else:
        with np.errstate(all="ignore"):  # 1e308-sized times are refused just below, not warned about
            times = np.asarray(times, np.float64) - float(times[0])
            dt = np.diff(times)
        if not np.isfinite(times).all():
            raise FacerigError(f"{path}: frame times out of range (over 1e308 s apart); use --fps to ignore them")
        if (dt <= 0).any():
            i = int(np.flatnonzero(dt <= 0)[0]) + 1
            where = rows[i] if rows else f"frame {i}"
            raise FacerigError(
                f"{path}: {where}: time does not increase ({times[i - 1]:.6g} s -> {times[i]:.6g} s); use --fps to ignore file times"
            )
        with np.errstate(all="ignore"):  # sub-normal intervals are refused just below
            fps = round(float(1.0 / np.median(dt)), 6) if T > 1 else 60.0
        if not (MIN_FPS <= fps <= MAX_FPS):
            raise FacerigError(
                f"{path}: frame times give {fps:.6g} fps, not a plausible frame rate "
                f"({MIN_FPS:g} to {MAX_FPS:g}); use --fps to ignore them"
            )
    missing = [n for i, n in enumerate(ARKIT52) if not present[i]]
    if extra:
        notes.append(f"rotation columns not applied to the rig (kept in the take): {', '.join(extra)}")
    return Take(
        weights=W,
        times=times,
        fps=float(fps),
        present=present,
        source=str(path),
        format=fmt,
        unknown=unknown,
        missing=missing,
        extra=extra,
        notes=notes,
    )


def _number(s: str, path: Path, where: str, col: str, what: str = "weight") -> float:
    """One CSV cell -> a finite float (FacerigError naming the row and column otherwise)."""
    s = s.strip()
    try:
        v = float(s)
    except ValueError:
        if not s:
            raise FacerigError(f"{path}: {where}, column {col!r}: empty value (NaN {what}s are errors)") from None
        raise FacerigError(f"{path}: {where}, column {col!r}: {s[:20]!r} is not a number") from None
    if not math.isfinite(v):
        raise FacerigError(f"{path}: {where}, column {col!r}: {s[:20]!r} (NaN / infinite {what}s are errors)")
    return v


# --------------------------------------------------------------------------- CSV


def _from_csv(text: str, path: Path, fps: float | None, strict: bool) -> Take:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        rows_raw = [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    except csv.Error as e:
        raise FacerigError(f"{path}: line {reader.line_num + 1}: not a readable CSV row ({e})") from None
    if not rows_raw:
        raise FacerigError(f"{path}: empty take (no frames)")
    header = [c.strip() for c in rows_raw[0][1]]
    body = rows_raw[1:]
    if not body:
        raise FacerigError(f"{path}: empty take (a header but no frames)")
    lower = [h.lower() for h in header]
    llf = "timecode" in lower and any(h.replace(" ", "") == "blendshapecount" for h in lower)
    time_col = time_scale = None
    frame_col = tc_col = None
    skip: set[int] = set()
    if llf:
        tc_col = lower.index("timecode")
        skip.add(tc_col)
        skip.add(next(j for j, h in enumerate(lower) if h.replace(" ", "") == "blendshapecount"))
    else:
        for j, h in enumerate(lower):
            if h in _TIME_SECONDS and time_col is None:
                time_col, time_scale = j, 1.0
            elif h in _TIME_MS and time_col is None:
                time_col, time_scale = j, 1e-3
            elif h in ("frame", "frames", "frame_index") and frame_col is None:
                frame_col = j
            elif h == "timecode" and tc_col is None:
                tc_col = j
        skip.update(c for c in (time_col, frame_col, tc_col) if c is not None)
    cols = [h if j not in skip else "" for j, h in enumerate(header)]
    shapes, rot, unknown = _classify(cols, path, strict)

    T = len(body)
    W = np.zeros((T, 52))
    present = np.zeros(52, bool)
    present[list(shapes.values())] = True
    extra = {name: np.zeros(T) for name in rot.values()}
    times = np.zeros(T) if (time_col is not None or frame_col is not None) else None
    tcs: list[str] = []
    rows = [f"line {ln}" for ln, _ in body]
    for i, (ln, r) in enumerate(body):
        where = f"line {ln}"
        if len(r) < len(header):
            r = r + [""] * (len(header) - len(r))
        for j, k in shapes.items():
            W[i, k] = _number(r[j], path, where, header[j])
        for j, name in rot.items():
            cell = r[j].strip()
            extra[name][i] = _number(cell, path, where, header[j], what="rotation") if cell else float("nan")
        if time_col is not None:
            times[i] = _number(r[time_col], path, where, header[time_col]) * time_scale
        elif frame_col is not None:
            times[i] = _number(r[frame_col], path, where, header[frame_col])
        if tc_col is not None:
            tcs.append(r[tc_col])
    notes: list[str] = []
    fmt = "livelinkface" if llf else "csv"
    if frame_col is not None and time_col is None and fps is None:
        rate = 60.0
        notes.append("frame numbers without a frame rate: assuming 60 fps (use --fps)")
        times = times / rate
    elif frame_col is not None and time_col is None:
        times = None  # --fps below
    if tc_col is not None and time_col is None and frame_col is None and fps is None:
        times, rate_note = timecodes_to_seconds(tcs, path, rows)
        notes.append(rate_note)
    return _finish(W, present, times, fps, path, fmt, unknown, extra, notes, strict, rows)


def timecodes_to_seconds(
    tcs: list[str], path: Path | str = "", rows: list[str] | None = None
) -> tuple[np.ndarray, str]:
    """Live Link Face timecodes ``HH:MM:SS:FF[.fff]`` (T,) -> (seconds (T,), note on the rate).

    See the module docstring for how the timecode rate is derived.
    """
    parts = []
    for i, tc in enumerate(tcs):
        m = _TIMECODE_RE.match(tc)
        if not m:
            where = rows[i] if rows else f"frame {i}"
            raise FacerigError(f"{path}: {where}: bad timecode {tc[:30]!r} (expected HH:MM:SS:FF.fff)")
        h, mi, s, ff = (int(m.group(k)) for k in range(1, 5))
        sub = float("0." + m.group(5)) if m.group(5) else 0.0
        parts.append((h * 3600 + mi * 60 + s, ff, sub))
    secs = np.array([p[0] for p in parts], np.float64)
    ff = np.array([p[1] for p in parts], np.float64)
    sub = np.array([p[2] for p in parts], np.float64)
    roll = np.flatnonzero(np.diff(secs) > 0)
    if len(roll):
        top = max(ff[i] for i in roll) + 1
        rate = min(STANDARD_RATES, key=lambda r: abs(r - top)) if top <= 121 else top
        note = f"timecode rate {rate:g} fps (from frame numbers at second rollovers)"
    else:
        top = ff.max() + 1
        rate = next((r for r in STANDARD_RATES if r >= top), top)
        note = (
            f"timecode rate {rate:g} fps assumed (take shorter than a second rollover, max frame "
            f"field {int(ff.max())}; pass --fps if wrong)"
        )
    return secs + (ff + sub) / rate, note


# --------------------------------------------------------------------------- JSON


_FRAME_KEYS = (
    "blendshapes",
    "blendShapes",
    "weights",
    "faceBlendshapes",
    "face_blendshapes",
    "categories",
    "blendshapeCoefficients",
    "coefficients",
)
_RESULT_KEYS = ("faceBlendshapes", "face_blendshapes")  # a MediaPipe Tasks FaceLandmarker result
_TIME_KEYS_S = ("time", "t", "seconds", "timestamp")
_TIME_KEYS_MS = ("timestamp_ms", "timestampMs", "time_ms")
_NAME_KEYS = ("categoryName", "category_name", "name", "displayName", "display_name")
_VALUE_KEYS = ("score", "value", "weight")
#: MediaPipe's blendshape model outputs, by category index
MEDIAPIPE_ORDER = ("_neutral", *sorted(n for n in ARKIT52 if n != "tongueOut"))


def _finite(v: Any) -> float | None:
    """A JSON number as a finite float, else None (bools, strings, null, NaN, inf, 1e999-sized ints)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        f = float(v)
    except OverflowError:
        return None
    return f if math.isfinite(f) else None


def _frame_time(fr: dict, i: int, path: Path) -> float | None:
    """A frame's time in seconds from its ``time``-like (s) or ``timestampMs``-like (ms) key."""
    t = None
    for keys, scale in ((_TIME_KEYS_S, 1.0), (_TIME_KEYS_MS, 1e-3)):
        for k in keys:
            if k in fr:
                v = _finite(fr[k])
                if v is None:
                    raise FacerigError(f"{path}: frame {i}, {k!r}: {_short(fr[k])} is not a finite number")
                t = v * scale
    return t


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 30 else r[:27] + "..."


def _first_face(x: Any, i: int, path: Path) -> Any:
    """Unwrap MediaPipe's per-face nesting (``[{"categories": [...]}, ...]``, ``[[...], ...]``,
    ``{"categories": [...]}``) down to the first face's categories."""
    while True:
        if isinstance(x, dict) and "categories" in x and isinstance(x["categories"], list):
            x = x["categories"]
        elif (
            isinstance(x, list) and x and (isinstance(x[0], list) or (isinstance(x[0], dict) and "categories" in x[0]))
        ):
            x = x[0]
        else:
            return x


def _frame_mapping(fr: Any, i: int, path: Path) -> tuple[dict[str, Any], float | None, bool]:
    """One JSON frame -> ({name: value}, time in seconds or None, is_mediapipe)."""
    t = None
    if isinstance(fr, dict):
        t = _frame_time(fr, i, path)
        key = next((k for k in _FRAME_KEYS if k in fr), None)
        if key is None:
            return {k: v for k, v in fr.items() if k not in (*_TIME_KEYS_S, *_TIME_KEYS_MS, "frame")}, t, False
        fr = fr[key]
        if isinstance(fr, list) and not fr and key in _RESULT_KEYS:
            raise FacerigError(
                f"{path}: frame {i}: no face in this frame (MediaPipe found none; "
                "a missing frame is an error, like a NaN weight)"
            )
    fr = _first_face(fr, i, path)
    if isinstance(fr, dict):
        return fr, t, False
    if isinstance(fr, list):
        if not fr:
            raise FacerigError(f"{path}: frame {i}: no blendshapes in this frame (empty list)")
        out: dict[str, Any] = {}
        for c in fr:
            if not isinstance(c, dict):
                raise FacerigError(
                    f"{path}: frame {i}: expected {{name: weight}} or MediaPipe categories, "
                    f"got a list of {type(c).__name__}"
                )
            name = next((c[k] for k in _NAME_KEYS if isinstance(c.get(k), str) and c[k]), None)
            if name is None:
                index = c.get("index")
                if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(MEDIAPIPE_ORDER):
                    name = MEDIAPIPE_ORDER[index]
                else:
                    raise FacerigError(f"{path}: frame {i}: a category without categoryName (or a MediaPipe index)")
            val = next((c[k] for k in _VALUE_KEYS if k in c), None)
            if name in out:
                raise FacerigError(f"{path}: frame {i}: category {name[:40]!r} appears twice")
            out[name] = val
        return out, t, True
    raise FacerigError(f"{path}: frame {i}: expected an object or a list, got {type(fr).__name__}")


def _from_json(data: Any, path: Path, fps: float | None, strict: bool) -> Take:
    file_fps = None
    frames = data
    if isinstance(data, dict):
        for k in ("fps", "frameRate", "frame_rate"):
            v = _finite(data.get(k))
            if v is not None and v > 0:
                if not (MIN_FPS <= v <= MAX_FPS):
                    raise FacerigError(
                        f"{path}: {k!r} {v:g} is not a plausible frame rate ({MIN_FPS:g} to {MAX_FPS:g})"
                    )
                file_fps = v
        frames = next((data[k] for k in ("frames", "data", "takes") if k in data), None)
        if frames is None and any(k in data for k in _RESULT_KEYS):
            frames = [data]  # one MediaPipe result: one frame
        if frames is None:
            raise FacerigError(
                f"{path}: JSON object without 'frames' (expected a list of frames, {{\"fps\", "
                '"frames"}} or a MediaPipe result with faceBlendshapes)'
            )
    if not isinstance(frames, list):
        raise FacerigError(f"{path}: 'frames' must be a list")
    if not frames:
        raise FacerigError(f"{path}: empty take (no frames)")
    maps, times, mp_any = [], [], False
    for i, fr in enumerate(frames):
        m, t, mp = _frame_mapping(fr, i, path)
        maps.append(m)
        times.append(t)
        mp_any |= mp
    timed = [t is not None for t in times]
    if any(timed) and not all(timed):
        i = timed.index(not timed[0])
        raise FacerigError(
            f"{path}: frame {i} {'has' if timed[i] else 'lacks'} a timestamp but frame 0 "
            f"{'does' if timed[0] else 'does not'}; give every frame one (or none and use --fps)"
        )
    names: list[str] = []
    seen = set()
    for m in maps:
        for k in m:
            if k not in seen:
                seen.add(k)
                names.append(k)
    shapes, rot, unknown = _classify(names, path, strict)
    T = len(maps)
    W = np.zeros((T, 52))
    present = np.zeros(52, bool)
    present[list(shapes.values())] = True
    extra = {name: np.full(T, np.nan) for name in rot.values()}
    for i, m in enumerate(maps):
        for j, k in shapes.items():
            col = names[j]
            if col not in m:
                raise FacerigError(f"{path}: frame {i}: {col!r} missing (present in other frames)")
            v = _finite(m[col])
            if v is None:
                raise FacerigError(
                    f"{path}: frame {i}, {col!r}: {_short(m[col])} is not a finite number (NaN weights are errors)"
                )
            W[i, k] = v
        for j, name in rot.items():
            if names[j] in m and m[names[j]] is not None:
                v = _finite(m[names[j]])
                if v is None:
                    raise FacerigError(f"{path}: frame {i}, {names[j]!r}: {_short(m[names[j]])} is not a number")
                extra[name][i] = v
    notes: list[str] = []
    have_t = all(timed)
    fmt = "mediapipe" if mp_any else "json"
    if fps is None and file_fps is not None and not have_t:
        take = _finish(W, present, None, file_fps, path, fmt, unknown, extra, notes, strict)
        take.notes = [
            f"frame rate {file_fps:g} fps (from the file)" if n.startswith("frame rate") else n for n in take.notes
        ]
        return take
    return _finish(
        W, present, np.array(times, np.float64) if have_t else None, fps, path, fmt, unknown, extra, notes, strict
    )

"""Every environment switch facerig reads, in one place: where it finds public data and weights,
where it keeps its caches, and the host-process vetoes of :mod:`facerig.parallel`.

- ``FACERIG_DATA``: folder holding ``ict-facekit/``, ``makehuman/`` and ``external-rigs/``.
  Default: the first of ``<repo>/../shared/data`` and ``./../shared/data`` that exists.
- ``FACERIG_ICT_DIR``: ICT FaceKit location (an unpacked ``FaceXModel`` folder, or a folder
  holding ``FaceXModel.tar.xz``). Default: ``$FACERIG_DATA/ict-facekit``.
- ``FACERIG_CACHE``: cache folder (unpacked/converted data, operators). Default:
  ``~/.cache/facerig``. ``facerig cache`` shows it (:func:`cache_usage`), ``facerig cache
  --clear`` empties it (:func:`clear_cache`). Code that fills a cache says so once through
  :func:`cache_note` (an INFO line on the ``facerig.cache`` logger; the CLI prints it).
- ``FACERIG_RAF_WEIGHTS``: a RigAnyFace weights file (``.npz``, or a training checkpoint
  ``.pt``) used instead of the shipped one (:func:`raf_weights_override`).
- ``FACERIG_ENCODER_WEIGHTS``: expression-encoder weights used instead of the shipped ones
  (:func:`encoder_weights_override`).
- ``FACERIG_NO_FORK=1``: never fork, even where the host process allowed it
  (:func:`fork_disabled`; :func:`facerig.parallel.configure`).
- ``FACERIG_KEEP_FREED_MEMORY=0``: never tune glibc's allocator, even where the host process
  asked (:func:`keep_freed_memory_disabled`; :func:`facerig.parallel.keep_freed_memory`).

- ``FACERIG_MAX_RIG_BYTES``: the largest rig a reader expands (:func:`max_rig_bytes`; default
  :data:`facerig.io.rig.MAX_RIG_BYTES`).
- ``FACERIG_MAX_FILE_BYTES``: the largest mesh or take file a reader opens (:func:`max_file_bytes`;
  default :data:`facerig.io.limits.DEFAULT_MAX_FILE_BYTES`; ``0``: no limit).
- ``FACERIG_FUZZ_SECONDS``: how long the slow fuzz tests run (tests only).

``tests/test_config.py`` checks that no other module reads the environment.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from facerig.errors import DataError

_REPO = Path(__file__).resolve().parents[2]

#: What each cache subfolder holds (``facerig cache`` lists them; ``--clear`` removes them).
CACHE_KINDS: dict[str, str] = {
    "ict": "ICT FaceKit, unpacked and converted to one NPZ",
    "makehuman": "MakeHuman head data converted to one NPZ",
    "operators": "Laplacian / eigenbasis / gradient operators, one NPZ per mesh",
    "eval": "ground-truth interpenetration ratios of eval sets",
    "train_pool": "preprocessed training samples (facerig train pool)",
}

_log = logging.getLogger("facerig.cache")


def cache_root() -> Path:
    """The cache folder (``FACERIG_CACHE`` or ``~/.cache/facerig``); not created here."""
    return Path(os.environ.get("FACERIG_CACHE") or Path.home() / ".cache" / "facerig")


def cache_dir(*sub: str) -> Path:
    """``cache_root() / sub...``, created if missing."""
    path = cache_root().joinpath(*sub)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pretty(path: Path) -> str:
    home = Path.home()
    try:
        return "~/" + path.relative_to(home).as_posix()
    except ValueError:
        return str(path)


def cache_note(kind: str, what: str, *, cost: str | None = None, first_only: bool = False) -> bool:
    """Say (INFO on the ``facerig.cache`` logger) that ``what`` is being cached in ``cache_dir(kind)``.

    Args:
        kind: cache subfolder (``"ict"``, ``"operators"``...).
        what: what is cached, e.g. ``"the ICT FaceKit conversion"``.
        cost: e.g. ``"about 20 s"``; shown as ``(one-off, about 20 s)``.
        first_only: say it only while the subfolder is still empty (for caches that grow one
            entry per input, such as operators).

    Returns:
        whether a line was logged.
    """
    folder = cache_root() / kind
    if first_only:
        try:
            if folder.is_dir() and any(folder.iterdir()):
                return False
        except OSError:
            return False
    extra = f"one-off, {cost}" if cost else "one-off"
    _log.info("caching %s in %s (%s)", what, _pretty(folder), extra)
    return True


def cache_usage() -> dict:
    """What the cache holds, without creating anything.

    Returns:
        ``{"root": str, "exists": bool, "bytes": int, "files": int, "kinds": {name: {"bytes",
        "files", "about"}}}``; every top-level entry is a kind (unknown ones get ``about`` None).
    """
    root = cache_root()
    kinds: dict[str, dict] = {}
    if root.is_dir():
        for entry in sorted(root.iterdir()):
            size, files = _tree_size(entry)
            kinds[entry.name] = {"bytes": size, "files": files, "about": CACHE_KINDS.get(entry.name)}
    return {
        "root": str(root),
        "exists": root.is_dir(),
        "bytes": sum(k["bytes"] for k in kinds.values()),
        "files": sum(k["files"] for k in kinds.values()),
        "kinds": kinds,
    }


def _tree_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under ``path`` (a file counts itself; links are not followed)."""
    if path.is_symlink() or path.is_file():
        try:
            return path.lstat().st_size, 1
        except OSError:
            return 0, 0
    size = files = 0
    for dirpath, _dirs, names in os.walk(path):
        for n in names:
            try:
                size += os.lstat(os.path.join(dirpath, n)).st_size
                files += 1
            except OSError:
                pass
    return size, files


def clear_cache(kinds: list[str] | None = None) -> dict:
    """Delete cache entries: ``kinds`` (subfolder names), or everything facerig put there.

    With ``kinds=None`` every top-level entry is removed when the cache is the default
    ``~/.cache/facerig`` (or a folder named ``facerig``); under any other ``FACERIG_CACHE``
    only the known kinds (:data:`CACHE_KINDS`) are, so pointing it at a shared folder cannot
    wipe that folder.

    Returns:
        ``{"removed": {name: {"bytes", "files"}}, "kept": [names left alone]}``.
    """
    root = cache_root()
    removed: dict[str, dict] = {}
    kept: list[str] = []
    if not root.is_dir():
        return {"removed": removed, "kept": kept}
    own = root.name == "facerig"
    for entry in sorted(root.iterdir()):
        wanted = entry.name in kinds if kinds is not None else (own or entry.name in CACHE_KINDS)
        if not wanted:
            kept.append(entry.name)
            continue
        size, files = _tree_size(entry)
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            try:
                entry.unlink()
            except OSError:
                pass
        if entry.exists() or entry.is_symlink():
            kept.append(entry.name)
        else:
            removed[entry.name] = {"bytes": size, "files": files}
    return {"removed": removed, "kept": kept}


def data_root(required: bool = True) -> Path | None:
    env = os.environ.get("FACERIG_DATA")
    candidates = [Path(env)] if env else [_REPO.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c
    if required:
        raise DataError(
            "public data not found: set FACERIG_DATA to the folder holding ict-facekit/ "
            f"(looked in {', '.join(str(c) for c in candidates)})"
        )
    return None


def ict_dir(required: bool = True) -> Path | None:
    env = os.environ.get("FACERIG_ICT_DIR")
    if env:
        if not Path(env).is_dir():
            raise DataError(f"FACERIG_ICT_DIR={env} is not a folder")
        return Path(env)
    root = data_root(required)
    if root is None:
        return None
    p = root / "ict-facekit"
    if not p.is_dir():
        if required:
            raise DataError(f"ICT FaceKit not found at {p}; set FACERIG_ICT_DIR")
        return None
    return p


def repo_root() -> Path:
    """Source checkout root (for examples/ and benchmarks/ when running from a clone)."""
    return _REPO


def raf_weights_override() -> Path | None:
    """``FACERIG_RAF_WEIGHTS`` as a path, or None when unset or empty."""
    env = os.environ.get("FACERIG_RAF_WEIGHTS")
    return Path(env) if env else None


def fork_disabled() -> bool:
    """``FACERIG_NO_FORK`` set to anything but empty or ``0``."""
    return os.environ.get("FACERIG_NO_FORK", "") not in ("", "0")


def keep_freed_memory_disabled() -> bool:
    """``FACERIG_KEEP_FREED_MEMORY=0``."""
    return os.environ.get("FACERIG_KEEP_FREED_MEMORY") == "0"


def _bytes_switch(name: str, default: int) -> int:
    env = os.environ.get(name)
    if not env:
        return int(default)
    try:
        return int(float(env))
    except ValueError:
        raise DataError(f"{name} must be a number of bytes, got {env[:30]!r}") from None


def max_rig_bytes(default: int) -> int:
    """``FACERIG_MAX_RIG_BYTES`` (bytes) when set, else ``default``."""
    return _bytes_switch("FACERIG_MAX_RIG_BYTES", default)


def max_file_bytes(default: int) -> int:
    """``FACERIG_MAX_FILE_BYTES`` (bytes; 0 = no limit) when set, else ``default``."""
    return _bytes_switch("FACERIG_MAX_FILE_BYTES", default)


def encoder_weights_override() -> Path | None:
    """``FACERIG_ENCODER_WEIGHTS`` as a path, or None when unset or empty."""
    env = os.environ.get("FACERIG_ENCODER_WEIGHTS")
    return Path(env) if env else None

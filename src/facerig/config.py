"""Every environment switch facerig reads, in one place: where it finds public data and weights,
where it keeps its caches, and the host-process vetoes of :mod:`facerig.parallel`.

- ``FACERIG_DATA``: folder holding ``ict-facekit/``, ``makehuman/`` and ``external-rigs/``.
  Default: the first of ``<repo>/../shared/data`` and ``./../shared/data`` that exists.
- ``FACERIG_ICT_DIR``: ICT FaceKit location (an unpacked ``FaceXModel`` folder, or a folder
  holding ``FaceXModel.tar.xz``). Default: ``$FACERIG_DATA/ict-facekit``.
- ``FACERIG_CACHE``: cache folder (unpacked/converted data, operators). Default:
  ``~/.cache/facerig``.
- ``FACERIG_RAF_WEIGHTS``: a RigAnyFace weights file (``.npz``, or a training checkpoint
  ``.pt``) used instead of the shipped one (:func:`raf_weights_override`).
- ``FACERIG_NO_FORK=1``: never fork, even where the host process allowed it
  (:func:`fork_disabled`; :func:`facerig.parallel.configure`).
- ``FACERIG_KEEP_FREED_MEMORY=0``: never tune glibc's allocator, even where the host process
  asked (:func:`keep_freed_memory_disabled`; :func:`facerig.parallel.keep_freed_memory`).

``tests/test_config.py`` checks that no other module reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

from facerig.errors import DataError

_REPO = Path(__file__).resolve().parents[2]


def cache_dir(*sub: str) -> Path:
    root = Path(os.environ.get("FACERIG_CACHE", Path.home() / ".cache" / "facerig"))
    path = root.joinpath(*sub)
    path.mkdir(parents=True, exist_ok=True)
    return path


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

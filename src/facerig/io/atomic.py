"""Safe outputs: atomic files and folders, outputs that never overwrite an input, writability checked first.

- :func:`atomic_path` / :func:`write_bytes_atomic` / :func:`write_text_atomic`: write to a
  temporary sibling, then ``os.replace``; a crash never leaves a half-written file.
- :func:`atomic_folder`: build a whole output folder (an OBJ rig folder) in a temporary sibling
  named ``.<name>.facerig-tmp-<pid>-<random>`` and move it into place in one rename (an old
  folder is renamed away first and deleted after). Temporaries left by a killed run are
  removed by the next write once their pid is gone.
- :func:`check_outputs` (no output is, or contains, an input) and :func:`check_writable` (the
  output can be created) raise :class:`~facerig.errors.FacerigError` before any work is done.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from facerig.errors import FacerigError

#: Marker in the names of temporary / retired sibling folders (``.<name>.facerig-tmp-<pid>-<hex>``).
TMP_TAG = "facerig-tmp"
OLD_TAG = "facerig-old"
_STALE = re.compile(rf"^\.(?P<name>.+)\.(?:{TMP_TAG}|{OLD_TAG})-(?P<pid>\d+)-[0-9a-f]+$")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success it is renamed onto ``path``.

    ``suffix`` defaults to the target's suffix (some writers, e.g. numpy, look at it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; give the output the permissions a plain open() would (umask)
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def _umask() -> int:
    """The process umask (read from /proc when possible; else set-and-restore, as before)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return umask


# --------------------------------------------------------------------------- atomic folders


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:
        return False
    return True


def clean_stale(folder: str | os.PathLike) -> list[Path]:
    """Delete ``folder``'s temporary / retired siblings (``.<name>.facerig-tmp-<pid>-*``,
    ``.<name>.facerig-old-<pid>-*``) whose process is gone.

    Returns:
        the removed paths.
    """
    folder = Path(folder)
    removed = []
    try:
        entries = list(folder.parent.iterdir())
    except OSError:
        return removed
    for p in entries:
        m = _STALE.match(p.name)
        if m is None or m["name"] != folder.name or _pid_alive(int(m["pid"])):
            continue
        shutil.rmtree(p, ignore_errors=True)
        if not p.exists():
            removed.append(p)
    return removed


def _sibling(folder: Path, tag: str) -> Path:
    return folder.parent / f".{folder.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _not_a_folder(path: Path) -> bool:
    """True when ``path`` exists as something other than a folder, from one ``stat``: a folder that
    another writer is swapping (briefly absent between two checks) is not "not a folder"."""
    try:
        return not stat.S_ISDIR(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


def replace_folder(new: Path, folder: Path) -> None:
    """Move the complete folder ``new`` onto ``folder``: a plain rename when ``folder`` is absent
    (or empty), else rename the old one away, rename ``new`` in, delete the old one. A reader
    sees the old folder, briefly no folder, or the new one; never a mix."""
    for attempt in range(100):
        if attempt:
            time.sleep(min(0.002 * attempt, 0.05))  # another writer is swapping: let it finish
        try:
            os.rename(new, folder)  # atomic; succeeds onto a missing or empty folder
            return
        except OSError as e:
            if e.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise FacerigError(f"{folder}: cannot move the output into place ({e.strerror or e})") from None
        if _not_a_folder(folder):
            raise FacerigError(f"{folder}: exists and is not a folder")
        old = _sibling(folder, OLD_TAG)
        try:
            os.rename(folder, old)
        except FileNotFoundError:  # another writer moved it away first: try again
            continue
        except OSError as e:
            raise FacerigError(f"{folder}: cannot replace the old folder ({e.strerror or e})") from None
        try:
            os.rename(new, folder)
        except OSError:  # another writer got in between: theirs stays, ours is dropped below
            shutil.rmtree(old, ignore_errors=True)
            continue
        shutil.rmtree(old, ignore_errors=True)
        return
    raise FacerigError(f"{folder}: another process keeps replacing this folder")


def _may_replace(folder: Path, replaceable: Callable[[Path], bool] | None) -> bool:
    """Missing, empty, or ``replaceable(folder)``; a folder that another writer is swapping
    (briefly absent) is looked at again."""
    for attempt in range(50):
        if attempt:
            time.sleep(0.002)
        try:
            if not any(folder.iterdir()) or (replaceable is not None and replaceable(folder)):
                return True
        except FileNotFoundError:
            return True
        except NotADirectoryError:
            return False
        if folder.is_dir():
            return False
    return False


@contextlib.contextmanager
def atomic_folder(folder: str | os.PathLike, *, replaceable: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Yield an empty temporary sibling folder; on success it replaces ``folder`` as a whole.

    Args:
        folder: the output folder.
        replaceable: called with an existing, non-empty ``folder``; return False to refuse
            replacing it (default: only empty folders are replaced). Checked before the work.

    Raises:
        FacerigError: ``folder`` is a file, or exists and may not be replaced.
    """
    folder = Path(folder)
    if _not_a_folder(folder):
        raise FacerigError(f"{folder}: exists and is not a folder")
    if not _may_replace(folder, replaceable):
        raise FacerigError(f"{folder}: folder exists and holds other files; choose a new folder or empty it")
    folder.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(folder)
    tmp = _sibling(folder, TMP_TAG)
    tmp.mkdir(mode=0o777)
    try:
        yield tmp
        replace_folder(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- checks before work


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
        return True
    except ValueError:
        return False


def check_outputs(inputs: Iterable[str | os.PathLike | None], outputs: Iterable[str | os.PathLike | None]) -> None:
    """Refuse an output that is an input (same resolved path, or the same file through a link),
    a folder holding an input, or a path inside an input folder.

    Args:
        inputs: input files or folders (None entries ignored).
        outputs: output files or folders (None entries ignored; need not exist).

    Raises:
        FacerigError: one line naming both paths.
    """
    ins = [Path(p) for p in inputs if p is not None]
    for out in (Path(p) for p in outputs if p is not None):
        ro = out.resolve()
        for inp in ins:
            ri = inp.resolve()
            same = ro == ri
            if not same and out.exists() and inp.exists():
                try:
                    same = os.path.samefile(out, inp)
                except OSError:
                    same = False
            if same:
                raise FacerigError(f"output {out} is the input {inp}; write to another path")
            if _inside(ri, ro):
                raise FacerigError(f"output folder {out} contains the input {inp}; write to another path")
            if inp.is_dir() and _inside(ro, ri):
                raise FacerigError(f"output {out} is inside the input folder {inp}; write to another path")


def check_writable(path: str | os.PathLike, *, folder: bool = False) -> None:
    """Check, before any work, that ``path`` can be written (created or replaced).

    The nearest existing ancestor must be a folder we can create files in (tried with a
    temporary file that is removed at once); no missing folder is created.

    Args:
        path: the output file, or the output folder with ``folder=True``.

    Raises:
        FacerigError: a parent is a file, the path is a folder where a file is expected (or the
            reverse), or the folder is read-only / not permitted.
    """
    path = Path(path)
    if path.exists():
        if folder and not path.is_dir():
            raise FacerigError(f"output {path}: exists and is not a folder")
        if not folder and path.is_dir():
            raise FacerigError(f"output {path}: is a folder; give a file name")
    base = path.parent
    while not base.exists():
        if base.is_symlink():
            raise FacerigError(f"output {path}: {base} is a broken link")
        if base.parent == base:
            break
        base = base.parent
    if not base.is_dir():
        raise FacerigError(f"output {path}: {base} is a file, not a folder")
    for where in [base, path] if folder and path.is_dir() else [base]:
        try:
            fd, tmp = tempfile.mkstemp(prefix=".facerig-write-check-", dir=where)
        except OSError as e:
            raise FacerigError(f"output {path}: cannot write in {where} ({e.strerror or e})") from None
        os.close(fd)
        os.unlink(tmp)

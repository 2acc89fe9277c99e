"""How facerig uses the machine's cores, in one place: threads, forked children, BLAS limits, and
the two opt-in changes to the host process.

- :func:`thread_pool`, :class:`Job`, :func:`per_worker`, :func:`blas_threads`: worker threads
  for side-by-side work (NumPy, SciPy and BLAS release the GIL) and scoped BLAS thread limits
  (``threadpoolctl`` contexts, restored on exit).
- :func:`fork_call`: run a function in a forked child while this process works on (no GIL
  shared). Threads of one process share the GIL: the rig's eigen solver (a Python loop around
  ARPACK) and the face probe ran hardly faster side by side in two threads than in turn. A
  forked child sees the parent's arrays without copying and sends back only its result
  (pickled through a pipe); it exits with ``os._exit``, runs with one BLAS thread and prints
  nothing. :meth:`ForkJob.cancel` (or leaving a ``with`` block) kills and reaps it.
- :func:`configure`: the host process's opt-in. The library never forks and never tunes the
  allocator unless asked: ``configure(fork=True, keep_freed_memory=True)`` is what the CLI
  does; a Blender add-on or a server calling the library gets threads only. Environment
  switches (read by :mod:`facerig.config`): ``FACERIG_NO_FORK=1`` and
  ``FACERIG_KEEP_FREED_MEMORY=0`` veto either even when asked.

Everything gives the same results whichever way the work runs (tests compare them).

    job = fork_call(fn, *args)      # None where forking is not allowed: call fn here instead
                                    # (fork_beside: also None while every core is busy)
    ...                             # this process works meanwhile
    value = job.result()            # fn's return value, or its exception raised here
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from typing import Any

_SETTINGS = {"fork": False, "beside": False}


def configure(*, fork: bool | None = None, keep_freed_memory: bool = False, beside: bool | None = None) -> dict:
    """Opt this process in to facerig's process-level speed-ups; returns the settings now.

    ``fork``: let the rig run work in forked children (:func:`fork_call`); ``beside``: also the
    smaller steps split off only to use an idle core (:func:`fork_beside`; off by default, the CLI
    too: on the 2-core VM the copy-on-write cost of forking the rig's large process exceeded what the
    idle core gave back, BENCHMARKS.md "Rig speed end to end"); ``keep_freed_memory``:
    tune glibc's allocator now (:func:`keep_freed_memory`; cannot be undone). The CLI calls
    ``configure(fork=True, keep_freed_memory=True)``."""
    if fork is not None:
        _SETTINGS["fork"] = bool(fork)
    if beside is not None:
        _SETTINGS["beside"] = bool(beside)
    if keep_freed_memory:
        globals()["keep_freed_memory"]()
    return dict(_SETTINGS)


# -- threads ---------------------------------------------------------------------------------
_POOLS: dict = {}


def thread_pool(n: int):
    """A shared pool of ``n`` worker threads, created on first use in each process (a forked
    child does not inherit its parent's threads). Idle threads change nothing in the host."""
    key = (os.getpid(), n)
    if key not in _POOLS:
        from concurrent.futures import ThreadPoolExecutor

        _POOLS[key] = ThreadPoolExecutor(n, thread_name_prefix=f"facerig-{n}")
    return _POOLS[key]


_EXECUTORS: dict = {}


def _executor():
    """One worker thread for side-by-side work (:class:`Job`), created on first use in each
    process. Separate from :func:`thread_pool`: a job on it submits to those pools, and one
    shared single-worker pool would deadlock."""
    pid = os.getpid()
    if pid not in _EXECUTORS:
        from concurrent.futures import ThreadPoolExecutor

        _EXECUTORS[pid] = ThreadPoolExecutor(1, thread_name_prefix="facerig-job")
    return _EXECUTORS[pid]


def per_worker(threads: int | None, workers: int) -> int:
    """BLAS threads for each of ``workers`` side-by-side jobs sharing ``threads`` (default: the
    CPU count): 1 on two cores."""
    return max(1, int(threads or os.cpu_count() or 1) // max(1, workers))


def blas_threads(n: int | None):
    """A context limiting BLAS to ``n`` threads (a no-op context for None)."""
    import contextlib

    if not n:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(int(n), user_api="blas")


class Job:
    """``fn(*args)`` on the worker thread (``background``) or right here; ``result()`` returns
    its value or raises its exception."""

    def __init__(self, background: bool, fn, *args):
        if background:
            self._future, self._value = _executor().submit(fn, *args), None
        else:
            self._future, self._value = None, fn(*args)

    def result(self):
        return self._future.result() if self._future is not None else self._value


# -- forked children ---------------------------------------------------------------------------
class ForkJob:
    """A forked child computing ``fn(*args)``; see the module doc."""

    def __init__(self, pid: int, fd: int):
        self._pid, self._fd = pid, fd
        self._done = False

    def result(self) -> Any:
        """Wait for the child; its return value, or its exception raised here."""
        if self._done:
            raise RuntimeError("result() already collected")
        chunks = []
        try:
            while True:  # read everything before waiting, or a large result would block the child
                b = os.read(self._fd, 1 << 20)
                if not b:
                    break
                chunks.append(b)
        finally:
            os.close(self._fd)
            _, status = os.waitpid(self._pid, 0)
            self._done = True
        if not chunks:
            raise RuntimeError(f"forked worker died without a result (status {status})")
        ok, value = pickle.loads(b"".join(chunks))
        if not ok:
            raise value
        return value

    def cancel(self) -> None:
        """Kill and reap the child if its result was not collected."""
        if self._done:
            return
        self._done = True
        import signal

        try:
            os.kill(self._pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(self._fd)
        os.waitpid(self._pid, 0)

    def __enter__(self) -> ForkJob:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()


def can_fork() -> bool:
    """Whether :func:`fork_call` forks here: only when the host process asked for it
    (:func:`configure` ``fork=True``, as the CLI does), on POSIX but not macOS (whose system
    libraries are not fork-safe), and not with ``FACERIG_NO_FORK=1``
    (:func:`facerig.config.fork_disabled`)."""
    from facerig.config import fork_disabled

    return _SETTINGS["fork"] and hasattr(os, "fork") and sys.platform != "darwin" and not fork_disabled()


def spare_cores() -> int:
    """Cores no runnable task is using at this moment: the CPU count minus the runnable tasks (this
    one included) of ``/proc/loadavg``; the CPU count - 1 where that is not readable. Work that is
    split only to use an idle core (:func:`fork_call` beside this process's own) is not worth a
    fork on a machine whose cores are all busy: there the fork's cost (copying the page tables,
    the copy-on-write faults after it) only adds CPU time."""
    n = os.cpu_count() or 1
    try:
        with open("/proc/loadavg") as fh:
            running = int(fh.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return n - 1
    return max(n - running, 0)


def beside_allowed() -> bool:
    """Whether work split off only to use an idle core goes to a forked child now: the host asked
    for it (:func:`configure` ``beside=True`` with ``fork=True``) and a core is idle (:func:`spare_cores`)."""
    return _SETTINGS["beside"] and can_fork() and spare_cores() >= 1


def fork_beside(fn: Callable, *args) -> ForkJob | None:
    """:func:`fork_call` where :func:`beside_allowed`, else None (the caller computes ``fn`` itself):
    for work split off only to run on a free core."""
    return fork_call(fn, *args) if beside_allowed() else None


def fork_call(fn: Callable, *args) -> ForkJob | None:
    """Start ``fn(*args)`` in a forked child: a :class:`ForkJob`, or None without fork (see
    :func:`can_fork`). ``fn``'s result and exceptions must pickle (an exception that does not
    comes back as a RuntimeError with its text)."""
    if not can_fork():
        return None
    r, w = os.pipe()
    pid = os.fork()
    if pid:  # parent
        os.close(w)
        return ForkJob(pid, r)
    # child: never returns
    code = 0
    try:
        os.close(r)
        # Another thread of the parent may have held the standard streams' locks at the fork;
        # the child writes nothing, and warnings would write there.
        import warnings

        warnings.simplefilter("ignore")
        sys.stdout = sys.stderr = open(os.devnull, "w")
        try:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(1):
                payload = (True, fn(*args))
        except BaseException as e:  # noqa: BLE001 - every failure goes back to the parent
            payload = (False, e)
            code = 1
        try:
            data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            if not payload[0]:
                pickle.loads(data)  # an exception that pickles may still fail to load
        except Exception:  # noqa: BLE001
            e = payload[1]
            data = pickle.dumps((False, RuntimeError(f"in a forked worker: {type(e).__name__}: {e}")))
        view = memoryview(data)
        while view:
            n = os.write(w, view)
            view = view[n:]
        os.close(w)
    except BaseException:  # noqa: BLE001
        code = 2
    finally:
        os._exit(code)


# -- the allocator (opt-in) -----------------------------------------------------------------------
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_done = False


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 512 << 20, top_pad: int = 64 << 20) -> bool:
    """Tune glibc's allocator for this process (once); returns whether it was applied.

    Raising the mmap threshold to its maximum and the trim threshold lets the network's later
    layers reuse the memory earlier ones freed instead of paying the kernel to map and zero
    fresh pages (tens of MB per layer; BENCHMARKS.md, "Rig speed"). A no-op where the C library
    is not glibc or with ``FACERIG_KEEP_FREED_MEMORY=0``. Only on request: :func:`configure`
    (the CLI) calls it; the library never does.

    ``mmap_threshold`` (bytes; glibc caps it at 32 MB on 64-bit): blocks below it come from the
    heap; ``trim_threshold``: free heap memory kept before it is returned to the system;
    ``top_pad``: extra heap requested per growth."""
    global _done
    if _done:
        return True
    from facerig.config import keep_freed_memory_disabled

    if not sys.platform.startswith("linux") or keep_freed_memory_disabled():
        return False
    import ctypes

    try:  # glibc's own name first: ctypes.util.find_library would run ldconfig in a subprocess
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        import ctypes.util

        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        except OSError:
            return False
    try:
        mallopt = libc.mallopt
    except AttributeError:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = all(
        mallopt(k, v) == 1
        for k, v in ((_M_MMAP_THRESHOLD, mmap_threshold), (_M_TRIM_THRESHOLD, trim_threshold), (_M_TOP_PAD, top_pad))
    )
    _done = ok
    return ok

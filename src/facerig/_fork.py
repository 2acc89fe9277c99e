"""Run a function in a forked child process while this one works on (no GIL shared).

Threads of one process share the GIL: the rig's eigen solver (a Python loop around ARPACK)
and the face probe (NumPy work with Python between the calls) ran hardly faster side by side
in two threads than one after the other. A forked child has its own interpreter, sees the
parent's arrays without copying (copy-on-write), and sends back only its result (pickled
through a pipe).

    job = fork_call(fn, *args)      # None where fork is unavailable: call fn here instead
    ...                             # this process works meanwhile
    value = job.result()            # fn's return value, or its exception raised here

The child exits with ``os._exit`` (no atexit handlers, no flushing of the parent's buffers),
runs with one BLAS thread, and prints nothing (its standard streams go to the null device and
warnings are off: a lock another thread of the parent held at the fork stays held in the child). :meth:`ForkJob.cancel` (or leaving a ``with`` block) kills and reaps a
child whose result is not wanted.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import Any, Callable


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

    def __enter__(self) -> "ForkJob":
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()


def can_fork() -> bool:
    """Whether :func:`fork_call` forks here (POSIX, not macOS, whose system libraries are not
    fork-safe; ``FACERIG_NO_FORK=1`` turns it off)."""
    return hasattr(os, "fork") and sys.platform != "darwin" and os.environ.get("FACERIG_NO_FORK", "") in ("", "0")


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

"""Forked worker processes that die with the process that started them.

Two shapes cover the package's forks:

- :func:`worker_pool`: forked processes for many small jobs (the report's figures);
- :func:`run_beside`: one forked process running one job while this process does other work (a
  share of the framing drift, the embedding model); if that process dies, the caller computes
  the result here.

Both fork rather than spawn: a forked worker starts at once, inherits the job's inputs instead of
receiving them pickled, and does not import the caller's main script again (a user's script
without an ``if __name__ == "__main__"`` guard would run once more in every spawned worker).
Forking is used on Linux only (:func:`available`); elsewhere both return None and the caller
does the work itself.

A worker never outlives its parent: it asks the kernel for SIGKILL when the parent dies
(``prctl(PR_SET_PDEATHSIG)``), then checks that its parent is still the process that forked it,
since the parent may have died before the request was made. :func:`exit_if_orphaned` repeats the
check before a worker writes a file. The kernel sends the signal when the *thread* that forked
the worker ends, so start workers from the thread that waits for them (the package does so from
the main thread); a worker killed early only makes the caller do its work itself.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["Beside", "available", "exit_if_orphaned", "run_beside", "worker_pool"]

T = TypeVar("T")
R = TypeVar("R")

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

_parent: int | None = None
"""In a worker: the pid of the process that forked it; None in any other process."""


def available() -> bool:
    """Whether workers are forked here: on Linux (fork, and the kernel's parent-death signal)."""
    return sys.platform.startswith("linux")


@functools.cache
def _prctl() -> Callable[..., int]:
    """libc's ``prctl``; looked up in the parent, before forking, so that no worker loads it."""
    import ctypes

    return ctypes.CDLL(None, use_errno=True).prctl


def _become_worker(parent: int) -> None:
    """First thing in a forked worker: be killed when ``parent`` dies, and exit now if it has
    already died (between the fork and this call). Should ``prctl`` fail, the check in
    :func:`exit_if_orphaned` still keeps the worker from writing."""
    global _parent
    from ctypes import c_ulong

    _parent = parent
    _prctl()(_PR_SET_PDEATHSIG, c_ulong(signal.SIGKILL), c_ulong(0), c_ulong(0), c_ulong(0))
    exit_if_orphaned()


def exit_if_orphaned() -> None:
    """In a worker: end this process at once if the process that forked it has died. Call it
    before writing a file. Does nothing in a process that is not a worker."""
    if _parent is not None and os.getppid() != _parent:
        os._exit(1)


def worker_pool(workers: int):
    """A ``ProcessPoolExecutor`` of ``workers`` forked processes that die with this one; None
    where :func:`available` is false.

    The processes are forked at the first ``submit``. If one dies, the pool is broken
    (``BrokenProcessPool``) and the caller does the work here.
    """
    if not available():
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _prctl()
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_become_worker, initargs=(os.getpid(),))


class Beside(Generic[T]):
    """A job running in a forked process, started by :func:`run_beside`."""

    def __init__(self, job: Callable[[], T], process: Any, reader: Any) -> None:
        self.job = job
        self.process = process  # the multiprocessing.Process: pid, is_alive(), kill(), join()
        self._reader = reader

    def result(self, fallback: Callable[[], T] | None = None) -> T:
        """Wait for the job's result; an error of the job is raised here. If the process died
        before answering, ``fallback()`` (default: the job) runs here instead."""
        try:
            kind, value, remote = self._reader.recv()
        except (EOFError, OSError):  # the process died (killed, out of memory)
            kind, value, remote = "died", None, None
        except BaseException:  # interrupted while waiting: the job is abandoned
            self.process.kill()
            raise
        finally:
            self._reader.close()
            self.process.join()
        if kind == "died":
            return (fallback or self.job)()
        if kind == "error":
            raise value from RuntimeError(f"in the process beside:\n{remote}")
        return value


def run_beside(job: Callable[[], T], *, name: str = "narrative-beside") -> Beside[T] | None:
    """Start ``job()`` in a forked process that dies with this one, and return at once; None
    where :func:`available` is false.

    The process inherits everything ``job`` refers to: nothing is pickled but the result, which
    :meth:`Beside.result` waits for.
    """
    if not available():
        return None
    import multiprocessing

    _prctl()
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    # daemon: a process whose result nobody collected is stopped when this one exits
    process = context.Process(target=_run_job, args=(job, writer, os.getpid()), name=name,
                              daemon=True)
    process.start()
    writer.close()  # the process holds the only writing end: its death reads as end of file
    return Beside(job, process, reader)


def _run_job(job: Callable[[], Any], writer: Any, parent: int) -> None:
    """The forked process of :func:`run_beside`: run ``job`` and send back its result or error."""
    _become_worker(parent)
    try:
        outcome: tuple = ("result", job(), None)
    except BaseException as exc:  # noqa: BLE001 - raised again in the parent
        outcome = ("error", exc, traceback.format_exc())
    try:
        writer.send(outcome)
    except OSError:
        pass  # the parent no longer waits for it
    except Exception as exc:  # noqa: BLE001 - a result or error that cannot be pickled
        writer.send(("error", RuntimeError(f"the job's outcome cannot be sent back: {exc!r}"),
                     traceback.format_exc()))


def share_beside(job: Callable[[Iterable[T]], R], items: Sequence[T], *,
                 name: str = "narrative-share") -> Callable[[], list[R]] | None:
    """Run ``job`` over ``items`` in this process and a forked one at once, each claiming the
    next item from a shared counter; None where :func:`available` is false.

    The fork starts now. The returned function runs this process's part and returns the results
    of both parts (this process's first); items a dead fork had claimed are run here again.
    """
    if not available():
        return None
    import multiprocessing

    counter = multiprocessing.get_context("fork").Value("i", 0)

    def claim() -> Iterator[T]:
        while True:
            with counter.get_lock():
                i = counter.value
                counter.value += 1
            if i >= len(items):
                return
            yield items[i]

    beside = run_beside(lambda: job(claim()), name=name)
    if beside is None:
        return None
    mine: list[T] = []

    def taken_here() -> Iterator[T]:
        for item in claim():
            mine.append(item)
            yield item

    def finish() -> list[R]:
        here = job(taken_here())
        return [here, beside.result(lambda: job([i for i in items if i not in mine]))]

    return finish


def sharer(workers: int) -> Callable | None:
    """:func:`share_beside` when ``workers`` > 1 and workers fork here, else None: what a caller
    hands to :func:`narrative.drift.compute_drift`, which imports no process machinery."""
    return share_beside if workers > 1 and available() else None

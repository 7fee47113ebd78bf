"""The embedding model loaded in a forked process, while this one ingests.

Loading the model (importing torch, reading the weights) and the ingest before it (reading,
cleaning, linking copies) each keep one core busy for a while: on a machine with a second core
the two can overlap. :class:`BackgroundEmbedder` starts the load in a child process
at once and serves :meth:`encode` from it through a pipe (texts out, vectors and progress back).
If the child cannot start or dies, the model is loaded here instead and nothing is lost: the texts
of the batch in flight are embedded again.

The child is forked before the store is opened (no database connection crosses the fork) and it
never touches the store: it only imports torch and runs the model. It ignores Ctrl-C (the parent
stops it) and exits when the pipe closes; it is forked by :func:`narrative.runtime.workers.run_beside`,
so it also dies with its parent: an interrupted or killed build leaves no stray process.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

import numpy as np


def _serve(conn: Any, parent_end: Any, kwargs: dict) -> None:
    """Child process: load the embedder, report ``ready``, then encode until told to stop or
    until the parent is gone (its end of the pipe closed: a killed parent leaves no child)."""
    import signal

    parent_end.close()  # inherited by the fork: held open here, it would hide the parent's exit
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    try:
        try:
            from .sentence import SentenceEmbedder

            embedder = SentenceEmbedder(**kwargs)
        except Exception as exc:  # noqa: BLE001 - sent to the parent, which raises it
            conn.send(("error", exc))
            return
        conn.send(("ready", embedder.model_id, embedder.dim))

        class _Progress:
            def advance(self, n: int) -> None:
                conn.send(("progress", n))

        while True:
            message = conn.recv()
            if message[0] != "encode":
                return
            try:
                vectors = embedder.encode(message[1],
                                          progress=_Progress() if message[2] else None)
            except Exception as exc:  # noqa: BLE001
                conn.send(("error", exc))
                continue
            conn.send(("result", vectors))
    except (EOFError, OSError):  # the parent is gone (BrokenPipeError is an OSError)
        return


class BackgroundEmbedder:
    """An :class:`~narrative.embed.Embedder` whose model loads and runs in a forked process.

    Takes :class:`~narrative.embed.sentence.SentenceEmbedder`'s arguments. ``model_id`` and
    ``dim`` wait for the load; errors of the load (an unknown model name) are raised here, at that
    point. Call :meth:`close` when done (or use it as a context manager).
    """

    def __init__(self, name: str | None = None, *, batch_size: int = 32,
                 precision: str = "auto") -> None:
        import functools
        import multiprocessing

        from ..runtime.workers import run_beside

        self._kwargs = {"name": name, "batch_size": batch_size, "precision": precision}
        self._local: Any = None  # the in-process embedder, once the child failed
        self._model_id: str | None = None
        self._dim: int | None = None
        self._conn, child_conn = multiprocessing.Pipe()
        beside = run_beside(functools.partial(_serve, child_conn, self._conn, self._kwargs),
                            name="narrative-embedder")
        if beside is None:
            raise RuntimeError("the background embedder needs fork (Linux); check available()")
        self._process = beside.process
        child_conn.close()

    @staticmethod
    def available() -> bool:
        """Whether a forked child can load the model here: on Linux, and before this process has
        imported torch (a child forked after torch ran can hang in its OpenMP thread pool; a
        process that has torch loaded has paid most of the load anyway)."""
        from ..runtime.workers import available

        return available() and "torch" not in sys.modules

    def _fall_back(self) -> Any:
        """Load the model here: the child could not load it or died."""
        self.close()
        if self._local is None:
            from .sentence import SentenceEmbedder

            self._local = SentenceEmbedder(**self._kwargs)
            self._model_id, self._dim = self._local.model_id, self._local.dim
        return self._local

    def _receive(self) -> tuple:
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            return ("died",)

    def wait_ready(self) -> None:
        """Block until the model is loaded (here, if the child failed)."""
        if self._model_id is not None:
            return
        message = self._receive()
        if message[0] == "ready":
            self._model_id, self._dim = message[1], int(message[2])
        elif message[0] == "error":
            self.close()
            raise message[1]
        else:
            self._fall_back()

    @property
    def model_id(self) -> str:
        self.wait_ready()
        assert self._model_id is not None
        return self._model_id

    @property
    def dim(self) -> int:
        self.wait_ready()
        assert self._dim is not None
        return self._dim

    def encode(self, texts: Sequence[str], *, progress=None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in input order."""
        self.wait_ready()
        if self._local is not None:
            return self._local.encode(texts, progress=progress)
        try:
            self._conn.send(("encode", list(texts), progress is not None))
        except (BrokenPipeError, OSError):
            return self._fall_back().encode(texts, progress=progress)
        done = 0
        while True:
            message = self._receive()
            if message[0] == "progress":
                done += message[1]
                progress.advance(message[1])
            elif message[0] == "result":
                return message[1]
            elif message[0] == "error":
                raise message[1]
            else:  # died mid-batch: embed the batch again here, its progress not counted twice
                return self._fall_back().encode(texts, progress=_Skip(progress, done))

    def as_bertopic_backend(self):
        """This embedder as a BERTopic backend (zero-shot descriptions, label words, ...)."""
        from .sentence import bertopic_backend

        return bertopic_backend(self)

    def close(self) -> None:
        """Stop the child process (idempotent). One still loading the model (a re-run with
        nothing to embed) is killed at once rather than waited for: it holds nothing to save."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            self._conn.send(("stop",))
        except (BrokenPipeError, OSError):
            pass
        self._conn.close()
        process.join(timeout=5 if self._model_id is not None else 0)
        if process.is_alive():
            process.kill()
            process.join()

    def __enter__(self) -> "BackgroundEmbedder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Skip:
    """A progress bar that ignores the first ``n`` steps (already shown once)."""

    def __init__(self, progress: Any, n: int) -> None:
        self.progress, self.left = progress, n

    def advance(self, n: int) -> None:
        if self.progress is None:
            return
        skipped = min(n, self.left)
        self.left -= skipped
        if n > skipped:
            self.progress.advance(n - skipped)


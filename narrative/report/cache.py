"""Content-keyed cache of a report folder's figures and costly numbers, for warm re-runs.

A daily re-run on an unchanged corpus used to redraw every figure (about 40 on a large corpus,
PNG and SVG each) and recompute the narrative map and NPMI scores, although nothing they show
had changed. Here each figure and value is keyed by a fingerprint of exactly what produces it:
the plotting function's name with its arguments (data frames hashed by content), or the inputs a
caller names. When the fingerprint matches the one recorded for the key, the saved files (or the
stored value) are reused; anything else is recomputed. The fingerprint also covers this
package's version, matplotlib's, and the source of :mod:`narrative.figures`,
:mod:`narrative.evaluate` and the report sections, so a code change redraws everything.

The index is a JSON file in the report folder (:data:`INDEX_NAME`), written atomically after the
figures, so an interrupted run leaves at worst a stale entry whose file hash no longer matches,
and that entry is recomputed. Values are JSON only: nothing here is unpickled. A value can also
be read back whatever its fingerprint (:meth:`ReportCache.previous`), for a caller that updates
its last state instead of computing afresh (the narrative map places only the texts added since).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import atomic_write_text, safe_filename
from ..runtime.workers import exit_if_orphaned, worker_pool

__all__ = ["INDEX_NAME", "FigureFiles", "Plot", "ReportCache", "fingerprint"]

#: The cache index inside a report folder.
INDEX_NAME = "report-cache.json"
_FORMAT = 1


def _update(h: "hashlib._Hash", part: Any) -> None:
    """Feed one value into ``h``, tagged by type so that different values never collide."""
    if isinstance(part, pd.DataFrame):
        h.update(b"frame")
        _update(h, [str(c) for c in part.columns])
        _update(h, [str(t) for t in part.dtypes])
        _update(h, [str(i) for i in part.index.names])
        if len(part):
            try:
                h.update(pd.util.hash_pandas_object(part, index=True).to_numpy().tobytes())
            except TypeError:  # unhashable cells (lists of top terms): hash their JSON
                h.update(part.to_json(orient="split", date_format="iso",
                                      default_handler=str).encode())
        _update(h, [[str(k), str(v)] for k, v in sorted(part.attrs.items(), key=str)])
    elif isinstance(part, pd.Series):
        _update(h, part.to_frame(name=str(part.name)))
    elif isinstance(part, np.ndarray):
        h.update(b"array" + str(part.dtype).encode() + str(part.shape).encode())
        h.update(np.ascontiguousarray(part).tobytes() if part.dtype != object
                 else json.dumps(part.tolist(), default=str).encode())
    elif isinstance(part, Mapping):
        h.update(b"map")
        for key in sorted(part, key=str):
            _update(h, str(key))
            _update(h, part[key])
    elif isinstance(part, (list, tuple)):
        h.update(b"seq%d" % len(part))
        for item in part:
            _update(h, item)
    elif isinstance(part, float) and np.isnan(part):
        h.update(b"nan")
    else:
        h.update(b"atom" + type(part).__name__.encode() + repr(part).encode("utf-8", "replace"))
    h.update(b"|")


def fingerprint(*parts: Any) -> str:
    """sha256 of ``parts``: data frames, series and arrays by content, containers recursively,
    anything else by type and ``repr``."""
    h = hashlib.sha256()
    for part in parts:
        _update(h, part)
    return h.hexdigest()


def code_salt() -> str:
    """What, besides the data, decides a cached figure or score: package versions and the code
    that draws the figures, lays out the map and scores NPMI."""
    import matplotlib

    from .._version import __version__
    from .. import figures

    package = Path(figures.__file__).parent.parent
    h = hashlib.sha256(f"{_FORMAT}|{__version__}|{matplotlib.__version__}".encode())
    sources = [*sorted((package / "figures").glob("*.py")), package / "evaluate.py",
               package / "report" / "sections.py"]
    for path in sources:
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Plot:
    """A figure to draw: ``function(*args, **kwargs)``; its fingerprint is the function's full
    name and the arguments, so the cache key cannot miss an input the plot uses."""

    function: Callable[..., Any]
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def draw(self) -> Any:
        return self.function(*self.args, **self.kwargs)

    def inputs(self) -> tuple:
        name = f"{self.function.__module__}.{self.function.__qualname__}"
        return (name, tuple(self.args), dict(self.kwargs))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: Below this many figures to draw, worker processes cost more to start than they save.
MIN_PARALLEL = 6


@dataclass
class FigureFiles:
    """A figure's saved files: known at once when reused, after :meth:`ReportCache.draw_pending`
    when it has to be drawn."""

    key: str
    png: bytes | None = None
    svg: Path | None = None

    def files(self) -> tuple[bytes, Path]:
        if self.png is None or self.svg is None:
            raise RuntimeError(f"figure {self.key!r} is not drawn yet; call draw_pending()")
        return self.png, self.svg


def _draw_and_save(job: tuple[Plot, str, str]) -> tuple[str, str]:
    """Worker-process job: draw a plot and save it with :func:`narrative.figures.save_figure`,
    unless the report that started the worker has died meanwhile."""
    from ..figures import save_figure

    plot, folder, key = job
    figure = plot.draw()
    exit_if_orphaned()
    paths = save_figure(figure, folder, key)
    return str(paths["png"]), str(paths["svg"])


def _job(pending: tuple[FigureFiles, Plot, Path, str]) -> tuple[Plot, str, str]:
    handle, plot, folder, _ = pending
    return plot, str(folder), handle.key


class ReportCache:
    """Figures and JSON values of one report folder, reused when their fingerprint is unchanged.

    ``hits`` and ``misses`` count lookups, so a caller can report what was reused.
    """

    def __init__(self, folder: str | Path, *, salt: str | None = None, enabled: bool = True):
        self.folder = Path(folder)
        self.salt = code_salt() if salt is None else salt
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self._entries: dict[str, dict] = {}
        self._old: dict[str, dict] = {}
        self._pending: list[tuple[FigureFiles, Plot, Path, str]] = []
        self._pool = None  # workers started by start_drawing, and what they were given
        self._started: list[tuple[tuple[FigureFiles, Plot, Path, str], Any]] = []
        path = self.folder / INDEX_NAME
        if enabled and path.is_file():
            try:
                index = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                index = {}
            if isinstance(index, dict) and index.get("salt") == self.salt:
                entries = index.get("entries")
                self._old = entries if isinstance(entries, dict) else {}

    def _lookup(self, key: str, fp: str) -> dict | None:
        entry = self._old.get(key)
        if self.enabled and isinstance(entry, dict) and entry.get("fingerprint") == fp:
            return entry
        return None

    def figure(self, key: str, plot: Plot, figures_dir: str | Path) -> FigureFiles:
        """The files of ``plot`` saved under ``figures_dir`` as ``key``: the saved ones when the
        fingerprint matches and both files are there unaltered, else drawn by
        :meth:`draw_pending`."""
        folder = Path(figures_dir)
        stem = safe_filename(key)
        fp = fingerprint(self.salt, key, plot.inputs())
        entry = self._lookup(key, fp)
        png_path, svg_path = folder / f"{stem}.png", folder / f"{stem}.svg"
        if entry is not None and png_path.is_file() and svg_path.is_file():
            png = png_path.read_bytes()
            if _sha(png) == entry.get("png") and _sha(svg_path.read_bytes()) == entry.get("svg"):
                self.hits += 1
                self._entries[key] = entry
                return FigureFiles(key, png, svg_path)
        self.misses += 1
        handle = FigureFiles(key)
        self._pending.append((handle, plot, folder, fp))
        return handle

    def start_drawing(self, *, workers: int = 1) -> bool:
        """Start drawing the figures pending so far in ``workers`` forked processes, and return
        at once: the caller builds the rest of the report (the map layout, the scores) while
        they draw. :meth:`draw_pending` then draws the figures added since in the same workers
        and waits for all. The workers die with this process
        (:func:`narrative.runtime.workers.worker_pool`). False, starting nothing, where :meth:`draw_pending` would draw here
        (one worker, fewer than :data:`MIN_PARALLEL` figures, not Linux). If the report fails
        before :meth:`draw_pending`, call :meth:`cancel_drawing`.
        """
        if self._pool is not None or workers <= 1 or len(self._pending) < MIN_PARALLEL:
            return False
        pool = worker_pool(min(workers, len(self._pending)))
        if pool is None:
            return False
        self._pool = pool
        jobs, self._pending = self._pending, []
        self._started = [(job, pool.submit(_draw_and_save, _job(job))) for job in jobs]
        return True

    def cancel_drawing(self) -> None:
        """Stop the workers :meth:`start_drawing` started; their figures count as not drawn."""
        pool, self._pool, self._started = self._pool, None, []
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def draw_pending(
        self, save: Callable[[Any, Path, str], Mapping[str, Path]] | None = None, *,
        workers: int = 1,
    ) -> int:
        """Draw and save every figure :meth:`figure` could not reuse; returns how many.

        ``save(figure, folder, key)`` writes the files (default
        :func:`narrative.figures.save_figure`). With ``workers > 1`` and at least
        :data:`MIN_PARALLEL` figures, on Linux, they are drawn in that many forked worker
        processes with the default ``save`` (matplotlib draws on one core; the files are the same
        bytes), or in those :meth:`start_drawing` started; if a worker dies, the figures are drawn
        here instead.
        """
        new, self._pending = self._pending, []
        started, self._started = self._started, []
        pool, self._pool = self._pool, None
        jobs = [job for job, _ in started] + new
        if not jobs:
            if pool is not None:
                pool.shutdown()
            return 0
        if pool is None and workers > 1 and len(new) >= MIN_PARALLEL:
            pool = worker_pool(min(workers, len(new)))
        saved = None
        if pool is not None:
            from concurrent.futures.process import BrokenProcessPool

            try:
                with pool:
                    futures = [f for _, f in started] + [pool.submit(_draw_and_save, _job(job))
                                                         for job in new]
                    saved = [f.result() for f in futures]
            except BrokenProcessPool:  # a worker died (out of memory?): draw here instead
                saved = None
        if saved is None:
            if save is None:
                from ..figures import save_figure as save
            saved = [(str(p["png"]), str(p["svg"])) for p in
                     (save(plot.draw(), folder, h.key) for h, plot, folder, _ in jobs)]
        for (handle, _, _, fp), (png_path, svg_path) in zip(jobs, saved):
            handle.png, handle.svg = Path(png_path).read_bytes(), Path(svg_path)
            self._entries[handle.key] = {"fingerprint": fp, "png": _sha(handle.png),
                                         "svg": _sha(handle.svg.read_bytes())}
        return len(jobs)

    def value(self, key: str, inputs: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, or the JSON value stored for ``key`` when ``inputs`` are unchanged."""
        fp = fingerprint(self.salt, key, inputs)
        entry = self._lookup(key, fp)
        if entry is not None and "value" in entry:
            self.hits += 1
            self._entries[key] = entry
            return entry["value"]
        self.misses += 1
        result = compute()
        self._entries[key] = {"fingerprint": fp, "value": json.loads(json.dumps(result))}
        return self._entries[key]["value"]

    def previous(self, key: str) -> Any:
        """The JSON value the last report stored for ``key``, whatever inputs it was computed
        from; None when there is none (no index, a disabled cache, an index written by other code
        (another salt), or ``key`` names a figure).

        For a value that is cheaper to update from its last state than to compute afresh (the
        narrative map keeps its old points and places only the new ones): the caller must check
        that the old value fits, and store the update through :meth:`value`, or the entry is
        dropped at :meth:`save`. Counts as neither a hit nor a miss; returns a copy.
        """
        entry = self._old.get(key)
        if not self.enabled or not isinstance(entry, dict) or "value" not in entry:
            return None
        return copy.deepcopy(entry["value"])

    def save(self) -> Path | None:
        """Write the index of this run's entries (stale keys dropped); call after the figures."""
        if self._pending or self._started:
            raise RuntimeError("figures are still pending; call draw_pending() first")
        if not self.enabled:
            return None
        index = {"format": _FORMAT, "salt": self.salt, "entries": self._entries}
        return atomic_write_text(self.folder / INDEX_NAME,
                                 json.dumps(index, sort_keys=True, indent=1) + "\n")

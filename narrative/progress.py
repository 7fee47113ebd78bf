"""Progress reporting for long stages, decoupled from the computation.

Stages accept ``progress: Progress | None`` and call ``progress.advance(n)``; the CLI passes a rich
progress bar on stderr, library users pass nothing. :class:`StageTimer` times the stages of a build.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol


class Progress(Protocol):
    def advance(self, n: int = 1) -> None: ...


class _RichTask:
    def __init__(self, bar, task_id):
        self._bar, self._task = bar, task_id

    def advance(self, n: int = 1) -> None:
        self._bar.advance(self._task, n)


@contextlib.contextmanager
def progress_bar(description: str, total: int, *, enabled: bool = True) -> Iterator[Progress | None]:
    """A rich progress bar on stderr (or ``None`` when disabled or nothing to do)."""
    if not enabled or total <= 0:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress
    from rich.progress import TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(stderr=True)
    with RichProgress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False,
    ) as bar:
        yield _RichTask(bar, bar.add_task(description, total=total))


#: Makes a progress context for a stage: ``factory(description, total)``.
ProgressFactory = Callable[[str, int], contextlib.AbstractContextManager]


def no_progress(description: str, total: int) -> contextlib.AbstractContextManager:
    """A :data:`ProgressFactory` that shows nothing."""
    return contextlib.nullcontext(None)


@dataclass
class StageTimer:
    """Wall time per stage, in the order the stages ran."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)

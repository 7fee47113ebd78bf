"""Forked workers (narrative.runtime.workers): results come back, and no worker outlives its parent.

The kill tests run the parent in a fresh interpreter, kill it with SIGKILL (no clean-up at all) and
watch its workers from here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from narrative.runtime import workers

pytestmark = pytest.mark.skipif(not workers.available(), reason="workers are forked on Linux only")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for PID 1 to reap it counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _snapshot(folder: Path) -> dict:
    """Every visible file under ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def _kill_parent_and_watch(script: str, out: Path, *, ready: Callable[[Path], bool]) -> None:
    """Run ``script OUT`` until ``ready(out)``, SIGKILL it, then check that its workers (the pids
    named by the files in ``out/pids``) are gone within two seconds and that nothing under
    ``out`` changes afterwards."""
    path = out / "parent.py"
    out.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(script))
    parent = subprocess.Popen([sys.executable, str(path), str(out)])
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not ready(out):
            assert parent.poll() is None, "the parent ended before its workers started"
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.05)
        pids = [int(p.name) for p in (out / "pids").iterdir()]
        assert pids and parent.pid not in pids
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        after_kill = _snapshot(out)
        deadline = time.monotonic() + 2
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = [pid for pid in pids if _alive(pid)]
        assert not survivors, f"workers {survivors} outlived their killed parent"
        time.sleep(1.0)  # a survivor would have written again by now
        assert _snapshot(out) == after_kill, "a worker wrote after its parent was killed"
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in pids:  # on failure: leave no stray worker behind
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


_REPORT_LIKE = """
    import os, sys, time
    from pathlib import Path

    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from narrative.report.cache import Plot, ReportCache

    out = Path(sys.argv[1])
    (out / "pids").mkdir()

    def slow_figure(i):
        (out / "pids" / str(os.getpid())).touch()
        time.sleep(0.3)
        figure = Figure()
        figure.add_subplot().plot([0, i])
        return figure

    cache = ReportCache(out, salt="s")
    for i in range(60):
        cache.figure(f"f{i}", Plot(slow_figure, (i,)), out / "fig")
    assert cache.start_drawing(workers=2)
    time.sleep(600)  # building the rest of the report, until killed
"""


def test_report_figure_workers_die_with_a_killed_report_and_write_nothing_after(tmp_path):
    def drawing(out: Path) -> bool:
        figures = out / "fig"
        return figures.is_dir() and any(figures.glob("*.png")) and len(list((out / "pids").iterdir())) == 2

    _kill_parent_and_watch(_REPORT_LIKE, tmp_path / "report", ready=drawing)


_BESIDE = """
    import os, sys, time
    from pathlib import Path

    from narrative.runtime.workers import run_beside

    out = Path(sys.argv[1])
    (out / "pids").mkdir()

    def job():
        (out / "pids" / str(os.getpid())).touch()
        for tick in range(600):
            (out / "ticks").write_text(str(tick))
            time.sleep(0.1)

    beside = run_beside(job)
    time.sleep(600)  # doing its own share, until killed
"""


def test_a_job_beside_dies_with_its_killed_parent(tmp_path):
    _kill_parent_and_watch(_BESIDE, tmp_path / "beside",
                           ready=lambda out: (out / "ticks").exists())


def test_a_job_beside_runs_in_another_process_and_here_if_that_process_dies():
    parent = os.getpid()
    assert workers.run_beside(os.getpid).result() != parent

    def dies_in_the_worker():
        if os.getpid() != parent:
            os._exit(1)
        return "computed here"

    assert workers.run_beside(dies_in_the_worker).result() == "computed here"
    assert workers.run_beside(dies_in_the_worker).result(lambda: "fallback") == "fallback"


def test_an_error_of_the_job_beside_is_raised_here():
    def fails():
        raise KeyError("missing narrative")

    beside = workers.run_beside(fails)
    with pytest.raises(KeyError, match="missing narrative") as raised:
        beside.result()
    assert "in the process beside" in str(raised.value.__cause__)
    assert not beside.process.is_alive()


def test_a_worker_whose_parent_died_before_it_started_exits_at_once():
    """The parent-death signal is requested after the fork: a parent that died in between is
    noticed by the pid check, before the worker does anything."""
    expected = os.getpid() + 1  # not the parent the forked process sees: as if it had died
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the forked process
        try:
            workers._become_worker(expected)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 1


def test_exit_if_orphaned_does_nothing_outside_a_worker():
    workers.exit_if_orphaned()  # still here

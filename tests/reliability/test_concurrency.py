"""Two builds on one store: the second refuses with a clear message, and the store stays whole."""

from __future__ import annotations

import shutil

import pytest

from .conftest import build_args, run_narrative, store_digest

pytestmark = pytest.mark.slow

LOCKED_MESSAGE = "is in use by another narrative process"


def test_build_on_a_store_another_process_holds_refuses_with_a_clear_message(tmp_path, clean_build, corpus_file):
    from narrative.store import Store

    out = tmp_path / "out"
    shutil.copytree(clean_build.out, out)
    before = store_digest(out / "narrative.duckdb")
    with Store(out / "narrative.duckdb"):  # this test process holds the store open for writing
        run = run_narrative(build_args(corpus_file, out), tmp_path / "locked.log")
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert lines[-1].startswith("narrative: error: ") and LOCKED_MESSAGE in lines[-1], run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert store_digest(out / "narrative.duckdb") == before


def test_two_builds_at_once_serialise_or_one_refuses_and_the_store_stays_whole(second_builds):
    codes = sorted(run.returncode for run in second_builds.runs)
    assert codes in ([0, 0], [0, 1]), [(r.returncode, r.stderr[-1500:]) for r in second_builds.runs]
    for run in second_builds.runs:
        if run.returncode == 1:
            last = run.stderr.strip().splitlines()[-1]
            assert LOCKED_MESSAGE in last and "Traceback" not in run.stderr, run.stderr[-2000:]
    after = store_digest(second_builds.out / "narrative.duckdb")  # it opens: not corrupted
    assert after.keys() == second_builds.before.keys()
    assert after["runs"][0] == 1 and after["assignments"] == second_builds.before["assignments"]
    assert (second_builds.out / "report.html").stat().st_size > 0

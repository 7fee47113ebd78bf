"""The report cache: figures and costly values reused exactly when their inputs are unchanged."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from narrative.report.cache import INDEX_NAME, Plot, ReportCache, fingerprint


def _frame(value: float = 0.5) -> pd.DataFrame:
    return pd.DataFrame({"narrative": ["A", "B"], "share": [value, 1 - value],
                         "terms": [["x", "y"], ["z"]]})


def test_fingerprint_follows_content_not_identity():
    assert fingerprint(_frame()) == fingerprint(_frame())
    assert fingerprint(_frame()) != fingerprint(_frame(0.25))
    assert fingerprint(_frame()) != fingerprint(_frame().astype({"share": "float32"}))
    changed = _frame()
    changed.at[1, "terms"] = ["q"]
    assert fingerprint(_frame()) != fingerprint(changed)
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint([1, 2]) != fingerprint([12]) != fingerprint("12")
    assert fingerprint(np.arange(3.0)) != fingerprint(np.arange(3))
    assert fingerprint(float("nan")) == fingerprint(float("nan"))


class _Counter:
    """A plotting function that counts its calls and draws a tiny real figure."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, frame: pd.DataFrame, *, title: str = ""):
        from matplotlib.figure import Figure

        self.calls += 1
        fig = Figure(figsize=(2, 1))
        fig.add_subplot().bar(frame["narrative"], frame["share"])
        fig.suptitle(title)
        return fig


def _save(fig, folder, key):
    from narrative.figures import save_figure

    return save_figure(fig, folder, key)


def _draw(cache: ReportCache, key: str, plot: Plot, folder):
    handle = cache.figure(key, plot, folder)
    cache.draw_pending(_save)
    cache.save()
    return handle.files()


@pytest.fixture
def counter(monkeypatch):
    draw = _Counter()
    # a stable name for the fingerprint, as a module-level plotting function has
    draw.__module__, draw.__qualname__ = "tests", "draw"
    return draw


def test_figure_is_reused_only_while_inputs_and_files_are_unchanged(tmp_path, counter):
    figures = tmp_path / "figures"
    cache = ReportCache(tmp_path, salt="s")
    handle = cache.figure("sizes", Plot(counter, (_frame(),), {"title": "t"}), figures)
    with pytest.raises(RuntimeError, match="draw_pending"):
        cache.save()  # an index must not name files that are not written yet
    assert counter.calls == 0 and cache.draw_pending(_save) == 1
    cache.save()
    png, svg = handle.files()
    assert counter.calls == 1 and png.startswith(b"\x89PNG") and svg.is_file()

    again = ReportCache(tmp_path, salt="s")
    png2, _ = again.figure("sizes", Plot(counter, (_frame(),), {"title": "t"}), figures).files()
    assert counter.calls == 1 and png2 == png and (again.hits, again.misses) == (1, 0)

    for plot in (Plot(counter, (_frame(0.2),), {"title": "t"}),   # data changed
                 Plot(counter, (_frame(),), {"title": "u"})):     # an argument changed
        _draw(ReportCache(tmp_path, salt="s"), "sizes", plot, figures)
    assert counter.calls == 3

    _draw(ReportCache(tmp_path, salt="other code"), "sizes",
          Plot(counter, (_frame(),), {"title": "t"}), figures)
    assert counter.calls == 4


def test_altered_or_missing_file_is_redrawn(tmp_path, counter):
    figures = tmp_path / "figures"
    plot = Plot(counter, (_frame(),))
    _draw(ReportCache(tmp_path, salt="s"), "sizes", plot, figures)
    (figures / "sizes.png").write_bytes(b"\x89PNG not the drawn one")
    png, _ = _draw(ReportCache(tmp_path, salt="s"), "sizes", plot, figures)
    assert counter.calls == 2 and png != b"\x89PNG not the drawn one"
    (figures / "sizes.svg").unlink()
    _draw(ReportCache(tmp_path, salt="s"), "sizes", plot, figures)
    assert counter.calls == 3 and (figures / "sizes.svg").is_file()


def test_values_are_json_and_stale_keys_are_dropped(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"npmi": [0.25, None], "n": np.int64(3).item()}

    cache = ReportCache(tmp_path, salt="s")
    first = cache.value("npmi", ("terms", ["doc"]), compute)
    cache.value("gone", 1, lambda: 1)
    cache.save()
    cache = ReportCache(tmp_path, salt="s")
    assert cache.value("npmi", ("terms", ["doc"]), compute) == first and len(calls) == 1
    assert cache.value("npmi", ("terms", ["doc", "more"]), compute) == first and len(calls) == 2
    cache.save()
    index = json.loads((tmp_path / INDEX_NAME).read_text())
    assert set(index["entries"]) == {"npmi"}


def test_unreadable_index_means_recompute(tmp_path):
    (tmp_path / INDEX_NAME).write_text("{not json")
    calls = []
    ReportCache(tmp_path, salt="s").value("k", 1, lambda: calls.append(1) or 5)
    assert calls == [1]


def test_previous_value_whatever_its_inputs(tmp_path, counter):
    cache = ReportCache(tmp_path, salt="s")
    assert cache.previous("layout") is None  # no index yet
    cache.value("layout", ("texts", 1), lambda: {"x": [0.5, 1.25]})
    cache.figure("sizes", Plot(counter, (_frame(),)), tmp_path / "figures")
    cache.draw_pending(_save)
    cache.save()

    again = ReportCache(tmp_path, salt="s")
    old = again.previous("layout")
    assert old == {"x": [0.5, 1.25]} and (again.hits, again.misses) == (0, 0)
    old["x"].append(9.0)  # a copy: the stored value is not changed
    assert again.previous("layout") == {"x": [0.5, 1.25]}
    assert again.previous("sizes") is None and again.previous("missing") is None
    assert ReportCache(tmp_path, salt="other code").previous("layout") is None
    assert ReportCache(tmp_path, salt="s", enabled=False).previous("layout") is None
    # read but not stored again through value(): gone after this report
    again.save()
    assert ReportCache(tmp_path, salt="s").previous("layout") is None


def test_rerun_into_the_same_folder_keeps_the_map_and_places_added_texts(tmp_path, monkeypatch):
    """Daily re-runs: a report with 5 texts more places them among the old points (no UMAP),
    and a relabelled run keeps the layout; only the narrative names on the map change."""
    from tests.synthetic_run import FAST_LAYOUT, fast_layout, synthetic_run

    from narrative.drift import compute_drift
    from narrative.report.assemble import assemble_report

    layouts = []
    monkeypatch.setattr(FAST_LAYOUT, lambda v, **kw: layouts.append(len(v)) or fast_layout(v))
    store, settings = synthetic_run(tmp_path, stability=None)
    settings = dataclasses.replace(settings, processes=1)
    out = tmp_path / "out"
    with store:
        drift = compute_drift(store, "run1", settings=settings)
        hashes = sorted(drift.paragraphs["text_hash"].unique())
        held_back = set(hashes[::19])  # texts that only the later report has
        earlier = dataclasses.replace(
            drift, paragraphs=drift.paragraphs[~drift.paragraphs["text_hash"].isin(held_back)])
        first = assemble_report(store, "run1", earlier, out_dir=out, settings=settings,
                                timings={})
        assert layouts == [len(hashes) - len(held_back)]
        second = assemble_report(store, "run1", drift, out_dir=out, settings=settings, timings={})
        assert layouts == [len(hashes) - len(held_back)], "a few added texts: no UMAP"
        (map_text,) = [s.text for s in second.sections if s.key == "map"]
        assert f"{len(held_back)} of the {len(hashes)} dots" in " ".join(map_text)
        figures = {f.key: f.png for f in second.figures}
        assert figures["narrative-map"] != {f.key: f.png for f in first.figures}["narrative-map"]

        store.con.execute("UPDATE narratives SET label = 'Ferry timetables' "
                          "WHERE label = 'Harbour ferries'").fetchall()
        relabelled = compute_drift(store, "run1", settings=settings)
        assert "Ferry timetables" in relabelled.narrative_order
        third = assemble_report(store, "run1", relabelled, out_dir=out, settings=settings,
                                timings={})
    assert len(layouts) == 1, "relabelled narratives: the layout is reused"
    assert {f.key: f.png for f in third.figures}["narrative-map"] != figures["narrative-map"]


def test_report_reuses_every_figure_on_an_unchanged_rerun_and_redraws_on_change(
        tmp_path, monkeypatch):
    """Two reports of the same run: the second draws nothing and embeds the same figures; a
    changed drift setting (month instead of week) redraws the figures that show time."""
    from tests.synthetic_run import FAST_LAYOUT, fast_layout, synthetic_run

    from narrative.drift import compute_drift
    from narrative.report.assemble import assemble_report

    layouts = []

    def counting_layout(*args, **kwargs):
        layouts.append(1)
        return fast_layout(*args, **kwargs)

    monkeypatch.setattr(FAST_LAYOUT, counting_layout)
    drawn = []
    import narrative.figures as figures_pkg
    real_save = figures_pkg.save_figure

    def counting_save(fig, folder, key):
        drawn.append(key)
        return real_save(fig, folder, key)

    monkeypatch.setattr(figures_pkg, "save_figure", counting_save)
    store, settings = synthetic_run(tmp_path, stability=None)
    settings = dataclasses.replace(settings, processes=1)  # the counting save runs here
    out = tmp_path / "out"
    with store:
        drift = compute_drift(store, "run1", settings=settings)
        first = assemble_report(store, "run1", drift, out_dir=out, settings=settings, timings={})
        n_first = len(drawn)
        assert n_first == len(first.figures) > 5 and len(layouts) == 1

        second = assemble_report(store, "run1", compute_drift(store, "run1", settings=settings),
                                 out_dir=out, settings=settings, timings={})
        assert len(drawn) == n_first and len(layouts) == 1
        assert [f.png for f in second.figures] == [f.png for f in first.figures]
        assert second.methods["Reused from the last report"].startswith(
            f"{len(first.figures) + 2} of {len(first.figures) + 2}")
        assert [s.text for s in second.appendix] == [s.text for s in first.appendix]

        monthly = dataclasses.replace(settings, period="month")
        third = assemble_report(store, "run1", compute_drift(store, "run1", settings=monthly),
                                out_dir=out, settings=monthly, timings={})
    redrawn = set(drawn[n_first:])
    assert "share-over-time" in redrawn and "narrative-sizes" not in redrawn
    assert len(layouts) == 1  # same texts, narratives and seed: the map layout is reused
    assert {f.key for f in third.figures} >= redrawn


def test_figures_drawn_in_worker_processes_are_the_same_files(tmp_path, monkeypatch):
    """Two worker processes draw the same bytes as the building process does."""
    from tests.synthetic_run import FAST_LAYOUT, fast_layout, synthetic_run

    from narrative.drift import compute_drift
    from narrative.report import cache as cache_module
    from narrative.report.assemble import assemble_report

    monkeypatch.setattr(FAST_LAYOUT, fast_layout)
    pools = []
    real_pool = cache_module.worker_pool
    monkeypatch.setattr(cache_module, "worker_pool", lambda n: pools.append(n) or real_pool(n))
    store, settings = synthetic_run(tmp_path, stability=None)
    with store:
        drift = compute_drift(store, "run1", settings=settings)
        models = {
            workers: assemble_report(
                store, "run1", drift, out_dir=tmp_path / f"out{workers}", timings={},
                settings=dataclasses.replace(settings, processes=workers))
            for workers in (1, 2)
        }
    assert pools == [2]
    one, two = ([(f.key, f.png, f.svg_path) for f in m.figures] for m in models.values())
    assert one == two and len(one) >= cache_module.MIN_PARALLEL
    for key, _, svg in one:
        assert (tmp_path / "out1" / svg).read_bytes() == (tmp_path / "out2" / svg).read_bytes(), key


_UNGUARDED_SCRIPT = '''
import sys
from pathlib import Path

import pandas as pd

from narrative.figures import plot_narrative_sizes
from narrative.report.cache import Plot, ReportCache

out = Path(sys.argv[1])
with open(out / "runs.txt", "a") as runs:  # the script body: must run once, not once per worker
    runs.write("ran\\n")
cache = ReportCache(out, salt="s")
handles = [cache.figure(f"sizes-{i}", Plot(plot_narrative_sizes, (pd.DataFrame(
    {"narrative": ["A", "B"], "size": [i + 1, 2], "kind": ["named", "discovered"]}),)), out / "fig")
    for i in range(7)]
print(cache.draw_pending(workers=2), len({h.files()[0] for h in handles}))
'''


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="workers: Linux only")
def test_workers_do_not_run_an_unguarded_user_script_again(tmp_path):
    """A user's script without ``if __name__ == "__main__"`` draws its figures in workers, and its
    body runs once (spawned workers would import the script again, once per worker)."""
    import subprocess
    import sys

    script = tmp_path / "user_script.py"
    script.write_text(_UNGUARDED_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["7", "7"]
    assert (tmp_path / "runs.txt").read_text() == "ran\n"


def test_a_dead_worker_means_drawing_here(tmp_path, counter, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    from narrative.report import cache as cache_module

    class DeadPool:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, *args):
            raise BrokenProcessPool("a worker was killed")

    monkeypatch.setattr(cache_module, "worker_pool", lambda n: DeadPool())
    cache = ReportCache(tmp_path, salt="s")
    handles = [cache.figure(f"f{i}", Plot(counter, (_frame(i / 10),)), tmp_path / "fig")
               for i in range(cache_module.MIN_PARALLEL)]
    assert cache.draw_pending(_save, workers=2) == len(handles) == counter.calls
    assert all(h.files()[0].startswith(b"\x89PNG") for h in handles)


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="workers: Linux only")
def test_started_figures_are_drawn_while_the_caller_goes_on(tmp_path, counter):
    """start_drawing returns at once and its workers draw while the caller works; figures added
    after it go to the same workers; the files are those drawn in one process."""
    import time

    from narrative.report import cache as cache_module

    n = cache_module.MIN_PARALLEL
    plots = [Plot(counter, (_frame(i / 10),), {"title": f"t{i}"}) for i in range(n + 2)]
    here = ReportCache(tmp_path / "here", salt="s")
    expected = [here.figure(f"f{i}", p, tmp_path / "here" / "fig") for i, p in enumerate(plots)]
    here.draw_pending(_save)
    cache = ReportCache(tmp_path / "out", salt="s")
    folder = tmp_path / "out" / "fig"
    first = [cache.figure(f"f{i}", p, folder) for i, p in enumerate(plots[:n])]
    assert cache.start_drawing(workers=2)
    deadline = time.monotonic() + 120
    while not (folder / "f0.png").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (folder / "f0.png").exists(), "the workers draw before draw_pending is called"
    later = [cache.figure(f"f{i}", p, folder) for i, p in enumerate(plots[n:], start=n)]
    with pytest.raises(RuntimeError, match="pending"):
        cache.save()
    assert cache.draw_pending(_save, workers=2) == n + 2
    assert counter.calls == n + 2  # only the in-process drawing counts here: workers are forks
    assert [h.files()[0] for h in first + later] == [h.files()[0] for h in expected]
    assert cache.save() is not None


def test_start_drawing_needs_workers_and_enough_figures(tmp_path, counter):
    from narrative.report import cache as cache_module

    cache = ReportCache(tmp_path, salt="s")
    handles = [cache.figure(f"f{i}", Plot(counter, (_frame(i / 10),)), tmp_path / "fig")
               for i in range(cache_module.MIN_PARALLEL - 1)]
    assert not cache.start_drawing(workers=2)  # too few: drawn here by draw_pending
    handles.append(cache.figure("last", Plot(counter, (_frame(0.9),)), tmp_path / "fig"))
    assert not cache.start_drawing(workers=1)
    assert cache.draw_pending(_save) == len(handles) == counter.calls


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="workers: Linux only")
def test_cancel_drawing_stops_the_started_workers(tmp_path, counter):
    from narrative.report import cache as cache_module

    cache = ReportCache(tmp_path, salt="s")
    for i in range(cache_module.MIN_PARALLEL):
        cache.figure(f"f{i}", Plot(counter, (_frame(i / 10),)), tmp_path / "fig")
    import multiprocessing
    import time

    before = set(multiprocessing.active_children())
    assert cache.start_drawing(workers=2)
    assert set(multiprocessing.active_children()) - before  # the workers
    cache.cancel_drawing()
    deadline = time.monotonic() + 120
    while set(multiprocessing.active_children()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(multiprocessing.active_children()) - before, "the workers exit"
    assert cache.draw_pending(_save) == 0  # nothing is left pending: the report was abandoned
    assert cache.save() is not None


def test_code_salt_follows_the_scoring_code(monkeypatch, tmp_path):
    """A change to the NPMI code must not reuse scores computed by the old code."""
    from pathlib import Path as P

    from narrative.report import cache as cache_module

    before = cache_module.code_salt()
    real_read = P.read_bytes
    monkeypatch.setattr(P, "read_bytes", lambda self: real_read(self) + (
        b"# changed" if self.name == "evaluate.py" else b""))
    assert cache_module.code_salt() != before


def test_a_figure_is_redrawn_only_when_the_rows_it_shows_change(tmp_path, monkeypatch):
    """Each figure's fingerprint covers the rows it draws: one outlet's share changing redraws
    the by-outlet grid, not the all-outlets view; a change in the all-outlets rows redraws that
    view only. And the narrowed rows draw the same bytes as the whole table did."""
    from tests.synthetic_run import FAST_LAYOUT, fast_layout, synthetic_run

    import narrative.figures as figures_pkg
    from narrative.figures import plot_outlet_small_multiples, save_figure
    from narrative.drift import compute_drift
    from narrative.report.assemble import assemble_report

    monkeypatch.setattr(FAST_LAYOUT, fast_layout)
    drawn = []

    def counting_save(fig, folder, key):
        drawn.append(key)
        return save_figure(fig, folder, key)

    monkeypatch.setattr(figures_pkg, "save_figure", counting_save)
    store, settings = synthetic_run(tmp_path, stability=None)
    settings = dataclasses.replace(settings, processes=1)
    out = tmp_path / "out"
    with store:
        drift = compute_drift(store, "run1", settings=settings)
        first = assemble_report(store, "run1", drift, out_dir=out, settings=settings, timings={})
        shares = drift.shares
        time_views = {"share-over-time", "share-by-outlet"}
        assert time_views <= {f.key for f in first.figures}

        changed = shares.copy()
        cell = ((changed["narrative"] == "Orchard harvest") & (changed["outlet"] == "Gazette")
                & (changed["period"] == sorted(changed["period"].unique())[2]))
        assert cell.sum() == 1 and not changed.loc[cell, "partial"].any()
        changed.loc[cell, "share"] = 0.123
        drawn.clear()
        assemble_report(store, "run1", dataclasses.replace(
            drift, tables={**drift.tables, "shares": changed}), out_dir=out, settings=settings,
            timings={})
        assert set(drawn) & time_views == {"share-by-outlet"}

        whole_corpus = changed.copy()
        cell = (whole_corpus["outlet"] == "all") & (whole_corpus["narrative"] == "Orchard harvest")
        whole_corpus.loc[cell.idxmax(), "share"] = 0.321
        drawn.clear()
        assemble_report(store, "run1", dataclasses.replace(
            drift, tables={**drift.tables, "shares": whole_corpus}), out_dir=out,
            settings=settings, timings={})
        assert set(drawn) & time_views == {"share-over-time"}

    whole = save_figure(plot_outlet_small_multiples(
        shares, narratives=["Orchard harvest"], include_all=True), tmp_path / "whole", "f")
    rows = shares[shares["narrative"] == "Orchard harvest"].reset_index(drop=True)
    narrowed = save_figure(plot_outlet_small_multiples(
        rows, narratives=["Orchard harvest"], include_all=True), tmp_path / "rows", "f")
    assert whole["png"].read_bytes() == narrowed["png"].read_bytes()

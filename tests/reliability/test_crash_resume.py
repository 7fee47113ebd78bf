"""A build SIGKILLed at each stage resumes: the rerun completes, reuses the embeddings finished
before the kill, leaves no temporary or empty file, and ends where an uninterrupted build ends.

One output folder is killed at every stage in turn (ingest, embedding, fitting, saving the model,
writing the report), then built to the end; each kill comes from inside the process (the harness
in conftest.py sends SIGKILL at a named call), so it lands in its stage on any machine speed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from narrative.io import atomic_write_bytes
from narrative.model.persist import load_model, save_model

from .conftest import build_args, dead_pid, hand_made_model, leftovers, run_narrative, store_digest

#: Kill points in pipeline order; each rerun gets past the previous one.
STAGES = ["ingest", "embed", "fit", "save_model", "report"]
N_DISTINCT_PARAGRAPHS = 28  # corpus_records(n=14): two distinct paragraphs per article


# -- the temporaries a killed writer leaves: removed by the next writer --------------------------


def test_temporary_file_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "report.pdf"
    stale = tmp_path / f".report.pdf.{dead_pid()}.k1ll3d.tmp"
    stale.write_bytes(b"half a PDF")
    live = tmp_path / f".report.pdf.{os.getppid()}.busy.tmp"  # a writer still running
    live.write_bytes(b"being written")
    other = tmp_path / f".shares.csv.{dead_pid()}.k1ll3d.tmp"  # another file's: not ours to judge
    other.write_bytes(b"x")
    atomic_write_bytes(target, b"%PDF whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, live.name, other.name])
    assert target.read_bytes() == b"%PDF whole"


def test_model_folder_half_written_by_a_killed_save_is_removed_by_the_next_save(tmp_path):
    models = tmp_path / "models"
    stale = models / f".run.{dead_pid()}.k1ll3d.tmp"
    stale.mkdir(parents=True)
    (stale / "model.json").write_text("{")
    old = models / ".run.old"  # a kill between the two renames of a replacing save
    old.mkdir()
    (old / "model.json").write_text("{}")
    save_model(hand_made_model(), models / "run")
    assert sorted(p.name for p in models.iterdir()) == ["run"]
    assert load_model(models / "run").centroids_.shape == (3, 8)


def test_writes_in_one_transaction_block_are_all_kept_or_all_dropped(tmp_path):
    import datetime as dt

    from narrative.schema import Article, Paragraph
    from narrative.store import Store

    article = Article(text="A paragraph long enough to stand on its own.", source="a.jsonl", outlet="X",
                      date=dt.date(2025, 3, 3))
    paragraph = Paragraph(article.article_id, 0, 0, len(article.text), article.text)
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(RuntimeError, match="killed"):
            with store.transaction():
                assert store.add_articles([article]) == 1
                assert store.add_paragraphs([paragraph]) == 1
                raise RuntimeError("killed between two writes of one ingest")
        assert (store.count("articles"), store.count("paragraphs")) == (0, 0)
        with store.transaction():
            store.add_articles([article])
            store.add_paragraphs([paragraph])
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        assert (store.count("articles"), store.count("paragraphs")) == (1, 1)


# -- a real build, killed at each stage -------------------------------------------------------------


@pytest.fixture(scope="module")
def resumed(tmp_path_factory, corpus_file):
    """The runs (killed at each stage, then one to the end) and what each kill left behind."""
    out = tmp_path_factory.mktemp("crash") / "out"
    runs, left = {}, {}
    for stage in STAGES:
        runs[stage] = run_narrative(build_args(corpus_file, out), out.parent / f"{stage}.log", kill_at=stage)
        left[stage] = leftovers(out) if out.exists() else []
    runs["final"] = run_narrative(build_args(corpus_file, out), out.parent / "final.log")
    return out, runs, left


@pytest.mark.slow
def test_each_kill_lands_in_its_stage(resumed):
    _, runs, left = resumed
    for stage in STAGES:
        assert runs[stage].returncode == -9, f"{stage}: {runs[stage].stderr[-2000:]}"
        assert runs[stage].killed_at == stage
    assert runs["embed"].encoded >= N_DISTINCT_PARAGRAPHS, "killed after computing, before storing"
    assert any(name.startswith(".report.pdf.") for name in left["report"]), (
        "the report kill lands between writing report.pdf's temporary file and renaming it"
    )


@pytest.mark.slow
def test_rerun_after_the_kills_completes(resumed):
    out, runs, _ = resumed
    final = runs["final"]
    assert final.returncode == 0, final.stderr[-3000:]
    assert (out / "report.html").stat().st_size > 0
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_embeddings_finished_before_a_kill_are_reused(resumed):
    out, runs, _ = resumed
    assert runs["embed"].stored == 0  # computed, killed before the commit
    assert runs["fit"].stored == N_DISTINCT_PARAGRAPHS  # committed, then killed while fitting
    for later in ("save_model", "report", "final"):
        assert runs[later].stored == 0, f"{later} embedded again what the fit-killed run had stored"
    with_store = store_digest(out / "narrative.duckdb")
    assert with_store["embeddings"][0] == N_DISTINCT_PARAGRAPHS


@pytest.mark.slow
def test_resume_leaves_no_temporary_or_empty_file(resumed):
    out, _, _ = resumed
    assert [p for p in leftovers(out) if not p.startswith("models")] == []


@pytest.mark.slow
def test_resumed_result_equals_an_uninterrupted_build(resumed, clean_build):
    out, _, _ = resumed
    for name in ("shares.csv", "changepoints.csv"):
        assert (out / name).read_bytes() == (clean_build.out / name).read_bytes(), name
    resumed_store = store_digest(out / "narrative.duckdb")
    clean_store = store_digest(clean_build.out / "narrative.duckdb")
    assert resumed_store == clean_store


@pytest.mark.slow
def test_resumed_store_has_one_complete_run(resumed):
    from narrative.store import Store

    out, _, _ = resumed
    with Store(out / "narrative.duckdb", read_only=True) as store:
        assert store.count("runs") == 1
        run_id = store.latest_run_id()
        assignments = store.assignments(run_id)
        paragraphs = store.paragraphs()
    assert set(assignments["paragraph_id"]) == set(paragraphs["paragraph_id"])
    assert not pd.isna(assignments["narrative_id"]).any()


@pytest.mark.slow
def test_model_killed_while_saving_is_saved_by_the_rerun(resumed):
    from narrative.store import Store

    out, _, _ = resumed
    with Store(out / "narrative.duckdb", read_only=True) as store:
        run_id = store.latest_run_id()
    model = load_model(Path(out) / "models" / run_id)
    assert len(model.centroid_ids_) > 0
    assert [p for p in leftovers(out) if p.startswith("models")] == []

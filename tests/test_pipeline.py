"""The pipeline with a stand-in embedder on the planted corpus: stored soft distributions (fit,
update, soft shares from the store and their fallback) and the outlier setting end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from narrative.model.assign import MIN_STORED_WEIGHT
from narrative.drift import compute_drift
from narrative.runs import fit_run
from narrative.saved_runs import load_run_model
from narrative.store import Store

from . import planted


def _fit(tmp_path, name, **changes):
    """The planted corpus in a store and a run fitted on it: ``(store, embedder, settings, fit)``."""
    texts, vectors, _ = planted.planted(0)
    embedder = planted.PlantedEmbedder(texts, vectors)
    settings = planted.settings(**changes)
    store = Store(tmp_path / f"{name}.duckdb")
    planted.add_articles(store, texts)
    return store, embedder, settings, fit_run(store, settings=settings, embedder=embedder)


@pytest.fixture
def reduce_run(tmp_path):
    store, embedder, settings, fit = _fit(tmp_path, "reduce")
    with store:
        yield store, embedder, settings, fit


def _check_rows(rows: pd.DataFrame, assignments: pd.DataFrame) -> None:
    """One mixture per assigned paragraph, none for unassigned ones, each summing to one."""
    assigned = set(assignments.loc[assignments["narrative_id"] != -1, "paragraph_id"])
    assert set(rows["paragraph_id"]) == assigned
    assert np.allclose(rows.groupby("paragraph_id")["weight"].sum(), 1.0, atol=1e-9)
    assert (rows["weight"] > 0).all() and (rows["weight"] <= 1).all()
    top = rows.sort_values("weight").groupby("paragraph_id").tail(1).set_index("paragraph_id")
    hard = assignments.set_index("paragraph_id")["narrative_id"]
    assert (top["narrative_id"] == hard.reindex(top.index)).mean() > 0.9  # mostly its own narrative


def test_a_fit_stores_each_assigned_paragraphs_mixture(reduce_run):
    store, _, _, fit = reduce_run
    rows = store.distributions(fit.run_id)
    _check_rows(rows, fit.assignments)
    # The stored mixture is the model's distribution, pruned: within the dropped mass of it.
    model, _ = load_run_model(store, fit.run_id)
    paragraphs = store.paragraphs().set_index("paragraph_id")
    pid = rows["paragraph_id"].iloc[0]
    vector = store.get_embeddings([paragraphs.loc[pid, "text_hash"]], "planted-test")
    full = dict(zip(model.centroid_ids_, model.distribution(vector)[0]))
    for r in rows[rows["paragraph_id"] == pid].itertuples():
        assert abs(r.weight - full[r.narrative_id]) < MIN_STORED_WEIGHT * len(full)


def test_soft_shares_from_the_stored_table_match_the_fallback(reduce_run):
    store, _, settings, fit = reduce_run
    soft = settings.replace(shares="soft")
    stored = compute_drift(store, fit.run_id, settings=soft).shares
    store.con.execute("DELETE FROM distributions WHERE run_id = ?", [fit.run_id]).fetchall()
    assert store.distributions(fit.run_id).empty  # as a run stored before the table existed
    computed = compute_drift(store, fit.run_id, settings=soft).shares
    hard = compute_drift(store, fit.run_id, settings=settings).shares
    key = ["period", "outlet", "narrative"]
    both = stored.merge(computed, on=key, suffixes=("_stored", "_computed"))
    assert len(both) == len(stored) == len(computed)
    assert np.allclose(both["share_stored"], both["share_computed"], atol=MIN_STORED_WEIGHT)
    spread = stored.merge(hard, on=key)
    assert not np.allclose(spread["share_x"], spread["share_y"], atol=MIN_STORED_WEIGHT)  # spread
    assert ((stored.groupby(["period", "outlet"])["share"].sum() - 1).abs() < 1e-6).all()
    unassigned = stored[stored["narrative"] == "unassigned"].merge(hard, on=key)
    assert np.allclose(unassigned["share_x"], unassigned["share_y"])  # still counted as such


def test_an_update_stores_mixtures_for_new_paragraphs_and_keeps_the_old_ones(reduce_run):
    store, embedder, settings, fit = reduce_run
    texts, vectors, _ = planted.planted(2, n_per=2, n_far=2, start=500)
    embedder.add(texts, vectors)
    planted.add_articles(store, texts, first_day=40)
    update = fit_run(store, settings=settings, embedder=embedder)
    assert update.mode == "update"
    rows = store.distributions(update.run_id)
    _check_rows(rows, update.assignments)
    old = store.distributions(fit.run_id)
    carried = rows[rows["paragraph_id"].isin(old["paragraph_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(carried, old)


def test_an_update_of_a_run_stored_without_mixtures_stores_them_all(reduce_run):
    store, embedder, settings, fit = reduce_run
    store.con.execute("DELETE FROM distributions").fetchall()
    texts, vectors, _ = planted.planted(3, n_per=1, n_far=1, start=600)
    embedder.add(texts, vectors)
    planted.add_articles(store, texts, first_day=50)
    update = fit_run(store, settings=settings, embedder=embedder)
    _check_rows(store.distributions(update.run_id), update.assignments)


def test_keep_runs_leave_far_paragraphs_unassigned_at_fit_and_at_update(tmp_path):
    store, embedder, settings, fit = _fit(tmp_path, "keep", outliers="keep")
    with store:
        far_texts = set(planted.planted(0)[0][-5:])
        by_text = store.paragraphs().set_index("paragraph_id")["text"]
        frame = fit.assignments.assign(
            far=fit.assignments["paragraph_id"].map(by_text).isin(far_texts))
        assert (frame.loc[frame["far"], "narrative_id"] == -1).all()
        assert (frame.loc[~frame["far"], "narrative_id"] != -1).all()
        _check_rows(store.distributions(fit.run_id), fit.assignments)
        assert store.run(fit.run_id)["settings"]["outliers"] == "keep"

        texts, vectors, far = planted.planted(4, n_per=0, n_far=3, start=700)
        embedder.add(texts, vectors)
        planted.add_articles(store, texts, first_day=60)
        update = fit_run(store, settings=settings, embedder=embedder)
        assert update.mode == "update"
        seen = update.assignments["paragraph_id"].isin(fit.assignments["paragraph_id"])
        new = update.assignments[~seen]
        assert len(new) == 3 and (new["narrative_id"] == -1).all()
        _check_rows(store.distributions(update.run_id), update.assignments)


def test_an_update_report_scores_npmi_on_the_fitted_texts_and_reuses_it(reduce_run, tmp_path,
                                                                          monkeypatch):
    """NPMI measures the fitted narratives' terms on the texts they were fitted on: the report of
    an update counts the same texts (not the added ones), so a re-run into the same report folder
    reuses the scores instead of counting them again."""
    import narrative.evaluate as evaluate
    from narrative.pipeline import compute_drift
    from narrative.report.assemble import assemble_report

    store, embedder, settings, fit = reduce_run
    settings = settings.replace(processes=1)
    counted = []
    real = evaluate.npmi_per_topic
    engines = set()
    monkeypatch.setattr(evaluate, "npmi_per_topic",
                        lambda topics, docs, **kw: counted.append(len(docs))
                        or engines.add(kw.get("engine")) or real(topics, docs, **kw))
    out = tmp_path / "report"

    def report(run_id, folder=out):
        model = assemble_report(store, run_id, compute_drift(store, run_id, settings=settings),
                                out_dir=folder, settings=settings, timings={})
        (quality,) = [s for s in model.appendix if s.key == "quality"]
        return " ".join(quality.text), {t.key: t.rows for t in model.tables}["quality"]

    first_text, first_rows = report(fit.run_id)
    n_fitted = store.paragraphs()["text_hash"].nunique()
    assert counted == [n_fitted]
    assert engines == {"exact"}, "the report counts NPMI exactly (gensim: 10x slower on ukraine)"
    texts, vectors, _ = planted.planted(2, n_per=3, n_far=0, start=800)
    embedder.add(texts, vectors)
    planted.add_articles(store, texts, first_day=40)
    update = fit_run(store, settings=settings, embedder=embedder)
    assert update.mode == "update" and store.paragraphs()["text_hash"].nunique() > n_fitted

    text, rows = report(update.run_id)
    assert counted == [n_fitted], "same terms, same fitted texts: the scores are reused"
    assert [(r[0], r[3]) for r in rows] == [(r[0], r[3]) for r in first_rows]  # name, NPMI
    assert "fitted on" in text and "fitted on" not in first_text
    report(update.run_id, tmp_path / "fresh")  # a new folder counts them again, on the same texts
    assert counted == [n_fitted, n_fitted]


def test_an_update_keeps_the_fitted_order_of_narratives(reduce_run):
    """Discovered narratives rank by their size at the fit: an update that makes one outgrow
    another does not reorder them (nor recolour every figure)."""
    from narrative.drift import _narrative_order
    from narrative.saved_runs import narrative_table

    store, embedder, settings, fit = reduce_run
    texts, vectors, _ = planted.planted(2, n_per=2, n_far=0, start=900)
    embedder.add(texts, vectors)
    planted.add_articles(store, texts, first_day=40)
    update = fit_run(store, settings=settings, embedder=embedder)
    assert update.mode == "update"
    table = narrative_table(store, update.run_id)
    found = table[table["kind"] == "discovered"].sort_values("size")
    assert len(found) >= 2
    small = found["narrative_id"].iloc[0]
    store.con.execute(  # as if the smallest had outgrown the largest since the fit
        "UPDATE narratives SET size = ? WHERE run_id = ? AND narrative_id = ?",
        [int(found["size"].max()) + 100, update.run_id, int(small)]).fetchall()
    grown = narrative_table(store, update.run_id)
    fitted_order = compute_drift(store, fit.run_id, settings=settings).narrative_order
    assert _narrative_order(grown) != fitted_order  # ranked by today's sizes it would move
    assert compute_drift(store, update.run_id, settings=settings).narrative_order == fitted_order


def test_a_fit_imports_its_libraries_while_the_texts_are_embedded(tmp_path, monkeypatch):
    """BERTopic, umap-learn and hdbscan (about 8 s of imports) load in another thread while the
    paragraphs are embedded, and the fit waits for them; an update, which fits nothing, does not
    load them."""
    import threading

    import narrative.embed as embed_module
    import narrative.runs as runs

    events = []
    embedding, imported = threading.Event(), threading.Event()

    def fake_import():
        embedding.wait(10)
        events.append(("import", threading.current_thread().name, embedding.is_set()))
        imported.set()

    real_embed = embed_module.embed_paragraphs

    def embed(*args, **kwargs):
        embedding.set()
        events.append(("embed", imported.wait(10)))  # the imports ran while this call was open
        return real_embed(*args, **kwargs)

    monkeypatch.setattr(runs, "PRELOAD_MIN_TEXTS", 1)
    monkeypatch.setattr(runs, "_import_fit_libraries", fake_import)
    monkeypatch.setattr(embed_module, "embed_paragraphs", embed)
    store, embedder, settings, fit = _fit(tmp_path, "preload")
    with store:
        assert fit.mode == "fit"
        assert events == [("import", "narrative-preload", True), ("embed", True)]
        texts, vectors, _ = planted.planted(2, n_per=2, n_far=0, start=700)
        embedder.add(texts, vectors)
        planted.add_articles(store, texts, first_day=40)
        update = fit_run(store, settings=settings, embedder=embedder)
        assert update.mode == "update"
        assert [e[0] for e in events] == ["import", "embed", "embed"]


def test_a_run_records_its_command_line_and_input_files(tmp_path):
    """The methods section cites how a run was made: the command line and the SHA-256 of the
    manifest, codebook and config files (not the article files: the input fingerprint covers
    those)."""
    import hashlib

    from narrative.provenance import build_provenance, command_line

    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,outlet\na.txt,X\n", encoding="utf-8")
    store, embedder, settings, _ = _fit(tmp_path, "provenance")
    command = command_line(["build", "my articles/", "--manifest", str(manifest)])
    assert command.startswith("narrative build 'my articles/' --manifest ")
    provenance = build_provenance(command=command, manifest=manifest, codebook=None)
    with store:
        fit = fit_run(store, settings=settings.replace(seed=settings.seed + 1), embedder=embedder,
                      provenance=provenance)
        stats = json.loads(store.one("SELECT stats FROM runs WHERE run_id = ?", [fit.run_id])[0])
    assert stats["provenance"]["command"] == command
    assert stats["provenance"]["files"] == {"manifest": {
        "name": "manifest.csv", "sha256": hashlib.sha256(manifest.read_bytes()).hexdigest()}}

"""Incremental updates: new paragraphs assigned with the saved model, refit advice, stable ids."""

from __future__ import annotations

import json

import pytest

from narrative.model.lineage import map_ids
from narrative.runs import refit_advice
from narrative.saved_runs import compatible_run


def test_refit_is_proposed_when_new_paragraphs_fit_poorly():
    advice = refit_advice(n_model=1000, n_new=50, new_unassigned_share=0.40,
                          model_unassigned_share=0.20, margin=0.10, growth=0.5)
    assert advice.propose and "40%" in advice.reason


def test_refit_is_proposed_when_the_corpus_grew_a_lot():
    advice = refit_advice(n_model=100, n_new=60, new_unassigned_share=0.2,
                          model_unassigned_share=0.2, margin=0.10, growth=0.5)
    assert advice.propose and "grew" in advice.reason


def test_no_refit_for_a_small_well_fitting_addition():
    advice = refit_advice(n_model=1000, n_new=100, new_unassigned_share=0.25,
                          model_unassigned_share=0.20, margin=0.10, growth=0.5)
    assert not advice.propose


def test_compatible_run_ignores_drift_settings_but_not_model_settings():
    runs = [
        {"run_id": "new", "settings": json.dumps({"seed": 1, "period": "month"}), "codebook_hash": "c"},
        {"run_id": "old", "settings": {"seed": 2, "period": "week"}, "codebook_hash": "c"},
    ]
    pick = lambda seed, cb="c": compatible_run(  # noqa: E731
        runs, model_settings_json=json.dumps({"seed": seed}), codebook_hash=cb, not_model={"period"})
    assert pick(1) == "new"
    assert pick(2) == "old"
    assert pick(3) is None
    assert pick(1, cb="other") is None


def test_map_ids_uses_the_map_and_keeps_unmapped_ids():
    assert map_ids([0, 5, -1], {5: 9, -1: -1}) == [0, 9, -1]
    assert map_ids([0, 5], None) == [0, 5]


def _write(path, articles):
    rows = [{"id": a["id"], "outlet": a["outlet"], "date": a["date"].isoformat(), "title": a["title"],
             "url": a["url"], "text": a["text"]} for a in articles]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_update_embeds_only_new_paragraphs_and_refit_keeps_ids_stable(tmp_path, embedder):
    from sklearn.metrics import adjusted_rand_score

    from narrative.codebook import load_codebook
    from narrative.config import Settings
    from narrative.pipeline import ingest_articles as ingest
    from narrative.runs import fit_run
    from narrative.sample import generate_demo_corpus
    from narrative.store import Store

    articles = sorted(generate_demo_corpus(12, n_weeks=12, articles_per_outlet_week=1).articles,
                      key=lambda a: (a["date"], a["id"]))
    cut = int(len(articles) * 0.85)
    first, everything = tmp_path / "first.jsonl", tmp_path / "all.jsonl"
    _write(first, articles[:cut])
    _write(everything, articles)
    settings, codebook = Settings(seed=3), load_codebook()
    with Store(tmp_path / "store.duckdb") as store:
        ingest([first], store, settings=settings)
        fitted = fit_run(store, settings=settings, codebook=codebook, embedder=embedder)
        assert fitted.mode == "fit"
        n_cached = store.count("embeddings")

        ingest([everything], store, settings=settings)
        paragraphs = store.paragraphs()
        new_texts = set(paragraphs["text_hash"]) - set(
            paragraphs[paragraphs["paragraph_id"].isin(fitted.assignments["paragraph_id"])]["text_hash"])
        updated = fit_run(store, settings=settings, codebook=codebook, embedder=embedder)
        assert updated.mode == "update"
        assert updated.n_embedded == len(new_texts) > 0
        assert store.count("embeddings") == n_cached + len(new_texts)
        # Paragraphs the model was fitted on keep their narrative; every paragraph has one.
        merged = fitted.assignments.merge(updated.assignments, on="paragraph_id")
        assert len(merged) == len(fitted.assignments)
        assert (merged["narrative_id_x"] == merged["narrative_id_y"]).all()
        assert set(updated.assignments["paragraph_id"]) == set(paragraphs["paragraph_id"])
        assert set(updated.narratives["narrative_id"]) == set(fitted.narratives["narrative_id"])
        run = store.run(updated.run_id)
        assert run["stats"]["base_run"] == fitted.run_id
        assert run["stats"]["n_new_paragraphs"] == len(paragraphs) - len(fitted.assignments)

        again = fit_run(store, settings=settings, codebook=codebook, embedder=embedder)
        assert again.mode == "reused" and again.run_id == updated.run_id

        refit = fit_run(store, settings=settings, codebook=codebook, embedder=embedder, refit=True)
        assert refit.mode == "refit" and refit.n_embedded == 0
        events = store.run(refit.run_id)["stats"]["lineage"]
        assert events and all(e["event"] in {"continuation", "split", "merge", "regroup", "birth",
                                             "death"} for e in events)
        # Stable ids: the refit agrees with the update as a clustering, and mostly by id as well.
        both = updated.assignments.merge(refit.assignments, on="paragraph_id")
        assert adjusted_rand_score(both["narrative_id_x"], both["narrative_id_y"]) > 0.8
        assert (both["narrative_id_x"] == both["narrative_id_y"]).mean() > 0.8
        named_before = dict(zip(updated.narratives["codebook_name"], updated.narratives["narrative_id"]))
        named_after = dict(zip(refit.narratives["codebook_name"], refit.narratives["narrative_id"]))
        for name, nid in named_before.items():
            if isinstance(name, str) and name in named_after:
                assert named_after[name] == nid, name


def test_fit_sample_is_seeded_sorted_and_only_above_the_limit():
    import numpy as np

    from narrative.runs import fit_sample

    assert fit_sample(100, 100, 0) is None
    assert fit_sample(100, 0, 0) is None
    a, b = fit_sample(1000, 100, 7), fit_sample(1000, 100, 7)
    assert len(a) == 100 and len(set(a)) == 100 and (np.diff(a) > 0).all()
    assert (a == b).all() and not (a == fit_sample(1000, 100, 8)).all()


@pytest.mark.slow
def test_a_corpus_above_the_sample_size_is_fitted_on_a_sample_and_fully_assigned(tmp_path, embedder):
    from narrative.codebook import load_codebook
    from narrative.config import Settings
    from narrative.pipeline import ingest_articles as ingest
    from narrative.runs import fit_run
    from narrative.sample import generate_demo_corpus
    from narrative.store import Store

    path = tmp_path / "c.jsonl"
    _write(path, generate_demo_corpus(5, n_weeks=12, articles_per_outlet_week=1).articles)
    settings = Settings(seed=3, fit_sample_max=150)
    with Store(tmp_path / "s.duckdb") as store:
        ingest([path], store, settings=settings)
        fit = fit_run(store, settings=settings, codebook=load_codebook(), embedder=embedder)
        stats = store.run(fit.run_id)["stats"]
        n_distinct = store.paragraphs()["text_hash"].nunique()
    assert n_distinct > 150 and stats["n_fit_sample"] == 150
    assert len(fit.assignments) == stats["n_paragraphs"]
    # Paragraphs outside the sample are assigned too, mostly to a narrative.
    assert (fit.assignments["narrative_id"] != -1).mean() > 0.6


def test_a_run_stored_before_the_outlier_setting_matches_the_default_strategy():
    from narrative.config import IMPLICIT_MODEL_SETTINGS, NOT_MODEL_SETTINGS, Settings

    old = {"run_id": "old", "settings": {k: v for k, v in Settings(seed=4).to_dict().items()
                                         if k != "outliers"}, "codebook_hash": "c"}
    new = {"run_id": "new", "settings": Settings(seed=5).to_dict(), "codebook_hash": "c"}
    keep = {"run_id": "keep", "settings": Settings(seed=6, outliers="keep").to_dict(),
            "codebook_hash": "c"}
    pick = lambda settings: compatible_run(  # noqa: E731
        [keep, new, old], model_settings_json=settings.model_json(), codebook_hash="c",
        not_model=NOT_MODEL_SETTINGS, implicit=IMPLICIT_MODEL_SETTINGS)
    assert pick(Settings(seed=4)) == "old"
    assert pick(Settings(seed=5)) == "new"
    assert pick(Settings(seed=6, outliers="keep")) == "keep"
    assert pick(Settings(seed=6)) is None and pick(Settings(seed=4, outliers="keep")) is None

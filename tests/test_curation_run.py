"""A curation round replayed on a store: suggest the discovered narratives into the codebook,
rename one, merge two, drop one, build again: applied without refitting, ids kept, recorded in
the run's lineage, and applied again after a refit of the grown store."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def _write(path, articles):
    rows = [{"id": a["id"], "outlet": a["outlet"], "date": a["date"].isoformat(), "title": a["title"],
             "url": a["url"], "text": a["text"]} for a in articles]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def test_a_curation_round_survives_update_and_refit(tmp_path, embedder):
    import numpy as np

    from narrative.codebook import load_codebook, parse_codebook, suggest_entries
    from narrative.config import Settings
    from narrative.codebook import codebook_document
    from narrative.pipeline import ingest_articles as ingest
    from narrative.runs import fit_run
    from narrative.saved_runs import narrative_table, run_stats
    from narrative.sample import generate_demo_corpus
    from narrative.store import Store

    articles = sorted(generate_demo_corpus(12, n_weeks=12, articles_per_outlet_week=1).articles,
                      key=lambda a: (a["date"], a["id"]))
    first, everything = tmp_path / "first.jsonl", tmp_path / "all.jsonl"
    _write(first, articles[: int(len(articles) * 0.8)])
    _write(everything, articles)
    settings, shipped = Settings(seed=3), load_codebook()
    with Store(tmp_path / "store.duckdb") as store:
        ingest([first], store, settings=settings)
        fitted = fit_run(store, settings=settings, codebook=shipped, embedder=embedder)
        narratives = narrative_table(store, fitted.run_id)
        discovered = narratives[narratives["kind"].isin(["discovered", "off-topic"])]
        discovered = discovered.sort_values(["size", "narrative_id"])
        assert len(discovered) >= 3, "the demo needs three unnamed narratives for the round"
        # The analyst's round, written in the codebook: suggest, then edit three entries.
        document = codebook_document(shipped)
        suggested = suggest_entries(narratives, {})["narratives"]
        small, other, big = (int(i) for i in discovered["narrative_id"].iloc[[0, 1, -1]])
        for entry in suggested:
            if entry["id"] == big:
                entry["name"] = "Renamed by the analyst"
                entry["merge"] = [other]
            elif entry["id"] == small:
                entry["drop"] = True
        document["narratives"] += suggested
        curated = parse_codebook(document, source="curated.yaml")
        assert curated.model_fingerprint() == shipped.model_fingerprint()

        applied = fit_run(store, settings=settings, codebook=curated, embedder=embedder)
        assert applied.mode == "update" and applied.n_embedded == 0  # no refit
        table = narrative_table(store, applied.run_id).set_index("narrative_id")
        assert table.loc[big, "label"] == "Renamed by the analyst"
        assert other not in table.index and small not in table.index
        stored = store.narratives(applied.run_id)  # each narrative's kind is a column of the run
        assert dict(zip(stored["narrative_id"].astype(str), stored["kind"])) == \
            run_stats(store, applied.run_id).kinds
        before = fitted.assignments.set_index("paragraph_id")["narrative_id"]
        after = applied.assignments.set_index("paragraph_id")["narrative_id"]
        assert (after[before == other] == big).all() and (after[before == small] == -1).all()
        untouched = ~before.isin([big, other, small])
        assert (after[untouched] == before[untouched]).all()  # every other id is kept
        events = {e["event"]: e for e in run_stats(store, applied.run_id).lineage}
        assert events["rename"]["new_ids"] == [big]
        assert events["merge"]["old_ids"] == sorted([big, other])
        assert events["drop"]["old_ids"] == [small]
        dist = store.distributions(applied.run_id)
        assert not set(dist["narrative_id"]) & {other, small}

        # The store grows; a refit keeps the ids of narratives that continue, and the codebook's
        # edits apply again to them.
        ingest([everything], store, settings=settings)
        refit = fit_run(store, settings=settings, codebook=curated, embedder=embedder, refit=True)
        stats = run_stats(store, refit.run_id)
        kept = [e for e in stats.lineage if e["event"] == "continuation"
                and (e["similarity"] or 0) >= 0.9]
        assert kept and all(e["old_ids"] == e["new_ids"] for e in kept)
        table = narrative_table(store, refit.run_id).set_index("narrative_id")
        if any(e["old_ids"] == [big] for e in kept):
            assert table.loc[big, "label"] == "Renamed by the analyst"
        assert small not in set(refit.assignments["narrative_id"])
        assert np.isin(["rename", "drop"], [e["event"] for e in stats.lineage]).any()

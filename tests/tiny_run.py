"""A real store from a tiny synthetic corpus, ingested by the pipeline, with a hand-made run: what
the report, drift and error tests need in a second, without the embedding model or BERTopic.

Articles (two paragraphs each, synthetic words) come from a few outlets over four weeks; a
paragraph about harbours goes to the first narrative, one about orchards to the second, the rest
is unassigned. Outlet and narrative names, and extra records (odd dates), are the caller's.
No embeddings are stored, so the report skips its map and framing views (no UMAP to compile).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pandas as pd

#: Topic words; a paragraph holds its topic's name, so the hand-made run can assign it.
TOPICS = {
    "harbour": "ferries pier cargo pilots dock tide crane quay vessel berth".split(),
    "orchard": "apples cider growers harvest pears blossom ladder crates press cellar".split(),
    "council": "buses library timetable budget school road museum park vote hall".split(),
}
FILLER = "morning week city report residents officials plan early late local new season".split()


def article_text(k: int) -> str:
    """Two paragraphs of seeded word salad, unique to ``k`` (no two articles look like copies),
    whose topics rotate with ``k``."""
    rng = random.Random(k)
    topics = [("harbour", "orchard"), ("orchard", "council"), ("harbour", "council")][k % 3]
    return "\n\n".join(
        f"The {topic} " + " ".join(rng.choice(TOPICS[topic] + FILLER) for _ in range(30)) + "."
        for topic in topics
    )


def records(outlets: list[str], *, weeks: int = 4, per_week: int = 2,
            start: dt.date = dt.date(2025, 3, 3)) -> list[dict]:
    """``per_week`` articles per outlet and week, dated from ``start`` (a Monday)."""
    out, k = [], 0
    for week in range(weeks):
        for outlet in outlets:
            for j in range(per_week):
                day = start + dt.timedelta(weeks=week, days=j)
                out.append({"id": f"a{k}", "outlet": outlet, "date": day.isoformat(),
                            "title": f"Story {k}", "text": article_text(k)})
                k += 1
    return out


def settings(**changes):
    """Settings of the hand-made run: few resamples, every cell reported, drawing in-process."""
    from narrative.config import Settings

    return Settings(seed=0, n_bootstrap=20, min_articles=1, processes=1, precision="fp32",
                    **changes)


def build_store(folder: Path, recs: list[dict], *, labels: tuple[str, str] = ("Harbour traffic",
                "Orchard harvest")) -> Path:
    """Ingest ``recs`` into ``folder/narrative.duckdb`` and save run ``run1`` that assigns
    harbour paragraphs to ``labels[0]`` (named) and orchard ones to ``labels[1]`` (discovered)."""
    from narrative.pipeline import ingest_articles as ingest
    from narrative.store import RunRecord, Store

    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    path = folder / "narrative.duckdb"
    with Store(path) as store:
        ingest([corpus], store, settings=settings())
        paragraphs = store.paragraphs()
        ids = paragraphs["text"].map(lambda t: 0 if "harbour" in t else 1 if "orchard" in t else -1)
        sizes = ids.value_counts()
        narratives = pd.DataFrame({
            "narrative_id": [0, 1, -1], "label": [labels[0], labels[1], "unassigned"],
            "codebook_name": [labels[0], None, None],
            "top_terms": [["harbour", "ferries"], ["orchard", "apples"], []],
            "size": [int(sizes.get(i, 0)) for i in (0, 1, -1)],
        })
        assignments = pd.DataFrame({"paragraph_id": paragraphs["paragraph_id"],
                                    "narrative_id": ids, "probability": 0.9})
        stats = {"kinds": {"0": "named", "1": "discovered", "-1": "unassigned"}, "codebook": []}
        run = RunRecord(run_id="run1", settings=settings().to_dict(), codebook_hash="none",
                        versions={"python": "3"}, seed=0, input_fingerprint="fp", stats=stats)
        store.save_run(run, narratives, assignments)
    return path

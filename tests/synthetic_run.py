"""A small report store built by hand: 3 outlets x 8 weeks of seeded word salad, one outlet
copying another, a hand-made run of two narratives (one named), and embeddings; plus a stand-in
for UMAP so report tests need no compiling. Shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


_WORDS = {
    "Harbour ferries": "ferry harbour timetable crossing pier captain tide berth",
    "Orchard harvest": "orchard apples harvest pickers cider blossom ladder crate",
}


_FILLER = ("morning council river market bridge school station museum weather garden village "
           "street festival library bakery train").split()


def _article_text(topic: str, k: int) -> str:
    """Two paragraphs of seeded word salad: topic words among filler, unique to article ``k``."""
    import random

    rng = random.Random(k)
    vocabulary = _WORDS[topic].split() + _FILLER
    paragraphs = []
    for p in range(2):
        sentences = [" ".join(rng.choice(vocabulary) for _ in range(14)) for _ in range(2)]
        paragraphs.append(f"{sentences[0].capitalize()}. {sentences[1].capitalize()}.")
    return "\n\n".join(paragraphs)


def synthetic_run(folder: Path, *, stability: dict | None):
    """A store with 3 outlets x 8 weeks, one outlet copying another, and a hand-made run."""
    import datetime as dt
    import json


    from narrative.config import Settings
    from narrative.pipeline import ingest_articles as ingest
    from narrative.store import RunRecord, Store

    records, k = [], 0
    for week in range(8):
        day = dt.date(2024, 1, 1) + dt.timedelta(weeks=week)
        for outlet in ("Wire", "Gazette"):
            for j in range(3):
                # Gazette turns to orchards from week 4: a change to detect
                topic = "Orchard harvest" if (outlet == "Gazette" and week >= 4 and j) else (
                    "Harbour ferries" if j < 2 else "Orchard harvest")
                records.append({"id": f"a{k}", "outlet": outlet, "date": day.isoformat(),
                                "title": f"Story {k}", "url": f"https://example.org/{k}",
                                "text": _article_text(topic, k)})
                k += 1
        wire = records[-6]  # Mirror carries a Wire story word for word, a day later
        records.append({**wire, "id": f"m{week}", "outlet": "Mirror", "url": None,
                        "date": (day + dt.timedelta(days=1)).isoformat()})
    corpus = folder / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")

    settings = Settings(seed=0, n_bootstrap=30, min_articles=1)
    store = Store(folder / "narrative.duckdb")
    ingest([corpus], store, settings=settings)
    paragraphs = store.paragraphs()

    def topic_of(text: str) -> int:
        return 0 if "ferry" in text else 1 if "orchard" in text else -1

    ids = paragraphs["text"].map(topic_of)
    assignments = pd.DataFrame({"paragraph_id": paragraphs["paragraph_id"], "narrative_id": ids,
                                "probability": 0.9})
    sizes = ids.value_counts()
    narratives = pd.DataFrame({
        "narrative_id": [0, 1, -1],
        "label": ["Harbour ferries", "Orchard harvest", "unassigned"],
        "codebook_name": ["Harbour ferries", None, None],
        "top_terms": [["ferry", "harbour", "pier"], ["orchard", "apples", "cider"], []],
        "size": [int(sizes.get(0, 0)), int(sizes.get(1, 0)), int(sizes.get(-1, 0))],
    })
    stats = {"kinds": {"0": "named", "1": "discovered", "-1": "unassigned"}, "codebook": []}
    if stability is not None:
        stats["stability"] = stability
    run = RunRecord(run_id="run1", settings=settings.to_dict(), codebook_hash="none",
                    versions={"python": "3"}, seed=0, input_fingerprint="fp", stats=stats)
    store.save_run(run, narratives, assignments)
    distinct = paragraphs.drop_duplicates("text_hash")
    rng = np.random.default_rng(0)
    vectors = np.eye(8)[distinct["text"].map(topic_of).to_numpy() + 1] + rng.normal(
        0, 0.01, (len(distinct), 8))
    model_id = settings.embedding_model + (
        "" if settings.precision == "fp32" else f"@{settings.precision}")
    store.put_embeddings(distinct["text_hash"].tolist(), vectors, model_id)
    return store, settings


def fast_layout(vectors, *, seed=0, **_):
    """Stand-in for UMAP (slow to compile): the first two embedding dimensions."""

    return np.asarray(vectors, dtype=np.float64)[:, :2].copy()


#: What the report tests patch so that the map needs no UMAP.
FAST_LAYOUT = "narrative.figures.narrative_map.umap_layout"

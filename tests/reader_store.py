"""Report-reader stores: articles of seeded word salad about a few topic words, with a hand-made
run that gives each paragraph the narrative of its topic. Shared by the report-reader tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from tests import tiny_run

TOPICS = ("harbour", "orchard", "council")


def build(folder: Path, recs: list[dict], names: dict[str, tuple[str, str]], *,
          provenance: dict | None = None, quality: dict | None = None) -> Path:
    """A store of ``recs`` with run ``run1``: a paragraph goes to the narrative of its topic word
    (``names``: topic -> (label, kind)), any other paragraph is unassigned, each with typicality
    0.9. Named narratives make the run's codebook, in the order given. ``quality`` is the run's
    per-narrative trust stats (``RunStats.narratives``: narrative id as text -> threshold,
    share, median_typicality, confidence, catch_all); None: a run stored before they existed."""
    from narrative.pipeline import ingest_articles
    from narrative.store import RunRecord, Store

    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    path = folder / "narrative.duckdb"
    topics = list(names)
    with Store(path) as store:
        ingest_articles([corpus], store, settings=tiny_run.settings())
        paragraphs = store.paragraphs()

        def narrative_of(text: str) -> int:
            return next((i for i, t in enumerate(topics) if f"The {t}" in text), -1)

        ids = paragraphs["text"].map(narrative_of)
        sizes = ids.value_counts()
        rows = [(i, label, label if kind == "named" else None, [t, "word"], int(sizes.get(i, 0)))
                for i, (t, (label, kind)) in enumerate(names.items())]
        rows.append((-1, "unassigned", None, [], int(sizes.get(-1, 0))))
        narratives = pd.DataFrame(rows, columns=["narrative_id", "label", "codebook_name",
                                                 "top_terms", "size"])
        kinds = {str(i): kind for i, (_, (_, kind)) in enumerate(names.items())} | {"-1": "unassigned"}
        codebook = [{"name": label, "description": f"About {t}s.", "seeds": [t]}
                    for t, (label, kind) in names.items() if kind == "named"]
        stats = {"kinds": kinds, "codebook": codebook, "provenance": provenance or {}}
        if quality is not None:
            stats["narratives"] = quality
        run = RunRecord(run_id="run1", settings=tiny_run.settings().to_dict(), codebook_hash="cb1",
                        versions={"python": "3"}, seed=0, input_fingerprint="fp", stats=stats)
        store.save_run(run, narratives, pd.DataFrame({
            "paragraph_id": paragraphs["paragraph_id"], "narrative_id": ids, "probability": 0.9}))
    return path


def text_of(k: int, topics: tuple[str, str]) -> str:
    """Two paragraphs of seeded word salad about ``topics``, unique to ``k``."""
    import random

    rng = random.Random(k)
    return "\n\n".join(
        f"The {topic} " + " ".join(rng.choice(tiny_run.TOPICS[topic] + tiny_run.FILLER)
                                   for _ in range(30)) + "."
        for topic in topics)


def recs(outlets: list[str], *, weeks: int = 4, per_week: int = 2,
         topics=lambda k: [("harbour", "orchard"), ("orchard", "council"), ("harbour", "council")][k % 3],
         start: dt.date = dt.date(2025, 3, 3)) -> list[dict]:
    out, k = [], 0
    for week in range(weeks):
        for outlet in outlets:
            for j in range(per_week):
                day = start + dt.timedelta(weeks=week, days=j)
                out.append({"id": f"a{k}", "outlet": outlet, "date": day.isoformat(),
                            "title": f"Story {k}", "author": f"Reporter {k % 4}",
                            "text": text_of(k, topics(k))})
                k += 1
    return out


NAMES = {"harbour": ("Harbour traffic", "named"), "orchard": ("Orchard harvest", "discovered")}


def assemble(path: Path, out: Path, settings=None):
    """The ReportModel of run ``run1`` of the store at ``path``, and the drift it was built from."""
    from narrative.drift import compute_drift
    from narrative.report.assemble import assemble_report
    from narrative.store import Store

    settings = settings or tiny_run.settings()
    with Store(path) as store:
        drift = compute_drift(store, "run1", settings=settings)
        model = assemble_report(store, "run1", drift, out_dir=out, settings=settings, timings={})
    return model, drift


def pdf_text(model) -> str:
    """The text of the model's PDF, as a reader's PDF viewer extracts it (whitespace folded)."""
    import io

    import pypdf

    from narrative.report.pdf import render_pdf

    reader = pypdf.PdfReader(io.BytesIO(render_pdf(model)))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())

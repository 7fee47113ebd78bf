"""A small store with a hand-made run, for the query, export and explorer tests (no model fit).

Two outlets over six weeks plus an article without outlet and one without date, a syndicated
copy, a named and a discovered narrative with a sub-narrative, soft mixtures, and tied
probabilities. ``hostile=True`` puts markup, event handlers and ``javascript:`` links in every
text field a page shows (titles, outlets, authors, urls, paragraph texts, narrative names).
All text is synthetic.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from narrative.config import Settings
from narrative.schema import Article, Paragraph
from narrative.store import RunRecord, Store

RUN_ID = "run-explore"
FERRIES, ORCHARDS = "Harbour ferries", "Orchard harvest"

#: Payloads that would set ``window.__pwned`` (or open an alert) if any of them ran.
PAYLOADS = [
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned='img'\">",
    "</script><script>window.__pwned='close'</script>",
    "<svg onload=\"window.__pwned='svg'\"></svg>",
    "\"><b onmouseover=\"window.__pwned='attr'\">x</b>",
    "<a href=\"javascript:window.__pwned='link'\">click</a>",
    "<!--<script>alert('comment')</script>-->",
    "=HYPERLINK(\"http://evil.example\",\"x\")",
]
#: Text a spreadsheet would run as a formula (titles and authors of some hostile articles).
FORMULAS = ["=1+2", "+SUM(1;2)", "-3+4", "@A1", "\t=1+1", "\r=2+2"]
#: Outlet names with markup plotly would otherwise read (<a href>, <b>) and markup it would not.
HOSTILE_OUTLETS = ["<script>window.__pwned='outlet'</script>",
                   "Gazette <a href=\"javascript:window.__pwned='plotly'\">x</a> <b>bold</b>"]
HOSTILE_URLS = ["javascript:window.__pwned='url'", "JaVaScRiPt:alert(1)", "java\tscript:alert(2)",
                "data:text/html,<script>alert(3)</script>"]

_WORDS = {0: "ferry harbour pier crossing boat timetable", 1: "orchard apples cider harvest"}


def _text(topic: int, k: int, p: int, hostile: bool) -> str:
    rng = np.random.default_rng(k * 10 + p)
    words = _WORDS.get(topic, "weather garden street").split() + ["council", "morning"]
    text = " ".join(rng.choice(words, 12)).capitalize() + "."
    if hostile:
        text += " " + PAYLOADS[(k + p) % len(PAYLOADS)]
    return text


def build_store(folder: Path, *, hostile: bool = False) -> tuple[Path, Settings]:
    """Write ``folder/narrative.duckdb`` holding run :data:`RUN_ID`; returns its path and the
    settings to compute its drift with."""
    outlets = ["Wire", "Gazette"]
    if hostile:
        outlets = HOSTILE_OUTLETS
    articles, paragraphs, topics = [], [], []
    k = 0
    for week in range(6):
        monday = dt.date(2024, 1, 1) + dt.timedelta(weeks=week)
        for outlet in outlets:
            for j in range(3):
                topic = [0, 1, -1][(j + week) % 3] if outlet == outlets[0] else [1, 0, 1][j]
                articles.append(_article(outlet, monday + dt.timedelta(days=j), k, topic, hostile))
                topics.append(topic)
                k += 1
    articles.append(_article(None, dt.date(2024, 1, 10), k, 0, hostile))  # no outlet
    topics.append(0)
    articles.append(_article(outlets[1], None, k + 1, 1, hostile))  # no date
    topics.append(1)
    original = articles[3]
    copy = Article(text=original.text, source="copy", outlet=outlets[1],
                   date=original.date + dt.timedelta(days=1), title=original.title,
                   url=original.url, duplicate_of=original.article_id)
    articles.append(copy)
    topics.append(topics[3])
    for article, topic in zip(articles, topics):
        offset = 0
        for position, text in enumerate(article.text.split("\n\n")):
            duplicate_of = None
            if article.duplicate_of:
                duplicate_of = Paragraph(article.duplicate_of, position, 0, 0, "").paragraph_id
            paragraphs.append(Paragraph(article.article_id, position, offset, offset + len(text),
                                        text, duplicate_of=duplicate_of))
            offset += len(text) + 2
    narrative_of = {a.article_id: t for a, t in zip(articles, topics)}
    path = folder / "narrative.duckdb"
    settings = Settings(seed=0, n_bootstrap=20, min_articles=1, processes=1)
    with Store(path) as store:
        store.add_articles(articles)
        store.add_paragraphs(paragraphs)
        _save_run(store, paragraphs, narrative_of, settings, hostile)
    return path, settings


def _article(outlet, date, k: int, topic: int, hostile: bool) -> Article:
    texts = [_text(topic, k, p, hostile) for p in range(2 + k % 2)]
    title, url, author = f"Story {k}", f"https://example.org/story/{k}?a=1&b=2", f"Writer {k % 4}"
    if hostile:
        title = f"Story {k} " + PAYLOADS[k % len(PAYLOADS)]
        author = PAYLOADS[(k + 3) % len(PAYLOADS)] if k % 2 else FORMULAS[k % len(FORMULAS)]
        if k % 4 == 1:
            title = FORMULAS[k % len(FORMULAS)]
        url = HOSTILE_URLS[k % len(HOSTILE_URLS)] if k % 3 == 0 else url
    return Article(text="\n\n".join(texts), source=f"synthetic:{k}", outlet=outlet, date=date,
                   title=title, author=author, url=url)


def _save_run(store: Store, paragraphs, narrative_of, settings: Settings, hostile: bool) -> None:
    ferries, orchards = labels(hostile)
    ids = [narrative_of[p.article_id] for p in paragraphs]
    # Tied probabilities in pairs, so the order's tie-break (paragraph id) is exercised.
    probability = [round(0.3 + 0.05 * ((i * 7) % 12 // 2), 2) for i in range(len(paragraphs))]
    assignments = pd.DataFrame({
        "paragraph_id": [p.paragraph_id for p in paragraphs], "narrative_id": ids,
        "probability": probability,
        "sub_id": [(i % 2) if n == 0 else -1 for i, n in enumerate(ids)],
    })
    sizes = assignments["narrative_id"].value_counts()
    narratives = pd.DataFrame({
        "narrative_id": [0, 1, -1], "label": [ferries, orchards, "unassigned"],
        "codebook_name": [ferries, None, None],
        "top_terms": [["ferry", "harbour"], ["orchard", "cider"], []],
        "size": [int(sizes.get(i, 0)) for i in (0, 1, -1)],
    })
    subnarratives = pd.DataFrame({
        "narrative_id": [0, 0], "sub_id": [0, 1], "label": ["Night crossings", "Timetables"],
        "top_terms": [["night"], ["timetable"]], "size": [1, 1]})
    assigned = assignments[assignments["narrative_id"] != -1]
    own = assigned["probability"].to_numpy()
    other = np.where(np.arange(len(own)) % 3 == 0, 0.3, 0.6)  # every third: unassigned second
    distributions = pd.concat([
        pd.DataFrame({"paragraph_id": assigned["paragraph_id"], "narrative_id": assigned["narrative_id"],
                      "weight": own}),
        pd.DataFrame({"paragraph_id": assigned["paragraph_id"],
                      "narrative_id": 1 - assigned["narrative_id"], "weight": (1 - own) * other}),
        pd.DataFrame({"paragraph_id": assigned["paragraph_id"], "narrative_id": -1,
                      "weight": (1 - own) * (1 - other)}),
    ], ignore_index=True)
    stats = {"kinds": {"0": "named", "1": "discovered", "-1": "unassigned"}, "codebook": []}
    run = RunRecord(run_id=RUN_ID, settings=settings.to_dict(), codebook_hash="none",
                    versions={"python": "3"}, seed=0, input_fingerprint="fp", stats=stats)
    store.save_run(run, narratives, assignments, subnarratives, distributions)


def labels(hostile: bool = False) -> tuple[str, str]:
    """The two narrative labels of :func:`build_store`."""
    if not hostile:
        return FERRIES, ORCHARDS
    return ("Ferries <script>window.__pwned='narrative'</script>",
            "Orchards <img src=x onerror=alert('n')>")

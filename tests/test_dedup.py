"""Copies: exact and MinHash near-duplicates link to the first occurrence, keep their outlet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from narrative.dedup import find_copies, mark_duplicate_articles, mark_duplicate_paragraphs
from narrative.ingest import ingest_sources
from narrative.schema import Article, Paragraph

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "seeds"
SENTENCES = [
    f"Sentence {i} reports that the {w} delegation raised the question of {v} again today."
    for i, (w, v) in enumerate(zip(
        "Polish German French Italian Dutch Swedish Danish Czech Greek Irish Finnish".split(),
        "grain gas oil coal steel wheat ships rail ports loans arms".split()))
]
STORY = " ".join(SENTENCES)


def art(text: str, outlet: str, day: int) -> Article:
    return Article(text=text, source=f"{outlet}.txt", outlet=outlet, date=dt.date(2024, 5, day))


def test_syndicated_copy_with_other_punctuation_and_an_extra_line_is_linked() -> None:
    original = art(STORY.replace("again", "- again -"), "First", 1)
    typographic = STORY.replace("again", "\u2014 again \u2014").replace("Sentence", "\u201cSentence")
    copy = art(typographic + "\n\nRepublished with permission of the First.", "Second", 3)
    other = art(" ".join(reversed(SENTENCES)).replace("delegation", "team"), "Third", 2)
    out = {a.outlet: a for a in mark_duplicate_articles([copy, other, original])}
    assert out["Second"].duplicate_of == out["First"].article_id
    assert out["First"].duplicate_of is None and out["Third"].duplicate_of is None
    assert out["Second"].date == dt.date(2024, 5, 3)  # the copy keeps its own date and outlet


def test_exact_only_when_threshold_is_one() -> None:
    texts = [STORY, STORY + " One more sentence here.", STORY.upper()]
    assert find_copies(texts, threshold=1.0) == [None, None, 0]
    assert find_copies(texts) == [None, 0, 0]


def test_copy_of_a_copy_links_to_the_first_occurrence() -> None:
    texts = [STORY, STORY + " Extra words at the end.", STORY + " Extra words at the end."]
    assert find_copies(texts) == [None, 0, 0]


def test_paragraph_near_copies_and_short_lines() -> None:
    a, b = "a1", "b1"
    paragraphs = [
        Paragraph(a, 0, 0, 1, SENTENCES[0] + " " + SENTENCES[1]),
        Paragraph(a, 1, 0, 1, "Short line."),
        Paragraph(b, 0, 0, 1, SENTENCES[0].replace("today", "today,") + " " + SENTENCES[1]),
        Paragraph(b, 1, 0, 1, "Short line!"),
        Paragraph(b, 2, 0, 1, "A short, other line."),
    ]
    out = {(p.article_id, p.position): p for p in mark_duplicate_paragraphs(paragraphs, [a, b])}
    assert out[(b, 0)].duplicate_of == out[(a, 0)].paragraph_id
    assert out[(b, 1)].duplicate_of == out[(a, 1)].paragraph_id  # exact after folding
    assert out[(b, 2)].duplicate_of is None


@pytest.mark.parametrize("boilerplate", [True, False])
def test_seeds_000_and_001_are_one_article(boilerplate: bool) -> None:
    if not (SEEDS / "raw").is_dir():
        pytest.skip(f"seed corpus not found at {SEEDS}")
    result = ingest_sources([SEEDS / "raw"], boilerplate=boilerplate)
    linked = mark_duplicate_articles(result.articles)
    by = {Path(a.source).name[:3]: a for a in linked}
    assert by["001"].duplicate_of == by["000"].article_id
    assert sum(a.duplicate_of is not None for a in linked) == 1

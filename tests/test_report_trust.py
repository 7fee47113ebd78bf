"""How far a reader may trust each narrative (issue 27): its acceptance threshold, its members'
median typicality and confidence counts in its section, the confidence of each evidence
paragraph, and a visible warning, also among the findings, when the run flagged it as a possible
catch-all. Runs stored before these stats render without them. Hand-made runs, no model."""

from __future__ import annotations

import pytest

from tests.html_tags import TagCollector
from tests.reader_store import NAMES, assemble, build, pdf_text, recs

#: Harbour traffic (id 0) looks like a catch-all: 30% of paragraphs, median 0.88 against its
#: threshold 0.85. Every paragraph has typicality 0.9: "medium" against 0.85 (0.03 to 0.10
#: above), "high" against Orchard harvest's 0.70.
FLAGGED = {
    "0": {"threshold": 0.85, "share": 0.3, "median_typicality": 0.88,
          "confidence": {"high": 3, "medium": 10, "low": 7}, "catch_all": True},
    "1": {"threshold": 0.70, "share": 0.1, "median_typicality": 0.9,
          "confidence": {"high": 20, "medium": 0, "low": 0}, "catch_all": False},
}


def page_text(model) -> str:
    """The words of the HTML page a reader sees (the style sheet left out)."""
    import re

    from narrative.report.html import render_html

    parsed = TagCollector()
    parsed.feed(re.sub(r"<style>.*?</style>", "", render_html(model), flags=re.S))
    return " ".join("".join(parsed.text).split())


def sections(model) -> dict:
    return {s.label: s for s in model.narratives}


def flagged(quality: dict) -> dict:
    return {k: dict(v) for k, v in quality.items()}


def test_a_flagged_catch_all_is_warned_in_its_section_and_among_the_findings(tmp_path):
    path = build(tmp_path / "s", recs(["Wire", "Gazette"]), NAMES, quality=flagged(FLAGGED))
    model, _ = assemble(path, tmp_path / "out")
    harbour = sections(model)["Harbour traffic"]
    assert harbour.catch_all is not None
    for why in ("30%", "15%", "0.88", "0.85"):  # its share against the limit, median vs threshold
        assert why in harbour.catch_all, why
    assert sections(model)["Orchard harvest"].catch_all is None
    top = [s for s in model.findings + model.summary if s.startswith("Possible catch-all")]
    assert len(top) == 1 and "Harbour traffic" in top[0]
    text = page_text(model)
    assert text.count("Possible catch-all: Harbour traffic") == 2  # findings and its section
    assert "Possible catch-all: Harbour traffic" in pdf_text(model)


def test_each_narrative_says_its_threshold_median_and_how_many_clear_it(tmp_path):
    path = build(tmp_path / "s", recs(["Wire", "Gazette"]), NAMES, quality=flagged(FLAGGED))
    model, _ = assemble(path, tmp_path / "out")
    harbour, orchard = sections(model)["Harbour traffic"], sections(model)["Orchard harvest"]
    assert harbour.trust.startswith("Named narrative")
    assert "at least 0.85" in harbour.trust and "median: 0.88" in harbour.trust
    assert "20 paragraphs: 3 clearly, 10 fairly, 7 barely above its threshold" in harbour.trust
    assert orchard.trust.startswith("Discovered narrative") and "at least 0.70" in orchard.trust
    assert {e.confidence for e in harbour.evidence} == {"medium"}
    assert {e.confidence for e in orchard.evidence} == {"high"}
    text = page_text(model)
    assert harbour.trust in text and "medium confidence" in text and "high confidence" in text
    pdf = pdf_text(model)
    assert "3 clearly, 10 fairly, 7 barely" in pdf and "medium confidence" in pdf


def test_no_catch_all_warning_without_the_flag(tmp_path):
    quality = flagged(FLAGGED)
    quality["0"]["catch_all"] = False
    path = build(tmp_path / "s", recs(["Wire", "Gazette"]), NAMES, quality=quality)
    model, _ = assemble(path, tmp_path / "out")
    assert all(s.catch_all is None for s in model.narratives)
    assert "catch-all" not in page_text(model).lower()
    assert sections(model)["Harbour traffic"].trust is not None


def test_a_run_stored_before_the_trust_stats_renders_without_them(tmp_path):
    path = build(tmp_path / "s", recs(["Wire", "Gazette"]), NAMES)  # no RunStats.narratives
    model, _ = assemble(path, tmp_path / "out")
    assert all(s.trust is None and s.catch_all is None for s in model.narratives)
    assert all(e.confidence is None for s in model.narratives for e in s.evidence)
    text = page_text(model)
    assert "threshold" not in text and "confidence" not in text
    assert "Harbour traffic" in pdf_text(model)


@pytest.mark.parametrize("kind, begins", [("named", "Named narrative"),
                                          ("off-topic", "Off-topic cluster")])
def test_the_trust_line_names_the_kind(kind, begins):
    from narrative.report.narratives import trust_sentence

    line = trust_sentence(kind, FLAGGED["1"])
    assert line.startswith(begins) and "20 paragraphs: 20 clearly, 0 fairly, 0 barely" in line


def test_a_narratives_evidence_shows_a_reprinted_paragraph_once():
    """Two articles that carry the same paragraph, neither marked a copy (paragraph copies are
    linked within a window), are not two pieces of evidence: the text is shown once and the
    next most typical paragraph fills its place."""
    import pandas as pd

    from narrative.report.narratives import evidence_by_narrative

    articles = pd.DataFrame({
        "article_id": ["a", "b", "c"], "outlet": ["X", "X", "Y"], "date": pd.to_datetime(["2025-01-01"] * 3),
        "source": ["f.jsonl:1", "f.jsonl:2", "f.jsonl:3"], "title": ["t"] * 3, "url": [None] * 3,
        "author": [None] * 3,
    })
    paragraphs = pd.DataFrame({
        "paragraph_id": ["p1", "p2", "p3"], "article_id": ["a", "b", "c"],
        "text": ["The same reprinted claim.", "The same reprinted claim.", "Another paragraph."],
        "duplicate_of": [None, None, None],
    })
    assignments = pd.DataFrame({"paragraph_id": ["p1", "p2", "p3"], "narrative_id": [0, 0, 0],
                                "probability": [0.9, 0.9, 0.5]})
    shown = [e.text for e in evidence_by_narrative(articles, paragraphs, assignments, k=2)[0]]
    assert shown == ["The same reprinted claim.", "Another paragraph."]


def test_change_points_of_off_topic_clusters_are_counted_but_not_listed():
    """As in the share charts, an off-topic cluster's change is kept out of the change section's
    figure and table; a sentence counts it, and changepoints.csv still has it."""
    import pandas as pd

    from narrative.drift import DriftFrames
    from narrative.report.sections import divergence_section
    from narrative.schema import CHANGE_DETAIL_COLUMNS, CHANGEPOINT_COLUMNS

    row = dict.fromkeys(CHANGEPOINT_COLUMNS + CHANGE_DETAIL_COLUMNS, 0.1)
    changes = pd.DataFrame([{**row, "narrative": "Sanctions leverage", "outlet": "X", "period": "2025-07-14",
                             "direction": "up"},
                            {**row, "narrative": "summer festival", "outlet": "X", "period": "2025-07-21",
                             "direction": "down"}])
    changes.attrs.update(alpha=0.05, n_series=12)
    drift = DriftFrames(pd.DataFrame(), {"changepoints": changes, "divergence": pd.DataFrame()}, [])
    kinds = {"Sanctions leverage": "named", "summer festival": "off-topic"}
    section, tables = divergence_section(drift, lambda *a, **k: None, {}, "week", kinds)
    assert [r[0] for r in tables[0].rows] == ["Sanctions leverage"]
    text = " ".join(section.text)
    assert "1 change point detected across 12 share series" in text
    assert "1 more change point of off-topic clusters is left out here" in text
    assert len(drift.changepoints) == 2  # the table written to CSV keeps both

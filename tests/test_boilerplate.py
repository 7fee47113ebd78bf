"""Boilerplate rules as data: cuts recorded with their rule, offsets auditable, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narrative.ingest import clean_text, ingest_sources
from narrative.ingest.boilerplate import BoilerplateError, load_rules, remove_boilerplate
from narrative.segment import segment_articles

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "seeds"
BODY = ("The ministers met on Tuesday to discuss the grain corridor and the sanctions package "
        "that has stalled for several weeks now.")
RULES = load_rules()


def cut(text: str, authors: tuple[str, ...] = ()) -> tuple[str, list]:
    return remove_boilerplate(clean_text(text), RULES, authors=authors)


@pytest.mark.parametrize(("footer", "rule"), [
    ("Did you find an error or inaccuracy?", "feedback_prompt"),
    ("Click this link for the original source of this article.", "click_link"),
    ("© 2024 Daily Planet. All rights reserved.", "copyright_notice"),
    ("Photo: Reuters/Jane Doe", "photo_credit"),
    ("Share on Facebook | Twitter | Email", "share_buttons"),
    ("Sign up for our newsletter to get the morning briefing", "subscribe_prompt"),
    ("Read more: Why the talks failed", "read_more"),
])
def test_footer_lines_are_cut_with_their_rule(footer: str, rule: str) -> None:
    text, cuts = cut(f"{BODY}\n\n{BODY}\n\n{footer}")
    assert text == f"{BODY}\n\n{BODY}"
    assert [c[3] for c in cuts] == [rule]


def test_truncation_artefact_is_cut_inline_and_offsets_point_into_the_input() -> None:
    given_text = clean_text(f"Half a sentence < truncated 430 characters > and the rest.\n\n{BODY}")
    text, cuts = remove_boilerplate(given_text, RULES)
    assert text.startswith("Half a sentence and the rest.")
    ((start, end, removed, rule),) = cuts
    assert rule == "truncation_artefact" and given_text[start:end] == removed
    assert "truncated 430" in removed


def test_source_list_runs_to_the_end_and_prose_mentioning_sources_stays() -> None:
    text, cuts = cut(f"{BODY}\n\nSources say the deal is close.\n\n{BODY}\n\nSources\n\n"
                     "• Reuters\n\n• AP")
    assert "Sources say" in text and "Reuters" not in text
    assert [c[3] for c in cuts] == ["source_list"]


def test_author_rules_need_a_known_author() -> None:
    bio = "Ann Smith is a former correspondent in Moscow and Kyiv."
    assert cut(f"{BODY}\n\n{bio}", ("Ann Smith",))[0] == BODY
    kept, _ = cut(f"{BODY}\n\nThe minister is a former correspondent in Moscow.")
    assert "former correspondent" in kept


def test_user_file_overrides_disables_and_adds(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        "disable: [click_link]\nrules:\n"
        "  - {name: promo, match: line, pattern: 'buy our book.*'}\n"
        "  - {name: photo_credit, match: line, pattern: 'pic: .*'}\n", encoding="utf-8")
    rules = load_rules(rules_file)
    names = [r.name for r in rules]
    assert "click_link" not in names and names[-1] == "promo" and names.count("photo_credit") == 1
    text, cuts = remove_boilerplate(f"{BODY}\nBuy our book today\nPic: AFP\nClick here", rules)
    assert text == f"{BODY}\nClick here" and [c[3] for c in cuts] == ["promo", "photo_credit"]
    rules_file.write_text("rules:\n  - {name: bad, pattern: '(unclosed'}\n", encoding="utf-8")
    with pytest.raises(BoilerplateError, match="bad"):
        load_rules(rules_file)


LINES = st.sampled_from([BODY, "Photo: AFP", "Did you find an error?", "Sources", "• Reuters",
                         "By Ann Smith", "Ann Smith is a writer and a former analyst.", "",
                         "word < truncated 12 characters > word", "Share", "  ", "Read more: x"])


@settings(max_examples=150, deadline=None)
@given(st.lists(LINES, max_size=12), st.sampled_from(["\n", "\n\n"]))
def test_removal_is_idempotent_clean_and_auditable(lines: list[str], sep: str) -> None:
    original = clean_text(sep.join(lines))
    text, cuts = remove_boilerplate(original, RULES, authors=("Ann Smith",))
    assert clean_text(text) == text
    assert remove_boilerplate(text, RULES, authors=("Ann Smith",)) == (text, [])
    for start, end, removed, _ in cuts:
        assert original[start:end] == removed
    assert len(text) + sum(e - s for s, e, _, _ in cuts) >= len(original.strip()) - len(cuts)


def test_seed_boilerplate_is_removed_and_recorded() -> None:
    if not (SEEDS / "raw").is_dir():
        pytest.skip(f"seed corpus not found at {SEEDS}")
    result = ingest_sources([SEEDS / "raw"])
    by = {Path(a.source).name[:3]: a for a in result.articles}
    paragraphs = segment_articles(result.articles)
    expected = {
        "000": {"author_bio": "is a former spokesman", "photo_credit": "Photo:",
                "byline": "By Robert Weiner", "republication_note": "first published in"},
        "002": {"source_list": "Sources", "feedback_prompt": "Did you find an error"},
        "003": {"click_link": "Click this link", "copyright_notice": "courtesy of",
                "byline": "Author: Thomas Fazi"},
    }
    for seed, rules in expected.items():
        article = by[seed]
        removed = [r for r in result.removed if r["article_id"] == article.article_id]
        own = " ".join(p.text for p in paragraphs if p.article_id == article.article_id)
        for rule, phrase in rules.items():
            assert any(r["rule"] == rule and phrase in r["text"] for r in removed), (seed, rule)
            assert phrase not in article.text and phrase not in own, (seed, rule)
    assert not [r for r in result.removed if r["article_id"] == by["001"].article_id]
    for p in paragraphs:  # offsets index the stored, cleaned text
        text = next(a.text for a in result.articles if a.article_id == p.article_id)
        assert text[p.start:p.end] == p.text

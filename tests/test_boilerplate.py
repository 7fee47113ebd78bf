"""Boilerplate rules as data: cuts recorded with their rule, offsets auditable, idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narrative.ingest import clean_text, ingest_sources
from narrative.ingest.boilerplate import BoilerplateError, Rule, load_rules, remove_boilerplate
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


MORE = "Officials said a second round of talks would follow in the spring."
PROMO = "Sign up to First Edition, our free daily newsletter – every weekday morning at 7am BST"
CAPTION = "A convoy waits at the border crossing near Lviv. Photograph: Jane Doe/AFP/Getty Images"
WIRE = ("A woman walks past a damaged school in Kharkiv, Ukraine, Tuesday, Aug. 9, 2022. "
        "(AP Photo/Jane Doe, File)")
FORM = ("TO MAKE A DONATION ONLINE Donate at give.example.org Via bank transfer: account 1234 "
        "TO MAKE A DONATION VIA TEXT Text HELP to 70000")


@pytest.mark.parametrize(("inside", "rule"), [
    (PROMO, "newsletter_promo"),
    ("Sign up to the daily Business Today email or follow Planet Business on Twitter at @Desk",
     "newsletter_promo"),
    ("Follow BBC Kent on Facebook, Twitter and Instagram.", "follow_promo"),
    ("Send your story ideas to kent.news@example.co.uk.", "follow_promo"),
    (CAPTION, "photo_caption"),
    ("Photo: Reuters", "photo_caption"),  # a credit style that may stand without a caption
    (WIRE, "wire_photo_caption"),
    ("(AP Photo/Jane Doe)", "wire_photo_credit"),
    ("To donate to the shelter click here.", "donation_link"),
])
def test_boilerplate_inside_an_unbroken_paragraph_is_cut_with_its_rule(inside: str,
                                                                      rule: str) -> None:
    given = clean_text(f"{BODY} {inside} {MORE}")
    text, cuts = remove_boilerplate(given, RULES)
    assert text == f"{BODY} {MORE}"
    ((start, end, removed, name),) = cuts
    assert name == rule and given[start:end] == removed and inside in removed


def test_a_donation_form_goes_to_the_end_but_not_from_early_in_a_long_text() -> None:
    text, cuts = remove_boilerplate(f"{BODY} {MORE} {FORM}", RULES)
    assert text == f"{BODY} {MORE}" and [c[3] for c in cuts] == ["donation_form"]
    lines = f"{BODY}\n\n{MORE} {FORM}\n\nTO MAKE A DONATION BY PHONE Call 0300 000"
    text, cuts = remove_boilerplate(lines, RULES)  # from inside a line, over the lines after
    assert text == f"{BODY}\n\n{MORE}" and [c[3] for c in cuts] == ["donation_form"]
    long = f"{BODY} {FORM} " + " ".join([MORE] * 60)  # the trigger is not at the end
    assert remove_boilerplate(long, RULES) == (long, [])


@pytest.mark.parametrize("prose", [
    "Ms Clayton was moved to sign up for the Homes for Ukraine scheme last week.",
    'A billboard reads "Sign up for a volunteer team" on the main road.',
    "The rumour was first reported in a newsletter from a political consultancy.",
    "Sign up to the scheme was slow, the minister admitted.",
    "Subscribers to such channels can be prosecuted.",
    "A convoy waits near Lviv. Photograph: Jane Doe Officials counted the trucks.",  # no end
    "Follow the money, the prosecutor told the court.",
    "People are encouraged to donate food, the charity said, and to click here for updates.",
    "Some of the players to watch at the U.S. Open: Jane Doe, Tuesday, Aug. 23, 2022.",
])
def test_prose_that_looks_like_boilerplate_stays(prose: str) -> None:
    given = clean_text(f"{BODY} {prose} {MORE}")
    assert remove_boilerplate(given, RULES) == (given, [])


def test_a_wire_credit_after_prose_goes_alone() -> None:
    prose = "Some of the players to watch at the U.S. Open: Jane Doe, Tuesday, Aug. 23, 2022."
    text, cuts = remove_boilerplate(f"{BODY} {prose} (AP Photo/Jane Doe) {MORE}", RULES)
    assert text == f"{BODY} {prose} {MORE}" and [c[3] for c in cuts] == ["wire_photo_credit"]


def test_cuts_inside_paragraphs_are_in_the_removed_table_with_their_rule(tmp_path: Path) -> None:
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    raw = f"{BODY} {PROMO} {CAPTION} {MORE} {WIRE} {BODY} {FORM}"
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "a1", "text": raw}) + "\n", encoding="utf-8")
    with Store(":memory:") as store:
        ingest_into_store([feed], store)
        ((article_id, stored),) = store.con.execute("SELECT article_id, text FROM articles").fetchall()
        removed = store.con.execute('SELECT start, "end", text, rule FROM removed '
                                    "WHERE article_id = ? ORDER BY start", [article_id]).fetchall()
    assert [r[3] for r in removed] == ["newsletter_promo", "photo_caption", "wire_photo_caption",
                                       "donation_form"]
    given, kept, position = clean_text(raw), [], 0
    for start, end, cut, _ in removed:  # the cuts and what was kept rebuild the cleaned text
        assert given[start:end] == cut
        kept.append(given[position:start])
        position = end
    assert "".join(kept + [given[position:]]).strip() == stored == f"{BODY} {MORE} {BODY}"


def test_a_trigger_only_narrows_where_an_inline_rule_looks(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text("replace_defaults: true\nrules:\n  - {name: promo, match: inline, "
                          "trigger: [Buy our], pattern: 'Buy our book[^.]*\\.'}\n",
                          encoding="utf-8")
    (rule,) = load_rules(rules_file)
    given = f"{BODY} Buy our book at the shop. {MORE} " * 3
    text, cuts = remove_boilerplate(given, [rule])
    assert (text, cuts) == remove_boilerplate(given, [Rule(rule.name, rule.pattern, "inline")])
    assert text == f"{BODY} {MORE} " * 2 + f"{BODY} {MORE}" and len(cuts) == 3
    for bad in ("trigger: 5", "trigger: ['']", "match: line, trigger: [Buy]"):
        rules_file.write_text(f"rules:\n  - {{name: promo, {bad}, pattern: x}}\n",
                              encoding="utf-8")
        with pytest.raises(BoilerplateError, match="trigger"):
            load_rules(rules_file)


def test_a_sentence_after_an_abbreviation_is_not_taken_for_a_caption_start() -> None:
    given = f"{BODY} The talks at the U.S. Embassy in Kyiv, Ukraine, Monday, Aug. 8, 2022. (AP Photo)"
    text, cuts = remove_boilerplate(given, RULES)
    assert [c[3] for c in cuts] == ["wire_photo_caption"]
    assert cuts[0][2].strip().startswith("The talks at the U.S. Embassy")


LINES = st.sampled_from([BODY, "Photo: AFP", "Did you find an error?", "Sources", "• Reuters",
                         "By Ann Smith", "Ann Smith is a writer and a former analyst.", "",
                         "word < truncated 12 characters > word", "Share", "  ", "Read more: x",
                         f"{BODY} {PROMO} {MORE}", f"{CAPTION} {BODY}", f"{MORE} {WIRE}",
                         f"{MORE} {FORM}", PROMO])


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

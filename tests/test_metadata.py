"""Metadata read off the text: dates, bylines, outlets, with origins; the manifest wins."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from narrative.ingest import ingest_sources
from narrative.ingest.assemble import parse_field_date
from narrative.ingest.metadata import (
    NO_DATE, date_flag, find_dates, infer_metadata, looks_like_headline, outlet_from_name,
    outlet_from_url, outlet_key, same_outlet, undated_warning,
)
from narrative.segment import segment_articles

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "seeds"
BODY = ("The ministers met on Tuesday to discuss the grain corridor and the sanctions package "
        "that has stalled for several weeks now.")


@pytest.mark.parametrize(("text", "expected"), [
    ("OpEdNews Op Eds 9/9/2025 at 3:32 PM EDT", dt.date(2025, 9, 9)),
    ("In a September 2, 2025 interview", dt.date(2025, 9, 2)),
    ("Published 2 Sep 2025", dt.date(2025, 9, 2)),
    ("on the 3rd of March, 2022", dt.date(2022, 3, 3)),
    ("Sept. 14, 2023", dt.date(2023, 9, 14)),
    ("2024-02-29T08:00:00Z", dt.date(2024, 2, 29)),
    ("3/4/2022", dt.date(2022, 3, 4)),        # slash: month first (US)
    ("03.04.2022", dt.date(2022, 4, 3)),      # dot: day first (European)
    ("25/12/2022", dt.date(2022, 12, 25)),    # 25 cannot be a month
])
def test_date_shapes_and_day_month_rule(text: str, expected: dt.date) -> None:
    (hit,) = find_dates(text)
    assert hit.date == expected


def test_ambiguity_and_invalid_dates() -> None:
    assert find_dates("3/4/2022")[0].ambiguous and not find_dates("9/9/2025")[0].ambiguous
    assert find_dates("3/4/2022", day_first=True)[0].date == dt.date(2022, 4, 3)
    assert find_dates("February 30, 2024 and 2023-13-01") == []


def test_suspicious_dates() -> None:
    today = dt.date(2025, 1, 1)
    assert date_flag(dt.date(2030, 1, 1), today=today) == "future"
    assert date_flag(dt.date(1850, 1, 1), today=today) == "before_1900"
    assert date_flag(dt.date(2024, 6, 1), today=today) is None


def test_text_rules_skip_suspicious_dates() -> None:
    found = infer_metadata(f"A plan for March 3, 2099 was shelved on 2 May 2024.\n{BODY}",
                           today=dt.date(2025, 1, 1))
    assert found["date"] == (dt.date(2024, 5, 2), "text:first_date")


def test_field_dates() -> None:
    assert parse_field_date("September 2, 2025") == dt.date(2025, 9, 2)
    assert parse_field_date(1_700_000_000) == dt.date(2023, 11, 14)
    with pytest.raises(ValueError, match="ambiguous"):
        parse_field_date("04/03/2022")
    with pytest.raises(ValueError):
        parse_field_date("next Tuesday")


@pytest.mark.parametrize(("line", "key", "value", "rule"), [
    ("By Ann Smith and Bob Jones", "author", "Ann Smith; Bob Jones", "text:byline"),
    ("By Ann Smith, Carl de Vries & Dee Lee", "author", "Ann Smith; Carl de Vries; Dee Lee",
     "text:byline"),
    ("Author: Thomas Fazi", "author", "Thomas Fazi", "text:author_label"),
    ("Edited by: Svetlana Velgush", "editor", "Svetlana Velgush", "text:edited_by"),
])
def test_bylines(line: str, key: str, value: str, rule: str) -> None:
    assert infer_metadata(f"Headline here\n{line}\n{BODY}")[key] == (value, rule)


def test_prose_starting_with_by_is_not_a_byline() -> None:
    found = infer_metadata(f"By the end of the week the talks had collapsed.\n{BODY}")
    assert "author" not in found


def test_outlets() -> None:
    assert outlet_from_url("https://www.unherd.com/2025/08/x") == "UnHerd"
    assert outlet_from_url("https://www.dailymail.co.uk/news") == "Daily Mail"
    assert outlet_from_url("https://news.example.org/a") == "news.example.org"
    assert outlet_from_name("OpEd News") == "OpEdNews"
    found = infer_metadata(f"{BODY}\nThis content is courtesy of https://unherd.com and its author.")
    assert found["outlet"] == ("UnHerd", "text:courtesy_of")
    found = infer_metadata(f"{BODY}\nThis article was first published in The Baltic Courier.")
    assert found["outlet"] == ("The Baltic Courier", "text:first_published_in")
    found = infer_metadata(BODY, url="https://www.rt.com/news/1")
    assert found["outlet"] == ("RT", "field:url")


def test_manifest_and_fields_win_over_the_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"By Ann Smith\n\nMay 2, 2024\n\n{BODY}", encoding="utf-8")
    (tmp_path / "m.csv").write_text("file,outlet,date,author\na.txt,Paper,2024-05-01,Zed Zee\n",
                                    encoding="utf-8")
    (article,) = ingest_sources([tmp_path / "a.txt"], manifest=tmp_path / "m.csv").articles
    assert (article.date, article.author) == (dt.date(2024, 5, 1), "Zed Zee")
    assert article.meta["date"] == article.meta["author"] == "manifest"
    (article,) = ingest_sources([tmp_path / "a.txt"]).articles
    assert (article.date, article.author) == (dt.date(2024, 5, 2), "Ann Smith")
    assert article.meta["date"] == "text:dateline" and article.meta["author"] == "text:byline"


def test_future_field_date_is_kept_flagged_and_warned(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 1, "date": "2999-01-01", "text": "%s"}\n' % BODY, encoding="utf-8")
    result = ingest_sources([path])
    (article,) = result.articles
    assert article.date == dt.date(2999, 1, 1) and article.meta["date_flag"] == "future"
    assert any("suspicious date" in w for w in result.warnings)


def test_seeds_without_manifest_state_their_metadata() -> None:
    if not (SEEDS / "raw").is_dir():
        pytest.skip(f"seed corpus not found at {SEEDS}")
    result = ingest_sources([SEEDS / "raw"])
    by = {Path(a.source).name[:3]: a for a in result.articles}
    a000, a002, a003 = by["000"], by["002"], by["003"]
    assert a000.date == dt.date(2025, 9, 9) and a000.outlet == "OpEdNews"
    assert a000.author == "Robert Weiner; Hallvard Misje"
    assert a000.meta["first_published_in"] == {"phrase": "first_published",
                                               "outlet": "International Policy Digest"}
    assert a002.date == dt.date(2025, 9, 2) and a002.meta["editor"] == "Svetlana Velgush"
    assert a003.author == "Thomas Fazi" and a003.outlet == "UnHerd"
    assert a003.meta["outlet"] == "text:courtesy_of" and a003.meta["author"] == "text:author_label"
    assert by["001"].outlet is None and by["004"].date is None  # nothing stated: nothing guessed


# -- copy claims: where a text says it was first published ----------------------------------------

@pytest.mark.parametrize(("line", "phrase", "outlet"), [
    ("Article first published in The Baltic Courier", "first_published", "The Baltic Courier"),
    ("This article originally appeared on the Baltic Courier's website.", "appeared_in",
     "Baltic Courier"),
    ("Originally published by Harbour Times.", "originally_published", "Harbour Times"),
    ("Republished with permission of intpolicydigest.org", "republished_from",
     "International Policy Digest"),
    ("Reprinted from Harbour Times", "republished_from", "Harbour Times"),
    (("This content is courtesy of, and owned and copyrighted by, https://unherd.com and its "
      "author. This content is made available by use of a public feed of the host site, for "
      "education only; write to the address in the Contact page to have it removed."),
     "courtesy_of", "UnHerd"),
    ("Source: https://www.harbourtimes.net/2024/10/ferries", "source_url", "harbourtimes.net"),
    ("The post Ferry Talks Stall appeared first on Harbour Times.", "appeared_in",
     "Harbour Times"),
    ("This article was originally published in Polish on harbourtimes.pl", "appeared_in",
     "harbourtimes.pl"),  # the language is not the outlet
])
def test_copy_claims(line: str, phrase: str, outlet: str) -> None:
    found = infer_metadata(f"{BODY}\n{line}")
    assert found["first_published_in"] == ({"phrase": phrase, "outlet": outlet}, f"text:{phrase}")


@pytest.mark.parametrize("line", [
    "Photo courtesy of Harbour Times",  # a picture credit
    "Photos first posted by Ann Smith on Facebook show the harbour.",
    "He said the plan first appeared in U.S. media and was shelved.",  # prose about something else
    "Source: Harbour Times",  # a named source may be an agency quoted: an address is needed
    "It was first published in 2019.",
    "Sources",
    " ".join(["The talks went on for hours"] * 8) + " and the memo first appeared in Harbour News.",
])
def test_no_copy_claim(line: str) -> None:
    assert "first_published_in" not in infer_metadata(f"{BODY}\n{line}")


@pytest.mark.parametrize(("one", "other"), [
    ("International Policy Digest", "intpolicydigest.org"),
    ("International Policy Digest", "https://www.intpolicydigest.org/2025/09/x/"),
    ("The Baltic Courier", "balticcourier.com"),
    ("Baltic Courier", "www.baltic-courier.co.uk"),
    ("OpEd News", "OpEdNews"),
    ("BBC", "bbc.co.uk"),
])
def test_outlet_spellings_match(one: str, other: str) -> None:
    assert same_outlet(one, other) and same_outlet(other, one)


def test_other_outlets_do_not_match() -> None:
    assert not same_outlet("RT", "Reuters") and not same_outlet("UnHerd", None)
    assert outlet_key("") is None and outlet_key("Harbour Times") == "harbourtimes"


# -- the headline: split off as the title, never a sentence of prose -----------------------------

HEADLINE = "Ministers Split on Ferry Tariffs. Can the Bloc Agree?"


@pytest.mark.parametrize("head", [
    f"{HEADLINE}\n",  # glued: no blank line between the headline and the body
    f"{HEADLINE}\n\n",
    f"Exclusive to Harbour Times:\n\nHarbour Times 10/3/2024\n\n{HEADLINE}\n\nBy Ann Smith\n\n",
])
def test_headline_is_read_off_the_head(head: str) -> None:
    found = infer_metadata(head + BODY)
    assert found["title"] == (HEADLINE, "text:headline")


@pytest.mark.parametrize("first", [
    "The ministers met on Tuesday to discuss the tariffs.",  # a sentence: ends with a full stop
    "Ministers split on ferry tariffs as the bloc struggles",  # sentence case
    "Why Europe Cannot Agree On Anything At All When",  # a hard-wrapped sentence: goes on below
    "By Ann Smith",  # a byline
    "Plain first line",
    " ".join(["Ministers Meet"] * 11),  # too long for a headline
])
def test_prose_first_lines_are_not_headlines(first: str) -> None:
    follow = "in lower case, the wrapped sentence goes on" if first.endswith("When") else BODY
    assert "title" not in infer_metadata(f"{first}\n{follow}")


def test_looks_like_headline() -> None:
    assert looks_like_headline(HEADLINE)
    assert looks_like_headline("Trump Expresses Disappointment with Putin on Ukraine; Growing "
                               "Russia-China Alliance Raises Concerns")
    for line in ("Two Words", "Harbour Park, Riga",  # a label, a venue
                 "Ferry Talks Resume on September 2, 2025", "Friday, 4 April",  # datelines
                 "Result: Smith 6-4 3-6 7-5 (7/5) Jones",  # a score line
                 "Exclusive to Harbour Times:"):
        assert not looks_like_headline(line), line


def test_a_plain_text_headline_becomes_the_title_not_a_paragraph(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"{HEADLINE}\n{BODY}\n{BODY}", encoding="utf-8")
    (article,) = ingest_sources([tmp_path / "a.txt"]).articles
    assert article.title == HEADLINE and article.meta["title"] == "text:headline"
    assert not segment_articles([article])[0].text.startswith("Ministers")
    # a manifest title in other case and punctuation is the same line: manifest wins, line goes
    (tmp_path / "m.csv").write_text('file,title\na.txt,"ministers split on ferry tariffs - can '
                                    'the bloc agree"\n', encoding="utf-8")
    (article,) = ingest_sources([tmp_path / "a.txt"], manifest=tmp_path / "m.csv").articles
    assert article.meta["title"] == "manifest"
    assert segment_articles([article])[0].text.startswith("The ministers met")


def test_a_prose_first_line_stays_prose(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"{BODY}\n{BODY}", encoding="utf-8")
    (article,) = ingest_sources([tmp_path / "a.txt"]).articles
    assert article.title is None and "title" not in article.meta
    assert segment_articles([article])[0].text.startswith(BODY)


# -- no date from any source ---------------------------------------------------------------------

def test_undated_warning() -> None:
    assert undated_warning("a.txt", None) == f"a.txt: {NO_DATE}"
    assert undated_warning("a.txt", dt.date(2024, 5, 1)) is None


def test_a_document_without_a_date_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"{BODY}\n{BODY}", encoding="utf-8")
    (tmp_path / "b.txt").write_text(f"May 2, 2024\n{BODY}", encoding="utf-8")
    result = ingest_sources([tmp_path])
    assert [w for w in result.warnings if NO_DATE in w] == [f"{tmp_path / 'a.txt'}: {NO_DATE}"]

"""Metadata read off the text: dates, bylines, outlets, with origins; the manifest wins."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from narrative.ingest import ingest_sources
from narrative.ingest.assemble import parse_field_date
from narrative.ingest.metadata import (date_flag, find_dates, infer_metadata, outlet_from_name,
                                       outlet_from_url)

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
    assert a000.meta["first_published_in"] == "International Policy Digest"
    assert a002.date == dt.date(2025, 9, 2) and a002.meta["editor"] == "Svetlana Velgush"
    assert a003.author == "Thomas Fazi" and a003.outlet == "UnHerd"
    assert a003.meta["outlet"] == "text:courtesy_of" and a003.meta["author"] == "text:author_label"
    assert by["001"].outlet is None and by["004"].date is None  # nothing stated: nothing guessed

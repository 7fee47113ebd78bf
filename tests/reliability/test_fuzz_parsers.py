"""Fuzzing the date and byline parsers: any text gives results or the declared exception."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from narrative.ingest.assemble import parse_field_date
from narrative.ingest.clean import clean_text
from narrative.ingest.manifest import join_authors, parse_date
from narrative.ingest.metadata import (date_flag, find_dates, infer_metadata, outlet_from_url,
                                       split_names)

FUZZ = settings(max_examples=150, deadline=None)

# Pieces of real dates, bylines and URLs, shuffled into text: reaches the parsers' deep branches
# far more often than uniform text.
PIECES = st.sampled_from([
    "9/9/2025", "at 3:32 PM EDT", "September 2, 2025", "2 Sep 2025", "2025-09-02", "31/02/2024",
    "0/0/0", "99/99/9999", "Sept.", "13.13.2013", "2025-13-45", "By", "by", "and", ",", ";", "&",
    "Author:", "Edited by:", "Robert Weiner", "de la", "van", "O'Neil-Smith", "\u2014", "|",
    "courtesy of", "first published in", "https://www.example.co.uk/a", "http://", "www.",
    "Exclusive to", "\n", " ", "  ", "1e308", "-1", "\u202e", "\x00", "\ud800", "ÿ",
])
TEXTS = st.one_of(st.text(max_size=200), st.lists(PIECES, max_size=30).map(" ".join))
VALUES = st.one_of(TEXTS, st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                   st.none(), st.booleans(), st.dates(), st.lists(st.text(max_size=5), max_size=3))


@FUZZ
@given(TEXTS, st.sampled_from([None, True, False]))
def test_find_dates_returns_valid_dates_in_order(text: str, day_first: bool | None) -> None:
    hits = find_dates(text, day_first=day_first)
    assert all(isinstance(h.date, dt.date) and 0 <= h.start < h.end <= len(text) for h in hits)
    assert [h.start for h in hits] == sorted(h.start for h in hits)


@FUZZ
@given(VALUES, st.sampled_from([None, True, False]))
def test_field_dates_raise_only_the_declared_errors(value, day_first: bool | None) -> None:
    try:
        parsed = parse_field_date(value, day_first=day_first)
    except (ValueError, OverflowError, OSError):
        return  # declared: the assembler turns these into a "bad date" warning
    assert parsed is None or isinstance(parsed, dt.date)
    date_flag(parsed)


@FUZZ
@given(VALUES)
def test_manifest_dates_raise_only_value_error(value) -> None:
    try:
        parsed = parse_date(value)
    except ValueError:
        return
    assert parsed is None or isinstance(parsed, dt.date)


@FUZZ
@given(TEXTS)
def test_names_and_bylines_never_raise(text: str) -> None:
    names = split_names(text)
    assert all(isinstance(n, str) and n for n in names)
    joined = join_authors(text)
    assert joined is None or isinstance(joined, str)


@FUZZ
@given(TEXTS, st.one_of(st.none(), TEXTS), st.sampled_from([None, True, False]))
def test_infer_metadata_never_raises(text: str, url: str | None, day_first: bool | None) -> None:
    found = infer_metadata(clean_text(text), url=url, day_first=day_first,
                           today=dt.date(2026, 1, 1))
    for key, (value, origin) in found.items():
        assert isinstance(origin, str) and (origin.startswith(("text:", "field:")) or key)
        if key == "date":
            assert isinstance(value, dt.date)


@FUZZ
@given(TEXTS)
def test_outlet_from_url_never_raises(text: str) -> None:
    outlet = outlet_from_url(text)
    assert outlet is None or (isinstance(outlet, str) and outlet.strip())

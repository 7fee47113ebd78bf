"""clean_text: Markdown markup and whitespace cleaned, original characters kept, idempotent."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narrative.ingest import clean_text
from narrative.ingest.clean import excerpt


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("See [the report](https://example.org/a) today.", "See the report today."),
        ("A link to [nowhere](#) here.", "A link to nowhere here."),
        ("Wiki [Foo](https://en.wikipedia.org/wiki/Foo_(bar)) end.", "Wiki Foo end."),
        ("Before ![a photo](img/p.jpg) after.", "Before after."),
        ("![only](x.png)\n\nText.", "Text."),
        ("Nested [[inner](a)](b) link.", "Nested inner link."),
        ("Some *emphasis* and **bold** and _italic_ and __strong__.",
         "Some emphasis and bold and italic and strong."),
        ("In the *New York Times* today.", "In the New York Times today."),
        ("# Title\n\nBody.", "Title\n\nBody."),
        ("### Sub heading\nBody.", "Sub heading\nBody."),
        ("one\r\ntwo\rthree", "one\ntwo\nthree"),
        ("trailing   \nspaces\t\t\n", "trailing\nspaces"),
        ("a  b\t\tc \t d", "a b c d"),
        ("  \u2022 Reuters  ", "\u2022 Reuters"),
        ("p1\n\n\n\n\np2\n\n\np3", "p1\n\np2\n\np3"),
        ("\n\n  padded  \n\n", "padded"),
        ("bell\x07 and nul\x00 dropped", "bell and nul dropped"),
    ],
)
def test_clean_text_cases(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "snake_case_name and file_name.txt",  # underscores inside words are not emphasis
        "2*3*4 = 24 and 2 * 3",  # arithmetic, not emphasis
        "#Ukraine trends; issue #5",  # hashtags are not headings
        "He said \u201cno\u201d \u2014 it\u2019s over\u2026",  # typographic punctuation stays
        "[bracketed] text without a url",
        "* a bullet item",
    ],
)
def test_clean_text_keeps_non_markup(kept: str) -> None:
    assert clean_text(kept) == kept


def test_clean_text_keeps_unicode_punctuation_from_ascii_twin() -> None:
    typographic = "Trump\u2019s \u201cdeal\u201d\u2014maybe"
    assert clean_text(typographic) != clean_text("Trump's \"deal\"--maybe")
    assert clean_text(typographic) == typographic


markup = st.text(alphabet=st.sampled_from(list("ab Z#*_[]()!\n\r\t.\u00a0\u2028\x0c")), max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.one_of(markup, st.text(max_size=80)))
def test_clean_text_is_idempotent(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.one_of(markup, st.text(max_size=80)))
def test_clean_text_output_shape(raw: str) -> None:
    out = clean_text(raw)
    assert out == out.strip()
    assert "\r" not in out and "\t" not in out and "\n\n\n" not in out
    assert "  " not in out
    assert all(line == line.strip(" ") for line in out.split("\n"))


def test_excerpt_escapes_controls_and_marks_truncation() -> None:
    short = excerpt("a\x00b" + "x" * 300, limit=10)
    assert short.startswith("a\\x00b")
    assert short.endswith("\u2026")
    assert "\x00" not in short

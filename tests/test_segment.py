"""Segmentation: line-break paragraphs, sentence windows, merging of fragments, exact offsets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narrative.ingest import ingest_sources
from narrative.schema import Article
from narrative.segment import (
    MAX_WORD_CHARS, segment_article, segment_articles, split_paragraphs, split_sentences,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = SHARED / "corpora" / "seeds"
UKRAINE = SHARED / "corpora" / "ukraine_media_2022" / "ukraine_media_2022.jsonl"

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()


def sentence(i: int, n_words: int = 15) -> str:
    """A sentence of ``n_words`` words starting with a capital and ending with a period."""
    words = [WORDS[(i + k) % len(WORDS)] for k in range(n_words)]
    return " ".join(words).capitalize() + f" {i}."


def paragraph(i: int, n_sentences: int = 2) -> str:
    return " ".join(sentence(10 * i + k) for k in range(n_sentences))


def texts(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[s:e] for s, e in spans]


def assert_spans_valid(text: str, spans: list[tuple[int, int]]) -> None:
    previous_end = 0
    covered = [False] * len(text)
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip()
        for i in range(start, end):
            covered[i] = True
        previous_end = end
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())


# -- line breaks --------------------------------------------------------------------------------

@pytest.mark.parametrize("separator", ["\n\n", "\n", "\n \n\t\n"])
def test_split_on_blank_lines_and_single_newlines(separator: str) -> None:
    parts = [paragraph(i) for i in range(3)]
    text = "  " + separator.join(parts) + "\n"
    assert texts(text, split_paragraphs(text)) == parts


def test_short_fragments_merge_into_neighbours() -> None:
    title, byline, body1, body2, footer = "A short title", "By Someone", paragraph(1), \
        paragraph(2), "Sources: Reuters"
    text = "\n\n".join([title, byline, body1, body2, footer])
    spans = split_paragraphs(text)
    assert texts(text, spans) == [
        f"{title}\n\n{byline}\n\n{body1}",  # leading fragments join the first long piece
        f"{body2}\n\n{footer}",  # a trailing fragment joins the previous piece
    ]


def test_all_short_text_is_one_paragraph_and_min_words_zero_disables_merging() -> None:
    text = "One line\nTwo line\n\nThree"
    assert texts(text, split_paragraphs(text)) == [text]
    assert texts(text, split_paragraphs(text, min_words=0)) == ["One line", "Two line", "Three"]


def test_blank_text_has_no_paragraphs() -> None:
    assert split_paragraphs("") == [] and split_paragraphs(" \n\n\t ") == []


# -- sentence windows ---------------------------------------------------------------------------

@pytest.mark.parametrize("n_sentences", list(range(6, 41)))
def test_unbroken_text_becomes_windows_of_3_to_5_sentences(n_sentences: int) -> None:
    text = " ".join(sentence(i, 45) for i in range(n_sentences))  # 46 words each, > 250 words
    spans = split_paragraphs(text)
    counts = [piece.count(".") for piece in texts(text, spans)]
    assert sum(counts) == n_sentences
    assert all(3 <= c <= 5 for c in counts), counts
    assert all(p[0].isupper() and p.endswith(".") for p in texts(text, spans))
    assert_spans_valid(text, spans)


def test_block_under_max_words_is_not_windowed() -> None:
    text = " ".join(sentence(i) for i in range(10))  # 160 words
    assert split_paragraphs(text) == [(0, len(text))]
    assert len(split_paragraphs(text, max_words=100)) == 2


def test_window_size_follows_window_sentences() -> None:
    text = " ".join(sentence(i) for i in range(24))
    counts = [p.count(".") for p in texts(text, split_paragraphs(text, window_sentences=6))]
    assert counts == [6, 6, 6, 6]


def test_sentence_splitter_keeps_abbreviations() -> None:
    text = ("Mr. Smith met Dr. Jones on St. Mark's Square. The U.S. Senate voted, e.g. "
            "Senator Doe. Then-U.S. Ambassador Roe spoke! \u201cWho knows?\u201d he asked. "
            "2022 was a year. (Nothing more.) Last one")
    got = texts(text, split_sentences(text))
    assert got == [
        "Mr. Smith met Dr. Jones on St. Mark's Square.",
        "The U.S. Senate voted, e.g. Senator Doe.",
        "Then-U.S. Ambassador Roe spoke!",
        "\u201cWho knows?\u201d he asked.",
        "2022 was a year.",
        "(Nothing more.)",
        "Last one",
    ]


def test_sentence_splitter_needs_a_capital_after_the_stop() -> None:
    text = "Prices rose 2.5 percent. then fell... and rose again."
    assert texts(text, split_sentences(text)) == [text]


# -- long words ---------------------------------------------------------------------------------

def test_giant_word_is_cut() -> None:
    blob = "x" * (2 * MAX_WORD_CHARS + 500)
    text = f"{paragraph(1)}\n\nData: {blob} end of the data dump here"
    spans = split_paragraphs(text)
    assert_spans_valid(text, spans)
    assert len(spans) == 3  # the short "Data: ..." block joins the first; the blob is cut twice
    for piece in texts(text, spans):
        assert max(len(w) for w in piece.split()) <= MAX_WORD_CHARS


# -- offsets (property) -------------------------------------------------------------------------

tokens = st.sampled_from(["word", "Word", "end.", "Yes!", "Mr.", "U.S.", "\u201cHi.\u201d", "9.",
                          " ", " ", " ", "\n", "\n\n", "\t", "\u2028", "\u00a0", "x" * 40])
sample_texts = st.one_of(st.lists(tokens, max_size=120).map("".join), st.text(max_size=200))


@settings(max_examples=300, deadline=None)
@given(sample_texts, st.integers(0, 6), st.integers(1, 5), st.integers(1, 20))
def test_spans_rebuild_the_text(text: str, min_words: int, window: int, max_words: int) -> None:
    spans = split_paragraphs(text, min_words=min_words, window_sentences=window,
                             max_words=max_words)
    assert_spans_valid(text, spans)
    assert spans == split_paragraphs(text, min_words=min_words, window_sentences=window,
                                     max_words=max_words)


@settings(max_examples=200, deadline=None)
@given(sample_texts)
def test_sentences_cover_their_range(text: str) -> None:
    assert_spans_valid(text, split_sentences(text))


# -- paragraphs ---------------------------------------------------------------------------------

def test_segment_article_builds_paragraph_records() -> None:
    text = "\n\n".join(paragraph(i) for i in range(3))
    paragraphs = segment_article("art1", text)
    assert [p.position for p in paragraphs] == [0, 1, 2]
    assert all(p.article_id == "art1" and text[p.start:p.end] == p.text for p in paragraphs)
    assert len({p.paragraph_id for p in paragraphs}) == 3


def test_segment_articles_uses_article_ids_and_keywords() -> None:
    one = Article(text=paragraph(1) + "\n" + paragraph(2), source="a.txt", outlet="A")
    two = Article(text="Short.\nAlso short.", source="b.txt", outlet="B")
    paragraphs = segment_articles([one, two], min_words=0)
    assert [(p.article_id, p.position) for p in paragraphs] == [
        (one.article_id, 0), (one.article_id, 1), (two.article_id, 0), (two.article_id, 1)]


# -- the title line -----------------------------------------------------------------------------

HEADLINE = "Ministers Split on Ferry Tariffs. Can the Bloc Agree?"


@pytest.mark.parametrize("title", [HEADLINE,
                                   "ministers split on ferry tariffs -- can the bloc agree",
                                   "Ministers Split on Ferry Tariffs: Can the Bloc Agree"])
@pytest.mark.parametrize("separator", ["\n", "\n\n"])
def test_a_first_line_saying_the_title_is_no_prose(title: str, separator: str) -> None:
    body = paragraph(1) + "\n" + paragraph(2)
    text = HEADLINE + separator + body
    assert texts(text, split_paragraphs(text))[0].startswith(HEADLINE)  # glued, without a title
    spans = split_paragraphs(text, title=title)
    assert texts(text, spans) == [paragraph(1), paragraph(2)]
    article = Article(text=text, source="a.txt", title=title)
    assert [p.text for p in segment_articles([article])] == [paragraph(1), paragraph(2)]


@pytest.mark.parametrize("title", [
    "Something Else Entirely",  # another title
    "Alpha bravo charlie",  # the first words only: a prefix is not the line
    None,
])
def test_a_first_sentence_of_prose_is_never_left_out(title: str | None) -> None:
    text = sentence(0) + "\n" + paragraph(1)
    spans = split_paragraphs(text, title=title)
    assert_spans_valid(text, spans)
    assert texts(text, spans)[0].startswith(sentence(0))


def test_a_text_that_is_only_its_title_keeps_it() -> None:
    assert texts(HEADLINE, split_paragraphs(HEADLINE, title=HEADLINE)) == [HEADLINE]


@pytest.mark.parametrize(("kw", "name"), [({"min_words": -1}, "min_words"),
                                          ({"window_sentences": 0}, "window_sentences"),
                                          ({"max_words": 0}, "max_words")])
def test_bad_parameters_are_named(kw: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        split_paragraphs("text", **kw)


# -- real corpora -------------------------------------------------------------------------------

def test_seed_paragraphs_have_at_least_15_words() -> None:
    if not (SEEDS / "raw").is_dir():
        pytest.skip(f"seed corpus not found at {SEEDS}")
    articles = ingest_sources([SEEDS / "raw"], manifest=SEEDS / "manifest.csv").articles
    assert len(articles) == 5
    for article in articles:
        paragraphs = segment_article(article.article_id, article.text)
        assert len(paragraphs) >= 3
        assert all(article.text[p.start:p.end] == p.text for p in paragraphs)
        assert all(p.n_tokens >= 15 for p in paragraphs[:-1])
        # the whole text is kept: only whitespace lies between paragraphs
        rebuilt = re.sub(r"\s+", "", "".join(p.text for p in paragraphs))
        assert rebuilt == re.sub(r"\s+", "", article.text)


def test_ukraine_corpus_windows(tmp_path: Path) -> None:
    if not UKRAINE.is_file():
        pytest.skip(f"ukraine_media_2022 corpus not found at {UKRAINE}")
    sample = tmp_path / "sample.jsonl"
    with UKRAINE.open("rb") as src, sample.open("wb") as dst:
        for _, line in zip(range(200), src):
            dst.write(line)
    result = ingest_sources([sample])
    assert result.rejects == [] and len(result.articles) == result.n_read == 200
    sizes = []
    for article in result.articles:
        if "\n" in article.text or len(article.text.split()) <= 250:
            continue  # only long unbroken articles are windowed
        paragraphs = segment_article(article.article_id, article.text)
        assert len(paragraphs) >= 2
        for p in paragraphs[:-1]:  # the last one may end on a credit line ("- Raw Story")
            assert p.text[-1] in ".!?\u2026\"'\u201d\u2019)", p.text[-40:]
        sizes.extend(len(split_sentences(p.text)) for p in paragraphs)
    assert len(sizes) > 500
    assert min(sizes) >= 3
    assert sum(3 <= n <= 5 for n in sizes) / len(sizes) > 0.95

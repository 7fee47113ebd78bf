"""Copies: exact and MinHash near-duplicates link to the first occurrence, keep their outlet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    # 000 says it was first published elsewhere (read before the note is cut): 001 is the original
    assert by["000"].duplicate_of == by["001"].article_id and by["001"].duplicate_of is None
    assert by["000"].meta["copy_evidence"] == by["001"].meta["copy_evidence"] == "text"
    assert by["000"].meta["copy_source"] == "International Policy Digest"
    assert sum(a.duplicate_of is not None for a in linked) == 1


@pytest.mark.parametrize("batch", [1, 2, 5])
def test_index_links_across_batches_as_in_one_pass(batch: int) -> None:
    from narrative.dedup import CopyIndex

    texts = [STORY, " ".join(reversed(SENTENCES)).replace("delegation", "team"),
             STORY.replace("again", "\u2014 again"),
             "Short line.", STORY + " Republished with permission.", "short LINE!",
             " ".join(SENTENCES[:3]), STORY.upper()]
    keys = [f"k{i}" for i in range(len(texts))]
    whole = CopyIndex(min_words=10).add_batch(keys, texts)
    index = CopyIndex(min_words=10)
    parts = [index.add_batch(keys[i:i + batch], texts[i:i + batch])
             for i in range(0, len(texts), batch)]
    assert [k for part in parts for k in part] == whole
    assert whole == [None, None, "k0", None, "k0", "k3", None, "k0"]
    assert index.n_originals == 4 and index.nbytes() > 0


def test_index_keeps_no_text_and_stays_small() -> None:
    from narrative.dedup import CopyIndex

    index = CopyIndex(num_perm=64, shingle=3, min_words=8)
    texts = [f"{STORY} {i} {i * 7} {i * 13}" for i in range(300)]
    index.add_batch(range(300), [t + f" marker{i}" * 40 for i, t in enumerate(texts)])
    # Distinct-looking texts are near copies of the first: only one original is indexed.
    assert index.n_originals == 1
    index.add_batch(range(300, 600), [f"unique words {i} " + "x" * (i % 7) for i in range(300)])
    assert index.nbytes() < 300 * 400  # a few hundred bytes per original at most


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.sampled_from([
    "\u201cQuote\u201d \u2014 dash\u2026 ellipsis", "ﬁne ＦＵＬＬ width", "a--b...c\u00a0d"]))
@settings(max_examples=200, deadline=None)
def test_word_split_matches_the_normalised_text(text: str) -> None:
    from narrative.dedup import _WORDS, word_key
    from narrative.schema import normalize_for_matching

    assert word_key(text) == " ".join(_WORDS.findall(normalize_for_matching(text)))


@pytest.mark.parametrize("batch", [1, 3, 8])
def test_sketches_read_back_link_as_the_texts(batch: int) -> None:
    """Sketches persisted as columns and fed back give the links the texts give."""
    from narrative.dedup import CopyIndex, Sketches

    texts = [STORY, " ".join(reversed(SENTENCES)).replace("delegation", "team"),
             STORY.replace("again", "\u2014 again"), "Short line.",
             STORY + " Republished with permission.", "short LINE!", " ".join(SENTENCES[:3]),
             STORY.upper()]
    keys = [f"k{i}" for i in range(len(texts))]
    whole = CopyIndex(min_words=10).add_batch(keys, texts)
    maker, index = CopyIndex(min_words=10), CopyIndex(min_words=10)
    got = []
    for i in range(0, len(texts), batch):
        columns = maker.sketch(texts[i:i + batch]).to_columns()
        back = Sketches.from_columns(**columns, num_perm=maker.num_perm, n_bands=maker.bands)
        got += index.add_sketches(keys[i:i + batch], back)
    assert got == whole == [None, None, "k0", None, "k0", "k3", None, "k0"]
    assert maker.sketch_params == index.sketch_params
    assert CopyIndex(min_words=10, num_perm=64).sketch_params != maker.sketch_params


def test_sketches_of_other_parameters_are_refused() -> None:
    from narrative.dedup import CopyIndex, Sketches

    sketches = CopyIndex(num_perm=64, shingle=3).sketch([STORY])
    with pytest.raises(ValueError, match="do not fit an index of 128 permutations"):
        CopyIndex().add_sketches(["a"], sketches)
    columns = sketches.to_columns()
    with pytest.raises(ValueError, match="128 permutations"):
        Sketches.from_columns(**columns, num_perm=128, n_bands=sketches.bands.shape[1])
    with pytest.raises(ValueError, match="2 keys for 1 sketches"):
        CopyIndex(num_perm=64, shingle=3).add_sketches(["a", "b"], sketches)

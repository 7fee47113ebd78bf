"""Segmentation: articles -> paragraphs, each a span ``(start, end)`` of the article's cleaned text.

Rules, in order:

0. **Title.** When the article's title is given and the text's first line says the same words
   (case and punctuation aside), that line is the headline, not prose: it starts no paragraph
   and is not merged into the first one. Nothing else is ever left out, and a text that is
   only its title keeps it.
1. **Blocks.** The text splits at line breaks (blank lines and single newlines alike); each block
   is stripped of surrounding whitespace.
2. **Sentence windows.** A block longer than ``max_words`` words (scraped corpora often have no
   line breaks at all) is cut into windows of about ``window_sentences`` sentences; window sizes
   stay within ``window_sentences ± 1`` whenever the block has that many sentences.
3. **Merging.** A piece shorter than ``min_words`` words (a heading, a byline, a source line)
   merges into the previous piece, or into the next one when it comes first. A merged paragraph
   spans both pieces, line break included.
4. **Long words.** A single "word" over 1,000 characters (a URL list, base64 debris) is cut at
   1,000-character marks so that no paragraph carries more than that of it.

Offsets always rebuild the text: ``text[p.start:p.end] == p.text``; spans increase, never overlap
and together cover every non-whitespace character but a title line (rule 0). The result depends
only on the input.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

from narrative.schema import Article, Paragraph

__all__ = ["ABBREVIATIONS", "segment_article", "segment_articles", "split_paragraphs",
           "split_sentences"]

#: Words ending in a period that do not end a sentence (compared in lower case).
ABBREVIATIONS = frozenset(
    """mr. mrs. ms. dr. prof. st. jr. sr. rev. gen. col. lt. sgt. capt. cmdr. adm. maj. gov.
    sen. rep. pres. amb. hon. messrs. mt. ft. no. nos. vol. vs. v. cf. approx. inc. corp. ltd.
    co. bros. dept. univ. est. fig. jan. feb. mar. apr. jun. jul. aug. sep. sept. oct. nov.
    dec. a.m. p.m. e.g. i.e. u.s. u.k. u.n. e.u.""".split()
)
MAX_WORD_CHARS = 1000

_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# A sentence may end at . ! ? or … (repeated), then closing quotes or brackets, then whitespace.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*(?=\s)")
_OPENERS = "\"'\u201c\u2018\u00ab([\u2014-"
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+")  # U.S., e.g., J. -- letters each followed by a dot
_LONG_WORD = re.compile(r"\S{%d,}" % (MAX_WORD_CHARS + 1))
_WORDS = re.compile(r"\w+")
#: A line longer than this is prose, whatever title the metadata gives.
MAX_TITLE_WORDS = 30


def _folded_words(text: str) -> list[str]:
    return _WORDS.findall(unicodedata.normalize("NFKC", text).casefold())


def _same_words(line: str, title: str) -> bool:
    """Whether ``line`` and ``title`` say the same words (case, punctuation and width aside)."""
    words = _folded_words(line)
    return bool(words) and len(words) <= MAX_TITLE_WORDS and words == _folded_words(title)


def _n_words(text: str, start: int, end: int) -> int:
    return len(text[start:end].split())


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` past surrounding whitespace (``start == end`` when blank)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _ends_with_abbreviation(text: str, start: int, stop: int) -> bool:
    """Whether the word ending at ``stop`` (just past a single ``.``) is an abbreviation."""
    word_start = stop
    while word_start > start and not text[word_start - 1].isspace():
        word_start -= 1
    # "then-U.S." and "(Mr." count as "U.S." and "Mr."
    word = text[word_start:stop].rsplit("-", 1)[-1].lstrip(_OPENERS).lower()
    return word in ABBREVIATIONS or _INITIALS.fullmatch(word) is not None


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into sentence spans (stripped, in order, covering the range).

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` (optionally followed by a closing quote or
    bracket) when whitespace and then an uppercase letter, a digit or an opening quote follow.
    A period after a known abbreviation (``Mr.``, ``Dr.``, ``St.``, ``e.g.``) or after
    initials (``U.S.``, ``J.``) does not end a sentence. Simple on purpose: it only has to cut
    long unbroken text into windows, not parse it.
    """
    end = len(text) if end is None else end
    start, end = _strip_span(text, start, end)
    spans: list[tuple[int, int]] = []
    first = start
    for match in _SENTENCE_END.finditer(text, start, end):
        after = match.end()
        nxt = after
        while nxt < end and text[nxt].isspace():
            nxt += 1
        if nxt >= end:
            break
        char = text[nxt]
        if not (char.isupper() or char.isdigit() or char in _OPENERS):
            continue
        if match.group() == "." and _ends_with_abbreviation(text, first, match.end()):
            continue
        spans.append((first, after))
        first = nxt
    if first < end:
        spans.append((first, end))
    return spans


def _window_sizes(n: int, size: int) -> list[int]:
    """Split ``n`` sentences into windows near ``size``, each within ``size ± 1`` if possible."""
    if n <= size + 1:
        return [n]
    lowest = math.ceil(n / (size + 1))
    highest = max(lowest, n // (size - 1)) if size > 1 else n
    count = min(max(round(n / size), lowest), highest)
    small, extra = divmod(n, count)
    return [small + 1] * extra + [small] * (count - extra)


def _windows(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    sentences = split_sentences(text, start, end)
    spans = []
    i = 0
    for count in _window_sizes(len(sentences), size):
        spans.append((sentences[i][0], sentences[i + count - 1][1]))
        i += count
    return spans


def _merge_short(text: str, pieces: list[tuple[int, int]], min_words: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    pending: int | None = None  # start of short leading pieces waiting for a next piece
    pending_end = 0
    for start, end in pieces:
        if pending is not None:
            start, pending = pending, None
        if _n_words(text, start, end) >= min_words:
            merged.append((start, end))
        elif merged:
            merged[-1] = (merged[-1][0], end)
        else:
            pending = start
            pending_end = end
    if pending is not None:
        merged.append((pending, pending_end))
    return merged


def _cut_long_words(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    cut: list[tuple[int, int]] = []
    for start, end in spans:
        for match in _LONG_WORD.finditer(text, start, end):
            for mark in range(match.start() + MAX_WORD_CHARS, match.end(), MAX_WORD_CHARS):
                piece = _strip_span(text, start, mark)
                if piece[0] < piece[1]:
                    cut.append(piece)
                start = mark
        cut.append((start, end))
    return cut


def split_paragraphs(
    text: str, *, min_words: int = 15, window_sentences: int = 4, max_words: int = 250,
    title: str | None = None,
) -> list[tuple[int, int]]:
    """Paragraph spans ``(start, end)`` of ``text``; ``text[start:end]`` is a stripped paragraph.

    Parameters
    ----------
    text : str
        The cleaned article text.
    min_words : int, default=15
        Pieces with fewer words merge into a neighbour (0 disables merging).
    window_sentences : int, default=4
        Sentences per window when a block without line breaks is too long.
    max_words : int, default=250
        A block with more words than this is cut into sentence windows.
    title : str, optional
        The article's title: a first line saying the same words is left out (rule 0).
    """
    if min_words < 0:
        raise ValueError(f"min_words must be >= 0; got {min_words}")
    if window_sentences < 1:
        raise ValueError(f"window_sentences must be >= 1; got {window_sentences}")
    if max_words < 1:
        raise ValueError(f"max_words must be >= 1; got {max_words}")
    pieces: list[tuple[int, int]] = []
    position = 0
    first = True
    for brk in [*_LINE_BREAK.finditer(text), None]:
        stop = brk.start() if brk is not None else len(text)
        start, end = _strip_span(text, position, stop)
        if start < end and first:
            first = False
            if title and _same_words(text[start:end], title) and text[end:].strip():
                start = end  # the headline (rule 0)
        if start < end:
            if _n_words(text, start, end) > max_words:
                pieces.extend(_windows(text, start, end, window_sentences))
            else:
                pieces.append((start, end))
        if brk is not None:
            position = brk.end()
    return _cut_long_words(text, _merge_short(text, pieces, min_words))


def segment_article(article_id: str, text: str, *, title: str | None = None,
                    **kw: int) -> list[Paragraph]:
    """The paragraphs of one article, numbered from 0 (keywords as for :func:`split_paragraphs`)."""
    return [
        Paragraph(article_id=article_id, position=i, start=start, end=end, text=text[start:end])
        for i, (start, end) in enumerate(split_paragraphs(text, title=title, **kw))
    ]


def segment_articles(articles: Sequence[Article], **kw: int) -> list[Paragraph]:
    """The paragraphs of every article, in article order, keyed by ``article.article_id``; each
    article's title line is left out (rule 0)."""
    return [p for a in articles
            for p in segment_article(a.article_id, a.text, title=a.title, **kw)]

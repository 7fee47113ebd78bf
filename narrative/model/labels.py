"""Labels a reader would use: noun-phrase terms, and off-topic clusters set apart.

Without a part-of-speech model (spaCy's English models are not on PyPI, and nothing is downloaded
at run time), nouns are told from verbs and fragments by how the corpus itself uses each word:
a noun or adjective often follows a determiner ("the offensive", "a ceasefire"), a verb almost
never does ("the happens"), and a name is written with a capital inside a sentence. A term is kept
when its last word is noun-like by one of these tests and its other words are too (so "grain
exports" stays; "happens russia", "temperatures did" and "far" go). Multi-word terms come only
from words that stand next to each other in the text (:class:`PhraseAnalyzer`): "Zelensky in
Moscow" gives no "zelensky moscow", "coalition of the willing" no "coalition willing".

A discovered narrative is *off-topic* when most of its paragraphs are closer to sentences about
subjects no codebook of news on war and geopolitics is about (sport, culture, weather...) than to
anything the codebook's named narratives say (their descriptions and examples).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from .neighbours import unit_rows

__all__ = ["OFF_TOPIC_SENTENCES", "PhraseAnalyzer", "noun_like_words", "noun_phrase_table",
           "noun_phrases", "off_topic_ids"]

#: A word of a term: two or more letters (no numbers, no "s" of "russia's").
_WORD = re.compile(r"[^\W\d_]{2,}")
#: What a text is cut into: words and numbers, and each other non-space character on its own.
_PHRASE_TOKEN = re.compile(r"\w+|[^\w\s]")


class PhraseAnalyzer:
    """A CountVectorizer ``analyzer``: the text's words and its runs of up to ``ngram_max``
    adjacent words, lower-cased. A stop word, a number or punctuation ends a run, so an n-gram
    never joins words that do not stand together (scikit-learn's own n-grams are built after
    stop words are removed, which makes "zelensky moscow" of "Zelensky in Moscow")."""

    def __init__(self, stop_words: Iterable[str], ngram_max: int = 2) -> None:
        self.stop_words = frozenset(w.lower() for w in stop_words)
        self.ngram_max = ngram_max

    def __call__(self, text: str) -> list[str]:
        terms: list[str] = []
        run: list[str] = []
        for token in [*_PHRASE_TOKEN.findall(text.lower()), ""]:
            if _WORD.fullmatch(token) and token not in self.stop_words:
                run.append(token)
                continue
            for n in range(1, self.ngram_max + 1):
                terms += [" ".join(run[i:i + n]) for i in range(len(run) - n + 1)]
            run = []
        return terms

#: Words after which a noun (or an adjective before one) is expected.
DETERMINERS = frozenset(
    "the a an this that these those its their his her our my your some any every each no "
    "another such".split()
)
#: Share of a word's occurrences after a determiner from which it counts as noun-like.
MIN_DETERMINER_SHARE = 0.08
#: Share of its occurrences inside a sentence written with a capital from which it is a name.
MIN_CAPITAL_SHARE = 0.6

#: Share of a cluster's members closer to :data:`OFF_TOPIC_SENTENCES` than to the codebook from
#: which the cluster is off-topic.
MIN_OFF_TOPIC_SHARE = 0.5

#: Subjects off the codebook's: a discovered narrative closer to these than to the codebook is
#: labelled off-topic (written for this list, one sentence per subject).
OFF_TOPIC_SENTENCES = (
    "The team won the match with a late goal and moved to the top of the league.",
    "The tennis champion reached the final of the tournament.",
    "The Olympic athletes competed for medals at the games.",
    "The singer released a new album and announced a world tour.",
    "The film won several awards at the festival and the actors walked the red carpet.",
    "The royal family attended a ceremony at the palace.",
    "Temperatures will reach record highs this week, with heavy rain and storms forecast.",
    "The recipe uses fresh vegetables, garlic and olive oil.",
    "The new smartphone has a better camera and a longer battery life.",
    "Doctors say regular exercise and a good diet lower the risk of heart disease.",
    "The celebrity couple announced their engagement on social media.",
    "The video game sold millions of copies in its first week.",
)

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|[.!?]")


def _singulars(word: str) -> tuple[str, ...]:
    """The singulars a plural may have ("prices" -> "price", "taxes" -> "tax", "allies" -> "ally")."""
    if not word.endswith("s") or len(word) < 4:
        return ()
    return tuple(dict.fromkeys((word[:-1], word[:-2], word[:-3] + "y")))


def noun_like_words(texts: Iterable[str], words: Iterable[str]) -> set[str]:
    """The ``words`` (lower-case) that the corpus ``texts`` use like nouns, adjectives or names.

    A plural, which seldom follows a determiner ("prices rose"), counts when its singular does.
    """
    wanted = {w.lower() for w in words}
    counted = wanted | {s for w in wanted for s in _singulars(w)}
    seen, after_det, capital, inside = Counter(), Counter(), Counter(), Counter()
    for text in texts:
        previous = "."
        for token in _TOKEN.findall(text):
            low = token.lower()
            if low in counted:
                seen[low] += 1
                if previous in DETERMINERS:
                    after_det[low] += 1
                if previous not in ".!?":
                    inside[low] += 1
                    capital[low] += token[0].isupper()
            previous = low

    def noun_like(w: str) -> bool:
        return bool(seen[w]) and (after_det[w] / seen[w] >= MIN_DETERMINER_SHARE or (
            inside[w] > 0 and capital[w] / inside[w] >= MIN_CAPITAL_SHARE))

    return {w for w in wanted if noun_like(w) or any(noun_like(s) for s in _singulars(w))}


def noun_phrases(terms: Sequence[str], nouns: set[str]) -> list[str]:
    """``terms`` whose every word is noun-like (order kept)."""
    return [t for t in terms if t and all(w in nouns for w in t.lower().split())]


def noun_phrase_table(table, texts: Sequence[str], *, top_n: int):
    """A (sub-)narratives table (``label``, ``top_terms``) with its terms kept to noun phrases (at
    most ``top_n``; all of them where none is one) and labels made of the first three."""
    if table.empty:
        return table
    words = {w for terms in table["top_terms"] for t in terms for w in t.lower().split()}
    nouns = noun_like_words(texts, words)
    terms = [(noun_phrases(list(t), nouns) or list(t))[:top_n] for t in table["top_terms"]]
    labels = [", ".join(t[:3]) or label for t, label in zip(terms, table["label"])]
    return table.assign(top_terms=terms, label=labels)


def off_topic_ids(embeddings: np.ndarray, topics: np.ndarray, candidates: Iterable[int],
                  on_topic: np.ndarray, off_topic: np.ndarray) -> set[int]:
    """The ``candidates`` (narrative ids) at least :data:`MIN_OFF_TOPIC_SHARE` of whose members
    (rows of ``embeddings`` with that id in ``topics``) are closer to an ``off_topic`` sentence
    vector than to every ``on_topic`` one (the codebook's sentences). Members vote, rather than
    the centroid, so a sport cluster that also holds a few paragraphs about the war stays
    off-topic. Empty without on-topic or off-topic vectors."""
    if len(on_topic) == 0 or len(off_topic) == 0 or len(embeddings) == 0:
        return set()
    unit = unit_rows(np.asarray(embeddings, dtype=np.float64))
    on = (unit @ unit_rows(np.asarray(on_topic, dtype=np.float64)).T).max(axis=1)
    off = (unit @ unit_rows(np.asarray(off_topic, dtype=np.float64)).T).max(axis=1)
    topics = np.asarray(topics)
    return {int(t) for t in candidates
            if (topics == t).any() and (off[topics == t] > on[topics == t]).mean()
            >= MIN_OFF_TOPIC_SHARE}

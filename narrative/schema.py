"""Record types and column names shared by every stage.

Ids are content hashes (see :func:`content_hash`), so re-ingesting the same input changes nothing
and a paragraph repeated by a syndicated copy has one ``text_hash`` and is embedded once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from dataclasses import dataclass, field
from typing import Any

#: Label of paragraphs that no narrative claims (BERTopic's topic -1).
UNASSIGNED = "unassigned"
UNASSIGNED_ID = -1


def content_hash(*parts: object, length: int = 16) -> str:
    """A short, stable hex id for ``parts`` (sha256 over their ``str`` joined by U+001F)."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:length]


# Characters folded for matching only; stored text keeps the original characters.
_PUNCT_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-",
        "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ",
    }
)


def normalize_for_matching(text: str) -> str:
    """Fold Unicode punctuation, case and whitespace so copies of one text compare equal.

    Used for hashing and duplicate detection only, never for the text that is stored or shown.
    """
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT_FOLD)
    text = text.replace("--", "-").replace("...", " ")
    return " ".join(text.lower().split())


def text_hash(text: str) -> str:
    """Hash of a paragraph's normalised text: the embedding cache key."""
    return content_hash(normalize_for_matching(text))


@dataclass
class Article:
    """One cleaned article. ``text`` is the cleaned text that paragraph offsets point into."""

    text: str
    source: str  # file path, with ":line" for line-oriented inputs
    outlet: str | None = None
    date: dt.date | None = None
    title: str | None = None
    author: str | None = None
    url: str | None = None
    source_id: str | None = None
    lang: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # where each metadata value came from
    duplicate_of: str | None = None

    @property
    def article_id(self) -> str:
        return content_hash(self.outlet, self.date, self.text)


@dataclass
class Paragraph:
    """A span ``text == article.text[start:end]`` of one article."""

    article_id: str
    position: int
    start: int
    end: int
    text: str
    duplicate_of: str | None = None

    @property
    def paragraph_id(self) -> str:
        return content_hash(self.article_id, self.position)

    @property
    def text_hash(self) -> str:
        return text_hash(self.text)

    @property
    def n_tokens(self) -> int:
        return len(self.text.split())


@dataclass
class Reject:
    """An input record that could not be ingested, kept with its reason."""

    source: str
    position: str  # "line 12", "row 3", "byte 0", "file"
    reason: str
    excerpt: str = ""


ARTICLE_COLUMNS = [
    "article_id", "source_id", "outlet", "date", "author", "title", "url", "source", "lang",
    "text", "meta", "duplicate_of",
]
PARAGRAPH_COLUMNS = [
    "paragraph_id", "article_id", "position", "start", "end", "text", "text_hash", "n_tokens",
    "duplicate_of",
]
SHARES_COLUMNS = ["period", "outlet", "narrative", "share", "ci_low", "ci_high", "n_articles"]
CHANGEPOINT_COLUMNS = ["narrative", "outlet", "period", "direction", "magnitude"]
#: Columns of ``changepoints.csv`` after :data:`CHANGEPOINT_COLUMNS` (see
#: :func:`narrative.drift_change.change_points`).
CHANGE_DETAIL_COLUMNS = [
    "kind", "end_period", "before", "before_low", "before_high", "after", "after_low", "after_high",
    "z", "p_value", "n_articles_before", "n_articles_after", "n_carrying_before", "n_carrying_after",
    "evidence", "dispersion",
]
#: Columns of the ``diffusion`` table (see :func:`narrative.drift_diffusion.diffusion`).
DIFFUSION_COLUMNS = [
    "narrative", "outlet", "rank", "onset", "onset_low", "onset_high", "share_before", "share_after",
    "z", "p_value", "first_seen", "n_carrying", "n_copied", "copied_from",
]
#: Columns of the ``lead_lag`` table (see :func:`narrative.drift_diffusion.lead_lag`).
LEAD_LAG_COLUMNS = [
    "narrative", "leader", "follower", "lag_days", "lag_low", "lag_high", "p_value", "significant",
    "leader_onset", "follower_onset", "n_copies", "copy_delay_days", "evidence",
]

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
#: Outlet of articles whose outlet no source gives, in every table and view.
UNKNOWN_OUTLET = "(unknown outlet)"


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


@dataclass
class RunStats:
    """What a run records about its model and its assignments (the ``runs.stats`` JSON), typed.

    :meth:`from_dict` reads what older stores wrote: ``n_fit_texts`` (the Dask path's name for
    ``n_fit_sample``), and runs without ``model_run``, ``n_model_paragraphs`` or
    ``model_unassigned_share``, whose values then default to the run's own.
    """

    mode: str = "fit"  # fit, refit or update
    n_paragraphs: int = 0
    n_distinct_texts: int = 0
    n_model_paragraphs: int = 0  # paragraphs the model's run was fitted on
    n_fit_sample: int = 0  # distinct texts the model was fitted on (a sample on large corpora)
    min_cluster_size: int = 0
    n_named: int = 0
    n_discovered: int = 0
    n_subnarratives: int = 0
    unassigned_share: float = 0.0
    model_unassigned_share: float = 0.0  # unassigned share when the model was fitted
    kinds: dict[str, str] = field(default_factory=dict)  # narrative id (str) -> kind
    codebook: list[dict] = field(default_factory=list)  # name, description, seeds per entry
    stability: dict | None = None  # ARI across seeds, when measured
    model_run: str | None = None  # the run whose saved model this run uses (None: itself)
    base_run: str | None = None  # update: the run it updated
    previous_run: str | None = None  # refit: the run whose ids it kept
    lineage: list[dict] = field(default_factory=list)  # refit: continuations, splits, merges...
    id_map: dict[str, int] = field(default_factory=dict)  # model topic id (str) -> narrative id
    n_new_paragraphs: int = 0  # update: paragraphs assigned with the saved model
    new_unassigned_share: float | None = None
    refit_proposed: str | None = None  # update: why a refit is advised (None: not advised)
    refit_check: str | None = None  # update: what the refit check found
    provenance: dict = field(default_factory=dict)  # command line, input files' hashes (the build's)
    # narrative id (str) -> threshold, share, median_typicality, confidence counts, catch_all
    # (narrative.model.quality.narrative_quality): what the report shows of each narrative's trust
    narratives: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, stats: dict[str, Any], *, run_id: str | None = None) -> "RunStats":
        """The stats of a stored run, whatever version of the package wrote them."""
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in stats.items() if k in known}
        if "n_fit_sample" not in values and "n_fit_texts" in stats:
            values["n_fit_sample"] = stats["n_fit_texts"]
        values.setdefault("n_model_paragraphs", stats.get("n_paragraphs", 0))
        values.setdefault("model_unassigned_share", stats.get("unassigned_share", 0.0))
        out = cls(**values)
        if out.model_run is None and run_id is not None:
            out.model_run = run_id
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON the store keeps (fields that do not apply to this run's mode left out)."""
        from dataclasses import asdict

        out = asdict(self)
        return {k: v for k, v in out.items() if v is not None and v != [] and v != {}}

    def id_map_ints(self) -> dict[int, int] | None:
        """``id_map`` with int keys, or None when the run keeps the model's own ids."""
        return {int(k): int(v) for k, v in self.id_map.items()} or None


#: Columns of ``changepoints.csv`` after :data:`CHANGEPOINT_COLUMNS` (see
#: :func:`narrative.drift.change.change_points`).
CHANGE_DETAIL_COLUMNS = [
    "kind", "end_period", "before", "before_low", "before_high", "after", "after_low", "after_high",
    "z", "p_value", "n_articles_before", "n_articles_after", "n_carrying_before", "n_carrying_after",
    "evidence", "dispersion",
]
#: Columns of the ``diffusion`` table (see :func:`narrative.drift.diffusion.diffusion`).
DIFFUSION_COLUMNS = [
    "narrative", "outlet", "rank", "onset", "onset_low", "onset_high", "share_before", "share_after",
    "z", "p_value", "first_seen", "n_carrying", "n_copied", "copied_from",
]
#: Columns of the ``lead_lag`` table (see :func:`narrative.drift.diffusion.lead_lag`).
LEAD_LAG_COLUMNS = [
    "narrative", "leader", "follower", "lag_days", "lag_low", "lag_high", "p_value", "significant",
    "leader_onset", "follower_onset", "n_copies", "copy_delay_days", "evidence",
]

"""The report's part on each narrative: its size and share with the interval, how far to trust
it (its acceptance threshold, its members' median typicality, how many clear the threshold well,
and a warning when it may be a catch-all), its terms, its sub-narratives and its most typical
paragraphs quoted as evidence, each with its confidence and where it came from.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..model.quality import CATCH_ALL_MARGIN, CATCH_ALL_SHARE, confidence
from .inputs import ReportInputs
from .model import Evidence, NarrativeSection
from .text import count, pct

__all__ = ["catch_all_sentence", "evidence_by_narrative", "narrative_sections", "trust_sentence"]

#: What a narrative's typicality measures, by kind, in a reader's words.
_SIMILAR_TO = {"named": "its codebook description and examples",
               "discovered": "the centre of its cluster", "off-topic": "the centre of its cluster"}
_KIND_WORDS = {"named": "Named narrative", "discovered": "Discovered narrative",
               "off-topic": "Off-topic cluster"}


def narrative_sections(
    inputs: ReportInputs, subnarratives: pd.DataFrame, evidence_per_narrative: int,
) -> list[NarrativeSection]:
    """One section per narrative shown, in the drift stage's order (the rest after, by id)."""
    subs = _subnarrative_lists(subnarratives)
    quality = inputs.stats.narratives  # empty for runs stored before these were recorded
    thresholds = {int(k): float(q["threshold"]) for k, q in quality.items()
                  if q.get("threshold") is not None}
    evidence = evidence_by_narrative(inputs.articles, inputs.paragraphs, inputs.assignments,
                                     evidence_per_narrative, thresholds=thresholds)
    descriptions = {n.get("name"): n.get("description") for n in inputs.stats.codebook}
    interval = inputs.overall.set_index("narrative")
    n_par = inputs.n_paragraphs
    sections = []
    for r in inputs.narratives.sort_values("narrative_id").itertuples():
        label = str(r.label)
        trust = quality.get(str(int(r.narrative_id)), {})
        low = interval["ci_low"].get(label) if label in interval.index else None
        high = interval["ci_high"].get(label) if label in interval.index else None
        sections.append(
            NarrativeSection(
                narrative_id=int(r.narrative_id),
                label=label,
                kind=str(r.kind),
                description=descriptions.get(r.codebook_name),
                size=int(r.size),
                share=float(r.size / n_par) if n_par else 0.0,
                share_low=None if low is None or pd.isna(low) else float(low),
                share_high=None if high is None or pd.isna(high) else float(high),
                top_terms=list(r.top_terms),
                evidence=evidence.get(int(r.narrative_id), []),
                subnarratives=subs.get(int(r.narrative_id), []),
                trust=trust_sentence(str(r.kind), trust),
                catch_all=catch_all_sentence(label, trust),
            )
        )
    rank = {name: i for i, name in enumerate(inputs.order)}
    sections.sort(key=lambda s: rank.get(s.label, len(rank)))
    return sections


def trust_sentence(kind: str, quality: dict) -> str | None:
    """How far to trust a narrative's members, in one sentence: its acceptance threshold, their
    median typicality and how many clear the threshold clearly / fairly / barely (the counts of
    high / medium / low confidence); None when the run recorded none of it."""
    counts = quality.get("confidence") or {}
    threshold, median = quality.get("threshold"), quality.get("median_typicality")
    if threshold is None or not counts:
        return None
    high, medium, low = (int(counts.get(w, 0)) for w in ("high", "medium", "low"))
    similar = _SIMILAR_TO.get(kind, "the narrative")
    median_text = "" if median is None else f" (its paragraphs' median: {median:.2f})"
    return (f"{_KIND_WORDS.get(kind, kind.capitalize())}: a paragraph joins it when its similarity "
            f"to {similar} is at least {threshold:.2f}{median_text}. "
            f"{count(high + medium + low, 'paragraph')}: {high:,} clearly, {medium:,} fairly, "
            f"{low:,} barely above its threshold.")


def catch_all_sentence(label: str, quality: dict) -> str | None:
    """The warning for a narrative the run flagged as a possible catch-all, with why: its share
    against the plausible limit, its median typicality against its threshold; None if not."""
    if not quality.get("catch_all"):
        return None
    share, threshold = quality.get("share"), quality.get("threshold")
    median = quality.get("median_typicality")
    why = [f"holds {pct(float(share))} of all paragraphs, more than the {pct(CATCH_ALL_SHARE)} "
           "plausible for one claim"] if share is not None else []
    if median is not None and threshold is not None:
        why.append(f"its paragraphs' median similarity, {median:.2f}, is within "
                   f"{CATCH_ALL_MARGIN:.2f} of its threshold, {threshold:.2f}")
    return (f"Possible catch-all: {label}" + (f" {', and '.join(why)}" if why else "")
            + ". Many of its paragraphs may belong elsewhere; read its evidence before trusting "
            "its share.")


def _subnarrative_lists(subnarratives: pd.DataFrame) -> dict[int, list[tuple[str, int]]]:
    """Each narrative's sub-narratives as (label, paragraphs), largest first."""
    if not len(subnarratives):
        return {}
    return {
        int(k): [(str(x.label), int(x.size))
                 for x in g.sort_values("size", ascending=False).itertuples()]
        for k, g in subnarratives.groupby("narrative_id")
    }


def evidence_by_narrative(
    articles: pd.DataFrame, paragraphs: pd.DataFrame, assignments: pd.DataFrame, k: int,
    *, thresholds: dict[int, float] | None = None,
) -> dict[int, list[Evidence]]:
    """Each narrative's ``k`` most typical paragraphs, from distinct articles and with distinct
    texts (a reprinted paragraph is shown once), originals first (one sort over all assignments,
    not one merge per narrative); each with its confidence where ``thresholds`` (narrative id ->
    acceptance threshold) has its narrative's."""
    rows = assignments[["paragraph_id", "narrative_id", "probability"]].merge(
        paragraphs[["paragraph_id", "article_id", "text", "duplicate_of"]], on="paragraph_id"
    )
    if rows.empty:
        return {}
    rows = rows.assign(
        _dup=rows["duplicate_of"].notna(),
        _p=rows["probability"].fillna(0.0),
    ).sort_values(["narrative_id", "_dup", "_p", "paragraph_id"],
                  ascending=[True, True, False, True])
    rows = rows.drop_duplicates(["narrative_id", "article_id"]).drop_duplicates(["narrative_id", "text"])
    rows = rows.groupby("narrative_id").head(k)
    meta = articles.set_index("article_id")
    thresholds = thresholds or {}
    out: dict[int, list[Evidence]] = {}
    for r in rows.itertuples():
        a = meta.loc[r.article_id]
        date = a["date"]
        source = _text(a["source"])
        out.setdefault(int(r.narrative_id), []).append(
            Evidence(
                text=r.text,
                outlet=_text(a["outlet"]),
                date=None if pd.isna(date) else str(pd.Timestamp(date).date()),
                author=_text(a.get("author")),
                title=_text(a["title"]),
                url=_text(a["url"]),
                source=None if source is None else _short_source(source),
                confidence=_confidence(r.probability, thresholds.get(int(r.narrative_id))),
            )
        )
    return out


def _confidence(typicality: object, threshold: float | None) -> str | None:
    """The confidence word of one assignment, None without a threshold or a typicality."""
    if threshold is None or typicality is None or pd.isna(typicality):
        return None
    return confidence(float(typicality), threshold)


def _short_source(source: str) -> str:
    """File name and line of an input record: no folder of the machine that built the report."""
    return Path(source).name


def _text(value: object) -> str | None:
    """A cell as text; None where it is missing."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)

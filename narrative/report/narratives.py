"""The report's part on each narrative: its size and share with the interval, its terms, its
sub-narratives and the paragraphs quoted as evidence, with where each came from.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .inputs import ReportInputs
from .model import Evidence, NarrativeSection

__all__ = ["evidence_by_narrative", "narrative_sections"]


def narrative_sections(
    inputs: ReportInputs, subnarratives: pd.DataFrame, evidence_per_narrative: int,
) -> list[NarrativeSection]:
    """One section per narrative shown, in the drift stage's order (the rest after, by id)."""
    subs = _subnarrative_lists(subnarratives)
    evidence = evidence_by_narrative(inputs.articles, inputs.paragraphs, inputs.assignments,
                                     evidence_per_narrative)
    descriptions = {n.get("name"): n.get("description") for n in inputs.stats.codebook}
    interval = inputs.overall.set_index("narrative")
    n_par = inputs.n_paragraphs
    sections = []
    for r in inputs.narratives.sort_values("narrative_id").itertuples():
        label = str(r.label)
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
            )
        )
    rank = {name: i for i, name in enumerate(inputs.order)}
    sections.sort(key=lambda s: rank.get(s.label, len(rank)))
    return sections


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
) -> dict[int, list[Evidence]]:
    """Each narrative's ``k`` most confident paragraphs, from distinct articles, originals first
    (one sort over all assignments, not one merge per narrative)."""
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
    rows = rows.drop_duplicates(["narrative_id", "article_id"]).groupby("narrative_id").head(k)
    meta = articles.set_index("article_id")
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
            )
        )
    return out


def _short_source(source: str) -> str:
    """File name and line of an input record: no folder of the machine that built the report."""
    return Path(source).name


def _text(value: object) -> str | None:
    """A cell as text; None where it is missing."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)

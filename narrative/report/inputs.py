"""What a report is computed from: one run's tables, read once from the store, and the numbers
every part of the report reads (narrative order and colours, what the corpus can show, each
narrative's share of the whole window, the date range of the time views).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..frames import isin
from .compute import Measured, is_shown, measure, overall_shares

if TYPE_CHECKING:
    from ..config import Settings
    from ..drift import DriftFrames
    from ..schema import RunStats
    from ..store import Store

__all__ = ["ReportInputs", "read_inputs"]


@dataclass
class ReportInputs:
    """One run's tables and the numbers derived from them that the report's parts share."""

    run_id: str
    run: dict[str, Any]  # the stored run: its settings and stats as recorded
    stats: RunStats  # the same stats, typed
    articles: pd.DataFrame
    paragraphs: pd.DataFrame
    assignments: pd.DataFrame
    narratives: pd.DataFrame  # the narratives shown (compute.is_shown), with their kind
    kinds: dict[str, str]  # narrative label -> kind
    order: list[str]  # narrative labels in the drift stage's order
    colors: dict[str, str]  # narrative label -> its colour in every figure
    measured: Measured  # what the corpus can show
    overall: pd.DataFrame  # each narrative's share of the whole window, with its interval
    left_out: pd.DataFrame  # articles with a suspicious date: out of the time views
    first: str | None  # first and last date of the time views (ISO), None when undated
    last: str | None

    @property
    def n_paragraphs(self) -> int:
        """Paragraphs assigned in the run (to a narrative or to none)."""
        return len(self.assignments)


def read_inputs(
    store: Store, run_id: str, drift: DriftFrames, settings: Settings,
) -> ReportInputs:
    """Read run ``run_id`` from ``store`` and derive what the report's parts share."""
    from ..figures import narrative_colors
    from ..saved_runs import narrative_table, run_stats

    stats = run_stats(store, run_id)
    articles = store.articles()
    narratives = narrative_table(store, run_id)
    narratives = narratives[[is_shown(str(r.label), int(r.size)) for r in narratives.itertuples()]]
    kinds = dict(zip(narratives["label"].astype(str), narratives["kind"].astype(str)))
    order = [n for n in drift.narrative_order if n in kinds]
    first, last = _time_window(articles, drift.left_out)
    return ReportInputs(
        run_id=run_id,
        run=store.run(run_id),
        stats=stats,
        articles=articles,
        paragraphs=store.paragraphs(),
        assignments=store.assignments(run_id),
        narratives=narratives,
        kinds=kinds,
        order=order,
        colors=narrative_colors(order, codebook=_codebook_names(stats, narratives)),
        measured=measure(drift, settings),
        overall=overall_shares(drift, settings, order),
        left_out=drift.left_out,
        first=first,
        last=last,
    )


def _time_window(articles: pd.DataFrame, left_out: pd.DataFrame) -> tuple[str | None, str | None]:
    """The first and last date of the time views: a suspicious date (0001-01-01) is left out."""
    dates = pd.to_datetime(articles["date"].where(~isin(articles["article_id"],
                                                        left_out["article_id"])), errors="coerce")
    if dates.isna().all():
        return None, None
    return str(dates.min().date()), str(dates.max().date())


def _codebook_names(run_stats: RunStats, narratives: pd.DataFrame) -> list[str]:
    """The codebook's narrative names in codebook order: the run's recorded codebook, else its
    named narratives by id (ids follow the codebook's order)."""
    names = [str(c.get("name")) for c in run_stats.codebook if c.get("name")]
    if names:
        return names
    named = narratives[narratives["kind"] == "named"].sort_values("narrative_id")
    return [str(n) for n in named["codebook_name"].fillna(named["label"])]

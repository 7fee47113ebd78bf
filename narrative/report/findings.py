"""The report's findings: plain sentences generated from the numbers, each with its uncertainty.

The lead (at most three sentences: the largest narratives, the largest change or what the data
cannot show, where outlets differ), the further findings, and the warnings shown at the top
(undated, suspiciously dated and rejected records). Nothing here draws or renders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..config import Settings
from ..schema import UNASSIGNED
from .compute import copy_contribution, copy_evidence
from .diffusion import lead_sentences
from .narratives import catch_all_sentence
from .power import detectable_sentence, windows_overlap
from .sections import (
    copies_sentence,
    emerging_sentences,
    stability_sentence,
    syndication_sentence,
)
from .text import count, interval, pct, pct_interval, shown_name

if TYPE_CHECKING:
    from ..drift import DriftFrames
    from .inputs import ReportInputs

__all__ = [
    "NARRATIVE_KINDS",
    "catch_all_sentences",
    "change_sentences",
    "coverage_sentences",
    "findings",
    "left_out_sentence",
    "outlet_difference_sentence",
    "top_narratives_sentence",
    "warning_sentences",
]

#: Kinds that are narratives (the rest, e.g. off-topic clusters, are kept apart in the findings).
NARRATIVE_KINDS = ("named", "discovered")
#: Copies count for at least this share of the paragraphs counted: said in the lead findings.
LARGE_COPY_SHARE = 0.1


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _latest_interval(shares: pd.DataFrame, narrative: str, outlet: str) -> str:
    """"; X% in the latest period, P (95% interval L–H%)" for a series' last usable cell, or ""."""
    if shares.empty or not {"ci_low", "ci_high"} <= set(shares.columns):
        return ""
    rows = shares[(shares["narrative"] == narrative) & (shares["outlet"] == outlet)]
    for flag in ("insufficient", "partial"):
        if flag in rows and not rows[flag].astype(bool).all():
            rows = rows[~rows[flag].astype(bool)]
    rows = rows.dropna(subset=["share"]).sort_values("period")
    if rows.empty:
        return ""
    last = rows.iloc[-1]
    return (f"; {pct(last['share'])} in the latest period, {last['period']}"
            + (f", 95% interval {span}" if (span := interval(last["ci_low"], last["ci_high"]))
               else ""))


def left_out_sentence(left_out: pd.DataFrame, shown: int = 3) -> str:
    """Why articles are missing from the time views: how many, which dates, the ingest's flag."""
    examples = [f"{r.date} ({str(r.reason).replace('_', ' ')})"
                for r in left_out.sort_values("date").drop_duplicates("date").head(shown).itertuples()]
    more = ", ..." if left_out["date"].nunique() > shown else ""
    n = len(left_out)
    return (f"{count(n, 'article')} {'has' if n == 1 else 'have'} a suspicious date "
            f"({', '.join(examples)}{more}, as flagged at ingest): {'it counts' if n == 1 else 'they count'} "
            "in the totals and outlet comparisons but not in the time views, and as undated in "
            "the coverage table.")


def top_narratives_sentence(overall: pd.DataFrame, kinds: dict[str, str], n_articles: int,
                            *, first: str | None, last: str | None) -> str | None:
    """The lead finding: the largest narratives with their share and 95% interval."""
    rows = overall[overall["narrative"].map(lambda n: kinds.get(n) in NARRATIVE_KINDS)]
    rows = rows.sort_values(["share", "narrative"], ascending=[False, True]).head(3)
    if rows.empty:
        return None
    parts = [f"{shown_name(r.narrative)} ({pct_interval(r.share, r.ci_low, r.ci_high)})"
             for r in rows.itertuples()]
    if len(parts) > 1:
        parts[-1] = "and " + parts[-1]
    window = f", {first} to {last}" if first and last and first != last else ""
    lead = "the most frequent narratives are " if len(parts) > 1 else "the most frequent narrative is "
    return (f"Across {count(n_articles, 'article')}{window}, " + lead
            + (", " if len(parts) > 2 else " ").join(parts) + " of the paragraphs.")


def outlet_difference_sentence(outlet_shares: pd.DataFrame, compared: list[str],
                               kinds: dict[str, str]) -> str | None:
    """The narrative on which two outlets differ most, over the whole window, counted only where
    their 95% intervals do not overlap (a difference beyond the uncertainty); None if none."""
    rows = outlet_shares[outlet_shares["outlet"].astype(str).isin(compared)
                         & outlet_shares["narrative"].map(lambda n: kinds.get(n) in NARRATIVE_KINDS)]
    rows = rows.dropna(subset=["share", "ci_low", "ci_high"])
    best = None
    for name, group in rows.groupby("narrative", sort=True):
        high, low = group.loc[group["share"].idxmax()], group.loc[group["share"].idxmin()]
        gap = float(high["share"] - low["share"])
        if high["ci_low"] > low["ci_high"] and (best is None or gap > best[0]):
            best = (gap, name, high, low)
    if best is None:
        return None
    _, name, high, low = best
    return (f"Outlets differ most on {shown_name(name)}: {pct(high['share'])} of the paragraphs in "
            f"{high['outlet']} (95% interval {interval(high['ci_low'], high['ci_high'])}) against "
            f"{pct(low['share'])} in {low['outlet']} "
            f"({interval(low['ci_low'], low['ci_high'])}), over the whole window.")


def change_sentences(drift: DriftFrames, period: str, limit: int,
                     kinds: dict[str, str] | None = None) -> list[str]:
    """The largest change points of narratives (not of off-topic clusters or unassigned), per
    outlet first (a change across all outlets can reflect outlets entering or leaving the
    collection), each with its latest interval."""
    changes = drift.changepoints.copy()
    if changes.empty:
        return []
    changes = changes[changes["narrative"].map(lambda n: _is_narrative(n, kinds))]
    changes = changes.assign(_all=changes["outlet"] == "all", _size=changes["magnitude"].abs())
    changes = changes.sort_values(["_all", "_size"], ascending=[True, False])
    out = []
    for cp in changes.head(limit).itertuples():
        whose = "all outlets'" if cp.outlet == "all" else f"{cp.outlet}'s"
        verb = "rose" if cp.direction == "up" else "fell"
        before, after = getattr(cp, "before", np.nan), getattr(cp, "after", np.nan)
        out.append(
            f"{shown_name(cp.narrative)} {verb} from {_pct(before)} to {_pct(after)} of {whose} paragraphs "
            f"from the {period} of {cp.period} on (mean share before vs after the change"
            f"{_latest_interval(drift.shares, cp.narrative, cp.outlet)})."
        )
    return out


def _is_narrative(name: str, kinds: dict[str, str] | None) -> bool:
    """Whether ``name`` is a narrative the findings speak of (not off-topic, not unassigned)."""
    if name == UNASSIGNED:
        return False
    return kinds is None or kinds.get(name, "discovered") in NARRATIVE_KINDS


def coverage_sentences(drift: DriftFrames, period: str) -> list[str]:
    """Undated articles left out of the time views, and how far the outlets' windows overlap."""
    coverage = drift.tables.get("coverage")
    if coverage is None or coverage.empty:
        return []
    out = []
    total = coverage[coverage["outlet"] == "all"]
    n_undated = int(total["n_undated"].iloc[0]) if len(total) else 0
    if n_undated:
        out.append(f"{count(n_undated, 'undated article')} {'is' if n_undated == 1 else 'are'} "
                   "counted in the totals but left out of the views over time.")
    if not windows_overlap(coverage):
        outlets = coverage[coverage["outlet"] != "all"].dropna(subset=["first_date"])
        start, end = outlets["first_date"].max(), outlets["last_date"].min()
        out.append(f"The outlets' collection windows do not all overlap (latest start "
                   f"{start}, earliest end {end}): compare two outlets only over the "
                   f"{period}s both cover.")
    return out


def findings(
    drift: DriftFrames, inputs: ReportInputs, settings: Settings, note: str | None,
) -> tuple[list[str], list[str]]:
    """The lead (at most three sentences: the largest narratives with their intervals, the
    largest change or what the data cannot show) and the further findings, plain sentences
    generated from the numbers; ``note`` says what the data cannot show, if anything."""
    from ..figures import syndication_counts

    articles, measured = inputs.articles, inputs.measured
    lead: list[str] = []
    more: list[str] = []
    top = top_narratives_sentence(inputs.overall, inputs.kinds, len(articles),
                                  first=inputs.first, last=inputs.last)
    if top:
        lead.append(top)
    # A catch-all qualifies the shares just stated: it comes right after them.
    lead += catch_all_sentences(inputs.narratives, inputs.stats.narratives)
    more += _unmatched_sentences(inputs.narratives, inputs.n_paragraphs)
    changes = (change_sentences(drift, settings.period, limit=6, kinds=inputs.kinds)
               if measured.time else [])
    differ = (outlet_difference_sentence(drift.outlet_shares, measured.compared, inputs.kinds)
              if measured.outlet_comparison else None)
    if changes:
        lead.append(changes[0])
        more += changes[1:]
    seen = (detectable_sentence(drift.tables.get("detectable"), settings.period,
                                pooled=windows_overlap(drift.tables.get("coverage")))
            if measured.time else None)
    if seen:
        more.append(seen)
    if note:
        lead.append(note)
    if differ:
        (lead if len(lead) < 3 else more).append(differ)
    if measured.time:
        emerging = drift.tables.get("emerging", pd.DataFrame())
        if "narrative" in emerging:
            emerging = emerging[emerging["narrative"].map(lambda n: _is_narrative(n, inputs.kinds))]
        more += emerging_sentences(emerging, settings.period, limit=2)
    more += lead_sentences(drift, inputs.kinds)
    copied = syndication_sentence(syndication_counts(articles), len(articles),
                                  copy_evidence(articles), articles)
    if copied:
        more.append(copied)
    share = copies_sentence(copy_contribution(drift, settings), settings.copies)
    if share:
        (lead if len(lead) < 3 and "copies" not in " ".join(lead) and
         _large_copy_share(drift, settings) else more).append(share)
    if inputs.run["stats"].get("stability"):
        more.append(stability_sentence(inputs.run["stats"]))
    more += coverage_sentences(drift, settings.period)
    return lead[:3], lead[3:] + more


def catch_all_sentences(narratives: pd.DataFrame, quality: dict[str, dict]) -> list[str]:
    """The warning of each narrative shown that the run flagged as a possible catch-all, largest
    first (``quality``: the run's per-narrative stats, by narrative id as text)."""
    out = []
    for r in narratives.sort_values(["size", "narrative_id"], ascending=[False, True]).itertuples():
        sentence = catch_all_sentence(str(r.label), quality.get(str(int(r.narrative_id)), {}))
        if sentence:
            out.append(sentence)
    return out


def _unmatched_sentences(narratives: pd.DataFrame, n_paragraphs: int) -> list[str]:
    """How much of the corpus is off the codebook's subject, and how much matches no narrative."""
    out = []
    other = narratives[~narratives["kind"].isin([*NARRATIVE_KINDS, "unassigned"])]
    if len(other) and n_paragraphs:
        out.append(f"{count(len(other), 'cluster')} off the codebook's subject "
                   f"({', '.join(other['label'].astype(str).head(3))}) "
                   f"{'holds' if len(other) == 1 else 'hold'} {pct(other['size'].sum() / n_paragraphs)} "
                   "of the paragraphs; they are not counted among the narratives above.")
    unassigned = int(narratives.loc[narratives["kind"] == "unassigned", "size"].sum())
    if unassigned and n_paragraphs:
        out.append(f"{pct(unassigned / n_paragraphs)} of paragraphs match no narrative "
                   f"(reported as '{UNASSIGNED}').")
    return out


def _large_copy_share(drift: DriftFrames, settings: Settings) -> bool:
    """Whether syndicated copies make up :data:`LARGE_COPY_SHARE` or more of the paragraphs
    counted in the shares."""
    contribution = copy_contribution(drift, settings)
    counted = contribution.attrs.get("counted", 0.0)
    return bool(counted) and contribution.attrs.get("from_copies", 0.0) / counted >= LARGE_COPY_SHARE


def warning_sentences(corpus: dict[str, object], left_out: pd.DataFrame) -> list[str]:
    """The warnings at the top of the report: articles without a date or with a suspicious one,
    and input records rejected."""
    warnings = []
    if corpus["Undated articles"]:
        n = corpus["Undated articles"]
        warnings.append(f"{count(n, 'article')} {'has' if n == 1 else 'have'} no date: "
                        f"{'it counts' if n == 1 else 'they count'} in the totals but not in "
                        "the time views.")
    if len(left_out):
        warnings.append(left_out_sentence(left_out))
    if corpus["Rejected records"]:
        warnings.append(f"{count(corpus['Rejected records'], 'input record')} "
                        f"{'was' if corpus['Rejected records'] == 1 else 'were'} rejected; "
                        "see the store's rejects table.")
    return warnings

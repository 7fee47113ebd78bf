"""The numbers the report needs beyond the drift tables, and what the data can and cannot show.

Pure functions over the drift frames: which views the corpus can fill (:func:`measure`), the
sentence that says once what cannot be measured and why (:func:`thin_data_note`), each
narrative's share of the whole window with its interval (:func:`overall_shares`), how much of
each share comes from syndicated copies (:func:`copy_contribution`) and how each copy's direction
was decided (:func:`copy_evidence`). Nothing here draws or renders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..schema import UNASSIGNED
from .text import count, join_words, plural

if TYPE_CHECKING:
    from ..config import Settings
    from ..drift import DriftFrames

__all__ = [
    "COPY_EVIDENCE",
    "Measured",
    "copy_contribution",
    "copy_evidence",
    "measure",
    "overall_shares",
    "thin_data_note",
]

ALL = "all"
#: How the ingest decided which of two copies is the original (``articles.meta["copy_evidence"]``).
COPY_EVIDENCE = ("text", "date", "order", "unknown")


@dataclass
class Measured:
    """What the corpus can show, from the drift shares and ``min_articles``.

    A period or outlet is usable when it holds at least ``min_articles`` articles (the drift
    stage's ``insufficient`` flag is off): only then does its share come with an interval.
    """

    min_articles: int
    period: str
    n_periods: int = 0  # periods of the whole corpus with a dated article
    usable_periods: int = 0  # ... with at least min_articles articles
    outlets: list[str] = field(default_factory=list)  # every outlet, largest first
    compared: list[str] = field(default_factory=list)  # outlets with min_articles articles or more
    over_time: list[str] = field(default_factory=list)  # outlets with a usable period
    outlet_trends: bool = False  # some outlet has two usable periods or more

    @property
    def time(self) -> bool:
        """Whether shares over time can be shown: two usable periods at least."""
        return self.usable_periods >= 2

    @property
    def outlet_comparison(self) -> bool:
        """Whether outlets can be compared over the whole window: two of them with enough articles."""
        return len(self.compared) >= 2

    @property
    def not_over_time(self) -> list[str]:
        """Outlets left out of the per-outlet time view: no period with enough articles."""
        return [o for o in self.outlets if o not in self.over_time]

    @property
    def not_compared(self) -> list[str]:
        return [o for o in self.outlets if o not in self.compared]


def _usable(frame: pd.DataFrame) -> pd.Series:
    if "insufficient" not in frame:
        return pd.Series(True, index=frame.index)
    return ~frame["insufficient"].fillna(True).astype(bool)


def measure(drift: "DriftFrames", settings: "Settings") -> Measured:
    """Which of the report's views the corpus can fill (see :class:`Measured`)."""
    out = Measured(min_articles=settings.min_articles, period=settings.period)
    shares = drift.shares
    labelled = drift.paragraphs
    if len(labelled):
        sizes = labelled.drop_duplicates("article_id")["outlet"].astype(str).value_counts()
        out.outlets = sorted(sizes.index, key=lambda o: (-int(sizes[o]), o))
    if len(shares):
        cells = shares.drop_duplicates(["period", "outlet"]).assign(
            outlet=lambda f: f["outlet"].astype(str))
        cells = cells.assign(_ok=_usable(cells))
        whole = cells[cells["outlet"] == ALL]
        out.n_periods = int(len(whole))
        out.usable_periods = int(whole["_ok"].sum())
        per_outlet = cells[cells["outlet"] != ALL].groupby("outlet")["_ok"].sum()
        out.over_time = [o for o in out.outlets if per_outlet.get(o, 0) >= 1]
        out.outlet_trends = bool((per_outlet >= 2).any())
    by_outlet = drift.outlet_shares
    if len(by_outlet):
        measured = by_outlet.dropna(subset=["share"])["outlet"].astype(str)
        out.compared = [o for o in out.outlets if o in set(measured) and o != ALL]
    return out


def thin_data_note(measured: Measured, n_articles: int) -> str | None:
    """One plain sentence on what this corpus cannot show and why, or None when it can show
    everything. Said once, at the top; the views it names are left out of the report."""
    k, period = measured.min_articles, measured.period
    several = len(measured.outlets) > 1
    enough = f"{k} or more articles"
    holds, cannot = [], []
    if not measured.time:
        n = measured.usable_periods
        weeks = count(measured.n_periods, "dated " + period)
        holds.append("no article is dated" if measured.n_periods == 0 else
                     f"none of the {weeks} holds {enough}" if n == 0 else
                     f"only {n} of the {weeks} {'holds' if n == 1 else 'hold'} {enough}")
        cannot += ["shares over time", "change points", "divergence"]
    if several and not measured.outlet_comparison:
        who = "no outlet" if not measured.compared else f"only {measured.compared[0]}"
        holds.append(f"{who} {'does' if holds and measured.n_periods else 'has ' + enough}")
        cannot.append("outlet comparisons")
    elif several and measured.time and not measured.outlet_trends:
        holds.append(f"no outlet has two {plural(2, period)} of {enough}")
        cannot.append("each outlet's shares over time")
    if not holds:
        return None
    instead = ("shares over the whole window, with 95% intervals," if not measured.time
               else "what it can measure")
    return (f"With {count(n_articles, 'article')}, {join_words(holds)} ({k} is the fewest a "
            f"share with an interval needs, setting min_articles): {join_words(cannot)} cannot "
            f"be measured, so the report shows {instead} instead.")


def _kept(drift: "DriftFrames", copies: str) -> pd.DataFrame:
    from ..drift.shares import select_copies

    return select_copies(drift.paragraphs, copies)


def overall_shares(drift: "DriftFrames", settings: "Settings",
                   narratives: list[str]) -> pd.DataFrame:
    """Each narrative's share of the whole corpus over the whole window, with a 95% bootstrap
    interval over articles (columns narrative, share, ci_low, ci_high, n_articles).

    Uses the drift stage's own row for outlet ``all`` when its ``outlet_shares`` holds one;
    else computes it the same way (:func:`narrative.drift.outlet_shares`) from the labelled
    paragraphs, with the run's copies and weighting (hard shares). Fewer than ``min_articles``
    articles: shares without an interval.
    """
    from ..drift import outlet_shares

    stored = drift.outlet_shares
    if len(stored) and (stored["outlet"].astype(str) == ALL).any():
        rows = stored[stored["outlet"].astype(str) == ALL]
    else:
        kept = _kept(drift, settings.copies).assign(outlet=ALL)
        if kept.empty:
            return pd.DataFrame(columns=["narrative", "share", "ci_low", "ci_high", "n_articles"])
        rows = outlet_shares(kept, narratives=narratives, weighting=settings.weighting,
                             min_articles=1, n_bootstrap=settings.n_bootstrap, seed=settings.seed)
        if rows["n_articles"].max() < settings.min_articles:
            rows = rows.assign(ci_low=np.nan, ci_high=np.nan)
    rows = rows[rows["narrative"].isin(narratives)]
    return rows[["narrative", "share", "ci_low", "ci_high", "n_articles"]].reset_index(drop=True)


def copy_contribution(drift: "DriftFrames", settings: "Settings") -> pd.DataFrame:
    """How much of each narrative's share comes from syndicated copies, under the ``copies``
    setting in force: of the paragraphs counted (weighted as the shares are), the part whose
    article is a copy of another (``duplicate_of`` set).

    Columns: narrative, counted, from_copies, copy_share (0-1). ``attrs``: counted, from_copies,
    copy_articles (copies still counted) for the whole corpus.
    """
    columns = ["narrative", "counted", "from_copies", "copy_share"]
    kept = _kept(drift, settings.copies)
    if kept.empty or "duplicate_of" not in kept:
        out = pd.DataFrame(columns=columns)
        out.attrs.update(counted=0.0, from_copies=0.0, copy_articles=0)
        return out
    weight = np.ones(len(kept))
    if settings.weighting == "article":
        weight = 1.0 / kept.groupby("article_id")["paragraph_id"].transform("size").to_numpy()
    is_copy = kept["duplicate_of"].notna().to_numpy()
    frame = pd.DataFrame({"narrative": kept["narrative"].astype(str).to_numpy(),
                          "counted": weight, "from_copies": np.where(is_copy, weight, 0.0)})
    out = frame.groupby("narrative", sort=False)[["counted", "from_copies"]].sum().reset_index()
    out["copy_share"] = out["from_copies"] / out["counted"].where(out["counted"] > 0)
    out.attrs.update(counted=float(weight.sum()), from_copies=float(weight[is_copy].sum()),
                     copy_articles=int(kept.loc[is_copy, "article_id"].nunique()))
    return out[columns]


def copy_evidence(articles: pd.DataFrame) -> pd.Series:
    """For each copy (``duplicate_of`` set), how the ingest decided which article is the
    original, from ``meta["copy_evidence"]``: ``text`` (a line such as "first published in"),
    ``date``, ``order`` (input order) or ``unknown``. A copy stored without it (an older store)
    reads ``unknown``: nothing recorded says which came first."""
    copies = articles[articles["duplicate_of"].notna()]
    values = copies["meta"].map(_evidence) if "meta" in copies else pd.Series(
        "unknown", index=copies.index)
    return pd.Series(values.to_numpy(), index=copies["article_id"].to_numpy(), dtype=object)


def _evidence(meta: object) -> str:
    try:
        value = json.loads(meta) if isinstance(meta, str) else meta
    except ValueError:
        return "unknown"
    found = value.get("copy_evidence") if isinstance(value, dict) else None
    return str(found) if found in COPY_EVIDENCE else "unknown"


def is_shown(name: str, size: int) -> bool:
    """Whether a narrative appears in the report: ``unassigned`` only when it holds paragraphs."""
    return name != UNASSIGNED or size > 0

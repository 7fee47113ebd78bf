"""The report's overview figures: the first chart, shares over time, and outlets compared.

One figure per question a reader asks: how large is each narrative (with its interval); how did
the shares move over time; how do the outlets differ, over the whole window and week by week.
Each builder draws only what the corpus can fill (:class:`.compute.Measured`) and returns None
for a view it cannot; many narratives or outlets are paged into several figures of one size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from .cache import Plot
from .compute import Measured
from .model import Section
from .text import count, join_words, pct, shown_name

if TYPE_CHECKING:
    from ..config import Settings
    from ..drift import DriftFrames
    from .sections import AddFigure

__all__ = ["headline_figure", "outlet_section", "pages", "shown_rows", "time_section"]

_THIN = ("Hollow points are thin: {period}s with fewer than {k}, or the first and "
         "last {period}s an outlet was only partly collected; they are shown but not joined to "
         "the line and have no band.")


def shown_rows(frame: pd.DataFrame, mask: pd.Series | None = None) -> pd.DataFrame:
    """The rows a figure draws, renumbered and without ``attrs``: a figure's cache fingerprint
    then covers exactly what it shows, so rows added elsewhere (a new week, another narrative's
    shares) do not force it to be drawn again."""
    rows = (frame if mask is None else frame[mask]).reset_index(drop=True)
    rows.attrs = {}
    return rows


def pages(items: list[str], per_page: int) -> list[list[str]]:
    """``items`` in consecutive groups of at most ``per_page``, as even in size as they can be
    (9 outlets at 4 a page: 3, 3, 3, not 4, 4, 1)."""
    if not items:
        return []
    n = math.ceil(len(items) / per_page)
    size = math.ceil(len(items) / n)
    return [items[i:i + size] for i in range(0, len(items), size)]


def _page_key(key: str, i: int) -> str:
    return key if i == 0 else f"{key}-{i + 1}"


def _page_title(title: str, i: int, n: int) -> str:
    return title if n == 1 else f"{title} ({i + 1} of {n})"


def _copies_phrase(copies: str) -> str:
    return (" (a syndicated copy counts for each outlet that ran it)" if copies == "per_outlet"
            else " (a syndicated story counts once)")


def headline_figure(
    overall: pd.DataFrame, add: "AddFigure", colors: Mapping[str, str], settings: "Settings", *,
    kinds: Mapping[str, str], first: str | None, last: str | None, limit: int,
) -> str | None:
    """The first chart: each narrative's share of the whole window with its 95% interval (the
    largest ``limit``; clusters off the codebook's subject are left to the Narratives section);
    its key, or None when nothing was assigned."""
    from ..figures import plot_share_intervals

    overall = overall[overall["narrative"].map(lambda n: kinds.get(n) != "off-topic")]
    if overall.empty or overall["share"].isna().all():
        return None
    ranked = overall.sort_values(["share", "narrative"], ascending=[False, True])
    shown, rest = ranked.head(limit), ranked.iloc[limit:]
    window = f", {first} to {last}" if first and last else ""
    caption = (f"Share of the paragraphs{_copies_phrase(settings.copies)} per narrative over the "
               f"whole window{window}; lines: 95% bootstrap intervals over articles.")
    if len(rest) == 1:
        caption += (f" The other narrative, {shown_name(rest['narrative'].iloc[0])}, holds "
                    f"{pct(rest['share'].iloc[0])} (see Narratives).")
    elif len(rest):
        caption += (f" The other {len(rest)} narratives hold {pct(rest['share'].sum())} "
                    "together (see Narratives).")
    if shown["ci_low"].isna().all():
        caption += (f" No interval: fewer than {count(settings.min_articles, 'article')} in all "
                    "(hollow points).")
    add("headline", Plot(plot_share_intervals, (shown_rows(shown[["narrative", "share", "ci_low",
                                                                "ci_high"]]),),
                         {"colors": dict(colors)}),
        "Narrative shares", caption)
    return "headline"


def time_section(
    drift: "DriftFrames", add: "AddFigure", colors: Mapping[str, str], order: list[str],
    settings: "Settings", measured: Measured, *, per_page: int, off_topic: Sequence[str] = (),
) -> Section | None:
    """Shares of all outlets per period, one panel per narrative (paged); None when fewer than
    two periods have enough articles. ``off_topic`` clusters, left out of ``order``, are named."""
    from ..figures import plot_share_over_time

    if not measured.time:
        return None
    shares = drift.shares
    rows = shares[(shares["outlet"].astype(str) == "all") & shares["narrative"].isin(order)]
    period = settings.period
    keys = []
    groups = pages(order, per_page)
    for i, group in enumerate(groups):
        key = _page_key("share-over-time", i)
        title = _page_title("Narrative share over time \u2014 all outlets", i, len(groups))
        add(key, Plot(plot_share_over_time, (shown_rows(rows[rows["narrative"].isin(group)]),),
                      {"outlet": "all", "narratives": group, "colors": dict(colors),
                       "layout": "panels", "title": title}),
            title,
            f"Share of all outlets' paragraphs per {period}, with 95% bootstrap intervals over "
            "articles (bands). " + _THIN.format(period=period, k=count(settings.min_articles, "article")))
        keys.append(key)
    text = [f"How each narrative's share of the paragraphs moved {period} by {period}, across "
            f"all outlets: {measured.usable_periods} of the {count(measured.n_periods, period)} "
            f"hold {settings.min_articles} or more articles." + _off_topic_note(off_topic)]
    return Section("time", "Shares over time", text, keys)


def _off_topic_note(off_topic: Sequence[str]) -> str:
    """The sentence saying which off-topic clusters the charts leave out ('' when none)."""
    if not off_topic:
        return ""
    names = join_words([f"\u201c{n}\u201d" for n in off_topic])
    return (f" Off the codebook's subject and left out of these charts: {names} "
            "(their shares are in shares.csv).")


def outlet_section(
    drift: "DriftFrames", add: "AddFigure", colors: Mapping[str, str], order: list[str],
    settings: "Settings", measured: Measured, *, per_page: int, rows: int, heatmap_rows: int,
    off_topic: Sequence[str] = (),
) -> Section | None:
    """Outlets compared: their shares over the whole window (a heatmap with intervals where it
    has room), then each outlet's shares over time (paged by outlets); None when neither can
    be measured."""
    from ..figures import plot_outlet_heatmap, plot_outlet_small_multiples

    if not (measured.outlet_comparison or measured.outlet_trends):
        return None
    period, k = settings.period, settings.min_articles
    text = ["How the outlets differ: each outlet's share of each narrative over the whole window, "
            f"then {period} by {period}." + _off_topic_note(off_topic)]
    keys: list[str] = []
    if measured.outlet_comparison:
        whole = drift.outlet_shares
        whole = whole[whole["outlet"].astype(str).isin(measured.compared)
                      & whole["narrative"].isin(order)]
        groups = pages(order, heatmap_rows)
        left = measured.not_compared
        for i, group in enumerate(groups):
            key = _page_key("outlet-heatmap", i)
            title = _page_title("Outlets compared over the whole window", i, len(groups))
            add(key, Plot(plot_outlet_heatmap, (shown_rows(whole[whole["narrative"].isin(group)]),),
                          {"narratives": group, "outlets": measured.compared, "title": title}),
                title,
                "Share of each outlet's paragraphs per narrative over the whole window; where the "
                "grid has room each cell gives its 95% interval under the share (all intervals: "
                "outlet_shares.csv)."
                + (f" Left out, with fewer than {count(k, 'article')}: {join_words(left)}."
                   if left else ""))
            keys.append(key)
    if measured.outlet_trends:
        followed = [n for n in order if n != "unassigned"][:rows]
        rest = len([n for n in order if n != "unassigned"]) - len(followed)
        shares = drift.shares
        shares = shares[(shares["outlet"].astype(str) != "all") & shares["narrative"].isin(followed)]
        groups = pages(measured.over_time, per_page)
        for i, group in enumerate(groups):
            key = _page_key("share-by-outlet", i)
            title = _page_title("Narrative share by outlet over time", i, len(groups))
            add(key, Plot(plot_outlet_small_multiples,
                          (shown_rows(shares[shares["outlet"].astype(str).isin(group)]),),
                          {"narratives": followed, "colors": dict(colors), "outlets": group,
                           "max_narratives": rows, "title": title}),
                title,
                f"One row per narrative, one column per outlet: share of the outlet's paragraphs "
                f"per {period} with 95% bands; rows share a scale. "
                + _THIN.format(period=period, k=count(k, "article"))
                + (" The other narrative is in shares.csv." if rest == 1 else
                   f" The other {rest} narratives are in shares.csv." if rest > 1 else "")
                + (f" Left out, with no {period} of {k} or more articles: "
                   f"{join_words(measured.not_over_time)}." if measured.not_over_time else ""))
            keys.append(key)
    return Section("outlets", "Outlets compared", text, keys)

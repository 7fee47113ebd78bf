"""Narrative weights by outlet and period, with bootstrap intervals over articles.

Pure functions over DataFrames. Unassigned paragraphs (narrative ``unassigned``) are a share of
their own, never dropped, so shares in a cell sum to one.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .schema import SHARES_COLUMNS, UNASSIGNED, UNASSIGNED_ID

Period = Literal["day", "week", "month"]
ALL_OUTLETS = "all"


def period_start(dates: pd.Series, period: Period = "week") -> pd.Series:
    """ISO date (``YYYY-MM-DD``) of the first day of each date's period; weeks start on Monday.

    Missing dates stay missing.
    """
    ts = pd.to_datetime(dates, errors="coerce")
    if period == "day":
        start = ts.dt.normalize()
    elif period == "week":
        start = ts.dt.normalize() - pd.to_timedelta(ts.dt.day_of_week, unit="D")
    elif period == "month":
        start = ts.dt.to_period("M").dt.start_time
    else:
        raise ValueError(f"period must be 'day', 'week' or 'month'; got {period!r}")
    out = start.dt.strftime("%Y-%m-%d").astype(object)
    out[ts.isna()] = None
    return out


def labelled_paragraphs(
    articles: pd.DataFrame,
    paragraphs: pd.DataFrame,
    assignments: pd.DataFrame,
    narratives: pd.DataFrame,
    *,
    period: Period = "week",
) -> pd.DataFrame:
    """One row per assigned paragraph: paragraph_id, article_id, outlet, date, period, narrative."""
    names = dict(zip(narratives["narrative_id"], narratives["label"]))
    names[UNASSIGNED_ID] = UNASSIGNED
    frame = assignments[["paragraph_id", "narrative_id"]].merge(
        paragraphs[["paragraph_id", "article_id"]], on="paragraph_id", how="inner"
    )
    frame = frame.merge(articles[["article_id", "outlet", "date"]], on="article_id", how="left")
    frame["outlet"] = frame["outlet"].fillna("(unknown outlet)")
    frame["narrative"] = frame["narrative_id"].map(names).fillna(UNASSIGNED)
    frame["period"] = period_start(frame["date"], period)
    return frame.sort_values(["article_id", "paragraph_id"]).reset_index(drop=True)


def _article_counts(cell: pd.DataFrame, narratives: list[str], weighting: str) -> np.ndarray:
    """Articles × narratives matrix of paragraph counts (or per-article fractions)."""
    table = pd.crosstab(cell["article_id"], cell["narrative"]).reindex(columns=narratives, fill_value=0)
    counts = table.to_numpy(dtype=float)
    if weighting == "article":
        counts = counts / counts.sum(axis=1, keepdims=True)
    elif weighting != "paragraph":
        raise ValueError(f"weighting must be 'paragraph' or 'article'; got {weighting!r}")
    return counts


def bootstrap_shares(
    counts: np.ndarray, *, n_bootstrap: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shares and percentile intervals from resampling the rows (articles) with replacement."""
    total = counts.sum(axis=0)
    share = total / total.sum()
    k = counts.shape[0]
    if n_bootstrap <= 0 or k < 2:
        nan = np.full_like(share, np.nan)
        return share, nan, nan
    draws = rng.integers(0, k, size=(n_bootstrap, k))
    sums = counts[draws].sum(axis=1)  # n_bootstrap × narratives
    boot = sums / sums.sum(axis=1, keepdims=True)
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    return share, low, high


def narrative_shares(
    paragraphs: pd.DataFrame,
    *,
    narratives: list[str] | None = None,
    weighting: Literal["paragraph", "article"] = "paragraph",
    n_bootstrap: int = 200,
    min_articles: int = 3,
    seed: int = 0,
    include_all: bool = True,
) -> pd.DataFrame:
    """Share of each narrative per (period, outlet), plus ``outlet == "all"`` per period.

    ``paragraphs`` comes from :func:`labelled_paragraphs`. Paragraphs without a period (undated
    articles) are left out of the time view. Every narrative appears in every cell (zero shares
    included). Cells with fewer than ``min_articles`` articles are marked ``insufficient`` and get
    no interval. Intervals: percentile bootstrap over articles, seeded.
    """
    names = narratives or sorted(paragraphs["narrative"].unique().tolist())
    dated = paragraphs[paragraphs["period"].notna()]
    rng = np.random.default_rng(seed)
    groups = [((p, o), cell) for (p, o), cell in dated.groupby(["period", "outlet"], sort=True)]
    if include_all:
        groups += [((p, ALL_OUTLETS), cell) for p, cell in dated.groupby("period", sort=True)]
    rows = []
    for (period, outlet), cell in groups:
        counts = _article_counts(cell, names, weighting)
        n_articles = counts.shape[0]
        share, low, high = bootstrap_shares(counts, n_bootstrap=n_bootstrap, rng=rng)
        insufficient = n_articles < min_articles
        for j, name in enumerate(names):
            rows.append(
                {
                    "period": period,
                    "outlet": outlet,
                    "narrative": name,
                    "share": float(share[j]),
                    "ci_low": np.nan if insufficient else float(low[j]),
                    "ci_high": np.nan if insufficient else float(high[j]),
                    "n_articles": int(n_articles),
                    "n_paragraphs": int(len(cell)),
                    "insufficient": bool(insufficient),
                }
            )
    columns = SHARES_COLUMNS + ["n_paragraphs", "insufficient"]
    return pd.DataFrame(rows, columns=columns).sort_values(
        ["period", "outlet", "narrative"], ignore_index=True
    )


def outlet_shares(
    paragraphs: pd.DataFrame,
    *,
    narratives: list[str] | None = None,
    weighting: Literal["paragraph", "article"] = "paragraph",
    min_articles: int = 3,
) -> pd.DataFrame:
    """Share of each narrative per outlet over the whole corpus (dated or not).

    Columns: outlet, narrative, share, n_articles; share is NaN where the outlet has fewer than
    ``min_articles`` articles.
    """
    names = narratives or sorted(paragraphs["narrative"].unique().tolist())
    rows = []
    for outlet, cell in paragraphs.groupby("outlet", sort=True):
        counts = _article_counts(cell, names, weighting)
        total = counts.sum(axis=0)
        share = total / total.sum()
        enough = counts.shape[0] >= min_articles
        for j, name in enumerate(names):
            rows.append(
                {
                    "outlet": outlet,
                    "narrative": name,
                    "share": float(share[j]) if enough else np.nan,
                    "n_articles": int(counts.shape[0]),
                }
            )
    return pd.DataFrame(rows, columns=["outlet", "narrative", "share", "n_articles"])


def change_points(shares: pd.DataFrame, *, min_segment: int = 2, z: float = 2.5) -> pd.DataFrame:
    """One step change per (narrative, outlet) series where the data support it.

    For every split of the period series into two segments of at least ``min_segment`` periods,
    compare the mean share after and before; the split with the largest standardised difference is
    reported if it exceeds ``z`` standard errors (from the per-period bootstrap intervals, or the
    binomial variance where intervals are missing). Columns: narrative, outlet, period (first
    period after the change), direction (``up``/``down``), magnitude (after − before).
    """
    rows = []
    usable = shares[~shares.get("insufficient", False)]
    for (narrative, outlet), series in usable.groupby(["narrative", "outlet"], sort=True):
        series = series.sort_values("period")
        values = series["share"].to_numpy(dtype=float)
        n = len(values)
        if n < 2 * min_segment:
            continue
        half_width = ((series["ci_high"] - series["ci_low"]) / 2 / 1.96).to_numpy(dtype=float)
        binom = np.sqrt(values * (1 - values) / np.maximum(series["n_paragraphs"].to_numpy(float), 1))
        se = np.where(np.isfinite(half_width) & (half_width > 0), half_width, binom)
        se = np.maximum(se, 0.01)
        best, best_stat = None, 0.0
        for t in range(min_segment, n - min_segment + 1):
            before, after = values[:t], values[t:]
            diff = after.mean() - before.mean()
            err = np.sqrt((se[:t] ** 2).sum() / t**2 + (se[t:] ** 2).sum() / (n - t) ** 2)
            stat = abs(diff) / err
            if stat > best_stat:
                best, best_stat = (t, diff), stat
        if best is not None and best_stat >= z:
            t, diff = best
            rows.append(
                {
                    "narrative": narrative,
                    "outlet": outlet,
                    "period": series["period"].iloc[t],
                    "direction": "up" if diff > 0 else "down",
                    "magnitude": float(diff),
                }
            )
    return pd.DataFrame(rows, columns=["narrative", "outlet", "period", "direction", "magnitude"])

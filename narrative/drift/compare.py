"""Outlets against each other: coverage windows, and over/under-weighting with intervals.

Outlets are often collected over different date ranges; comparing their shares over all their
articles would confound outlet with time. So every comparison here uses only the periods in which
both sides have dated articles, and says which periods those were. Who carried a narrative first
is :mod:`narrative.drift_diffusion` (``lead_lag`` is re-exported here, where it used to live).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..frames import isin
from .diffusion import lead_lag
from .shares import ALL_OUTLETS, article_matrix, resampled_sums, select_copies

__all__ = ["compare_groups", "coverage_note", "coverage_table", "lead_lag", "outlet_comparison",
           "overlap_periods"]

_Z95 = 1.959964


def coverage_table(
    labelled: pd.DataFrame, kept: pd.DataFrame | None = None, *, period: str | None = None
) -> pd.DataFrame:
    """Each outlet's collection window, and ``all``: first/last dated article and period, counts.

    ``labelled`` is every labelled paragraph; ``kept`` the ones left after dropping copies (to
    count dropped copies). Columns: outlet, first_date, last_date, first_period, last_period,
    n_periods (periods with articles), n_articles, n_dated, n_undated, n_copies_dropped.
    ``attrs["note"]`` is a sentence on undated articles and on how far the windows overlap.
    """
    kept = labelled if kept is None else kept
    arts = labelled.drop_duplicates("article_id")
    kept_ids = set(kept["article_id"])
    rows = []
    groups = [(o, g) for o, g in arts.groupby("outlet", sort=True)] + [(ALL_OUTLETS, arts)]
    for outlet, g in groups:
        dates = pd.to_datetime(g["date"], errors="coerce")
        dated = dates.notna()
        kept_g = g[isin(g["article_id"], kept_ids)]
        rows.append(
            {
                "outlet": outlet,
                "first_date": dates.min().date() if dated.any() else None,
                "last_date": dates.max().date() if dated.any() else None,
                "first_period": kept_g["period"].dropna().min() if dated.any() else None,
                "last_period": kept_g["period"].dropna().max() if dated.any() else None,
                "n_periods": int(kept_g["period"].nunique()),
                "n_articles": int(len(g)),
                "n_dated": int(dated.sum()),
                "n_undated": int((~dated).sum()),
                "n_copies_dropped": int(len(g) - len(kept_g)),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["note"] = coverage_note(out, period=period or labelled.attrs.get("period", "week"))
    return out


def coverage_note(coverage: pd.DataFrame, *, period: str = "week") -> str:
    """One or two sentences: undated articles left out of time views; overlap of the windows."""
    outlets = coverage[coverage["outlet"] != ALL_OUTLETS].dropna(subset=["first_date"])
    total = coverage.loc[coverage["outlet"] == ALL_OUTLETS]
    parts = []
    n_undated = int(total["n_undated"].iloc[0]) if len(total) else 0
    if n_undated:
        parts.append(
            f"{n_undated} undated article(s) are counted in totals but left out of the {period}ly views."
        )
    if len(outlets) > 1:
        start, end = outlets["first_date"].max(), outlets["last_date"].min()
        if start <= end:
            parts.append(
                f"All {len(outlets)} outlets were collected between {start} and {end}; outlet "
                "comparisons use only the periods in which both sides have articles."
            )
        else:
            parts.append(
                f"The outlets' collection windows do not all overlap (latest start {start}, "
                f"earliest end {end}); each outlet comparison uses only the periods in which both "
                "sides have articles, listed with it."
            )
    return " ".join(parts)


def overlap_periods(meta: pd.DataFrame, a: Sequence[str], b: Sequence[str]) -> list[str]:
    """Periods in which outlets ``a`` and outlets ``b`` both have dated articles."""
    dated = meta[meta["period"].notna()]
    pa = set(dated.loc[isin(dated["outlet"], a), "period"])
    pb = set(dated.loc[isin(dated["outlet"], b), "period"])
    return sorted(pa & pb)


def _pooled(matrix: np.ndarray) -> np.ndarray:
    total = matrix.sum(axis=0)
    return total / total.sum() if total.sum() > 0 else np.full(matrix.shape[1], np.nan)


def _boot_pooled(matrix: np.ndarray, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    draws = rng.integers(0, len(matrix), size=(n_bootstrap, len(matrix)))
    sums = resampled_sums(matrix, draws)
    return sums / np.maximum(sums.sum(axis=1, keepdims=True), 1e-12)


def compare_groups(
    labelled: pd.DataFrame,
    a: Sequence[str],
    b: Sequence[str],
    *,
    narratives: list[str],
    weighting: str = "paragraph",
    distribution: pd.DataFrame | None = None,
    n_bootstrap: int = 200,
    min_articles: int = 3,
    seed: int = 0,
    meta_matrix: tuple[pd.DataFrame, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Share of each narrative in outlets ``a`` minus its share in outlets ``b``, over their
    overlapping periods, with a 95% bootstrap interval (articles resampled within each side).

    Columns: narrative, share_a, share_b, difference, ci_low, ci_high, ratio (share_a/share_b),
    n_articles_a, n_articles_b, overlap_first, overlap_last, n_overlap_periods, insufficient.
    """
    meta, matrix = meta_matrix or article_matrix(
        labelled, narratives, weighting=weighting, distribution=distribution  # type: ignore[arg-type]
    )
    periods = overlap_periods(meta, a, b)
    in_window = isin(meta["period"], periods)
    ma = matrix[in_window & isin(meta["outlet"], a)]
    mb = matrix[in_window & isin(meta["outlet"], b)]
    insufficient = len(ma) < min_articles or len(mb) < min_articles
    share_a, share_b = _pooled(ma), _pooled(mb)
    low = high = np.full(len(narratives), np.nan)
    if not insufficient and n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        diff = _boot_pooled(ma, n_bootstrap, rng) - _boot_pooled(mb, n_bootstrap, rng)
        low, high = np.quantile(diff, [0.025, 0.975], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = share_a / share_b
    return pd.DataFrame(
        {
            "narrative": narratives,
            "share_a": share_a,
            "share_b": share_b,
            "difference": share_a - share_b,
            "ci_low": low,
            "ci_high": high,
            "ratio": ratio,
            "n_articles_a": len(ma),
            "n_articles_b": len(mb),
            "overlap_first": periods[0] if periods else None,
            "overlap_last": periods[-1] if periods else None,
            "n_overlap_periods": len(periods),
            "insufficient": insufficient,
        }
    )


def outlet_comparison(
    labelled: pd.DataFrame,
    *,
    narratives: list[str],
    weighting: str = "paragraph",
    distribution: pd.DataFrame | None = None,
    n_bootstrap: int = 200,
    min_articles: int = 3,
    seed: int = 0,
    copies: str | None = None,
) -> pd.DataFrame:
    """Which outlets over- or under-weight each narrative relative to all the other outlets.

    For each outlet, :func:`compare_groups` against the rest over their overlapping periods.
    Columns: outlet, narrative, share, rest_share, difference, ci_low, ci_high, weighting
    (``over``/``under`` where the interval excludes 0, else ``""``), ratio, n_articles,
    n_rest_articles, overlap_first, overlap_last, n_overlap_periods, insufficient.
    """
    if copies is not None:
        labelled = select_copies(labelled, copies)  # type: ignore[arg-type]
    meta_matrix = article_matrix(
        labelled, narratives, weighting=weighting, distribution=distribution  # type: ignore[arg-type]
    )
    outlets = sorted(meta_matrix[0]["outlet"].unique())
    frames = []
    for i, outlet in enumerate(outlets):
        rest = [o for o in outlets if o != outlet]
        if not rest:
            continue
        frame = compare_groups(
            labelled, [outlet], rest, narratives=narratives, n_bootstrap=n_bootstrap,
            min_articles=min_articles, seed=seed + i, meta_matrix=meta_matrix,
        )
        frames.append(frame.assign(outlet=outlet))
    cols = ["outlet", "narrative", "share", "rest_share", "difference", "ci_low", "ci_high",
            "weighting", "ratio", "n_articles", "n_rest_articles", "overlap_first", "overlap_last",
            "n_overlap_periods", "insufficient"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True).rename(
        columns={"share_a": "share", "share_b": "rest_share", "n_articles_a": "n_articles",
                 "n_articles_b": "n_rest_articles"}
    )
    out["weighting"] = np.where(out["ci_low"] > 0, "over", np.where(out["ci_high"] < 0, "under", ""))
    out.attrs["note"] = (
        "Each outlet is compared with all other outlets over the periods in which both have "
        "articles (overlap_first to overlap_last), not over their whole collection windows."
    )
    return out[cols]

"""How large a move the change detection can see, so that "no change found" is read for what it is.

A change point is claimed only where the articles show it (:mod:`.change`); where an outlet
publishes a few articles a week, a real move of a narrative's share can stay below that bar.
:func:`detectable_steps` says, per outlet (and over all outlets), how large a step in a typical
narrative's share its articles would reveal four times in five: a step in the middle of the
window, tested at the p-value cutoff the detection used, with the cluster-robust variance of the
outlet's own articles (the same variance the detection's z's use). Smaller moves may have
happened unseen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import UNASSIGNED
from .segments import (
    ArticleSeries, article_series, dispersion_factor, rise_and_fall, shuffled_z, valid_splits,
)

__all__ = ["DETECTABLE_COLUMNS", "detectable_in", "detectable_steps"]

#: Columns of the ``detectable`` table.
DETECTABLE_COLUMNS = ["outlet", "n_articles", "n_periods", "articles_per_period", "typical_share",
                      "detectable_step", "power", "p_bar"]


def detectable_steps(
    labelled: pd.DataFrame, *, alpha: float, n_tests: int, narratives: list[str] | None = None,
    weighting: str = "paragraph", distribution: pd.DataFrame | None = None,
    include_all: bool = True, min_segment: int = 2, **options,
) -> pd.DataFrame:
    """:func:`detectable_in` of ``labelled``'s articles binned as the change detection bins
    them (:func:`narrative.drift.segments.article_series`, with their dispersion); where a
    :class:`narrative.drift.change.ChangeDetection` is at hand, pass its ``groups`` to
    :func:`detectable_in` instead."""
    names = list(narratives or sorted(labelled["narrative"].dropna().unique().tolist()))
    groups = article_series(labelled, names, weighting=weighting, distribution=distribution,
                            include_all=include_all)
    for group in groups:
        group.dispersion = dispersion_factor(group, min_segment=min_segment)
    return detectable_in(groups, names, alpha=alpha, n_tests=n_tests, min_segment=min_segment,
                         **options)


def detectable_in(
    groups: list[ArticleSeries], narratives: list[str], *, alpha: float, n_tests: int,
    power: float = 0.8, min_share: float = 0.05, min_segment: int = 2, n_perm: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """The smallest move of share from one narrative to another that each group's articles
    (an outlet's, or all outlets'; ``narratives`` name their columns) would show with
    probability ``power``: one row per group, :data:`DETECTABLE_COLUMNS`.

    The detection claims a change of an outlet's mix when its largest rise and fall
    (:func:`narrative.drift.segments.rise_and_fall`, maximised over the splits) beat the same
    statistic on the outlet's articles shuffled over the periods. Here that statistic's
    shuffled distribution gives the bar a lone change must pass (its ``1 - alpha / n_tests``
    quantile: the first cutoff of the false discovery rate control over ``n_tests`` mixes;
    ``p_bar``). A move of size ``s`` from one typical narrative to another, in the middle of the
    window, has z's of about ``±s / se`` at both ends, ``se`` being a typical narrative's
    cluster-robust standard error of a difference between the two halves (articles are the
    clusters; the group's period-to-period excess variance included). It passes the bar with
    probability ``power`` when ``s * sqrt(2) / se`` exceeds the bar's square root by ``z(power)``.
    ``typical_share`` and ``se`` are those of the median narrative (``unassigned`` aside) among
    those holding at least ``min_share`` of the group's paragraphs. A group with too few
    periods, or no narrative of that size, gets NaN.
    """
    from scipy.special import ndtri

    from .shares import cell_rng

    p_bar = alpha / max(n_tests, 1)
    counted = np.array([n != UNASSIGNED for n in narratives])
    rows = []
    for group in groups:
        bins = len(group.periods)
        n_articles = int(group.n_articles.sum())
        total = float(group.N.sum())
        splits = valid_splits(group.N, group.G, min_segment, 2) if total > 0 else np.array([])
        step = share = np.nan
        shares = group.Y.sum(axis=0) / max(total, 1e-12)
        typical = counted & (shares >= min_share)
        if len(splits) and typical.any():
            spread = group.spread(0, bins)
            se = np.sqrt(spread[typical] * 4.0 / total)  # half the weight on each side
            middle = int(np.argsort(se)[len(se) // 2])
            rng = cell_rng(seed, "detectable", group.outlet)
            null = np.concatenate([rise_and_fall(z).max(axis=1) for z in shuffled_z(
                group, 0, bins, splits, spread / group.dispersion, rng, n_perm)])
            bar = float(np.quantile(null, 1 - p_bar))
            step = (np.sqrt(bar) + float(ndtri(power))) * float(se[middle]) / np.sqrt(2.0)
            share = float(shares[typical][middle])
        rows.append((group.outlet, n_articles, bins, n_articles / max(bins, 1), share, step, power,
                     p_bar))
    return pd.DataFrame(rows, columns=DETECTABLE_COLUMNS)

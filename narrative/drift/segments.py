"""Articles binned by period, and the test of a split of such a series into two levels.

The machinery under :mod:`narrative.drift.change` (change points, by week or any period) and
:mod:`narrative.drift.diffusion` (uptake, by day): an :class:`ArticleSeries` holds one outlet's
articles (or all outlets') per period as clusters with per-period sums, so that the share of any
run of periods and its cluster-robust variance cost a subtraction of cumulative sums;
:func:`best_splits` finds each narrative's best split and tests it against permutations of the
articles over the periods; :func:`mix_split` does the same for the whole mix of narratives at
once (a change moves shares between narratives, and they sum to one), optionally in the direction
other outlets moved (:func:`change_evidence`); :func:`dispersion_factor` measures
period-to-period variance beyond what the articles explain (news cycles).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["ArticleSeries", "MixSplit", "Split", "article_series", "best_splits", "bh_cutoff",
           "change_evidence", "dispersion_factor", "mix_split", "piecewise", "shuffled_z", "split_z",
           "two_stage_cutoff", "valid_splits"]


@dataclass
class ArticleSeries:
    """The articles of one outlet, or of all outlets, binned by period, for every narrative.

    Clusters are the units the bootstrap draws: an article, except that over all outlets a
    syndicated copy joins its original when both fall in one period (one story counted twice is
    not two independent draws). Per-bin sums of the clusters' weights, squares and products give
    every segment's share and its cluster-robust variance without touching the articles again.
    Over all outlets each cluster has a stratum (its outlet): the mix is compared with the
    articles shuffled within their outlets, and its variance taken around each outlet's own mix,
    so that outlets that differ do not pass for noise.
    """

    outlet: str
    periods: np.ndarray  # the bins' period labels, sorted
    bin_of: np.ndarray  # clusters: bin index
    y: np.ndarray  # clusters × narratives: narrative weight
    n: np.ndarray  # clusters: total weight (paragraphs, or 1 per article)
    n_articles: np.ndarray  # bins: articles
    carrying: np.ndarray  # bins × narratives: articles with some weight on the narrative
    dispersion: float = 1.0
    stratum: np.ndarray | None = None  # clusters: outlet code over all outlets (None: one stratum)
    story: np.ndarray | None = None  # clusters: the original article's id (a copy's, its original's)

    def __post_init__(self) -> None:
        if self.stratum is None:
            self.stratum = np.zeros(len(self.n), dtype=int)
        bins, k = len(self.periods), self.y.shape[1]
        self.Y, self.Syy, self.Syn = (np.zeros((bins, k)) for _ in range(3))
        self.N, self.Snn, self.G = (np.zeros(bins) for _ in range(3))
        np.add.at(self.Y, self.bin_of, self.y)
        np.add.at(self.Syy, self.bin_of, self.y**2)
        np.add.at(self.Syn, self.bin_of, self.y * self.n[:, None])
        np.add.at(self.N, self.bin_of, self.n)
        np.add.at(self.Snn, self.bin_of, self.n**2)
        np.add.at(self.G, self.bin_of, 1.0)

    def variance(self, a: int, b: int, share: np.ndarray, ks: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Per-bin variance of the narratives' weight sums over bins [a, b) around ``share``
        (bins × narratives): the clusters' squared residuals, times the dispersion and the
        small-sample factor G/(G-1) of a cluster-robust variance."""
        var = self.Syy[a:b, ks] - 2 * share * self.Syn[a:b, ks] + share**2 * self.Snn[a:b, None]
        clusters = float(self.G[a:b].sum())
        return np.clip(var, 0.0, None) * self.dispersion * clusters / max(clusters - 1.0, 1.0)

    def spread(self, a: int, b: int) -> np.ndarray:
        """Variance per unit of weight of each narrative's share over bins [a, b) (a side of
        weight N has variance spread / N): the clusters' squared residuals around their stratum's
        share, times the dispersion and the small-sample factor G/(G-1)."""
        inside = (self.bin_of >= a) & (self.bin_of < b)
        y, n, stratum = self.y[inside], self.n[inside], self.stratum[inside]
        total = n.sum()
        if total <= 0:
            return np.zeros(self.y.shape[1])
        codes, stratum = np.unique(stratum, return_inverse=True)
        Y, N = np.zeros((len(codes), y.shape[1])), np.zeros(len(codes))
        np.add.at(Y, stratum, y)
        np.add.at(N, stratum, n)
        share = Y / np.maximum(N, 1e-12)[:, None]
        clusters = float(len(n))
        var = ((y - share[stratum] * n[:, None]) ** 2).sum(axis=0) / total
        return var * self.dispersion * clusters / max(clusters - 1.0, 1.0)

    def subset(self, keep: np.ndarray) -> ArticleSeries:
        """The same series with only the clusters where ``keep`` is true (bins kept as they are)."""
        def take(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[keep]

        articles = np.bincount(self.bin_of[keep], minlength=len(self.periods)).astype(float)
        carrying = np.zeros_like(self.carrying)
        np.add.at(carrying, self.bin_of[keep], (self.y[keep] > 0).astype(float))
        return ArticleSeries(self.outlet, self.periods, self.bin_of[keep], self.y[keep], self.n[keep], articles,
                             carrying, self.dispersion, take(self.stratum), take(self.story))

    def share(self, a: int, b: int, k: int) -> float:
        total = self.N[a:b].sum()
        return float(self.Y[a:b, k].sum() / total) if total > 0 else float("nan")

    def standard_error(self, a: int, b: int, k: int) -> float:
        """Cluster-robust standard error of the pooled share over bins [a, b)."""
        share = self.share(a, b, k)
        var = self.variance(a, b, np.array([share]), np.array([k]))
        return float(np.sqrt(var.sum()) / self.N[a:b].sum())


def article_series(labelled: pd.DataFrame, narratives: list[str], *, weighting: str,
            distribution: pd.DataFrame | None, include_all: bool) -> list[ArticleSeries]:
    """One :class:`ArticleSeries` per outlet (sorted) and, with ``include_all``, one for all outlets."""
    from .shares import ALL_OUTLETS, article_matrix

    meta, matrix = article_matrix(labelled, narratives, weighting=weighting,  # type: ignore[arg-type]
                                  distribution=distribution)
    dated = meta["period"].notna().to_numpy()
    meta, matrix = meta[dated].reset_index(drop=True), matrix[dated]
    article = meta["article_id"].to_numpy(dtype=object)
    story = article
    if "duplicate_of" in labelled:
        original = labelled.drop_duplicates("article_id").set_index("article_id")["duplicate_of"]
        original = original.reindex(article).to_numpy(dtype=object)
        present = pd.Index(article).get_indexer(original) >= 0
        story = np.where(present, original, article)
    members = sorted(meta.groupby("outlet").indices.items())
    if include_all and len(meta):
        members.append((ALL_OUTLETS, np.arange(len(meta))))
    groups = []
    for outlet, idx in members:
        periods, bin_of = np.unique(meta["period"].to_numpy()[idx], return_inverse=True)
        rows = matrix[idx]
        carrying = np.zeros((len(periods), len(narratives)))
        np.add.at(carrying, bin_of, (rows > 0).astype(float))
        units = (story if outlet == ALL_OUTLETS else article)[idx]
        codes = pd.factorize(pd.Series(units, dtype=object) + "\x1f" + bin_of.astype(str))[0]
        y = np.zeros((codes.max() + 1, len(narratives)))
        np.add.at(y, codes, rows)
        cluster_bin = np.zeros(len(y), dtype=int)
        cluster_bin[codes] = bin_of
        stratum = np.zeros(len(y), dtype=int)
        if outlet == ALL_OUTLETS:  # a story's cluster belongs to its original's outlet
            outlet_code = pd.factorize(meta["outlet"].to_numpy()[idx])[0]
            original = story[idx] == article[idx]
            stratum[codes[~original]] = outlet_code[~original]
            stratum[codes[original]] = outlet_code[original]
        stories = np.empty(len(y), dtype=object)
        stories[codes] = story[idx]
        groups.append(ArticleSeries(outlet, periods, cluster_bin, y, y.sum(axis=1),
                             np.bincount(bin_of, minlength=len(periods)).astype(float), carrying,
                             stratum=stratum, story=stories))
    return groups


def bh_cutoff(pvalues: list[float], alpha: float) -> float:
    """Largest p-value that Benjamini–Hochberg rejects at false-discovery rate ``alpha`` (0 if none)."""
    if not pvalues:
        return 0.0
    p = np.sort(np.asarray(pvalues))
    ok = p <= alpha * np.arange(1, len(p) + 1) / len(p)
    return float(p[np.flatnonzero(ok)[-1]]) if ok.any() else 0.0


def two_stage_cutoff(pvalues: list[float], alpha: float) -> float:
    """Largest p-value that the adaptive two-stage procedure of Benjamini, Krieger and Yekutieli
    (2006) rejects at false-discovery rate ``alpha`` (0 if none).

    Benjamini–Hochberg at alpha / (1 + alpha) first; when it rejects r of m hypotheses (0 < r <
    m), again at that level times m / (m - r): the hypotheses already rejected are not null, so
    the level is spread over the rest. When nothing changes anywhere it rejects less often than
    Benjamini–Hochberg at ``alpha``; when many tests are clearly rejected it has more power
    for the others. FDR control is proven for independent tests (outlets, whose articles differ).
    The factor m / (m - r) is held to at most 2: with a handful of tests, m - r is a coarse count
    of the null hypotheses, and each null one wrongly rejected costs a reader two false findings
    (a rise and a fall).
    """
    if not pvalues:
        return 0.0
    level = alpha / (1 + alpha)
    first = bh_cutoff(pvalues, level)
    rejected = int(np.sum(np.asarray(pvalues) <= first)) if first > 0 else 0
    if rejected in (0, len(pvalues)):
        return first
    return bh_cutoff(pvalues, level * min(len(pvalues) / (len(pvalues) - rejected), 2.0))


# -- one split, tested --------------------------------------------------------------------------
def valid_splits(N: np.ndarray, G: np.ndarray, min_segment: int, min_clusters: int) -> np.ndarray:
    """Splits s (first bin of the right side) leaving ``min_segment`` bins and ``min_clusters``
    clusters with some weight on each side."""
    splits = np.arange(min_segment, len(N) - min_segment + 1)
    if not len(splits):
        return splits
    cG, cN = np.cumsum(G), np.cumsum(N)
    left_g, left_n = cG[splits - 1], cN[splits - 1]
    ok = ((left_g >= min_clusters) & (cG[-1] - left_g >= min_clusters)
          & (left_n > 0) & (cN[-1] - left_n > 0))
    return splits[ok]


def split_z(cY: np.ndarray, cN: np.ndarray, spread: np.ndarray, splits: np.ndarray) -> np.ndarray:
    """z of (share after − share before) at each split, from cumulative sums over the bins of the
    narratives' weights ``cY`` (..., bins, narratives) and of the total weight ``cN`` (...,
    bins); ``spread`` (..., narratives) is the variance per unit of weight, so that a side of
    weight N has variance spread / N. Returns (..., splits, narratives).

    One spread for the whole segment makes this the least-squares change statistic: the split it
    picks does not follow a short side whose own variance happens to be small.
    """
    i = splits - 1
    left_n = cN[..., i, None]
    right_n = cN[..., -1:, None] - left_n
    left, total = cY[..., i, :], cY[..., -1:, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = (total - left) / right_n - left / left_n
        v = spread[..., None, :] * (1 / left_n + 1 / right_n)
        z = diff / np.sqrt(v)
    return np.where(np.isfinite(z) & (v > 0), z, 0.0)


class Split(NamedTuple):
    at: int  # first bin after the split
    z: float
    p: float


def best_splits(group: ArticleSeries, a: int, b: int, ks: np.ndarray, *, min_segment: int,
                 min_clusters: int, n_perm: int, max_perm: int, rng: np.random.Generator,
                 rises_only: bool = False) -> list[Split | None]:
    """For each narrative in ``ks``: the split of bins [a, b) with the largest |z| (the largest
    z with ``rises_only``), and the p-value of that maximum when nothing changes (None where no
    split is possible).

    z uses the segment's cluster-robust variance per unit of weight (:func:`split_z`). The null
    is a permutation of the clusters (articles) over the bins, each bin keeping its number of
    clusters: without change they are exchangeable. Every permutation takes the maximum over all
    splits, so the search for the split is paid for, and small shares keep their skewed
    distribution. The observed z is divided by the square root of the group's dispersion, which
    the shuffled series lose. Narratives with fewer than 10 permutations at or
    above their maximum get more, in batches, up to ``max_perm``.
    """
    N = group.N[a:b]
    splits = valid_splits(N, group.G[a:b], min_segment, min_clusters)
    if not len(splits) or N.sum() <= 0:
        return [None] * len(ks)
    share = group.Y[a:b, ks].sum(axis=0) / N.sum()
    spread = group.variance(a, b, share, ks).sum(axis=0) / N.sum()  # the dispersion included

    def size(z: np.ndarray) -> np.ndarray:
        return z if rises_only else np.abs(z)

    z = split_z(np.cumsum(group.Y[a:b, ks], axis=0), np.cumsum(N), spread, splits)
    best = np.argmax(size(z), axis=0)
    top = np.clip(size(z[best, np.arange(len(ks))]), 0.0, None)
    inside = (group.bin_of >= a) & (group.bin_of < b)
    y, n = group.y[inside][:, ks], group.n[inside]
    clusters = len(n)
    spread = spread / group.dispersion  # shuffled series have no period-to-period excess
    ends = np.cumsum(group.G[a:b]).astype(int) - 1  # each bin's last cluster in the shuffled order
    exceed, done = np.zeros(len(ks)), np.zeros(len(ks))
    todo = top > 0
    while todo.any():
        batch = n_perm if not done.any() else min(n_perm * 4, max_perm - int(done[todo].max()))
        cols = np.flatnonzero(todo)
        chunk = max(1, 4_000_000 // max(clusters * len(cols), 1))
        for start in range(0, batch, chunk):
            order = np.argsort(rng.random((min(chunk, batch - start), clusters)), axis=1)
            cY = np.cumsum(y[:, cols][order], axis=1)[:, ends]
            cN = np.cumsum(n[order], axis=1)[:, ends]
            null = size(split_z(cY, cN, spread[cols], splits)).max(axis=1)
            exceed[cols] += (null >= top[cols] - 1e-9).sum(axis=0)
        done[cols] += batch
        todo &= (exceed < 10) & (done < max_perm)
    p = (1 + exceed) / (1 + done)
    return [None if top[j] == 0 else Split(a + int(splits[best[j]]), float(z[best[j], j]), float(p[j]))
            for j in range(len(ks))]


# -- the whole mix, tested -----------------------------------------------------------------------
class MixSplit(NamedTuple):
    at: int  # first bin after the split
    p: float  # permutation p-value of the test that found it
    toward: np.ndarray | None  # other outlets' evidence at the split, when the test in their direction found it


def rise_and_fall(z: np.ndarray) -> np.ndarray:
    """The largest rise and the largest fall among the narratives, squared and added (over the
    last axis): a change of the mix moves share from some narratives to others, so a real change
    shows at both ends."""
    return np.clip(z.max(axis=-1), 0.0, None) ** 2 + np.clip(-z.min(axis=-1), 0.0, None) ** 2


def _shuffles(rng: np.random.Generator, count: int, stratum: np.ndarray, slot_stratum: np.ndarray) -> np.ndarray:
    """``count`` orders of the clusters laid on the slots: each slot gets a cluster of its own
    stratum, at random (a permutation within strata)."""
    grouped = np.argsort(stratum + rng.random((count, len(stratum))), axis=1)
    order = np.empty_like(grouped)
    order[:, np.argsort(slot_stratum, kind="stable")] = grouped
    return order


def shuffled_z(group: ArticleSeries, a: int, b: int, splits: np.ndarray, spread: np.ndarray,
               rng: np.random.Generator, count: int):
    """:func:`split_z` of bins [a, b) at ``splits`` in ``count`` shuffles of its clusters over
    the bins (within strata, each bin keeping its clusters), yielded a chunk of shuffles
    (chunk × splits × narratives) at a time, so that memory stays bounded whatever the count."""
    inside = np.flatnonzero((group.bin_of >= a) & (group.bin_of < b))
    slots = inside[np.argsort(group.bin_of[inside], kind="stable")]
    y, n, stratum = group.y[inside], group.n[inside], group.stratum[inside]
    ends = np.cumsum(group.G[a:b]).astype(int) - 1  # each bin's last slot
    chunk = max(1, 4_000_000 // max(len(n) * y.shape[1], 1))
    for start in range(0, count, chunk):
        order = _shuffles(rng, min(chunk, count - start), stratum, group.stratum[slots])
        yield split_z(np.cumsum(y[order], axis=1)[:, ends], np.cumsum(n[order], axis=1)[:, ends],
                      spread, splits)


def _min_p(observed: list[float], nulls: list[np.ndarray]) -> tuple[float, int, list[float]]:
    """Westfall–Young min-p over several statistics computed on the same permutations: the
    p-value of the smallest of their permutation p-values, the number of permutations at least as
    extreme, and each statistic's own p-value. Every p-value is taken among the permutations and
    the observed order together, so the observed one is treated like any permutation."""
    count = len(nulls[0])
    own, each = [], []
    for obs, null in zip(observed, nulls):
        values = np.sort(np.append(null, obs))
        own.append((count + 1 - np.searchsorted(values, obs - 1e-9, side="left")) / (count + 1))
        each.append((count + 1 - np.searchsorted(values, null - 1e-9, side="left")) / (count + 1))
    exceed = int(np.count_nonzero(np.min(each, axis=0) <= min(own) + 1e-12))
    return (1 + exceed) / (count + 1), exceed, own


def mix_split(group: ArticleSeries, a: int, b: int, *,
              toward: Callable[[int, int, np.ndarray], np.ndarray] | None = None,
              min_segment: int, min_clusters: int, n_perm: int, max_perm: int,
              rng: np.random.Generator) -> MixSplit | None:
    """The split of bins [a, b) where the mix of narratives changes most, and the p-value of that
    change when nothing changes (None where no split is possible).

    Each narrative's z of share after − before at each split is :func:`split_z`'s (the
    segment's cluster-robust variance, the dispersion included). Two statistics are taken over
    all splits: the largest rise and fall of any narratives (:func:`rise_and_fall`), and, when
    ``toward(a, b, bins)`` gives other outlets' evidence at the splits before ``bins`` (splits ×
    narratives, :func:`change_evidence`), the
    z's summed with those weights: a move in the direction, and at the time, other outlets moved.
    The null shuffles the clusters (articles) over the bins, within strata, each bin keeping its
    clusters: without change they are exchangeable, and the evidence, from other articles, stays
    fixed. Both statistics are taken in every shuffle and the smaller of their p-values is
    compared with its own distribution (min-p), so the search over splits and over the two
    statistics is paid for. Shuffles are added while fewer than 10 reach the observed value, up
    to ``max_perm``.
    """
    N = group.N[a:b]
    splits = valid_splits(N, group.G[a:b], min_segment, min_clusters)
    if not len(splits) or N.sum() <= 0:
        return None
    spread = group.spread(a, b)
    z = split_z(np.cumsum(group.Y[a:b], axis=0), np.cumsum(N), spread, splits)
    weights = toward(a, b, a + splits) if toward is not None else None
    if weights is not None and not np.any(weights):
        weights = None
    statistics = [rise_and_fall] + ([lambda values: (values * weights).sum(axis=-1)] if weights is not None else [])
    observed = [float(stat(z).max()) for stat in statistics]
    spread = spread / group.dispersion  # shuffled series have no period-to-period excess
    nulls: list[list[np.ndarray]] = [[] for _ in statistics]
    done, batch = 0, n_perm
    while True:
        for shuffled in shuffled_z(group, a, b, splits, spread, rng, batch):
            for null, stat in zip(nulls, statistics):
                null.append(stat(shuffled).max(axis=1))
        done += batch
        p, exceed, own = _min_p(observed, [np.concatenate(null) for null in nulls])
        if exceed >= 10 or done >= max_perm:
            break
        batch = min(4 * batch, max_perm - done)
    best = int(np.argmin(own))  # the statistic with the smaller p-value places the split
    at = int(splits[np.argmax(statistics[best](z))])
    return MixSplit(a + at, p, None if best == 0 else weights[list(splits).index(at)])


def change_evidence(group: ArticleSeries, start: str, stop: str | None, periods: np.ndarray, *,
                    threshold: float) -> np.ndarray:
    """How ``group``'s narratives moved at each of ``periods`` (periods × narratives): the z of
    share after − before a split at that period, over the group's periods from ``start`` to
    before ``stop`` (None: to the end), where |z| reaches ``threshold``, else 0. Another
    outlet's evidence for :func:`mix_split`'s ``toward``; the threshold keeps its noise out."""
    a = int(np.searchsorted(group.periods, start))
    b = len(group.periods) if stop is None else int(np.searchsorted(group.periods, stop))
    out = np.zeros((len(periods), group.y.shape[1]))
    if b - a < 2 or group.N[a:b].sum() <= 0:
        return out
    at = np.searchsorted(group.periods[a:b], periods)
    ok = (at >= 1) & (at <= b - a - 1)
    if ok.any():
        z = split_z(np.cumsum(group.Y[a:b], axis=0), np.cumsum(group.N[a:b]), group.spread(a, b), at[ok])
        out[ok] = np.where(np.abs(z) >= threshold, z, 0.0)
    return out


def piecewise(group: ArticleSeries, k: int, *, splits: int, min_segment: int) -> list[int]:
    """Bounds of the least-squares fit of narrative ``k``'s bin shares (weighted by the bins'
    weight) with ``splits`` more levels, each split where it removes the most squared error."""
    bounds = [0, len(group.periods)]
    for _ in range(splits):
        best = (0.0, None)
        for a, b in zip(bounds[:-1], bounds[1:]):
            cands = valid_splits(group.N[a:b], group.G[a:b], min_segment, 1)
            if not len(cands):
                continue
            gain = split_z(np.cumsum(group.Y[a:b, [k]], axis=0), np.cumsum(group.N[a:b]),
                            np.ones(1), cands)[:, 0] ** 2
            if gain.max() > best[0]:
                best = (float(gain.max()), a + int(cands[np.argmax(gain)]))
        if best[1] is None:
            break
        bounds = sorted([*bounds, best[1]])
    return bounds


def dispersion_factor(group: ArticleSeries, *, min_segment: int, max_changes: int = 3, min_share: float = 0.01) -> float:
    """Period-to-period variance beyond what the articles explain (news cycles), as one factor
    per group: for each narrative, the bins' squared residuals around a piecewise-constant fit
    with up to ``max_changes`` splits, over the sum of their clusters' squared residuals (each
    residual scaled by 1 / (1 - leverage), so fitting the levels biases neither); the median over
    the narratives, at least 1. Real steps are absorbed by the fit; independent articles give
    about 1."""
    bins = len(group.periods)
    if bins < 2 * min_segment + 1 or group.N.sum() <= 0:
        return 1.0
    shares = group.Y.sum(axis=0) / group.N.sum()
    ratios = []
    for k in np.flatnonzero(shares >= min_share):
        bounds = piecewise(group, int(k), splits=min(max_changes, bins // (2 * min_segment + 1)),
                            min_segment=min_segment)
        segment = np.searchsorted(bounds, np.arange(bins), side="right") - 1  # of each bin
        totals = np.array([group.N[a:b].sum() for a, b in zip(bounds[:-1], bounds[1:])])
        levels = np.array([group.share(a, b, k) for a, b in zip(bounds[:-1], bounds[1:])])
        # residuals of bins and of clusters, each over 1 - its leverage in its segment's mean
        bin_resid = group.Y[:, k] - levels[segment] * group.N
        bin_lever = group.N / totals[segment]
        of = segment[group.bin_of]
        cluster_resid = group.y[:, k] - levels[of] * group.n
        cluster_lever = group.n / totals[of]
        between = (bin_resid**2 / np.clip(1 - bin_lever, 1e-9, None)).sum()
        within = (cluster_resid**2 / np.clip(1 - cluster_lever, 1e-9, None)).sum()
        if within > 0:
            ratios.append(between / within)
    return max(1.0, float(np.median(ratios))) if ratios else 1.0

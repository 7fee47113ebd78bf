"""Change over time in narrative shares: divergence, change points, emerging and fading narratives.

Pure functions over the shares frame of :func:`narrative.drift.shares.narrative_shares`. They use only
cells with enough articles (``insufficient`` is False) and take their noise level from the cells'
bootstrap intervals, so a move counts as change only when it is larger than the shares' own
uncertainty.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np
import pandas as pd

from ..schema import CHANGEPOINT_COLUMNS, UNASSIGNED

_Z95 = 1.959964


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence in bits (0 = same mix, 1 = no narrative in common).

    Both vectors are scaled to sum to one first; 0·log 0 counts as 0.
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return max(0.0, (kl(p) + kl(q)) / 2)


def _usable(shares: pd.DataFrame) -> pd.DataFrame:
    if "insufficient" in shares:
        return shares[~shares["insufficient"].astype(bool)]
    return shares


class _Series(NamedTuple):
    """One (narrative, outlet) series of usable cells, in period order."""

    narrative: str
    outlet: str
    periods: np.ndarray
    share: np.ndarray
    ci_low: np.ndarray  # NaN where a cell has no interval
    ci_high: np.ndarray
    n: np.ndarray  # paragraphs (articles in frames without paragraph counts) behind each cell


def _series(shares: pd.DataFrame) -> Iterator[_Series]:
    """Every (narrative, outlet) series of usable cells, by narrative then outlet (the order of a
    sorted groupby), cut from one sorted copy: a groupby hands each of hundreds of series over
    as a DataFrame, whose pandas overhead was most of the time change points took."""
    usable = _usable(shares)
    usable = usable[usable["narrative"].notna() & usable["outlet"].notna()]
    if usable.empty:
        return
    usable = usable.sort_values(["narrative", "outlet", "period"], kind="stable")
    narratives = usable["narrative"].to_numpy(dtype=object)
    outlets = usable["outlet"].to_numpy(dtype=object)
    periods = usable["period"].to_numpy()
    share = usable["share"].to_numpy(dtype=float)
    low, high = (usable[c].to_numpy(dtype=float) for c in ("ci_low", "ci_high"))
    n = usable["n_paragraphs" if "n_paragraphs" in usable else "n_articles"].to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, (narratives[1:] != narratives[:-1])
                                  | (outlets[1:] != outlets[:-1])])
    for a, b in zip(starts, np.r_[starts[1:], len(usable)]):
        yield _Series(narratives[a], outlets[a], periods[a:b], share[a:b], low[a:b], high[a:b],
                      n[a:b])


def divergence(shares: pd.DataFrame, *, baseline_periods: int = 4) -> pd.DataFrame:
    """JS divergence of each (outlet, period) mix from the previous usable period and from a baseline.

    The baseline is the mean mix over the outlet's first ``baseline_periods`` usable periods
    (partial periods skipped when enough others exist). Columns: period, outlet, js_previous,
    js_baseline, previous_period, baseline_last, n_articles, partial.
    """
    cols = ["period", "outlet", "js_previous", "js_baseline", "previous_period", "baseline_last",
            "n_articles", "partial"]
    usable = _usable(shares)
    rows = []
    for outlet, frame in usable.groupby("outlet", sort=True):
        wide = frame.pivot_table(index="period", columns="narrative", values="share", fill_value=0.0)
        wide = wide.sort_index()
        info = frame.drop_duplicates("period").set_index("period").reindex(wide.index)
        partial = info["partial"].astype(bool) if "partial" in info else pd.Series(False, wide.index)
        full = wide.index[~partial.to_numpy()]
        base_idx = (full if len(full) >= baseline_periods else wide.index)[:baseline_periods]
        baseline = wide.loc[base_idx].mean(axis=0).to_numpy()
        values = wide.to_numpy()
        for i, per in enumerate(wide.index):
            rows.append(
                {
                    "period": per,
                    "outlet": outlet,
                    "js_previous": js_divergence(values[i], values[i - 1]) if i else np.nan,
                    "js_baseline": js_divergence(values[i], baseline),
                    "previous_period": wide.index[i - 1] if i else None,
                    "baseline_last": base_idx[-1] if len(base_idx) else None,
                    "n_articles": int(info["n_articles"].iloc[i]),
                    "partial": bool(partial.iloc[i]),
                }
            )
    return pd.DataFrame(rows, columns=cols)


# -- change points ------------------------------------------------------------------------------
def _noise(series: _Series) -> np.ndarray:
    """Per-period standard error of a share: from the bootstrap interval, floored by the binomial
    error at the series' mean share (zero-width intervals at 0% or 100% would claim certainty)."""
    values = series.share
    half = (series.ci_high - series.ci_low) / 2 / _Z95
    mean = float(np.clip(values.mean(), 0.005, 0.995))
    binom = np.sqrt(mean * (1 - mean) / np.maximum(series.n, 1))
    se = np.where(np.isfinite(half), np.maximum(half, binom), binom)
    return np.maximum(se, 0.005)


def _overdispersion(values: np.ndarray, se: np.ndarray, min_segment: int, level: float = 0.95) -> float:
    """Variance between periods beyond sampling noise (news cycles), added to every period's.

    Residuals around the best one-step fit are compared with the periods' own noise; only when
    they are too large for it (chi-square test at ``level``) is the excess, by the method of
    moments, returned, so series that behave as their intervals say keep their full power.
    """
    n = len(values)
    if n < 2 * min_segment + 2:
        return 0.0
    from scipy.special import chdtri  # chi-square quantile (scipy.stats costs ~1 s to import)

    t = int(np.argmax(_max_split(values, se**2, min_segment))) + min_segment
    fitted = np.r_[np.full(t, values[:t].mean()), np.full(n - t, values[t:].mean())]
    resid = values - fitted
    q = float(np.sum(resid**2 / se**2))
    if q <= chdtri(n - 2, 1 - level):
        return 0.0
    return max(0.0, float(np.sum(resid**2) / (n - 2) - np.mean(se**2)))


def _max_split(values: np.ndarray, var: np.ndarray, min_segment: int) -> np.ndarray:
    """|z| of the difference of segment means for every split; rows of ``values`` are series."""
    n = values.shape[-1]
    splits = np.arange(min_segment, n - min_segment + 1)
    csum = np.cumsum(values, axis=-1)
    cvar = np.cumsum(var)
    total, total_var = csum[..., -1:], cvar[-1]
    left = csum[..., splits - 1] / splits
    right = (total - csum[..., splits - 1]) / (n - splits)
    err = np.sqrt(cvar[splits - 1] / splits**2 + (total_var - cvar[splits - 1]) / (n - splits) ** 2)
    return np.abs(right - left) / err


def _split_test(
    values: np.ndarray, var: np.ndarray, min_segment: int, n_sim: int, rng: np.random.Generator
) -> tuple[int, float, float]:
    """Best split (index of the first period after it), its |z|, and a p-value for its max-|z|
    from a Gaussian null with the series' own noise levels (no change)."""
    z = _max_split(values, var, min_segment)
    best = int(np.argmax(z))
    sims = rng.standard_normal((n_sim, len(values))) * np.sqrt(var)
    null = _max_split(sims, var, min_segment).max(axis=1)
    p = (1 + np.count_nonzero(null >= z[best])) / (n_sim + 1)
    return best + min_segment, float(z[best]), float(p)


def bh_cutoff(pvalues: list[float], alpha: float) -> float:
    """Largest p-value that Benjamini–Hochberg rejects at false-discovery rate ``alpha`` (0 if none)."""
    if not pvalues:
        return 0.0
    p = np.sort(np.asarray(pvalues))
    ok = p <= alpha * np.arange(1, len(p) + 1) / len(p)
    return float(p[np.flatnonzero(ok)[-1]]) if ok.any() else 0.0


def change_points(
    shares: pd.DataFrame,
    *,
    min_segment: int = 2,
    alpha: float = 0.05,
    n_sim: int = 2000,
    min_magnitude: float = 0.02,
    max_changes: int = 3,
    seed: int = 0,
) -> pd.DataFrame:
    """Step changes in each (narrative, outlet) share series, with false discoveries controlled.

    Each series (usable cells only) is tested for one step: the split with the largest
    standardised difference of segment means, where each period's noise is its bootstrap interval
    (plus any extra period-to-period variance the series shows) and the p-value of that maximum
    comes from simulating the series without change. Benjamini–Hochberg at ``alpha`` across all
    series sets the cutoff; rejected series are split again (binary segmentation, at most
    ``max_changes`` steps, each segment ≥ ``min_segment`` periods). Steps smaller than
    ``min_magnitude`` are dropped. Columns: narrative, outlet, period (first period at the new
    level), direction (``up``/``down``), magnitude (mean share of the segment after − before),
    then before, after, z, p_value.
    """
    rng = np.random.default_rng(seed)
    extra = ["before", "after", "z", "p_value"]
    series_list = []
    for series in _series(shares):
        values = series.share
        if len(values) < 2 * min_segment or np.ptp(values) == 0:
            continue
        se = _noise(series)
        var = se**2 + _overdispersion(values, se, min_segment)
        split, z, p = _split_test(values, var, min_segment, n_sim, rng)
        series_list.append((series.narrative, series.outlet, series.periods, values, var, split,
                            z, p))
    cutoff = bh_cutoff([s[-1] for s in series_list], alpha)
    rows = []
    for narrative, outlet, periods, values, var, split, z, p in series_list:
        if p > cutoff:
            continue
        found = {split: (z, p)}
        queue = [(0, split), (split, len(values))]
        while queue and len(found) < max_changes:
            a, b = queue.pop(0)
            if b - a < 2 * min_segment:
                continue
            s, zz, pp = _split_test(values[a:b], var[a:b], min_segment, n_sim, rng)
            if pp <= cutoff:
                found[a + s] = (zz, pp)
                queue += [(a, a + s), (a + s, b)]
        bounds = [0, *sorted(found), len(values)]
        for k, t in enumerate(bounds[1:-1], start=1):
            before = float(values[bounds[k - 1]:t].mean())
            after = float(values[t:bounds[k + 1]].mean())
            magnitude = after - before
            if abs(magnitude) < min_magnitude:
                continue
            rows.append((narrative, outlet, periods[t], "up" if magnitude > 0 else "down",
                         magnitude, before, after, found[t][0], found[t][1]))
    out = pd.DataFrame(rows, columns=CHANGEPOINT_COLUMNS + extra)
    out.attrs.update(alpha=alpha, n_series=len(series_list), p_cutoff=cutoff)
    return out


# -- emerging and fading ------------------------------------------------------------------------
def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True values."""
    runs, start = [], None
    for i, flag in enumerate(list(mask) + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    return runs


def emerging(
    shares: pd.DataFrame,
    *,
    n_periods: int = 3,
    baseline_periods: int = 4,
    kinds: dict[str, str] | None = None,
    min_share: float = 0.01,
) -> pd.DataFrame:
    """Narratives that grow or shrink beyond their intervals, and narratives that appear late.

    Per (narrative, outlet) series of usable cells: the baseline is the mean share of the first
    ``baseline_periods`` periods with a 95% band from their noise; ``emerging`` (``fading``) is a
    run of at least ``n_periods`` later periods whose whole interval lies above (below) the band;
    the longest run is reported. ``new``: a narrative (a discovered one when ``kinds`` is given)
    absent (< ``min_share``) throughout the baseline that later reaches ``min_share`` in at least
    ``n_periods`` periods. Columns: narrative, outlet, status, period (first period of the run or
    of the appearance), end_period, n_periods, baseline_share, share (mean over the run),
    magnitude (share − baseline_share).
    """
    cols = ["narrative", "outlet", "status", "period", "end_period", "n_periods",
            "baseline_share", "share", "magnitude"]
    rows = []
    for series in _series(shares):
        narrative, outlet, periods, values = series[:4]
        if len(values) < baseline_periods + n_periods:
            continue
        se = _noise(series)
        low = np.where(np.isnan(series.ci_low), values, series.ci_low)
        high = np.where(np.isnan(series.ci_high), values, series.ci_high)
        base = values[:baseline_periods].mean()
        band = _Z95 * np.sqrt(np.mean(se[:baseline_periods] ** 2) / baseline_periods)
        after = slice(baseline_periods, None)
        for status, mask in (("emerging", low[after] > base + band),
                             ("fading", high[after] < base - band)):
            runs = [r for r in _runs(mask) if r[1] - r[0] >= n_periods]
            if not runs:
                continue
            a, b = max(runs, key=lambda r: r[1] - r[0])
            a, b = a + baseline_periods, b + baseline_periods
            mean = float(values[a:b].mean())
            rows.append((narrative, outlet, status, periods[a], periods[b - 1], b - a,
                         float(base), mean, mean - float(base)))
        candidate = narrative != UNASSIGNED and (kinds is None or kinds.get(narrative) == "discovered")
        later = values[after] >= min_share
        if candidate and (values[:baseline_periods] < min_share).all() and later.sum() >= n_periods:
            first = baseline_periods + int(np.argmax(later))
            present = values[first:][values[first:] >= min_share]
            rows.append((narrative, outlet, "new", periods[first], periods[-1], int(later.sum()),
                         float(base), float(present.mean()), float(present.mean() - base)))
    return pd.DataFrame(rows, columns=cols)

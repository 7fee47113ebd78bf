"""Change over time in narrative shares: divergence, change points, emerging and fading narratives.

:func:`divergence` compares the share vectors of :func:`narrative.drift.shares.narrative_shares`.
Change points work on the articles themselves (:func:`narrative.drift.shares.labelled_paragraphs`), as
segments: a week of three articles says little, a run of weeks says more. A change moves share
from some narratives to others (shares sum to one), so what is tested is each outlet's whole mix
of narratives, and the mix over all outlets: it is split where it moves most (binary
segmentation weighted by the paragraphs behind each period), and a split counts only when it
beats what the same outlet gives with its articles shuffled over the periods. An outlet is also
tested in the direction other outlets moved at the same time (news moves many outlets at once),
from their own articles. The false discovery rate is controlled over the outlets (an adaptive
Benjamini–Hochberg). At each split found, the narratives that moved are named: the largest rise
and fall, and any other beyond its interval; each (narrative, outlet) series then has its own
rows. A move spread over several periods is reported as a trend, a move that comes straight back
as a pulse. Emerging and fading narratives are read off the same segments, so they answer to the
same null.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..schema import CHANGE_DETAIL_COLUMNS, CHANGEPOINT_COLUMNS, UNASSIGNED
from .segments import (
    ArticleSeries,
    MixSplit,
    Split,
    article_series,
    bh_cutoff,
    change_evidence,
    dispersion_factor,
    mix_split,
    split_z,
    two_stage_cutoff,
)

__all__ = ["ChangeDetection", "bh_cutoff", "change_points", "detect_changes", "emerging"]


# -- segments of one series ---------------------------------------------------------------------
class _Change(NamedTuple):
    kind: str  # step, trend or pulse
    start: int  # step: first bin at the new level; trend: first bin off the old level; pulse: first bin
    end: int  # step: = start; trend: first bin at the full new level; pulse: last bin
    before: tuple[int, int]  # bins [a, b) of the level before
    after: tuple[int, int]  # bins of the level after (a pulse: the pulse itself)
    z: float
    p: float


@dataclass
class _MixSearch:
    """One mix under binary segmentation: its group, its draws, the other outlets' evidence
    (``toward``, or None), whether it could be tested at all, and the splits found."""

    group: ArticleSeries
    rng: np.random.Generator
    toward: Callable | None
    tested: bool = False
    splits: list[MixSplit] = field(default_factory=list)


def _segment_mixes(searches: list[_MixSearch], *, alpha: float, max_changes: int, test: dict) -> float:
    """Binary segmentation of every mix at once, in rounds, with the false discovery rate
    controlled in each round (:func:`two_stage_cutoff`): first each whole mix, then both sides
    of every split just found, and so on, up to ``max_changes`` splits a mix. A further split
    must also pass the first round's cutoff: testing the sides as a family of their own keeps
    many mixes' second splits from slipping through at the first round's level, and the first
    round's cutoff keeps a family with one clear split from carrying weaker ones. Fills each
    search's ``splits`` (sorted); returns the first round's cutoff."""
    todo = [(s, 0, len(s.group.periods)) for s in searches]
    first_cutoff = None
    while todo:
        found = [(s, mix_split(s.group, a, b, toward=s.toward, rng=s.rng, **test)) for s, a, b in todo]
        found = [(s, split) for s, split in found if split is not None]
        if first_cutoff is None:
            for search, _ in found:
                search.tested = True
        cutoff = two_stage_cutoff([split.p for _, split in found], alpha)
        first_cutoff = cutoff if first_cutoff is None else first_cutoff
        cutoff = min(cutoff, first_cutoff)
        todo = []
        for search, split in found:
            if split.p > cutoff or len(search.splits) >= max_changes:
                continue
            bounds = [0, *(x.at for x in search.splits), len(search.group.periods)]
            right = bounds[int(np.searchsorted(bounds, split.at))]
            left = bounds[int(np.searchsorted(bounds, split.at)) - 1]
            search.splits = sorted([*search.splits, split], key=lambda x: x.at)
            todo += [(search, left, split.at), (search, split.at, right)]
    return first_cutoff or 0.0


def _moved(group: ArticleSeries, splits: list[MixSplit], *, z_attribute: float, z_toward: float,
           z_any: float) -> dict[int, list[Split]]:
    """Which narratives moved at each split of the mix: narrative column -> its splits, each with
    the narrative's own z there.

    A narrative's z compares the segments on either side of the split (up to the neighbouring
    splits). The mix moved, and shares sum to one, so something rose and something fell: the
    largest rise and the largest fall count when their own z reaches ``z_attribute`` (their change
    is beyond its interval, at a level shared by the two ends). When the split was found in the
    other outlets' direction, the narratives they moved most (at least half the largest weight)
    count when their own z, in the same sense, reaches ``z_toward`` (the sense is given by other
    articles, so one-sided). Any other narrative needs ``z_any`` (a Bonferroni bound over the
    narratives).
    """
    bounds = [0, *(s.at for s in splits), len(group.periods)]
    moved: dict[int, list[Split]] = {}
    for i, split in enumerate(splits, start=1):
        a, b = bounds[i - 1], bounds[i + 1]
        z = split_z(np.cumsum(group.Y[a:b], axis=0), np.cumsum(group.N[a:b]), group.spread(a, b),
                    np.array([split.at - a]))[0]
        chosen = {k for k in (int(np.argmax(z)), int(np.argmin(z))) if abs(z[k]) >= z_attribute}
        if split.toward is not None:  # the narratives the other outlets moved most
            main = np.abs(split.toward) >= np.abs(split.toward).max() / 2
            chosen |= set(np.flatnonzero(main & (np.sign(split.toward) * z >= z_toward)).tolist())
        chosen |= set(np.flatnonzero(np.abs(z) >= z_any).tolist())
        for k in sorted(chosen):
            moved.setdefault(k, []).append(Split(split.at, float(z[k]), split.p))
    return moved


def _classify(group: ArticleSeries, k: int, splits: list[Split], *, z_cut: float, max_pulse: int,
              trend_alpha: float, n_sim: int, rng: np.random.Generator) -> list[_Change]:
    """Turn a series' splits into changes: two opposite splits around a short segment whose two
    sides agree are one pulse; a run of splits in one direction is one trend when a linear ramp
    fits it better than any single step (:func:`_trend`), else its steps."""
    bounds = [0, *(s.at for s in splits), len(group.periods)]
    level = [group.share(bounds[i], bounds[i + 1], k) for i in range(len(bounds) - 1)]
    up = [level[i] > level[i - 1] for i in range(1, len(level))]  # up[i - 1]: split i
    se = [group.standard_error(bounds[i], bounds[i + 1], k) for i in range(len(level))]
    changes, used = [], set()
    for i in range(1, len(splits)):  # splits i and i + 1 (1-based) around segment i
        width = bounds[i + 1] - bounds[i]
        if i in used or up[i - 1] == up[i] or width > max_pulse:
            continue
        spread = np.hypot(se[i - 1], se[i + 1])
        if spread > 0 and abs(level[i + 1] - level[i - 1]) / spread < z_cut:
            s = splits[i - 1]  # the move into the pulse: its z has the pulse's sign
            changes.append(_Change("pulse", bounds[i], bounds[i + 1] - 1, (bounds[i - 1], bounds[i]),
                                   (bounds[i], bounds[i + 1]), s.z, s.p))
            used |= {i, i + 1}
    free = [i for i in range(1, len(splits) + 1) if i not in used]
    runs: list[list[int]] = []
    for i in free:
        if runs and runs[-1][-1] == i - 1 and up[i - 2] == up[i - 1]:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        a, b = bounds[run[0] - 1], bounds[run[-1] + 1]
        ramp = _trend(group, k, a, b, alpha=trend_alpha, n_sim=n_sim, rng=rng)
        strongest = min((splits[i - 1] for i in run), key=lambda x: x.p)
        if ramp is not None:
            changes.append(_Change("trend", ramp[0], ramp[1], (a, ramp[0]), (ramp[1], b),
                                   strongest.z, strongest.p))
            continue
        for i in run:
            s = splits[i - 1]
            changes.append(_Change("step", s.at, s.at, (bounds[i - 1], s.at), (s.at, bounds[i + 1]), s.z, s.p))
    return sorted(changes, key=lambda c: c.start)


def _trend(group: ArticleSeries, k: int, a: int, b: int, *, alpha: float, n_sim: int,
           rng: np.random.Generator) -> tuple[int, int] | None:
    """(first bin off the old level, first bin at the new one) of a linear ramp over bins [a, b),
    when a ramp through at least two intermediate bins fits significantly better than the best
    step (a step may straddle one bin); None otherwise.

    Both are least-squares fits of the bins' shares, weighted by the paragraphs behind them, to
    ``level + size * g`` with g a step or a ramp from 0 to 1. The gain of the best ramp over the
    best step is compared with its distribution in series simulated from that best step, each
    bin with its cluster-robust noise around the step's levels (a parametric bootstrap), at
    level ``alpha``.
    """
    width = b - a
    N = group.N[a:b]
    if width < 4 or np.count_nonzero(N) < 4:
        return None
    shares = np.divide(group.Y[a:b, k], N, out=np.zeros(width), where=N > 0)
    t = np.arange(width)
    # (first bin off the old level, first bin at the new one): a step, or a step whose period
    # straddles it (one bin in between), against ramps through two or more bins
    first, full = np.array([(p, q) for p in range(1, width) for q in range(p, width)]).T
    g = np.clip((t[None, :] - first[:, None] + 1) / (full - first + 1)[:, None], 0.0, 1.0)
    g = g - (g * N).sum(axis=1, keepdims=True) / N.sum()
    spread = (N * g**2).sum(axis=1)
    is_step = full - first <= 1

    def explained(values: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.nan_to_num(((values * N) @ g.T) ** 2 / spread)

    def gain(values: np.ndarray) -> np.ndarray:
        fits = explained(values)
        return fits[..., ~is_step].max(axis=-1) - fits[..., is_step].max(axis=-1)

    fits = explained(shares)
    observed = float(fits[~is_step].max() - fits[is_step].max())
    if observed <= 0:
        return None
    step = int(np.argmax(np.where(is_step, fits, -1.0)))
    fitted = (shares * N).sum() / N.sum() + float((shares * N) @ g[step] / spread[step]) * g[step]
    level = np.clip(fitted, 0.0, 1.0)
    var = (group.Syy[a:b, k] - 2 * level * group.Syn[a:b, k] + level**2 * group.Snn[a:b])
    var = np.clip(var, 0.0, None) * group.dispersion
    noise = np.divide(np.sqrt(var), N, out=np.zeros(width), where=N > 0)
    p = (1 + np.count_nonzero(gain(fitted + rng.standard_normal((n_sim, width)) * noise) >= observed)
         ) / (n_sim + 1)
    if p > alpha:
        return None
    best = int(np.argmax(np.where(is_step, -1.0, fits)))
    return a + int(first[best]), a + int(full[best])


# -- rows ---------------------------------------------------------------------------------------
def _level(group: ArticleSeries, k: int, bins: tuple[int, int], *, n_bootstrap: int, seed: int,
           narrative: str) -> tuple[float, float, float]:
    """Pooled share of narrative ``k`` over ``bins`` and its percentile interval from a bootstrap
    over the clusters (seeded by the series and the bins, so it does not depend on other series)."""
    from .shares import bootstrap_shares, cell_rng

    a, b = bins
    inside = (group.bin_of >= a) & (group.bin_of < b)
    y, n = group.y[inside, k], group.n[inside]
    rng = cell_rng(seed, "segment", group.outlet, narrative, str(group.periods[a]), str(group.periods[b - 1]))
    share, low, high = bootstrap_shares(np.column_stack([y, n - y]), n_bootstrap=n_bootstrap, rng=rng)
    return float(share[0]), float(low[0]), float(high[0])


#: Evidence paragraphs of a change come from the periods next to it: at least this many.
EVIDENCE_PERIODS = 4


def _beside(group: ArticleSeries, k: int, change: _Change, *, up: bool, n: int) -> tuple[int, int]:
    """Bins [a, b) whose paragraphs show a change of narrative ``k``: on the side where it is
    larger, the ``EVIDENCE_PERIODS`` bins next to the change (a rise: from its first bin on; a
    fall: the old level's last bins), widened away from the change until they hold ``n``
    articles carrying the narrative (or the side ends), so that the evidence is what moved."""
    if up:  # a step's or a pulse's first bin is its after side's; a trend's, its ramp's
        lo, hi = change.start, change.after[1]
        b = min(lo + EVIDENCE_PERIODS, hi)
        while b < hi and group.carrying[lo:b, k].sum() < n:
            b += 1
        return lo, b
    lo, hi = change.before
    a = max(lo, hi - EVIDENCE_PERIODS)
    while a > lo and group.carrying[a:hi, k].sum() < n:
        a -= 1
    return a, hi


def _evidence(labelled: pd.DataFrame, outlet: str, narrative: str, first: str, last: str,
              embeddings: dict | None, n: int) -> str:
    """Ids (``;``-separated) of up to ``n`` paragraphs of ``narrative`` in ``outlet`` (any outlet
    for ``all``) between periods ``first`` and ``last``, each from another article and with
    another text (an outlet that reprints a paragraph shows it once): those closest to their
    centroid when embeddings are given, else from the articles that carry the narrative most
    (earliest first)."""
    from .framing import _lookup
    from .shares import ALL_OUTLETS

    mask = (labelled["narrative"] == narrative) & (labelled["period"] >= first) & (labelled["period"] <= last)
    if outlet != ALL_OUTLETS:
        mask &= labelled["outlet"] == outlet
    rows = labelled[mask.to_numpy(dtype=bool)]
    if rows.empty or n <= 0:
        return ""
    vectors = _lookup(rows, embeddings)
    if embeddings and all(v is not None for v in vectors):
        unit = np.asarray(vectors, dtype=float)
        unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
        rows = rows.assign(_rank=-(unit @ unit.mean(axis=0)))
    else:
        per_article = rows.groupby("article_id")["paragraph_id"].transform("size")
        rows = rows.assign(_rank=-per_article)
    rows = rows.sort_values(["_rank", "date", "paragraph_id"], kind="stable").drop_duplicates("article_id")
    if "text_hash" in rows:
        rows = rows.drop_duplicates("text_hash")
    return ";".join(rows["paragraph_id"].astype(str).head(n))


@dataclass
class ChangeDetection:
    """Changes found in every series, and the segments they cut the series into.

    ``changes`` is :func:`change_points`'s frame; ``segments`` has one row per segment of each
    series with a change (narrative, outlet, period, end_period, n_periods, share, ci_low,
    ci_high, se, n_articles), which :func:`emerging` compares. ``p_cutoff`` is the largest
    p-value the false discovery rate control accepted at ``alpha`` over the ``n_tests`` mixes
    tested (outlets, and all outlets); ``n_series`` counts the (narrative, outlet) series in them.
    ``groups`` are the articles of each outlet (and all outlets) as the detection binned them,
    with their dispersion, and ``narratives`` their columns: what
    :func:`narrative.drift.power.detectable_steps` reads without binning them again.
    """

    changes: pd.DataFrame
    segments: pd.DataFrame
    alpha: float
    p_cutoff: float
    n_series: int
    n_tests: int = 0
    groups: list[ArticleSeries] = field(default_factory=list)
    narratives: list[str] = field(default_factory=list)


SEGMENT_COLUMNS = ["narrative", "outlet", "period", "end_period", "n_periods", "share", "ci_low",
                   "ci_high", "se", "n_articles"]


def detect_changes(
    labelled: pd.DataFrame, *, narratives: list[str] | None = None, weighting: str = "paragraph",
    distribution: pd.DataFrame | None = None, include_all: bool = True, alpha: float = 0.05,
    min_segment: int = 2, max_changes: int = 4, min_magnitude: float = 0.02, max_pulse: int = 2,
    n_perm: int = 1000, max_perm: int = 20000, n_sim: int = 1000, n_bootstrap: int = 200,
    trend_alpha: float = 0.05, embeddings: dict | None = None, n_evidence: int = 3, seed: int = 0,
    borrow: bool = True, evidence_threshold: float = 2.0, z_attribute: float = 2.24,
    z_toward: float = 1.645,
) -> ChangeDetection:
    """Steps, trends and pulses in each (narrative, outlet) share series and in each narrative's
    series over all outlets, found as changes of each outlet's mix of narratives (and of the mix
    over all outlets), with the false discovery rate controlled across the mixes.

    Parameters
    ----------
    labelled : DataFrame
        :func:`narrative.drift.labelled_paragraphs` (syndicated copies already selected); its
        ``period`` column sets the periods. Undated articles are left out.
    narratives, weighting, distribution
        As for :func:`narrative.drift.narrative_shares` (default: every narrative in ``labelled``).
    alpha : float, default=0.05
        False discovery rate over the mixes tested (:func:`narrative.drift.segments.two_stage_cutoff`):
        each mix's first split is tested (:func:`narrative.drift.segments.mix_split`), and further
        splits of a mix must pass the same p-value cutoff.
    min_segment, max_changes : int, default=2, 4
        Fewest periods on each side of a split; most splits per mix (binary segmentation).
    min_magnitude, max_pulse : float, int, default=0.02, 2
        Smallest change reported (in share); longest segment read as a pulse when the levels
        on both sides agree.
    n_perm, max_perm : int, default=1000, 20000
        Permutations behind each p-value: ``n_perm`` first, more for the series whose maximum
        few permutations reach, up to ``max_perm`` or to the count that resolves p-values down
        to ``alpha`` over the number of series (below that, every p-value is rejected alike).
    n_sim, trend_alpha : int, float, default=1000, 0.05
        Simulated series and level of the test of a ramp against a step (:func:`_trend`).
    n_bootstrap : int, default=200
        Resamples of articles behind each interval.
    embeddings, n_evidence : dict, int, default=None, 3
        Vectors keyed by paragraph_id or text_hash (the evidence paragraphs are then those
        closest to their centroid); evidence paragraphs per change.
    seed : int, default=0
        Seeds every draw (per outlet: its draws do not depend on the others).
    borrow, evidence_threshold : bool, float, default=True, 2.0
        Also test each outlet in the direction the other outlets moved at each split
        (:func:`narrative.drift.segments.change_evidence`: their narratives' z's at that date,
        where they reach ``evidence_threshold``).
    z_attribute, z_toward : float, default=2.24, 1.645
        z a narrative's own move needs at a split of its outlet's mix to be reported when it is
        the largest rise or fall there (the two ends of the mix, each at 2.5%), and when it lies
        in the other outlets' direction in which the split was found (one-sided 5%; see
        :func:`_moved`); any other narrative needs the Bonferroni bound at ``alpha`` over the
        narratives.
    """
    from .shares import ALL_OUTLETS, cell_rng

    names = list(narratives or sorted(labelled["narrative"].dropna().unique().tolist()))
    groups = article_series(labelled, names, weighting=weighting, distribution=distribution,
                            include_all=include_all)
    for group in groups:
        group.dispersion = dispersion_factor(group, min_segment=min_segment)
    outlets = [g for g in groups if g.outlet != ALL_OUTLETS]
    # p-values below alpha / (number of tests) all lead to one decision: no more permutations
    enough = max(n_perm, min(max_perm, int(np.ceil(10 * len(groups) / alpha))))
    test = dict(min_segment=min_segment, min_clusters=2, n_perm=n_perm, max_perm=enough)
    searches = [_MixSearch(group, cell_rng(seed, "changes", group.outlet),
                           _borrowed(group, outlets, threshold=evidence_threshold)
                           if borrow and group.outlet != ALL_OUTLETS else None) for group in groups]
    cutoff = _segment_mixes(searches, alpha=alpha, max_changes=max_changes, test=test)
    series = dict(max_pulse=max_pulse, min_magnitude=min_magnitude, trend_alpha=trend_alpha,
                  n_sim=n_sim, n_bootstrap=n_bootstrap, embeddings=embeddings,
                  n_evidence=n_evidence, seed=seed)
    rows, segments = _named_changes(labelled, searches, names, cutoff=cutoff, alpha=alpha,
                                    z_attribute=z_attribute, z_toward=z_toward, series=series)
    return _detection(rows, segments, searches, names, alpha=alpha, cutoff=cutoff)


def _named_changes(labelled: pd.DataFrame, searches: list, names: list[str], *, cutoff: float,
                   alpha: float, z_attribute: float, z_toward: float,
                   series: dict) -> tuple[list, list]:
    """The change rows and segments of each narrative that moved at its mix's splits (a
    narrative's own move is tested at the mixes' p-value cutoff, ``series`` as for
    :func:`_series_changes`)."""
    from scipy.special import ndtri

    z_cut = float(ndtri(1 - cutoff / 2)) if cutoff > 0 else np.inf
    z_any = float(ndtri(1 - alpha / (2 * max(len(names), 1))))
    rows, segments = [], []
    for search in searches:
        group = search.group
        moved = _moved(group, search.splits, z_attribute=z_attribute, z_toward=z_toward,
                       z_any=z_any)
        for k, moves in moved.items():
            found = _series_changes(labelled, group, k, moves, names[k], z_cut=z_cut, **series)
            rows += found[0]
            segments += found[1]
    return rows, segments


def _detection(rows: list, segments: list, searches: list, names: list[str], *, alpha: float,
               cutoff: float) -> ChangeDetection:
    """The changes found, sorted, with what was tested recorded in their attrs."""
    tested = [s.group for s in searches if s.tested]
    changes = pd.DataFrame(rows, columns=CHANGEPOINT_COLUMNS + CHANGE_DETAIL_COLUMNS)
    changes = changes.sort_values(["narrative", "outlet", "period"], ignore_index=True)
    n_series = sum(int((g.Y.sum(axis=0) > 0).sum()) for g in tested)
    changes.attrs.update(alpha=alpha, n_series=n_series, n_tests=len(tested), p_cutoff=cutoff)
    return ChangeDetection(changes, pd.DataFrame(segments, columns=SEGMENT_COLUMNS), alpha, cutoff,
                           n_series, len(tested), [s.group for s in searches], names)


def _borrowed(group: ArticleSeries, outlets: list[ArticleSeries], *, threshold: float) -> Callable:
    """``toward`` for :func:`mix_split`: the other outlets' evidence (:func:`change_evidence`)
    summed, over the same dates as the segment tested. Articles that share a story with
    ``group`` (a syndicated copy and its original) are left out of the other outlets, so the
    evidence stays independent of the articles tested."""
    mine = set(group.story.tolist())
    others = []
    for other in outlets:
        if other is group:
            continue
        shared = np.isin(other.story, list(mine))
        if shared.all():
            continue
        others.append(other.subset(~shared) if shared.any() else other)

    def toward(a: int, b: int, bins: np.ndarray) -> np.ndarray:
        start = group.periods[a]
        stop = group.periods[b] if b < len(group.periods) else None
        at = group.periods[bins]
        return sum((change_evidence(o, start, stop, at, threshold=threshold) for o in others),
                   np.zeros((len(bins), group.y.shape[1])))

    return toward


def _series_changes(labelled: pd.DataFrame, group: ArticleSeries, k: int, splits: list[Split],
                    narrative: str, *, z_cut: float, min_magnitude: float, max_pulse: int,
                    trend_alpha: float, n_sim: int, n_bootstrap: int, embeddings: dict | None,
                    n_evidence: int, seed: int) -> tuple[list[tuple], list[tuple]]:
    """The change rows and the segment rows of one series, from the splits of its group's mix at
    which the narrative moved."""
    from .shares import cell_rng

    periods = group.periods
    rng = cell_rng(seed, "segments", group.outlet, narrative)
    level = functools.partial(_level, group, k, n_bootstrap=n_bootstrap, seed=seed,
                              narrative=narrative)
    rows = []
    for change in _classify(group, k, splits, z_cut=z_cut, max_pulse=max_pulse,
                            trend_alpha=trend_alpha, n_sim=n_sim, rng=rng):
        before, after = level(change.before), level(change.after)
        magnitude = after[0] - before[0]
        if abs(magnitude) < min_magnitude:
            continue
        rich = _beside(group, k, change, up=magnitude > 0, n=n_evidence)
        rows.append((
            narrative, group.outlet, periods[change.start], "up" if magnitude > 0 else "down",
            magnitude, change.kind, periods[change.end], *before, *after, change.z, change.p,
            int(group.n_articles[slice(*change.before)].sum()),
            int(group.n_articles[slice(*change.after)].sum()),
            int(group.carrying[slice(*change.before), k].sum()),
            int(group.carrying[slice(*change.after), k].sum()),
            _evidence(labelled, group.outlet, narrative, periods[rich[0]], periods[rich[1] - 1],
                      embeddings, n_evidence),
            group.dispersion,
        ))
    if not rows:
        return [], []
    bounds = [0, *(s.at for s in splits), len(periods)]
    segments = [(narrative, group.outlet, periods[a], periods[b - 1], b - a, *level((a, b)),
                 group.standard_error(a, b, k), int(group.n_articles[a:b].sum()))
                for a, b in zip(bounds[:-1], bounds[1:])]
    return rows, segments

def change_points(labelled: pd.DataFrame, **options) -> pd.DataFrame:
    """Changes in narrative shares, one row each: :data:`narrative.schema.CHANGEPOINT_COLUMNS`
    (narrative, outlet — ``all`` over all outlets —, period, direction, magnitude), then
    :data:`narrative.schema.CHANGE_DETAIL_COLUMNS`.

    ``period`` is the first period at the new level (a trend: the first period off the old one;
    a pulse: its first period) and ``end_period`` the first at the full new level (a pulse: its
    last period); ``kind`` is ``step``, ``trend`` or ``pulse``; ``before``/``after`` are the
    pooled shares of the segments on either side (a pulse: before and during), with 95%
    intervals from a bootstrap over articles; ``magnitude`` = after − before; ``z`` and
    ``p_value`` are those of the split's test; ``n_articles_*`` count the articles of each side and
    ``n_carrying_*`` those with some weight on the narrative; ``evidence`` lists paragraph ids
    from the side where the narrative is larger, in the periods next to the change (four, more
    where they hold too few articles carrying it); ``dispersion`` is the series group's
    period-to-period variance factor (1 = as the articles alone explain). ``attrs`` hold
    ``alpha``, ``n_series`` and ``p_cutoff``. See :func:`detect_changes` for the method and the
    options.
    """
    return detect_changes(labelled, **options).changes


# -- emerging and fading ------------------------------------------------------------------------
def emerging(
    detection: ChangeDetection,
    *,
    n_periods: int = 3,
    kinds: dict[str, str] | None = None,
    min_share: float = 0.01,
) -> pd.DataFrame:
    """Narratives whose share has moved to a new level and stayed there, from the changes found.

    A series with a step or trend is ``emerging`` (``fading``) when its last segment lasts at
    least ``n_periods`` periods and lies above (below) its first segment by more than the
    segments' cluster-robust errors allow at the change detection's own cutoff; a series that
    went back (a pulse, or up then down) is not. ``new``: an emerging narrative (a discovered
    one when ``kinds`` is given; never ``unassigned``) whose first segment is below
    ``min_share``. Flat series have no change, so they are never listed.

    Columns: narrative, outlet, status, period (first period of the move), end_period (last
    period of the series), n_periods (periods at the new level), baseline_share, share (the new
    level), magnitude (share − baseline_share), then baseline_low, baseline_high, ci_low,
    ci_high, z, kind.
    """
    from scipy.special import ndtri

    cols = ["narrative", "outlet", "status", "period", "end_period", "n_periods", "baseline_share",
            "share", "magnitude", "baseline_low", "baseline_high", "ci_low", "ci_high", "z", "kind"]
    if detection.p_cutoff <= 0 or detection.segments.empty:
        return pd.DataFrame(columns=cols)
    z_cut = float(ndtri(1 - detection.p_cutoff / 2))
    changes = detection.changes.groupby(["narrative", "outlet"], sort=False)
    rows = []
    for (narrative, outlet), segs in detection.segments.groupby(["narrative", "outlet"], sort=True):
        if (narrative, outlet) not in changes.groups:
            continue
        moves = changes.get_group((narrative, outlet))
        moves = moves[moves["kind"] != "pulse"]
        base, last = segs.iloc[0], segs.iloc[-1]
        spread = float(np.hypot(base["se"], last["se"]))
        if moves.empty or last["n_periods"] < n_periods or spread <= 0:
            continue
        z = (last["share"] - base["share"]) / spread
        if abs(z) < z_cut:
            continue
        direction = "up" if z > 0 else "down"
        same = moves[moves["direction"] == direction]
        start = same.iloc[0] if len(same) else moves.iloc[0]
        status = "emerging" if z > 0 else "fading"
        discovered = narrative != UNASSIGNED and (kinds is None or kinds.get(narrative) == "discovered")
        if status == "emerging" and discovered and base["share"] < min_share:
            status = "new"
        rows.append((narrative, outlet, status, start["period"], last["end_period"], int(last["n_periods"]),
                     float(base["share"]), float(last["share"]), float(last["share"] - base["share"]),
                     float(base["ci_low"]), float(base["ci_high"]), float(last["ci_low"]),
                     float(last["ci_high"]), float(z), str(start["kind"])))
    return pd.DataFrame(rows, columns=cols)

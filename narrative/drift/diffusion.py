"""Who carried a narrative first, and who followed: uptake per outlet, and leads between outlets.

An outlet takes a narrative up on the day its share there rises most: the best split of the
outlet's day-by-day articles into a lower and a higher level, kept only where the rise beats what
the same articles give shuffled over the days (a permutation test; the false discovery rate is
controlled over all outlet × narrative series, as for change points). Days, not weeks, so a month
of data still gives an answer. A bootstrap over articles gives each uptake day its interval, and
the gap between two outlets' uptake days (the lead) its interval. Syndicated copies are direct
evidence of who carried whom: an outlet that republishes another's article carrying the
narrative follows it, by the copy's delay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema import DIFFUSION_COLUMNS, LEAD_LAG_COLUMNS
from .segments import ArticleSeries, article_series, best_splits, bh_cutoff, split_z, valid_splits

__all__ = ["Uptake", "diffusion", "lead_lag", "syndication_links", "uptake"]


@dataclass
class Uptake:
    """The rises found: one row per (narrative, outlet) (narrative, outlet, onset, onset_low,
    onset_high, share_before, share_after, z, p_value), and each onset's bootstrap draws (days
    since 1970-01-01, aligned across outlets: draw i of every series comes from resample i)."""

    table: pd.DataFrame
    draws: dict[tuple[str, str], np.ndarray]
    alpha: float
    p_cutoff: float
    n_series: int


def _day_numbers(days: np.ndarray) -> np.ndarray:
    return (pd.to_datetime(pd.Series(days)).to_numpy().astype("datetime64[D]").astype(np.int64))


def _day_text(number: float) -> str:
    return str(np.datetime64(int(number), "D"))


def _onset_draws(group: ArticleSeries, weights: np.ndarray, splits: np.ndarray, n_bootstrap: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Bin of the best move along ``weights`` (each narrative's z of share after − before,
    weighted and summed; :func:`_move_weights`) in each of ``n_bootstrap`` resamples of the
    group's clusters."""
    moved = np.flatnonzero(weights)
    clusters, bins = len(group.n), len(group.periods)
    draws = rng.integers(0, clusters, size=(n_bootstrap, clusters))
    flat = (np.arange(n_bootstrap)[:, None] * clusters + draws).ravel()
    times = np.bincount(flat, minlength=n_bootstrap * clusters).reshape(n_bootstrap, clusters)
    onehot = np.zeros((clusters, bins))
    onehot[np.arange(clusters), group.bin_of] = 1.0
    y, n = group.y[:, moved], group.n
    Y = np.einsum("bc,ck,cd->bdk", times, y, onehot)  # resamples × bins × narratives
    N = (times * n) @ onehot
    total = np.maximum(N.sum(axis=1), 1e-12)[:, None]
    share = Y.sum(axis=1) / total
    spread = np.einsum("bc,bck->bk", times, (y[None] - share[:, None, :] * n[None, :, None]) ** 2) / total
    z = split_z(np.cumsum(Y, axis=1), np.cumsum(N, axis=1), spread, splits)
    return splits[np.argmax(z @ weights[moved], axis=1)]


def _move_weights(group: ArticleSeries, k: int, at: int, *, z_fell: float) -> np.ndarray:
    """What an outlet's rise of narrative ``k`` at bin ``at`` moved: the narratives' z's of share
    after − before there, kept for ``k`` and for the narratives that fell by ``z_fell`` or more
    (where the share came from), 0 elsewhere. The onset is placed where the move along these
    weights is largest: the narratives that lost share mark the day as well as the one that
    gained."""
    bins = len(group.periods)
    z = split_z(np.cumsum(group.Y, axis=0), np.cumsum(group.N), group.spread(0, bins), np.array([at]))[0]
    weights = np.where(z <= -z_fell, z, 0.0)
    weights[k] = max(z[k], 1e-9)
    return weights


def _place_onset(group: ArticleSeries, weights: np.ndarray, splits: np.ndarray) -> int:
    """The split among ``splits`` where the group's mix moves most along ``weights``."""
    spread = group.spread(0, len(group.periods))
    along = split_z(np.cumsum(group.Y, axis=0), np.cumsum(group.N), spread, splits) @ weights
    return int(splits[np.argmax(along)])


def uptake(
    labelled: pd.DataFrame,
    *,
    narratives: list[str] | None = None,
    weighting: str = "paragraph",
    distribution: pd.DataFrame | None = None,
    alpha: float = 0.05,
    min_days: int = 3,
    min_rise: float = 0.02,
    n_perm: int = 1000,
    max_perm: int = 20000,
    n_bootstrap: int = 200,
    seed: int = 0,
    z_fell: float = 2.0,
) -> Uptake:
    """The day each outlet took each narrative up, where it did.

    Per outlet and narrative, the articles are binned by day; the split into two levels with the
    largest rise (z of share after − before, at least ``min_days`` days with articles on each
    side) is tested against permutations of the articles over the days, and Benjamini–Hochberg
    at ``alpha`` over all series keeps the rises that are real. Rises smaller than ``min_rise``
    are dropped. ``onset`` is the first day of the higher level, placed where the outlet's mix
    moves most along the rise and the falls of the narratives that lost share to it by
    ``z_fell`` or more (:func:`_move_weights`); ``onset_low``/``onset_high`` the 2.5th and 97.5th
    percentiles of the onset over ``n_bootstrap`` resamples of the outlet's articles. Undated
    articles are left out; syndicated copies count as the outlet's articles when ``labelled``
    keeps them (:func:`narrative.drift.select_copies`).
    """
    from .shares import cell_rng, period_start

    names = list(narratives or sorted(labelled["narrative"].dropna().unique().tolist()))
    daily = labelled.assign(period=period_start(labelled["date"], "day"))
    groups = article_series(daily, names, weighting=weighting, distribution=distribution, include_all=False)
    n_series = sum(int((g.Y.sum(axis=0) > 0).sum()) for g in groups)
    enough = max(n_perm, min(max_perm, int(np.ceil(2 * max(n_series, 1) / alpha))))
    tested = []
    for group in groups:
        present = np.flatnonzero(group.Y.sum(axis=0) > 0)
        rises = best_splits(group, 0, len(group.periods), present, min_segment=min_days,
                             min_clusters=2, n_perm=n_perm, max_perm=enough, rises_only=True,
                             rng=cell_rng(seed, "uptake", group.outlet))
        tested += [(group, int(k), s) for k, s in zip(present, rises) if s is not None]
    cutoff = bh_cutoff([s.p for *_, s in tested], alpha)
    rows, draws = [], {}
    for group, k, rise in tested:
        bins = len(group.periods)
        before, after = group.share(0, rise.at, k), group.share(rise.at, bins, k)
        if rise.p > cutoff or after - before < min_rise:
            continue
        splits = valid_splits(group.N, group.G, min_days, 2)
        weights = _move_weights(group, k, rise.at, z_fell=z_fell)
        onset = _place_onset(group, weights, splits)
        before, after = group.share(0, onset, k), group.share(onset, bins, k)
        rng = cell_rng(seed, "onset", group.outlet, names[k])
        onsets = _day_numbers(group.periods[_onset_draws(group, weights, splits, n_bootstrap, rng)])
        draws[(group.outlet, names[k])] = onsets
        low, high = np.percentile(onsets, [2.5, 97.5], method="lower") if len(onsets) else (np.nan,) * 2
        rows.append((names[k], group.outlet, str(group.periods[onset]),
                     _day_text(low) if len(onsets) else None, _day_text(high) if len(onsets) else None,
                     before, after, rise.z, rise.p))
    table = pd.DataFrame(rows, columns=["narrative", "outlet", "onset", "onset_low", "onset_high",
                                        "share_before", "share_after", "z", "p_value"])
    return Uptake(table.sort_values(["narrative", "onset", "outlet"], ignore_index=True), draws,
                  alpha, cutoff, len(tested))


def syndication_links(labelled: pd.DataFrame) -> pd.DataFrame:
    """Articles that republish another outlet's article, per narrative they carry: narrative,
    source (the original's outlet), outlet (the copy's), article_id (the copy), delay_days (copy
    date − original date). From ``duplicate_of``; empty when ``labelled`` has none."""
    cols = ["narrative", "source", "outlet", "article_id", "delay_days"]
    if "duplicate_of" not in labelled or labelled["duplicate_of"].isna().all():
        return pd.DataFrame(columns=cols)
    articles = labelled.drop_duplicates("article_id").set_index("article_id")
    copies = labelled[labelled["duplicate_of"].notna()]
    copies = copies[copies["duplicate_of"].isin(articles.index)]
    source = articles["outlet"].reindex(copies["duplicate_of"]).to_numpy()
    original_date = pd.to_datetime(articles["date"].reindex(copies["duplicate_of"]).to_numpy())
    delay = (pd.to_datetime(copies["date"]).to_numpy() - original_date.to_numpy()) / np.timedelta64(1, "D")
    links = pd.DataFrame({"narrative": copies["narrative"].to_numpy(), "source": source,
                          "outlet": copies["outlet"].to_numpy(), "article_id": copies["article_id"].to_numpy(),
                          "delay_days": delay})
    links = links[links["source"] != links["outlet"]]
    return links.drop_duplicates(["narrative", "article_id"]).reset_index(drop=True)[cols]


def diffusion(labelled: pd.DataFrame, *, copies_from: pd.DataFrame | None = None,
              found: Uptake | None = None, **options) -> pd.DataFrame:
    """For each narrative, the outlets that took it up, in order: :data:`narrative.schema.DIFFUSION_COLUMNS`.

    ``rank`` 1 is the first outlet (ties share a rank); ``onset`` and its interval, the shares
    before and after, ``z`` and ``p_value`` come from :func:`uptake` (``found``, or computed from
    ``labelled`` with ``options``). ``first_seen`` is the outlet's first dated paragraph of the
    narrative, ``n_carrying`` its articles carrying it, ``n_copied`` those that republish
    another outlet's article and ``copied_from`` those outlets (``;``-separated), read from
    ``copies_from`` (default ``labelled``; pass the frame with every copy).
    """
    found = found or uptake(labelled, **options)
    table = found.table.copy()
    links = syndication_links(labelled if copies_from is None else copies_from)
    dated = labelled[labelled["date"].notna()]
    first_seen = dated.groupby(["narrative", "outlet"])["date"].min()
    carrying = labelled.groupby(["narrative", "outlet"])["article_id"].nunique()
    copied = links.groupby(["narrative", "outlet"])
    keys = list(zip(table["narrative"], table["outlet"]))
    table["rank"] = table.groupby("narrative")["onset"].rank(method="min").astype(int)
    table["first_seen"] = [str(pd.Timestamp(first_seen.get(key)).date()) if key in first_seen.index else None
                           for key in keys]
    table["n_carrying"] = [int(carrying.get(key, 0)) for key in keys]
    table["n_copied"] = [int(copied.get_group(key)["article_id"].nunique()) if key in copied.groups else 0
                         for key in keys]
    table["copied_from"] = [";".join(sorted(set(copied.get_group(key)["source"]))) if key in copied.groups
                            else "" for key in keys]
    out = table[DIFFUSION_COLUMNS].sort_values(["narrative", "rank", "outlet"], ignore_index=True)
    out.attrs.update(alpha=found.alpha, p_cutoff=found.p_cutoff, n_series=found.n_series)
    return out


def lead_lag(labelled: pd.DataFrame, *, copies_from: pd.DataFrame | None = None,
             found: Uptake | None = None, alpha: float = 0.05, **options) -> pd.DataFrame:
    """Which outlet carried each narrative first, pair by pair: :data:`narrative.schema.LEAD_LAG_COLUMNS`.

    For every two outlets that both took a narrative up (:func:`uptake`), ``lag_days`` is the
    follower's onset minus the leader's, with the 95% interval of that difference over the
    bootstrap resamples and a p-value for its sign; ``significant`` where Benjamini–Hochberg at
    ``alpha`` over all pairs rejects "no lead" (a lag of 0 is never significant). Pairs linked
    by syndication (``copies_from``, default ``labelled``) are listed too: ``n_copies`` articles
    of the follower republish the leader's, ``copy_delay_days`` is their median delay. When the
    timing is not significant but copies exist, the copies set who leads. ``evidence`` is
    ``timing``, ``syndication``, both (``timing+syndication``) or empty (no claim).
    """
    found = found or uptake(labelled, alpha=alpha, **options)
    links = syndication_links(labelled if copies_from is None else copies_from)
    copies = {key: g for key, g in links.groupby(["narrative", "source", "outlet"])}
    pairs = []
    for narrative, rows in found.table.groupby("narrative", sort=True):
        rows = rows.sort_values(["onset", "outlet"])
        for i in range(len(rows)):
            for j in range(i + 1, len(rows)):
                a, b = rows.iloc[i], rows.iloc[j]
                lag = (pd.Timestamp(b["onset"]) - pd.Timestamp(a["onset"])).days
                diffs = found.draws[(b["outlet"], narrative)] - found.draws[(a["outlet"], narrative)]
                low, high = np.percentile(diffs, [2.5, 97.5], method="lower") if len(diffs) else (np.nan,) * 2
                tail = min(np.count_nonzero(diffs <= 0), np.count_nonzero(diffs >= 0))
                p = 1.0 if lag == 0 else min(1.0, 2 * (1 + tail) / (len(diffs) + 1))
                pairs.append([narrative, a["outlet"], b["outlet"], float(lag), float(low), float(high), p,
                              a["onset"], b["onset"]])
    cutoff = bh_cutoff([p[6] for p in pairs], alpha)
    out, seen = [], set()
    for narrative, leader, follower, lag, low, high, p, onset_a, onset_b in pairs:
        significant = p <= cutoff and lag != 0
        if not significant and (narrative, follower, leader) in copies and (narrative, leader, follower) not in copies:
            leader, follower, lag, low, high = follower, leader, -lag, -high, -low
            onset_a, onset_b = onset_b, onset_a
        seen.add((narrative, leader, follower))
        out.append(_pair_row(narrative, leader, follower, lag, low, high, p, significant, onset_a, onset_b,
                             copies.get((narrative, leader, follower))))
    for (narrative, leader, follower), group in copies.items():
        if (narrative, leader, follower) not in seen and (narrative, follower, leader) not in seen:
            out.append(_pair_row(narrative, leader, follower, np.nan, np.nan, np.nan, np.nan, False,
                                 None, None, group))
    table = pd.DataFrame(out, columns=LEAD_LAG_COLUMNS)
    table = table.sort_values(["narrative", "leader", "follower"], ignore_index=True)
    table.attrs.update(alpha=alpha, p_cutoff=cutoff, n_pairs=len(pairs))
    return table


def _pair_row(narrative: str, leader: str, follower: str, lag: float, low: float, high: float,
              p: float, significant: bool, onset_a: str | None, onset_b: str | None,
              copies: pd.DataFrame | None) -> list:
    n_copies = 0 if copies is None else int(copies["article_id"].nunique())
    delay = float(copies["delay_days"].median()) if n_copies else np.nan
    evidence = "+".join(e for e, on in (("timing", significant), ("syndication", n_copies > 0)) if on)
    return [narrative, leader, follower, lag, low, high, p, bool(significant), onset_a, onset_b,
            n_copies, delay, evidence]

"""Narrative weights by outlet and period, with bootstrap intervals over articles.

Pure functions over DataFrames. Unassigned paragraphs (narrative ``unassigned``) are a share of
their own, never dropped, so shares in a cell sum to one.
"""

from __future__ import annotations

import functools
import zlib
from typing import Literal

import numpy as np
import pandas as pd

from ..schema import SHARES_COLUMNS, UNASSIGNED, UNASSIGNED_ID, UNKNOWN_OUTLET

__all__ = [
    "ALL_OUTLETS", "article_matrix", "bootstrap_shares", "cell_rng", "distribution_frame",
    "labelled_paragraphs", "narrative_shares", "outlet_shares", "paragraph_matrix", "period_start",
    "select_copies",
]

Period = Literal["day", "week", "month"]
Weighting = Literal["paragraph", "article"]
Copies = Literal["per_outlet", "once"]
ALL_OUTLETS = "all"
#: A period is flagged partial when the collection window covers less than this fraction of it
#: (5 of 7 days is a full working week, so weekday-only corpora are not flagged).
PARTIAL_COVERAGE = 0.7


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


def period_end(starts: pd.Series, period: Period = "week") -> pd.Series:
    """Last day (a Timestamp) of each period that starts at ``starts`` (ISO strings)."""
    ts = pd.to_datetime(starts)
    if period == "day":
        return ts
    if period == "week":
        return ts + pd.Timedelta(days=6)
    if period == "month":
        return ts + pd.offsets.MonthEnd(0)
    raise ValueError(f"period must be 'day', 'week' or 'month'; got {period!r}")


def labelled_paragraphs(
    articles: pd.DataFrame,
    paragraphs: pd.DataFrame,
    assignments: pd.DataFrame,
    narratives: pd.DataFrame,
    *,
    period: Period = "week",
) -> pd.DataFrame:
    """One row per assigned paragraph.

    Columns: paragraph_id, narrative_id, article_id, outlet, date, period, narrative, and, when the
    inputs hold them, ``duplicate_of`` (the article's: the first copy of a syndicated article) and
    ``text_hash`` (the paragraph's). ``attrs["period"]`` records the period kind.
    """
    names = dict(zip(narratives["narrative_id"], narratives["label"]))
    names[UNASSIGNED_ID] = UNASSIGNED
    para_cols = ["paragraph_id", "article_id"] + (["text_hash"] if "text_hash" in paragraphs else [])
    frame = assignments[["paragraph_id", "narrative_id"]].merge(
        paragraphs[para_cols], on="paragraph_id", how="inner"
    )
    art_cols = ["article_id", "outlet", "date"] + (
        ["duplicate_of"] if "duplicate_of" in articles else []
    )
    frame = frame.merge(articles[art_cols], on="article_id", how="left")
    frame["outlet"] = frame["outlet"].fillna(UNKNOWN_OUTLET)
    frame["narrative"] = frame["narrative_id"].map(names).fillna(UNASSIGNED)
    frame["period"] = period_start(frame["date"], period)
    frame = frame.sort_values(["article_id", "paragraph_id"]).reset_index(drop=True)
    frame.attrs["period"] = period
    return frame


def select_copies(paragraphs: pd.DataFrame, copies: Copies = "per_outlet") -> pd.DataFrame:
    """Drop syndicated copies: ``once`` drops every copy whose original is in the frame;
    ``per_outlet`` drops only copies whose original is from the same outlet (each outlet that ran
    a story counts it once). Frames without ``duplicate_of`` are returned unchanged.
    """
    if copies not in ("per_outlet", "once"):
        raise ValueError(f"copies must be 'per_outlet' or 'once'; got {copies!r}")
    if "duplicate_of" not in paragraphs or paragraphs["duplicate_of"].isna().all():
        return paragraphs
    outlet_of = paragraphs.drop_duplicates("article_id").set_index("article_id")["outlet"]
    original_outlet = paragraphs["duplicate_of"].map(outlet_of)
    is_copy = original_outlet.notna()
    if copies == "per_outlet":
        is_copy &= original_outlet == paragraphs["outlet"]
    return paragraphs[~is_copy]


def paragraph_matrix(
    paragraphs: pd.DataFrame, narratives: list[str], distribution: pd.DataFrame | None = None
) -> np.ndarray:
    """Paragraphs × narratives weights: one-hot (hard) or each paragraph's soft distribution.

    ``distribution`` is indexed by paragraph_id; its columns are narrative names or narrative ids
    (as ``NarrativeModel.distribution`` returns them, ``centroid_ids_`` order). Rows are scaled to
    sum to one; mass a row leaves out goes to ``unassigned`` when that narrative is listed.
    Paragraphs the distribution lacks keep their hard assignment.
    """
    index = {name: j for j, name in enumerate(narratives)}
    hard = np.zeros((len(paragraphs), len(narratives)))
    cols = paragraphs["narrative"].map(index)
    known = cols.notna().to_numpy()
    hard[np.flatnonzero(known), cols[known].astype(int).to_numpy()] = 1.0
    if distribution is None:
        return hard
    id_to_name = {}
    if "narrative_id" in paragraphs:
        id_to_name = dict(zip(paragraphs["narrative_id"], paragraphs["narrative"]))
    rename = {}
    for c in distribution.columns:
        name = c if c in index else id_to_name.get(c, id_to_name.get(_as_int(c)))
        if name in index:
            rename[c] = name
    dist = distribution[list(rename)].rename(columns=rename)
    dist = dist.T.groupby(level=0).sum().T.reindex(columns=narratives, fill_value=0.0)
    soft = dist.reindex(paragraphs["paragraph_id"]).to_numpy(dtype=float)
    have = ~np.isnan(soft).any(axis=1)
    soft = np.clip(np.nan_to_num(soft), 0, None)
    if UNASSIGNED in index:
        rest = np.clip(1.0 - soft.sum(axis=1), 0, None)
        soft[:, index[UNASSIGNED]] += rest
    total = soft.sum(axis=1, keepdims=True)
    have &= total[:, 0] > 0
    soft = np.divide(soft, total, out=np.zeros_like(soft), where=total > 0)
    return np.where(have[:, None], soft, hard)


def distribution_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Stored sparse rows (:func:`distribution_rows`) as the paragraphs × narrative ids frame that
    :func:`paragraph_matrix` takes (weights a row does not store are zero)."""
    frame = rows.pivot(index="paragraph_id", columns="narrative_id", values="weight").fillna(0.0)
    frame.columns = [int(c) for c in frame.columns]
    frame.index.name = None
    return frame


def _as_int(value: object) -> object:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return value


def article_matrix(
    paragraphs: pd.DataFrame,
    narratives: list[str],
    *,
    weighting: Weighting = "paragraph",
    distribution: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Per-article narrative weights: the sum of its paragraphs' weights (``paragraph``) or their
    mean (``article``: one vote per article, split over its paragraphs).

    Returns (meta, matrix): meta has one row per article (article_id, outlet, date, period,
    n_paragraphs) in the matrix's row order.
    """
    if weighting not in ("paragraph", "article"):
        raise ValueError(f"weighting must be 'paragraph' or 'article'; got {weighting!r}")
    weights = paragraph_matrix(paragraphs, narratives, distribution)
    codes, uniques = pd.factorize(paragraphs["article_id"], sort=True)
    matrix = np.zeros((len(uniques), len(narratives)))
    np.add.at(matrix, codes, weights)
    n_par = np.bincount(codes, minlength=len(uniques)).astype(float)
    if weighting == "article":
        matrix = matrix / np.maximum(n_par, 1)[:, None]
    first = paragraphs.drop_duplicates("article_id").set_index("article_id")
    meta = pd.DataFrame({"article_id": uniques})
    for col in ("outlet", "date", "period"):
        meta[col] = first[col].reindex(uniques).to_numpy() if col in first else None
    meta["n_paragraphs"] = n_par.astype(int)
    return meta, matrix


def _article_counts(cell: pd.DataFrame, narratives: list[str], weighting: str) -> np.ndarray:
    """Articles × narratives matrix of paragraph counts (or per-article fractions)."""
    return article_matrix(cell, narratives, weighting=weighting)[1]  # type: ignore[arg-type]


def resampled_sums(matrix: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """``matrix[draws].sum(axis=1)``: the column sums of each resample of ``matrix``'s rows
    (``draws``: resamples × row numbers), as how often each row was drawn times ``matrix``.

    The copies ``matrix[draws]`` would hold resamples × rows × narratives floats; the counts hold
    resamples × rows, a factor of the number of narratives less.
    """
    n_draws, k = draws.shape
    flat = (np.arange(n_draws)[:, None] * len(matrix) + draws).ravel()
    times = np.bincount(flat, minlength=n_draws * len(matrix)).reshape(n_draws, len(matrix))
    return times.astype(matrix.dtype if matrix.dtype.kind == "f" else float) @ matrix


def bootstrap_shares(
    counts: np.ndarray, *, n_bootstrap: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shares and percentile intervals from resampling the rows (articles) with replacement."""
    total = counts.sum(axis=0)
    share = total / total.sum() if total.sum() > 0 else np.full_like(total, np.nan)
    k = counts.shape[0]
    if n_bootstrap <= 0 or k < 2:
        nan = np.full_like(share, np.nan)
        return share, nan, nan
    draws = rng.integers(0, k, size=(n_bootstrap, k))
    sums = resampled_sums(counts, draws)  # n_bootstrap × narratives
    boot = sums / np.maximum(sums.sum(axis=1, keepdims=True), 1e-12)
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    # The bootstrap variance of a mean over k rows is (k-1)/k of the unbiased one: widen the
    # interval around the share by sqrt(k/(k-1)) so small cells are not over-confident.
    widen = np.sqrt(k / (k - 1))
    low = np.clip(share - (share - low) * widen, 0.0, 1.0)
    high = np.clip(share + (high - share) * widen, 0.0, 1.0)
    return share, low, high


def cell_rng(seed: int, *cell: str) -> np.random.Generator:
    """The bootstrap's random generator for one cell (period, outlet), from ``seed`` and the
    cell's names: a cell's interval then depends on its own articles only, so articles added to
    other periods or outlets leave it (and a figure that shows it) unchanged."""
    key = zlib.crc32("\x1f".join(cell).encode("utf-8"))
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, key])


def collection_windows(meta: pd.DataFrame) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """First and last dated article per outlet, and over all outlets under ``"all"``."""
    dates = pd.to_datetime(meta["date"], errors="coerce")
    dated = meta.assign(_d=dates)[dates.notna()]
    windows = {o: (g["_d"].min(), g["_d"].max()) for o, g in dated.groupby("outlet")}
    if not dated.empty:
        windows[ALL_OUTLETS] = (dated["_d"].min(), dated["_d"].max())
    return windows


@functools.lru_cache(maxsize=4096)
def _period_bounds(period: str, kind: Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a period (cached: every outlet's cell of a period asks again)."""
    return pd.Timestamp(period), period_end(pd.Series([period]), kind).iloc[0]


def period_coverage(
    period: str, window: tuple[pd.Timestamp, pd.Timestamp], kind: Period = "week"
) -> float:
    """Fraction of the period's days inside the collection window (1.0 = fully collected)."""
    start, end = _period_bounds(period, kind)
    days = (end - start).days + 1
    lo, hi = max(start, window[0].normalize()), min(end, window[1].normalize())
    return max((hi - lo).days + 1, 0) / days


def narrative_shares(
    paragraphs: pd.DataFrame,
    *,
    narratives: list[str] | None = None,
    weighting: Weighting = "paragraph",
    n_bootstrap: int = 200,
    min_articles: int = 3,
    seed: int = 0,
    include_all: bool = True,
    distribution: pd.DataFrame | None = None,
    copies: Copies | None = None,
    period: Period | None = None,
) -> pd.DataFrame:
    """Share of each narrative per (period, outlet), plus ``outlet == "all"`` per period.

    ``paragraphs`` comes from :func:`labelled_paragraphs`. Paragraphs without a period (undated
    articles) are left out of the time view (``attrs["n_undated_articles"]`` counts them). Every
    narrative appears in every cell (zero shares included). Cells with fewer than ``min_articles``
    articles are marked ``insufficient`` and get no interval. Intervals: percentile bootstrap over
    articles, seeded per cell (:func:`cell_rng`). ``distribution`` gives soft shares (see
    :func:`paragraph_matrix`); ``copies`` (None: keep all) drops syndicated copies (see :func:`select_copies`). ``partial`` flags the
    first/last periods that the outlet's collection window covers only in part (``coverage``).
    """
    names = list(narratives or sorted(paragraphs["narrative"].unique().tolist()))
    kind: Period = period or paragraphs.attrs.get("period", "week")
    if copies is not None:
        paragraphs = select_copies(paragraphs, copies)
    meta, matrix = article_matrix(
        paragraphs, names, weighting=weighting, distribution=distribution
    )
    undated = meta["period"].isna().to_numpy()
    windows = collection_windows(meta[~undated])
    meta, matrix = meta[~undated].reset_index(drop=True), matrix[~undated]
    groups = [((p, o), idx) for (p, o), idx in meta.groupby(["period", "outlet"], sort=True).indices.items()]
    if include_all:
        groups += [((p, ALL_OUTLETS), idx) for p, idx in meta.groupby("period", sort=True).indices.items()]
    rows = []
    outlet_code = pd.factorize(meta["outlet"])[0]  # -1: no outlet
    n_par_of = meta["n_paragraphs"].to_numpy()
    for (per, outlet), idx in groups:
        counts = matrix[idx]
        n_articles = counts.shape[0]
        share, low, high = bootstrap_shares(counts, n_bootstrap=n_bootstrap,
                                            rng=cell_rng(seed, per, outlet))
        insufficient = n_articles < min_articles
        coverage = period_coverage(per, windows[outlet], kind)
        codes = outlet_code[idx]
        n_outlets = len(np.unique(codes[codes >= 0]))
        n_par = int(n_par_of[idx].sum())
        for j, name in enumerate(names):
            rows.append(
                (per, outlet, name, float(share[j]),
                 np.nan if insufficient else float(low[j]),
                 np.nan if insufficient else float(high[j]),
                 int(n_articles), n_par, bool(insufficient), coverage < PARTIAL_COVERAGE,
                 round(coverage, 3), n_outlets)
            )
    columns = SHARES_COLUMNS + [
        "n_paragraphs", "insufficient", "partial", "coverage", "n_outlets"
    ]
    out = pd.DataFrame(rows, columns=columns).sort_values(
        ["period", "outlet", "narrative"], ignore_index=True
    )
    out.attrs.update(
        n_undated_articles=int(undated.sum()), period=kind, weighting=weighting,
        copies=copies or "all", soft=distribution is not None,
    )
    return out


def outlet_shares(
    paragraphs: pd.DataFrame,
    *,
    narratives: list[str] | None = None,
    weighting: Weighting = "paragraph",
    min_articles: int = 3,
    n_bootstrap: int = 200,
    seed: int = 0,
    distribution: pd.DataFrame | None = None,
    copies: Copies | None = None,
) -> pd.DataFrame:
    """Share of each narrative per outlet over the whole corpus (dated or not).

    Columns: outlet, narrative, share, n_articles, then ci_low, ci_high (bootstrap over articles)
    and n_undated; share is NaN where the outlet has fewer than ``min_articles`` articles.
    """
    names = list(narratives or sorted(paragraphs["narrative"].unique().tolist()))
    if copies is not None:
        paragraphs = select_copies(paragraphs, copies)
    meta, matrix = article_matrix(paragraphs, names, weighting=weighting, distribution=distribution)
    rows = []
    for outlet, idx in sorted(meta.groupby("outlet").indices.items()):
        share, low, high = bootstrap_shares(matrix[idx], n_bootstrap=n_bootstrap,
                                            rng=cell_rng(seed, "", outlet))
        enough = len(idx) >= min_articles
        n_undated = int(meta["period"].iloc[idx].isna().sum())
        for j, name in enumerate(names):
            rows.append(
                (outlet, name, float(share[j]) if enough else np.nan, len(idx),
                 float(low[j]) if enough else np.nan, float(high[j]) if enough else np.nan,
                 n_undated)
            )
    return pd.DataFrame(
        rows, columns=["outlet", "narrative", "share", "n_articles", "ci_low", "ci_high", "n_undated"]
    )

"""Drift: narrative shares by outlet and period with intervals, and the findings built on them.

:func:`compute_drift` reads a run from the store and returns :class:`DriftFrames`, every table at
once (:func:`drift_tables`). The computation lives in pure modules over DataFrames:
:mod:`.shares` (shares with bootstrap intervals over articles), :mod:`.change` (divergence, change
points, emerging and fading), :mod:`.compare` (collection windows, outlet comparison, lead-lag) and
:mod:`.framing` (terms and centroid shift inside a narrative).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from ..config import Settings
from ..errors import StoreError
from ..frames import isin
from ..model.lineage import map_ids
from ..saved_runs import load_run_model, narrative_table, run_stats
from .change import change_points, emerging
from .divergence import divergence, js_divergence
from .shares import (
    ALL_OUTLETS, Copies, Period, Weighting, distribution_frame, labelled_paragraphs,
    narrative_shares, outlet_shares, period_start, select_copies,
)
from .change import detect_changes
from .diffusion import diffusion, lead_lag, uptake
from .power import detectable_in, detectable_steps

if TYPE_CHECKING:
    from ..store import Store

__all__ = [
    "ALL_OUTLETS", "DriftFrames", "change_points", "compute_drift", "detect_changes", "detectable_steps", "diffusion",
    "divergence", "drift_tables", "emerging", "js_divergence", "labelled_paragraphs", "lead_lag",
    "narrative_shares", "outlet_shares", "period_start", "select_copies", "suspicious_dates",
    "uptake",
]


@dataclass
class DriftFrames:
    """Every drift table of one run (see :func:`narrative.drift.drift_tables`)."""

    paragraphs: pd.DataFrame  # labelled paragraphs
    tables: dict[str, pd.DataFrame]
    narrative_order: list[str]
    left_out: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LEFT_OUT_COLUMNS))
    """Articles left out of the time views for a suspicious date (see :func:`suspicious_dates`)."""

    @property
    def shares(self) -> pd.DataFrame:
        return self.tables["shares"]

    @property
    def outlet_shares(self) -> pd.DataFrame:
        return self.tables["outlet_shares"]

    @property
    def changepoints(self) -> pd.DataFrame:
        return self.tables["changepoints"]


#: Columns of :attr:`DriftFrames.left_out`.
LEFT_OUT_COLUMNS = ["article_id", "outlet", "date", "reason"]


def suspicious_dates(articles: pd.DataFrame) -> pd.DataFrame:
    """The articles whose date the ingest flagged as suspicious (``meta["date_flag"]``: before
    1900, or after the day it was ingested), with the flag as ``reason``.

    Such a date is kept in the store (it may be right), but it is left out of the time views: one
    article dated 0001-01-01 or 9999-12-31 would stretch every time axis over millennia (beyond
    what matplotlib can draw) and add periods holding one article. It still counts in the totals.
    """
    if "meta" not in articles or articles.empty:
        return pd.DataFrame(columns=LEFT_OUT_COLUMNS)
    flags = articles["meta"].map(_date_flag)
    flagged = articles[flags.notna() & articles["date"].notna()]
    return pd.DataFrame({
        "article_id": flagged["article_id"].to_numpy(), "outlet": flagged["outlet"].to_numpy(),
        "date": [str(d)[:10] for d in flagged["date"]], "reason": flags[flagged.index].to_numpy(),
    }, columns=LEFT_OUT_COLUMNS)


def _date_flag(meta: object) -> str | None:
    """The ingest's ``date_flag`` in an article's meta (a JSON text), or None."""
    try:
        value = json.loads(meta) if isinstance(meta, str) else meta
    except ValueError:
        return None
    flag = value.get("date_flag") if isinstance(value, dict) else None
    return str(flag) if flag else None


def compute_drift(store: Store, run_id: str, *, settings: Settings = Settings(),
                  share: Callable | None = None) -> DriftFrames:
    """Shares with intervals, change points, divergence, emerging narratives, framing drift.

    Articles with a suspicious date (:func:`suspicious_dates`) count as undated here: left out of
    the time views, still counted in the outlet totals; ``left_out`` lists them. ``share``: see
    :func:`drift_tables` (``narrative.runtime.workers.sharer(settings.workers)``).
    """
    narratives = narrative_table(store, run_id)
    paragraphs = store.paragraphs()
    articles = store.articles()
    left_out = suspicious_dates(articles)
    articles.loc[isin(articles["article_id"], left_out["article_id"]), "date"] = None
    labelled = labelled_paragraphs(
        articles, paragraphs, store.assignments(run_id), narratives, period=settings.period
    )
    run = store.run(run_id)
    model_run = run_stats(store, run_id).model_run
    order = _narrative_order(narratives, None if model_run == run_id else
                             store.narratives(model_run).set_index("narrative_id")["size"])
    model_id = run["settings"].get("embedding_model", settings.embedding_model)
    if run["settings"].get("precision", "fp32") != "fp32":
        model_id = f"{model_id}@{run['settings']['precision']}"
    distinct = paragraphs.drop_duplicates("text_hash")
    try:
        vectors = store.get_embeddings(distinct["text_hash"].tolist(), model_id)
        embeddings = dict(zip(distinct["text_hash"], vectors))
    except StoreError:  # embeddings of another model only: framing shift is left empty
        embeddings = None
    distribution = None
    if settings.shares == "soft":
        stored = store.distributions(run_id)
        distribution = (distribution_frame(stored) if len(stored)  # runs stored before: compute
                        else soft_distribution_frame(store, run_id, labelled, embeddings))
    tables = drift_tables(
        labelled, narratives=order, period=settings.period, weighting=settings.weighting,
        distribution=distribution,
        copies=settings.copies, n_bootstrap=settings.n_bootstrap,
        min_articles=settings.min_articles, seed=settings.seed,
        kinds=dict(zip(narratives["label"], narratives["kind"])),
        embeddings=embeddings, texts=dict(zip(distinct["text_hash"], distinct["text"])),
        alpha=settings.alpha, share=share,
    )
    return DriftFrames(paragraphs=labelled, tables=tables, narrative_order=order, left_out=left_out)


def _narrative_order(narratives: pd.DataFrame, fitted_sizes: pd.Series | None = None) -> list[str]:
    """Named narratives first (codebook order = id order), then discovered by size, unassigned last.

    ``fitted_sizes`` (by narrative id): the sizes when the model was fitted, which an update run
    ranks by, so that assigning new paragraphs never reorders the narratives (nor, so, changes
    their colours in every figure).
    """
    kind_rank = {"named": 0, "discovered": 1, "unassigned": 2}
    size = narratives["size"]
    if fitted_sizes is not None:
        size = narratives["narrative_id"].map(fitted_sizes).fillna(size)
    ordered = narratives.assign(_k=narratives["kind"].map(kind_rank), _size=size).sort_values(
        ["_k", "_size", "narrative_id"], ascending=[True, False, True]
    )
    return ordered["label"].tolist()


def soft_distribution_frame(
    store: Store, run_id: str, labelled: pd.DataFrame, embeddings: dict[str, np.ndarray] | None
) -> pd.DataFrame:
    """Each assigned paragraph's soft narrative mixture, from the run's saved centroids: the soft
    shares of a run stored before runs kept their mixtures (``Store.distributions``).

    Unassigned paragraphs are left out, so they keep counting as ``unassigned``: soft shares
    spread the assigned mass, they do not hide the paragraphs no narrative claims.
    """
    if embeddings is None:
        raise StoreError(f"run {run_id}: no embeddings in the store for soft shares")
    model, id_map = load_run_model(store, run_id)
    columns = map_ids(model.centroid_ids_, id_map)
    assigned = labelled[labelled["narrative_id"] != -1]
    vectors = np.stack([embeddings[h] for h in assigned["text_hash"]]) if len(assigned) else None
    if vectors is None:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(
        model.distribution(vectors), index=assigned["paragraph_id"].to_numpy(), columns=columns,
    )


def drift_tables(
    labelled: pd.DataFrame,
    *,
    narratives: list[str],
    period: Period,
    weighting: Weighting = "paragraph",
    copies: Copies = "per_outlet",
    n_bootstrap: int,
    min_articles: int,
    seed: int,
    distribution: pd.DataFrame | None = None,
    embeddings: dict[str, np.ndarray] | None = None,
    texts: dict[str, str] | None = None,
    kinds: dict[str, str] | None = None,
    baseline_periods: int = 4,
    emerging_periods: int = 3,
    alpha: float = 0.05,
    share: Callable | None = None,
) -> dict[str, pd.DataFrame]:
    """Every drift table from one labelled frame (:func:`labelled_paragraphs` output).

    Keys: shares, outlet_shares, changepoints, detectable, divergence, emerging, diffusion,
    lead_lag, framing, outlet_comparison, coverage. ``detectable`` says per outlet how large a
    move the change detection would see (:func:`.power.detectable_in`, on the detection's own
    binned articles). Change points, emerging narratives, diffusion and
    lead-lag are tested on the articles themselves, with the false discovery rate held at
    ``alpha`` (see :mod:`.change` and :mod:`.diffusion`); diffusion and lead-lag work day by
    day whatever ``period`` is, and count syndicated copies (from ``labelled``, before
    ``copies`` drops any) as direct evidence. ``embeddings`` and ``texts`` are keyed by
    paragraph_id or text_hash; without them ``framing`` has no centroid shift / no terms and
    change points pick evidence paragraphs by how much their articles carry the narrative.
    ``kinds`` maps narrative name to named/discovered/unassigned (marks late-appearing
    discovered narratives as ``new``). With ``share``
    (:func:`narrative.runtime.workers.share_beside`, handed in so that drift imports no process
    machinery), framing drift, the slowest table (a term count per narrative), runs in a forked
    process beside the others too; the tables are the same.
    """
    from .compare import coverage_table, outlet_comparison
    from .framing import framing_drift

    if period != labelled.attrs.get("period", period):
        labelled = labelled.assign(period=period_start(labelled["date"], period))
    labelled.attrs["period"] = period
    kept = select_copies(labelled, copies)
    framing_job = functools.partial(
        framing_drift, kept, texts=texts, embeddings=embeddings, seed=seed
    )
    framing = _framing_shared(framing_job, narratives, kept, share) if share else None
    common = dict(narratives=narratives, weighting=weighting, distribution=distribution)
    shares = narrative_shares(
        kept, n_bootstrap=n_bootstrap, min_articles=min_articles, seed=seed, period=period, **common
    )
    changes = detect_changes(kept, alpha=alpha, n_bootstrap=n_bootstrap, embeddings=embeddings,
                             seed=seed, **common)
    taken_up = uptake(kept, alpha=alpha, n_bootstrap=n_bootstrap, seed=seed, **common)
    tables = {
        "shares": shares,
        "outlet_shares": outlet_shares(
            kept, min_articles=min_articles, n_bootstrap=n_bootstrap, seed=seed, **common
        ),
        "changepoints": changes.changes,
        "detectable": detectable_in(changes.groups, changes.narratives, alpha=alpha,
                                    n_tests=changes.n_tests, seed=seed),
        "divergence": divergence(shares, baseline_periods=baseline_periods),
        "emerging": emerging(changes, n_periods=emerging_periods, kinds=kinds),
        "diffusion": diffusion(kept, copies_from=labelled, found=taken_up),
        "lead_lag": lead_lag(kept, copies_from=labelled, found=taken_up, alpha=alpha),
        "coverage": coverage_table(labelled, kept, period=period),
        "outlet_comparison": outlet_comparison(
            kept, n_bootstrap=n_bootstrap, min_articles=min_articles, seed=seed, **common
        ),
    }
    tables["framing"] = framing() if framing is not None else framing_job(narratives=narratives)
    return tables


def _framing_shared(job: Callable[..., pd.DataFrame], narratives: list[str],
                    labelled: pd.DataFrame, share: Callable) -> Callable[[], pd.DataFrame] | None:
    """Framing drift shared by ``share`` (:func:`narrative.runtime.workers.share_beside`) with a
    forked process: both take narratives, largest first, while this process computes the other
    tables. Returns a function that finishes this process's part and gives the whole table (the
    same table: each narrative has its own random draws). None when ``share`` cannot fork here."""
    size = labelled["narrative"].value_counts()
    order = sorted(narratives, key=lambda n: -int(size.get(n, 0)))  # stable: ties keep order
    finish = share(lambda names: job(narratives=names), order, name="narrative-framing")
    if finish is None:
        return None

    def result() -> pd.DataFrame:
        parts = [part for part in finish() if len(part)] or [job(narratives=[])]
        return pd.concat(parts, ignore_index=True).sort_values(
            ["narrative", "outlet", "period"], ignore_index=True)

    return result

"""What the explorer page embeds: aggregates for the charts and the paragraphs behind them.

Charts get the drift tables, already aggregated (a few rows per outlet, period and narrative).
Paragraphs come from :func:`narrative.query.paragraph_query`, so a selection on the page lists the
rows :func:`narrative.query.paragraphs` returns for it, in its order. A run with more than
``max_paragraphs`` paragraphs embeds a sample: the ``k`` most typical paragraphs of every
narrative × outlet × period cell, with ``k`` as large as the budget allows; the exact count of
every cell is embedded too, so the page says how many paragraphs a selection holds and how many
of them it shows.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..query import paragraph_query
from ..schema import UNASSIGNED

if TYPE_CHECKING:
    from ..drift import DriftFrames
    from ..store import Store

#: Paragraphs embedded at most (their text makes the file's size).
MAX_PARAGRAPHS = 20_000
#: Characters of paragraph text embedded at most; longer texts end with an ellipsis.
TEXT_CHARS = 1_200
_ORDER = "probability DESC NULLS LAST, paragraph_id"
_CELL = "narrative_id, outlet, period"


def explorer_data(
    store: "Store",
    run_id: str,
    drift: "DriftFrames",
    *,
    period_kind: str,
    copies: str,
    min_articles: int = 3,
    max_paragraphs: int = MAX_PARAGRAPHS,
    text_chars: int = TEXT_CHARS,
) -> dict[str, Any]:
    """Everything the page shows, as plain JSON-ready data (columns as lists)."""
    from ..figures.style import narrative_colors
    from ..saved_runs import narrative_table

    table = narrative_table(store, run_id)
    order = list(drift.narrative_order)
    order += [n for n in table["label"] if n not in order]
    if UNASSIGNED not in order:
        order.append(UNASSIGNED)
    kind_of = dict(zip(table["label"], table["kind"]))
    colors = narrative_colors(order)
    id_of = dict(zip(table["narrative_id"], table["label"]))
    counts = _cell_counts(store, run_id, period_kind)
    shares = drift.tables["shares"]
    outlets = sorted(set(counts["outlet"]) | set(shares["outlet"]) - {"all"})
    periods = sorted(set(counts["period"].dropna()) | set(shares["period"].dropna()))
    index = {"narrative": {n: i for i, n in enumerate(order)},
             "outlet": {o: i for i, o in enumerate(outlets)},
             "period": {p: i for i, p in enumerate(periods)}}
    counts["narrative"] = counts["narrative_id"].map(id_of).fillna(UNASSIGNED)
    per_cell, sample = _sample_size(counts["n"].to_numpy(), max_paragraphs)
    rows = _paragraph_rows(store, run_id, period_kind, per_cell)
    articles = rows.drop_duplicates("article_id").reset_index(drop=True)
    article_index = {a: i for i, a in enumerate(articles["article_id"])}
    return {
        "run_id": run_id,
        "period_kind": period_kind,
        "copies": copies,
        "min_articles": int(min_articles),
        "narratives": [{"name": n, "kind": kind_of.get(n, "unassigned" if n == UNASSIGNED else
                                                        "discovered"), "color": colors[n]}
                       for n in order],
        "outlets": outlets,
        "periods": periods,
        "shares": _columns(shares, index, ["share", "ci_low", "ci_high", "n_articles",
                                           "n_paragraphs", "insufficient"]),
        "outlet_shares": _columns(drift.tables["outlet_shares"], index,
                                  ["share", "ci_low", "ci_high", "n_articles"]),
        "cells": {"narrative": _codes(counts["narrative"], index["narrative"]),
                  "outlet": _codes(counts["outlet"], index["outlet"]),
                  "period": _codes(counts["period"], index["period"]),
                  "n": counts["n"].astype(int).tolist()},
        "articles": {"outlet": _codes(articles["outlet"], index["outlet"]),
                     "date": [None if pd.isna(d) else pd.Timestamp(d).date().isoformat()
                              for d in articles["date"]],
                     "title": _texts(articles["title"]),
                     "url": [_http_url(u) for u in articles["url"]]},
        "paragraphs": {
            "id": rows["paragraph_id"].tolist(),
            "article": rows["article_id"].map(article_index).astype(int).tolist(),
            "narrative": _codes(rows["narrative"], index["narrative"]),
            "period": _codes(rows["period"], index["period"]),
            "sub": _texts(rows["sub_narrative"]),
            "probability": [None if pd.isna(p) else round(float(p), 4) for p in rows["probability"]],
            "copy": (rows["copy_of"].notna() | rows["article_copy_of"].notna()).tolist(),
            "text": [_clip(t, text_chars) for t in rows["text"]],
        },
        "sample": {"per_cell": per_cell, "embedded": int(len(rows)), "total": sample,
                   "text_chars": text_chars},
    }


def _cell_counts(store: "Store", run_id: str, period_kind: str) -> pd.DataFrame:
    """Paragraphs per narrative × outlet × period (period None: undated), every one counted."""
    query = paragraph_query(store, run_id, period_kind=period_kind, order=False)  # type: ignore[arg-type]
    return store.con.execute(
        f"SELECT {_CELL}, count(*) AS n FROM ({query.sql}) GROUP BY ALL ORDER BY ALL",
        query.params).df()


def _sample_size(sizes: np.ndarray, budget: int) -> tuple[int | None, int]:
    """The largest ``k`` such that the ``k`` first paragraphs of every cell fit in ``budget``
    (None: every paragraph fits), and the number of paragraphs in all."""
    total = int(sizes.sum())
    if total <= budget:
        return None, total
    low, high = 0, int(sizes.max())  # sum(min(k, sizes)) grows with k: bisect
    while low < high:
        k = (low + high + 1) // 2
        if int(np.minimum(sizes, k).sum()) <= budget:
            low = k
        else:
            high = k - 1
    return max(low, 1), total


def _paragraph_rows(store: "Store", run_id: str, period_kind: str, per_cell: int | None
                    ) -> pd.DataFrame:
    """The embedded paragraphs in :func:`narrative.query.paragraphs` order (the most typical
    ``per_cell`` of each cell, or all)."""
    query = paragraph_query(store, run_id, period_kind=period_kind, order=False)  # type: ignore[arg-type]
    keep = "" if per_cell is None else (
        f"QUALIFY row_number() OVER (PARTITION BY {_CELL} ORDER BY {_ORDER}) <= {int(per_cell)}")
    columns = ("paragraph_id, article_id, outlet, date, period, title, url, text, narrative, "
               "sub_narrative, probability, copy_of, article_copy_of")
    return store.con.execute(
        f"SELECT {columns} FROM ({query.sql}) {keep} ORDER BY {_ORDER}", query.params).df()


def _columns(frame: pd.DataFrame, index: dict[str, dict[str, int]], values: list[str]
             ) -> dict[str, list]:
    """A drift table as lists: names as indexes into the page's lists, ``outlet`` ``all`` as -1."""
    out: dict[str, list] = {}
    for key in ("period", "outlet", "narrative"):
        if key in frame:
            out[key] = [-1 if (key == "outlet" and v == "all") else index[key].get(v, -1)
                        for v in frame[key]]
    for column in values:
        if column in frame:
            out[column] = [_number(v) for v in frame[column]]
    return out


def _codes(values: pd.Series, index: dict[str, int]) -> list[int]:
    """Each value's position in the page's list; -1 for a missing one (an undated period)."""
    return [-1 if v is None or (isinstance(v, float) and math.isnan(v)) else index.get(v, -1)
            for v in values.astype(object)]


def _number(value: Any) -> Any:
    """JSON-safe: NaN as null, numpy scalars as Python numbers."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or pd.isna(value):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    return round(float(value), 5)


def _texts(values: pd.Series) -> list[str | None]:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            for v in values.astype(object)]


def _clip(text: Any, limit: int) -> str:
    text = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _http_url(url: Any) -> str | None:
    """The URL when it is a plain http(s) link (the page links nothing else), else None."""
    from ..urls import safe_url

    return safe_url(url)

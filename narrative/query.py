"""From a number to its paragraphs: one run's paragraphs with their text and metadata.

:func:`paragraphs` answers "which paragraphs are behind this share?" with one SQL query over the
store, filtered by narrative, outlet and period the way the drift tables group them (outlet
``(unknown outlet)`` for articles without one, ``unassigned`` for paragraphs no narrative claims,
a period named by the ISO date of its first day). :func:`paragraph_query` is that query as SQL text
and parameters, so an export can stream it to a file without loading it.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd

from .errors import InputError
from .schema import UNASSIGNED, UNASSIGNED_ID, UNKNOWN_OUTLET

if TYPE_CHECKING:
    from .store import Store

__all__ = ["NUMERIC_COLUMNS", "QUERY_COLUMNS", "UNKNOWN_OUTLET", "ParagraphQuery", "paragraph_query", "paragraphs"]

#: The outlet of articles that name none, as :func:`narrative.drift.labelled_paragraphs` names it.

#: Columns of :func:`paragraphs`, in order.
QUERY_COLUMNS = [
    "paragraph_id", "article_id", "outlet", "date", "period", "title", "author", "url", "position",
    "text", "narrative_id", "narrative", "sub_narrative", "probability", "secondary_narrative",
    "secondary_weight", "copy_of", "article_copy_of",
]
#: The columns of :data:`QUERY_COLUMNS` that are not text (a date, numbers).
NUMERIC_COLUMNS = frozenset({"date", "position", "narrative_id", "probability", "secondary_weight"})

Period = Literal["day", "week", "month"]


@dataclass(frozen=True)
class ParagraphQuery:
    """SQL text and its parameters, ready for ``con.execute(sql, params)`` or a ``COPY``."""

    sql: str
    params: list
    run_id: str


def paragraphs(
    store: "Store",
    run: str | None = None,
    narrative: str | None = None,
    outlet: str | None = None,
    period: str | None = None,
    *,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    limit: int | None = None,
    period_kind: Period | None = None,
) -> pd.DataFrame:
    """The paragraphs of a run, most typical of their narrative first, with text and metadata.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str, default=None
        Run id; None: the latest run.
    narrative : str, default=None
        A narrative's label or codebook name, or ``"unassigned"``; None: every narrative.
    outlet : str, default=None
        An outlet as the drift tables name it (``"(unknown outlet)"`` for articles without one).
    period : str, default=None
        ISO date of a period's first day, as in ``shares.csv`` (weeks start on Monday).
    date_from, date_to : str or date, default=None
        Inclusive bounds on the article date; articles without a date are left out when either
        is given.
    limit : int, default=None
        At most this many rows (the most typical ones).
    period_kind : {"day", "week", "month"}, default=None
        How ``period`` and the ``period`` column are cut; None: the run's own setting.

    Returns
    -------
    DataFrame
        One row per paragraph, columns :data:`QUERY_COLUMNS`. ``probability`` is the run's
        membership score of the paragraph in its narrative (for this package's model, its
        typicality: the cosine similarity to the codebook's description or example sentences of a
        named narrative, to the centroid of a discovered one); rows are ordered by it, highest
        first, then by
        paragraph id. ``secondary_narrative`` and ``secondary_weight`` are the strongest other
        narrative in the paragraph's stored soft mixture. ``copy_of`` is the paragraph this one
        repeats and ``article_copy_of`` the article its article copies (both None for originals).
    """
    query = paragraph_query(store, run, narrative, outlet, period, date_from=date_from,
                            date_to=date_to, limit=limit, period_kind=period_kind)
    frame = store.con.execute(query.sql, query.params).df()
    frame.attrs["run_id"] = query.run_id
    return frame


def paragraph_query(
    store: "Store",
    run: str | None = None,
    narrative: str | None = None,
    outlet: str | None = None,
    period: str | None = None,
    *,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    limit: int | None = None,
    period_kind: Period | None = None,
    order: bool = True,
) -> ParagraphQuery:
    """The SQL behind :func:`paragraphs` (same arguments); ``order=False`` leaves the rows unsorted
    (cheaper when the reader sorts, or needs no order)."""
    record = store.run(run)
    run_id = record["run_id"]
    kind = period_kind or record["settings"].get("period", "week")
    if kind not in ("day", "week", "month"):
        raise InputError(f"period kind must be day, week or month; got {kind!r}")
    where, params = ["a_.run_id = ?"], [run_id]
    if narrative is not None:
        where.append("a_.narrative_id = ?")
        params.append(narrative_id(store, run_id, narrative))
    if outlet is not None:
        where.append(f"coalesce(ar.outlet, '{UNKNOWN_OUTLET}') = ?")
        params.append(_known_outlet(store, outlet))
    if period is not None:
        start, end = period_bounds(period, kind)
        where.append("ar.date BETWEEN ? AND ?")
        params += [start, end]
    if date_from is not None:
        where.append("ar.date >= ?")
        params.append(_as_date(date_from, "date_from"))
    if date_to is not None:
        where.append("ar.date <= ?")
        params.append(_as_date(date_to, "date_to"))
    has = _optional_parts(store)
    sub_id = "a_.sub_id" if has["sub_id"] else "-1"
    sql = f"""
WITH picked AS (
    SELECT a_.paragraph_id, a_.narrative_id, a_.probability, {sub_id} AS sub_id
    FROM assignments a_
    JOIN paragraphs p USING (paragraph_id)
    LEFT JOIN articles ar USING (article_id)
    WHERE {' AND '.join(where)}
), second AS ({_secondary_sql(has['distributions'])})
SELECT p.paragraph_id, p.article_id, coalesce(ar.outlet, '{UNKNOWN_OUTLET}') AS outlet, ar.date,
       strftime(date_trunc('{kind}', ar.date), '%Y-%m-%d') AS period,
       ar.title, ar.author, ar.url, p.position, p.text,
       k.narrative_id, coalesce(n.label, '{UNASSIGNED}') AS narrative,
       {"s.label" if has["subnarratives"] else "CAST(NULL AS VARCHAR)"} AS sub_narrative,
       k.probability,
       coalesce(n2.label, CASE WHEN second.narrative_id = {UNASSIGNED_ID} THEN '{UNASSIGNED}' END)
           AS secondary_narrative,
       second.weight AS secondary_weight,
       p.duplicate_of AS copy_of, ar.duplicate_of AS article_copy_of
FROM picked k
JOIN paragraphs p USING (paragraph_id)
LEFT JOIN articles ar USING (article_id)
LEFT JOIN narratives n ON n.run_id = ? AND n.narrative_id = k.narrative_id
{"LEFT JOIN subnarratives s ON s.run_id = ? AND s.narrative_id = k.narrative_id AND s.sub_id = k.sub_id"
 if has["subnarratives"] else ""}
LEFT JOIN second ON second.paragraph_id = k.paragraph_id
LEFT JOIN narratives n2 ON n2.run_id = ? AND n2.narrative_id = second.narrative_id
"""
    # in the order of the placeholders: second, n, s, n2
    params += [run_id] * (int(has["distributions"]) + 2 + int(has["subnarratives"]))
    if order:
        sql += "ORDER BY k.probability DESC NULLS LAST, p.paragraph_id\n"
    if limit is not None:
        if int(limit) < 0:
            raise InputError(f"limit must be >= 0; got {limit}")
        sql += f"LIMIT {int(limit)}\n"
    return ParagraphQuery(sql, params, run_id)


def _secondary_sql(have_distributions: bool) -> str:
    """Each picked paragraph's strongest narrative other than its own in the stored mixture
    (ties: the lower id), as ``paragraph_id, narrative_id, weight``."""
    if not have_distributions:
        return ("SELECT CAST(NULL AS VARCHAR) AS paragraph_id, CAST(NULL AS INTEGER) AS "
                "narrative_id, CAST(NULL AS DOUBLE) AS weight WHERE false")
    return """
    SELECT d.paragraph_id, arg_max(d.narrative_id, (d.weight, -d.narrative_id)) AS narrative_id,
           max(d.weight) AS weight
    FROM distributions d JOIN picked k ON k.paragraph_id = d.paragraph_id
    WHERE d.run_id = ? AND d.narrative_id <> k.narrative_id
    GROUP BY d.paragraph_id"""


def _optional_parts(store: "Store") -> dict[str, bool]:
    """Which tables and columns added after the first stores exist here (an older store opened
    read-only keeps its old schema)."""
    rows = store.con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE table_name IN ('assignments', 'subnarratives', 'distributions')"
    ).fetchall()
    tables = {t for t, _ in rows}
    return {"sub_id": ("assignments", "sub_id") in rows, "subnarratives": "subnarratives" in tables,
            "distributions": "distributions" in tables}


def narrative_id(store: "Store", run_id: str, name: str) -> int:
    """The id of the narrative named ``name`` (label or codebook name; ``unassigned``: -1)."""
    if name == UNASSIGNED:
        return UNASSIGNED_ID
    rows = store.con.execute(
        "SELECT narrative_id, label, codebook_name FROM narratives WHERE run_id = ? "
        "ORDER BY narrative_id", [run_id]).fetchall()
    for key in (1, 2):  # a label wins over another narrative's codebook name
        for row in rows:
            if row[key] == name:
                return int(row[0])
    known = [r[1] for r in rows] + [UNASSIGNED]
    raise InputError(f"run {run_id} has no narrative {name!r}{_did_you_mean(name, known)}")


def _known_outlet(store: "Store", outlet: str) -> str:
    found = store.one(f"SELECT 1 FROM articles WHERE coalesce(outlet, '{UNKNOWN_OUTLET}') = ? "
                      "LIMIT 1", [outlet])
    if found is None:
        known = [r[0] for r in store.con.execute(
            f"SELECT DISTINCT coalesce(outlet, '{UNKNOWN_OUTLET}') FROM articles").fetchall()]
        raise InputError(f"{store.path}: no outlet {outlet!r}{_did_you_mean(outlet, known)}")
    return outlet


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3)
    return f"; did you mean {', '.join(map(repr, close))}?" if close else (
        f"; it has {len(known)}: {', '.join(map(repr, sorted(known)[:8]))}"
        + (", ..." if len(known) > 8 else ""))


def _as_date(value: str | dt.date, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{what} must be an ISO date like 2022-06-20; got {value!r}") from None


def period_bounds(period: str | dt.date, kind: Period = "week") -> tuple[dt.date, dt.date]:
    """First and last day of the period that starts on ``period``; a date that starts no period
    of this kind is an error naming the start to use."""
    start = _as_date(period, "period")
    if kind == "week":
        first, end = start - dt.timedelta(days=start.weekday()), start + dt.timedelta(days=6)
    elif kind == "month":
        first = start.replace(day=1)
        end = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    else:
        first, end = start, start
    if first != start:
        raise InputError(f"period {start.isoformat()} does not start a {kind}; use "
                         f"{first.isoformat()} (periods are named by their first day)")
    return start, end

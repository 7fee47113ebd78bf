"""Paragraph-level data and every computed table, as files a spreadsheet, R or a dashboard reads.

:func:`export_paragraphs` streams the rows of :func:`narrative.query.paragraphs` from the store
straight to Parquet or CSV (DuckDB's ``COPY``), so memory stays bounded however many paragraphs a
run has. :func:`export_tables` writes each drift table as CSV. Both write to a temporary name and
rename into place, and both guard CSV text cells against formula injection: a spreadsheet runs a
cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return as a formula, and article
text, titles and outlet names come from outside.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from .errors import OutputError
from .io import (FORMULA_STARTS, fsync_dir, prepare_output_dir, remove_stale_temporaries,
                 temp_prefix, write_csv)
from .query import NUMERIC_COLUMNS, QUERY_COLUMNS, paragraph_query

if TYPE_CHECKING:
    import datetime as dt

    from .drift import DriftFrames
    from .store import Store

__all__ = ["ExportResult", "export_format", "export_paragraphs", "export_tables"]

ExportFormat = Literal["parquet", "csv", "csv.gz"]
_FORMATS: dict[str, ExportFormat] = {
    ".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".csv.gz": "csv.gz",
}
_COPY_OPTIONS = {
    "parquet": "FORMAT parquet, COMPRESSION zstd",
    "csv": "FORMAT csv, HEADER true",
    "csv.gz": "FORMAT csv, HEADER true, COMPRESSION gzip",
}
#: DuckDB's memory during an export: enough for its sort to run in memory-sized blocks, small
#: enough that a large run spills to disk instead of growing the process.
MEMORY_LIMIT = "256MB"
#: Tables whose contract (DESIGN.md) fixes the first columns.
_FIRST_COLUMNS = {"shares": "SHARES_COLUMNS", "changepoints": "CHANGEPOINT_COLUMNS",
                  "diffusion": "DIFFUSION_COLUMNS", "lead_lag": "LEAD_LAG_COLUMNS"}


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_paragraphs` wrote."""

    path: Path
    n_rows: int
    run_id: str
    format: ExportFormat


def _guard_sql(column: str) -> str:
    """The SQL form of :func:`guard_formula` for one text column (applied while streaming)."""
    chars = "".join(FORMULA_STARTS).replace("\t", "\\t").replace("\r", "\\r").replace("-", "\\-")
    return (f"CASE WHEN regexp_matches({column}, '^[{chars}]') THEN '''' || {column} "
            f"ELSE {column} END AS {column}")


def export_format(path: str | Path) -> ExportFormat:
    """The format named by ``path``'s extension (``.parquet``, ``.pq``, ``.csv``, ``.csv.gz``)."""
    name = Path(path).name.lower()
    for suffix in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return _FORMATS[suffix]
    raise OutputError(f"{path}: cannot tell the format from the name; end it with .parquet, .csv "
                      "or .csv.gz")


def export_paragraphs(
    store: "Store",
    path: str | Path,
    run: str | None = None,
    *,
    narrative: str | None = None,
    outlet: str | None = None,
    date_from: "str | dt.date | None" = None,
    date_to: "str | dt.date | None" = None,
    memory_limit: str | None = MEMORY_LIMIT,
) -> ExportResult:
    """Write a run's paragraphs with text and metadata to ``path`` (Parquet or CSV, by extension).

    The rows and columns are those of :func:`narrative.query.paragraphs` with the same filters,
    in the same order (most typical first). The query streams from the store to the file, so
    memory does not grow with the number of paragraphs. CSV text cells are guarded against
    formula injection (see :func:`guard_formula`); Parquet keeps the text as it is, typed.
    The file appears under its name only once complete. ``memory_limit`` caps DuckDB's memory
    during the export (the sort and joins spill to disk past it; None: DuckDB's own limit).
    """
    target = Path(path)
    kind = export_format(target)
    query = paragraph_query(store, run, narrative, outlet, date_from=date_from, date_to=date_to)
    columns = ", ".join(c if kind == "parquet" or c in NUMERIC_COLUMNS else _guard_sql(c)
                        for c in QUERY_COLUMNS)
    sql = f"SELECT {columns} FROM ({query.sql})"
    with _temporary_beside(target) as tmp, _bounded(store.con, memory_limit):
        rows = store.con.execute(
            f"COPY ({sql}) TO '{_sql_string(tmp)}' ({_COPY_OPTIONS[kind]})", query.params
        ).fetchall()
    return ExportResult(target, int(rows[0][0]) if rows else 0, query.run_id, kind)


def export_tables(drift: "DriftFrames", out_dir: str | Path) -> dict[str, Path]:
    """Every computed drift table (``drift.tables``: shares, changepoints, lead_lag, ...) as
    ``out_dir/<name>.csv``; returns the paths by table name.

    The contract's columns come first in shares.csv and changepoints.csv; list cells (top terms)
    are written as ``a; b; c``; text cells are guarded against formula injection.
    """
    from . import schema

    out_dir = prepare_output_dir(out_dir)
    paths = {}
    for name, frame in sorted(drift.tables.items()):
        first = [c for c in getattr(schema, _FIRST_COLUMNS.get(name, ""), []) if c in frame]
        frame = frame[first + [c for c in frame.columns if c not in first]]
        paths[name] = write_csv(out_dir / f"{name}.csv", _join_lists(frame), float_format="%.4f")
    return paths


def _join_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """List cells (a narrative's top terms) as one ``a; b; c`` string."""
    out = frame.copy()
    for column in out.columns:
        if out[column].map(lambda v: isinstance(v, (list, tuple))).any():
            out[column] = out[column].map(
                lambda v: "; ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    return out


@contextlib.contextmanager
def _bounded(con, memory_limit: str | None):
    """DuckDB on one thread with at most ``memory_limit`` inside the block (None: unchanged).

    Its sort and joins spill to disk past the limit; one thread, because each thread keeps
    buffers of its own that do not spill, so more threads need more than the limit. Both
    settings are put back afterwards.
    """
    if memory_limit is None:
        yield
        return
    saved = {name: con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]
             for name in ("memory_limit", "threads")}
    con.execute("SET memory_limit = ?", [memory_limit]).fetchall()
    con.execute("SET threads = 1").fetchall()
    try:
        yield
    finally:
        for name, value in saved.items():
            _restore(con, name, value)


def _restore(con, name: str, value) -> None:
    """Put a DuckDB setting back: RESET when the default was in force (DuckDB shows a memory
    limit rounded, so setting the shown value would not give the default back), else SET."""
    con.execute(f"RESET {name}").fetchall()
    if con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0] != value:
        con.execute(f"SET {name} = ?", [value]).fetchall()


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")


class _temporary_beside:
    """A temporary file name beside ``target`` (``.<name>.<pid>.<random>.tmp``, which
    :func:`narrative.io.remove_stale_temporaries` recognises), renamed over ``target`` when the
    block succeeds and removed when it fails."""

    def __init__(self, target: Path):
        self.target = target

    def __enter__(self) -> Path:
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise OutputError(f"{self.target.parent}: not a folder; cannot write {self.target.name}"
                              ) from exc
        remove_stale_temporaries(self.target)
        fd, name = tempfile.mkstemp(dir=self.target.parent, prefix=temp_prefix(self.target),
                                    suffix=".tmp")
        os.close(fd)
        self.tmp = Path(name)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            os.replace(self.tmp, self.target)
            fsync_dir(self.target.parent)
        else:
            self.tmp.unlink(missing_ok=True)
        return False

"""The metadata manifest: a CSV that gives outlet, date, author, title and url per input file.

Header ``file,outlet,date,author,title,url``; only ``file`` is required, other known columns may be
missing and unknown columns (notes, evidence) are ignored. ``file`` is relative to the manifest's
own folder. Manifest values win over values found in the input (JSONL fields, a Markdown heading);
an empty cell means "the manifest does not say" and lets the input's own value through.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any
from narrative.errors import ManifestError  # noqa: F401 (defined in errors, raised here)

__all__ = ["MANIFEST_FIELDS", "ManifestError", "join_authors", "parse_date", "read_manifest"]

#: Metadata columns a manifest may give, in the order of the documented header.
MANIFEST_FIELDS = ("outlet", "date", "author", "title", "url")

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}\S*)?")



def parse_date(value: Any) -> dt.date | None:
    """Parse ``YYYY-MM-DD`` or an ISO timestamp ``YYYY-MM-DDTHH:MM...`` to a date.

    The date is taken as written (no time-zone conversion): a timestamp's calendar day in the
    writer's own zone is the day the article carries. Returns None for an empty value; raises
    ValueError for anything else that is not such a date.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a YYYY-MM-DD string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    match = _ISO_DATE.fullmatch(text)
    if match is None:
        raise ValueError("expected YYYY-MM-DD")
    year, month, day = (int(g) for g in match.groups())
    return dt.date(year, month, day)  # raises ValueError for 2025-02-30


def join_authors(value: Any) -> str | None:
    """Normalise an author value: a list, or names separated by ``;``, joined with ``"; "``."""
    if value is None:
        return None
    names = value if isinstance(value, (list, tuple)) else str(value).split(";")
    kept = [" ".join(str(n).split()) for n in names if n is not None]
    kept = [n for n in kept if n]
    return "; ".join(kept) or None


def _clean_cell(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def read_manifest(path: str | Path, *, warnings: list[str] | None = None) -> dict[Path, dict]:
    """Read a manifest CSV.

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8, a BOM is accepted).
    warnings : list of str, optional
        Receives one message per problem that does not stop the read: a bad date (kept as
        None), a row without a ``file`` cell (ignored), a file listed twice (first row kept),
        a row with more cells than the header.

    Returns
    -------
    dict
        Resolved absolute file path -> ``{"outlet", "date", "author", "title", "url", "line"}``;
        empty cells are None, ``date`` is a :class:`datetime.date`, ``author`` names are joined
        with ``"; "``, ``line`` is the row's line number in the CSV.

    Raises
    ------
    ManifestError
        The file cannot be read or decoded, has no header, or its header lacks ``file``;
        the message names the file and line.
    """
    path = Path(path)
    sink = warnings if warnings is not None else []
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise ManifestError(f"{path}: cannot read manifest: {err.strerror or err}") from err
    entries: dict[Path, dict] = {}
    with handle:
        reader = csv.reader(handle)
        try:
            columns, index = _header(path, next(reader, None))
            line = reader.line_num
            for row in reader:
                start, line = line + 1, reader.line_num
                if any(cell.strip() for cell in row):
                    _add_row(entries, row, columns, index, path=path, line=start, warnings=sink)
        except UnicodeDecodeError as err:
            raise ManifestError(f"{path}: near line {reader.line_num + 1}: not UTF-8 text "
                                f"({err.reason}); save the manifest as UTF-8") from err
        except csv.Error as err:
            raise ManifestError(f"{path}: line {reader.line_num}: malformed CSV: {err}") from err
    return entries


def _header(path: Path, header: list[str] | None) -> tuple[list[str], dict[str, int]]:
    """The header's column names (lower case) and the index of each known one; a
    :class:`ManifestError` when it is missing, lacks ``file`` or repeats a column."""
    if header is None:
        raise ManifestError(f"{path}: line 1: empty manifest; expected a header "
                            f"'file,{','.join(MANIFEST_FIELDS)}'")
    columns = [h.strip().lower() for h in header]
    if "file" not in columns:
        raise ManifestError(
            f"{path}: line 1: header has no 'file' column (got {', '.join(header)!r}); "
            f"expected 'file,{','.join(MANIFEST_FIELDS)}'")
    dupes = sorted({c for c in columns if c and columns.count(c) > 1})
    if dupes:
        raise ManifestError(f"{path}: line 1: duplicate column(s) {', '.join(dupes)}")
    return columns, {name: columns.index(name) for name in ("file", *MANIFEST_FIELDS)
                     if name in columns}


def _add_row(entries: dict[Path, dict], row: list[str], columns: list[str],
             index: dict[str, int], *, path: Path, line: int, warnings: list[str]) -> None:
    """Add one data row's entry, keyed by its file's absolute path; what is wrong with it but
    does not stop the read goes to ``warnings``."""
    where = f"{path}: line {line}"
    if len(row) > len(columns):
        warnings.append(f"{where}: {len(row)} cells but the header has {len(columns)}; "
                        "extra cells ignored")
    cells = {name: _clean_cell(row[i]) if i < len(row) else None for name, i in index.items()}
    if not cells["file"]:
        warnings.append(f"{where}: empty 'file' cell; row ignored")
        return
    target = (path.resolve().parent / cells["file"]).resolve()
    if target in entries:
        warnings.append(f"{where}: {cells['file']} already listed on line "
                        f"{entries[target]['line']}; row ignored")
        return
    entry: dict[str, Any] = {name: cells.get(name) for name in MANIFEST_FIELDS}
    entry["author"] = join_authors(entry["author"])
    try:
        entry["date"] = parse_date(entry["date"])
    except ValueError as err:
        warnings.append(f"{where}: bad date {cells['date']!r} ({err}); date left empty")
        entry["date"] = None
    entry["line"] = line
    entries[target] = entry

"""Tabular exports: CSV and Parquet files (each optionally gzip-compressed), streamed by row.

Both readers yield ``(position, record, encoding)`` for a row, ``record`` a dict keyed by column
name, or a :class:`Reject` for a row that cannot be a record;
:func:`narrative.ingest.readers.ingest_sources` maps the columns and builds the articles.

CSV is parsed by the csv module in strict mode, in the quoting every common writer uses
(pandas, the csv module, Excel, R, DuckDB): a field with special characters is quoted with
``"`` and a quote inside it is doubled. The delimiter (comma, semicolon, tab or pipe, and
backslash escapes when the sample has them) is the candidate that parses the first 64 KiB into
the most rows as wide as the header. The encoding is read from the same 64 KiB (UTF-16 BOM,
UTF-8 BOM, UTF-8, else a guess). Every row is a record or a reject naming its row and its
physical line, and a fault costs only its own row:

- an undecodable byte rejects the row that holds it (bytes are kept through decoding, see
  :func:`~narrative.ingest.decode.keep_bytes`);
- a quote that never closes (it runs into a later line and breaks the parse there, or reaches
  the end of the file) rejects the line it starts on, and reading goes on at the next line;
- a row over ``max_row_chars`` is rejected and skipped to its end without being held in memory.

A quoted value that is not valid (a stray quote inside it) but fits on one line is read as the
csv module's lenient mode reads it, since the row's cells are still all there.

Why not DuckDB's or pyarrow's CSV reader: neither tells the line of a row it reads well, so a
row cannot be named; after an unterminated quote both take the rows up to the next quote into
one bad value (pyarrow silently, at the end of a file), and DuckDB's sniffer, meeting one, reads
the whole file without quoting or gives up on it. Parquet is read one row group batch at a time
through pyarrow.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from narrative.ingest.assemble import TOO_LONG_HINT
from narrative.ingest.clean import excerpt
from narrative.ingest.compressed import is_compressed, open_input
from narrative.ingest.decode import UTF16_BOMS, guess_encoding, keep_bytes, undecodable_byte
from narrative.schema import Reject

__all__ = ["MAX_FIELD_CHARS", "read_csv_rows", "read_parquet_rows"]

#: The longest CSV row read when the caller gives no ``max_row_chars``, in characters.
MAX_FIELD_CHARS = 64 * 1024 * 1024
_SNIFF = 64 * 1024
_CHUNK = 1024 * 1024
_BATCH = 1024
_DELIMITERS = (",", ";", "\t", "|")
_QUOTE = '"'
_CODEC_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16"}

Row = tuple[str, dict[str, Any], str]  # position, record, encoding


def _sniff_encoding(head: bytes) -> str | None:
    if head.startswith(UTF16_BOMS):
        return "utf-16"
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as err:
        if err.start >= len(head) - 4:  # a character cut by the sample's end
            return "utf-8"
    return guess_encoding(head)


# -- the dialect --------------------------------------------------------------------------------

def _dialects(sample: str) -> list[dict[str, Any]]:
    """Candidate csv formats with doubled quotes (the standard), most likely first."""
    return [{"delimiter": d, "quotechar": _QUOTE, "doublequote": True, "escapechar": None,
             "strict": True} for d in _DELIMITERS]


def _fit(sample: str, dialect: dict[str, Any]) -> tuple[bool, int, int]:
    """How well ``dialect`` reads ``sample``: (header of 2+ columns, rows as wide as the header
    minus the other rows and the parse errors, rows read before the first parse error)."""
    reader = csv.reader(io.StringIO(sample, newline=""), **dialect)
    widths: list[int] = []
    errors = 0
    clean = -1  # rows read before the first error; -1 while there has been none
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            errors += 1
            clean = len(widths) if clean < 0 else clean
            continue
        if cells:
            widths.append(len(cells))
    clean = len(widths) if clean < 0 else clean
    if not widths:
        return False, -errors, clean
    fitting = sum(w == widths[0] for w in widths[1:])
    return widths[0] > 1, 2 * fitting - (len(widths) - 1) - errors, clean


def _dialect(sample: str) -> dict[str, Any]:
    """The candidate that reads the sample best (the first one on a tie: comma), with backslash
    escapes only when they read more rows before their first parse error than doubled quotes.

    Counting rows before the first error, not errors or rows overall, decides the escapes: after an
    unterminated quote a wrong dialect can resynchronise on more rows than the right one, while
    the wrong one meets its first error earlier (a value ending in a backslash and a quote)."""
    best = max(_dialects(sample), key=lambda dialect: _fit(sample, dialect)[:2])
    if '\\"' not in sample:
        return best
    escaped = {**best, "escapechar": "\\"}
    return escaped if _fit(sample, escaped)[2] > _fit(sample, best)[2] else best


# -- physical lines -----------------------------------------------------------------------------

class _RowTooLong(Exception):
    """The row being read has grown past the row limit."""


class _Lines:
    """The physical lines of a text stream, fed to csv.reader one at a time.

    Lines are numbered from 1 (``served``: the number of the line last handed out); the lines
    of the row being parsed are kept (``row``) so that a row broken by a stray quote can be read
    again from its second line (:meth:`replay`). A row may not grow past ``limit`` characters:
    :class:`_RowTooLong` is raised before more of it is read, and :meth:`skip_row` then reads on
    to its end without keeping it.
    """

    def __init__(self, text: TextIO, limit: int) -> None:
        self._text = text
        self._limit = limit
        self._replay: list[str] = []  # lines to hand out again, the next one last
        self._open = False  # the last line was cut short by the limit: its rest is unread
        self.served = 0
        self.row: list[str] = []
        self._row_chars = 0

    def __iter__(self) -> _Lines:
        return self

    @property
    def first(self) -> int:
        """The number of the first line of the row being parsed."""
        return self.served - len(self.row) + 1

    def start_row(self) -> None:
        self.row = []
        self._row_chars = 0

    def replay(self) -> None:
        """Hand out the lines of the row being parsed again, from its second one."""
        self._replay.extend(reversed(self.row[1:]))
        self.served = self.first

    def __next__(self) -> str:
        line = self._replay.pop() if self._replay else self._read_line()
        self.served += 1
        self.row.append(line)
        self._row_chars += len(line)
        if self._row_chars > self._limit:
            raise _RowTooLong
        return line

    def _read_line(self) -> str:
        size = self._limit - self._row_chars + 1
        if size > _CHUNK:
            size = _CHUNK
        line = self._text.readline(size)
        if not line:
            raise StopIteration
        if line[-1] in "\r\n" or len(line) < size:
            return line  # a whole line (or the last one, without a line end)
        return self._long_line(line)

    def _long_line(self, line: str) -> str:
        """A line longer than one read: read on until it ends or the row is over the limit."""
        parts = [line]
        size = len(line) + self._row_chars
        while size <= self._limit:
            chunk = self._text.readline(min(_CHUNK, self._limit - size + 1))
            parts.append(chunk)
            size += len(chunk)
            if not chunk or chunk[-1] in "\r\n":
                return "".join(parts)
        self._open = True  # over the limit: the rest of the line stays unread
        return "".join(parts)

    def skip_row(self) -> int:
        """Read past the rest of an overlong row, keeping none of it; returns its last line.

        The row ends at the first line end outside a quoted value: where the quotes read since
        it began are even in number (a doubled quote counts twice)."""
        quotes = sum(line.count(_QUOTE) for line in self.row)
        self.start_row()
        quotes += self._rest_of_line()
        while quotes % 2:
            if self._replay:
                quotes += self._replay.pop().count(_QUOTE)
            else:
                chunk = self._text.readline(_CHUNK)
                if not chunk:
                    break  # the file ends inside the quoted value
                self._open = chunk[-1] not in "\r\n"
                quotes += chunk.count(_QUOTE) + self._rest_of_line()
            self.served += 1
        return self.served

    def _rest_of_line(self) -> int:
        """Read to the end of a line cut short by the limit; returns the quotes in the rest."""
        quotes = 0
        while self._open:
            chunk = self._text.readline(_CHUNK)
            quotes += chunk.count(_QUOTE)
            self._open = bool(chunk) and chunk[-1] not in "\r\n"
        return quotes


# -- rows ---------------------------------------------------------------------------------------

@dataclass
class _Parsed:
    """One row as parsed: its cells, or the problem that kept it from being parsed."""

    first: int  # physical line numbers, from 1
    last: int
    cells: list[str] = field(default_factory=list)
    problem: str = ""
    lines: list[str] = field(default_factory=list)  # as read (the first only, if not parsed)
    lenient: bool = False  # read by the csv module's lenient mode after a strict error

    def where(self) -> str:
        return f"line {self.first}" if self.first == self.last else (
            f"lines {self.first}-{self.last}")


def _broken(err: csv.Error, lines: _Lines, dialect: dict[str, Any]) -> _Parsed:
    """A row the strict parser stopped on. Over several lines, its quote never closed: its first
    line is rejected and the rest is read again. On one line, the lenient parse is kept."""
    first, last = lines.first, lines.served
    at_end = "end of data" in str(err)
    if last == first and not at_end:
        cells = next(csv.reader(lines.row[:1], **{**dialect, "strict": False}), [])
        return _Parsed(first, last, cells, lines=lines.row, lenient=True)
    problem = f"unterminated quote: the quoted value that starts on line {first} " + (
        f"never closes (the file ends at line {last})" if at_end
        else f"runs into line {last} ({err})")
    if last > first:
        problem += f"; line {first} is rejected and reading goes on at line {first + 1}"
    row = lines.row
    lines.replay()
    return _Parsed(first, first, problem=problem, lines=row[:1])


def _parse(reader: Iterator[list[str]], lines: _Lines, dialect: dict[str, Any],
           limit: int) -> Iterator[_Parsed]:
    """Every row of the file, blank ones included, each parsed or with its problem."""
    while True:
        lines.start_row()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield _broken(err, lines, dialect)
            continue
        except _RowTooLong:
            first, head = lines.first, lines.row[:1]
            last = lines.skip_row()
            where = f"line {first}" if first == last else f"lines {first}-{last}"
            yield _Parsed(first, last, lines=head, problem=(
                f"article too long: the row at {where} is over {limit:,} characters "
                f"({TOO_LONG_HINT})"))
            continue
        yield _Parsed(lines.first, lines.served, cells, lines=lines.row)


def _undecodable(parsed: _Parsed, encoding: str) -> str | None:
    """The reason to reject a row holding a byte the encoding does not decode, else None."""
    found = undecodable_byte(parsed.lines[0] if len(parsed.lines) == 1
                             else "".join(parsed.lines))
    if found is None:
        return None
    index, byte = found
    number = parsed.first
    for line in parsed.lines:  # the line that holds it
        if index < len(line):
            break
        index -= len(line)
        number += 1
    return (f"undecodable: not {_CODEC_NAMES.get(encoding, encoding)} (byte 0x{byte:02x} at "
            f"line {number}, character {index + 1}); re-save the file as UTF-8")


def _row_reject(parsed: _Parsed, width: int, encoding: str) -> str | None:
    """Why the parsed row cannot be a record, or None when it can."""
    if parsed.problem:
        return parsed.problem
    bad_bytes = _undecodable(parsed, encoding)
    if bad_bytes:
        return bad_bytes
    if len(parsed.cells) == width:
        return None
    what = "too few" if len(parsed.cells) < width else "too many"
    reason = (f"ragged row: {what} cells ({len(parsed.cells)}; the header has {width}) at "
              f"{parsed.where()}")
    if parsed.lenient:
        reason += "; a quote inside a quoted value that is not doubled?"
    elif parsed.first != parsed.last:
        reason += "; an unterminated quote?"
    return reason


def _shown(text: str) -> str:
    """A reject's excerpt: undecodable bytes shown as ``\\xNN``."""
    return excerpt("".join(f"\\x{ord(c) - 0xDC00:02x}" if "\udc00" <= c <= "\udcff" else c
                           for c in text[:400]))


def _start(raw: io.BufferedReader, source: str) -> tuple[str, str] | Reject:
    """``(encoding, sample)`` from the head of the file, or a reject for the whole file."""
    head = raw.peek(_SNIFF)[:_SNIFF]
    if not head.strip():
        return Reject(source, "file", "empty file (0 bytes)" if not head
                      else "whitespace-only file")
    if b"\x00" in head and not head.startswith(UTF16_BOMS):
        return Reject(source, "file", f"binary file (NUL byte at byte {head.index(0)})",
                      excerpt(head[:200].decode("utf-8", "backslashreplace")))
    encoding = _sniff_encoding(head)
    if encoding is None:
        return Reject(source, "file", "undecodable text: not UTF-8 and no 8-bit encoding "
                      "fits; re-save the file as UTF-8")
    sample = head.decode(encoding, "ignore")
    if len(head) == _SNIFF and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # whole lines only
    return encoding, sample


def read_csv_rows(path: Path, *, source: str,
                  max_row_chars: int | None = None) -> Iterator[Row | Reject]:
    """Stream the rows of a CSV file with a header line.

    Rows are numbered from 1 for the first data row (``row N``); blank rows are skipped. A row
    that cannot be a record (a different number of cells than the header, an undecodable
    byte, an unterminated quote, over ``max_row_chars`` characters; default
    :data:`MAX_FIELD_CHARS`) is a reject whose reason names its physical line. Only a file that
    cannot be read on (corrupt gzip, a decompression bomb) gives one reject for the rest.
    """
    limit = max_row_chars or MAX_FIELD_CHARS
    csv.field_size_limit(max(csv.field_size_limit(), limit + 1))  # rows are bounded here
    row_no = 0
    try:
        with open_input(path) as raw:
            started = _start(raw, source)
            if isinstance(started, Reject):
                yield started
                return
            encoding, sample = started
            dialect = _dialect(sample)
            text = io.TextIOWrapper(raw, encoding=encoding, errors=keep_bytes(), newline="")
            lines = _Lines(text, limit)
            rows = _parse(csv.reader(lines, **dialect), lines, dialect, limit)
            columns = _header(rows)
            if isinstance(columns, str):
                yield Reject(source, "file", columns)
                return
            for parsed in rows:
                if not parsed.problem and not any(c.strip() for c in parsed.cells):
                    continue
                row_no += 1
                position = f"row {row_no}"
                reason = _row_reject(parsed, len(columns), encoding)
                if reason is None:
                    yield position, dict(zip(columns, parsed.cells)), encoding
                else:
                    yield Reject(source, position, reason, _shown("".join(parsed.lines)))
    except (OSError, EOFError, zlib.error) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        where = "file" if row_no == 0 else f"row {row_no + 1}"
        yield Reject(source, where, f"cannot read {'the file' if where == 'file' else 'the rest'}"
                     f": {reason}")


def _header(rows: Iterator[_Parsed]) -> list[str] | str:
    """The column names from the first non-blank row, or why there are none."""
    for parsed in rows:
        if parsed.problem:
            return f"cannot read the header ({parsed.where()}): {parsed.problem}"
        if any(c.strip() for c in parsed.cells):
            return [c.strip() for c in parsed.cells]
    return "no header row"


def read_parquet_rows(path: Path, *, source: str) -> Iterator[Row | Reject]:
    """Stream the rows of a Parquet file (``.parquet``, ``.parquet.gz``) in batches.

    A compressed file is inflated to an unnamed temporary file (Parquet needs to seek), with
    the ratio guard of :func:`~narrative.ingest.compressed.open_input`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    row_no = 0
    try:
        with tempfile.TemporaryFile() as spool:
            if is_compressed(path):
                with open_input(path) as handle:
                    shutil.copyfileobj(handle, spool, _CHUNK)
                spool.seek(0)
                parquet = pq.ParquetFile(spool)
            else:
                parquet = pq.ParquetFile(path)
            if parquet.metadata.num_rows == 0:
                yield Reject(source, "file", "no rows")
                return
            for batch in parquet.iter_batches(batch_size=_BATCH):
                for record in batch.to_pylist():
                    row_no += 1
                    yield f"row {row_no}", record, "parquet"
    except (OSError, EOFError, zlib.error, pa.ArrowException) as err:
        where = "file" if row_no == 0 else f"row {row_no + 1}"
        yield Reject(source, where, f"cannot read Parquet: {err}")

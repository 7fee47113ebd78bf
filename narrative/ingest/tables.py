"""Tabular exports: CSV and Parquet files (each optionally gzip-compressed), streamed by row.

Both readers yield ``(position, record)`` pairs, ``record`` a dict keyed by column name, or a
:class:`Reject` for a row that cannot be a record (a ragged CSV row, a file that breaks off);
:func:`narrative.ingest.readers.ingest_sources` maps the columns and builds the articles.

CSV: the encoding is sniffed from the first 64 KiB (UTF-16 BOM, UTF-8 BOM, UTF-8, else a guess
recorded per article) and the file is then streamed; the dialect (comma, semicolon, tab) is
sniffed from the same sample. Fields may be up to :data:`MAX_FIELD_CHARS` characters. Parquet is
read one row group batch at a time through pyarrow.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from narrative.ingest.clean import excerpt
from narrative.ingest.decode import UTF16_BOMS, guess_encoding
from narrative.schema import Reject

__all__ = ["MAX_FIELD_CHARS", "read_csv_rows", "read_parquet_rows"]

MAX_FIELD_CHARS = 64 * 1024 * 1024
_SNIFF = 64 * 1024
_BATCH = 1024

Row = tuple[str, dict[str, Any], str]  # position, record, encoding


def _open(path: Path):
    if path.name.lower().endswith(".gz"):
        return io.BufferedReader(gzip.open(path, "rb"), buffer_size=_SNIFF)
    return open(path, "rb", buffering=_SNIFF)


def _sniff_encoding(head: bytes) -> str | None:
    if head.startswith(UTF16_BOMS):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as err:
        if err.start >= len(head) - 4:  # a character cut by the sample's end
            return "utf-8"
    return guess_encoding(head)


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        # csv.Sniffer is slow on big samples; 16 KiB (whole lines) is plenty for the dialect.
        head = sample[:16384]
        if len(sample) > len(head) and "\n" in head:
            head = head[: head.rindex("\n")]
        return csv.Sniffer().sniff(head, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def read_csv_rows(path: Path, *, source: str) -> Iterator[Row | Reject]:
    """Stream the rows of a CSV file with a header line.

    A row with fewer cells than the header, or more, is rejected (``row N``, counted from 1 for
    the first data row) with both counts in the reason; blank rows are skipped. A file that
    cannot be read, or breaks off (corrupt gzip, undecodable bytes), gives one reject for the rest.
    """
    csv.field_size_limit(MAX_FIELD_CHARS)
    row_no = 0
    try:
        with _open(path) as raw:
            head = raw.peek(_SNIFF)[:_SNIFF] if hasattr(raw, "peek") else b""
            if not head.strip():
                yield Reject(source, "file", "empty file (0 bytes)" if not head
                             else "whitespace-only file")
                return
            if b"\x00" in head and not head.startswith(UTF16_BOMS):
                yield Reject(source, "file", f"binary file (NUL byte at byte {head.index(0)})",
                             excerpt(head[:200].decode("utf-8", "backslashreplace")))
                return
            encoding = _sniff_encoding(head)
            if encoding is None:
                yield Reject(source, "file", "undecodable text: not UTF-8 and no 8-bit encoding "
                             "fits; re-save the file as UTF-8")
                return
            text = io.TextIOWrapper(raw, encoding=encoding, newline="")
            sample = head.decode(encoding if encoding != "utf-16" else "utf-16", "ignore")
            reader = csv.reader(text, _dialect(sample))
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                yield Reject(source, "file", "no header row")
                return
            columns = [h.strip() for h in header]
            for cells in reader:
                if not cells or not any(c.strip() for c in cells):
                    continue
                row_no += 1
                position = f"row {row_no}"
                if len(cells) != len(columns):
                    what = "too few" if len(cells) < len(columns) else "too many"
                    yield Reject(source, position, f"ragged row: {what} cells ({len(cells)}; the "
                                 f"header has {len(columns)}) at line {reader.line_num}",
                                 excerpt(",".join(cells)))
                    continue
                yield position, dict(zip(columns, cells)), encoding
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        where = "file" if row_no == 0 else f"row {row_no + 1}"
        yield Reject(source, where, f"cannot read {'the file' if where == 'file' else 'the rest'}"
                     f": {reason}")


def read_parquet_rows(path: Path, *, source: str) -> Iterator[Row | Reject]:
    """Stream the rows of a Parquet file (``.parquet``, ``.parquet.gz``) in batches."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    row_no = 0
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as handle:  # parquet needs seeking: unpack to memory
                parquet = pq.ParquetFile(pa.BufferReader(handle.read()))
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

"""Readers: turn files into :class:`Article` records, or :class:`Reject` records with a reason.

Inputs are plain-text articles (``.txt``, ``.md``, ``.markdown``; one article per file) and JSON
Lines (``.jsonl``, ``.jsonl.gz``; one article per line with fields ``id, outlet, date, title, url,
text`` and optionally ``author``, ``lang``). Nothing read is dropped: every record becomes an
article or a reject naming the file, the position (``file``, ``line N``, ``byte N``) and the
reason, so ``len(articles) + len(rejects) == n_read`` always holds.

Text is decoded as UTF-8 (a BOM is stripped) or as UTF-16 when the file starts with a UTF-16 BOM;
anything else is rejected as undecodable rather than guessed at.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrative.ingest.clean import clean_text, excerpt
from narrative.ingest.manifest import MANIFEST_FIELDS, join_authors, parse_date, read_manifest
from narrative.schema import Article, Reject

__all__ = [
    "TEXT_SUFFIXES", "JSONL_SUFFIXES", "DecodeError", "IngestResult", "collect_files",
    "decode_bytes", "display_path", "ingest_sources", "read_jsonl_file", "read_text_file",
]

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")

_SNIFF_BYTES = 8192
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_HEADING_LINE = re.compile(r"[ \t]{0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*")


@dataclass
class IngestResult:
    """What :func:`ingest_sources` read: ``len(articles) + len(rejects) == n_read``."""

    articles: list[Article] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    n_read: int = 0


class DecodeError(ValueError):
    """Bytes that are not text this reader accepts; ``position`` is ``"byte N"``."""

    def __init__(self, reason: str, position: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position


# -- files --------------------------------------------------------------------------------------

def display_path(path: str | Path) -> str:
    """The path as shown in ``source``: relative to the working directory when it lies below it.

    Symlinks are not resolved (the name the user gave is kept); separators are ``/``.
    """
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path(os.path.abspath(os.getcwd()))).as_posix()
    except ValueError:
        return absolute.as_posix()


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(TEXT_SUFFIXES):
        return "text"
    return None


def _walk(folder: Path) -> list[Path]:
    """Every non-hidden file below ``folder``, sorted by relative path (deterministic)."""
    found: list[tuple[tuple[str, ...], Path]] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = Path(root).relative_to(folder).parts
        found.extend(((*rel, f), Path(root, f)) for f in files if not f.startswith("."))
    return [path for _, path in sorted(found)]


def collect_files(
    sources: Sequence[str | Path], *, skip: Sequence[Path] = (), warnings: list[str] | None = None
) -> list[Path]:
    """Expand files and folders (walked recursively) into the readable input files, in order.

    Hidden files and folders inside a walked folder are ignored, as is any path in ``skip``
    (the manifest); files of other types are skipped with a warning; a file reached twice is
    read once.

    Raises
    ------
    FileNotFoundError
        A source does not exist (checked for all sources before anything is read).
    """
    sink = warnings if warnings is not None else []
    missing = [str(s) for s in sources if not Path(s).exists()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    skipped = {Path(p).resolve() for p in skip}
    seen: set[Path] = set()
    files: list[Path] = []
    for source in map(Path, sources):
        candidates = _walk(source) if source.is_dir() else [source]
        n_before = len(files)
        for path in candidates:
            resolved = path.resolve()
            if resolved in skipped:
                continue
            if _kind(path) is None:
                sink.append(f"{display_path(path)}: skipped: not a "
                            f"{'/'.join(TEXT_SUFFIXES + JSONL_SUFFIXES)} file")
                continue
            if resolved in seen:
                sink.append(f"{display_path(path)}: given more than once; read once")
                continue
            seen.add(resolved)
            files.append(path)
        if source.is_dir() and len(files) == n_before:
            sink.append(f"{display_path(source)}: no readable files in this folder")
    return files


# -- decoding -----------------------------------------------------------------------------------

def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a whole file; returns ``(text, encoding)`` with encoding one of
    ``"utf-8"``, ``"utf-8-sig"`` (BOM stripped), ``"utf-16"`` (BOM present).

    Raises
    ------
    DecodeError
        NUL bytes (a binary file) or bytes that are not valid UTF-8 / UTF-16.
    """
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise DecodeError(f"undecodable text: invalid UTF-16 ({err.reason}) at byte "
                              f"{err.start}", f"byte {err.start}") from err
        encoding = "utf-16"
    else:
        nul = data.find(b"\x00")
        if nul >= 0:
            raise DecodeError(f"binary file (NUL byte at byte {nul})", f"byte {nul}")
        encoding, offset = ("utf-8-sig", 3) if data.startswith(codecs.BOM_UTF8) else ("utf-8", 0)
        try:
            text = data[offset:].decode("utf-8")
        except UnicodeDecodeError as err:
            at = err.start + offset
            raise DecodeError(
                f"undecodable text: not UTF-8 (byte 0x{data[at]:02x} at byte {at}) and no "
                "UTF-16 BOM; re-save the file as UTF-8", f"byte {at}") from err
    nul = text.find("\x00")
    if nul >= 0:
        raise DecodeError(f"binary file (NUL character at character {nul})", f"byte {nul}")
    return text, encoding


def _raw_excerpt(data: bytes) -> str:
    return excerpt(data[:400].decode("utf-8", "backslashreplace"))


# -- metadata -----------------------------------------------------------------------------------

def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _merge(found: dict[str, tuple[Any, str]], entry: dict | None) -> tuple[dict[str, Any], dict]:
    """Metadata values and their origins; a non-empty manifest value wins over ``found``."""
    values: dict[str, Any] = {}
    meta: dict[str, str] = {}
    for name in MANIFEST_FIELDS:
        if entry is not None and entry.get(name) is not None:
            values[name], meta[name] = entry[name], "manifest"
        elif name in found and found[name][0] is not None:
            values[name], meta[name] = found[name]
        else:
            values[name] = None
    return values, meta


def _heading_title(text: str) -> str | None:
    """The title from a first non-blank line that is a Markdown heading (``# Title``)."""
    for line in text.splitlines():
        if line.strip():
            match = _HEADING_LINE.fullmatch(line)
            return _scalar(clean_text(match.group(1))) if match else None
    return None


# -- readers ------------------------------------------------------------------------------------

def read_text_file(
    path: Path, *, source: str, entry: dict | None = None
) -> Article | Reject:
    """Read one ``.txt`` / ``.md`` article. ``entry`` is its manifest row, if any."""
    try:
        data = path.read_bytes()
    except OSError as err:
        return Reject(source, "file", f"cannot read: {err.strerror or err}")
    if not data:
        return Reject(source, "file", "empty file (0 bytes)")
    try:
        raw, encoding = decode_bytes(data)
    except DecodeError as err:
        return Reject(source, err.position, err.reason, _raw_excerpt(data))
    if not raw.strip():
        return Reject(source, "file", "whitespace-only file", excerpt(raw))
    text = clean_text(raw)
    if not text:
        return Reject(source, "file", "empty after cleaning (only markup)", excerpt(raw))
    found: dict[str, tuple[Any, str]] = {}
    title = _heading_title(raw)
    if title is not None:
        found["title"] = (title, "text:heading")
    values, meta = _merge(found, entry)
    meta["encoding"] = encoding
    return Article(text=text, source=source, source_id=path.stem,
                   meta=meta, **values)


def _jsonl_record(
    line: str, *, source: str, lineno: int, entry: dict | None, encoding: str,
    warnings: list[str],
) -> Article | Reject:
    """One JSONL line -> Article or Reject."""
    position = f"line {lineno}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        return Reject(source, position, f"not valid JSON: {err.msg} (column {err.colno})",
                      excerpt(line))
    except (ValueError, RecursionError) as err:  # 5,000-digit numbers, absurd nesting
        return Reject(source, position, f"not valid JSON: {err}", excerpt(line))
    if not isinstance(record, dict):
        return Reject(source, position,
                      f"not a JSON object (got {type(record).__name__})", excerpt(line))
    if "text" not in record or record["text"] is None:
        return Reject(source, position, "no 'text' field", excerpt(line))
    raw = record["text"]
    if not isinstance(raw, str):
        return Reject(source, position,
                      f"'text' field is not a string (got {type(raw).__name__})", excerpt(line))
    if not raw.strip():
        return Reject(source, position, "empty 'text' field", excerpt(line))
    text = clean_text(raw)
    if not text:
        return Reject(source, position, "empty after cleaning (only markup)", excerpt(line))
    where = f"{source}:{lineno}"
    try:
        date = parse_date(record.get("date"))
    except ValueError as err:
        warnings.append(f"{where}: bad date {record.get('date')!r} ({err}); date left empty")
        date = None
    found = {
        "outlet": (_scalar(record.get("outlet")), "field"),
        "date": (date, "field"),
        "author": (join_authors(record.get("author")), "field"),
        "title": (_scalar(record.get("title")), "field"),
        "url": (_scalar(record.get("url")), "field"),
    }
    values, meta = _merge(found, entry)
    meta["encoding"] = encoding
    return Article(text=text, source=where, source_id=_scalar(record.get("id")),
                   lang=_scalar(record.get("lang")), meta=meta, **values)


def read_jsonl_file(
    path: Path, *, source: str, entry: dict | None = None, warnings: list[str] | None = None
) -> Iterator[Article | Reject]:
    """Stream one ``.jsonl`` / ``.jsonl.gz`` file, one record per non-blank line.

    Lines are read one at a time (the file is never loaded whole). A bad line becomes a reject
    and reading goes on; a file that breaks off (corrupt gzip, bad UTF-16) yields one reject for
    the unread rest, after the records read before the break.
    """
    sink = warnings if warnings is not None else []
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    lineno = 0
    n_yielded = 0
    whitespace_seen = False
    try:
        with opener(path, "rb") as handle:
            head = handle.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
            lines: Iterator[bytes] | io.TextIOWrapper
            if head.startswith(_UTF16_BOMS):
                encoding = "utf-16"
                lines = io.TextIOWrapper(handle, encoding="utf-16", newline="\n")
            else:
                nul = head.find(b"\x00")
                if nul >= 0:
                    yield Reject(source, "file", f"binary file (NUL byte at byte {nul})",
                                 _raw_excerpt(head))
                    return
                encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
                lines = handle
            for item in lines:
                lineno += 1
                if isinstance(item, bytes):
                    if lineno == 1 and encoding == "utf-8-sig":
                        item = item[len(codecs.BOM_UTF8):]
                    try:
                        line = item.decode("utf-8")
                    except UnicodeDecodeError as err:
                        n_yielded += 1
                        yield Reject(source, f"line {lineno}",
                                     f"undecodable: not UTF-8 (byte 0x{item[err.start]:02x} at "
                                     f"column {err.start + 1})", _raw_excerpt(item))
                        continue
                else:
                    line = item
                if not line.strip():
                    whitespace_seen = whitespace_seen or bool(line)
                    continue
                n_yielded += 1
                if "\x00" in line:
                    yield Reject(source, f"line {lineno}",
                                 f"binary data (NUL at column {line.index(chr(0)) + 1})",
                                 excerpt(line))
                    continue
                yield _jsonl_record(line, source=source, lineno=lineno, entry=entry,
                                    encoding=encoding, warnings=sink)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        position = "file" if n_yielded == 0 and lineno == 0 else f"line {lineno + 1}"
        n_yielded += 1
        what = "cannot read the file" if position == "file" else "cannot read the rest of the file"
        yield Reject(source, position, f"{what}: {reason}")
        return
    if n_yielded == 0:
        yield Reject(source, "file",
                     "whitespace-only file" if whitespace_seen else "empty file (0 bytes)")


# -- the stage ----------------------------------------------------------------------------------

def ingest_sources(
    sources: Sequence[str | Path], *, manifest: str | Path | None = None
) -> IngestResult:
    """Read every article in ``sources`` (files or folders), merged with ``manifest`` metadata.

    Parameters
    ----------
    sources : sequence of str or Path
        Files and folders; folders are walked recursively in sorted order.
    manifest : str or Path, optional
        CSV ``file,outlet,date,author,title,url`` (see :func:`read_manifest`). With a manifest,
        a text file it does not list keeps empty metadata and gets a warning.

    Returns
    -------
    IngestResult
        Articles and rejects in input order, warnings, and the number of records read.

    Raises
    ------
    FileNotFoundError
        A source does not exist.
    ManifestError
        The manifest cannot be used (bad header, no ``file`` column, unreadable).
    """
    result = IngestResult()
    warnings = result.warnings
    entries = read_manifest(manifest, warnings=warnings) if manifest is not None else None
    skip = [Path(manifest)] if manifest is not None else []
    used: set[Path] = set()
    for path in collect_files(sources, skip=skip, warnings=warnings):
        source = display_path(path)
        entry = None
        if entries is not None:
            resolved = path.resolve()
            entry = entries.get(resolved)
            if entry is not None:
                used.add(resolved)
        if _kind(path) == "text":
            if entries is not None and entry is None:
                warnings.append(f"{source}: not in manifest; metadata left empty")
            records: Iterator[Article | Reject] = iter(
                [read_text_file(path, source=source, entry=entry)])
        else:
            records = read_jsonl_file(path, source=source, entry=entry, warnings=warnings)
        for record in records:
            result.n_read += 1
            if isinstance(record, Article):
                result.articles.append(record)
            else:
                result.rejects.append(record)
    if entries:
        unused = [(e["line"], p) for p, e in entries.items() if p not in used]
        if unused:
            line, path = min(unused)
            warnings.append(f"{display_path(manifest)}: {len(unused)} listed file(s) not among "
                            f"the sources (first: {display_path(path)}, line {line})")
    return result

"""Readers: turn files into :class:`Article` records, or :class:`Reject` records with a reason.

Inputs, each also gzip-compressed (``NAME.gz``):

- documents, one article per file: ``.txt``, ``.md``, ``.markdown``, ``.html``, ``.htm``
  (HTML through trafilatura, see :mod:`narrative.ingest.html`);
- JSON Lines ``.jsonl`` (one record per line), CSV ``.csv`` (header row), Parquet ``.parquet``:
  columns are mapped by :class:`~narrative.ingest.assemble.ColumnMap` (explicit or
  auto-detected ``text, date, outlet, title, author, url, id, lang``).

Nothing read is dropped: every record becomes an article or a reject naming the file, the
position (``file``, ``line N``, ``row N``, ``byte N``) and the reason, so
``len(articles) + len(rejects) == n_read`` always holds. Line- and row-oriented files are streamed
(:func:`iter_records` holds one record at a time); :func:`ingest_sources` collects them.

Documents are decoded as UTF-8 (BOM stripped), UTF-16 with a BOM, else a guessed 8-bit encoding
(recorded in ``meta["encoding"]`` with ``meta["encoding_guessed"] = True``); see
:mod:`narrative.ingest.decode`. JSONL lines must be UTF-8 (or the file UTF-16 with a BOM).
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
import os
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrative.ingest.assemble import (
    TOO_LONG_HINT, Assembler, ColumnMap, IngestOptions, KnownArticle,
)
from narrative.ingest.boilerplate import Rule, load_rules
from narrative.ingest.clean import clean_text, excerpt
from narrative.ingest.compressed import open_input, read_limited
from narrative.ingest.decode import (
    UTF16_BOMS, DecodeError, decode_bytes, keep_bytes, undecodable_byte,
)
from narrative.ingest.manifest import read_manifest
from narrative.schema import Article, Reject

__all__ = [
    "DOCUMENT_SUFFIXES", "JSONL_SUFFIXES", "TABLE_SUFFIXES", "TEXT_SUFFIXES", "DecodeError",
    "IngestResult", "collect_files", "decode_bytes", "display_path", "ingest_sources",
    "iter_records", "read_jsonl_file", "read_text_file",
]

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
DOCUMENT_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES
JSONL_SUFFIXES = (".jsonl", ".ndjson")
TABLE_SUFFIXES = (".csv", ".parquet")
_ALL_SUFFIXES = DOCUMENT_SUFFIXES + JSONL_SUFFIXES + TABLE_SUFFIXES

_SNIFF_BYTES = 8192
_RECORD_SOURCE = re.compile(r":(?:row)?\d+$")
_HEADING_LINE = re.compile(r"[ \t]{0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*")


@dataclass
class IngestResult:
    """What :func:`ingest_sources` read: ``len(articles) + len(rejects) == n_read``.

    ``removed`` holds one dict per boilerplate cut: ``article_id, start, end, text, rule``, with
    ``start``/``end`` offsets into the article's text *before* the cut, i.e. ``clean_text`` of
    the raw input (markup gone, whitespace tidied), not into the stored ``article.text``.
    """

    articles: list[Article] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    n_read: int = 0


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
    name = path.name.lower().removesuffix(".gz")
    for kind, suffixes in (("text", TEXT_SUFFIXES), ("html", HTML_SUFFIXES),
                           ("jsonl", JSONL_SUFFIXES), ("csv", (".csv",)),
                           ("parquet", (".parquet",))):
        if name.endswith(suffixes):
            return kind
    return None


def _inside(target: Path, roots: Sequence[Path]) -> bool:
    return any(target == root or target.is_relative_to(root) for root in roots)


def _may_follow(link: Path, roots: Sequence[Path], follow_links: bool,
                warnings: list[str]) -> bool:
    """Whether to read through ``link``: its target lies inside one of ``roots``, or
    ``follow_links``; a link not followed is named in ``warnings``."""
    target = Path(os.path.realpath(link))
    if follow_links or _inside(target, roots):
        return True
    warnings.append(f"{display_path(link)}: skipped: a link to {target.as_posix()}, outside the "
                    "sources given; pass follow_links=True (--follow-links) to read it")
    return False


def _walk(folder: Path, roots: Sequence[Path], follow_links: bool,
          warnings: list[str]) -> list[Path]:
    """Every non-hidden file below ``folder``, sorted by relative path (deterministic).

    The real tree is walked first; then each link in it, to a file or a folder, is read
    through under the rule of :func:`_may_follow`, unless its target lies in a tree walked
    already (it is read under its own name; this also ends link loops). Every link skipped
    is named in ``warnings``.
    """
    found: list[Path] = []
    walked: list[Path] = []
    pending = [folder]
    while pending:
        top = pending.pop(0)
        walked.append(Path(os.path.realpath(top)))
        links: list[Path] = []
        for root, dirs, files in os.walk(top):  # does not descend into links to folders
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            links.extend(Path(root, d) for d in dirs if Path(root, d).is_symlink())
            dirs[:] = [d for d in dirs if Path(os.path.realpath(Path(root, d))) not in walked]
            for name in files:
                if not name.startswith("."):
                    path = Path(root, name)
                    (links if path.is_symlink() else found).append(path)
        for link in sorted(links):
            if not _may_follow(link, roots, follow_links, warnings):
                continue
            target = Path(os.path.realpath(link))
            if not target.exists():
                warnings.append(f"{display_path(link)}: skipped: a link to "
                                f"{target.as_posix()}, which does not exist")
            elif _inside(target, walked):
                warnings.append(f"{display_path(link)}: skipped: a link to "
                                f"{target.as_posix()}, which is read already")
            elif target.is_dir():
                pending.append(link)
            else:
                found.append(link)
    return sorted(found, key=lambda path: path.relative_to(folder).parts)


def collect_files(
    sources: Sequence[str | Path], *, skip: Sequence[Path] = (), warnings: list[str] | None = None,
    follow_links: bool = False,
) -> list[Path]:
    """Expand files and folders (walked recursively) into the readable input files, in order.

    Hidden files and folders inside a walked folder are ignored, as is any path in ``skip``
    (the manifest, a rules file); files of other types are skipped with a warning; a file
    reached twice is read once. A link inside a walked folder, to a file or a folder, is
    followed only when its target lies inside one of ``sources`` (or with ``follow_links``);
    each link skipped is named in a warning. Sources themselves are read wherever they point.

    Raises
    ------
    FileNotFoundError
        A source does not exist (checked for all sources before anything is read).
    """
    sink = warnings if warnings is not None else []
    missing = [str(s) for s in sources if not Path(s).exists()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    roots = [Path(os.path.realpath(s)) for s in sources]
    skipped = {Path(p).resolve() for p in skip}
    seen: set[Path] = set()
    files: list[Path] = []
    for source in map(Path, sources):
        candidates = (_walk(source, roots, follow_links, sink) if source.is_dir()
                      else [source])
        n_before = len(files)
        for path in candidates:
            resolved = path.resolve()
            if resolved in skipped:
                continue
            if _kind(path) is None:
                sink.append(f"{display_path(path)}: skipped: not a "
                            f"{'/'.join(_ALL_SUFFIXES)} file (optionally .gz)")
                continue
            if resolved in seen:
                sink.append(f"{display_path(path)}: given more than once; read once")
                continue
            seen.add(resolved)
            files.append(path)
        if source.is_dir() and len(files) == n_before:
            sink.append(f"{display_path(source)}: no readable files in this folder")
    return files


def _raw_excerpt(data: bytes) -> str:
    return excerpt(data[:400].decode("utf-8", "backslashreplace"))


def _scalar(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, tuple)):
        return None
    text = " ".join(str(value).split())
    return text or None


def _heading_title(text: str) -> str | None:
    """The title from a first non-blank line that is a Markdown heading (``# Title``)."""
    for line in text.splitlines():
        if line.strip():
            match = _HEADING_LINE.fullmatch(line)
            return _scalar(clean_text(match.group(1))) if match else None
    return None


def _default_assembler(warnings: list[str] | None) -> Assembler:
    return Assembler(IngestOptions(), warnings if warnings is not None else [], [])


# -- documents ----------------------------------------------------------------------------------

def _record_limit(max_chars: int) -> int:
    """The longest JSONL line (bytes) or CSV row (characters) read for a ``max_chars`` limit:
    room for JSON's ``\\uXXXX`` escapes and the other fields; a longer record cannot hold an
    article short enough, and is rejected without being held in memory."""
    return 6 * max_chars


def _too_long(size: str, max_chars: int) -> str:
    return f"article too long: {size} (limit {max_chars:,} characters; {TOO_LONG_HINT})"


def read_text_file(
    path: Path, *, source: str, entry: dict | None = None, assembler: Assembler | None = None
) -> Article | Reject | KnownArticle:
    """Read one document (``.txt``, ``.md``, ``.html``; maybe gzipped). ``entry``: manifest row."""
    assembler = assembler or _default_assembler(None)
    max_chars = assembler.options.max_chars
    limit = 4 * max_chars  # UTF-8 takes at most 4 bytes a character
    try:
        data = read_limited(path, limit)
    except (OSError, EOFError, zlib.error) as err:
        return Reject(source, "file", f"cannot read: {getattr(err, 'strerror', None) or err}")
    if not data:
        return Reject(source, "file", "empty file (0 bytes)")
    if len(data) > limit:
        return Reject(source, "file", _too_long(f"over {limit:,} bytes", max_chars),
                      _raw_excerpt(data))
    try:
        raw, encoding, guessed = decode_bytes(data)
    except DecodeError as err:
        return Reject(source, err.position, err.reason, _raw_excerpt(data))
    if not raw.strip():
        return Reject(source, "file", "whitespace-only file", excerpt(raw))
    meta: dict[str, Any] = {"encoding": encoding}
    if guessed:
        meta["encoding_guessed"] = True
    stem = path.name[: -3] if path.name.lower().endswith(".gz") else path.name
    source_id = Path(stem).stem
    if _kind(path) == "html":
        from narrative.ingest.html import extract_html

        text, fields = extract_html(raw, url=(entry or {}).get("url"))
        if not text:
            return Reject(source, "file", "no article text found in the HTML page", excerpt(raw))
        return assembler.build(text, source=source, position="file", fields=fields, entry=entry,
                               source_id=source_id, meta=meta, origin="field:html")
    title = _heading_title(raw)
    return assembler.build(raw, source=source, position="file", entry=entry,
                           fields={"title": title}, source_id=source_id, meta=meta,
                           origin="text:heading")


# -- records (JSONL, CSV, Parquet) --------------------------------------------------------------

def _record(
    record: dict, *, source: str, position: str, where: str, entry: dict | None, encoding: str,
    assembler: Assembler, raw_line: str = "",
) -> Article | Reject | KnownArticle:
    """One mapped record (dict of columns) -> Article or Reject."""
    columns = assembler.options.columns.resolve(list(record))
    label = assembler.options.columns.text_label()
    shown = raw_line or excerpt(json.dumps(record, ensure_ascii=False, default=str))
    if "text" not in columns or record[columns["text"]] is None:
        return Reject(source, position, f"no '{label}' field", excerpt(shown))
    raw = record[columns["text"]]
    if not isinstance(raw, str):
        return Reject(source, position,
                      f"'{label}' field is not a string (got {type(raw).__name__})",
                      excerpt(shown))
    if not raw.strip():
        return Reject(source, position, f"empty '{label}' field", excerpt(shown))
    fields = {name: record.get(columns[name]) if name in columns else None
              for name in ("outlet", "date", "author", "title", "url")}
    fields["outlet"] = _scalar(fields["outlet"])
    for name in ("title", "url"):
        fields[name] = _scalar(fields[name])
    if isinstance(fields["author"], (dict, tuple)):
        fields["author"] = None
    if isinstance(fields["date"], (dict, list)):
        fields["date"] = None
    article = assembler.build(
        raw, source=where, position=position, fields=fields, entry=entry,
        source_id=_scalar(record.get(columns["id"])) if "id" in columns else None,
        lang=_scalar(record.get(columns["lang"])) if "lang" in columns else None,
        meta={"encoding": encoding})
    if isinstance(article, Reject):
        article.source = source
        if article.reason.startswith("empty after cleaning"):
            article.excerpt = excerpt(shown)
    return article


def _jsonl_line(line: str, *, source: str, lineno: int, entry: dict | None, encoding: str,
                assembler: Assembler) -> Article | Reject | KnownArticle:
    position = f"line {lineno}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        return Reject(source, position, f"not valid JSON: {err.msg} (column {err.colno})"
                      + ("; truncated record?" if "Expecting" in err.msg or "Unterminated"
                         in err.msg else ""), excerpt(line))
    except (ValueError, RecursionError) as err:  # 5,000-digit numbers, absurd nesting
        return Reject(source, position, f"not valid JSON: {err}", excerpt(line))
    if not isinstance(record, dict):
        return Reject(source, position,
                      f"not a JSON object (got {type(record).__name__})", excerpt(line))
    return _record(record, source=source, position=position, where=f"{source}:{lineno}",
                   entry=entry, encoding=encoding, assembler=assembler, raw_line=line)


def _bounded_lines(stream: Any, cap: int) -> Iterator[bytes | str | None]:
    """The lines of ``stream``, None in place of a line over ``cap`` bytes (or characters),
    which is read past without being held in memory."""
    while True:
        line = stream.readline(cap + 1)
        if not line:
            return
        if len(line) <= cap or line[-1:] in (b"\n", "\n"):
            yield line
            continue
        while line and line[-1:] not in (b"\n", "\n"):
            line = stream.readline(_SNIFF_BYTES * 128)
        yield None


def _jsonl_text(item: bytes | str, *, source: str, lineno: int, encoding: str) -> str | Reject:
    """One raw JSONL line as text, or a reject when a byte of it does not decode."""
    if isinstance(item, str):  # UTF-16, decoded keeping bad bytes
        found = undecodable_byte(item)
        if found is None:
            return item
        return Reject(source, f"line {lineno}", f"undecodable: not UTF-16 (byte "
                      f"0x{found[1]:02x} at column {found[0] + 1})", excerpt(item))
    if lineno == 1 and encoding == "utf-8-sig":
        item = item[len(codecs.BOM_UTF8):]
    try:
        return item.decode("utf-8")
    except UnicodeDecodeError as err:
        return Reject(source, f"line {lineno}", f"undecodable: not UTF-8 (byte "
                      f"0x{item[err.start]:02x} at column {err.start + 1})", _raw_excerpt(item))


def read_jsonl_file(
    path: Path, *, source: str, entry: dict | None = None, warnings: list[str] | None = None,
    assembler: Assembler | None = None,
) -> Iterator[Article | Reject | KnownArticle]:
    """Stream one ``.jsonl`` / ``.jsonl.gz`` file, one record per non-blank line.

    Lines are read one at a time (the file is never loaded whole), each up to
    :func:`_record_limit` bytes. A bad line (undecodable, not JSON, too long) becomes a reject
    and reading goes on; a file that breaks off (corrupt gzip, a decompression bomb) yields one
    reject for the unread rest, after the records read before the break.
    """
    assembler = assembler or _default_assembler(warnings)
    max_chars = assembler.options.max_chars
    cap = _record_limit(max_chars)
    lineno = 0
    n_yielded = 0
    whitespace_seen = False
    try:
        with open_input(path) as handle:
            head = handle.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
            lines: Any = handle
            if head.startswith(UTF16_BOMS):
                encoding = "utf-16"
                lines = io.TextIOWrapper(handle, encoding="utf-16", errors=keep_bytes(),
                                         newline="\n")
            else:
                nul = head.find(b"\x00")
                if nul >= 0:
                    yield Reject(source, "file", f"binary file (NUL byte at byte {nul})",
                                 _raw_excerpt(head))
                    return
                encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
            for item in _bounded_lines(lines, cap):
                lineno += 1
                if item is None:
                    n_yielded += 1
                    yield Reject(source, f"line {lineno}",
                                 _too_long(f"the line is over {cap:,} bytes", max_chars))
                    continue
                line = _jsonl_text(item, source=source, lineno=lineno, encoding=encoding)
                if isinstance(line, Reject):
                    n_yielded += 1
                    yield line
                    continue
                if not line.strip():
                    whitespace_seen = whitespace_seen or bool(line)
                    continue
                n_yielded += 1
                if "\x00" in line:
                    yield Reject(source, f"line {lineno}",
                                 f"binary data (NUL at column {line.index(chr(0)) + 1})",
                                 excerpt(line))
                    continue
                yield _jsonl_line(line, source=source, lineno=lineno, entry=entry,
                                  encoding=encoding, assembler=assembler)
    except (OSError, EOFError, zlib.error) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        position = "file" if n_yielded == 0 and lineno == 0 else f"line {lineno + 1}"
        what = "cannot read the file" if position == "file" else "cannot read the rest of the file"
        yield Reject(source, position, f"{what}: {reason}")
        return
    if n_yielded == 0:
        yield Reject(source, "file",
                     "whitespace-only file" if whitespace_seen else "empty file (0 bytes)")


def _read_table(path: Path, *, source: str, entry: dict | None,
                assembler: Assembler) -> Iterator[Article | Reject | KnownArticle]:
    from narrative.ingest.tables import read_csv_rows, read_parquet_rows

    if _kind(path) == "csv":
        items = read_csv_rows(path, source=source,
                              max_row_chars=_record_limit(assembler.options.max_chars))
    else:
        items = read_parquet_rows(path, source=source)
    for item in items:
        if isinstance(item, Reject):
            yield item
            continue
        position, record, encoding = item
        yield _record(record, source=source, position=position,
                      where=f"{source}:{position.replace(' ', '')}", entry=entry,
                      encoding=encoding, assembler=assembler)


# -- the stage ----------------------------------------------------------------------------------

def iter_records(
    sources: Sequence[str | Path], *, manifest: str | Path | None = None,
    options: IngestOptions | None = None, warnings: list[str] | None = None,
    removed: list[dict] | None = None,
    known: Mapping[str, tuple[str, dt.date | None]] | None = None,
    keys: bytearray | None = None, follow_links: bool = False,
) -> Iterator[Article | Reject | KnownArticle]:
    """Every article or reject in ``sources``, one at a time (bounded memory).

    ``warnings`` and ``removed`` receive what :class:`IngestResult` would hold; empty them
    between batches to keep memory bounded on huge inputs. ``known`` and ``keys``: see
    :class:`~narrative.ingest.assemble.Assembler` (records assembled before come back as
    :class:`~narrative.ingest.assemble.KnownArticle`). ``follow_links``: see
    :func:`collect_files`.
    """
    warnings = warnings if warnings is not None else []
    removed = removed if removed is not None else []
    assembler = Assembler(options or IngestOptions(), warnings, removed, known=known, keys=keys)
    entries = read_manifest(manifest, warnings=warnings) if manifest is not None else None
    skip = [Path(manifest)] if manifest is not None else []
    used: set[Path] = set()
    for path in collect_files(sources, skip=skip, warnings=warnings, follow_links=follow_links):
        source = display_path(path)
        entry = None
        if entries is not None:
            resolved = path.resolve()
            entry = entries.get(resolved)
            if entry is not None:
                used.add(resolved)
        kind = _kind(path)
        if kind in ("text", "html"):
            if entries is not None and entry is None:
                warnings.append(f"{source}: not in manifest; metadata read off the text only")
            yield read_text_file(path, source=source, entry=entry, assembler=assembler)
        elif kind == "jsonl":
            yield from read_jsonl_file(path, source=source, entry=entry, assembler=assembler)
        else:
            yield from _read_table(path, source=source, entry=entry, assembler=assembler)
    if entries:
        unused = [(e["line"], p) for p, e in entries.items() if p not in used]
        if unused:
            line, path = min(unused)
            warnings.append(f"{display_path(manifest)}: {len(unused)} listed file(s) not among "
                            f"the sources (first: {display_path(path)}, line {line})")


def _check_ids(articles: list[Article], warnings: list[str]) -> None:
    """Warn (once per id) when two records carry the same ``source_id``; both are kept."""
    first: dict[str, str] = {}
    n_dupes = 0
    for article in articles:
        if article.source_id is None or not _RECORD_SOURCE.search(article.source):
            continue  # documents: the id is the file name
        if article.source_id in first:
            n_dupes += 1
            if n_dupes > 10:
                continue
            warnings.append(f"{article.source}: duplicate id {article.source_id!r} (first at "
                            f"{first[article.source_id]}); both kept")
        else:
            first[article.source_id] = article.source
    if n_dupes > 10:
        warnings.append(f"... and {n_dupes - 10} more records with a duplicate id; all kept")


def ingest_sources(
    sources: Sequence[str | Path], *, manifest: str | Path | None = None,
    boilerplate: str | Path | Sequence[Rule] | bool | None = True,
    columns: ColumnMap | None = None, day_first: bool | None = None,
    max_chars: int = IngestOptions.max_chars, infer_metadata: bool = True,
    follow_links: bool = False,
) -> IngestResult:
    """Read every article in ``sources`` (files or folders), merged with ``manifest`` metadata.

    Parameters
    ----------
    sources : sequence of str or Path
        Files and folders; folders are walked recursively in sorted order.
    manifest : str or Path, optional
        CSV ``file,outlet,date,author,title,url`` (see :func:`read_manifest`); its values win.
    boilerplate : True, False, path or list of Rule, default True
        True: the shipped rules; a path: a YAML file merged over them
        (:func:`~narrative.ingest.boilerplate.load_rules`); a list: these rules; False/None:
        no removal.
    columns : ColumnMap, optional
        Column names for JSONL/CSV/Parquet (``--text-col`` and friends); default auto-detect.
    day_first : bool, optional
        Force the day/month order of numeric dates (default: by separator).
    max_chars : int
        Raw texts longer than this are rejected.
    infer_metadata : bool, default True
        Read date, author and outlet off the text where no manifest or field gives them.
    follow_links : bool, default False
        Read through links in the folders walked even where they point outside ``sources``
        (by default such links are skipped, each with a warning).

    Returns
    -------
    IngestResult
        Articles and rejects in input order, warnings, removed boilerplate spans, and the
        number of records read.

    Raises
    ------
    FileNotFoundError
        A source does not exist.
    ManifestError
        The manifest cannot be used (bad header, no ``file`` column, unreadable).
    BoilerplateError
        The rules file cannot be used.
    """
    if boilerplate is True:
        rules: Sequence[Rule] = load_rules()
    elif isinstance(boilerplate, (str, Path)):
        rules = load_rules(boilerplate)
    elif boilerplate:
        rules = list(boilerplate)
    else:
        rules = ()
    options = IngestOptions(rules=rules, columns=columns or ColumnMap(), day_first=day_first,
                            max_chars=max_chars, infer=infer_metadata)
    result = IngestResult()
    for record in iter_records(sources, manifest=manifest, options=options,
                               warnings=result.warnings, removed=result.removed,
                               follow_links=follow_links):
        result.n_read += 1
        if isinstance(record, Article):
            result.articles.append(record)
        else:
            result.rejects.append(record)
    _check_ids(result.articles, result.warnings)
    return result

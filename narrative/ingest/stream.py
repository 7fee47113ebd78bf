"""Streaming ingest: sources -> store in batches, in memory bounded by the batch, not the corpus.

:func:`ingest_into_store` gives the same store content as reading everything at once
(:func:`~narrative.ingest.ingest_sources`, then :func:`~narrative.dedup.mark_duplicate_articles`,
segmentation and :func:`~narrative.dedup.mark_duplicate_paragraphs`): the same article ids,
``duplicate_of`` links and paragraphs. Two passes make that possible:

1. **Read.** Records stream from the readers (JSONL line by line, CSV row by row, Parquet by row
   group, gzip as a stream). Rejects and removed boilerplate go to the store batch by batch;
   each article is appended to a temporary spool file (JSON lines) and only its sort key
   (date, id) and spool offset stay in memory, about 40 bytes per article. A record that an
   earlier ingest already made into a stored article (same record, same options and code: its
   key is in the store's ``record_keys``) is not cleaned, read for metadata or cut again: its id
   and date come from the store, so a daily re-run on a grown corpus reads the old records
   at the cost of parsing and hashing them.
2. **Link and write.** Articles are read back from the spool in first-occurrence order (date, then
   id) a batch at a time, linked to earlier copies through one :class:`~narrative.dedup.CopyIndex`
   per level that persists across batches (so a copy many batches later still links to its first
   occurrence), segmented, and written to the store, each batch's articles and paragraphs in one
   transaction with their copy-detection sketches. An article already stored with its sketches
   is not read back, sketched, segmented or written: its sketches and its paragraphs' are read
   from the store and fed to the indexes in its place (:mod:`narrative.ingest.linking`), so
   adding a few articles to a big store costs little more than reading the sources. When every
   article read is already stored (a re-run on the same corpus), this pass is skipped: it would
   write nothing.

Peak memory is one batch of articles plus the copy indexes (a few hundred bytes per distinct
article and paragraph; see :mod:`narrative.dedup`). The spool holds the cleaned text on disk, in
an unnamed temporary file that the system frees when the ingest ends or is killed; it holds only
articles that passed the readers' bounds (see :mod:`narrative.ingest.compressed`). Warnings are
counted and the first :data:`KEEP` kept (all rejects are in the store's ``rejects`` table).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from narrative.ingest.assemble import (
    ColumnMap,
    IngestOptions,
    KnownArticle,
    stored_collision,
)
from narrative.ingest.boilerplate import Rule, load_rules
from narrative.ingest.readers import _RECORD_SOURCE, iter_records
from narrative.schema import Article, Reject

__all__ = ["KEEP", "StreamSummary", "ingest_into_store"]

#: Rejects and warnings returned in the summary (the counts cover all of them).
KEEP = 100
_MAX_REASONS = 1000
_UNDATED = dt.date.max.toordinal()


@dataclasses.dataclass
class StreamSummary:
    """Counts of one ingest; ``rejects`` and ``warnings`` hold the first :data:`KEEP` only.

    Field names match :class:`narrative.pipeline.IngestSummary`; ``n_rejected``, ``n_warnings``
    and :meth:`reasons` count everything. ``n_ingested + n_rejected == n_read``.
    """

    n_read: int = 0
    n_ingested: int = 0
    n_new_articles: int = 0
    n_paragraphs: int = 0
    n_new_paragraphs: int = 0
    rejects: list[Reject] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    n_rejected: int = 0
    n_warnings: int = 0
    n_article_copies: int = 0
    n_paragraph_copies: int = 0
    reject_reasons: Counter = dataclasses.field(default_factory=Counter)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    """Wall time per step: ``read`` (read, clean, metadata, boilerplate, spool), ``dedup_articles``,
    ``segment``, ``dedup_paragraphs``, ``store``."""

    def __post_init__(self) -> None:
        # Built from full lists (e.g. by the Dask path): the counts follow the lists.
        if self.rejects and not self.n_rejected:
            self.n_rejected = len(self.rejects)
            self.reject_reasons = Counter(r.reason for r in self.rejects)
        if self.warnings and not self.n_warnings:
            self.n_warnings = len(self.warnings)

    def _time(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[step] = round(self.seconds.get(step, 0.0) + now - since, 3)
        return now

    def reasons(self) -> dict[str, int]:
        """Rejects by reason, over all rejects (rare reasons past 1,000 distinct are lumped)."""
        return dict(self.reject_reasons)

    def _reject(self, reject: Reject) -> None:
        self.n_rejected += 1
        if len(self.rejects) < KEEP:
            self.rejects.append(reject)
        reason = reject.reason
        if reason not in self.reject_reasons and len(self.reject_reasons) >= _MAX_REASONS:
            reason = "(other reasons)"
        self.reject_reasons[reason] += 1

    def _warn(self, messages: list[str]) -> None:
        self.n_warnings += len(messages)
        self.warnings.extend(messages[: max(0, KEEP - len(self.warnings))])
        messages.clear()


def _rules(boilerplate: str | Path | Sequence[Rule] | bool | None) -> Sequence[Rule]:
    if boilerplate is True:
        return load_rules()
    if isinstance(boilerplate, (str, Path)):
        return load_rules(boilerplate)
    return list(boilerplate) if boilerplate else ()


# -- spool: articles on disk, in input order ----------------------------------------------------

def _to_json(article: Article) -> str:
    row = dict(vars(article))  # the fields (dataclasses.asdict deep-copies: slow)
    row["date"] = article.date.isoformat() if article.date else None
    return json.dumps(row, ensure_ascii=False, default=str)


def _from_json(line: bytes) -> Article:
    row = json.loads(line)
    row["date"] = dt.date.fromisoformat(row["date"]) if row["date"] else None
    return Article(**row)


class _Spool:
    """Articles appended to a temporary JSONL file; read back by offset in any order.

    The file has no name (``tempfile.TemporaryFile``: unlinked as it is made), so it goes with
    the process however that ends, a kill included, and is never left behind.
    """

    def __init__(self, folder: str | Path | None) -> None:
        self._out = tempfile.TemporaryFile(prefix="narrative-ingest-", dir=folder)
        self.offsets = array("q")
        self.dates = array("l")
        self.ids = bytearray()

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._out.close()

    def __len__(self) -> int:
        return len(self.offsets)

    def add(self, article: Article) -> None:
        self.offsets.append(self._out.tell())
        self.dates.append(article.date.toordinal() if article.date else _UNDATED)
        self.ids += article.article_id.encode("ascii")
        self._out.write(_to_json(article).encode("utf-8") + b"\n")

    def add_known(self, article: KnownArticle) -> None:
        """A stored article, known by its record: its id and date, no text (never read back)."""
        self.offsets.append(-1)
        self.dates.append(article.date.toordinal() if article.date else _UNDATED)
        self.ids += article.article_id.encode("ascii")

    def order(self) -> Any:
        """Spool positions in first-occurrence order: date (undated last), id, then input order."""
        import numpy as np

        self._out.flush()
        n = len(self.offsets)
        ids = np.frombuffer(bytes(self.ids), dtype="S16") if n else np.zeros(0, "S16")
        return np.lexsort((np.arange(n), ids, np.asarray(self.dates, dtype=np.int64)))

    def read(self, positions: Sequence[int]) -> list[Article]:
        out = []
        for pos in positions:
            if self.offsets[pos] < 0:
                raise RuntimeError(f"spooled article {pos} was known by its record and "
                                   "has no text here; it should have been read from the store")
            self._out.seek(self.offsets[pos])
            out.append(_from_json(self._out.readline()))
        return out


def _batches(order: Any, ids: bytes, size: int) -> Iterator[list[int]]:
    """Runs of ``size`` positions; an id read more than once is never split across two runs."""
    batch: list[int] = []
    for pos in order.tolist():
        if len(batch) >= size and ids[16 * pos:16 * pos + 16] != ids[16 * batch[-1]:
                                                                    16 * batch[-1] + 16]:
            yield batch
            batch = []
        batch.append(pos)
    if batch:
        yield batch


def _all_stored(spool: _Spool, store: Any, summary: StreamSummary) -> bool:
    """True when every spooled article is already in ``store``; the summary then takes its
    counts from the store.

    Article ids are content hashes, and an article is stored in one transaction with its
    paragraphs, so a known id means its text, copy links and paragraphs are there already:
    linking and segmenting them again (most of a re-run's ingest time) would write nothing.
    """
    if not len(spool):
        return False
    raw = bytes(spool.ids)
    ids = [raw[i:i + 16].decode("ascii") for i in range(0, len(raw), 16)]
    counts = store.stored_counts(ids)
    if counts["articles"] < len(set(ids)):
        return False
    summary.n_paragraphs = counts["paragraphs"]
    summary.n_article_copies = counts["article_copies"]
    summary.n_paragraph_copies = counts["paragraph_copies"]
    return True


# -- the stage ---------------------------------------------------------------------------------

def ingest_into_store(
    sources: Sequence[str | Path], store: Any, *, manifest: str | Path | None = None,
    boilerplate: str | Path | Sequence[Rule] | bool | None = True,
    columns: ColumnMap | Mapping[str, str] | None = None, day_first: bool | None = None,
    settings: Any = None, batch_articles: int = 2000,
    max_chars: int = IngestOptions.max_chars, infer_metadata: bool = True,
    spool_dir: str | Path | None = None, follow_links: bool = False,
) -> StreamSummary:
    """Read ``sources``, clean, link copies, segment, and add what is new to ``store``.

    Parameters
    ----------
    sources, manifest, boilerplate, day_first, max_chars, infer_metadata
        As for :func:`~narrative.ingest.ingest_sources`.
    store : narrative.store.Store
        Receives articles, removed spans, paragraphs and rejects, one transaction per batch
        and table.
    columns : ColumnMap or mapping, optional
        Table columns by field (``{"text": "body"}``); default auto-detect.
    settings : narrative.config.Settings, optional
        Paragraph rules (``min_paragraph_words``, ``window_sentences``,
        ``max_paragraph_words``); default ``Settings()``.
    batch_articles : int, default 2000
        Articles held in memory at a time.
    spool_dir : path, optional
        Where the temporary spool file goes (default: the system temporary folder); it has no
        name there and never outlives the process.
    follow_links : bool, default False
        As for :func:`~narrative.ingest.ingest_sources`.

    Raises
    ------
    FileNotFoundError, ManifestError, BoilerplateError
        As :func:`~narrative.ingest.ingest_sources`; nothing is written to the store then.
    """
    from narrative.config import Settings
    from narrative.ingest.linking import BatchLinker

    if batch_articles < 1:
        raise ValueError(f"batch_articles must be >= 1; got {batch_articles}")
    settings = settings or Settings()
    options = _options(boilerplate, columns, day_first, max_chars, infer_metadata)
    summary = StreamSummary()
    log = _ReadLog(store, summary)
    clock = time.perf_counter()
    segment_kw = {"min_words": settings.min_paragraph_words,
                  "window_sentences": settings.window_sentences,
                  "max_words": settings.max_paragraph_words}
    linker, known = None, {}
    if store.count("record_keys"):  # records read before: made up at once from their keys
        linker = BatchLinker(store, segment_kw)  # (drops sketches made under other settings)
        known = store.known_records()
    keys = bytearray()  # (record key, article id) of each article built here, 16 + 16 bytes
    with _Spool(spool_dir) as spool:
        records = iter_records(sources, manifest=manifest, options=options,
                               warnings=log.warnings, removed=log.removed, known=known,
                               keys=keys, follow_links=follow_links)
        _read_pass(records, spool, log, batch_articles)
        _reject_stored_collisions(spool, store, summary, keys)
        clock = summary._time("read", clock)
        if _all_stored(spool, store, summary):
            _remember_records(store, keys)
            summary._time("store", clock)
            return summary
        clock = _link_and_write(spool, store, linker or BatchLinker(store, segment_kw), summary,
                                batch_articles, clock)
        _remember_records(store, keys)
        summary._time("store", clock)
    return summary


def _options(
    boilerplate: str | Path | Sequence[Rule] | bool | None,
    columns: ColumnMap | Mapping[str, str] | None, day_first: bool | None, max_chars: int,
    infer_metadata: bool,
) -> IngestOptions:
    """The readers' options from :func:`ingest_into_store`'s arguments."""
    if isinstance(columns, Mapping):
        columns = ColumnMap(**columns)
    return IngestOptions(rules=_rules(boilerplate), columns=columns or ColumnMap(),
                         day_first=day_first, max_chars=max_chars, infer=infer_metadata)


class _ReadLog:
    """What the readers report besides articles: warnings, removed boilerplate and rejects,
    gathered here (the readers append to :attr:`warnings` and :attr:`removed`) and written to
    the store and the summary a batch at a time. Records that share an id within a file are
    all kept; the first 10 are warned about, then a count."""

    SHOWN_DUPLICATE_IDS = 10

    def __init__(self, store: Any, summary: StreamSummary) -> None:
        self.store, self.summary = store, summary
        self.warnings: list[str] = []
        self.removed: list[dict] = []
        self.rejects: list[Reject] = []
        self._first_id: dict[str, str] = {}
        self._n_duplicate_ids = 0

    def reject(self, record: Reject) -> None:
        self.summary._reject(record)
        self.rejects.append(record)

    def check_id(self, article: Article) -> None:
        """Warn when ``article`` carries the id of an earlier record (documents are named by
        their file: not checked)."""
        if article.source_id is None or not _RECORD_SOURCE.search(article.source):
            return
        first = self._first_id.setdefault(article.source_id, article.source)
        if first != article.source:
            self._n_duplicate_ids += 1
            if self._n_duplicate_ids <= self.SHOWN_DUPLICATE_IDS:
                self.warnings.append(f"{article.source}: duplicate id "
                                     f"{article.source_id!r} (first at {first}); both kept")

    def full(self, batch_articles: int) -> bool:
        """Whether to write what is gathered now; removed spans can be big (a 1 MB run without
        a space), so they go early."""
        return (len(self.rejects) >= batch_articles or len(self.warnings) >= batch_articles
                or len(self.removed) >= 256
                or bool(self.removed and len(self.removed[-1]["text"]) > 65536))

    def flush(self) -> None:
        """Write the removed spans and rejects to the store and the warnings to the summary."""
        self.store.add_removed(self.removed)
        self.store.add_rejects(self.rejects)
        self.removed.clear()
        self.rejects.clear()
        self.summary._warn(self.warnings)

    def close(self) -> None:
        """The count of duplicate ids not warned about, then :meth:`flush`."""
        extra = self._n_duplicate_ids - self.SHOWN_DUPLICATE_IDS
        if extra > 0:
            self.warnings.append(f"... and {extra} more records with a duplicate id; all kept")
        self.flush()
        self._first_id.clear()


def _read_pass(records: Iterator[Any], spool: _Spool, log: _ReadLog, batch_articles: int) -> None:
    """Pass 1: each record read counted, each article spooled (a stored one by its id and date
    only), each reject and warning logged."""
    summary = log.summary
    for record in records:
        summary.n_read += 1
        if isinstance(record, Reject):
            log.reject(record)
        elif isinstance(record, KnownArticle):
            summary.n_ingested += 1
            spool.add_known(record)
        else:
            summary.n_ingested += 1
            spool.add(record)
            log.check_id(record)
        if log.full(batch_articles):
            log.flush()
    log.close()


def _link_and_write(
    spool: _Spool, store: Any, linker: Any, summary: StreamSummary, batch_articles: int,
    clock: float,
) -> float:
    """Pass 2: the spooled articles a batch at a time, in first-occurrence order, linked to
    earlier copies, segmented and written with their paragraphs and sketches. Returns the
    time the last step ended (``clock`` as :meth:`StreamSummary._time` moves it)."""
    raw = bytes(spool.ids)
    # stored with their sketches (1 byte per article): never parsed, sketched or written
    sketched = linker.sketched([raw[i:i + 16].decode("ascii") for i in range(0, len(raw), 16)])
    for batch in _batches(spool.order(), raw, batch_articles):
        fresh = [pos for pos in batch if not sketched[pos]]
        read = dict(zip(fresh, spool.read(fresh)))
        clock = summary._time("read", clock)
        # the spool's order (date, id, input order) is mark_duplicate_articles' order
        linked = linker.link_articles(
            [raw[16 * pos:16 * pos + 16].decode("ascii") for pos in batch],
            [read.get(pos) for pos in batch])
        clock = summary._time("dedup_articles", clock)
        fresh_paragraphs = linker.segment(linked)
        clock = summary._time("segment", clock)
        paragraphs = linker.link_paragraphs(linked, fresh_paragraphs)
        clock = summary._time("dedup_paragraphs", clock)
        summary.n_article_copies += linked.n_copies
        summary.n_paragraph_copies += paragraphs.n_copies
        summary.n_paragraphs += paragraphs.n_paragraphs
        # an article is stored with its paragraphs and the sketches of both, or not at all
        with store.transaction():
            summary.n_new_articles += store.add_articles(list(linked.fresh.values()))
            summary.n_new_paragraphs += store.add_paragraphs(paragraphs.fresh)
            store.add_sketches(linked.sketches, paragraphs.sketches)
        clock = summary._time("store", clock)
    return clock


def _reject_stored_collisions(spool: _Spool, store: Any, summary: StreamSummary,
                              keys: bytearray) -> None:
    """Records built here whose article is already stored from another record with other
    metadata become rejects (:func:`~narrative.ingest.assemble.stored_collision`): a record of
    an earlier ingest that is not read again here cannot claim the article in the Assembler.
    Their record keys are dropped from ``keys``, so that a later ingest checks them again."""
    built = [pos for pos, offset in enumerate(spool.offsets) if offset >= 0]
    if not built or not store.count("articles"):
        return
    raw = bytes(spool.ids)
    ids = {raw[16 * pos:16 * pos + 16].decode("ascii"): pos for pos in built}
    stored = store.article_identities(list(ids))
    rejects, rejected = [], set()
    for row in stored.to_dict("records"):
        (article,) = spool.read([ids[row["article_id"]]])
        reject = stored_collision(article, row)
        if reject is not None:
            rejects.append(reject)
            rejected.add(row["article_id"].encode("ascii"))
            summary.n_ingested -= 1
            summary._reject(reject)
    if rejected:  # (record key, article id) pairs, 32 bytes each
        kept = [bytes(keys[i:i + 32]) for i in range(0, len(keys), 32)
                if bytes(keys[i + 16:i + 32]) not in rejected]
        keys[:] = b"".join(kept)
    store.add_rejects(rejects)

def _remember_records(store: Any, keys: bytearray) -> None:
    """Store the record key of each article built in this ingest (see
    :class:`~narrative.ingest.assemble.Assembler`): the next ingest of the same records takes
    their ids from the store instead of building them again."""
    raw = bytes(keys)
    pairs = [(raw[i:i + 16].hex(), raw[i + 16:i + 32].decode("ascii"))
             for i in range(0, len(raw), 32)]
    if pairs:
        store.add_record_keys([k for k, _ in pairs], [a for _, a in pairs])

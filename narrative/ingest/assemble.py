"""From a raw text plus whatever metadata came with it to an :class:`Article` (or a reject).

Every reader ends here, so every format gets the same treatment, in this order: a size limit,
markup cleaning, metadata merge (manifest > record field > the text itself, each value's origin
kept in ``meta``), date sanity flags, then boilerplate removal (rules from
:mod:`narrative.ingest.boilerplate`; the cuts go to ``removed`` with the final article id).

Nothing is lost without a word:

- Boilerplate rules never eat a record's only text. When their cuts would leave nothing, or
  only the title, the text is kept uncut (runs of :data:`OVERLONG_TOKEN` excepted), with a
  warning and the sparing rules in ``meta["boilerplate_kept"]``.
- Two records that give one article (same outlet, date and cleaned text, hence one
  ``article_id``) but name it differently (another id, title, url or author) are not merged
  silently: the first read is the article, the other a reject whose excerpt holds its own
  values. The article id stays the plain content hash, whatever the input order, and the
  analysis counts the text once, as it would count a same-outlet copy. Records that add
  nothing of their own (exact repeats, or a missing value) merge as before.

Column mapping for tabular and JSON inputs lives here too (:class:`ColumnMap`): each field has an
explicit column or is auto-detected from a list of common names, case-insensitively.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrative.ingest.boilerplate import Cut, Rule, remove_boilerplate
from narrative.ingest.clean import clean_text, excerpt
from narrative.ingest.manifest import MANIFEST_FIELDS, join_authors, parse_date
from narrative.ingest.metadata import date_flag, find_dates, infer_metadata, undated_warning
from narrative.schema import Article, Reject, normalize_for_matching
from narrative.segment import MAX_WORD_CHARS

__all__ = ["AUTO_COLUMNS", "OVERLONG_TOKEN", "Assembler", "ColumnMap", "IngestOptions",
           "KnownArticle", "parse_field_date"]

#: What a user can do about an over-long record (a dump of many articles, not one article).
TOO_LONG_HINT = "split it into one record per article"

#: Always applied, boilerplate rules or not: a run of more than ``MAX_WORD_CHARS`` characters
#: without a space (base64 debris, a pasted binary, a 1 MB "word") is never prose. It is cut
#: like boilerplate, so it lands in ``removed`` (auditable, reversible) and never reaches the
#: embedding model; an article that is nothing else is rejected with that reason.
OVERLONG_TOKEN = Rule(name="overlong-token", pattern=r"\S{%d,}" % (MAX_WORD_CHARS + 1),
                      match="inline", where="any")

#: Column names tried, in order, when a field has no explicit column (compared in lower case).
AUTO_COLUMNS: dict[str, tuple[str, ...]] = {
    "text": ("text", "body", "content", "article", "full_text", "fulltext", "article_text",
             "maintext", "story", "document"),
    "date": ("date", "published", "published_at", "publish_date", "pub_date", "date_publish",
             "publication_date", "datetime", "timestamp", "created_at", "time"),
    "outlet": ("outlet", "publisher", "source", "source_name", "site", "site_name", "sitename",
               "domain", "media", "newspaper", "medium"),
    "title": ("title", "headline", "heading"),
    "author": ("author", "authors", "byline", "creator", "writer"),
    "url": ("url", "link", "href", "permalink", "canonical_url"),
    "id": ("id", "article_id", "doc_id", "guid", "uuid", "_id"),
    "lang": ("lang", "language"),
}


@dataclass(frozen=True)
class ColumnMap:
    """Explicit column names per field (None: auto-detect from :data:`AUTO_COLUMNS`)."""

    text: str | None = None
    date: str | None = None
    outlet: str | None = None
    title: str | None = None
    author: str | None = None
    url: str | None = None
    id: str | None = None
    lang: str | None = None

    def resolve(self, keys: Sequence[str]) -> dict[str, str]:
        """Field -> the key of ``keys`` that holds it (fields with no column are left out).

        An explicit column must match exactly or case-insensitively; auto-detection takes the
        first candidate present and never gives one key to two fields.
        """
        lower: dict[str, str] = {}
        for key in keys:
            lower.setdefault(str(key).lower(), key)
        out: dict[str, str] = {}
        for name in AUTO_COLUMNS:
            explicit = getattr(self, name)
            if explicit is not None:
                key = explicit if explicit in keys else lower.get(explicit.lower())
                if key is not None:
                    out[name] = key
        taken = set(out.values())
        for name, candidates in AUTO_COLUMNS.items():
            if name in out or getattr(self, name) is not None:
                continue
            for candidate in candidates:
                key = lower.get(candidate)
                if key is not None and key not in taken:
                    out[name] = key
                    taken.add(key)
                    break
        return out

    def text_label(self) -> str:
        return self.text or "text"


@dataclass
class IngestOptions:
    """Settings shared by all readers.

    ``rules``: boilerplate rules (empty: no removal). ``day_first``: force the numeric date
    order (None: by separator, see :mod:`narrative.ingest.metadata`). ``today``: the reference
    for future-date flags. ``max_chars``: longer raw texts are rejected (a 50 MB "article" is
    a dump, not an article). ``infer``: read metadata off the text.
    """

    rules: Sequence[Rule] = ()
    columns: ColumnMap = field(default_factory=ColumnMap)
    day_first: bool | None = None
    today: dt.date | None = None
    max_chars: int = 2_000_000
    infer: bool = True


def parse_field_date(value: Any, *, day_first: bool | None = None) -> dt.date | None:
    """A record's date field: ISO first, else one unambiguous date in a known shape.

    Raises ValueError when the value is not a date or is a day/month-ambiguous numeric date.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 0 < value < 1e11:  # a Unix timestamp in seconds
            return dt.datetime.fromtimestamp(value, dt.timezone.utc).date()
        if 1e11 <= value < 1e14:  # milliseconds
            return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc).date()
        raise ValueError("number out of range for a timestamp")
    try:
        return parse_date(value)
    except ValueError:
        pass
    text = str(value).strip()
    hits = find_dates(text, day_first=day_first)
    if len(hits) == 1 and len(text) - (hits[0].end - hits[0].start) <= 40:
        if hits[0].ambiguous and day_first is None:
            raise ValueError("day/month order is ambiguous")
        return hits[0].date
    raise ValueError("expected YYYY-MM-DD or a date like 'September 2, 2025'")


#: What tells apart two records that give one article; ``id`` is the record's own id (the file
#: name of a document is not: two files of one text are one article).
IDENTITY_FIELDS = ("id", "title", "url", "author")
_DIGEST_BITS = 32  # per field; a miss (two values, one digest) only merges silently as before


def _field_value(name: str, value: Any) -> str | None:
    """A record's title, url or author as the article stores it (whitespace and author lists
    normalised), None when empty."""
    if value is None:
        return None
    if name == "author":
        return join_authors(value)
    return " ".join(str(value).split()) or None


def _identity(fields: Mapping[str, Any] | None, entry: Mapping[str, Any] | None,
              source_id: str | None, position: str) -> dict[str, str | None]:
    """The values of :data:`IDENTITY_FIELDS` a record gives (a manifest entry's first)."""
    given = {"id": None if position == "file" else _field_value("id", source_id)}
    for name in IDENTITY_FIELDS[1:]:
        value = (entry or {}).get(name)
        given[name] = _field_value(name, value if value is not None else (fields or {}).get(name))
    return given


def _digest(identity: Mapping[str, str | None]) -> int:
    """One small int per record (32 bits per field, 0 for no value): memory for big corpora."""
    packed = 0
    for i, name in enumerate(IDENTITY_FIELDS):
        value = identity[name]
        if value is not None:
            h = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=4).digest()
            packed |= (int.from_bytes(h, "big") or 1) << (_DIGEST_BITS * i)
    return packed


def _differing(first: int, other: int) -> list[str]:
    """Fields where ``other`` has a value and ``first`` another (or none)."""
    mask = (1 << _DIGEST_BITS) - 1
    out = []
    for i, name in enumerate(IDENTITY_FIELDS):
        a, b = (first >> (_DIGEST_BITS * i)) & mask, (other >> (_DIGEST_BITS * i)) & mask
        if b and a != b:
            out.append(name)
    return out


_RECORD_POSITION = re.compile(r":(row)?(\d+)$")


def article_identity(source: str, source_id: str | None, title: str | None, url: str | None,
                     author: str | None) -> dict[str, str | None]:
    """The :data:`IDENTITY_FIELDS` values of an article as built or stored (the id counts for
    records of JSONL and tables only: a document's is its file name)."""
    record = _RECORD_POSITION.search(source) is not None
    return {"id": _field_value("id", source_id) if record else None,
            "title": _field_value("title", title), "url": _field_value("url", url),
            "author": _field_value("author", author)}


def stored_collision(article: Article, stored: Mapping[str, Any]) -> Reject | None:
    """The reject of a record built in this ingest whose article (same outlet, date and text)
    is already stored from another record with other values of :data:`IDENTITY_FIELDS`; None
    when it adds nothing of its own (the same record read again, or fewer values)."""
    new = article_identity(article.source, article.source_id, article.title, article.url,
                           article.author)
    old = article_identity(str(stored["source"]), stored["source_id"], stored["title"],
                           stored["url"], stored["author"])
    differing = _differing(_digest(old), _digest(new))
    if not differing:
        return None
    match = _RECORD_POSITION.search(article.source)
    source = article.source[:match.start()] if match else article.source
    position = ("row " if match.group(1) else "line ") + match.group(2) if match else "file"
    values = {name: value for name, value in new.items() if value is not None}
    kept = json.dumps({"article_id": article.article_id, **values}, ensure_ascii=False)
    return Reject(source, position,
                  "same outlet, date and text as an article already stored (from "
                  f"{stored['source']}) but another {', '.join(differing)}: counted once, as the "
                  "stored article (this record's values are in the excerpt)",
                  excerpt(kept, limit=500))


def _spared_rules(cut_text: str, cuts: Sequence[Cut], title: str | None) -> list[str]:
    """The rules whose cuts are undone because they would leave nothing of the record, or only
    its title: a rule matches what is usually boilerplate, and a record that is nothing else
    (a gallery headline, a one-line item) is still all the record has."""
    rules = sorted({cut[3] for cut in cuts if cut[3] != OVERLONG_TOKEN.name})
    if not rules:
        return []
    if not cut_text or (title and normalize_for_matching(cut_text)
                        == normalize_for_matching(title)):
        return rules
    return []


def _author_names(value: str | None) -> list[str]:
    if not value:
        return []
    return [n.removesuffix(" (editor)").strip() for n in value.split(";") if n.strip()]


@dataclass(frozen=True)
class KnownArticle:
    """A record an earlier ingest assembled into a stored article (same record, options and
    code, see :meth:`Assembler.build`): its article's id and date, the article not rebuilt."""

    article_id: str
    date: dt.date | None
    source: str


#: The modules whose code decides what a record assembles into (besides the readers, which
#: hand over the raw text and fields that the record key hashes).
_ASSEMBLY_CODE = ("assemble.py", "boilerplate.py", "clean.py", "manifest.py", "metadata.py")


@functools.lru_cache(maxsize=1)
def _code_salt() -> str:
    from narrative._version import __version__

    h = hashlib.sha256(__version__.encode())
    for name in _ASSEMBLY_CODE:
        h.update(name.encode() + (Path(__file__).parent / name).read_bytes())
    return h.hexdigest()


class Assembler:
    """Builds articles with shared options; collects warnings and removed spans as it goes.

    ``known`` maps record keys (see :meth:`record_key`) to the stored article each gave: such a
    record comes back as a :class:`KnownArticle` without being built again. ``keys``, when
    given, receives the key and id of every article built (16 + 16 bytes each, compact for big
    corpora), for the store to remember them.

    Each article id read is remembered with a digest of its first record's
    :data:`IDENTITY_FIELDS` (one small int), so that a later record of the same article with
    values of its own becomes a reject rather than vanishing into the article.
    """

    def __init__(self, options: IngestOptions, warnings: list[str], removed: list[dict], *,
                 known: Mapping[str, tuple[str, dt.date | None]] | None = None,
                 keys: bytearray | None = None) -> None:
        self.options = options
        self.warnings = warnings
        self.removed = removed
        self.known = known or {}
        self.keys = keys
        self._claimed: dict[str, int] = {}  # article id -> digest of its first record's identity
        rules = [repr(rule) for rule in options.rules]
        self._salt = json.dumps([_code_salt(), rules, repr(options.columns), options.day_first,
                                 options.max_chars, options.infer]).encode()

    def record_key(self, raw: str, **inputs: Any) -> str:
        """What the article of a record depends on, hashed: the raw text, the record's fields
        and manifest entry, the options (all but ``today``, which only flags dates) and the
        assembly code. Equal keys give equal articles."""
        h = hashlib.blake2b(self._salt, digest_size=16)
        h.update(json.dumps([raw, inputs], sort_keys=True, default=str,
                            ensure_ascii=False).encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def build(
        self, raw: str, *, source: str, position: str, fields: Mapping[str, Any] | None = None,
        entry: Mapping[str, Any] | None = None, source_id: str | None = None,
        lang: str | None = None, meta: Mapping[str, Any] | None = None,
        origin: str = "field",
    ) -> Article | Reject | KnownArticle:
        """One article from ``raw`` text (a :class:`KnownArticle` when ``known`` has it).

        ``fields`` holds the record's own values (``outlet, date, author, title, url``; a date
        may be unparsed), ``entry`` the manifest row, ``origin`` the label for field values
        (``"field"``, ``"text:heading"``, ``"field:html"``).
        """
        identity = _identity(fields, entry, source_id, position)
        key = None
        if self.known or self.keys is not None:
            key = self.record_key(raw, fields=fields, entry=entry, source_id=source_id, lang=lang,
                                  meta=meta, origin=origin)
            hit = self.known.get(key)
            if hit is not None:
                differing = self._claim(hit[0], identity)
                if differing:  # the other record came first here, but this one is stored
                    self.warnings.append(
                        f"{source}: its stored article {hit[0]} is also given by a record read "
                        f"before it, with another {', '.join(differing)}; one of the two "
                        "records' values is not in the store")
                return KnownArticle(hit[0], hit[1], source)
        built = self._build(raw, source=source, position=position, fields=fields, entry=entry,
                            source_id=source_id, lang=lang, meta=meta, origin=origin)
        if isinstance(built, Reject):
            return built
        article, cuts = built
        differing = self._claim(article.article_id, identity)
        if differing:
            return self._second_record(article.article_id, identity, differing, source,
                                       position)
        if cuts:
            self.removed.extend({"article_id": article.article_id, "start": s, "end": e,
                                 "text": t, "rule": r} for s, e, t, r in cuts)
        if key is not None and self.keys is not None:
            self.keys += bytes.fromhex(key) + article.article_id.encode("ascii")
        return article

    def _claim(self, article_id: str, identity: Mapping[str, str | None]) -> list[str]:
        """Remember the first record of ``article_id``; for a later one, the fields in which it
        names the article otherwise (empty: it adds nothing and merges)."""
        digest = _digest(identity)
        first = self._claimed.setdefault(article_id, digest)
        return [] if first == digest else _differing(first, digest)

    @staticmethod
    def _second_record(article_id: str, identity: Mapping[str, str | None],
                       differing: list[str], source: str, position: str) -> Reject:
        """The reject of a record whose article an earlier record gave: its values kept."""
        values = {name: value for name, value in identity.items() if value is not None}
        kept = json.dumps({"article_id": article_id, **values}, ensure_ascii=False)
        return Reject(source, position,
                      "same outlet, date and text as an earlier record but another "
                      f"{', '.join(differing)}: counted once, as that record's article (this "
                      "record's values are in the excerpt)", excerpt(kept, limit=500))

    def _build(
        self, raw: str, *, source: str, position: str, fields: Mapping[str, Any] | None,
        entry: Mapping[str, Any] | None, source_id: str | None, lang: str | None,
        meta: Mapping[str, Any] | None, origin: str,
    ) -> tuple[Article, list[Cut]] | Reject:
        opts = self.options
        if len(raw) > opts.max_chars:
            return Reject(source, position, f"article too long: {len(raw):,} characters "
                          f"(limit {opts.max_chars:,}; {TOO_LONG_HINT})", excerpt(raw))
        text = clean_text(raw)
        if not text:
            return Reject(source, position, "empty after cleaning (only markup)", excerpt(raw))
        found: dict[str, tuple[Any, str]] = {}
        for name, value in (fields or {}).items():
            if value is None:
                continue
            if name == "date":
                try:
                    value = parse_field_date(value, day_first=opts.day_first)
                except (ValueError, OverflowError, OSError) as err:
                    self.warnings.append(f"{source}: bad date {value!r} ({err}); date left empty")
                    continue
            else:
                value = _field_value(name, value)
            if value is not None:
                found[name] = (value, origin)
        inferred: dict[str, tuple[Any, str]] = {}
        if opts.infer:
            url = (entry or {}).get("url") or found.get("url", (None,))[0]
            inferred = infer_metadata(text, url=url, day_first=opts.day_first, today=opts.today)
        values: dict[str, Any] = {}
        article_meta: dict[str, Any] = {}
        for name in MANIFEST_FIELDS:
            if entry is not None and entry.get(name) is not None:
                values[name], article_meta[name] = entry[name], "manifest"
            elif name in found:
                values[name], article_meta[name] = found[name]
            elif name in inferred and name != "url":
                values[name], article_meta[name] = inferred[name]
                if name == "date" and "date_ambiguous" in inferred:
                    article_meta["date_ambiguous"] = True
            else:
                values[name] = None
        for extra in ("editor", "first_published_in"):
            if extra in inferred:
                article_meta[extra] = inferred[extra][0]
        flag = date_flag(values["date"], today=opts.today)
        if flag is not None:
            article_meta["date_flag"] = flag
            self.warnings.append(f"{source}: suspicious date {values['date']} ({flag}); kept, "
                                 "left out of the time views")
        undated = undated_warning(source, values["date"])
        if undated is not None:
            self.warnings.append(undated)
        article_meta.update(meta or {})
        authors = _author_names(values["author"]) + _author_names(article_meta.get("editor"))
        cut_text, cuts = remove_boilerplate(text, [*opts.rules, OVERLONG_TOKEN], authors=authors)
        spared = _spared_rules(cut_text, cuts, values["title"])
        if spared:
            left = "only the title" if cut_text else "nothing"
            cut_text, cuts = remove_boilerplate(text, [OVERLONG_TOKEN])
            article_meta["boilerplate_kept"] = spared
            self.warnings.append(f"{source}: boilerplate rule(s) {', '.join(spared)} would "
                                 f"leave {left}; text kept uncut")
        text = cut_text
        overlong = [c for c in cuts if c[3] == OVERLONG_TOKEN.name]
        if not text:  # only overlong runs: never prose, whatever the rules
            return Reject(source, position, "no prose: only runs of over "
                          f"{MAX_WORD_CHARS:,} characters without a space (longest "
                          f"{max(len(c[2].strip()) for c in overlong):,})", excerpt(raw))
        if overlong:
            self.warnings.append(
                f"{source}: cut {len(overlong)} run(s) of over {MAX_WORD_CHARS:,} characters "
                f"without a space (longest {max(len(c[2].strip()) for c in overlong):,}); kept "
                "in the removed table")
        article = Article(text=text, source=source, source_id=source_id, lang=lang,
                          meta=article_meta, **values)
        return article, cuts

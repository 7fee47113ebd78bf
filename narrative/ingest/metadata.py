"""Metadata read off an article's own text: dates, bylines, the outlet, the headline, and where
the text says it was first published.

Used only where neither the manifest nor a record field gives a value (the manifest always wins,
then the input's own field, then the text). Each inferred value carries its origin
``text:<rule>`` so ``articles.meta`` says where it came from.

**Dates.** Recognised shapes: ISO ``2025-09-02`` (with or without a time), ``September 2, 2025``,
``Sep. 2, 2025``, ``2 Sep 2025``, ``2nd of September, 2025`` and numeric ``9/9/2025`` /
``09.09.2025``. *Day/month rule for numeric dates*: with ``/`` the first number is the month
(US usage, as in ``9/9/2025 at 3:32 PM EDT``), with ``.`` or ``-`` the first number is the day
(European usage); either reading is overridden when one number exceeds 12, and ``day_first``
forces one order. A numeric date whose two readings are both valid and differ is marked
``date_ambiguous`` in meta. Dates after ``today`` or before 1900 are *suspicious*:
:func:`date_flag` names them; the text rules skip them, a field or manifest date keeps its value
and is flagged (``meta["date_flag"]``) with a warning.

**Where the text is read.** Bylines and datelines are looked for in the *head* (first
:data:`HEAD_LINES` non-blank lines) and the *tail* (last :data:`TAIL_LINES`); a date with no
dateline is the first full date within the first :data:`FIRST_DATE_CHARS` characters.

**No date.** A document for which no source gives a date cannot be placed in time; the ingest
warns with :func:`undated_warning` (its drift leaves it out of the time views).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from narrative.outlets import (  # noqa: F401 (outlet names: part of this module's interface)
    DOMAIN,
    KNOWN_OUTLETS,
    outlet_from_name,
    outlet_from_url,
    outlet_key,
    same_outlet,
    squash,
)

__all__ = [
    "CLAIM_PHRASES", "DATE_PATTERN", "DateHit", "HEAD_LINES", "KNOWN_OUTLETS", "NO_DATE",
    "TAIL_LINES", "date_flag", "find_dates", "infer_metadata", "looks_like_headline",
    "outlet_from_name", "outlet_from_url", "outlet_key", "same_outlet", "split_names",
    "undated_warning",
]

HEAD_LINES = 10
TAIL_LINES = 8
FIRST_DATE_CHARS = 2000
DATELINE_WORDS = 10

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"

#: One regex source that finds a date in any recognised shape (no groups; usable as a macro).
DATE_PATTERN = (
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}(?:[T ]\d{{2}}:\d{{2}}(?::\d{{2}})?\S*)?"
    rf"|{_MONTH}\s+{_DAY},?\s+\d{{4}}"
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
    rf"|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{4}})"
)
_DATES = re.compile(
    rf"(?<![\w/.-])(?:"
    rf"(?P<iso>(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}}))(?:[T ]\d{{2}}:\d{{2}}(?::\d{{2}})?\S*)?"
    rf"|(?P<mdy>(?P<m1>{_MONTH})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{{4}}))"
    rf"|(?P<dmy>(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTH}),?\s+(?P<y2>\d{{4}}))"
    rf"|(?P<num>(?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})(?P=sep)(?P<y3>\d{{4}}))"
    rf")(?![\w/])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateHit:
    """A date found in text at ``text[start:end]``; ``ambiguous`` for day/month-swappable ones."""

    date: dt.date
    start: int
    end: int
    ambiguous: bool = False


def _numeric(a: int, b: int, year: int, sep: str, day_first: bool | None) -> tuple[dt.date, bool]:
    first_is_day = (sep != "/") if day_first is None else day_first
    if a > 12:
        first_is_day = True
    elif b > 12:
        first_is_day = False
    day, month = (a, b) if first_is_day else (b, a)
    value = dt.date(year, month, day)
    ambiguous = a != b and a <= 12 and b <= 12
    return value, ambiguous


def find_dates(text: str, *, day_first: bool | None = None) -> list[DateHit]:
    """Every valid calendar date in ``text``, in order (``February 30`` and the like are skipped)."""
    hits = []
    for m in _DATES.finditer(text):
        try:
            if m.group("iso"):
                value, amb = dt.date(int(m["iy"]), int(m["im"]), int(m["id"])), False
            elif m.group("mdy"):
                value = dt.date(int(m["y1"]), _MONTHS[m["m1"].lower().rstrip(".")], int(m["d1"]))
                amb = False
            elif m.group("dmy"):
                value = dt.date(int(m["y2"]), _MONTHS[m["m2"].lower().rstrip(".")], int(m["d2"]))
                amb = False
            else:
                value, amb = _numeric(int(m["a"]), int(m["b"]), int(m["y3"]), m["sep"], day_first)
        except ValueError:
            continue
        hits.append(DateHit(value, m.start(), m.end(), amb))
    return hits


NO_DATE = "no date found: left out of the time views"


def undated_warning(source: str, value: dt.date | None) -> str | None:
    """The warning for a document whose final date (manifest, field or text) is ``value``:
    ``"<source>: no date found: ..."`` when there is none, else None."""
    return f"{source}: {NO_DATE}" if value is None else None


def date_flag(value: dt.date | None, *, today: dt.date | None = None) -> str | None:
    """``"future"`` (after ``today``), ``"before_1900"``, or None for a plausible date."""
    if value is None:
        return None
    if value > (today or dt.date.today()):
        return "future"
    if value.year < 1900:
        return "before_1900"
    return None


# -- names --------------------------------------------------------------------------------------

_PARTICLE = r"(?:van|von|de|der|den|da|di|du|del|della|al|bin|ibn|el|la|le|dos|das)"
_WORD = r"[A-Z][\w'’-]*\.?"
_NAME = rf"{_WORD}(?:\s+(?:{_WORD}|{_PARTICLE}(?=\s+[A-Z]))){{1,3}}"
_NAMES = rf"{_NAME}(?:\s*(?:,|;|&|\band\b)\s*{_NAME})*"
_SPLIT_NAMES = re.compile(r"\s*(?:,|;|&|\band\b)\s*")

_BYLINE_RULES = [
    ("byline", "author", re.compile(rf"(?i:by)\s+(?P<names>{_NAMES})(?:\s*[,|–—-]\s*.{{0,60}})?")),
    ("author_label", "author", re.compile(
        rf"(?i:authors?|written by|words by|reporting by)\s*:?\s*(?P<names>{_NAMES})")),
    ("edited_by", "editor", re.compile(rf"(?i:edited by|editor)\s*:?\s*(?P<names>{_NAMES})")),
]


def split_names(names: str) -> list[str]:
    """``"A B and C D, E F"`` -> ``["A B", "C D", "E F"]`` (blank parts dropped)."""
    return [" ".join(n.split()) for n in _SPLIT_NAMES.split(names) if n.strip()]


# -- outlets ------------------------------------------------------------------------------------

_URL = r"(?:https?://|www\.)[^\s,;()<>\"']+"
_OUTLET_NAME = r"[A-Z][\w&'’.-]*(?:\s+(?:[A-Z][\w&'’.-]*|of|the|and|for)){0,5}"
_EXCLUSIVE = re.compile(rf"(?i:exclusive(?:ly)? (?:to|for)|special to)\s+(?P<name>{_OUTLET_NAME})\s*:?")
_DATELINE = re.compile(rf"(?P<name>[A-Z][\w&'’.-]*(?:\s+[\w&'’.-]+){{0,4}}?)\s*[|·•,:-]?\s+"
                       rf"(?={DATE_PATTERN})", re.IGNORECASE)
_COURTESY = re.compile(rf"(?i:courtesy of)\b[^.\n]{{0,80}}?(?P<url>{_URL})"
                       rf"|(?i:courtesy of)\s+(?P<name>{_OUTLET_NAME})")
_FIRST_PUBLISHED = re.compile(
    rf"(?i:(?:first|originally) (?:published|appeared|ran) (?:in|on|by|at))\s+"
    rf"(?:(?P<url>{_URL})|(?P<name>{_OUTLET_NAME}))")
_TARGET = (rf"(?:the\s+)?(?:(?P<url>{_URL})|(?P<domain>(?i:{DOMAIN}))"
           rf"|(?P<name>{_OUTLET_NAME}))")
#: "published in Russian on x.ru": the language is not the outlet
_LANGUAGE = (r"(?:in (?:Arabic|Chinese|English|French|German|Italian|Japanese|Polish|Portuguese|"
             r"Russian|Spanish|Turkish|Ukrainian) )?")
_PUBLISHED = rf"(?:published|appeared|ran|posted) {_LANGUAGE}"

_LEAD = r"(?:\S+\s+){0,%d}?"  # up to n words of the sentence before the phrase

#: Phrases by which a text says it was published elsewhere first (its *copy claim*): the kind,
#: how many words of its sentence may come before it ("Article first published in" but not "He
#: said it first appeared in"), the phrase. Tried in this order on each sentence of the short head
#: and tail lines. ``source_url`` takes an address only: "Source: Reuters" may name an agency
#: quoted, not the publisher.
_APPEARED_IN = (r"(?i:this (?:article|story|piece|post|op-?ed|column|commentary|essay) "
                rf"(?:was )?(?:first |originally )?{_PUBLISHED}(?:in|on|by|at))")
_REPUBLISHED = (r"(?i:(?:re-?published|reprinted|reproduced|syndicated)(?: here)? "
                r"(?:from|with (?:the )?(?:kind )?permission (?:of|from)))")
_SOURCE = r"(?i:(?:original )?(?:source|article|story)|via|read (?:more|the original) (?:at|on))"
_ADDRESS = rf"(?:(?P<url>{_URL})|(?P<domain>(?i:{DOMAIN})))"
CLAIM_PHRASES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(_LEAD % lead + pattern + r"\s*:?\s*" + target, re.DOTALL))
    for kind, lead, pattern, target in (
        ("appeared_in", 2, _APPEARED_IN, _TARGET),
        ("appeared_in", 0, r"(?i:the post\b.{1,200}?\bappeared first on)", _TARGET),
        ("first_published", 2, rf"(?i:first {_PUBLISHED}(?:in|on|by|at))", _TARGET),
        ("originally_published", 2, rf"(?i:originally {_PUBLISHED}(?:in|on|by|at))", _TARGET),
        ("republished_from", 2, _REPUBLISHED, _TARGET),
        ("courtesy_of", 4, r"(?i:courtesy of)\b[^.\n]{0,80}?(?=(?:https?://|www\.))", _TARGET),
        ("courtesy_of", 4, r"(?i:courtesy of)", _TARGET),
        ("source_url", 0, _SOURCE, _ADDRESS),
    ))
#: A credit for a picture, not for the text: "Photo courtesy of the White House", "Photos first
#: posted by A on Facebook".
_PICTURE_CREDIT = re.compile(r"(?i)\b(?:photo|image|picture|video|footage|graphic|map|"
                             r"illustration|chart)s?\b")
#: Words every claim phrase holds (one of them): a line without any is not read further.
_CLAIM_TRIGGERS = ("published", "appeared", " ran ", "posted", "courtesy", "reprinted",
                   "reproduced", "syndicated", "permission", "source", "via", "read more",
                   "read the")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+(?=[A-Z\"“‘'(])")
CLAIM_WORDS = 40  # a claim is a short sentence, a note of its own
_NOTE_CHARS = 1500  # where the first and last sentences of a long line are looked for


def _may_claim(text: str) -> bool:
    low = text.lower()
    return any(word in low for word in _CLAIM_TRIGGERS)  # substring tests: fast on long lines


def _outlet_of(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    url = groups.get("url") or groups.get("domain")
    if url:
        return outlet_from_url(url)
    return outlet_from_name(re.sub(r"['’]s$", "", match["name"]))  # "the Courier's website"


def _note_sentences(line: str) -> list[str]:
    """The sentences of a line that may be a note about the text: all of a short line's, the
    first and last two of a long one (a footer's notes open or close it; the middle of a
    paragraph of prose is the story)."""
    if len(line) > 2 * _NOTE_CHARS:  # a long paragraph: only its ends are read
        sentences = (_SENTENCE_BREAK.split(line[:_NOTE_CHARS])[:2]
                     + _SENTENCE_BREAK.split(line[-_NOTE_CHARS:])[-2:])
    else:
        sentences = _SENTENCE_BREAK.split(line) if _may_claim(line) else []
        if len(sentences) > 4:
            sentences = sentences[:2] + sentences[-2:]
    return [s for s in sentences if _short(s, CLAIM_WORDS) and _may_claim(s)]


def _copy_claim(lines: list[str]) -> dict[str, str] | None:
    """The first copy claim of ``lines``: ``{"phrase": kind, "outlet": outlet named}``."""
    for line in lines:
        for sentence in _note_sentences(line):
            if _PICTURE_CREDIT.search(sentence):
                continue
            for kind, pattern in CLAIM_PHRASES:
                match = pattern.match(sentence)
                name = _outlet_of(match) if match else None
                if name:
                    return {"phrase": kind, "outlet": name}
    return None


# -- headlines ----------------------------------------------------------------------------------

HEADLINE_WORDS = (4, 20)
#: A day without a year ("Tuesday, 1 March", "March 1"): a fixture or a dateline, no headline
_DAY_OF = re.compile(rf"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?!\w)|\b{_MONTH}\s+\d{{1,2}}\b")
#: Words a Title Case headline leaves in lower case (articles, conjunctions, short prepositions).
_MINOR_WORDS = frozenset(
    "a an and as at but by for from in into nor of off on onto or over per so than the to up "
    "via vs with yet".split())
_WORD_EDGES = "\"'“”‘’«»()[]{}*_.,;:!?…"


def looks_like_headline(line: str) -> bool:
    """Whether a line reads as a headline rather than prose: 4 to 20 words, mostly words (not
    numbers: a score line), Title Case (every word but the minor ones starts with a capital or a
    digit), no final full stop, colon or comma (a question mark is fine), no date, no day and
    no address. Precise rather than complete: a headline in sentence case is not recognised,
    and a first sentence of prose never is one."""
    if not _short(line, HEADLINE_WORDS[1]):
        return False
    words = line.split()
    if len(words) < HEADLINE_WORDS[0]:
        return False
    if line.rstrip()[-1] in ".:,;-–—" or re.search(_URL, line) or _DAY_OF.search(line):
        return False
    if 3 * sum(any(c.isalpha() for c in w) for w in words) < 2 * len(words) or find_dates(line):
        return False
    for i, word in enumerate(words):
        core = word.strip(_WORD_EDGES)
        if not any(c.isalpha() for c in core):
            continue  # a number, a dash, an ampersand
        if i and core.lower() in _MINOR_WORDS:
            continue
        if not (core[0].isupper() or core[0].isdigit()):
            return False
    return True


def _explained(line: str) -> bool:
    """A head line that another rule reads (exclusive, dateline, byline, copy claim) or a label
    of one or two words (a section, an author's name): not the headline, and not prose."""
    if len(line.split()) <= 2 or _EXCLUSIVE.fullmatch(line):
        return True
    if _short(line, DATELINE_WORDS) and find_dates(line):
        return True
    if not _short(line, CLAIM_WORDS):
        return False  # prose or a footer: a headline never follows it
    if _short(line) and any(p.fullmatch(line) for _, _, p in _BYLINE_RULES):
        return True
    return _copy_claim([line]) is not None


def _headline(lines: list[str]) -> str | None:
    """The first head line that no other rule explains, when it looks like a headline and the
    next line does not continue it (a hard-wrapped sentence goes on in lower case)."""
    for i, line in enumerate(lines):
        if _explained(line):
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if looks_like_headline(line) and following and not following[0].islower():
            return line
        return None
    return None


# -- the inference ------------------------------------------------------------------------------

def _edges(text: str) -> tuple[list[str], list[str]]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[:HEAD_LINES], lines[-TAIL_LINES:] if len(lines) > HEAD_LINES else []


def _short(line: str, words: int = 16) -> bool:
    return len(line.split(None, words)) <= words  # maxsplit: cheap on long lines


def infer_metadata(
    text: str, *, url: str | None = None, day_first: bool | None = None,
    today: dt.date | None = None,
) -> dict[str, tuple[object, str]]:
    """Metadata stated by ``text`` (a cleaned article), each as ``(value, "text:<rule>")``.

    Keys present only when found: ``date``, ``author`` (names joined with ``"; "``; when the
    text names only an editor, ``"Name (editor)"``), ``editor``, ``outlet``, ``title``,
    ``first_published_in``, ``date_ambiguous``. ``url`` (a record's url field) names the outlet
    when the text does not (origin ``field:url``).

    Rules, first match wins per key:

    - date: a head line of at most 10 words holding a date (``text:dateline``), else the first plausible
      date in the first 2,000 characters (``text:first_date``);
    - author: ``By A and B`` (``text:byline``), ``Author: A`` (``text:author_label``) in a
      short head or tail line; editor: ``Edited by: A`` (``text:edited_by``);
    - outlet: ``Exclusive to X`` (``text:exclusive_to``), the words before a head dateline
      (``text:dateline``), ``courtesy of URL/X`` (``text:courtesy_of``), ``first published in
      X`` (``text:first_published_in``), then the url field;
    - title: the first head line that no rule above reads, when it looks like a headline
      (:func:`looks_like_headline`; ``text:headline``);
    - first_published_in, the text's *copy claim*: ``{"phrase": kind, "outlet": name}`` from the
      first short sentence of a head or tail line opening with one of :data:`CLAIM_PHRASES`
      ("first published in",
      "originally appeared on", "courtesy of", "republished with permission of", "this article
      appeared in", "Source: <address>"); origin ``text:<kind>``. It is read before boilerplate
      is cut (the republication note is usually cut), and it is what decides which copy of a
      syndicated article is the original (:mod:`narrative.syndication`).
    """
    found: dict[str, tuple[object, str]] = {}
    head, tail = _edges(text)
    edges = head + tail
    dated, dateline_outlet = _date(head, text, day_first=day_first, today=today)
    found.update(dated)
    found.update(_people(edges))
    claim = _copy_claim(edges)
    if claim is not None:
        found["first_published_in"] = (claim, f"text:{claim['phrase']}")
    outlet = _outlet(head, edges, dateline_outlet, url)
    if outlet is not None:
        found["outlet"] = outlet
    title = _headline(head)
    if title is not None:
        found["title"] = (title, "text:headline")
    return found


def _date(
    head: list[str], text: str, *, day_first: bool | None, today: dt.date | None,
) -> tuple[dict[str, tuple[object, str]], str | None]:
    """The text's date (and ``date_ambiguous``) from the first short head line holding a
    plausible one, a dateline, else the first plausible date near the start; with the outlet
    a dateline names before its date, if any."""
    for line in head:
        if not _short(line, DATELINE_WORDS):
            continue
        hits = [h for h in find_dates(line, day_first=day_first)
                if date_flag(h.date, today=today) is None]
        if hits:
            return _date_entries(hits[0], "text:dateline"), _dateline_outlet(line)
    for hit in find_dates(text[:FIRST_DATE_CHARS], day_first=day_first):
        if date_flag(hit.date, today=today) is None:
            return _date_entries(hit, "text:first_date"), None
    return {}, None


def _date_entries(hit: DateHit, origin: str) -> dict[str, tuple[object, str]]:
    """The date of ``hit`` and, where its day and month could be swapped, ``date_ambiguous``."""
    found: dict[str, tuple[object, str]] = {"date": (hit.date, origin)}
    if hit.ambiguous:
        found["date_ambiguous"] = (True, origin)
    return found


def _dateline_outlet(line: str) -> str | None:
    """The outlet named before the date of a dateline (``Courier | 2 Sep 2025``), unless the
    words there are a byline's or a timestamp's ("By", "Updated", ...)."""
    match = _DATELINE.match(line)
    if match:
        name = outlet_from_name(match["name"])
        if name and squash(name) not in {"by", "updated", "published", "posted", "on"}:
            return name
    return None


def _people(edges: list[str]) -> dict[str, tuple[object, str]]:
    """``author`` and ``editor`` from the first short head or tail line each byline rule reads;
    a text naming only an editor gets them as its author, marked ``(editor)``."""
    found: dict[str, tuple[object, str]] = {}
    for rule, key, pattern in _BYLINE_RULES:
        if key in found:
            continue
        for line in edges:
            match = pattern.fullmatch(line) if _short(line) else None
            if match:
                found[key] = ("; ".join(split_names(match["names"])), f"text:{rule}")
                break
    if "author" not in found and "editor" in found:
        value, origin = found["editor"]
        found["author"] = ("; ".join(f"{n} (editor)" for n in str(value).split("; ")), origin)
    return found


def _outlet(
    head: list[str], edges: list[str], dateline_outlet: str | None, url: str | None,
) -> tuple[object, str] | None:
    """The outlet the text names, by the first rule that gives one: exclusive to, a dateline,
    courtesy of, first published in; else the url field's. An exclusive line decides even when
    its name is not an outlet's (then there is none)."""
    outlet: tuple[object, str] | None = None
    for line in head:
        match = _EXCLUSIVE.fullmatch(line) if _short(line) else None
        if match:
            outlet = (outlet_from_name(match["name"]), "text:exclusive_to")
            break
    if outlet is None and dateline_outlet is not None:
        outlet = (dateline_outlet, "text:dateline")
    for rule, pattern in (("courtesy_of", _COURTESY), ("first_published_in", _FIRST_PUBLISHED)):
        for line in edges:
            match = pattern.search(line)
            if match:
                name = _outlet_of(match)
                if name and outlet is None:
                    outlet = (name, f"text:{rule}")
                break
    if outlet is None and url:
        name = outlet_from_url(url)
        if name:
            outlet = (name, "field:url")
    return outlet if outlet is not None and outlet[0] else None

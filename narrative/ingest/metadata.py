"""Metadata read off an article's own text: dates, bylines, the outlet.

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
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "DATE_PATTERN", "DateHit", "HEAD_LINES", "KNOWN_OUTLETS", "TAIL_LINES", "date_flag",
    "find_dates", "infer_metadata", "outlet_from_name", "outlet_from_url", "split_names",
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

#: Outlet display names by squashed key (lower case, letters and digits only) of a domain's
#: main label or a written name. Unknown outlets keep the name as written (or the domain).
KNOWN_OUTLETS = {
    "abcnews": "ABC News", "aljazeera": "Al Jazeera", "apnews": "Associated Press",
    "bbc": "BBC News", "bbcnews": "BBC News", "bloomberg": "Bloomberg", "cbsnews": "CBS News",
    "cnn": "CNN", "dailymail": "Daily Mail", "express": "Daily Express", "foxnews": "Fox News",
    "ft": "Financial Times", "huffpost": "HuffPost", "huffingtonpost": "HuffPost",
    "internationalpolicydigest": "International Policy Digest", "intpolicydigest":
    "International Policy Digest", "mirror": "Daily Mirror", "nbcnews": "NBC News",
    "npr": "NPR", "nytimes": "The New York Times", "newyorktimes": "The New York Times",
    "opednews": "OpEdNews", "politico": "Politico", "reuters": "Reuters", "rt": "RT",
    "tass": "TASS", "theguardian": "The Guardian", "guardian": "The Guardian",
    "telegraph": "The Telegraph", "unherd": "UnHerd", "ussanews": "USSANews",
    "washingtonpost": "The Washington Post", "wsj": "The Wall Street Journal",
    "kyivindependent": "The Kyiv Independent", "kyivpost": "Kyiv Post", "euronews": "Euronews",
    "dw": "DW", "france24": "France 24", "sputniknews": "Sputnik", "globaltimes": "Global Times",
}
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "go", "news"}
_SECTION_WORDS = re.compile(
    r"(?:\s+(?:op\s*eds?|opinion|commentary|analysis|editorial|columns?|blogs?|world|politics|"
    r"business|news|home|features?))+$", re.IGNORECASE)


def _squash(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def outlet_from_name(name: str) -> str | None:
    """A written outlet name tidied and mapped through :data:`KNOWN_OUTLETS`."""
    name = " ".join(name.strip(" \t*_:;,.\"'“”").split())
    if not name:
        return None
    squashed = _squash(name)
    if squashed in KNOWN_OUTLETS:
        return KNOWN_OUTLETS[squashed]
    trimmed = _SECTION_WORDS.sub("", name)
    return KNOWN_OUTLETS.get(_squash(trimmed), trimmed or name)


def outlet_from_url(url: str) -> str | None:
    """The outlet named by a URL's host: ``https://www.unherd.com/x`` -> ``UnHerd``.

    The host's main label (``unherd`` of ``unherd.com``, ``dailymail`` of ``dailymail.co.uk``)
    is looked up in :data:`KNOWN_OUTLETS`; an unknown host gives the host itself.
    """
    text = url.strip()
    if "://" not in text:
        text = "http://" + text.lstrip("/.")
    try:
        host = (urlsplit(text).hostname or "").lower()
    except ValueError:
        return None
    host = host.removeprefix("www.")
    labels = [x for x in host.split(".") if x]
    if len(labels) < 2:
        return None
    main = labels[-2]
    if main in _SECOND_LEVEL and len(labels) >= 3:
        main = labels[-3]
    return KNOWN_OUTLETS.get(main, host)


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


def _outlet_of(match: re.Match[str]) -> str | None:
    url = match.groupdict().get("url")
    return outlet_from_url(url) if url else outlet_from_name(match["name"])


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
    text names only an editor, ``"Name (editor)"``), ``editor``, ``outlet``,
    ``first_published_in``, ``date_ambiguous``. ``url`` (a record's url field) names the outlet
    when the text does not (origin ``field:url``).

    Rules, first match wins per key:

    - date: a head line of at most 10 words holding a date (``text:dateline``), else the first plausible
      date in the first 2,000 characters (``text:first_date``);
    - author: ``By A and B`` (``text:byline``), ``Author: A`` (``text:author_label``) in a
      short head or tail line; editor: ``Edited by: A`` (``text:edited_by``);
    - outlet: ``Exclusive to X`` (``text:exclusive_to``), the words before a head dateline
      (``text:dateline``), ``courtesy of URL/X`` (``text:courtesy_of``), ``first published in
      X`` (``text:first_published_in``), then the url field.
    """
    found: dict[str, tuple[object, str]] = {}
    head, tail = _edges(text)
    edges = head + tail

    for line in head:
        if not _short(line, DATELINE_WORDS):
            continue
        hits = [h for h in find_dates(line, day_first=day_first)
                if date_flag(h.date, today=today) is None]
        if hits:
            found["date"] = (hits[0].date, "text:dateline")
            if hits[0].ambiguous:
                found["date_ambiguous"] = (True, "text:dateline")
            match = _DATELINE.match(line)
            if match and "outlet" not in found:
                name = outlet_from_name(match["name"])
                if name and _squash(name) not in {"by", "updated", "published", "posted", "on"}:
                    found["outlet_dateline"] = (name, "text:dateline")
            break
    if "date" not in found:
        for hit in find_dates(text[:FIRST_DATE_CHARS], day_first=day_first):
            if date_flag(hit.date, today=today) is None:
                found["date"] = (hit.date, "text:first_date")
                if hit.ambiguous:
                    found["date_ambiguous"] = (True, "text:first_date")
                break

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

    outlet: tuple[object, str] | None = None
    for line in head:
        match = _EXCLUSIVE.fullmatch(line) if _short(line) else None
        if match:
            outlet = (outlet_from_name(match["name"]), "text:exclusive_to")
            break
    if outlet is None and "outlet_dateline" in found:
        outlet = found["outlet_dateline"]
    found.pop("outlet_dateline", None)
    for rule, pattern in (("courtesy_of", _COURTESY), ("first_published_in", _FIRST_PUBLISHED)):
        for line in edges:
            match = pattern.search(line)
            if match:
                name = _outlet_of(match)
                if name and rule == "first_published_in":
                    found["first_published_in"] = (name, f"text:{rule}")
                if name and outlet is None:
                    outlet = (name, f"text:{rule}")
                break
    if outlet is None and url:
        name = outlet_from_url(url)
        if name:
            outlet = (name, "field:url")
    if outlet is not None and outlet[0]:
        found["outlet"] = outlet
    return found

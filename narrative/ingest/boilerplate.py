"""Boilerplate removal driven by a rules file (``narrative/data/boilerplate.yaml``).

Rules are data: each names a regex, how it matches (whole ``line``, ``inline`` span, ``to_end`` of
the text from a whole line, or ``inline_to_end`` from a span inside a line) and where
(``any``/``head``/``tail``/``edges``); see the YAML file's header for the format and the
user-override semantics. Scraped text often has no line breaks at all (a whole article is one
line), so the rules for promotions, captions and forms inside paragraphs are ``inline`` spans that
start a sentence (``{start}``), end where the span itself says, and run only around their
``trigger`` words. :func:`remove_boilerplate` cuts what the rules match from a *cleaned* text and
returns every cut as ``(start, end, text, rule)`` with offsets into the text it was given, so
``given[start:end] == cut_text``: the cut is auditable and reversible.

Removal repeats until no rule matches (a footer line can become the last line only after the
line below it went), which makes it idempotent; cuts made in later passes are mapped back to the
offsets of the given text. Whole lines go with their line break, so the result stays clean
(no blank-line runs, no edge whitespace) and :func:`narrative.ingest.clean.clean_text` leaves
it unchanged.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from narrative.ingest.metadata import DATE_PATTERN
from narrative.segment import ABBREVIATIONS
from narrative.errors import BoilerplateError  # noqa: F401 (defined in errors, raised here)

__all__ = ["BoilerplateError", "Cut", "Rule", "load_rules", "remove_boilerplate"]

_MATCH_KINDS = ("line", "inline", "to_end", "inline_to_end")
_WHERE = ("any", "head", "tail", "edges")
_WORD = re.compile(r"\S+")
_NAME = r"[A-Z][\w'’-]*\.?(?:\s+(?:[A-Z][\w'’-]*\.?|(?:van|von|de|der|da|di|al|bin|el|la|le)(?=\s+[A-Z]))){1,3}"


def _after(words: frozenset[str], *, negative: bool, tail: str = "") -> list[str]:
    """Lookbehinds for "right after one of ``words`` (+ ``tail``)", one per word length (a
    lookbehind needs a fixed width), case-insensitive, the initial word boundary included."""
    by_width: dict[int, list[str]] = {}
    for word in sorted(words):
        by_width.setdefault(len(word), []).append(re.escape(word))
    sign = "!" if negative else "="
    return [f"(?<{sign}\\b(?i:{'|'.join(alts)}){tail})" for _, alts in sorted(by_width.items())]


# Full stops that end no sentence: after a known abbreviation ("Gov.", "U.S.", "Aug.") or a
# single capital (an initial).
_STEMS = frozenset(word[:-1] for word in ABBREVIATIONS)
_ABBREVIATION_DOT = "(?:" + "|".join([r"(?<=\b[A-Z])", *_after(_STEMS, negative=False)]) + r")\."
# A sentence starts at the start of the text or of a line, or after a sentence end (., !, ?, …,
# maybe closed by a quote or bracket) and one whitespace (clean text has single spaces), but not
# after an abbreviation's or an initial's full stop.
_START = (r"(?:(?<![^\n])|(?:(?<=[.!?\u2026]\s)|(?<=[.!?\u2026][\"'\u201d\u2019)\]]\s))"
          + "".join(_after(_STEMS, negative=True, tail=r"\.\s")) + r"(?<!\b[A-Z]\.\s))")
_MACROS = {"{name}": _NAME, "{names}": rf"{_NAME}(?:\s*(?:,|;|&|\band\b)\s*{_NAME})*",
           "{date}": DATE_PATTERN, "{start}": _START, "{abbreviation_dot}": _ABBREVIATION_DOT}


@dataclass(frozen=True)
class Rule:
    """One boilerplate rule (see the YAML header for the meaning of each field)."""

    name: str
    pattern: str
    match: str = "line"
    where: str = "any"
    lines: int = 12
    max_words: int = 40
    case_sensitive: bool = False
    trigger: tuple[str, ...] = ()

    def compiled(self, authors: Sequence[str] = ()) -> re.Pattern[str] | None:
        """The regex with macros expanded; None when it needs ``{author}`` and none is known."""
        source = self.pattern
        if "{author}" in source:
            if not authors:
                return None
            names = sorted({a for a in authors if a}, key=len, reverse=True)
            source = source.replace("{author}", "|".join(re.escape(a) for a in names))
        for macro, value in _MACROS.items():
            source = source.replace(macro, value)
        return re.compile(source, 0 if self.case_sensitive else re.IGNORECASE)


Cut = tuple[int, int, str, str]  # start, end, removed text, rule name


def _trigger_words(value: Any, name: str, where: str) -> tuple[str, ...]:
    """A rule's ``trigger``: one string or a list of them, none empty."""
    words = [] if value is None else [value] if isinstance(value, str) else value
    if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
        raise BoilerplateError(f"{where}: rule {name!r}: trigger must be a string or a list of "
                               f"strings (got {value!r})")
    return tuple(words)


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict) or not raw.get("name") or not raw.get("pattern"):
        raise BoilerplateError(f"{where}: each rule needs 'name' and 'pattern' (got {raw!r})")
    name = str(raw["name"])
    unknown = set(raw) - {"name", "pattern", "match", "where", "lines", "max_words", "case",
                          "trigger"}
    if unknown:
        raise BoilerplateError(f"{where}: rule {name!r}: unknown key(s) {sorted(unknown)}")
    rule = Rule(name=name, pattern=str(raw["pattern"]), match=str(raw.get("match", "line")),
                where=str(raw.get("where", "any")), lines=int(raw.get("lines", 12)),
                max_words=int(raw.get("max_words", 40)),
                case_sensitive=str(raw.get("case", "insensitive")) == "sensitive",
                trigger=_trigger_words(raw.get("trigger"), name, where))
    if rule.match not in _MATCH_KINDS:
        raise BoilerplateError(f"{where}: rule {name!r}: match must be one of {_MATCH_KINDS}")
    if rule.where not in _WHERE:
        raise BoilerplateError(f"{where}: rule {name!r}: where must be one of {_WHERE}")
    if rule.trigger and rule.match not in ("inline", "inline_to_end"):
        raise BoilerplateError(f"{where}: rule {name!r}: a trigger is for inline rules only")
    try:
        rule.compiled(["A B"])
    except re.error as err:
        raise BoilerplateError(f"{where}: rule {name!r}: bad pattern: {err}") from err
    return rule


def _read_yaml(text: str, where: str) -> dict:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise BoilerplateError(f"{where}: not valid YAML: {err}") from err
    if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
        raise BoilerplateError(f"{where}: expected a mapping with a 'rules' list")
    return data


def load_rules(path: str | Path | None = None) -> list[Rule]:
    """The shipped rules, merged with a user file when given.

    The user file's rules replace shipped rules of the same name (in place) and are otherwise
    appended; ``disable: [names]`` drops shipped rules; ``replace_defaults: true`` drops them all.
    """
    shipped = resources.files("narrative.data").joinpath("boilerplate.yaml").read_text("utf-8")
    rules = [_rule(r, "boilerplate.yaml") for r in _read_yaml(shipped, "boilerplate.yaml")["rules"]]
    if path is None:
        return rules
    path = Path(path)
    try:
        user = _read_yaml(path.read_text(encoding="utf-8"), str(path))
    except OSError as err:
        raise BoilerplateError(f"{path}: cannot read: {err.strerror or err}") from err
    if user.get("replace_defaults"):
        rules = []
    disabled = {str(n) for n in user.get("disable", []) or []}
    rules = [r for r in rules if r.name not in disabled]
    by_name = {r.name: i for i, r in enumerate(rules)}
    for raw in user.get("rules", []) or []:
        rule = _rule(raw, str(path))
        if rule.name in by_name:
            rules[by_name[rule.name]] = rule
        else:
            by_name[rule.name] = len(rules)
            rules.append(rule)
    return rules


# -- finding ------------------------------------------------------------------------------------

def _lines(text: str) -> list[tuple[int, int]]:
    """Spans of the non-blank lines of ``text`` (stripped)."""
    spans = []
    for m in re.finditer(r"[^\n]+", text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def _in_window(rule: Rule, index: int, n_lines: int) -> bool:
    head = index < rule.lines
    tail = index >= n_lines - rule.lines
    return {"any": True, "head": head, "tail": tail, "edges": head or tail}[rule.where]


#: How far a match of a rule with a trigger may reach before or after the trigger.
TRIGGER_REACH = 1000


def _trigger_hits(text: str, start: int, end: int, words: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of ``text[start:end]`` where one of ``words`` occurs, in order."""
    hits = []
    for word in words:
        at = text.find(word, start, end)
        while at >= 0:
            hits.append((at, at + len(word)))
            at = text.find(word, at + 1, end)
    return sorted(hits)


def _inline_matches(text: str, start: int, end: int, pattern: re.Pattern[str],
                    trigger: Sequence[str]) -> list[re.Match[str]]:
    """The matches of ``pattern`` in ``text[start:end]``, in order. With a trigger, the pattern
    runs only around the trigger words (windows of :data:`TRIGGER_REACH` characters on either
    side, merged) and keeps the matches that contain one: scanning every position of a long
    unbroken text with a pattern that looks behind is what costs."""
    if not trigger:
        return [m for m in pattern.finditer(text, start, end) if m.end() > m.start()]
    hits = _trigger_hits(text, start, end, trigger)
    windows: list[list[int]] = []
    for hit_start, hit_end in hits:
        lo, hi = max(start, hit_start - TRIGGER_REACH), min(end, hit_end + TRIGGER_REACH)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
        else:
            windows.append([lo, hi])
    found = []
    for lo, hi in windows:
        for m in pattern.finditer(text, lo, hi):
            first = bisect.bisect_left(hits, (m.start(), -1))
            if m.end() > m.start() and first < len(hits) and hits[first][1] <= m.end():
                found.append(m)
    return found


def _tail_start(text: str, lines: list[tuple[int, int]],
                compiled: list[tuple[Rule, re.Pattern[str]]]) -> tuple[int, str] | None:
    """Where the earliest ``inline_to_end`` match starts, and its rule: the text from there on
    goes, when it is at most the rule's ``max_words`` words (a trigger early in a long text is
    prose that mentions it, not a form at the end)."""
    best: tuple[int, str] | None = None
    for rule, pattern in compiled:
        if rule.match != "inline_to_end":
            continue
        for i, (start, end) in enumerate(lines):
            if not _in_window(rule, i, len(lines)) or (best and start >= best[0]):
                continue
            for m in _inline_matches(text, start, end, pattern, rule.trigger):
                words = itertools.islice(_WORD.finditer(text, m.start()), rule.max_words + 1)
                if sum(1 for _ in words) <= rule.max_words:
                    if best is None or m.start() < best[0]:
                        best = (m.start(), rule.name)
                    break
    return best


def _find(text: str, compiled: list[tuple[Rule, re.Pattern[str]]]) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, rule)`` spans of ``text`` to cut, in order."""
    lines = _lines(text)
    owner: dict[int, str] = {}  # line index -> rule
    for rule, pattern in compiled:
        if rule.match not in ("line", "to_end"):
            continue
        for i, (start, end) in enumerate(lines):
            if i in owner or not _in_window(rule, i, len(lines)):
                continue
            line = text[start:end]
            # maxsplit bounds the work on long lines (unbroken scraped text is one line)
            if rule.match == "line" and len(line.split(None, rule.max_words)) > rule.max_words:
                continue
            if pattern.fullmatch(line):
                if rule.match == "line":
                    owner[i] = rule.name
                else:
                    for j in range(i, len(lines)):
                        owner.setdefault(j, rule.name)
                    break
    spans: list[tuple[int, int, str]] = []
    for i, (start, end) in enumerate(lines):
        if i in owner:
            if spans and spans[-1][2] == owner[i] and owner.get(i - 1) == owner[i]:
                spans[-1] = (spans[-1][0], end, owner[i])
            else:
                spans.append((start, end, owner[i]))
            continue
        for rule, pattern in compiled:
            if rule.match != "inline":
                continue
            for m in _inline_matches(text, start, end, pattern, rule.trigger):
                spans.append((m.start(), m.end(), rule.name))
    tail = _tail_start(text, lines, compiled)
    if tail is not None:
        cut_from, rule_name = tail
        spans = [span for span in spans if span[0] < cut_from]
        cut_from = max([cut_from, *(end for _, end, _ in spans)])  # a span across it stays
        if cut_from < lines[-1][1]:
            spans.append((cut_from, lines[-1][1], rule_name))
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            continue  # overlapping inline matches: keep the first
        merged.append(span)
    return merged


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a cut over the whitespace it leaves behind, so the rest stays clean text."""
    at_line_start = start == 0 or text[start - 1] == "\n"
    at_line_end = end == len(text) or text[end] == "\n"
    if at_line_start and at_line_end:  # whole line(s): take the following breaks, or the
        if end < len(text):              # preceding ones at the end of the text
            while end < len(text) and text[end] == "\n":
                end += 1
        else:
            while start > 0 and text[start - 1] == "\n":
                start -= 1
        return start, end
    if end < len(text) and text[end] == " " and (at_line_start or text[start - 1] == " "):
        return start, end + 1
    if start > 0 and text[start - 1] == " " and (at_line_end or text[end] == " "):
        return start - 1, end
    return start, end


def _to_original(start: int, end: int, segments: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Map ``[start, end)`` of the current text to pieces of the original (kept segments)."""
    pieces = []
    for new, orig, length in segments:
        lo, hi = max(start, new), min(end, new + length)
        if lo < hi:
            piece = (orig + lo - new, orig + hi - new)
            if pieces and pieces[-1][1] == piece[0]:
                pieces[-1] = (pieces[-1][0], piece[1])
            else:
                pieces.append(piece)
    return pieces


@functools.lru_cache(maxsize=4096)
def _compiled(rule: Rule, authors: tuple[str, ...]) -> re.Pattern[str] | None:
    """:meth:`Rule.compiled`, cached: expanding the macros costs more than the matching."""
    return rule.compiled(authors if "{author}" in rule.pattern else ())


def remove_boilerplate(
    text: str, rules: Sequence[Rule], *, authors: Sequence[str] = ()
) -> tuple[str, list[Cut]]:
    """Cut what ``rules`` match from the cleaned ``text``.

    Parameters
    ----------
    text : str
        Cleaned text (output of :func:`~narrative.ingest.clean.clean_text`).
    rules : sequence of Rule
        From :func:`load_rules`; earlier rules win a line both match.
    authors : sequence of str
        The article's author names, for rules using ``{author}``.

    Returns
    -------
    (str, list of Cut)
        The text without boilerplate, and the cuts ``(start, end, text, rule)`` in order, with
        offsets into the given ``text`` (the whitespace a cut took along is included).
    """
    names = tuple(authors)
    compiled = [(r, p) for r in rules if (p := _compiled(r, names)) is not None]
    segments = [(0, 0, len(text))]  # kept (current offset, original offset, length)
    current = text
    cuts: list[Cut] = []
    while True:
        spans = _find(current, compiled)
        if not spans:
            break
        widened: list[tuple[int, int, str]] = []
        for start, end, rule in spans:
            start, end = _widen(current, start, end)
            if widened and start < widened[-1][1]:
                start = widened[-1][1]
            if start < end:
                widened.append((start, end, rule))
        for start, end, rule in widened:
            for o_start, o_end in _to_original(start, end, segments):
                cuts.append((o_start, o_end, text[o_start:o_end], rule))
        kept: list[tuple[int, int]] = []
        position = 0
        for start, end, _ in widened:
            if position < start:
                kept.append((position, start))
            position = end
        if position < len(current):
            kept.append((position, len(current)))
        new_segments = []
        new_pos = 0
        parts = []
        for start, end in kept:
            for o_start, o_end in _to_original(start, end, segments):
                new_segments.append((new_pos, o_start, o_end - o_start))
                new_pos += o_end - o_start
            parts.append(current[start:end])
        current, segments = "".join(parts), new_segments
    cuts.sort()
    return current.strip(), cuts

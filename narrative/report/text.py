"""The words of the report: counts with the right plural, shares with their intervals.

Sentences are built in :mod:`.assemble` and :mod:`.sections`; every count and share they hold is
formatted here, so "1 article" and "12% (95% interval 8–16%)" read the same everywhere.
"""

from __future__ import annotations

import math

__all__ = ["count", "interval", "join_words", "pct", "pct_interval", "plural", "shown_name"]

#: Plurals that do not just add an "s".
_IRREGULAR = {"copy": "copies", "analysis": "analyses", "is": "are", "has": "have", "was": "were"}


def plural(n: int, word: str) -> str:
    """``word`` for one, its plural otherwise ("article" -> "articles", "copy" -> "copies")."""
    if n == 1:
        return word
    head, _, last = word.rpartition(" ")
    many = _IRREGULAR.get(last, last + "s")
    return f"{head} {many}" if head else many


def count(n: int, word: str) -> str:
    """``n`` with thousands separators and ``word`` agreeing with it: "1 article", "1,272 articles"."""
    return f"{int(n):,} {plural(int(n), word)}"


def pct(x: float) -> str:
    """A 0–1 share as a whole percentage, one decimal below 9.5% ("12%", "2.5%", "0%")."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{100 * x:.0f}%" if abs(x) >= 0.095 or x == 0 else f"{100 * x:.1f}%"


def interval(low: float | None, high: float | None) -> str | None:
    """"18–34%" (ends rounded as :func:`pct` rounds), or None when either end is missing."""
    if low is None or high is None or any(math.isnan(float(v)) for v in (low, high)):
        return None
    return f"{pct(low).rstrip('%')}\u2013{pct(high)}"


def pct_interval(share: float, low: float | None, high: float | None) -> str:
    """"26%, 95% interval 18–34%" (to sit inside parentheses), or just "26%" without one."""
    span = interval(low, high)
    return pct(share) if span is None else f"{pct(share)}, 95% interval {span}"


def join_words(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    items = [str(i) for i in items]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def shown_name(name: str) -> str:
    """A narrative's name as a sentence shows it: in quotes when it holds a comma (a discovered
    label lists its terms), so that a list of narratives still reads as one."""
    return f"\u201c{name}\u201d" if "," in name else name

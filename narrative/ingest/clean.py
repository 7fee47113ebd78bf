"""Text cleaning: strip Markdown markup and tidy whitespace, keeping every original character else.

Cleaning is deliberately light. It removes what is markup rather than prose (link and image syntax,
emphasis markers, heading hashes) and normalises whitespace so paragraph splitting and hashing see
one shape. Unicode punctuation (curly quotes, dashes) is *not* folded here: stored text keeps the
original characters and :func:`narrative.schema.normalize_for_matching` folds them for comparison.
"""

from __future__ import annotations

import re

__all__ = ["clean_text", "excerpt"]

# Line separators other than LF that Python's str.splitlines honours; all become LF.
_LINE_BREAKS = re.compile(r"\r\n|[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# C0 control characters other than tab and LF, and DEL: never prose, often extraction debris.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")

# ![alt](url) -> removed; [text](url) -> text. The url part allows one level of parentheses
# (Wikipedia-style links) and no line breaks; the link text may not contain brackets.
_URL = r"\((?:[^()\n]|\([^()\n]*\))*\)"
_IMAGE = re.compile(r"!\[[^\[\]\n]*\]" + _URL)
_LINK = re.compile(r"\[([^\[\]\n]*)\]" + _URL)

# Emphasis: the marker must hug non-space text and not sit inside a word (snake_case, 2*3*4).
# The span is bounded (500 chars) so a line full of stray markers cannot make matching quadratic.
_BOLD = re.compile(r"(?<![\w*])\*\*(?=[^\s*])([^\n]{0,500}?[^\s*])\*\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])([^\n]{0,500}?[^\s*])\*(?![\w*])")
_BOLD_U = re.compile(r"(?<![\w_])__(?=[^\s_])([^\n]{0,500}?[^\s_])__(?![\w_])")
_ITALIC_U = re.compile(r"(?<![\w_])_(?=[^\s_])([^\n]{0,500}?[^\s_])_(?![\w_])")

_HEADING = re.compile(r"^[ \t]*#{1,6}(?:[ \t]+|$)", re.MULTILINE)
_SPACES = re.compile(r"[ \t]{2,}|\t")  # single spaces are left alone (fast path)
_EDGE_SPACES = re.compile(r"^ | $", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")


def _unwrap(match: re.Match[str]) -> str:
    return match.group(1)


def _clean_once(text: str) -> str:
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROL.sub("", text)
    # Each markup pattern runs only when its marker character occurs (most news text has none).
    if "](" in text:
        text = _IMAGE.sub("", text)
        text = _LINK.sub(_unwrap, text)
    if "*" in text:
        text = _BOLD.sub(_unwrap, text)
        text = _ITALIC.sub(_unwrap, text)
    if "_" in text:
        text = _BOLD_U.sub(_unwrap, text)
        text = _ITALIC_U.sub(_unwrap, text)
    if "#" in text:
        text = _HEADING.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _EDGE_SPACES.sub("", text)
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


def clean_text(raw: str) -> str:
    """Clean one article's raw text.

    - line breaks: CRLF, CR and other Unicode line separators become LF;
    - control characters other than tab and LF are dropped;
    - Markdown: ``![alt](url)`` images are removed, ``[text](url)`` links become ``text``,
      ``**bold**``, ``*em*``, ``__bold__``, ``_em_`` lose their markers, leading ``#`` of
      headings go;
    - whitespace: runs of spaces and tabs become one space, lines lose leading and trailing
      spaces, three or more line breaks become two (one blank line), the ends are stripped.

    Removing markup can expose new markup (``[[a](b)](c)``), so the steps repeat until nothing
    changes; that makes the function idempotent: ``clean_text(clean_text(x)) == clean_text(x)``.
    Every step only shortens the text or turns a tab into a space, so the loop ends.
    """
    text = raw
    while True:
        cleaned = _clean_once(text)
        if cleaned == text:
            return cleaned
        text = cleaned


def excerpt(text: str, limit: int = 200) -> str:
    """A short, printable excerpt of raw input for a reject record (controls escaped)."""
    short = text[:limit]
    short = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", short)
    return short + ("…" if len(text) > limit else "")

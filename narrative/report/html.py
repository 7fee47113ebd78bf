"""Render a :class:`~narrative.report.model.ReportModel` as one self-contained HTML file.

Security stance: every string in the model may come from article text, so the Jinja2 environment
autoescapes everything, the page carries a Content-Security-Policy that forbids scripts and every
external request, links are emitted only for http(s) URLs, and element ids come from
:func:`narrative.io.safe_filename`, never from raw text. Formatting lives in the Python filters below
(``pct``, ``num``...), so the template holds layout only.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import math
import numbers
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from narrative.io import atomic_write_text, safe_filename
from narrative.report.model import (
    KINDS,
    FigureRef,
    NarrativeSection,
    ReportModel,
    Section,
    Table,
)
from narrative.report.text import count, interval
from narrative.urls import safe_url  # noqa: F401 (the report's links; tests import it here)

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "num",
    "pct",
    "render_html",
    "safe_relative_href",
    "safe_url",
    "write_html",
]

#: No scripts, no fetches: images only from inline data URIs, styles only inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)
_MAX_DEPTH = 6  # nesting shown in methods/corpus before falling back to text
_DASH = "\u2013"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# C0/C1 controls (tab, newline and carriage return kept), DEL, and lone surrogates: never useful in a
# page, and a lone surrogate would make the UTF-8 encoding of the file fail.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|[\ud800-\udfff]")


# -- filters ----------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value: object, digits: int = 1) -> str:
    """A 0–1 share as a percentage (``0.1234`` -> ``"12.3%"``); missing values become a dash."""
    if _is_missing(value) or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return _DASH if _is_missing(value) else str(value)
    return f"{float(value) * 100:.{digits}f}%"


def num(value: object) -> str:
    """Any scalar as text: thousands separators for ints, 3 significant decimals for small floats,
    ISO for dates, yes/no for booleans, a dash for None/NaN, ``str`` for the rest."""
    if _is_missing(value):
        return _DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isinf(x):
            return "\u221e" if x > 0 else "\u2212\u221e"
        if x.is_integer() and abs(x) < 1e15:
            return f"{int(x):,}"
        if abs(x) >= 100:
            return f"{x:,.1f}"
        if abs(x) >= 1:
            return f"{x:.2f}"
        return f"{x:.3g}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value):,} bytes>"
    return str(value)


def safe_relative_href(path: object) -> str | None:
    """A percent-encoded relative link for a file written next to the report, or None.

    Only relative paths without a scheme, drive, leading slash or ``..`` segment are linked.
    """
    if not isinstance(path, str) or not path or len(path) > 1024:
        return None
    parts = path.replace("\\", "/").split("/")
    if (
        path.startswith(("/", "\\"))
        or ":" in path
        or any(p in ("", ".", "..") for p in parts)
        or _UNPRINTABLE.search(path)
        or any(ch.isspace() and ch != " " for ch in path)
    ):
        return None
    return "/".join(quote(p, safe="") for p in parts)


def value_kind(value: object) -> str:
    """``"mapping"``, ``"sequence"`` or ``"scalar"``: how the template lays a value out."""
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "sequence"
    return "scalar"


def as_list(values: object) -> list[Any]:
    """A sequence as a list; sets are sorted (by text) so the page is the same on every run."""
    if isinstance(values, (set, frozenset)):
        return sorted(values, key=str)
    return list(values)  # type: ignore[call-overload]


def all_scalars(values: object) -> bool:
    """Whether a sequence holds only scalars (shown inline, comma-separated)."""
    return all(value_kind(v) == "scalar" for v in values)  # type: ignore[union-attr]


def humanize(key: object) -> str:
    """A setting-like key as a label (``"n_articles"`` -> ``"Number of articles"``); other keys as is."""
    text = str(key)
    if not (text.isascii() and text.isidentifier()):
        return text  # a name from the data (an outlet, a narrative): show it as it is
    if text.startswith("n_") and len(text) > 2:
        return "Number of " + text[2:].replace("_", " ")
    text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


def kind_class(kind: object) -> str:
    """A CSS class suffix for a narrative kind, from a fixed list (never the raw value)."""
    k = str(kind).strip().lower()
    return k if k in KINDS else "other"


def confidence_class(word: object) -> str:
    """A CSS class suffix for an assignment's confidence, from a fixed list (never the raw value)."""
    w = str(word).strip().lower()
    return w if w in ("high", "medium", "low") else "other"


def cell_class(value: object) -> str:
    """``"num"`` for numeric table cells (right-aligned), ``"short"`` for one-word text such as a
    date or a percentage (kept on one line), else ``"text"``."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return "num"
    if isinstance(value, str) and len(value) <= 16 and not any(ch.isspace() for ch in value):
        return "short"
    return "text"


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for an inline image (base64 needs no HTML escaping)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _clean(value: Any) -> Any:
    """Jinja ``finalize``: drop unprintable characters from every output, keeping Markup safe."""
    if isinstance(value, Markup):
        return Markup(_UNPRINTABLE.sub(_replacement, str(value)))
    if isinstance(value, str):
        return _UNPRINTABLE.sub(_replacement, value)
    return value


def _replacement(match: re.Match[str]) -> str:
    ch = match.group()
    return "\ufffd" if "\ud800" <= ch <= "\udfff" else ""


# -- view -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FigureView:
    ref: FigureRef
    anchor: str
    src: str | None  # data URI, None when the bytes are not a PNG
    svg_href: str | None
    width: int | None  # CSS pixels: 100 per inch of the figure, so small figures stay small


def _png_width(png: bytes) -> int | None:
    """Display width of a figure PNG saved at 200 dpi: half its pixel width (from the header)."""
    if len(png) < 24 or not png.startswith(_PNG_MAGIC) or png[12:16] != b"IHDR":
        return None
    pixels = int.from_bytes(png[16:20], "big")
    return max(1, pixels // 2) if pixels else None


@dataclass(frozen=True)
class _NarrativeView:
    section: NarrativeSection
    anchor: str
    figure: _FigureView | None
    missing_figure: str | None  # the key when it names no figure


@dataclass(frozen=True)
class _TableView:
    table: Table
    anchor: str


@dataclass(frozen=True)
class _SectionView:
    section: Section
    anchor: str
    figures: list[_FigureView]
    tables: list[_TableView]
    missing: list[str]  # figure or table keys the section names that the model lacks
    files: list[tuple[str, str]]  # (label, checked relative link) of the data files it names


class _Anchors:
    """Unique element ids made by safe_filename, with a fixed prefix per kind of section."""

    def __init__(self, reserved: list[str]) -> None:
        self._used = set(reserved)

    def make(self, prefix: str, text: str) -> str:
        base = f"{prefix}-{safe_filename(text, max_len=60)}"
        anchor, i = base, 2
        while anchor in self._used:
            anchor, i = f"{base}-{i}", i + 1
        self._used.add(anchor)
        return anchor


_SECTIONS = ["summary", "findings", "corpus", "figures", "narratives", "tables", "methods",
             "warnings", "top"]


def _view(model: ReportModel) -> dict[str, Any]:
    """Arrange the model for the template: anchors, data URIs, which figure goes where."""
    anchors = _Anchors(_SECTIONS)
    figures: dict[str, _FigureView] = {}
    for ref in model.figures:
        png = bytes(ref.png) if ref.png is not None else b""
        figures.setdefault(
            ref.key,
            _FigureView(
                ref=ref,
                anchor=anchors.make("figure", str(ref.key)),
                src=png_data_uri(png) if png.startswith(_PNG_MAGIC) else None,
                svg_href=safe_relative_href(ref.svg_path),
                width=_png_width(png),
            ),
        )
    table_views = [_TableView(table=t, anchor=anchors.make("table", str(t.key))) for t in model.tables]
    tables_by_key: dict[str, _TableView] = {}
    for view in table_views:
        tables_by_key.setdefault(str(view.table.key), view)

    def section_view(section: Section, prefix: str) -> _SectionView:
        return _SectionView(
            section=section,
            anchor=anchors.make(prefix, str(section.key)),
            figures=[figures[k] for k in section.figures if k in figures],
            tables=[tables_by_key[k] for k in section.tables if k in tables_by_key],
            missing=[k for k in [*section.figures, *section.tables]
                     if k not in figures and k not in tables_by_key],
            files=[(str(label), href) for label, path in section.files
                   if (href := safe_relative_href(path)) is not None],
        )

    sections = [section_view(s, "section") for s in model.sections]
    appendix = [section_view(s, "appendix") for s in model.appendix]
    claimed = {n.figure for n in model.narratives if n.figure in figures}
    if model.headline in figures:
        claimed.add(model.headline)
    claimed_tables: set[str] = set()
    for s in [*model.sections, *model.appendix]:
        claimed.update(k for k in s.figures if k in figures)
        claimed_tables.update(k for k in s.tables if k in tables_by_key)
    narratives = [
        _NarrativeView(
            section=n,
            anchor=anchors.make("narrative", f"{n.narrative_id}-{n.label}"),
            figure=figures.get(n.figure) if n.figure is not None else None,
            missing_figure=n.figure if n.figure is not None and n.figure not in figures else None,
        )
        for n in model.narratives
    ]
    tables = [t for t in table_views if str(t.table.key) not in claimed_tables]
    return {
        "model": model,
        "csp": CONTENT_SECURITY_POLICY,
        "figures": [f for f in figures.values() if f.ref.key not in claimed],
        "headline": figures.get(model.headline) if model.headline is not None else None,
        "narratives": narratives,
        "tables": tables,
        "sections": sections,
        "appendix": appendix,
        "max_depth": _MAX_DEPTH,
    }


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("narrative", "report/templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "j2"), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        finalize=_clean,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        pct=pct,
        num=num,
        safe_url=safe_url,
        value_kind=value_kind,
        all_scalars=all_scalars,
        as_list=as_list,
        humanize=humanize,
        kind_class=kind_class,
        cell_class=cell_class,
        confidence_class=confidence_class,
        paragraphs=lambda n: count(int(n), "paragraph"),
        interval=interval,
    )
    return env


def render_html(model: ReportModel) -> str:
    """The report as one HTML document (figures inline, no scripts, no external requests)."""
    if not isinstance(model, ReportModel):
        raise TypeError(f"model must be a ReportModel; got {type(model).__name__}")
    return _environment().get_template("report.html.j2").render(**_view(model))


def write_html(model: ReportModel, path: str | os.PathLike[str]) -> Path:
    """Render ``model`` and write it to ``path`` atomically (UTF-8); returns the path."""
    return atomic_write_text(path, render_html(model))

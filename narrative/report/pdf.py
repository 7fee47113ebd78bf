"""Render a :class:`~narrative.report.model.ReportModel` as a PDF with ReportLab (platypus).

Same content as the HTML report, from the same model. ReportLab's ``Paragraph`` parses a small XML
markup, so every string from the model goes through :func:`_esc` (``xml.sax.saxutils.escape``)
before it becomes part of a paragraph. Matplotlib's bundled DejaVu Sans is embedded so accented,
Greek and Cyrillic names render; the document is built in memory with ``invariant=1`` (fixed date
and id: the same model gives the same bytes) and written atomically.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
from pathlib import Path
from typing import Any, Iterator
from xml.sax.saxutils import escape, quoteattr

from narrative.figures.style import PRINT_HEIGHT_IN
from narrative.io import atomic_write_bytes
from narrative.report.html import (
    as_list,
    humanize,
    num,
    pct,
    safe_url,
    value_kind,
)
from narrative.report.model import FigureRef, NarrativeSection, ReportModel, Section, Table
from narrative.report.text import count, interval

__all__ = ["render_pdf", "write_pdf"]

_FONT = "NarrativeSans"
_FONT_BOLD = "NarrativeSans-Bold"
_FONT_FILES = {
    _FONT: "DejaVuSans.ttf",
    _FONT_BOLD: "DejaVuSans-Bold.ttf",
    f"{_FONT}-Oblique": "DejaVuSans-Oblique.ttf",
    f"{_FONT}-BoldOblique": "DejaVuSans-BoldOblique.ttf",
}
_MAX_DEPTH = 6
_MAX_CELL_CHARS = 400  # a table row taller than a page cannot be laid out; long cells are cut
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_KIND_COLORS = {"named": "#0072B2", "discovered": "#8A5A00", "unassigned": "#6E7781"}


# -- text ---------------------------------------------------------------------------------------


def _plain(text: object) -> str:
    """Text without control characters or lone surrogates (safe for PDF metadata and outlines)."""
    s = _UNPRINTABLE.sub("", str(text))
    return _SURROGATE.sub("\ufffd", s)


def _one_line(text: object) -> str:
    """:func:`_plain` with every run of whitespace (newlines, U+2028...) folded to one space."""
    return " ".join(_plain(text).split())


def _esc(text: object, limit: int | None = None) -> str:
    """Untrusted text as ReportLab paragraph markup: escaped, line breaks kept as ``<br/>``."""
    s = _plain(text)
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "\u2026"
    s = escape(s).replace("\r\n", "\n")
    return s.replace("\u2029", "<br/><br/>").replace("\u2028", "<br/>").replace("\n", "<br/>")


def _link(url: str, label: str) -> str:
    """Markup for a link to an http(s) URL already checked by :func:`safe_url`."""
    return f"<a href={quoteattr(url)} color=\"#0B5CAD\">{_esc(label)}</a>"


# -- resources ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _fonts() -> tuple[str, str]:
    """Register DejaVu Sans from matplotlib's data folder once; Helvetica if it is missing."""
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    paths = {name: folder / file for name, file in _FONT_FILES.items()}
    if not (paths[_FONT].is_file() and paths[_FONT_BOLD].is_file()):
        return "Helvetica", "Helvetica-Bold"  # no Cyrillic glyphs, but still a readable PDF
    for name, path in paths.items():
        if path.is_file():
            pdfmetrics.registerFont(TTFont(name, str(path)))
    italic = f"{_FONT}-Oblique" if paths[f"{_FONT}-Oblique"].is_file() else _FONT
    bold_italic = f"{_FONT}-BoldOblique" if paths[f"{_FONT}-BoldOblique"].is_file() else _FONT_BOLD
    pdfmetrics.registerFontFamily(
        _FONT, normal=_FONT, bold=_FONT_BOLD, italic=italic, boldItalic=bold_italic
    )
    return _FONT, _FONT_BOLD


def _styles(regular: str, bold: str) -> dict[str, Any]:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_LEFT
    from reportlab.lib.styles import ParagraphStyle

    muted = colors.HexColor("#59636E")
    body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=13, spaceAfter=4)
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontName=bold, fontSize=20, leading=24, spaceAfter=6,
            alignment=TA_LEFT,
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=12, leading=15, textColor=muted,
                                   spaceAfter=10),
        "h1": ParagraphStyle("h1", parent=body, fontName=bold, fontSize=15, leading=19,
                             spaceBefore=14, spaceAfter=6, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=body, fontName=bold, fontSize=12, leading=15,
                             spaceBefore=12, spaceAfter=3, keepWithNext=1),
        "h3": ParagraphStyle("h3", parent=body, fontName=bold, fontSize=10, leading=13,
                             spaceBefore=6, spaceAfter=2, keepWithNext=1),
        "body": body,
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=12, bulletIndent=2),
        "lead": ParagraphStyle("lead", parent=body, fontSize=10.5, leading=14.5, spaceAfter=5),
        "muted": ParagraphStyle("muted", parent=body, textColor=muted),
        "quote": ParagraphStyle(
            "quote", parent=body, leftIndent=10, borderPadding=(4, 6, 4, 6),
            backColor=colors.HexColor("#F6F8FA"), spaceBefore=6, spaceAfter=2,
        ),
        "meta": ParagraphStyle("meta", parent=body, fontSize=8, leading=10.5, textColor=muted,
                               leftIndent=10, spaceAfter=8),
        "caption": ParagraphStyle("caption", parent=body, fontSize=8.5, leading=11,
                                  textColor=muted, spaceAfter=10),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10, spaceAfter=0),
        "cellnum": ParagraphStyle("cellnum", parent=body, fontSize=8, leading=10, spaceAfter=0,
                                  alignment=2),
        "cellhead": ParagraphStyle("cellhead", parent=body, fontName=bold, fontSize=8, leading=10,
                                   spaceAfter=0),
        "callout": ParagraphStyle("callout", parent=body, backColor=colors.HexColor("#FFF8C5"),
                                  borderPadding=5, textColor=colors.HexColor("#7D4E00"),
                                  spaceBefore=4, spaceAfter=10),
        "kv": body,
    }


# -- building blocks --------------------------------------------------------------------------------


class _Builder:
    """Turns the model into a list of flowables (the 'story') for one page width."""

    def __init__(self, width: float, height: float) -> None:
        regular, bold = _fonts()
        self.styles = _styles(regular, bold)
        self.fonts = (regular, bold)
        self.width = width
        self.height = height
        self.story: list[Any] = []
        self._outline_keys = 0

    def para(self, markup: str, style: str = "body", indent: float = 0, **kwargs: Any) -> Any:
        """Append a paragraph of (already escaped) markup; ``indent`` adds a left indent."""
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.platypus import Paragraph

        chosen = self.styles[style]
        if indent:
            key = f"{style}@{indent:g}"
            if key not in self.styles:
                self.styles[key] = ParagraphStyle(
                    key, parent=chosen, leftIndent=chosen.leftIndent + indent
                )
            chosen = self.styles[key]
        flowable = Paragraph(markup, chosen, **kwargs)
        self.story.append(flowable)
        return flowable

    def heading(self, text: object, level: int, extra_markup: str = "") -> None:
        """A heading that is also an entry in the PDF outline (bookmarks)."""
        flowable = self.para(_esc(text) + extra_markup, "h1" if level == 0 else "h2")
        self._outline_keys += 1
        flowable._narrative_outline = (f"h{self._outline_keys}", level, _one_line(text)[:120])

    def image(self, png: bytes) -> Any | None:
        """The figure scaled to the page; an opaque 8-bit PNG (as the figures are saved) goes
        into the PDF as it is (:mod:`.pdf_images`), any other through ReportLab's ``Image``."""
        from reportlab.lib.utils import ImageReader
        from reportlab.platypus import Image

        from narrative.report.pdf_images import png_figure, png_stream

        if not png or not bytes(png).startswith(_PNG_MAGIC):
            return None
        stream = png_stream(png)
        try:
            px_w, px_h = ((stream.width, stream.height) if stream is not None
                          else ImageReader(io.BytesIO(png)).getSize())
        except Exception:  # a corrupt image must not sink the whole report
            return None
        natural_w, natural_h = px_w * 72.0 / 200.0, px_h * 72.0 / 200.0  # figures are saved at 200 dpi
        # At full size up to the printed size the figures are drawn for (their text is then at
        # least 8 pt); anything larger is scaled down to it.
        tallest = min(self.height * 0.85, PRINT_HEIGHT_IN * 72.0)
        scale = min(self.width / natural_w, tallest / natural_h, 1.0)
        if stream is not None:
            return png_figure(stream, natural_w * scale, natural_h * scale)
        return Image(io.BytesIO(png), width=natural_w * scale, height=natural_h * scale)

    def figure(self, ref: FigureRef) -> None:
        from reportlab.platypus import KeepTogether, Paragraph

        image = self.image(ref.png)
        caption = f"<b>{_esc(ref.title)}</b>"
        if ref.caption:
            caption += " " + _esc(ref.caption)
        parts = [image] if image is not None else [
            Paragraph("(figure image unavailable)", self.styles["muted"])
        ]
        parts.append(Paragraph(caption, self.styles["caption"]))
        self.story.append(KeepTogether(parts))

    def value(self, value: object, depth: int = 0, label: object | None = None) -> None:
        """Nested dicts/lists as indented ``key: value`` lines (paragraphs split across pages)."""
        kind = value_kind(value)
        indent = 12 * depth
        head = f"<b>{_esc(humanize(label))}</b>" if label is not None else ""
        nested = kind != "scalar" and value and depth < _MAX_DEPTH
        if nested and kind == "sequence" and all(value_kind(v) == "scalar" for v in as_list(value)):
            text = ", ".join(num(v) for v in as_list(value))
            self.para((head + ": " if head else "") + _esc(text), "kv", indent)
            return
        if not nested:
            text = "(none)" if kind != "scalar" and not value else num(value)
            self.para((head + ": " if head else "") + _esc(text), "kv", indent)
            return
        if head:
            self.para(head, "kv", indent)
            depth += 1
        if kind == "mapping":
            for key, item in value.items():  # type: ignore[union-attr]
                self.value(item, depth, key)
        else:
            for i, item in enumerate(as_list(value), start=1):
                self.value(item, depth, f"#{i}")

    def narrative(self, section: NarrativeSection, figure: FigureRef | None) -> None:
        kind = str(section.kind)
        color = _KIND_COLORS.get(kind.strip().lower(), "#59636E")
        badge = f' <font size="8" color="{color}">[{_esc(kind)}]</font>'
        self.heading(section.label, 1, badge)
        span = interval(section.share_low, section.share_high)
        self.para(
            f"{_esc(count(section.size, 'paragraph'))} \u00b7 {_esc(pct(section.share, 0))} of all "
            f"paragraphs{f' (95% interval {_esc(span)})' if span else ''} \u00b7 id "
            f"{_esc(section.narrative_id)}",
            "muted",
        )
        if section.catch_all:
            self.para(_esc(section.catch_all), "callout")
        if section.trust:
            self.para(_esc(section.trust), "muted")
        if section.description:
            self.para(_esc(section.description))
        if section.top_terms:
            terms = ", ".join(str(t) for t in section.top_terms)
            self.para(f"<b>Top terms:</b> {_esc(terms)}")
        if section.subnarratives:
            subs = "; ".join(f"{label} ({num(size)})" for label, size in section.subnarratives)
            self.para(f"<b>Sub-narratives:</b> {_esc(subs)}")
        if figure is not None:
            self.figure(figure)
        elif section.figure is not None:
            self.para(f"(figure \u201c{_esc(section.figure)}\u201d is not in this report)", "muted")
        if section.evidence:
            self.para("Evidence", "h3")
        for item in section.evidence:
            self.para(_esc(item.text), "quote")
            meta = [_esc(item.outlet) if item.outlet else "unknown outlet"]
            if item.date:
                meta.append(_esc(num(item.date)))
            if item.author:
                meta.append(_esc(item.author))
            url = safe_url(item.url)
            if item.title:
                meta.append(_link(url, str(item.title)) if url else _esc(item.title))
            if item.url and (url is None or not item.title):
                meta.append(_link(url, url) if url else _esc(item.url))
            if item.source:
                meta.append(_esc(item.source))
            if item.confidence:
                meta.append(f"<b>{_esc(item.confidence)} confidence</b>")
            self.para(" \u00b7 ".join(meta), "meta")

    def keep_together(self, start: int) -> None:
        """Lay ``story[start:]`` out as one block (a heading never ends a page apart from what it
        introduces); a block taller than a page still splits."""
        from reportlab.platypus import KeepTogether

        if len(self.story) - start > 1:
            self.story[start:] = [KeepTogether(self.story[start:])]

    def section(
        self, section: Section, level: int, figures: dict[str, FigureRef],
        tables: dict[str, Table],
    ) -> None:
        """A titled section: its sentences, then the figures and tables it names."""
        start = len(self.story)
        if level <= 1:
            self.heading(section.title, level)
        else:
            self.para(_esc(section.title), "h2")
        for sentence in section.text:
            self.para(_esc(sentence))
        first = True
        for key in section.figures:
            if key in figures:
                self.figure(figures[key])
                if first:
                    self.keep_together(start)
                    first = False
        for key in section.tables:
            if key in tables:
                self.table(tables[key])
                if first:
                    self.keep_together(start)
                    first = False
        if first:
            self.keep_together(start)
        for key in [*section.figures, *section.tables]:
            if key not in figures and key not in tables:
                self.para(f"(\u201c{_esc(key)}\u201d is not in this report)", "muted")
        if section.files:
            names = " \u00b7 ".join(_esc(label) for label, _ in section.files)
            self.para(f"Data beside this report: {names}", "muted")

    def table(self, table: Table) -> None:
        from reportlab.lib import colors
        from reportlab.platypus import Paragraph
        from reportlab.platypus import Table as RLTable
        from reportlab.platypus import TableStyle

        n_cols = max([len(table.columns), *(len(r) for r in table.rows)], default=0)
        self.para(_esc(table.title), "h3")
        if n_cols == 0:
            self.para("(empty table)", "muted")
            return

        def cell(value: object, header: bool = False) -> Any:
            numeric = value_kind(value) == "scalar" and isinstance(value, (int, float)) \
                and not isinstance(value, bool)
            style = "cellhead" if header else ("cellnum" if numeric else "cell")
            return Paragraph(_esc(num(value), _MAX_CELL_CHARS), self.styles[style])

        def padded(row: list[Any], header: bool = False) -> list[Any]:
            cells = [cell(v, header) for v in row]
            return cells + [Paragraph("", self.styles["cell"])] * (n_cols - len(cells))

        data = [padded(list(table.columns), header=True)]
        data += [padded(list(row)) for row in table.rows]
        grid = RLTable(
            data, colWidths=_column_widths(table, n_cols, self.width), repeatRows=1,
            hAlign="LEFT", splitInRow=1,
        )
        grid.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EAEEF2")),
                    ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F6F8FA")]),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#AFB8C1")),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.HexColor("#D1D9E0")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        self.story.append(grid)


def _column_widths(table: Table, n_cols: int, width: float) -> list[float]:
    """Column widths from the text each column holds: never narrower than its longest word (so
    headers such as "status" do not break mid-word), the rest of the width shared by how much
    longer the column's longest cell is (capped), so a name column gets room and a count column
    does not."""
    char, pad = 5.8, 12.0  # points per character of the 8 pt (bold) table fonts; cell padding
    word = [0] * n_cols
    text = [0] * n_cols
    for row in [list(table.columns), *table.rows]:
        for i, cell in enumerate(row[:n_cols]):
            shown = num(cell)
            longest = max((len(w) for w in shown.split()), default=0)
            word[i] = max(word[i], min(longest, 24))  # a longer "word" (a URL) wraps anyway
            text[i] = max(text[i], min(len(shown), 60))
    low = [max(w, 3) * char + pad for w in word]
    want = [max(lo, t * char * 0.92 + pad) for lo, t in zip(low, text)]
    if sum(want) <= width:
        return [w * width / sum(want) for w in want]
    if sum(low) >= width:
        return [lo * width / sum(low) for lo in low]
    spare, extra = width - sum(low), [w - lo for w, lo in zip(want, low)]
    return [lo + spare * e / sum(extra) for lo, e in zip(low, extra)]


def _build_story(model: ReportModel, width: float, height: float) -> list[Any]:
    from reportlab.platypus import Spacer

    b = _Builder(width, height)
    b.para(_esc(model.title), "title")
    subtitle = model.subtitle
    if model.warnings:
        n = len(model.warnings)
        subtitle += f" \u00b7 {n} warning{'' if n == 1 else 's'} (see Warnings at the end)"
    if subtitle:
        b.para(_esc(subtitle), "subtitle")

    figures: dict[str, FigureRef] = {}
    for ref in model.figures:
        figures.setdefault(ref.key, ref)
    tables: dict[str, Table] = {}
    for table in model.tables:
        tables.setdefault(str(table.key), table)

    b.heading("Findings", 0)
    for sentence in model.findings:
        b.para(_esc(sentence), "lead")
    if model.headline in figures:
        b.figure(figures[model.headline])
    if model.summary:
        b.para("More findings", "h3")
        for sentence in model.summary:
            b.para(_esc(sentence), "bullet", bulletText="\u2022")
    elif not model.findings:
        b.para("No findings.", "muted")

    claimed = {n.figure for n in model.narratives if n.figure in figures}
    if model.headline in figures:
        claimed.add(model.headline)
    claimed_tables: set[str] = set()
    for section in [*model.sections, *model.appendix]:
        claimed.update(k for k in section.figures if k in figures)
        claimed_tables.update(k for k in section.tables if k in tables)
    loose = [f for f in figures.values() if f.key not in claimed]
    if loose:
        start = len(b.story)
        b.heading("Figures", 0)
        for ref in loose:
            b.figure(ref)
            if len(b.story) - start == 2:
                b.keep_together(start)

    for section in model.sections:
        b.section(section, 0, figures, tables)

    b.heading("Narratives", 0)
    if not model.narratives:
        b.para("No narratives.", "muted")
    for section in model.narratives:
        b.narrative(section, figures.get(section.figure) if section.figure is not None else None)

    loose_tables = [t for t in model.tables if str(t.key) not in claimed_tables]
    if loose_tables:
        b.heading("Tables", 0)
        for table in loose_tables:
            b.table(table)
            b.story.append(Spacer(1, 8))

    b.heading("Corpus", 0)
    b.value(model.corpus)

    b.heading("Methods", 0)
    b.value(model.methods)
    for section in model.appendix:
        b.section(section, 1, figures, tables)

    if model.warnings:
        b.heading("Warnings", 0)
        for warning in model.warnings:
            b.para(_esc(warning), "bullet", bulletText="\u2022")
    return b.story


# -- document ---------------------------------------------------------------------------------------


def render_pdf(model: ReportModel) -> bytes:
    """The report as PDF bytes (A4, DejaVu Sans embedded, outline of sections and narratives)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    if not isinstance(model, ReportModel):
        raise TypeError(f"model must be a ReportModel; got {type(model).__name__}")
    regular, _ = _fonts()
    title = _one_line(model.title)

    class _Doc(SimpleDocTemplate):
        def afterFlowable(self, flowable: Any) -> None:  # noqa: N802 (ReportLab's name)
            outline = getattr(flowable, "_narrative_outline", None)
            if outline:
                key, level, text = outline
                self.canv.bookmarkPage(key)
                self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 8)
        canvas.setFillColorRGB(0.35, 0.39, 0.43)
        short = title if len(title) <= 90 else title[:89] + "\u2026"
        canvas.drawString(doc.leftMargin, 10 * mm, short)
        canvas.drawRightString(doc.pagesize[0] - doc.rightMargin, 10 * mm, f"{doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = _Doc(
        buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
        bottomMargin=20 * mm, title=title, subject=_one_line(model.subtitle), author="narrative",
        creator="narrative", invariant=1, displayDocTitle=1, lang="en",
    )
    story = _build_story(model, doc.width, doc.height)
    with _binary_streams():
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


@contextlib.contextmanager
def _binary_streams() -> Iterator[None]:
    """Compressed PDF streams without ReportLab's ASCII85 wrapping (its default, a 7-bit-clean
    file), restored afterwards: in pure Python the encoding took half of a 44-figure report's PDF
    time and makes each image a quarter larger."""
    from reportlab import rl_config

    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = before


def write_pdf(model: ReportModel, path: str | os.PathLike[str]) -> Path:
    """Render ``model`` to PDF and write it to ``path`` atomically; returns the path."""
    return atomic_write_bytes(path, render_pdf(model))


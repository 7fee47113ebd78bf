"""``reports/index.html``: one page listing every report in a folder of reports.

Each report lives in its own sub-folder (``reports/NAME/report.html``). The index shows, for each,
its title and subtitle, links to the HTML (and the PDF when there is one) and when it was last
written. Titles come from a small ``report.json`` sidecar beside the report when there is one
(``{"title": ..., "subtitle": ...}``), else from the report's own ``<title>`` and subtitle line.

Titles come from article-derived data, so the page is rendered with the report's autoescaping Jinja2
environment and carries the same Content-Security-Policy (no script, no external request); links are
relative, percent-encoded paths made by :func:`narrative.report.html.safe_relative_href`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from narrative.io import atomic_write_text

__all__ = ["IndexEntry", "read_report_entry", "render_index", "write_index"]

INDEX_NAME = "index.html"
REPORT_NAME = "report.html"
SIDECAR_NAME = "report.json"
_HEAD_BYTES = 256 * 1024  # title and subtitle sit at the top; figures (large) come later
_MAX_TEXT = 300


@dataclass(frozen=True)
class IndexEntry:
    """One report as the index shows it."""

    folder: str  # relative to the reports folder, POSIX separators
    title: str
    subtitle: str
    modified: str  # "YYYY-MM-DD HH:MM UTC" of report.html
    href: str | None  # relative link to report.html, None when the path cannot be linked safely
    pdf_href: str | None
    mtime: float


class _HeadParser(HTMLParser):
    """Collects the text of ``<title>`` and of the first ``<p class="subtitle">``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.subtitle: list[str] = []
        self._in: str | None = None
        self._subtitle_done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "title" and not self.title:
            self._in = "title"
        elif tag == "p" and "subtitle" in classes and not self._subtitle_done:
            self._in = "subtitle"

    def handle_endtag(self, tag: str) -> None:
        if self._in == "title" and tag == "title":
            self._in = None
        elif self._in == "subtitle" and tag == "p":
            self._in, self._subtitle_done = None, True

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title.append(data)
        elif self._in == "subtitle":
            self.subtitle.append(data)


def _short(text: object) -> str:
    """Whitespace collapsed, cut to a length an index row can hold."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _MAX_TEXT else flat[: _MAX_TEXT - 1] + "\u2026"


def _read_sidecar(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: data[k] for k in ("title", "subtitle") if isinstance(data.get(k), str)}


def _read_head(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return {}
    parser = _HeadParser()
    parser.feed(head)
    return {"title": "".join(parser.title), "subtitle": "".join(parser.subtitle)}


def read_report_entry(report: Path, root: Path) -> IndexEntry:
    """The index row for ``report`` (a ``report.html`` below ``root``)."""
    from narrative.report.html import safe_relative_href

    folder = report.parent.relative_to(root).as_posix()
    meta = _read_head(report)
    meta.update(_read_sidecar(report.parent / SIDECAR_NAME))
    mtime = report.stat().st_mtime
    pdf = report.parent / "report.pdf"
    return IndexEntry(
        folder=folder,
        title=_short(meta.get("title") or "") or folder,
        subtitle=_short(meta.get("subtitle") or ""),
        modified=dt.datetime.fromtimestamp(mtime, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        href=safe_relative_href(f"{folder}/{REPORT_NAME}"),
        pdf_href=safe_relative_href(f"{folder}/report.pdf") if pdf.is_file() else None,
        mtime=mtime,
    )


def find_reports(reports_dir: Path) -> list[Path]:
    """Every ``report.html`` in a sub-folder of ``reports_dir`` (any depth; hidden folders skipped)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(reports_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(dirpath)
        if here != reports_dir and REPORT_NAME in filenames and (here / REPORT_NAME).is_file():
            found.append(here / REPORT_NAME)
    return found


def render_index(entries: list[IndexEntry], *, title: str = "Narrative reports") -> str:
    """The index page for ``entries`` (shown in the order given)."""
    from narrative.report.html import CONTENT_SECURITY_POLICY, _environment

    return _environment().get_template("index.html.j2").render(
        title=title, entries=entries, csp=CONTENT_SECURITY_POLICY, folder_hint="reports",
    )


def write_index(reports_dir: str | os.PathLike[str], *, title: str = "Narrative reports") -> Path:
    """Write ``reports_dir/index.html`` listing every ``*/report.html`` below it, newest first.

    The file is written atomically, so a browser never sees half a page; running it again after a
    new report replaces the index. Returns the index's path.
    """
    root = Path(reports_dir)
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a folder of reports")
    entries = [read_report_entry(p, root) for p in find_reports(root)]
    entries.sort(key=lambda e: (-e.mtime, e.folder))
    return atomic_write_text(root / INDEX_NAME, render_index(entries, title=title))

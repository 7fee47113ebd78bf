"""Reports: a plain-data :class:`ReportModel` rendered to self-contained HTML and to PDF.

``write_pdf`` is imported on first use, so importing this package does not load ReportLab.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from narrative.report.html import render_html, write_html
from narrative.report.model import Evidence, FigureRef, NarrativeSection, ReportModel, Section, Table

if TYPE_CHECKING:
    from narrative.report.pdf import write_pdf

__all__ = [
    "Evidence",
    "FigureRef",
    "NarrativeSection",
    "ReportModel",
    "Section",
    "Table",
    "render_html",
    "write_html",
    "write_pdf",
]


def __getattr__(name: str) -> Any:
    if name == "write_pdf":
        from narrative.report.pdf import write_pdf

        return write_pdf
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

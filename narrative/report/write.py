"""Write one run's report folder: drift CSVs, figures, report.html and report.pdf.

:func:`write_report` is what ``narrative build``, ``narrative demo`` and ``narrative report``
call; :func:`report_formats` checks the formats a user asked for before any work starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..config import Settings
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..drift import DriftFrames
    from ..store import Store

__all__ = ["REPORT_FORMATS", "report_formats", "write_report"]

#: The report files ``write_report`` can write.
REPORT_FORMATS = ("html", "pdf")


def report_formats(formats: str | Sequence[str]) -> list[str]:
    """The report formats asked for (``"html,pdf"`` or a list), checked: at least one, each
    known, else a :class:`ConfigError` naming the valid ones. A report with no format would
    write no report at all."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    asked = list(dict.fromkeys(str(f).strip().lower() for f in items if str(f).strip()))
    unknown = [f for f in asked if f not in REPORT_FORMATS]
    if unknown:
        problem = f"unknown report format(s) {', '.join(map(repr, unknown))}"
    elif not asked:
        problem = f"no report format in {formats!r}"
    else:
        return asked
    raise ConfigError(f"{problem}; valid formats: {', '.join(REPORT_FORMATS)} "
                      "(comma-separated, e.g. --format html,pdf)")


def write_report(
    store: "Store",
    run_id: str,
    out_dir: str | Path,
    *,
    settings: Settings = Settings(),
    formats: Sequence[str] = ("html", "pdf"),
    drift: "DriftFrames | None" = None,
    timings: dict[str, float] | None = None,
    title: str | None = None,
    index: bool = False,
) -> dict[str, Path]:
    """Figures, the drift tables as CSV, ``explorer.html`` and the report files of one run under
    ``out_dir``.

    With ``index=True`` the folder above ``out_dir`` is treated as a folder of reports and its
    ``index.html`` (:func:`narrative.report.index.write_index`) is rewritten to list this one.
    """
    from ..drift import compute_drift
    from ..explore import write_explorer
    from ..export import export_tables
    from ..io import prepare_output_dir
    from ..runtime.workers import sharer
    from .assemble import assemble_report

    formats = report_formats(formats)
    out_dir = prepare_output_dir(out_dir)
    drift = drift or compute_drift(store, run_id, settings=settings,
                                   share=sharer(settings.workers))
    paths = export_tables(drift, out_dir)
    paths["explorer"] = write_explorer(store, run_id, out_dir, settings=settings, drift=drift,
                                       title=title)
    model = assemble_report(
        store, run_id, drift, out_dir=out_dir, settings=settings, timings=timings or {},
        title=title,
    )
    if "html" in formats:
        from .html import write_html

        paths["html"] = write_html(model, out_dir / "report.html")
    if "pdf" in formats:
        from .pdf import write_pdf

        paths["pdf"] = write_pdf(model, out_dir / "report.pdf")
    if index:
        from .index import write_index

        paths["index"] = write_index(out_dir.resolve().parent)
    return paths


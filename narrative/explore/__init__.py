"""The interactive explorer: ``explorer.html``, from any share to the paragraphs behind it.

One self-contained, offline file (see :mod:`narrative.explore.page` for how untrusted text stays
inert): shares over time and the outlet × narrative view, drawn with the plotly.js bundle that
ships with the ``plotly`` package; hovering shows each number with its interval; clicking a point,
a cell, a week or an outlet bar, a legend entry, or choosing in the selection form, lists the
paragraphs :func:`narrative.query.paragraphs` returns for that selection (outlet, date, title,
link), most typical first; a word box filters the list.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..io import atomic_write_text
from .data import MAX_PARAGRAPHS, TEXT_CHARS, explorer_data
from .page import render_explorer

if TYPE_CHECKING:
    from ..config import Settings
    from ..drift import DriftFrames
    from ..store import Store

__all__ = ["explorer_data", "render_explorer", "write_explorer"]

EXPLORER_FILE = "explorer.html"


def write_explorer(
    store: "Store",
    run_id: str,
    out_dir: str | Path,
    *,
    settings: "Settings | None" = None,
    drift: "DriftFrames | None" = None,
    title: str | None = None,
    max_paragraphs: int = MAX_PARAGRAPHS,
    text_chars: int = TEXT_CHARS,
) -> Path:
    """Write ``out_dir/explorer.html`` for one run and return its path.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run_id : str
        The run to show.
    out_dir : str or Path
        Folder to write to (created if missing); the file is written atomically.
    settings : Settings, default=None
        Period, copies and the drift settings; None: the defaults (as ``compute_drift``).
    drift : DriftFrames, default=None
        The run's drift tables, when the caller has them already (``build`` and ``report`` do);
        None computes them.
    title : str, default=None
        Page title; None: "Narrative explorer".
    max_paragraphs : int, default=20000
        Paragraphs embedded at most; past it, the most typical of every narrative × outlet ×
        period are embedded and the page says that it shows a sample.
    text_chars : int, default=1200
        Longer paragraph texts are cut to this many characters.
    """
    from ..config import Settings

    settings = settings or Settings()
    if drift is None:
        from ..drift import compute_drift

        drift = compute_drift(store, run_id, settings=settings)
    data = explorer_data(store, run_id, drift, period_kind=settings.period, copies=settings.copies,
                         min_articles=settings.min_articles, max_paragraphs=max_paragraphs, text_chars=text_chars)
    page = render_explorer(data, title=title or "Narrative explorer")
    return atomic_write_text(Path(out_dir) / EXPLORER_FILE, page)

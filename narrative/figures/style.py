"""The one look shared by every figure: sizes, grid, spines, fonts and a colour-blind-safe palette.

The style is applied with :func:`style_context` (a :func:`matplotlib.rc_context`) around drawing and
saving, never by changing the global ``rcParams``: importing this module changes nothing.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from narrative.schema import UNASSIGNED

__all__ = [
    "FIGURE_HEIGHT_IN",
    "FIGURE_WIDTH_IN",
    "LINESTYLES",
    "MIN_TEXT_PT",
    "OKABE_ITO",
    "PALETTE",
    "PRINT_HEIGHT_IN",
    "PRINT_WIDTH_IN",
    "RC",
    "THIN_MARKER",
    "TOL_MUTED",
    "UNASSIGNED_COLOR",
    "is_unassigned",
    "narrative_color",
    "narrative_colors",
    "narrative_linestyles",
    "percent_formatter",
    "plain_text",
    "style_context",
    "wrap_label",
]

#: Okabe & Ito (2008) without black (kept for text) and without yellow (a pale line on its own
#: pale band cannot be seen): orange, sky blue, bluish green, blue, vermillion, reddish purple.
OKABE_ITO: tuple[str, ...] = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")
#: Paul Tol's "muted" scheme without its pale sand and pale cyan, after Okabe–Ito.
TOL_MUTED: tuple[str, ...] = (
    "#CC6677", "#332288", "#117733", "#882255", "#44AA99", "#999933", "#AA4499",
)
#: The one colour-blind-safe palette every narrative colour comes from (see :func:`narrative_color`).
PALETTE: tuple[str, ...] = OKABE_ITO + TOL_MUTED
#: Unassigned paragraphs are always this neutral grey, whatever else is plotted.
UNASSIGNED_COLOR = "#9E9E9E"
#: Line styles told apart where two narratives of one figure share a colour.
LINESTYLES: tuple[str, ...] = ("-", "--", ":", "-.")

#: The printed size a report figure is drawn for: the text width of the A4 PDF (18 mm margins),
#: and the tallest figure it shows at full size. A figure drawn within these at
#: :data:`MIN_TEXT_PT` or more keeps its text at least that large in the PDF and the HTML.
PRINT_WIDTH_IN = 6.85
PRINT_HEIGHT_IN = 8.0
#: The width report figures are drawn at: the printed width less the white margin a saved
#: figure gets on each side (``pad_inches``).
FIGURE_WIDTH_IN = PRINT_WIDTH_IN - 0.25
#: The tallest a report figure is drawn, for the same reason.
FIGURE_HEIGHT_IN = PRINT_HEIGHT_IN - 0.3
#: The smallest text a report figure may print (points, at the printed size).
MIN_TEXT_PT = 8.0

#: How a thin point looks in every figure: a share from a period with fewer articles than
#: ``min_articles`` or from a partly collected period, drawn hollow, off the solid line.
THIN_MARKER: dict[str, Any] = {"marker": "o", "markerfacecolor": "white", "markersize": 4.5,
                               "markeredgewidth": 1.2, "linestyle": "none"}

#: rc settings for every figure. The bundled DejaVu Sans covers Latin, Greek and Cyrillic, so a
#: figure looks the same on every machine. ``svg.hashsalt`` and no usetex keep output reproducible
#: and keep untrusted labels away from a TeX interpreter.
RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9.0,
    "axes.titlesize": 11.0,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "legend.fontsize": 8.0,
    "legend.frameon": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.6,
    "lines.markersize": 3.5,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 100,
    "text.usetex": False,
    "svg.hashsalt": "narrative",
    "svg.fonttype": "path",
    "image.interpolation": "nearest",
}


def style_context(extra: Mapping[str, Any] | None = None) -> AbstractContextManager[None]:
    """Context manager applying :data:`RC` (plus ``extra``) while figures are drawn or saved."""
    import matplotlib

    rc = dict(RC)
    if extra:
        rc.update(extra)
    return matplotlib.rc_context(rc)


def is_unassigned(name: object) -> bool:
    """Whether ``name`` is the unassigned pseudo-narrative (case and surrounding spaces ignored)."""
    return str(name).strip().lower() == UNASSIGNED


def _name_key(name: object) -> str:
    """A narrative name as colours compare it: spaces folded, case ignored."""
    return " ".join(str(name).split()).casefold()


@functools.lru_cache(maxsize=1)
def _default_codebook() -> tuple[str, ...]:
    from narrative.codebook import load_codebook

    return tuple(load_codebook(None).names)


def _codebook_names(codebook: Iterable[str] | None) -> tuple[str, ...]:
    if codebook is None:
        return _default_codebook()
    names = getattr(codebook, "names", codebook)  # a Codebook, or its names
    return tuple(dict.fromkeys(_name_key(n) for n in names))


def narrative_color(name: object, codebook: Iterable[str] | None = None) -> str:
    """The colour of one narrative, the same in every run, report and notebook.

    The first names of the ``codebook`` (its names in codebook order, or a
    :class:`~narrative.codebook.Codebook`; default: the packaged default codebook) take the
    Okabe–Ito colours in that order; any other name (a discovered narrative, or a codebook's
    seventh and later) takes one of Tol's colours by a stable hash (SHA-256) of the name, so it
    keeps its colour whatever else a run finds and whatever the codebook. Two such names can
    share a colour (figures then tell them apart by line style). ``"unassigned"`` is always
    :data:`UNASSIGNED_COLOR`.
    """
    if is_unassigned(name):
        return UNASSIGNED_COLOR
    named = _codebook_names(codebook)
    key = _name_key(name)
    if key in named and named.index(key) < len(OKABE_ITO):
        return OKABE_ITO[named.index(key)]
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return TOL_MUTED[int.from_bytes(digest[:8], "big") % len(TOL_MUTED)]


def narrative_colors(names: Iterable[str], codebook: Iterable[str] | None = None) -> dict[str, str]:
    """:func:`narrative_color` of each name: ``{name: "#RRGGBB"}`` (the public mapping the
    report, the explorer and the notebooks all use)."""
    named = _codebook_names(codebook)
    return {str(n): narrative_color(n, named) for n in names}


def narrative_linestyles(names: Sequence[str], colors: Mapping[str, str]) -> dict[str, str]:
    """A line style per name: solid, then dashed, dotted... for each later name of the same
    colour, so narratives that share a colour in one figure are still told apart."""
    seen: dict[str, int] = {}
    styles = {}
    for name in dict.fromkeys(map(str, names)):
        color = colors.get(name, "")
        styles[name] = LINESTYLES[seen.get(color, 0) % len(LINESTYLES)]
        seen[color] = seen.get(color, 0) + 1
    return styles


def plain_text(text: object, width: int | None = None) -> str:
    """``text`` made safe to show literally in a matplotlib label.

    Dollar signs are escaped so an outlet or narrative name such as ``"$5 $ale"`` is not parsed as
    mathtext (which would garble it or raise at draw time). With ``width``, long names are cut to
    that many characters with an ellipsis, keeping legends and tick labels readable.
    """
    s = " ".join(str(text).split())  # also folds newlines, U+2028 and tabs into spaces
    if width is not None and len(s) > width:
        s = s[: max(width - 1, 1)].rstrip() + "\u2026"
    return s.replace("$", r"\$")


def wrap_label(text: object, width: int, lines: int = 2) -> str:
    """:func:`plain_text` of ``text`` on at most ``lines`` lines of about ``width`` characters, the
    last cut with an ellipsis: panel titles and row labels that fit their panel."""
    import textwrap

    parts = textwrap.wrap(" ".join(str(text).split()), width) or [""]
    if len(parts) > lines:
        parts = parts[: lines - 1] + [" ".join(parts[lines - 1:])]
    return "\n".join(plain_text(p, width) for p in parts)


def percent_formatter() -> Any:
    """Tick labels for 0–1 shares: ``20%``, or ``2.5%`` where a whole percent would round."""
    from matplotlib.ticker import FuncFormatter

    def label(value: float, _pos: object = None) -> str:
        pct = round(value * 100, 6)
        return f"{pct:.0f}%" if float(pct).is_integer() else f"{pct:.1f}%"

    return FuncFormatter(label)

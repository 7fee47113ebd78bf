"""The one look shared by every figure: sizes, grid, spines, fonts and a colour-blind-safe palette.

The style is applied with :func:`style_context` (a :func:`matplotlib.rc_context`) around drawing and
saving, never by changing the global ``rcParams``: importing this module changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from narrative.schema import UNASSIGNED

__all__ = [
    "LINESTYLES",
    "OKABE_ITO",
    "PALETTE",
    "RC",
    "TOL_MUTED",
    "UNASSIGNED_COLOR",
    "is_unassigned",
    "narrative_colors",
    "narrative_linestyle",
    "percent_formatter",
    "plain_text",
    "style_context",
    "wrap_label",
]

#: Okabe & Ito (2008) without black (kept for text): orange, sky blue, bluish green, blue,
#: vermillion, reddish purple, then yellow (last: it is the faintest line on white).
OKABE_ITO: tuple[str, ...] = (
    "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442",
)
#: Paul Tol's "muted" scheme, used once Okabe–Ito runs out.
TOL_MUTED: tuple[str, ...] = (
    "#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933",
    "#AA4499",
)
#: Narrative colours in the order they are handed out.
PALETTE: tuple[str, ...] = OKABE_ITO + TOL_MUTED
#: Unassigned paragraphs are always this neutral grey, whatever else is plotted.
UNASSIGNED_COLOR = "#9E9E9E"
#: Line styles cycled once every colour of :data:`PALETTE` is in use, so lines stay distinguishable.
LINESTYLES: tuple[str, ...] = ("-", "--", ":", "-.")

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


def narrative_colors(names: Sequence[str]) -> dict[str, str]:
    """One stable colour per narrative, by its position in ``names``.

    The pipeline passes the full narrative list in one fixed order, so a narrative keeps its colour
    in every figure even when a figure shows only some of them. ``"unassigned"`` is always
    :data:`UNASSIGNED_COLOR` and takes no palette slot; a repeated name keeps its first colour. Past
    the palette's length colours repeat (pair them with :func:`narrative_linestyle`).
    """
    colors: dict[str, str] = {}
    slot = 0
    for name in names:
        key = str(name)
        if key in colors:
            continue
        if is_unassigned(key):
            colors[key] = UNASSIGNED_COLOR
            continue
        colors[key] = PALETTE[slot % len(PALETTE)]
        slot += 1
    return colors


def narrative_linestyle(position: int) -> str:
    """Line style for the ``position``-th coloured line: solid until the palette wraps around."""
    return LINESTYLES[(position // len(PALETTE)) % len(LINESTYLES)]


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

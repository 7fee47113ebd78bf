"""How large is each narrative: paragraph counts by kind, and shares over the whole window with
their 95% intervals (the report's first chart).

Same contract as every figure module (see :mod:`narrative.figures`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from narrative.figures.axes import (
    EDGE,
    LEGEND_WIDTH,
    as_float,
    check_unique,
    new_axes,
    pct_label,
    percent,
    require_columns,
    tidy_axes,
)
from narrative.figures.style import (
    FIGURE_WIDTH_IN,
    THIN_MARKER,
    UNASSIGNED_COLOR,
    is_unassigned,
    narrative_colors,
    plain_text,
    style_context,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_narrative_sizes", "plot_share_intervals"]

#: How a bar shows its narrative's kind: a discovered one lighter and hatched (a candidate), the
#: unassigned paragraphs dotted.
_KIND_STYLE: dict[str, dict[str, object]] = {
    "named": {"hatch": None, "alpha": 1.0},
    "discovered": {"hatch": "///", "alpha": 0.55},
    "unassigned": {"hatch": "...", "alpha": 1.0},
}


def plot_narrative_sizes(
    sizes: pd.DataFrame,
    *,
    colors: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    xlabel: str = "Paragraphs",
) -> Figure:
    """Horizontal bars of narrative sizes, largest on top; named, discovered and unassigned differ.

    Parameters
    ----------
    sizes : DataFrame
        Columns ``narrative``, ``size`` (a count) and ``kind`` (``"named"``, ``"discovered"`` or
        ``"unassigned"``; without the column, unassigned is recognised by name and the rest are
        drawn as named).
    colors : mapping, optional
        Name -> colour; default :func:`.style.narrative_colors` over the frame's row order.
    ax : Axes, optional
        Draw here instead of on a new figure.
    xlabel : str, default="Paragraphs"
        What ``size`` counts.
    """
    require_columns(sizes, ("narrative", "size"), "sizes")
    if sizes.empty:
        raise ValueError("sizes is empty: nothing to draw")
    check_unique(sizes, ["narrative"], "sizes")
    names = sizes["narrative"].astype(str).tolist()
    values = as_float(sizes["size"])
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("sizes.size must be finite counts >= 0; got NaN or negative values")
    if "kind" in sizes.columns:
        kinds = [str(k).strip().lower() for k in sizes["kind"]]
    else:
        kinds = ["unassigned" if is_unassigned(n) else "named" for n in names]
    palette = dict(colors) if colors is not None else narrative_colors(names)
    order = sorted(range(len(names)), key=lambda i: (-values[i], names[i]))

    with style_context():
        from matplotlib.patches import Patch

        fig, ax = new_axes(ax, (FIGURE_WIDTH_IN, min(max(1.4 + 0.3 * len(names), 2.6), 30.0)))
        tidy_axes(ax, "x")
        y = np.arange(len(order))
        bars = ax.barh(
            y, values[order], height=0.7, edgecolor=EDGE, linewidth=0.6, zorder=3,
        )
        for bar, i in zip(bars, order):
            kind = kinds[i] if kinds[i] in _KIND_STYLE else "named"
            style = _KIND_STYLE[kind]
            default = UNASSIGNED_COLOR if kind == "unassigned" else "#000000"
            bar.set_facecolor(palette.get(names[i], default))
            if style["hatch"]:
                bar.set_hatch(str(style["hatch"]))
            if style["alpha"] != 1.0:  # lighter fill, solid edge: a candidate, not a named narrative
                face = bar.get_facecolor()
                bar.set_facecolor((*face[:3], float(style["alpha"])))
        ax.bar_label(
            bars, labels=[f"{int(round(values[i])):,}" for i in order], padding=3, fontsize=8,
        )
        ax.set_yticks(y, labels=[plain_text(names[i], LEGEND_WIDTH) for i in order])
        ax.invert_yaxis()
        ax.set_xlim(0, max(float(values.max()), 1.0) * 1.15)
        ax.set_xlabel(plain_text(xlabel))
        ax.tick_params(axis="y", length=0)
        ax.set_title("Narrative sizes")
        present = [k for k in _KIND_STYLE if k in kinds]
        if present:
            handles = [
                Patch(
                    facecolor=UNASSIGNED_COLOR if k == "unassigned" else
                    ("#FFFFFF" if k == "discovered" else "#777777"),
                    edgecolor=EDGE, hatch=_KIND_STYLE[k]["hatch"], linewidth=0.6, label=k,
                )
                for k in present
            ]
            ax.legend(
                handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(handles),
                borderaxespad=0.2,
            )
    return fig


def plot_share_intervals(
    shares: pd.DataFrame,
    *,
    colors: Mapping[str, str] | None = None,
    title: str = "Share of paragraphs by narrative",
    xlabel: str = "Share of paragraphs (95% interval)",
    ax: Axes | None = None,
) -> Figure:
    """Each narrative's share over the whole window as a dot with its 95% interval, largest on
    top, the value written beside it: the report's first chart, readable on any corpus.

    Parameters
    ----------
    shares : DataFrame
        Columns ``narrative``, ``share`` and optionally ``ci_low``, ``ci_high`` (0–1), one row per
        narrative. A row without an interval is drawn as a hollow (thin) point.
    colors : mapping, optional
        Name -> colour; default :func:`.style.narrative_colors`.
    """
    require_columns(shares, ("narrative", "share"), "shares")
    if shares.empty:
        raise ValueError("shares is empty: nothing to draw")
    check_unique(shares, ["narrative"], "shares")
    frame = shares.assign(narrative=shares["narrative"].astype(str),
                          _s=as_float(shares["share"]))
    frame = frame.sort_values(["_s", "narrative"], ascending=[False, True], ignore_index=True)
    names = frame["narrative"].tolist()
    palette = dict(colors) if colors is not None else narrative_colors(names)
    share = frame["_s"].to_numpy()
    low = as_float(frame["ci_low"]) if "ci_low" in frame else np.full(len(frame), np.nan)
    high = as_float(frame["ci_high"]) if "ci_high" in frame else np.full(len(frame), np.nan)
    with style_context():
        fig, ax = new_axes(ax, (FIGURE_WIDTH_IN, 0.75 + 0.27 * len(frame)))
        tidy_axes(ax, "x")
        y = np.arange(len(frame))
        top = float(np.nanmax(np.r_[high, share, 0.01]))
        for i, name in enumerate(names):
            color = palette.get(name, UNASSIGNED_COLOR if is_unassigned(name) else "#000000")
            has_ci = np.isfinite(low[i]) and np.isfinite(high[i])
            if has_ci:
                ax.plot([low[i], high[i]], [i, i], color=color, linewidth=2.2,
                        solid_capstyle="butt", zorder=2)
                ax.plot([share[i]], [i], color=color, marker="o", markersize=6,
                        markeredgecolor="white", linestyle="none", zorder=3)
                text = f"{pct_label(share[i])}  ({pct_label(low[i])}\u2013{pct_label(high[i])})"
            else:
                ax.plot([share[i]], [i], color=color, zorder=3, **THIN_MARKER)
                text = f"{pct_label(share[i])}"
            ax.text(max(share[i], high[i] if has_ci else share[i]) + top * 0.02, i, text,
                    va="center", ha="left", fontsize=8, color="#333333")
        ax.set_yticks(y, labels=[plain_text(n, LEGEND_WIDTH) for n in names])
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.3)
        ax.xaxis.set_major_formatter(percent())
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
    return fig

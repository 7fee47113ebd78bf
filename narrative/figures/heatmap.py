"""How the outlets differ: a narrative × outlet grid of shares over the whole window, each cell
labelled in percent (with its 95% interval where the grid is small enough to read it).

Same contract as every figure module (see :mod:`narrative.figures`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from narrative.figures.axes import (
    TICK_WIDTH,
    as_float,
    check_unique,
    new_axes,
    order_narratives,
    pct_label,
    require_columns,
    text_color,
    tidy_axes,
)
from narrative.figures.style import (
    FIGURE_HEIGHT_IN,
    FIGURE_WIDTH_IN,
    plain_text,
    style_context,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap, Normalize
    from matplotlib.figure import Figure

__all__ = ["MAX_INTERVAL_ROWS", "plot_outlet_heatmap"]

#: Most narratives a heatmap shows with each cell's interval under its share.
MAX_INTERVAL_ROWS = 12
_INSUFFICIENT_FACE = "#EEEEEE"  # a cell without an estimate: grey, hatched
_INSUFFICIENT_HATCH = "#B0B0B0"


def plot_outlet_heatmap(
    shares: pd.DataFrame,
    *,
    narratives: Sequence[str] | None = None,
    outlets: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str = "Share of each narrative by outlet",
) -> Figure:
    """Narrative × outlet grid of shares over the whole period, each cell labelled in percent.

    One row per narrative (names read across), one column per outlet. With ``ci_low`` and
    ``ci_high`` columns and at most :data:`MAX_INTERVAL_ROWS` narratives, each cell also shows
    its 95% interval. The cell values are printed, so no colour bar is needed.

    Parameters
    ----------
    shares : DataFrame
        Columns ``outlet``, ``narrative``, ``share`` (optionally ``ci_low``, ``ci_high``): one row
        per (outlet, narrative), already aggregated over time. A NaN share (or a missing row) is
        drawn grey and hatched, labelled "n/a": too few articles to estimate.
    narratives : sequence of str, optional
        Rows in this order; default: largest mean share first, unassigned last.
    outlets : sequence of str, optional
        Columns in this order; default: every outlet, ``all`` first, then by name.
    ax : Axes, optional
        Draw here instead of on a new figure.
    title : str
        The axes title.
    """
    require_columns(shares, ("outlet", "narrative", "share"), "shares")
    if shares.empty:
        raise ValueError("shares is empty: nothing to draw")
    check_unique(shares, ["outlet", "narrative"], "shares")
    frame = shares.assign(
        outlet=shares["outlet"].astype(str),
        narrative=shares["narrative"].astype(str),
        share=as_float(shares["share"]),
    )
    rows = order_narratives(frame, narratives)
    columns = ([str(o) for o in dict.fromkeys(outlets)] if outlets is not None else
               sorted(frame["outlet"].unique(), key=lambda o: (o != "all", o)))
    grid = _grid_of(frame, "share", rows, columns)
    with_ci = {"ci_low", "ci_high"} <= set(frame.columns) and len(rows) <= MAX_INTERVAL_ROWS
    low, high = ((_grid_of(frame, "ci_low", rows, columns),
                  _grid_of(frame, "ci_high", rows, columns)) if with_ci else (None, None))

    with style_context():
        n_rows, n_cols = grid.shape
        row_h = 0.42 if with_ci else 0.24
        fig, ax = new_axes(ax, (min(2.6 + 0.62 * n_cols, FIGURE_WIDTH_IN),
                                min(1.7 + row_h * n_rows, FIGURE_HEIGHT_IN)))
        cmap, norm = _draw_grid(ax, grid)
        _label_cells(ax, grid, low, high, cmap, norm)
        ax.set_xticks(range(n_cols), labels=[plain_text(c, 24) for c in columns], rotation=35,
                      ha="left", rotation_mode="anchor")
        ax.xaxis.tick_top()
        ax.set_yticks(range(n_rows), labels=[plain_text(r, TICK_WIDTH) for r in rows])
        ax.tick_params(length=0, labelsize=8)
        ax.set_title(title, pad=6)
        if not np.isfinite(grid).all():
            _not_available_legend(ax)
    return fig


def _grid_of(frame: pd.DataFrame, value: str, rows: list[str], columns: list[str]) -> np.ndarray:
    """Column ``value`` of ``frame`` as a narrative × outlet array in the given order (NaN where
    a pair has no row)."""
    return (frame.assign(_v=as_float(frame[value]))
            .pivot(index="narrative", columns="outlet", values="_v")
            .reindex(index=rows, columns=columns).to_numpy(dtype=float))


def _draw_grid(ax: Axes, grid: np.ndarray) -> tuple[Colormap, Normalize]:
    """The coloured cells on a bare axes; returns the colour map and scale, to label the cells."""
    import matplotlib
    from matplotlib.colors import Normalize

    finite = grid[np.isfinite(grid)]
    vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    tidy_axes(ax, None)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    cmap = matplotlib.colormaps["YlGnBu"].with_extremes(bad=_INSUFFICIENT_FACE)
    norm = Normalize(vmin=0.0, vmax=vmax * 1.15)  # the darkest cell stays readable
    ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto",
              interpolation="nearest")
    return cmap, norm


def _label_cells(
    ax: Axes, grid: np.ndarray, low: np.ndarray | None, high: np.ndarray | None,
    cmap: Colormap, norm: Normalize,
) -> None:
    """Each cell's share in percent (and its interval, where ``low`` and ``high`` are given) in a
    colour that reads on the cell; a cell without a share hatched and labelled "n/a"."""
    from matplotlib.patches import Rectangle

    # Cell labels and hatches lie inside the axes: left out of the layout, whose bounding
    # boxes would otherwise measure each of them (hundreds of texts) at every save.
    n_rows, n_cols = grid.shape
    for i in range(n_rows):
        for j in range(n_cols):
            value = grid[i, j]
            if math.isfinite(value):
                label = pct_label(value)
                if low is not None and np.isfinite(low[i, j]) and np.isfinite(high[i, j]):
                    label += f"\n{100 * low[i, j]:.0f}\u2013{100 * high[i, j]:.0f}"
                ax.text(j, i, label, ha="center", va="center", fontsize=8, linespacing=1.1,
                        color=text_color(cmap(norm(value))), in_layout=False)
            else:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                                       edgecolor=_INSUFFICIENT_HATCH, linewidth=0,
                                       in_layout=False))
                ax.text(j, i, "n/a", ha="center", va="center", fontsize=8, color="#444444",
                        in_layout=False)


def _not_available_legend(ax: Axes) -> None:
    """A legend under the grid saying what a grey hatched cell means."""
    from matplotlib.patches import Patch

    ax.legend(
        handles=[Patch(facecolor=_INSUFFICIENT_FACE, edgecolor=_INSUFFICIENT_HATCH,
                       hatch="///", label="n/a: too few articles")],
        loc="upper left", bbox_to_anchor=(0.0, 0.0), borderaxespad=0.3, fontsize=8,
    )

"""How each narrative's share moves over time: lines on one axes for a few narratives, small
multiples (one panel per narrative) for many.

Same contract as every figure module (see :mod:`narrative.figures`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from narrative.figures.axes import (
    LEGEND_WIDTH,
    as_float,
    check_unique,
    few_ticks,
    new_axes,
    new_figure,
    order_narratives,
    percent,
    require_columns,
    tidy_axes,
)
from narrative.figures.dates import common_date_axis, date_ticks
from narrative.figures.series import (
    common_share_scale,
    draw_share_series,
    thin_legend_handles,
    thin_mask,
)
from narrative.figures.style import (
    FIGURE_WIDTH_IN,
    UNASSIGNED_COLOR,
    is_unassigned,
    narrative_colors,
    narrative_linestyles,
    plain_text,
    style_context,
    wrap_label,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MAX_LINES", "plot_share_over_time"]

#: Most narratives drawn as lines on one axes before ``plot_share_over_time`` switches to panels.
MAX_LINES = 5

#: One narrative's rows of the shares frame, in period order, with its name.
Series = tuple[str, pd.DataFrame]
#: Draws one series on an axes: ``draw(ax, name, rows, legend_label)``.
DrawSeries = Callable[["Axes", str, pd.DataFrame, "str | None"], None]


def plot_share_over_time(
    shares: pd.DataFrame,
    *,
    outlet: str = "all",
    narratives: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    layout: str = "auto",
    title: str | None = None,
) -> Figure:
    """Each narrative's share of ``outlet`` in each period, with interval bands.

    Parameters
    ----------
    shares : DataFrame
        Columns ``period`` (ISO date string or date), ``outlet``, ``narrative``, ``share`` (0–1),
        optionally ``ci_low``/``ci_high`` (NaN where no interval) and ``n_articles``; one row per
        (period, outlet, narrative), as ``narrative drift`` writes ``shares.csv``.
    outlet : str, default="all"
        Which outlet's rows to draw (``"all"``: the whole corpus, as the drift stage labels it).
    narratives : sequence of str, optional
        Narratives to draw, in legend order; default: every narrative of that outlet, largest mean
        share first, unassigned last. Names without rows for the outlet are skipped.
    colors : mapping, optional
        Name -> colour; default :func:`.style.narrative_colors`, the colour each name has
        everywhere.
    ax : Axes, optional
        Draw here instead of on a new figure (always one set of lines).
    layout : {"auto", "lines", "panels"}, default="auto"
        ``"lines"``: one line per narrative on one axes, with a legend; ``"panels"``: small
        multiples, one panel per narrative on a shared y axis (overlapping interval bands of many
        narratives are unreadable on one axes); ``"auto"``: panels when more than
        :data:`MAX_LINES` narratives are drawn and no ``ax`` is given.
    title : str, optional
        The figure's title (default: "Narrative share over time — <outlet>").

    Thin points (``insufficient`` or ``partial`` rows) are drawn hollow, off the solid line and
    without a band (:func:`.series.draw_share_series`), as in every other share figure.
    """
    if layout not in ("auto", "lines", "panels"):
        raise ValueError(f"layout must be 'auto', 'lines' or 'panels'; got {layout!r}")
    rows = _outlet_rows(shares, outlet)
    order = order_narratives(rows, narratives)
    palette = dict(colors) if colors is not None else narrative_colors(order)
    series = [(name, rows[rows["_name"] == name].sort_values("_period")) for name in order]
    series = [(name, sub) for name, sub in series if not sub.empty]
    where = "all outlets" if str(outlet) == "all" else plain_text(outlet, 60)
    title = title or f"Narrative share over time \u2014 {where}"
    panels = layout == "panels" or (layout == "auto" and ax is None and len(series) > MAX_LINES)
    draw = _series_drawer(palette, narrative_linestyles(order, palette), panels=panels,
                          has_ci="ci_low" in rows.columns and "ci_high" in rows.columns)
    any_thin = any(thin_mask(sub).any() for _, sub in series)
    with style_context():
        if panels:
            return _share_panels(series, draw, title, any_thin)
        return _share_lines(ax, series, draw, title, any_thin)


def _outlet_rows(shares: pd.DataFrame, outlet: str) -> pd.DataFrame:
    """The rows of ``outlet``, checked (one per period and narrative, ISO periods), with the
    period as a date (``_period``) and the narrative's name as text (``_name``)."""
    require_columns(shares, ("period", "outlet", "narrative", "share"), "shares")
    rows = shares[shares["outlet"].astype(str) == str(outlet)]
    if rows.empty:
        present = sorted(shares["outlet"].dropna().astype(str).unique())
        raise ValueError(
            f"shares has no rows for outlet {outlet!r}; outlets present: {present[:20]}"
            + (" ..." if len(present) > 20 else "")
        )
    check_unique(rows, ["period", "narrative"], f"shares for outlet {outlet!r}")
    try:
        periods = pd.to_datetime(rows["period"])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"shares.period must hold ISO dates (YYYY-MM-DD); {exc}") from None
    return rows.assign(_period=periods, _name=rows["narrative"].astype(str))


def _series_drawer(
    palette: Mapping[str, str], styles: Mapping[str, str], *, panels: bool, has_ci: bool,
) -> DrawSeries:
    """How one narrative's series is drawn: in its colour, with its band where there are
    intervals; on one axes a line style tells narratives of one colour apart (dotted:
    unassigned), in panels each has its own and the line stays solid."""

    def draw(target: Axes, name: str, sub: pd.DataFrame, label: str | None) -> None:
        color = palette.get(name, UNASSIGNED_COLOR if is_unassigned(name) else "#000000")
        style = "-" if panels else ":" if is_unassigned(name) else styles.get(name, "-")
        draw_share_series(
            target, sub["_period"].to_numpy(), as_float(sub["share"]), thin=thin_mask(sub),
            color=color, linestyle=style,
            low=as_float(sub["ci_low"]) if has_ci else None,
            high=as_float(sub["ci_high"]) if has_ci else None,
            label=label, markers=len(sub) <= 40,
        )

    return draw


def _share_lines(
    ax: Axes | None, series: list[Series], draw: DrawSeries, title: str, any_thin: bool,
) -> Figure:
    """All series as lines on one axes (the caller's, or a new figure's), a legend below."""
    fig, ax = new_axes(ax, (FIGURE_WIDTH_IN, 3.6))
    tidy_axes(ax, "y")
    for name, sub in series:
        draw(ax, name, sub, plain_text(name, LEGEND_WIDTH))
    date_ticks(ax, 8)
    ax.yaxis.set_major_formatter(percent())
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.set_ylabel("Share of paragraphs")
    if series:
        handles, _ = ax.get_legend_handles_labels()
        if any_thin:
            handles += thin_legend_handles()[1:]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.12),
                  ncols=2 if len(handles) > 2 else len(handles), frameon=False)
    return fig


def _share_panels(series: list[Series], draw: DrawSeries, title: str, any_thin: bool) -> Figure:
    """Small multiples: one panel per narrative (its line and band), one scale and one date view
    for all (set once all are drawn: :func:`.dates.common_date_axis`), a grid of 3-4 columns
    sized for the printed page."""
    n = max(len(series), 1)
    ncols = 3 if n <= 12 else 4
    nrows = math.ceil(n / ncols)
    fig = new_figure((FIGURE_WIDTH_IN, 1.1 + 1.45 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, (target, (name, sub)) in enumerate(zip(axes, series)):
        tidy_axes(target, "y")
        draw(target, name, sub, plain_text(name, LEGEND_WIDTH))
        target.set_title(wrap_label(name, 26 if ncols == 3 else 18), fontsize=8.5,
                         fontweight="bold", loc="left")
        target.yaxis.set_major_formatter(percent())
        target.yaxis.set_major_locator(few_ticks(3))
        target.tick_params(labelleft=i % ncols == 0)
    drawn = list(axes[: len(series)])
    common_share_scale(drawn)
    common_date_axis(drawn, 3)
    for target in axes[len(series):]:
        target.set_visible(False)
    for i, target in enumerate(drawn):
        if i + ncols < len(series):
            target.xaxis.get_offset_text().set_visible(False)  # the year once, under the last row
    fig.suptitle(title, x=0.0, ha="left", fontsize=11, fontweight="bold")
    fig.supylabel("Share of paragraphs", fontsize=9)
    if any_thin:
        fig.legend(handles=thin_legend_handles(), loc="outside lower center", ncols=2,
                   frameon=False)
    return fig

"""Figures of narrative shares and sizes: ``plot_*(frame, *, ax=None) -> Figure``.

Every function draws from a tidy frame the drift stage already computed (it only reshapes, never
estimates), builds a :class:`matplotlib.figure.Figure` directly (no pyplot, so no global figure
registry and nothing to close), or draws on the caller's ``ax`` and returns its figure. Names of
outlets and narratives come from the data and are shown literally (see :func:`.style.plain_text`).
"""

from __future__ import annotations

import io
import math
import os
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from narrative.figures.style import (
    FIGURE_HEIGHT_IN,
    FIGURE_WIDTH_IN,
    PRINT_HEIGHT_IN,
    PRINT_WIDTH_IN,
    THIN_MARKER,
    UNASSIGNED_COLOR,
    is_unassigned,
    narrative_colors,
    narrative_linestyles,
    plain_text,
    style_context,
    wrap_label,
)
from narrative.io import atomic_write_bytes, safe_filename

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "draw_share_series",
    "figure_to_png_bytes",
    "plot_share_intervals",
    "figure_to_svg_bytes",
    "plot_narrative_sizes",
    "plot_outlet_heatmap",
    "plot_share_over_time",
    "printed_text_sizes",
    "save_figure",
    "thin_mask",
]

#: Resolution of saved and embedded PNGs.
PNG_DPI = 200
_PAD_IN = 0.1  # white margin around a saved figure (inches)
_LEGEND_WIDTH = 40  # characters of a narrative name kept in legends
_TICK_WIDTH = 32  # ... and in tick labels
_INSUFFICIENT_FACE = "#EEEEEE"
_INSUFFICIENT_HATCH = "#B0B0B0"
_EDGE = "#333333"


# -- helpers ------------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame; got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} is missing column(s) {missing}; it has {list(map(str, frame.columns))}"
        )


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The caller's axes and their root figure, or a fresh Agg-backed figure with one axes."""
    if ax is not None:
        try:
            fig = ax.get_figure(root=True)
        except TypeError:  # matplotlib < 3.10 has no root= and returns the root figure anyway
            fig = ax.get_figure()
        return fig, ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _tidy_axes(ax: Axes, grid_axis: str | None) -> None:
    """Apply the shared look explicitly, so it also holds on axes the caller created."""
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(False)
    if grid_axis:
        ax.grid(True, axis=grid_axis, color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)


def _as_float(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _order_narratives(
    frame: pd.DataFrame, narratives: Sequence[str] | None, value: str = "share"
) -> list[str]:
    """``narratives`` if given, else by mean ``value`` (largest first, then name), unassigned last."""
    if narratives is not None:
        return [str(n) for n in dict.fromkeys(narratives)]
    means = (
        frame.assign(_v=_as_float(frame[value]), _n=frame["narrative"].astype(str))
        .groupby("_n", sort=True)["_v"]
        .mean()
        .fillna(-1.0)
    )
    names = sorted(means.index, key=lambda n: (is_unassigned(n), -means[n], n))
    return [str(n) for n in names]


def _check_unique(frame: pd.DataFrame, keys: list[str], what: str) -> None:
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        example = frame.loc[dup, keys].iloc[0].to_dict()
        raise ValueError(
            f"{what} has {int(dup.sum())} rows sharing {tuple(keys)} (e.g. {example}); pass one row "
            "per combination (filter to one weighting / aggregation first)"
        )


def _text_color(rgba: Sequence[float]) -> str:
    """Black or white, whichever reads better on ``rgba`` (relative luminance, WCAG)."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgba[:3])
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 else "white"


#: Axes whose x view :func:`_date_ticks` set by hand (autoscaling off), so that a later call for an
#: axes sharing that x axis, with more dates drawn, can hand the view back to autoscaling.
_PINNED_VIEWS: weakref.WeakSet = weakref.WeakSet()


def _date_span(axes: Iterable[Axes]) -> tuple[float, float, bool]:
    """The first and last date drawn on ``axes`` (date numbers), and whether those are data limits.

    Where no value is drawn (every share a gap, NaN, which matplotlib leaves out of the data
    limits), the first and last x of the lines instead: the periods the axes stands for. NaN, NaN
    when nothing dated is there at all.
    """
    axes = list(axes)
    lo = min((a.dataLim.intervalx[0] for a in axes), default=np.inf)
    hi = max((a.dataLim.intervalx[1] for a in axes), default=-np.inf)
    if np.isfinite(lo) and np.isfinite(hi) and lo <= hi:
        return float(lo), float(hi), True
    xs = [np.asarray(line.get_xdata(orig=False), dtype=float) for a in axes for line in a.get_lines()]
    xs = np.concatenate(xs) if xs else np.empty(0)
    xs = xs[np.isfinite(xs)]
    if not xs.size:
        return np.nan, np.nan, False
    return float(xs.min()), float(xs.max()), False


def _date_ticks(ax: Axes, maxticks: int) -> None:
    """Concise date ticks on the x axis, chosen from the dates drawn on every axes sharing it.

    Axes that share an x axis share its locator and view limits, so the choice is made over all of
    them (whichever is formatted last, the same choice). Periods are whole days, and where the
    dates drawn are less than 2 days apart matplotlib's :class:`~matplotlib.dates.AutoDateLocator`
    would tick hours (and warn that no hourly interval fits ``maxticks``); instead:

    - all on one day: one labelled tick at that date, the view a week around it;
    - two consecutive days: a tick at each day.

    Where every value is a gap (NaN: nothing in the data limits), the view spans the periods of the
    lines, not matplotlib's default of 1970-01-01 (a 26-hour range: hourly ticks, and the warning).
    """
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, DateFormatter
    from matplotlib.ticker import FixedLocator, NullLocator

    shared = ax.get_shared_x_axes().get_siblings(ax)
    lo, hi, drawn = _date_span(shared)
    if not np.isfinite(lo):  # nothing dated on these axes: no ticks rather than 1970's
        ax.xaxis.set_major_locator(NullLocator())
        return
    if hi - lo < 1.0:
        ax.xaxis.set_major_locator(FixedLocator([lo]))
        ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))
        ax.set_xlim(lo - 3.5, hi + 3.5)
        _PINNED_VIEWS.update(shared)  # set_xlim turned autoscaling off for all of them
        return
    locator = AutoDateLocator(minticks=1 if hi - lo < 2.0 else 2, maxticks=maxticks)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    if not drawn:  # only gaps: the lines' periods, with matplotlib's default margins
        margin = ax.margins()[0] * (hi - lo)
        ax.set_xlim(lo - margin, hi + margin)
        _PINNED_VIEWS.update(shared)
        return
    for other in shared:  # pinned by an earlier call, before the other axes were drawn
        if other in _PINNED_VIEWS:
            _PINNED_VIEWS.discard(other)
            other.autoscale(enable=True, axis="x")


def _common_date_axis(axes: Sequence[Axes], maxticks: int) -> None:
    """One date view and one set of ticks on panels that do not share matplotlib's x axis.

    The view is the one :func:`_date_ticks` gives shared axes (the dates drawn on all of them,
    with the axes' margins), set on each panel, and the ticks are chosen once and fixed on each.
    matplotlib keeps shared axes in step by visiting every sibling whenever one is read, which
    grows with the square of the panel count: seconds for a grid of a hundred panels.
    """
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, DateFormatter
    from matplotlib.ticker import FixedLocator, NullLocator

    axes = list(axes)
    if not axes:
        return
    lo, hi, _ = _date_span(axes)
    if not np.isfinite(lo):  # nothing dated on these axes: no ticks rather than 1970's
        for ax in axes:
            ax.xaxis.set_major_locator(NullLocator())
        return
    first = axes[0]
    if hi - lo < 1.0:  # one day: one labelled tick, the view a week around it
        for ax in axes:
            ax.xaxis.set_major_locator(FixedLocator([lo]))
            ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))
            ax.set_xlim(lo - 3.5, hi + 3.5)
        return
    margin = first.margins()[0] * (hi - lo)
    locator = AutoDateLocator(minticks=1 if hi - lo < 2.0 else 2, maxticks=maxticks)
    first.xaxis.set_major_locator(locator)
    first.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    for ax in axes:
        ax.set_xlim(lo - margin, hi + margin)
    _fix_date_ticks(axes, *_date_ticks_now(first))


def _common_share_scale(axes: Sequence[Axes]) -> None:
    """One y view for ``axes``, from 0 to the highest value (or band) drawn on any of them plus
    matplotlib's margin, as autoscaling shared axes would give; 0 to 1 where nothing is drawn."""
    low = min((ax.dataLim.intervaly[0] for ax in axes), default=np.inf)
    high = max((ax.dataLim.intervaly[1] for ax in axes), default=-np.inf)
    if not (np.isfinite(low) and np.isfinite(high) and high > 0):
        top = 1.0
    else:
        top = high + axes[0].margins()[1] * (high - min(low, 0.0))
    for ax in axes:
        ax.set_ylim(0.0, top)


def _pct_label(value: float) -> str:
    return f"{value:.0%}" if value >= 0.095 else f"{value:.1%}"


def thin_mask(frame: pd.DataFrame) -> np.ndarray:
    """Which rows of a shares frame are thin points: flagged ``insufficient`` (fewer articles than
    ``min_articles``) or ``partial`` (a partly collected first or last period). Every figure
    marks them the same way (:func:`draw_share_series`)."""
    thin = np.zeros(len(frame), dtype=bool)
    for column in ("insufficient", "partial"):
        if column in frame:
            thin |= frame[column].fillna(False).astype(bool).to_numpy()
    return thin


def draw_share_series(
    ax: Axes, x: np.ndarray, y: np.ndarray, *, thin: np.ndarray, color: str,
    low: np.ndarray | None = None, high: np.ndarray | None = None, linestyle: str = "-",
    label: str | None = None, markers: bool = True,
) -> None:
    """One share series as every figure draws it: a solid line with filled points and a 95%
    band over the periods with enough articles, and each thin point (:func:`thin_mask`) hollow,
    off the solid line and without a band, joined to its neighbours by a faint dotted line only.
    A series is never invisible: a lone point gets its marker."""
    x, y = np.asarray(x), np.asarray(y, dtype=float)
    thin = np.asarray(thin, dtype=bool)
    solid = np.where(thin, np.nan, y)
    finite = np.isfinite(y)
    if thin.any() and finite.sum() > 1:
        ax.plot(x[finite], y[finite], color=color, linestyle=":", linewidth=0.9, alpha=0.7,
                zorder=2)
    ok = np.isfinite(solid)
    lone = ok & ~np.r_[False, ok[:-1]] & ~np.r_[ok[1:], False]
    ax.plot(x, solid, color=color, linestyle=linestyle, label=label, zorder=3,
            marker="o" if markers else None, markersize=3.2)
    if not markers and lone.any():
        ax.plot(x[lone], solid[lone], color=color, marker="o", markersize=3.2, linestyle="none",
                zorder=3)
    if thin.any():
        ax.plot(x[thin & finite], y[thin & finite], color=color, zorder=4, **THIN_MARKER)
    if low is not None and high is not None:
        lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
        band = ok & np.isfinite(lo) & np.isfinite(hi)
        if band.any():
            ax.fill_between(x, np.where(band, lo, solid), np.where(band, hi, solid), where=band,
                            color=color, alpha=0.2, linewidth=0, zorder=2)


def thin_legend_handles(color: str = "#444444") -> list:
    """Legend entries for a filled (enough articles) and a hollow (thin) point."""
    from matplotlib.lines import Line2D

    return [
        Line2D([], [], color=color, marker="o", markersize=3.2, label="share, 95% band"),
        Line2D([], [], color=color, label="thin: few articles or partly collected", **THIN_MARKER),
    ]


# -- plots ------------------------------------------------------------------------------------


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
    without a band (:func:`draw_share_series`), as in every other share figure.
    """
    if layout not in ("auto", "lines", "panels"):
        raise ValueError(f"layout must be 'auto', 'lines' or 'panels'; got {layout!r}")
    _require(shares, ("period", "outlet", "narrative", "share"), "shares")
    rows = shares[shares["outlet"].astype(str) == str(outlet)]
    if rows.empty:
        present = sorted(shares["outlet"].dropna().astype(str).unique())
        raise ValueError(
            f"shares has no rows for outlet {outlet!r}; outlets present: {present[:20]}"
            + (" ..." if len(present) > 20 else "")
        )
    _check_unique(rows, ["period", "narrative"], f"shares for outlet {outlet!r}")
    try:
        periods = pd.to_datetime(rows["period"])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"shares.period must hold ISO dates (YYYY-MM-DD); {exc}") from None
    rows = rows.assign(_period=periods, _name=rows["narrative"].astype(str))

    order = _order_narratives(rows, narratives)
    palette = dict(colors) if colors is not None else narrative_colors(order)
    styles = narrative_linestyles(order, palette)
    has_ci = "ci_low" in rows.columns and "ci_high" in rows.columns
    series = [(k, name, rows[rows["_name"] == name].sort_values("_period")) for k, name in enumerate(order)]
    series = [(k, name, sub) for k, name, sub in series if not sub.empty]
    where = "all outlets" if str(outlet) == "all" else plain_text(outlet, 60)
    title = title or f"Narrative share over time \u2014 {where}"
    panels = layout == "panels" or (layout == "auto" and ax is None and len(series) > MAX_LINES)

    def draw(target: Axes, k: int, name: str, sub: pd.DataFrame, label: str | None) -> None:
        color = palette.get(name, UNASSIGNED_COLOR if is_unassigned(name) else "#000000")
        # One panel per narrative needs no line style to tell them apart; one axes does.
        style = "-" if panels else ":" if is_unassigned(name) else styles.get(name, "-")
        draw_share_series(
            target, sub["_period"].to_numpy(), _as_float(sub["share"]), thin=thin_mask(sub),
            color=color, linestyle=style,
            low=_as_float(sub["ci_low"]) if has_ci else None,
            high=_as_float(sub["ci_high"]) if has_ci else None,
            label=label, markers=len(sub) <= 40,
        )

    from matplotlib.ticker import PercentFormatter

    any_thin = any(thin_mask(sub).any() for _, _, sub in series)
    with style_context():
        if panels:
            return _share_panels(series, draw, title, any_thin)
        fig, ax = _new_axes(ax, (FIGURE_WIDTH_IN, 3.6))
        _tidy_axes(ax, "y")
        for k, name, sub in series:
            draw(ax, k, name, sub, plain_text(name, _LEGEND_WIDTH))
        _date_ticks(ax, 8)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
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


#: Most narratives drawn as lines on one axes before ``plot_share_over_time`` switches to panels.
MAX_LINES = 5


def _share_panels(series, draw, title: str, any_thin: bool) -> Figure:
    """Small multiples: one panel per narrative (its line and band), one scale and one date view
    for all (set once all are drawn: :func:`_common_date_axis`), a grid of 3-4 columns sized
    for the printed page."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    n = max(len(series), 1)
    ncols = 3 if n <= 12 else 4
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(FIGURE_WIDTH_IN, 1.1 + 1.45 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, (target, (k, name, sub)) in enumerate(zip(axes, series)):
        _tidy_axes(target, "y")
        draw(target, k, name, sub, plain_text(name, _LEGEND_WIDTH))
        target.set_title(wrap_label(name, 26 if ncols == 3 else 18), fontsize=8.5,
                         fontweight="bold", loc="left")
        target.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        target.yaxis.set_major_locator(_few_ticks(3))
        target.tick_params(labelleft=i % ncols == 0)
    drawn = list(axes[: len(series)])
    _common_share_scale(drawn)
    _common_date_axis(drawn, 3)
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


def _few_ticks(n: int):
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=n, steps=[1, 2, 5, 10], min_n_ticks=2)  # no 2.5% shown as "2%"


#: Most narratives a heatmap shows with each cell's interval under its share.
MAX_INTERVAL_ROWS = 12


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
    _require(shares, ("outlet", "narrative", "share"), "shares")
    if shares.empty:
        raise ValueError("shares is empty: nothing to draw")
    _check_unique(shares, ["outlet", "narrative"], "shares")
    frame = shares.assign(
        outlet=shares["outlet"].astype(str),
        narrative=shares["narrative"].astype(str),
        share=_as_float(shares["share"]),
    )
    rows = _order_narratives(frame, narratives)
    columns = ([str(o) for o in dict.fromkeys(outlets)] if outlets is not None else
               sorted(frame["outlet"].unique(), key=lambda o: (o != "all", o)))

    def grid_of(value: str) -> np.ndarray:
        return (frame.assign(_v=_as_float(frame[value]))
                .pivot(index="narrative", columns="outlet", values="_v")
                .reindex(index=rows, columns=columns).to_numpy(dtype=float))

    grid = grid_of("share")
    with_ci = {"ci_low", "ci_high"} <= set(frame.columns) and len(rows) <= MAX_INTERVAL_ROWS
    low, high = (grid_of("ci_low"), grid_of("ci_high")) if with_ci else (None, None)
    finite = grid[np.isfinite(grid)]
    vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0

    with style_context():
        import matplotlib
        from matplotlib.colors import Normalize
        from matplotlib.patches import Patch, Rectangle

        n_rows, n_cols = grid.shape
        row_h = 0.42 if with_ci else 0.24
        fig, ax = _new_axes(ax, (min(2.6 + 0.62 * n_cols, FIGURE_WIDTH_IN),
                                 min(1.7 + row_h * n_rows, FIGURE_HEIGHT_IN)))
        _tidy_axes(ax, None)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        cmap = matplotlib.colormaps["YlGnBu"].with_extremes(bad=_INSUFFICIENT_FACE)
        norm = Normalize(vmin=0.0, vmax=vmax * 1.15)  # the darkest cell stays readable
        ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto",
                  interpolation="nearest")
        # Cell labels and hatches lie inside the axes: left out of the layout, whose bounding
        # boxes would otherwise measure each of them (hundreds of texts) at every save.
        for i in range(n_rows):
            for j in range(n_cols):
                value = grid[i, j]
                if math.isfinite(value):
                    label = _pct_label(value)
                    if with_ci and np.isfinite(low[i, j]) and np.isfinite(high[i, j]):
                        label += f"\n{100 * low[i, j]:.0f}\u2013{100 * high[i, j]:.0f}"
                    ax.text(j, i, label, ha="center", va="center", fontsize=8, linespacing=1.1,
                            color=_text_color(cmap(norm(value))), in_layout=False)
                else:
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                                           edgecolor=_INSUFFICIENT_HATCH, linewidth=0,
                                           in_layout=False))
                    ax.text(j, i, "n/a", ha="center", va="center", fontsize=8, color="#444444",
                            in_layout=False)
        ax.set_xticks(range(n_cols), labels=[plain_text(c, 24) for c in columns], rotation=35,
                      ha="left", rotation_mode="anchor")
        ax.xaxis.tick_top()
        ax.set_yticks(range(n_rows), labels=[plain_text(r, _TICK_WIDTH) for r in rows])
        ax.tick_params(length=0, labelsize=8)
        ax.set_title(title, pad=6)
        if not np.isfinite(grid).all():
            ax.legend(
                handles=[Patch(facecolor=_INSUFFICIENT_FACE, edgecolor=_INSUFFICIENT_HATCH,
                               hatch="///", label="n/a: too few articles")],
                loc="upper left", bbox_to_anchor=(0.0, 0.0), borderaxespad=0.3, fontsize=8,
            )
    return fig


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
    _require(sizes, ("narrative", "size"), "sizes")
    if sizes.empty:
        raise ValueError("sizes is empty: nothing to draw")
    _check_unique(sizes, ["narrative"], "sizes")
    names = sizes["narrative"].astype(str).tolist()
    values = _as_float(sizes["size"])
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

        fig, ax = _new_axes(ax, (FIGURE_WIDTH_IN, min(max(1.4 + 0.3 * len(names), 2.6), 30.0)))
        _tidy_axes(ax, "x")
        y = np.arange(len(order))
        bars = ax.barh(
            y, values[order], height=0.7, edgecolor=_EDGE, linewidth=0.6, zorder=3,
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
        ax.set_yticks(y, labels=[plain_text(names[i], _LEGEND_WIDTH) for i in order])
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
                    edgecolor=_EDGE, hatch=_KIND_STYLE[k]["hatch"], linewidth=0.6, label=k,
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
    _require(shares, ("narrative", "share"), "shares")
    if shares.empty:
        raise ValueError("shares is empty: nothing to draw")
    _check_unique(shares, ["narrative"], "shares")
    frame = shares.assign(narrative=shares["narrative"].astype(str),
                          _s=_as_float(shares["share"]))
    frame = frame.sort_values(["_s", "narrative"], ascending=[False, True], ignore_index=True)
    names = frame["narrative"].tolist()
    palette = dict(colors) if colors is not None else narrative_colors(names)
    share = frame["_s"].to_numpy()
    low = _as_float(frame["ci_low"]) if "ci_low" in frame else np.full(len(frame), np.nan)
    high = _as_float(frame["ci_high"]) if "ci_high" in frame else np.full(len(frame), np.nan)
    with style_context():
        fig, ax = _new_axes(ax, (FIGURE_WIDTH_IN, 0.75 + 0.27 * len(frame)))
        _tidy_axes(ax, "x")
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
                text = f"{_pct_label(share[i])}  ({_pct_label(low[i])}\u2013{_pct_label(high[i])})"
            else:
                ax.plot([share[i]], [i], color=color, zorder=3, **THIN_MARKER)
                text = f"{_pct_label(share[i])}"
            ax.text(max(share[i], high[i] if has_ci else share[i]) + top * 0.02, i, text,
                    va="center", ha="left", fontsize=8, color="#333333")
        ax.set_yticks(y, labels=[plain_text(n, _LEGEND_WIDTH) for n in names])
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.3)
        ax.xaxis.set_major_formatter(_percent())
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
    return fig


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


# -- output -----------------------------------------------------------------------------------


def freeze_date_ticks(fig: Figure) -> None:
    """Fix every automatic date axis's ticks and labels at the values it shows now.

    :class:`~matplotlib.dates.AutoDateLocator` picks ticks from the date range alone, not from the
    axis length, yet matplotlib runs it again (dateutil rules) at every layout and draw pass: in a
    small-multiples figure that was most of the time spent saving it. Fixed ticks draw the same
    figure once the data limits are final, which they are when it is saved.
    """
    from matplotlib.dates import AutoDateLocator

    for ax in fig.axes:
        if isinstance(ax.xaxis.get_major_locator(), AutoDateLocator):
            _fix_date_ticks([ax], *_date_ticks_now(ax))
        # else: not a date axis, or frozen already (shared axes share one locator)


def _date_ticks_now(ax: Axes) -> tuple[list[float], list[str], str]:
    """The ticks ``ax``'s date locator places in its current view, their labels and offset."""
    axis = ax.xaxis
    ax.get_xlim()  # settle the view limits the locator reads
    with style_context():
        locs = list(axis.get_major_locator()())
        formatter = axis.get_major_formatter()
        labels = list(formatter.format_ticks(locs))
        offset = formatter.get_offset()
    return locs, labels, offset


def _fix_date_ticks(axes: Iterable[Axes], locs: list[float], labels: list[str], offset: str) -> None:
    from matplotlib.ticker import FixedFormatter, FixedLocator

    for ax in axes:
        fixed = FixedFormatter(labels)
        fixed.set_offset_string(offset)
        ax.xaxis.set_major_locator(FixedLocator(locs))
        ax.xaxis.set_major_formatter(fixed)


def printed_text_sizes(
    fig: Figure, *, width_in: float = PRINT_WIDTH_IN, height_in: float = PRINT_HEIGHT_IN,
) -> list[tuple[str, float]]:
    """Each visible text of ``fig`` and its size in points as printed: the saved figure (tight
    bounding box and padding, as :func:`figure_to_png_bytes` saves it) scaled down to fit
    ``width_in`` × ``height_in``, as the PDF report places it (never scaled up)."""
    from matplotlib.text import Text

    freeze_date_ticks(fig)
    with style_context():
        fig.canvas.draw()
        box = fig.get_tightbbox(fig.canvas.get_renderer())
    width, height = box.width + 2 * _PAD_IN, box.height + 2 * _PAD_IN
    scale = min(1.0, width_in / width, height_in / height)
    out = []
    for text in fig.findobj(Text):
        axes = text.axes
        shown = text.get_visible() and (axes is None or axes.get_visible())
        if shown and text.get_text().strip():
            out.append((text.get_text(), float(text.get_fontsize()) * scale))
    return out


def figure_to_png_bytes(fig: Figure, dpi: int = PNG_DPI) -> bytes:
    """The figure as PNG bytes (tight bounding box, white background), e.g. to inline in HTML.

    The PNG is opaque RGB, not matplotlib's RGBA: a PDF can then hold its image data unchanged
    (see :mod:`narrative.report.pdf_images`), and the file is smaller.
    """
    from PIL import Image, PngImagePlugin

    freeze_date_ticks(fig)
    buffer = io.BytesIO()
    with style_context():
        # Decoded again at once: the fastest compression (the pixels are the same).
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=_PAD_IN,
                    pil_kwargs={"compress_level": 1})
    buffer.seek(0)
    with Image.open(buffer) as image:
        rgba = image.convert("RGBA")
        text = {k: v for k, v in image.info.items() if isinstance(v, str)}
        dpi_info = image.info.get("dpi")
    opaque = Image.new("RGB", rgba.size, "white")
    opaque.paste(rgba, mask=rgba.getchannel("A"))
    meta = PngImagePlugin.PngInfo()
    for key, value in text.items():  # matplotlib's Software entry
        meta.add_text(key, value)
    out = io.BytesIO()
    opaque.save(out, format="png", pnginfo=meta, **({"dpi": dpi_info} if dpi_info else {}))
    return out.getvalue()


def figure_to_svg_bytes(fig: Figure) -> bytes:
    """The figure as SVG bytes, reproducible: fixed ``svg.hashsalt`` and no date metadata."""
    freeze_date_ticks(fig)
    buffer = io.BytesIO()
    with style_context():
        fig.savefig(
            buffer, format="svg", bbox_inches="tight", pad_inches=_PAD_IN, metadata={"Date": None},
        )
    return buffer.getvalue()


def save_figure(
    fig: Figure, out_dir: str | os.PathLike[str], name: str, *, dpi: int = PNG_DPI
) -> dict[str, Path]:
    """Write ``<slug>.png`` and ``<slug>.svg`` into ``out_dir`` atomically; same figure, same bytes.

    The file stem is :func:`narrative.io.safe_filename` of ``name``, so any name is safe and the same
    name always gives the same files. Returns ``{"png": path, "svg": path}``.
    """
    stem = safe_filename(name)
    folder = Path(out_dir)
    return {
        "png": atomic_write_bytes(folder / f"{stem}.png", figure_to_png_bytes(fig, dpi=dpi)),
        "svg": atomic_write_bytes(folder / f"{stem}.svg", figure_to_svg_bytes(fig)),
    }

"""Figures of change: divergence with change points, emerging/fading narratives, outlet small
multiples and syndication.

Same contract as every figure module: each ``plot_*`` reshapes a tidy frame the drift stage already
computed, builds a :class:`~matplotlib.figure.Figure` without pyplot and shows names literally.
Empty input (no change points, no copies, nothing emerging) gives a figure that says so, not an
error, so a report can always show the view.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from narrative.figures.axes import (
    TICK_WIDTH,
    as_float,
    few_ticks,
    new_axes,
    new_figure,
    require_columns,
    text_color,
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
    FIGURE_HEIGHT_IN,
    FIGURE_WIDTH_IN,
    UNASSIGNED_COLOR,
    is_unassigned,
    narrative_colors,
    percent_formatter,
    plain_text,
    style_context,
    wrap_label,
)
from narrative.frames import isin

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MAX_PANELS",
    "plot_divergence",
    "plot_emerging",
    "plot_outlet_small_multiples",
    "plot_syndication",
    "syndication_counts",
]

#: Most outlets drawn as panels (the largest by articles, ``all`` first); more are unreadable.
MAX_PANELS = 12
_MAX_ROWS = 30  # most rows of the emerging/fading chart (largest changes first)
_MUTED = "#555555"


def _empty(fig: Figure, ax: Axes, title: str, message: str) -> Figure:
    """An axes without data that says why: the report keeps its layout and the reader is told."""
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", color=_MUTED, transform=ax.transAxes,
            wrap=True)
    return fig


def _outlet_order(frame: pd.DataFrame, limit: int) -> list[str]:
    """``all`` first, then outlets by articles (most first, then name), at most ``limit``."""
    weight = (
        frame.assign(_n=as_float(frame["n_articles"]) if "n_articles" in frame else 1.0)
        .groupby(frame["outlet"].astype(str))["_n"].sum()
    )
    names = sorted(weight.index, key=lambda o: (o != "all", -weight[o], o))
    return names[:limit]


def _dates(values: pd.Series, what: str) -> pd.Series:
    try:
        return pd.to_datetime(values)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what} must hold ISO dates (YYYY-MM-DD); {exc}") from None


# -- divergence ---------------------------------------------------------------------------------


def plot_divergence(
    divergence: pd.DataFrame,
    changepoints: pd.DataFrame | None = None,
    *,
    colors: Mapping[str, str] | None = None,
    max_panels: int = MAX_PANELS,
) -> Figure:
    """How far each outlet's narrative mix moved, one panel per outlet, change points marked.

    Parameters
    ----------
    divergence : DataFrame
        Columns ``period``, ``outlet``, ``js_baseline`` and optionally ``js_previous`` (Jensen–Shannon
        divergence from the baseline mix and from the previous period), as ``drift_tables`` writes.
    changepoints : DataFrame, optional
        Columns ``narrative``, ``outlet``, ``period``, ``direction``: each change is a vertical line
        in its outlet's panel, in the narrative's colour, with ▲ (up) or ▼ (down) at the top.
    colors : mapping, optional
        Narrative -> colour; default :func:`.style.narrative_colors` over the changed narratives.
    max_panels : int
        Most outlets shown (``all`` first, then the largest).
    """
    require_columns(divergence, ("period", "outlet", "js_baseline"), "divergence")
    changes = changepoints if changepoints is not None else pd.DataFrame(
        columns=["narrative", "outlet", "period", "direction"]
    )
    require_columns(changes, ("narrative", "outlet", "period", "direction"), "changepoints")
    title = "Divergence of the narrative mix, with change points"
    with style_context():
        if divergence.empty:
            fig, ax = new_axes(None, (FIGURE_WIDTH_IN, 2.2))
            return _empty(fig, ax, title, "No divergence measured (too few periods).")
        frame = divergence.assign(
            outlet=divergence["outlet"].astype(str),
            at=_dates(divergence["period"], "divergence.period"),
        )
        outlets = _outlet_order(frame, max_panels)
        changes = changes.assign(
            outlet=changes["outlet"].astype(str), narrative=changes["narrative"].astype(str),
            at=_dates(changes["period"], "changepoints.period"),
        )
        names = list(dict.fromkeys(changes["narrative"]))
        palette = dict(colors) if colors is not None else narrative_colors(sorted(names))
        ncols = 1 if len(outlets) == 1 else 2 if len(outlets) <= 4 else 3
        nrows = math.ceil(len(outlets) / ncols)
        fig = new_figure((FIGURE_WIDTH_IN, min(1.3 + 1.6 * nrows, FIGURE_HEIGHT_IN)))
        axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
        ymax = _divergence_top(frame)
        used: dict[str, str] = {}
        for ax, outlet in zip(axes, outlets):
            sub = frame[frame["outlet"] == outlet].sort_values("at")
            marked = _divergence_panel(ax, outlet, sub, changes[changes["outlet"] == outlet],
                                       palette, ymax)
            for name, color in marked.items():
                used.setdefault(name, color)
        for ax in axes[len(outlets):]:
            ax.set_visible(False)
        handles = _divergence_legend(any_thin=bool(thin_mask(frame).any()), changes=used)
        fig.legend(handles=handles, loc="outside lower center",
                   ncols=min(len(handles), 3), frameon=False)
        fig.suptitle(title, x=0.0, ha="left", fontsize=11, fontweight="bold")
        fig.supylabel("JS divergence", fontsize=9)
    return fig


def _divergence_top(frame: pd.DataFrame) -> float:
    """The top of every panel's y axis: the largest divergence drawn, with room above it for
    the change markers."""
    ymax = float(np.nanmax(as_float(frame["js_baseline"]))) if len(frame) else 0.0
    if "js_previous" in frame:
        ymax = max(ymax, float(np.nanmax(np.r_[as_float(frame["js_previous"]), 0.0])))
    return ymax * 1.2 if ymax > 0 else 0.1


def _divergence_panel(
    ax: Axes, outlet: str, sub: pd.DataFrame, changes: pd.DataFrame,
    palette: Mapping[str, str], ymax: float,
) -> dict[str, str]:
    """One outlet's panel: divergence from the baseline (thin periods hollow, as in the share
    figures) and from the previous period, and its change points. Returns the colour of each
    narrative whose change it marked, for the legend."""
    tidy_axes(ax, "y")
    draw_share_series(ax, sub["at"].to_numpy(), as_float(sub["js_baseline"]),
                      thin=thin_mask(sub), color="#222222", markers=len(sub) <= 40)
    if "js_previous" in sub:
        ax.plot(sub["at"], as_float(sub["js_previous"]), color="#888888",
                linestyle="--", linewidth=1.1, label="from previous period", zorder=3)
    marked = _mark_changes(ax, changes, palette, ymax)
    where = "all outlets" if outlet == "all" else plain_text(outlet, TICK_WIDTH)
    ax.set_title(where, fontsize=9, loc="left")
    ax.set_ylim(0, ymax)
    date_ticks(ax, 4)
    ax.tick_params(labelbottom=True)
    return marked


def _mark_changes(
    ax: Axes, changes: pd.DataFrame, palette: Mapping[str, str], ymax: float,
) -> dict[str, str]:
    """Each change point as a vertical line in its narrative's colour with ▲ (up) or ▼ (down)
    at the top; returns the colour of each narrative marked."""
    marked: dict[str, str] = {}
    for cp in changes.itertuples():
        color = palette.get(cp.narrative, UNASSIGNED_COLOR if is_unassigned(cp.narrative)
                            else "#000000")
        ax.axvline(cp.at, color=color, linewidth=1.6, alpha=0.9, zorder=2)
        ax.plot([cp.at], [ymax * 0.95], linestyle="none", color=color, markersize=7,
                marker="^" if str(cp.direction) == "up" else "v", zorder=4)
        marked.setdefault(cp.narrative, color)
    return marked


def _divergence_legend(*, any_thin: bool, changes: Mapping[str, str]) -> list:
    """Legend entries: the two divergences, a thin point where there is one, and each narrative
    whose change is marked."""
    from matplotlib.lines import Line2D

    return [
        Line2D([], [], color="#222222", marker="o", label="JS divergence from baseline"),
        Line2D([], [], color="#888888", linestyle="--", label="from previous period"),
    ] + (thin_legend_handles()[1:] if any_thin else []) + [
        Line2D([], [], color=c, linewidth=1.6, label=f"change: {plain_text(n, 30)}")
        for n, c in changes.items()
    ]


# -- emerging and fading ------------------------------------------------------------------------

_STATUS_MARK = {"emerging": "\u25b2", "fading": "\u25bc", "new": "\u2605"}


def plot_emerging(
    emerging: pd.DataFrame,
    *,
    colors: Mapping[str, str] | None = None,
    max_rows: int = _MAX_ROWS,
) -> Figure:
    """Emerging, fading and new narratives: baseline share → share during the run, per outlet.

    Parameters
    ----------
    emerging : DataFrame
        Columns ``narrative``, ``outlet``, ``status`` (emerging / fading / new), ``period``,
        ``end_period``, ``baseline_share``, ``share``, as ``drift_tables`` writes them. Each row is
        an arrow from the baseline share (open circle) to the mean share of the run (filled), in
        the narrative's colour, labelled with outlet, status and the run's periods.
    colors : mapping, optional
        Narrative -> colour; default :func:`.style.narrative_colors` over the narratives present.
    max_rows : int
        Most rows drawn, largest change first.
    """
    require_columns(emerging, ("narrative", "outlet", "status", "period", "baseline_share", "share"),
             "emerging")
    title = "Emerging and fading narratives"
    with style_context():
        if emerging.empty:
            fig, ax = new_axes(None, (FIGURE_WIDTH_IN, 2.0))
            return _empty(fig, ax, title,
                          "No narrative rose or fell beyond its baseline interval.")
        frame = emerging.assign(
            base_value=as_float(emerging["baseline_share"]), share_value=as_float(emerging["share"]),
            narrative=emerging["narrative"].astype(str), outlet=emerging["outlet"].astype(str),
        )
        frame = frame.assign(change_size=(frame["share_value"] - frame["base_value"]).abs())
        frame = frame.sort_values(["change_size", "narrative", "outlet"], ascending=[False, True, True])
        frame = frame.head(max_rows).reset_index(drop=True)
        palette = dict(colors) if colors is not None else narrative_colors(
            sorted(frame["narrative"].unique())
        )
        fig, ax = new_axes(None, (FIGURE_WIDTH_IN,
                                   min(1.4 + 0.4 * len(frame), FIGURE_HEIGHT_IN)))
        tidy_axes(ax, "x")
        labels = []
        for y, r in enumerate(frame.itertuples()):
            color = palette.get(r.narrative, UNASSIGNED_COLOR if is_unassigned(r.narrative)
                                else "#000000")
            ax.annotate(
                "", xy=(r.share_value, y), xytext=(r.base_value, y),
                arrowprops={"arrowstyle": "-|>", "color": color, "linewidth": 1.8,
                            "shrinkA": 4, "shrinkB": 4},
            )
            ax.plot([r.base_value], [y], marker="o", markerfacecolor="white", markeredgecolor=color,
                    markersize=6, linestyle="none", zorder=3)
            ax.plot([r.share_value], [y], marker="o", color=color, markersize=6, linestyle="none",
                    zorder=3)
            status = str(r.status)
            end = getattr(r, "end_period", None)
            when = f"{r.period}" + (f" \u2013 {end}" if isinstance(end, str) and end else "")
            where = "all outlets" if r.outlet == "all" else plain_text(r.outlet, 24)
            # the status on a second line of the label: never over an arrow, inside the figure
            labels.append(f"{plain_text(r.narrative, 28)} \u2014 {where}\n"
                          f"{_STATUS_MARK.get(status, '')} {status}, {when}")
        ax.set_yticks(range(len(frame)), labels=labels)
        ax.invert_yaxis()
        ax.tick_params(axis="y", length=0)
        high = float(np.nanmax(np.r_[frame["share_value"], frame["base_value"]]))
        ax.set_xlim(0, max(high, 0.01) * 1.15)
        ax.xaxis.set_major_locator(few_ticks(6))
        ax.xaxis.set_major_formatter(percent_formatter())
        ax.set_xlabel("Share: baseline (open) \u2192 during the run (filled)")
        ax.set_title(title)
    return fig


# -- small multiples ------------------------------------------------------------------------------


def plot_outlet_small_multiples(
    shares: pd.DataFrame,
    *,
    narratives: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    outlets: Sequence[str] | None = None,
    max_outlets: int = 4,
    max_narratives: int = 8,
    include_all: bool = False,
    title: str | None = None,
) -> Figure:
    """A grid of small panels: one row per narrative, one column per outlet, share over time.

    Each panel is the narrative's series in that outlet, drawn as every share figure draws it
    (:func:`.series.draw_share_series`: thin points hollow, bands where there are enough
    articles), on a y axis shared by its row; sized for the printed page, so a report shows many
    outlets as several such figures (pass ``outlets`` for each page).

    Parameters
    ----------
    shares : DataFrame
        Columns ``period``, ``outlet``, ``narrative``, ``share``, optionally ``ci_low``,
        ``ci_high``, ``n_articles``, ``insufficient``, ``partial``: the drift ``shares`` table.
        Rows of outlet ``all`` are skipped unless ``include_all`` (then it is the first column).
    narratives : sequence of str, optional
        Rows in this order (default: by mean share); unassigned is never drawn.
    colors : mapping, optional
        Narrative -> colour; default :func:`.style.narrative_colors`.
    outlets : sequence of str, optional
        Columns in this order; default: the ``max_outlets`` largest by articles.
    max_outlets, max_narratives : int
        Most columns and rows kept.
    include_all : bool, default=False
        Add the whole corpus (outlet ``all``) as the first column, e.g. for one narrative's row.
    title : str, optional
        The figure's title (default "Narrative share by outlet").
    """
    require_columns(shares, ("period", "outlet", "narrative", "share"), "shares")
    title = title or "Narrative share by outlet"
    frame = shares if include_all else shares[shares["outlet"].astype(str) != "all"]
    with style_context():
        if frame.empty:
            fig, ax = new_axes(None, (FIGURE_WIDTH_IN, 2.0))
            return _empty(fig, ax, title, "No shares to draw.")
        frame = frame.assign(
            outlet=frame["outlet"].astype(str), narrative=frame["narrative"].astype(str),
            at=_dates(frame["period"], "shares.period"), share_value=as_float(frame["share"]),
        )
        outlets = _panel_outlets(frame, outlets, max_outlets + int(include_all))
        order = (_by_mean_share(frame) if narratives is None
                 else [str(n) for n in dict.fromkeys(narratives)])
        palette = dict(colors) if colors is not None else narrative_colors(order)
        rows = [n for n in order if not is_unassigned(n) and (frame["narrative"] == n).any()]
        rows = rows[:max_narratives]
        if not rows or not outlets:
            fig, ax = new_axes(None, (FIGURE_WIDTH_IN, 2.0))
            return _empty(fig, ax, title, "No narrative has shares by outlet.")
        single = len(rows) == 1
        nrows, ncols, cells = _panel_cells(rows, outlets)
        fig = new_figure((FIGURE_WIDTH_IN, 1.0 + (1.3 if single else 0.8) * nrows))
        axes = fig.subplots(nrows, ncols, squeeze=False)
        has_ci = "ci_low" in frame and "ci_high" in frame
        any_thin = False
        for cell in cells:
            i, j, name, outlet = cell
            sub = frame[(frame["narrative"] == name) & (frame["outlet"] == outlet)]
            any_thin |= _outlet_panel(axes[i, j], sub.sort_values("at"),
                                      palette.get(name, "#000000"), has_ci=has_ci)
            _name_panel(axes[i, j], cell, single)
        _align_panels(axes, cells, single)
        if single:
            title = f"{plain_text(rows[0], 60)}: share by outlet"
        fig.suptitle(title, x=0.0, ha="left", fontsize=11, fontweight="bold")
        if any_thin:
            fig.legend(handles=thin_legend_handles(), loc="outside lower center", ncols=2,
                       frameon=False)
    return fig


def _panel_outlets(frame: pd.DataFrame, outlets: Sequence[str] | None, limit: int) -> list[str]:
    """``outlets`` that have shares, in the given order; default the ``limit`` largest."""
    if outlets is None:
        outlets = _outlet_order(frame, limit)
    return [str(o) for o in dict.fromkeys(outlets) if (frame["outlet"] == str(o)).any()]


def _by_mean_share(frame: pd.DataFrame) -> list[str]:
    """Narratives by mean share, largest first, then by name."""
    means = frame.groupby("narrative")["share_value"].mean().fillna(-1.0)
    return sorted(means.index, key=lambda n: (-means[n], n))


#: A panel of the small multiples: its row and column in the grid, narrative and outlet.
Cell = tuple[int, int, str, str]


def _panel_cells(rows: list[str], outlets: list[str]) -> tuple[int, int, list[Cell]]:
    """The grid's rows, columns and cells. One narrative: its outlets wrap onto rows of 4
    panels, each titled. Several: one row per narrative (named on the left), one column per
    outlet (named on top)."""
    if len(rows) == 1:
        ncols = min(len(outlets), 4)
        cells = [(k // ncols, k % ncols, rows[0], outlet) for k, outlet in enumerate(outlets)]
        return math.ceil(len(outlets) / ncols), ncols, cells
    cells = [(i, j, name, outlet) for i, name in enumerate(rows) for j, outlet in enumerate(outlets)]
    return len(rows), len(outlets), cells


def _outlet_panel(ax: Axes, sub: pd.DataFrame, color: str, *, has_ci: bool) -> bool:
    """One narrative's series in one outlet, as every share figure draws it, on a small y axis;
    returns whether it has a thin point (for the legend)."""
    tidy_axes(ax, "y")
    thin = thin_mask(sub)
    draw_share_series(
        ax, sub["at"].to_numpy(), sub["share_value"].to_numpy(), thin=thin, color=color,
        low=as_float(sub["ci_low"]) if has_ci else None,
        high=as_float(sub["ci_high"]) if has_ci else None, markers=len(sub) <= 20,
    )
    ax.yaxis.set_major_locator(few_ticks(2))
    ax.yaxis.set_major_formatter(percent_formatter())
    return bool(thin.any())


def _name_panel(ax: Axes, cell: Cell, single: bool) -> None:
    """Share labels on the first column only; the outlet over each panel of one narrative's
    grid, else over the first row; the narrative left of each row of a grid of several."""
    i, j, name, outlet = cell
    ax.tick_params(labelsize=8, labelleft=j == 0)
    if single or i == 0:
        where = "all outlets" if outlet == "all" else outlet
        ax.set_title(wrap_label(where, 16), fontsize=8.5, loc="center", fontweight="bold")
    if j == 0 and not single:  # horizontal row label, dark (a pale colour would not read)
        ax.set_ylabel(wrap_label(name, 14), fontsize=8, color="#222222",
                      fontweight="bold", rotation=0, ha="right", va="center", labelpad=4)


def _align_panels(axes: np.ndarray, cells: list[Cell], single: bool) -> None:
    """Once the data is drawn: one y scale per row (per figure for a single narrative), one date
    view for all panels (see :func:`.dates.common_date_axis` on why not matplotlib's shared
    axes), dates only under each column's last panel, and unused grid places hidden."""
    drawn = [axes[i, j] for i, j, _, _ in cells]
    for group in ([drawn] if single else [list(row) for row in axes]):
        common_share_scale(group)
    common_date_axis(drawn, 3)
    occupied = {(i, j) for i, j, _, _ in cells}
    for i, j in occupied:
        if (i + 1, j) in occupied:
            axes[i, j].tick_params(labelbottom=False)
            axes[i, j].xaxis.get_offset_text().set_visible(False)
    for ax in axes.ravel()[len(cells):]:
        ax.set_visible(False)


# -- syndication ----------------------------------------------------------------------------------


def syndication_counts(articles: pd.DataFrame) -> pd.DataFrame:
    """Copies per (copy outlet, original outlet) from ``articles`` (``duplicate_of`` set = a copy).

    ``articles`` has ``article_id``, ``outlet``, ``duplicate_of`` (the article id of the first
    copy, or missing). Columns out: copy_outlet, original_outlet, n_copies; largest first. Missing
    outlets read ``(unknown outlet)``; a copy whose original is not in ``articles`` is skipped.
    """
    require_columns(articles, ("article_id", "outlet", "duplicate_of"), "articles")
    cols = ["copy_outlet", "original_outlet", "n_copies"]
    outlet = articles.set_index("article_id")["outlet"].fillna("(unknown outlet)").astype(str)
    outlet = outlet[~outlet.index.duplicated()]
    copies = articles[articles["duplicate_of"].notna()]
    copies = copies[isin(copies["duplicate_of"], outlet.index)]
    if copies.empty:
        return pd.DataFrame(columns=cols)
    pairs = pd.DataFrame({
        "copy_outlet": copies["outlet"].fillna("(unknown outlet)").astype(str).to_numpy(),
        "original_outlet": outlet.loc[copies["duplicate_of"]].to_numpy(),
    })
    out = pairs.groupby(["copy_outlet", "original_outlet"]).size().rename("n_copies").reset_index()
    out = out.sort_values(["n_copies", "copy_outlet", "original_outlet"],
                          ascending=[False, True, True], ignore_index=True)
    return out[cols]


def plot_syndication(
    counts: pd.DataFrame, *, outlets: Sequence[str] | None = None, max_outlets: int = 20
) -> Figure:
    """Which outlets carry copies of which: copy outlet (rows) × original outlet (columns).

    Parameters
    ----------
    counts : DataFrame
        Columns ``copy_outlet``, ``original_outlet``, ``n_copies`` (:func:`syndication_counts`).
        Cells are labelled with their count; the diagonal is an outlet repeating itself.
    outlets : sequence of str, optional
        Every outlet of the corpus, in order: then rows and columns are all of them (a square
        grid, so outlets that copy nothing show as empty rows); default: only outlets in ``counts``.
    max_outlets : int
        Most rows and columns kept (outlets with the most copies first).
    """
    require_columns(counts, ("copy_outlet", "original_outlet", "n_copies"), "counts")
    title = "Syndication: copies by outlet"
    with style_context():
        if counts.empty:
            fig, ax = new_axes(None, (FIGURE_WIDTH_IN, 2.0))
            return _empty(fig, ax, title, "No article is a copy of another.")
        frame = counts.assign(
            copy_outlet=counts["copy_outlet"].astype(str),
            original_outlet=counts["original_outlet"].astype(str),
            n_copies=as_float(counts["n_copies"]),
        )
        frame = frame.groupby(["copy_outlet", "original_outlet"], as_index=False)["n_copies"].sum()
        by_copy = frame.groupby("copy_outlet")["n_copies"].sum()
        by_original = frame.groupby("original_outlet")["n_copies"].sum()
        if outlets is not None:
            involved = by_copy.add(by_original, fill_value=0.0)
            names = list(dict.fromkeys([*map(str, outlets), *involved.index]))
            if len(names) > max_outlets:  # keep the outlets with the most copies, in given order
                rank = sorted(range(len(names)), key=lambda i: (-involved.get(names[i], 0.0), i))
                names = [names[i] for i in sorted(rank[:max_outlets])]
            rows = cols = names
        else:
            rows = sorted(by_copy.index, key=lambda o: (-by_copy[o], o))[:max_outlets]
            cols = sorted(by_original.index, key=lambda o: (-by_original[o], o))[:max_outlets]
        grid = (
            frame.pivot(index="copy_outlet", columns="original_outlet", values="n_copies")
            .reindex(index=rows, columns=cols).fillna(0.0).to_numpy(dtype=float)
        )
        import matplotlib
        from matplotlib.colors import Normalize

        n_rows, n_cols = grid.shape
        fig, ax = new_axes(None, (min(max(3.2 + 0.55 * n_cols, 5.0), FIGURE_WIDTH_IN),
                                   min(2.4 + 0.3 * n_rows, FIGURE_HEIGHT_IN)))
        tidy_axes(ax, None)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        cmap = matplotlib.colormaps["Purples"]
        norm = Normalize(vmin=0.0, vmax=max(float(grid.max()), 1.0))
        image = ax.imshow(np.where(grid > 0, grid, np.nan), cmap=cmap.with_extremes(bad="white"),
                          norm=norm, aspect="auto", interpolation="nearest")
        for i in range(n_rows):
            for j in range(n_cols):
                value = grid[i, j]
                if value > 0:
                    ax.text(j, i, f"{int(value):,}", ha="center", va="center", fontsize=8,
                            color=text_color(cmap(norm(value))))
        ax.set_xticks(range(n_cols), labels=[plain_text(c, TICK_WIDTH) for c in cols],
                      rotation=35, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(n_rows), labels=[plain_text(r, TICK_WIDTH) for r in rows])
        ax.set_xticks(np.arange(-0.5, n_cols), minor=True)
        ax.set_yticks(np.arange(-0.5, n_rows), minor=True)
        ax.grid(True, which="minor", color="#DDDDDD", linewidth=0.6)
        ax.tick_params(length=0, which="both")
        ax.set_xlabel("Outlet of the original (first) copy")
        ax.set_ylabel("Outlet carrying the copy")
        ax.set_title(title)
        from matplotlib.ticker import MaxNLocator

        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02,
                           ticks=MaxNLocator(nbins=5, integer=True))
        bar.outline.set_visible(False)
        bar.set_label("Copied articles")
    return fig


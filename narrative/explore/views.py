"""Interactive plotly views of the drift tables, for notebooks: the explorer's charts, inline.

:func:`share_over_time` and :func:`outlet_heatmap` draw what ``explorer.html`` draws: hovering
shows each share with its 95% interval and the articles behind it, and each narrative has the
colour :func:`narrative.figures.narrative_colors` gives it in the report and the explorer. They
return a ``plotly.graph_objects.Figure``: a notebook shows it by ending a cell with it.

Names come from the articles (outlets, discovered narratives' terms), and plotly reads a few tags
(``<b>``, ``<a href>`` ...) in labels and hover text: every name is escaped so that it shows as
written. A click on a chart does not reach the Python kernel (that would take widgets); the
paragraphs behind a point come from :func:`narrative.paragraphs` with the same narrative, outlet
and period.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InputError
from ..figures.style import narrative_colors
from ..schema import UNASSIGNED

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from ..drift import DriftFrames

__all__ = ["outlet_heatmap", "share_over_time"]

#: Sequential blues of the explorer's outlet × narrative view (light = small share).
HEATMAP_COLORSCALE = [[0.0, "#f7fbff"], [0.5, "#6baed6"], [1.0, "#08306b"]]
#: Legend and row labels longer than this end with an ellipsis (hover shows the whole name).
LABEL_CHARS = 40
#: Up to this many outlets, the heatmap's column labels stand level on two lines.
WRAP_OUTLETS = 8
_FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 12, "color": "#1d1d1f"}
_PERIOD_WORDS = {"day": "day", "week": "week", "month": "month"}


def share_over_time(
    drift: DriftFrames | pd.DataFrame,
    outlet: str = "all",
    *,
    narratives: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    codebook: Iterable[str] | None = None,
    intervals: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Each narrative's share of ``outlet`` period by period, one line per narrative.

    Parameters
    ----------
    drift : DriftFrames or DataFrame
        :func:`narrative.compute_drift`'s result, or its ``shares`` table (as ``shares.csv``).
    outlet : str, default="all"
        The outlet whose shares are drawn; ``"all"``: every outlet pooled.
    narratives : sequence of str, optional
        Narratives to draw, in legend order; default: the run's report order (largest first,
        unassigned last).
    colors : mapping, optional
        Name -> colour; default :func:`narrative.figures.narrative_colors` of the names.
    codebook : iterable of str or Codebook, optional
        The codebook whose names take the first colours (as the report's); default: the shipped
        one.
    intervals : bool, default=False
        Draw each share's 95% interval as an error bar (hover always shows it); clearest with a
        few ``narratives``.
    title : str, optional
        Figure title; default names the outlet.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per narrative (``meta["narrative"]`` holds its name) with hover text giving the
        share, its interval and the articles. Periods with too few articles for an interval
        (``insufficient``) are left off the line and drawn as hollow markers in a second trace
        of the narrative (``meta["thin"]`` true), as the report draws them.
    """
    import plotly.graph_objects as go

    shares = _table(drift, "shares")
    rows = shares[shares["outlet"].astype(str) == str(outlet)]
    if rows.empty:
        raise InputError(f"no shares for outlet {outlet!r}; outlets: {_listing(shares['outlet'])}")
    order = _order(drift, rows, narratives)
    palette = dict(colors) if colors is not None else narrative_colors(order, codebook)
    word = _period_word(drift)
    fig = go.Figure()
    for name in order:
        series = rows[rows["narrative"].astype(str) == name].sort_values("period")
        if series.empty:
            continue
        for trace in _share_traces(series, name, palette.get(name, "#555555"), word, intervals):
            fig.add_trace(trace)
    periods = sorted(pd.to_datetime(rows["period"]).unique())
    fig.update_layout(
        title={"text": _escape(title or f"Share of each narrative: {_outlet_name(outlet)}")},
        font=_FONT, template="simple_white", hovermode="closest", height=460,
        margin={"l": 60, "r": 10, "t": 50, "b": 40},
        xaxis=_period_axis(periods, word),
        yaxis={"title": {"text": "share of paragraphs"}, "tickformat": ".0%", "rangemode": "tozero",
               "showgrid": True, "gridcolor": "#dddddd"},
        legend={"font": {"size": 11}, "traceorder": "normal"},
    )
    return fig


def outlet_heatmap(
    drift: DriftFrames | pd.DataFrame,
    *,
    narratives: Sequence[str] | None = None,
    outlets: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    codebook: Iterable[str] | None = None,
    title: str = "Share of each narrative by outlet",
) -> go.Figure:
    """Narrative × outlet grid of shares over the whole period, each cell labelled in percent.

    Parameters
    ----------
    drift : DriftFrames or DataFrame
        :func:`narrative.compute_drift`'s result, or its ``outlet_shares`` table.
    narratives : sequence of str, optional
        Rows, top to bottom; default: the run's report order.
    outlets : sequence of str, optional
        Columns, left to right; default: every outlet by name (``all`` first where present).
    colors, codebook
        As :func:`share_over_time`: each row label starts with a square of the narrative's colour.
    title : str
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap trace: ``z`` the shares (None where too few articles), hover text the outlet,
        narrative, share with its 95% interval and the outlet's articles.
    """
    import plotly.graph_objects as go

    table = _table(drift, "outlet_shares")
    if table.empty:
        raise InputError("no outlet shares to draw: the run has no dated articles with an outlet")
    order = _order(drift, table, narratives)
    columns = list(outlets) if outlets is not None else _outlet_order(table["outlet"])
    palette = dict(colors) if colors is not None else narrative_colors(order, codebook)
    cells = {(str(r.narrative), str(r.outlet)): r for r in table.itertuples(index=False)}
    z, hover = [], []
    for name in order:
        z.append([_number(getattr(cells.get((name, o)), "share", None)) for o in columns])
        hover.append([_cell_hover(name, o, cells.get((name, o))) for o in columns])
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(len(columns))), y=list(range(len(order))), text=hover,
        hovertemplate="%{text}<extra></extra>", texttemplate="%{z:.0%}", textfont={"size": 11},
        colorscale=HEATMAP_COLORSCALE, zmin=0, zmax=max([0.05, *(v for row in z for v in row if v is not None)]),
        xgap=1, ygap=1, showscale=False, meta={"narratives": order, "outlets": columns},
    ))
    fig.update_layout(
        title={"text": _escape(title), "y": 0.99, "yanchor": "top", "yref": "container"},
        font=_FONT, template="simple_white", height=150 + 30 * len(order),
        # room above the grid for the title and the column labels, so that they never overlap
        margin={"l": 10, "r": 10 if len(columns) <= WRAP_OUTLETS else 90, "b": 10,
                "t": 80 if len(columns) <= WRAP_OUTLETS else 50 + 5 * max(len(_clip(o)) for o in columns)},
        xaxis={"tickvals": list(range(len(columns))), "side": "top", "showgrid": False,
               "automargin": True, "ticks": "", **_column_labels(columns)},
        yaxis={"tickvals": list(range(len(order))), "autorange": "reversed", "showgrid": False,
               "automargin": True, "ticks": "",
               "ticktext": [f'<span style="color:{palette.get(n, "#555555")}">\u25a0</span> {_label(n)}'
                            for n in order]},
    )
    return fig


# -- pieces ------------------------------------------------------------------------------------


def _table(drift: DriftFrames | pd.DataFrame, key: str) -> pd.DataFrame:
    """The ``key`` table of a DriftFrames, or the frame itself when one is given."""
    if isinstance(drift, pd.DataFrame):
        table = drift
    else:
        table = drift.tables[key]
    missing = {"outlet", "narrative", "share"} - set(table.columns)
    if missing:
        raise InputError(f"the {key} table lacks the columns {sorted(missing)}: pass compute_drift's result")
    return table


def _order(drift: DriftFrames | pd.DataFrame, rows: pd.DataFrame, narratives: Sequence[str] | None) -> list[str]:
    """The narratives to draw: as asked, else the run's order, else largest mean share first;
    unassigned last."""
    present = list(dict.fromkeys(rows["narrative"].astype(str)))
    if narratives is not None:
        return [str(n) for n in narratives]
    if not isinstance(drift, pd.DataFrame):
        known = [n for n in drift.narrative_order if n in present]
        return known + [n for n in present if n not in known]
    means = rows.groupby(rows["narrative"].astype(str))["share"].mean().sort_values(ascending=False, kind="stable")
    ordered = [n for n in means.index if n != UNASSIGNED]
    return ordered + [n for n in present if n == UNASSIGNED]


def _share_traces(series: pd.DataFrame, name: str, color: str, word: str, intervals: bool) -> list:
    """The line of one narrative and, where some periods are thin, their hollow markers."""
    import plotly.graph_objects as go

    flags = series["insufficient"] if "insufficient" in series else [False] * len(series)
    thin = [bool(flag) if pd.notna(flag) else False for flag in flags]
    x = pd.to_datetime(series["period"]).dt.strftime("%Y-%m-%d").tolist()
    share = [_number(v) for v in series["share"]]
    low, high = _column(series, "ci_low"), _column(series, "ci_high")
    articles = _column(series, "n_articles")
    text = [_point_hover(name, f"{word} of {p}", s, lo, hi, n, t)
            for p, s, lo, hi, n, t in zip(x, share, low, high, articles, thin)]
    line_y = [None if t else s for s, t in zip(share, thin)]
    error = None
    if intervals:
        error = {"type": "data", "symmetric": False, "color": color, "thickness": 1.2, "width": 3,
                 "array": [_gap(hi, y) for hi, y in zip(high, line_y)],
                 "arrayminus": [_gap(y, lo) for lo, y in zip(low, line_y)]}
    traces = [go.Scatter(
        x=x, y=line_y, text=text, hovertemplate="%{text}<extra></extra>", mode="lines+markers",
        name=_label(name), legendgroup=name, meta={"narrative": name, "thin": False},
        line={"color": color, "width": 2, "dash": "dot" if name == UNASSIGNED else "solid"},
        marker={"size": 5, "color": color}, error_y=error,
    )]
    shown = [i for i, t in enumerate(thin) if t and share[i]]
    if shown:
        traces.append(go.Scatter(
            x=[x[i] for i in shown], y=[share[i] for i in shown], text=[text[i] for i in shown],
            hovertemplate="%{text}<extra></extra>", mode="markers", name=_label(name), legendgroup=name,
            showlegend=False, meta={"narrative": name, "thin": True}, opacity=0.8,
            marker={"color": color, "symbol": "circle-open", "size": 7},
        ))
    return traces


def _point_hover(name: str, when: str, share: float | None, low: float | None, high: float | None,
                 articles: float | None, thin: bool) -> str:
    """``<b>name</b><br>week of ...<br>share 24.0% (95% CI 18.1%–30.2%)<br>8 articles``."""
    return "<br>".join([f"<b>{_escape(name)}</b>", when, f"share {_pct(share)} {_interval(low, high, thin)}",
                        _articles(articles)])


def _cell_hover(name: str, outlet: str, row: Any) -> str:
    """Hover text of one heatmap cell (``row``: its outlet_shares row, or None)."""
    share = _number(getattr(row, "share", None))
    if share is None:
        detail = "too few articles for a share"
    else:
        detail = f"share {_pct(share)} {_interval(_number(getattr(row, 'ci_low', None)), _number(getattr(row, 'ci_high', None)), False)}"
    return "<br>".join([f"<b>{_escape(outlet)}</b>", _escape(name), detail,
                        _articles(_number(getattr(row, "n_articles", None)))])


def _interval(low: float | None, high: float | None, thin: bool) -> str:
    """``(95% CI 18.1%–30.2%)``, worded as the explorer words it."""
    if thin or low is None or high is None:
        return "(too few articles for an interval)"
    return f"(95% CI {_pct(low)}\u2013{_pct(high)})"


def _articles(n: float | None) -> str:
    if n is None:
        return "no articles"
    return f"{int(n):,} article" + ("" if int(n) == 1 else "s")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _gap(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else max(a - b, 0.0)


def _number(value: Any) -> float | None:
    """A float, or None for a missing value (NaN, None, NA)."""
    if value is None or value is pd.NA:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _column(frame: pd.DataFrame, name: str) -> list[float | None]:
    return [_number(v) for v in frame[name]] if name in frame else [None] * len(frame)


def _period_word(drift: DriftFrames | pd.DataFrame) -> str:
    """How hover text names a period: "week of 2025-06-02" (the run's period kind)."""
    paragraphs = getattr(drift, "paragraphs", None)
    kind = paragraphs.attrs.get("period") if isinstance(paragraphs, pd.DataFrame) else None
    return _PERIOD_WORDS.get(str(kind), "period")


def _period_axis(periods: list, word: str) -> dict[str, Any]:
    """A date axis with ticks on the first day of periods (plotly's weekly ticks fall on Sundays)."""
    axis: dict[str, Any] = {"type": "date", "showgrid": False}
    if word == "week" and 0 < len(periods) <= 26:
        every = max(1, math.ceil(len(periods) / 12))
        axis.update(tick0=pd.Timestamp(periods[0]).strftime("%Y-%m-%d"), dtick=every * 7 * 86_400_000,
                    tickformat="%d %b")
    return axis


def _column_labels(outlets: Sequence[str]) -> dict[str, Any]:
    """Outlet names level on two lines under few columns; slanted (room kept on the right, where
    the last one ends) under many."""
    if len(outlets) <= WRAP_OUTLETS:
        return {"ticktext": [_two_lines(o, 16) for o in outlets], "tickangle": 0}
    return {"ticktext": [_label(o) for o in outlets], "tickangle": -40}


def _two_lines(text: object, width: int) -> str:
    """``text`` escaped, on at most two lines of about ``width`` characters (the second cut with
    an ellipsis)."""
    lines = textwrap.wrap(" ".join(str(text).split()), width) or [""]
    if len(lines) > 2:
        lines = [lines[0], _clip(" ".join(lines[1:]), width)]
    return "<br>".join(_escape(line) for line in lines)


def _outlet_order(outlets: pd.Series) -> list[str]:
    names = sorted(set(outlets.astype(str)))
    return (["all"] if "all" in names else []) + [o for o in names if o != "all"]


def _outlet_name(outlet: str) -> str:
    return "all outlets" if outlet == "all" else str(outlet)


def _listing(values: pd.Series, limit: int = 10) -> str:
    names = sorted(set(values.astype(str)))
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(repr(n) for n in names[:limit]) + more


def _escape(text: object) -> str:
    """Text that plotly shows as written: its tag-like markup (``<b>``, ``<a href>``) escaped."""
    return html.escape(" ".join(str(text).split()), quote=False)


def _clip(text: object, limit: int = LABEL_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "\u2026"


def _label(text: object) -> str:
    """A legend or axis label: cut to :data:`LABEL_CHARS` with an ellipsis, then escaped."""
    return _escape(_clip(text))

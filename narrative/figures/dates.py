"""Date axes: ticks chosen from the dates drawn, one date view over many panels, and ticks frozen
before a figure is saved.

Periods are whole days. matplotlib's :class:`~matplotlib.dates.AutoDateLocator` would tick hours
on a span under two days (and warn), and reads 1970 where nothing is drawn; these helpers give a
readable axis in both cases.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from narrative.figures.style import style_context

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["common_date_axis", "date_ticks", "freeze_date_ticks"]

#: Axes whose x view :func:`date_ticks` set by hand (autoscaling off), so that a later call for an
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


def date_ticks(ax: Axes, maxticks: int) -> None:
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


def common_date_axis(axes: Sequence[Axes], maxticks: int) -> None:
    """One date view and one set of ticks on panels that do not share matplotlib's x axis.

    The view is the one :func:`date_ticks` gives shared axes (the dates drawn on all of them,
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
    """Set fixed ticks ``locs`` with ``labels`` and ``offset`` on every axes of ``axes``."""
    from matplotlib.ticker import FixedFormatter, FixedLocator

    for ax in axes:
        fixed = FixedFormatter(labels)
        fixed.set_offset_string(offset)
        ax.xaxis.set_major_locator(FixedLocator(locs))
        ax.xaxis.set_major_formatter(fixed)

"""Building blocks every figure shares: checks of the input frame, a fresh figure or the caller's
axes, the common look of an axes, and numbers written as labels.

Figures are built directly (no pyplot), so a figure leaves no global state and nothing to close.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from narrative.figures.style import is_unassigned

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "EDGE",
    "LEGEND_WIDTH",
    "TICK_WIDTH",
    "as_float",
    "check_unique",
    "few_ticks",
    "new_axes",
    "new_figure",
    "order_narratives",
    "pct_label",
    "percent",
    "require_columns",
    "text_color",
    "tidy_axes",
]

LEGEND_WIDTH = 40  # characters of a narrative name kept in legends
TICK_WIDTH = 32  # ... and in tick labels
EDGE = "#333333"  # outline of bars and legend patches


# -- the input frame ------------------------------------------------------------------------------


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise a plain error unless ``frame`` is a DataFrame with ``columns`` (``what`` names it)."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame; got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} is missing column(s) {missing}; it has {list(map(str, frame.columns))}"
        )


def check_unique(frame: pd.DataFrame, keys: list[str], what: str) -> None:
    """Raise unless ``frame`` has one row per combination of ``keys``: a figure draws one value
    per cell, so several rows would mean several weightings mixed up."""
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        example = frame.loc[dup, keys].iloc[0].to_dict()
        raise ValueError(
            f"{what} has {int(dup.sum())} rows sharing {tuple(keys)} (e.g. {example}); pass one row "
            "per combination (filter to one weighting / aggregation first)"
        )


def as_float(values: pd.Series) -> np.ndarray:
    """``values`` as a float array, anything not a number as NaN."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def order_narratives(
    frame: pd.DataFrame, narratives: Sequence[str] | None, value: str = "share"
) -> list[str]:
    """``narratives`` if given, else by mean ``value`` (largest first, then name), unassigned last."""
    if narratives is not None:
        return [str(n) for n in dict.fromkeys(narratives)]
    means = (
        frame.assign(_v=as_float(frame[value]), _n=frame["narrative"].astype(str))
        .groupby("_n", sort=True)["_v"]
        .mean()
        .fillna(-1.0)
    )
    names = sorted(means.index, key=lambda n: (is_unassigned(n), -means[n], n))
    return [str(n) for n in names]


# -- figures and axes -----------------------------------------------------------------------------


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A fresh figure with constrained layout on its own Agg canvas (no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The caller's axes and their root figure, or a fresh Agg-backed figure with one axes."""
    if ax is not None:
        try:
            fig = ax.get_figure(root=True)
        except TypeError:  # matplotlib < 3.10 has no root= and returns the root figure anyway
            fig = ax.get_figure()
        return fig, ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot()


def tidy_axes(ax: Axes, grid_axis: str | None) -> None:
    """Apply the shared look explicitly, so it also holds on axes the caller created."""
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(False)
    if grid_axis:
        ax.grid(True, axis=grid_axis, color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)


def few_ticks(n: int):
    """A locator of about ``n`` ticks at round steps, for small panels."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=n, steps=[1, 2, 5, 10], min_n_ticks=2)  # no 2.5% shown as "2%"


# -- numbers as labels ----------------------------------------------------------------------------


def text_color(rgba: Sequence[float]) -> str:
    """Black or white, whichever reads better on ``rgba`` (relative luminance, WCAG)."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgba[:3])
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 else "white"


def pct_label(value: float) -> str:
    """A share as a percent label: whole percents, one decimal below 9.5%."""
    return f"{value:.0%}" if value >= 0.095 else f"{value:.1%}"


def percent():
    """Axis labels of shares (0–1) as whole percents."""
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)

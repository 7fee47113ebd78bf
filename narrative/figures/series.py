"""A share series as every figure draws it: line, points and 95% band, thin points hollow.

A *thin* point is a period with fewer articles than ``min_articles`` or one only partly collected;
each share figure marks it the same way, so a reader learns the convention once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from narrative.figures.style import THIN_MARKER

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["common_share_scale", "draw_share_series", "thin_legend_handles", "thin_mask"]


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


def common_share_scale(axes: Sequence[Axes]) -> None:
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

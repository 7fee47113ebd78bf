"""Figures: ``plot_*(frame, *, ax=None) -> Figure`` over tidy frames, one shared style.

No pyplot: figures are built directly, so plotting changes no global state and leaks no figures.
"""

from __future__ import annotations

from narrative.figures.plots import (
    figure_to_png_bytes,
    figure_to_svg_bytes,
    plot_narrative_sizes,
    plot_outlet_heatmap,
    plot_share_over_time,
    save_figure,
)
from narrative.figures.style import (
    PALETTE,
    UNASSIGNED_COLOR,
    narrative_colors,
    style_context,
)

__all__ = [
    "PALETTE",
    "UNASSIGNED_COLOR",
    "figure_to_png_bytes",
    "figure_to_svg_bytes",
    "narrative_colors",
    "plot_narrative_sizes",
    "plot_outlet_heatmap",
    "plot_share_over_time",
    "save_figure",
    "style_context",
]

"""Figures: ``plot_*(frame, *, ax=None) -> Figure`` over tidy frames, one shared style.

No pyplot: figures are built directly, so plotting changes no global state and leaks no figures.
"""

from __future__ import annotations

from narrative.figures.drift_plots import (
    plot_divergence,
    plot_emerging,
    plot_outlet_small_multiples,
    plot_syndication,
    syndication_counts,
)
from narrative.figures.narrative_map import map_points, plot_narrative_map
from narrative.figures.plots import (
    figure_to_png_bytes,
    figure_to_svg_bytes,
    plot_narrative_sizes,
    plot_outlet_heatmap,
    plot_share_intervals,
    plot_share_over_time,
    printed_text_sizes,
    save_figure,
)
from narrative.figures.style import (
    MIN_TEXT_PT,
    PALETTE,
    PRINT_WIDTH_IN,
    UNASSIGNED_COLOR,
    narrative_color,
    narrative_colors,
    style_context,
)

__all__ = [
    "MIN_TEXT_PT",
    "PALETTE",
    "PRINT_WIDTH_IN",
    "UNASSIGNED_COLOR",
    "figure_to_png_bytes",
    "figure_to_svg_bytes",
    "map_points",
    "narrative_color",
    "narrative_colors",
    "plot_divergence",
    "plot_emerging",
    "plot_narrative_map",
    "plot_narrative_sizes",
    "plot_outlet_small_multiples",
    "plot_share_intervals",
    "plot_syndication",
    "plot_outlet_heatmap",
    "plot_share_over_time",
    "printed_text_sizes",
    "save_figure",
    "style_context",
    "syndication_counts",
]

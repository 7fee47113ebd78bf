"""Figures: ``plot_*(frame, *, ax=None) -> Figure`` over tidy frames, one shared style.

Each ``plot_*`` draws from a tidy frame the drift stage already computed (it only reshapes, never
estimates) and shows names of outlets and narratives literally (:func:`.style.plain_text`). No
pyplot: a figure is built directly, or drawn on the caller's ``ax``, so plotting changes no global
state and leaks no figures.

One module per question a figure answers, on shared building blocks:

- :mod:`.sizes` (how large is each narrative), :mod:`.shares` (how its share moves over time),
  :mod:`.heatmap` (how the outlets differ), :mod:`.drift_plots` (what changed: divergence,
  emerging and fading narratives, outlet small multiples, syndication), :mod:`.narrative_map`
  (where the narratives lie);
- :mod:`.style` (the one look and colour per narrative), :mod:`.axes` (input checks, axes,
  labels), :mod:`.dates` (date axes), :mod:`.series` (a share series with its band and thin
  points), :mod:`.output` (PNG and SVG bytes and files).
"""

from __future__ import annotations

from narrative.figures.drift_plots import (
    plot_divergence,
    plot_emerging,
    plot_outlet_small_multiples,
    plot_syndication,
    syndication_counts,
)
from narrative.figures.heatmap import plot_outlet_heatmap
from narrative.figures.narrative_map import map_points, plot_narrative_map
from narrative.figures.output import (
    figure_to_png_bytes,
    figure_to_svg_bytes,
    printed_text_sizes,
    save_figure,
)
from narrative.figures.shares import plot_share_over_time
from narrative.figures.sizes import plot_narrative_sizes, plot_share_intervals
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
    "plot_outlet_heatmap",
    "plot_outlet_small_multiples",
    "plot_share_intervals",
    "plot_share_over_time",
    "plot_syndication",
    "printed_text_sizes",
    "save_figure",
    "style_context",
    "syndication_counts",
]

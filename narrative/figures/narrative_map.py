"""The 2-D narrative map: paragraphs placed by UMAP of their embeddings, coloured by narrative.

:func:`map_points` computes the layout (a deterministic subsample, then UMAP with a fixed seed);
:func:`plot_narrative_map` draws any frame of ``x``, ``y``, ``narrative`` points, with each
narrative's name placed over its cluster (median x, just above most of its points).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from narrative.figures.plots import _as_float, _new_axes, _require
from narrative.figures.style import (
    UNASSIGNED_COLOR,
    is_unassigned,
    narrative_colors,
    plain_text,
    style_context,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MAX_MAP_POINTS", "map_points", "plot_narrative_map", "subsample"]

#: Most paragraphs placed on the map; beyond this a seeded sample is drawn. Seeded UMAP runs on
#: one thread: on ukraine_media_2022 (30,271 texts) a 20,000-point map cost about 25 s of an 85 s
#: report (benchmarks/incremental.py); a seeded 5,000 still shows where each narrative lies.
MAX_MAP_POINTS = 5_000
_LABEL_WIDTH = 28


def subsample(n: int, max_points: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ``max_points`` of ``n`` rows: all of them, or a seeded sample."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def map_points(
    vectors: np.ndarray,
    narratives: Sequence[str],
    *,
    seed: int = 0,
    max_points: int = MAX_MAP_POINTS,
    n_neighbors: int = 15,
) -> pd.DataFrame:
    """UMAP layout (cosine, ``n_components=2``, ``random_state=seed``) of paragraph embeddings.

    ``vectors`` is one row per paragraph (pass distinct texts, in a fixed order, so the map does
    not depend on input order), ``narratives`` its narrative name. Returns columns ``x``, ``y``,
    ``narrative`` and ``row`` (the index into ``vectors``); fewer than 4 rows get no layout (an
    empty frame). With a fixed seed UMAP runs single-threaded, so the same input gives the same map.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    names = [str(n) for n in narratives]
    if vectors.ndim != 2 or len(vectors) != len(names):
        raise ValueError(
            f"vectors must be 2-D with one row per narrative label; got shape {vectors.shape} "
            f"and {len(names)} labels"
        )
    columns = ["x", "y", "narrative", "row"]
    rows = subsample(len(vectors), max_points, seed)
    if len(rows) < 4:
        return pd.DataFrame(columns=columns)
    import umap

    from narrative.jit_cache import enable_umap_cache

    # A re-run that reuses its fit draws a map in a process that fitted nothing: without the
    # on-disk cache, compiling umap's numba code would cost more than the layout itself.
    enable_umap_cache()
    reducer = umap.UMAP(
        n_components=2, n_neighbors=max(2, min(n_neighbors, len(rows) - 1)), min_dist=0.1,
        metric="cosine", random_state=seed, n_jobs=1, init="spectral" if len(rows) > 10 else "random",
    )
    xy = reducer.fit_transform(vectors[rows])
    return pd.DataFrame(
        {"x": xy[:, 0], "y": xy[:, 1], "narrative": [names[i] for i in rows], "row": rows},
        columns=columns,
    )


def _label_positions(frame: pd.DataFrame, names: list[str], span: float) -> dict[str, tuple]:
    """Where each narrative's name goes: its median x, just above the bulk of its points (so the
    name does not hide them), moved up past any name already placed close by."""
    placed: dict[str, tuple[float, float]] = {}
    gap = span * 0.04
    for name in names:
        sub = frame[frame["narrative"] == name]
        x = float(sub["x"].median())
        y = float(sub["y"].quantile(0.9)) + gap * 0.4
        for _ in range(20):  # greedy: step up until clear of the labels placed before
            if not any(abs(px - x) < span * 0.2 and abs(py - y) < gap for px, py in placed.values()):
                break
            y += gap
        placed[name] = (x, y)
    return placed


def plot_narrative_map(
    points: pd.DataFrame,
    *,
    narratives: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    label: bool = True,
) -> Figure:
    """Paragraphs as dots at ``x``, ``y`` in their narrative's colour, names over their clusters.

    Parameters
    ----------
    points : DataFrame
        Columns ``x``, ``y``, ``narrative`` (e.g. :func:`map_points`). Unassigned paragraphs are
        small grey dots drawn underneath and get no label.
    narratives : sequence of str, optional
        Label order (larger clusters first by default).
    colors : mapping, optional
        Narrative -> colour; default :func:`.style.narrative_colors` over ``narratives``.
    ax : Axes, optional
        Draw here instead of on a new figure.
    label : bool, default=True
        Write each narrative's name over its cluster.
    """
    _require(points, ("x", "y", "narrative"), "points")
    title = "Narrative map of paragraphs"
    with style_context():
        import matplotlib.patheffects as pe

        fig, ax = _new_axes(ax, (9.0, 7.0))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_title(title)
        frame = points.assign(
            x=_as_float(points["x"]), y=_as_float(points["y"]),
            narrative=points["narrative"].astype(str),
        ).dropna(subset=["x", "y"])
        if frame.empty:
            ax.text(0.5, 0.5, "Too few paragraphs with embeddings to draw a map.", ha="center",
                    va="center", color="#555555", transform=ax.transAxes)
            return fig
        sizes = frame["narrative"].value_counts()
        if narratives is None:
            order = sorted(sizes.index, key=lambda n: (is_unassigned(n), -sizes[n], n))
        else:
            order = [str(n) for n in dict.fromkeys(narratives)]
        palette = dict(colors) if colors is not None else narrative_colors(order)
        dot = float(np.clip(6000.0 / max(len(frame), 1), 0.8, 16.0))
        grey = frame["narrative"].map(is_unassigned).to_numpy(dtype=bool)
        if grey.any():
            ax.scatter(frame.loc[grey, "x"], frame.loc[grey, "y"], s=dot * 0.6,
                       color=UNASSIGNED_COLOR, alpha=0.35, linewidths=0, rasterized=True,
                       zorder=1)
        coloured = frame[~grey]
        fill = [palette.get(n, "#000000") for n in coloured["narrative"]]
        ax.scatter(coloured["x"], coloured["y"], s=dot, c=fill, alpha=0.75, linewidths=0,
                   rasterized=True, zorder=2)
        if label:
            span = float(max(np.ptp(frame["x"]), np.ptp(frame["y"]), 1e-9))
            names = [n for n in order if n in sizes.index and not is_unassigned(n)]
            for name, (x, y) in _label_positions(frame, names, span).items():
                ax.text(
                    x, y, plain_text(name, _LABEL_WIDTH), ha="center", va="bottom", fontsize=9,
                    fontweight="bold", color="#111111", zorder=4,
                    path_effects=[pe.withStroke(linewidth=3, foreground="white")],
                )
        if grey.any():
            ax.text(1.0, -0.01, f"grey: unassigned ({int(grey.sum()):,} paragraphs)",
                    ha="right", va="top", fontsize=7.5, color="#555555", transform=ax.transAxes)
    return fig

"""The 2-D narrative map: paragraphs placed by UMAP of their embeddings, coloured by narrative.

:func:`map_layout` computes the layout of a sample of texts (:func:`stable_sample`): a seeded UMAP
(:func:`umap_layout`), or, on a re-run that added a few texts, the previous layout kept as it was
with each new text placed among its nearest neighbours (:func:`place_by_neighbours`).
:func:`map_points` is the one-call version for plain arrays. :func:`plot_narrative_map` draws any
frame of ``x``, ``y``, ``narrative`` points, with each narrative's name placed over its cluster
(median x, just above most of its points). The layout never sees narrative names: they are
attached when plotting, so a relabelled run reuses its map.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from narrative.figures.axes import as_float, new_axes, require_columns
from narrative.figures.style import (
    FIGURE_WIDTH_IN,
    UNASSIGNED_COLOR,
    is_unassigned,
    narrative_colors,
    plain_text,
    style_context,
)
from narrative.model.neighbours import (
    UMAP_EXACT_KNN_BELOW,
    exact_cosine_knn,
    most_similar,
    unit_rows,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "LAYOUT_VERSION",
    "MAX_MAP_POINTS",
    "MIN_UMAP_SHARE",
    "map_layout",
    "map_points",
    "place_by_neighbours",
    "plot_narrative_map",
    "stable_sample",
    "subsample",
    "umap_layout",
]

#: Most paragraphs placed on the map; beyond this a seeded sample is drawn. Seeded UMAP runs on
#: one thread: on ukraine_media_2022 (30,271 texts) a 20,000-point map cost about 25 s of an 85 s
#: report (benchmarks/incremental.py); a seeded 5,000 still shows where each narrative lies.
MAX_MAP_POINTS = 5_000
#: A previous layout is updated (new texts placed by their neighbours, the rest kept in place)
#: only while at least this share of the current sample keeps coordinates from the last full
#: UMAP; below it UMAP lays the whole sample out afresh. Placed points are approximate (UMAP's
#: own starting guess for new points, without its optimisation), so they may make up at most a
#: fifth of the map before it is redone.
MIN_UMAP_SHARE = 0.8
#: Part of every layout's basis: bump it when the layout changes (UMAP parameters, the placement
#: rule, the sample), so a stored layout made the old way is never updated the new way.
LAYOUT_VERSION = 2
_LABEL_WIDTH = 28
#: Most narrative names written on the map (the largest): more would hide the dots.
MAX_MAP_LABELS = 14


def subsample(n: int, max_points: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ``max_points`` of ``n`` rows: all of them, or a seeded sample.

    The sample changes completely when ``n`` does; the map uses :func:`stable_sample` instead.
    """
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def stable_sample(keys: Sequence[str], max_points: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ``max_points`` of ``keys``: the keys with the smallest seeded
    hash (a bottom-k sample).

    Each key's rank depends only on the key and the seed, never on the other keys or their
    order, so adding texts to a corpus changes the sample only where a new key ranks below the
    current k-th: adding m texts to n swaps about ``m * max_points / (n + m)`` members.
    """
    n = len(keys)
    if n <= max_points:
        return np.arange(n)
    salt = f"narrative-map:{seed}".encode()
    rank = [hashlib.blake2b(str(k).encode("utf-8"), digest_size=8, key=salt).digest()
            for k in keys]
    order = sorted(range(n), key=lambda i: (rank[i], str(keys[i])))
    return np.sort(np.asarray(order[:max_points], dtype=np.int64))


def umap_layout(vectors: np.ndarray, *, seed: int = 0, n_neighbors: int = 15) -> np.ndarray:
    """Seeded 2-D UMAP (cosine) of ``vectors``: an ``(n, 2)`` array, empty below 4 rows.

    With a fixed seed UMAP runs single-threaded, so the same rows in the same order give the same
    coordinates.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) < 4:
        return np.zeros((0, 2))
    import umap

    from narrative.runtime.jit_cache import enable_umap_cache

    # A re-run that reuses its fit draws a map in a process that fitted nothing: without the
    # on-disk cache, compiling umap's numba code would cost more than the layout itself.
    enable_umap_cache()
    k = max(2, min(n_neighbors, len(vectors) - 1))
    # From 4,096 rows UMAP switches to pynndescent, whose cosine search numba compiles afresh in
    # every process (about 70 s on a 2-core machine, for a 5,000-point map); exact neighbours by
    # one matrix product cost well under a second at this size (see narrative.model.neighbours).
    knn = exact_cosine_knn(vectors, k) if len(vectors) >= UMAP_EXACT_KNN_BELOW else (None, None)
    reducer = umap.UMAP(
        n_components=2, n_neighbors=k, min_dist=0.1,
        metric="cosine", random_state=seed, n_jobs=1,
        init="spectral" if len(vectors) > 10 else "random",
        precomputed_knn=(*knn, None),
    )
    with warnings.catch_warnings():  # no search index: fine, the map never calls transform
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        return np.asarray(reducer.fit_transform(vectors))


def place_by_neighbours(
    vectors: np.ndarray, anchors: np.ndarray, anchor_xy: np.ndarray, *, k: int = 15
) -> np.ndarray:
    """2-D positions for new ``vectors`` among points already laid out: each at the
    similarity-weighted mean of the coordinates ``anchor_xy`` of its ``k`` most cosine-similar
    ``anchors``.

    This is how UMAP's own ``transform`` starts new points (before it optimises them). Weights are
    the cosine similarities, floored at 0 (a row whose neighbours are all dissimilar takes their
    plain mean); ties go to the earlier anchor, so the result is deterministic.
    """
    queries, anchors = unit_rows(vectors), unit_rows(anchors)
    anchor_xy = np.asarray(anchor_xy, dtype=np.float64)
    if anchors.ndim != 2 or len(anchors) == 0 or len(anchors) != len(anchor_xy):
        raise ValueError(f"need at least one anchor with coordinates; got {len(anchors)} anchors "
                         f"and {len(anchor_xy)} coordinates")
    if len(queries) == 0:
        return np.zeros((0, 2))
    k = max(1, min(int(k), len(anchors)))
    nearest, similarity = most_similar(queries, anchors, k)
    weights = np.clip(similarity, 0.0, None)
    weights[weights.sum(axis=1) <= 0] = 1.0
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("ik,ikd->id", weights, anchor_xy[nearest])


def _usable_previous(previous: Any, basis: Mapping[str, Any]) -> dict | None:
    """``previous`` when it is a layout made on ``basis`` (read from disk: check everything)."""
    if not isinstance(previous, Mapping) or previous.get("basis") != dict(basis):
        return None
    try:
        keys, x, y, by_umap = (list(previous[c]) for c in ("key", "x", "y", "umap"))
    except (KeyError, TypeError):
        return None
    if not len(keys) == len(x) == len(y) == len(by_umap):
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (*x, *y)):
        return None
    return {"key": [str(k) for k in keys], "x": x, "y": y, "umap": [bool(u) for u in by_umap]}


def map_layout(
    vectors: np.ndarray,
    keys: Sequence[str],
    *,
    seed: int = 0,
    basis: Mapping[str, Any] | None = None,
    previous: Mapping[str, Any] | None = None,
    n_neighbors: int = 15,
    min_umap_share: float = MIN_UMAP_SHARE,
) -> dict:
    """The 2-D layout of ``vectors`` (one row per key), updated from ``previous`` when it can be.

    Parameters
    ----------
    vectors : array of shape (n, dim)
        The embeddings of the texts to place (a sample already: see :func:`stable_sample`).
    keys : sequence of str
        One stable id per row (the text hash): how a point is recognised in ``previous``.
    seed : int, default=0
        UMAP's ``random_state``.
    basis : mapping, optional
        What else the coordinates depend on (the embedding model id): a ``previous`` layout made
        on another basis, seed or :data:`LAYOUT_VERSION` is not reused.
    previous : mapping, optional
        An earlier return value of this function (e.g. read back from JSON).
    n_neighbors : int, default=15
        UMAP's ``n_neighbors``, and the neighbours a new point is placed among.
    min_umap_share : float, default=:data:`MIN_UMAP_SHARE`
        Update ``previous`` only while at least this share of the rows keep coordinates that the
        last full UMAP computed; otherwise run UMAP on all rows.

    Returns
    -------
    dict
        JSON-ready: ``key``, ``x``, ``y`` (row order), ``umap`` (per point: True when its
        coordinates come from the last full UMAP, False when placed by its neighbours since),
        ``placed_now`` (points placed by neighbours in this call), ``full`` (whether UMAP ran in
        this call) and ``basis``. Rows kept from ``previous`` keep their coordinates exactly.
        Fewer than 4 rows get no points. Deterministic given the arguments.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    keys = [str(k) for k in keys]
    if vectors.ndim != 2 or len(vectors) != len(keys):
        raise ValueError(f"vectors must be 2-D with one row per key; got shape {vectors.shape} "
                         f"and {len(keys)} keys")
    if not 0.0 < min_umap_share <= 1.0:
        raise ValueError(f"min_umap_share must be in (0, 1]; got {min_umap_share}")
    full_basis = {**{str(k): v for k, v in (basis or {}).items()}, "seed": int(seed),
                  "n_neighbors": int(n_neighbors), "version": LAYOUT_VERSION}
    n = len(keys)
    result: dict[str, Any] = {"basis": full_basis, "key": [], "x": [], "y": [], "umap": [],
                              "placed_now": 0, "full": False}
    if n < 4:
        return result
    old = _usable_previous(previous, full_basis)
    if old is not None:
        where = {k: i for i, k in enumerate(old["key"])}
        kept = [i for i, k in enumerate(keys) if k in where]
        anchors = [i for i in kept if old["umap"][where[keys[i]]]]
        if len(anchors) >= max(4, min_umap_share * n):
            xy = np.zeros((n, 2))
            by_umap = np.zeros(n, dtype=bool)
            for i in kept:
                j = where[keys[i]]
                xy[i] = old["x"][j], old["y"][j]
                by_umap[i] = old["umap"][j]
            new = np.setdiff1d(np.arange(n), kept)
            if len(new):
                xy[new] = place_by_neighbours(vectors[new], vectors[anchors], xy[anchors],
                                              k=n_neighbors)
            # old coordinates are the stored Python floats, unchanged: float() of a float64
            # that holds one is the same value, so a kept point moves by exactly 0
            result.update(key=keys, x=[float(v) for v in xy[:, 0]],
                          y=[float(v) for v in xy[:, 1]], umap=by_umap.tolist(),
                          placed_now=int(len(new)))
            return result
    xy = umap_layout(vectors, seed=seed, n_neighbors=n_neighbors)
    result.update(key=keys, x=[float(v) for v in xy[:, 0]], y=[float(v) for v in xy[:, 1]],
                  umap=[True] * n, full=True)
    return result


def map_points(
    vectors: np.ndarray,
    narratives: Sequence[str],
    *,
    seed: int = 0,
    max_points: int = MAX_MAP_POINTS,
    n_neighbors: int = 15,
    keys: Sequence[str] | None = None,
) -> pd.DataFrame:
    """UMAP layout (cosine, ``n_components=2``, ``random_state=seed``) of paragraph embeddings.

    ``vectors`` is one row per paragraph (pass distinct texts, in a fixed order, so the map does
    not depend on input order), ``narratives`` its narrative name, ``keys`` an optional stable id
    per row (text hashes; default the row numbers) that :func:`stable_sample` draws at most
    ``max_points`` rows by. Returns columns ``x``, ``y``, ``narrative`` and ``row`` (the index into
    ``vectors``); fewer than 4 rows get no layout (an empty frame). With a fixed seed UMAP runs
    single-threaded, so the same input gives the same map.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    names = [str(n) for n in narratives]
    if vectors.ndim != 2 or len(vectors) != len(names):
        raise ValueError(
            f"vectors must be 2-D with one row per narrative label; got shape {vectors.shape} "
            f"and {len(names)} labels"
        )
    keys = [str(i) for i in range(len(names))] if keys is None else [str(k) for k in keys]
    if len(keys) != len(names):
        raise ValueError(f"keys must have one entry per row; got {len(keys)} for {len(names)} rows")
    columns = ["x", "y", "narrative", "row"]
    rows = stable_sample(keys, max_points, seed)
    if len(rows) < 4:
        return pd.DataFrame(columns=columns)
    xy = umap_layout(vectors[rows], seed=seed, n_neighbors=n_neighbors)
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
    require_columns(points, ("x", "y", "narrative"), "points")
    title = "Narrative map of paragraphs"
    with style_context():
        fig, ax = new_axes(ax, (FIGURE_WIDTH_IN, 5.6))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_title(title)
        frame = points.assign(
            x=as_float(points["x"]), y=as_float(points["y"]),
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
        grey = _draw_points(ax, frame, palette)
        if label:
            names = [n for n in order if n in sizes.index and not is_unassigned(n)]
            _name_clusters(ax, frame, sorted(names, key=lambda n: -sizes[n])[:MAX_MAP_LABELS])
        if grey:
            ax.text(1.0, -0.01, f"grey: unassigned ({grey:,} paragraphs)",
                    ha="right", va="top", fontsize=8, color="#555555", transform=ax.transAxes)
    return fig


def _draw_points(ax: Axes, frame: pd.DataFrame, palette: Mapping[str, str]) -> int:
    """Each paragraph as a dot in its narrative's colour, over the unassigned ones in small grey
    dots; dots are smaller the more there are. Returns how many paragraphs are unassigned."""
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
    return int(grey.sum())


def _name_clusters(ax: Axes, frame: pd.DataFrame, names: list[str]) -> None:
    """Each of ``names`` written over its cluster (:func:`_label_positions`), kept inside the
    map near its left and right edges, with room above the highest name."""
    import matplotlib.patheffects as pe

    span = float(max(np.ptp(frame["x"]), np.ptp(frame["y"]), 1e-9))
    low, high = float(frame["x"].min()), float(frame["x"].max())
    placed = _label_positions(frame, names, span)
    for name, (x, y) in placed.items():
        # a name near the left or right edge is aligned to stay inside the map
        where = (x - low) / max(high - low, 1e-9)
        ha = "left" if where < 0.2 else "right" if where > 0.8 else "center"
        ax.text(
            x, y, plain_text(name, _LABEL_WIDTH), ha=ha, va="bottom", fontsize=8.5,
            fontweight="bold", color="#111111", zorder=4,
            path_effects=[pe.withStroke(linewidth=3, foreground="white")],
        )
    if placed:  # room above the highest name, under the title
        top = max(y for _, y in placed.values()) + span * 0.06
        ax.set_ylim(top=max(ax.get_ylim()[1], top))

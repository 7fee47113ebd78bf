"""Exact cosine nearest neighbours by blocked matrix products: UMAP's neighbour graph without
pynndescent.

From 4,096 rows umap-learn finds neighbours with pynndescent, whose cosine search numba compiles
afresh in every process (about 25-50 s on 2 cores; its core functions cannot be cached because
they take the distance function as an argument). For the sizes narrative lays out or fits (a
sample of at most ``Settings.fit_sample_max`` paragraphs) one float32 matrix product per block of
rows finds the exact neighbours in a few seconds, with no compiling at all.
"""

from __future__ import annotations

import numpy as np

#: umap-learn computes exact neighbours itself below this many rows, and approximate ones
#: (pynndescent) from it on.
UMAP_EXACT_KNN_BELOW = 4096
#: Up to this many rows a fit gives UMAP exact neighbours (:func:`exact_cosine_knn`); above it
#: UMAP searches with pynndescent again. ``benchmarks/neighbours.py`` on ukraine_media_2022
#: vectors, 2 cores: exact 7.6, 35.1 and 109.8 s for 30,000, 60,000 and 100,000 rows (it grows
#: with n²); pynndescent, seeded as UMAP runs it, in a fresh process (mostly compiling) 35.7,
#: 41.3 and 48.4 s, finding 94-95% of the true 15 neighbours. Fits stay below it unless
#: ``fit_sample_max`` (50,000) is raised.
EXACT_KNN_MAX = 60_000


def unit_rows(vectors: np.ndarray, dtype=np.float64) -> np.ndarray:
    """``vectors`` scaled to unit length (zero rows stay zero)."""
    x = np.asarray(vectors, dtype=dtype)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12).astype(dtype)


def most_similar(queries: np.ndarray, anchors: np.ndarray, k: int, *, own_first: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` anchors most cosine-similar to each unit query row, and those similarities, most
    similar first; ties go to the lower anchor index. ``own_first``: query row i is anchor
    ``own_first + i`` and comes first."""
    similarity = queries @ anchors.T
    rows = np.arange(len(similarity))
    if own_first is not None:
        similarity[rows, own_first + rows] = np.inf
    n = similarity.shape[1]
    k = min(k, n)
    if k < n:
        chosen = _largest_columns(similarity, k)
        # argpartition breaks a tie at the k-th value arbitrarily: redo those (rare) rows by a
        # stable sort so that the lower indices win.
        kth = np.take_along_axis(similarity, chosen, axis=1).min(axis=1)
        tied = np.flatnonzero((similarity >= kth[:, None]).sum(axis=1) > k)
        if len(tied):
            chosen[tied] = np.argsort(-similarity[tied], axis=1, kind="stable")[:, :k]
    else:
        chosen = np.broadcast_to(np.arange(k), (len(similarity), k))
    near = np.take_along_axis(similarity, chosen, axis=1)
    order = np.lexsort((chosen, -near), axis=1)
    return np.take_along_axis(chosen, order, axis=1), np.take_along_axis(near, order, axis=1)


#: Rows of a similarity block from which :func:`_largest_columns` splits the selection over
#: threads (fewer are not worth a thread's start).
THREADED_ROWS = 256


def _largest_columns(similarity: np.ndarray, k: int) -> np.ndarray:
    """Each row's columns holding its ``k`` largest values, in no order (ties at the k-th: any).

    numpy's selection is single-threaded but lets go of the GIL, so the rows are split between
    threads, one per usable core: each row's result is the same however the rows are split.
    """
    n = similarity.shape[1]
    chosen = np.empty((len(similarity), k), dtype=np.intp)

    def select(rows: slice) -> None:
        chosen[rows] = np.argpartition(similarity[rows], n - k, axis=1)[:, n - k:]

    threads = min(_usable_cores(), max(1, len(similarity) // THREADED_ROWS))
    if threads == 1:
        select(slice(None))
        return chosen
    from concurrent.futures import ThreadPoolExecutor

    bounds = np.linspace(0, len(similarity), threads + 1).astype(int)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(select, [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]))
    return chosen


def _usable_cores() -> int:
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


#: Similarities held at once by :func:`exact_cosine_knn` (with argpartition's int64 indices of
#: the same shape: about 400 MB), so that 50,000 rows are searched in blocks of 671.
BLOCK_CELLS = 2**25


def exact_cosine_knn(vectors: np.ndarray, k: int, *, block: int | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest rows by cosine distance, itself first, as UMAP's neighbour graph
    holds them: ``(indices, distances)``, both ``(n, k)``, nearest first (ties: lower index).

    Computed in float32, ``block`` rows at a time (default: 1,024, fewer when ``block * n``
    would pass :data:`BLOCK_CELLS`). Time grows with ``n ** 2``: 7 s for 30,000 rows on 2 cores.
    """
    unit = unit_rows(vectors, np.float32)
    if block is None:
        block = max(1, min(1024, BLOCK_CELLS // max(len(unit), 1)))
    indices = np.empty((len(unit), k), dtype=np.int64)
    distances = np.empty((len(unit), k), dtype=np.float32)
    for start in range(0, len(unit), block):
        rows = slice(start, start + block)
        order, near = most_similar(unit[rows], unit, k, own_first=start)
        near[:, 0] = 1.0  # itself: distance 0
        indices[rows], distances[rows] = order, np.maximum(1.0 - near, 0.0)
    return indices, distances

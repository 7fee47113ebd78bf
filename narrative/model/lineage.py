"""Narrative lineage across refits: stable ids, and what became of each old narrative.

A refit clusters afresh, so its raw topic ids mean nothing next to the previous run's. This module
matches the new run's narratives to the old run's by the cosine similarity of their centroids,
gives each new narrative the id of the old one it continues (a fresh id otherwise), and records
what happened as events:

- ``continuation``: one old narrative, one new narrative.
- ``split``: one old narrative became several new ones (the closest keeps the old id).
- ``merge``: several old narratives became one (it keeps the id of the closest old one).
- ``regroup``: several old and several new narratives exchanged members both ways.
- ``birth``: a new narrative that matches nothing old (fresh id).
- ``death``: an old narrative that matches nothing new.

Pure functions over arrays; the pipeline decides where the ids and events are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .neighbours import unit_rows

#: Centroid cosine similarity from which a new narrative is taken to continue an old one.
#: Refits of the same corpus with another seed give matched centroids at 0.95 and above, while
#: distinct narratives of one news domain sit around 0.5-0.8 (all-MiniLM-L6-v2).
DEFAULT_THRESHOLD = 0.85

EVENTS = ("continuation", "split", "merge", "regroup", "birth", "death")


@dataclass(frozen=True)
class Lineage:
    """The outcome of :func:`match_narratives`.

    ``stable_ids[i]`` is the id the new run's narrative ``new_ids[i]`` should carry; ``events`` has
    one row per event with columns ``event``, ``old_ids`` (old run's ids), ``new_ids`` (stable ids)
    and ``similarity`` (best centroid similarity inside the event; NaN for births and deaths).
    """

    new_ids: np.ndarray
    stable_ids: np.ndarray
    events: pd.DataFrame
    similarity: np.ndarray

    def id_map(self) -> dict[int, int]:
        """New run's id -> stable id (the unassigned id -1 maps to itself)."""
        return {-1: -1, **{int(a): int(b) for a, b in zip(self.new_ids, self.stable_ids)}}


def _components(n_old: int, n_new: int, edges: list[tuple[int, int]]) -> list[tuple[list[int], list[int]]]:
    """Connected components of the bipartite old/new graph: ``[(old indices, new indices)]``."""
    parent = list(range(n_old + n_new))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for o, n in edges:
        a, b = find(o), find(n_old + n)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for i in range(n_old + n_new):
        olds, news = groups.setdefault(find(i), ([], []))
        (olds if i < n_old else news).append(i if i < n_old else i - n_old)
    return [groups[k] for k in sorted(groups)]


def match_narratives(
    old_ids,
    old_centroids,
    new_ids,
    new_centroids,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    old_names=None,
    new_names=None,
    next_id: int | None = None,
) -> Lineage:
    """Match a new run's narratives to an old run's by centroid cosine similarity.

    Parameters
    ----------
    old_ids, new_ids : sequence of int
        Narrative ids of each run (``-1``, the unassigned pseudo-narrative, is ignored: it keeps -1).
    old_centroids, new_centroids : array of shape (len(ids), dim)
        Narrative centroids, rows aligned with the ids (need not be unit length).
    threshold : float, default=DEFAULT_THRESHOLD
        A pair is linked when each is the other's best match, or when one is the other's best match,
        at a similarity of at least this.
    old_names, new_names : sequence of str or None, optional
        Codebook names (None for discovered narratives). Narratives with the same name are linked
        whatever their similarity, and named narratives with different names are never linked, so a
        named narrative keeps its id across refits.
    next_id : int, optional
        First id for narratives born in this run; default one above the largest old or new id, so
        an id once used is never given to a different narrative.

    Returns
    -------
    Lineage
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1]; got {threshold}")
    old_ids, new_ids = np.asarray(old_ids, dtype=int), np.asarray(new_ids, dtype=int)
    old_c, new_c = np.asarray(old_centroids), np.asarray(new_centroids)
    for ids, cent, which in ((old_ids, old_c, "old"), (new_ids, new_c, "new")):
        if len(ids) and (cent.ndim != 2 or len(cent) != len(ids)):
            raise ValueError(f"{which}_centroids must have one row per {which} id; got shape "
                             f"{cent.shape} for {len(ids)} ids")
    old_names = [None] * len(old_ids) if old_names is None else list(old_names)
    new_names = [None] * len(new_ids) if new_names is None else list(new_names)
    keep_old, keep_new = old_ids != -1, new_ids != -1
    o_ids, n_ids = old_ids[keep_old], new_ids[keep_new]
    if len(o_ids) and len(n_ids):
        sim = unit_rows(old_c[keep_old]) @ unit_rows(new_c[keep_new]).T
    else:
        sim = np.zeros((len(o_ids), len(n_ids)))
    edges, pinned = _links(sim, [_name(n) for n, k in zip(old_names, keep_old) if k],
                           [_name(n) for n, k in zip(new_names, keep_new) if k], threshold)
    fresh = next_id if next_id is not None else int(max([*o_ids, *n_ids, -1])) + 1
    stable, rows = _stable_ids(o_ids, len(n_ids), sim, edges, pinned, fresh)
    stable_all = np.full(len(new_ids), -1, dtype=int)
    stable_all[keep_new] = stable
    return Lineage(new_ids=new_ids, stable_ids=stable_all,
                   events=_events(rows, o_ids, stable), similarity=sim)


def _name(value: object) -> str | None:
    """A codebook name, or None for a discovered narrative (whose name may arrive as NaN)."""
    return value if isinstance(value, str) and value else None


def _links(sim: np.ndarray, old_names: list, new_names: list, threshold: float
           ) -> tuple[set[tuple[int, int]], np.ndarray]:
    """The old/new pairs that continue each other, and which of them share a codebook name.

    Named narratives with the same name always link and with different names never do; other
    pairs link when one is the other's best match at ``threshold`` or more.
    """
    allowed = np.ones_like(sim, dtype=bool)
    pinned = np.zeros_like(sim, dtype=bool)
    for i, a in enumerate(old_names):
        for j, b in enumerate(new_names):
            if a is not None and b is not None:
                allowed[i, j] = pinned[i, j] = a == b
    score = np.where(allowed, sim, -np.inf)
    edges: set[tuple[int, int]] = {(int(i), int(j)) for i, j in zip(*np.nonzero(pinned))}
    if score.size:
        for j in range(score.shape[1]):  # each new narrative's best old one
            i = int(np.argmax(score[:, j]))
            if score[i, j] >= threshold:
                edges.add((i, j))
        for i in range(score.shape[0]):  # each old narrative's best new one
            j = int(np.argmax(score[i]))
            if score[i, j] >= threshold:
                edges.add((i, j))
    return edges, pinned


def _stable_ids(o_ids: np.ndarray, n_new: int, sim: np.ndarray, edges: set[tuple[int, int]],
                pinned: np.ndarray, fresh: int) -> tuple[np.ndarray, list[tuple]]:
    """Each new narrative's stable id, and one ``(event, olds, news, similarity)`` per component
    of the link graph; new ids are numbered from ``fresh``."""
    stable = np.full(n_new, -1, dtype=int)
    rows = []
    for olds, news in _components(len(o_ids), n_new, sorted(edges)):
        best = float(max((sim[i, j] for i in olds for j in news if (i, j) in edges), default=np.nan))
        if not news:
            rows.append(("death", olds, [], np.nan))
            continue
        if not olds:
            stable[news[0]] = fresh
            fresh += 1
            rows.append(("birth", [], news, np.nan))
            continue
        # Old ids go to new narratives one to one, pinned names first, then best similarity.
        pairs = sorted(((i, j) for i in olds for j in news if (i, j) in edges),
                       key=lambda p: (not pinned[p], -sim[p], p))
        used_old: set[int] = set()
        for i, j in pairs:
            if i not in used_old and stable[j] == -1:
                stable[j] = o_ids[i]
                used_old.add(i)
        for j in news:
            if stable[j] == -1:
                stable[j] = fresh
                fresh += 1
        kind = {(True, True): "continuation", (True, False): "split", (False, True): "merge"}.get(
            (len(olds) == 1, len(news) == 1), "regroup"
        )
        rows.append((kind, olds, news, best))
    return stable, rows


def _events(rows: list[tuple], o_ids: np.ndarray, stable: np.ndarray) -> pd.DataFrame:
    """The events table, in :data:`EVENTS` order, ids as the runs know them."""
    order = {e: k for k, e in enumerate(EVENTS)}
    records = sorted(
        ({"event": kind, "old_ids": sorted(int(o_ids[i]) for i in olds),
          "new_ids": sorted(int(stable[j]) for j in news), "similarity": similarity}
         for kind, olds, news, similarity in rows),
        key=lambda r: (order[r["event"]], r["old_ids"], r["new_ids"]),
    )
    return pd.DataFrame(records, columns=["event", "old_ids", "new_ids", "similarity"])


def map_ids(ids: Iterable[int], id_map: Mapping[int, int] | None) -> list[int]:
    """Raw model topic ids to the run's stable narrative ids (identity without a map)."""
    if not id_map:
        return [int(i) for i in ids]
    return [int(id_map.get(int(i), int(i))) for i in ids]

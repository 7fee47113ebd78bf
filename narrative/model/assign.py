"""Assignment of paragraphs to narrative centroids: the part of the model that must be stable.

Clustering decides *which* narratives exist; the final assignment of each paragraph is a pure
function of its embedding, the codebook descriptions and the narrative centroids: a paragraph
whose similarity to a codebook narrative's description reaches the zero-shot threshold belongs to
that named narrative (the analyst's definition, the same for every seed); every other paragraph
goes to its nearest centroid by cosine, ``-1`` below a similarity floor. That makes assignments
reproducible from the saved model alone, and far less sensitive to the tiny perturbations that
flip HDBSCAN's density decisions.

That rule is outlier reduction by embeddings, and it is the default (``Settings.outliers =
"reduce"``). With ``"keep"`` the paragraphs BERTopic's clustering left at ``-1`` stay there at fit
time (``outliers`` in :func:`refine_assignments`), and a new paragraph joins its nearest narrative
only within that narrative's radius (:func:`narrative_radii`, ``radii`` in
:func:`assign_paragraphs`), so saved vectors alone still reproduce the rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import UNASSIGNED_ID
from .lineage import map_ids
from .neighbours import unit_rows

#: A narrative's radius is this percentile of its fitted members' similarity to its centroid: a new
#: paragraph must be at least as close as all but the farthest 5% of them (``outliers="keep"``).
RADIUS_PERCENTILE = 5.0
#: Soft weights below this are not stored (:func:`sparse_distribution`).
MIN_STORED_WEIGHT = 0.01


def topic_centroids(embeddings: np.ndarray, topics: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit-length mean embedding of each topic (``-1`` excluded): ``(ids, centroids)``."""
    topics = np.asarray(topics)
    ids = np.array(sorted(t for t in set(topics.tolist()) if t != UNASSIGNED_ID), dtype=int)
    if len(ids) == 0:
        return ids, np.zeros((0, embeddings.shape[1]), dtype=np.float32)
    unit = unit_rows(np.asarray(embeddings, dtype=np.float64))
    centroids = np.stack([unit[topics == t].mean(axis=0) for t in ids])
    return ids, unit_rows(centroids).astype(np.float32)


def zero_shot_choice(
    embeddings: np.ndarray, anchors: np.ndarray, anchor_ids: np.ndarray, *, min_similarity: float
) -> np.ndarray:
    """Named narrative id of each row whose best cosine similarity to a codebook description
    (``anchors``, one row per id in ``anchor_ids``) is at least ``min_similarity``; else ``-1``."""
    n = len(embeddings)
    if anchors is None or len(anchors) == 0:
        return np.full(n, UNASSIGNED_ID, dtype=int)
    sims = unit_rows(np.asarray(embeddings, dtype=np.float64)) @ unit_rows(
        np.asarray(anchors, dtype=np.float64)).T
    best = sims.argmax(axis=1)
    best_sim = sims[np.arange(n), best]
    return np.where(best_sim >= min_similarity, np.asarray(anchor_ids)[best], UNASSIGNED_ID).astype(int)


def assign_to_centroids(
    embeddings: np.ndarray, ids: np.ndarray, centroids: np.ndarray, *, min_similarity: float,
    fixed: np.ndarray | None = None, radii: np.ndarray | None = None,
    closed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid by cosine for each row; ``-1`` where the best similarity is below the floor.

    Rows where ``fixed`` holds an id in ``ids`` (see :func:`zero_shot_choice`) keep that id.
    With ``radii`` (one per centroid, :func:`narrative_radii`) the floor of each centroid is
    ``max(min_similarity, its radius)``. Centroids whose id is in ``closed`` (the named narratives,
    which take only the paragraphs they accept) are joined by fixed rows only. Returns
    ``(topics, similarity to the chosen or nearest centroid)``. Ties go to the lower id.
    """
    n = len(embeddings)
    if len(ids) == 0:
        return np.full(n, UNASSIGNED_ID, dtype=int), np.zeros(n)
    sims = unit_rows(np.asarray(embeddings, dtype=np.float64)) @ centroids.astype(np.float64).T
    open_sims = sims
    if closed is not None and len(closed):
        open_sims = np.where(np.isin(ids, closed)[None, :], -np.inf, sims)
    best = open_sims.argmax(axis=1)
    if fixed is not None:
        fixed = np.asarray(fixed, dtype=int)
        order = np.argsort(ids)
        pos = np.clip(np.searchsorted(ids[order], fixed), 0, len(ids) - 1)
        pinned = np.where((ids[order][pos] == fixed) & (fixed != UNASSIGNED_ID), order[pos], -1)
        best = np.where(pinned >= 0, pinned, best)
    best_sim = sims[np.arange(n), best]
    reachable = np.isfinite(open_sims[np.arange(n), best])  # not a closed centroid
    if radii is None:
        keep = reachable & (best_sim >= min_similarity)
    else:
        keep = reachable & (
            best_sim >= np.maximum(min_similarity, np.asarray(radii, dtype=np.float64))[best])
    if fixed is not None:
        keep |= pinned >= 0
    topics = np.where(keep, ids[best], UNASSIGNED_ID)
    return topics.astype(int), best_sim


def refine_assignments(
    embeddings: np.ndarray,
    topics: np.ndarray,
    *,
    min_similarity: float,
    n_iter: int = 2,
    fixed: np.ndarray | None = None,
    outliers: np.ndarray | None = None,
    closed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start from a clustering and alternate centroid update / nearest-centroid assignment.

    A few k-means-style steps on the sphere: topic ids are kept (a topic that loses every member
    keeps its last centroid so ids never shift); rows with a ``fixed`` id keep it throughout; rows
    flagged in ``outliers`` (a boolean mask: ``outliers="keep"``) stay ``-1`` throughout and shape
    no centroid; ``closed`` ids are joined by fixed rows only (see :func:`assign_to_centroids`).
    Returns ``(topics, similarity, ids, centroids)``.
    """
    ids, centroids = topic_centroids(embeddings, topics)
    current = np.asarray(topics, dtype=int)
    sims = np.zeros(len(current))
    for _ in range(max(1, n_iter)):
        current, sims = assign_to_centroids(embeddings, ids, centroids, min_similarity=min_similarity,
                                            fixed=fixed, closed=closed)
        current = _keep_outliers(current, outliers)
        new_ids, new_centroids = topic_centroids(embeddings, current)
        lookup = {t: i for i, t in enumerate(new_ids)}
        centroids = np.stack(
            [new_centroids[lookup[t]] if t in lookup else centroids[i] for i, t in enumerate(ids)]
        ) if len(ids) else centroids
    current, sims = assign_to_centroids(embeddings, ids, centroids, min_similarity=min_similarity,
                                        fixed=fixed, closed=closed)
    return _keep_outliers(current, outliers), sims, ids, centroids


def _keep_outliers(topics: np.ndarray, outliers: np.ndarray | None) -> np.ndarray:
    """``topics`` with the rows flagged in ``outliers`` set back to ``-1`` (unchanged without one)."""
    if outliers is None:
        return topics
    return np.where(np.asarray(outliers, dtype=bool), UNASSIGNED_ID, topics)


def narrative_radii(
    similarity: np.ndarray, topics: np.ndarray, ids: np.ndarray, *,
    percentile: float = RADIUS_PERCENTILE,
) -> np.ndarray:
    """How far out the fit placed paragraphs in each narrative (``ids`` order, float32): the
    ``percentile``-th percentile of its members' cosine similarity to its centroid (codebook
    matches included). A narrative without members gets ``+inf``: only codebook matches join it.
    """
    similarity, topics = np.asarray(similarity, dtype=np.float64), np.asarray(topics)
    radii = [np.percentile(similarity[topics == t], percentile) if (topics == t).any() else np.inf
             for t in np.asarray(ids)]
    return np.asarray(radii, dtype=np.float32)


def assign_paragraphs(
    embeddings: np.ndarray, *, ids: np.ndarray, centroids: np.ndarray, min_similarity: float,
    anchors: np.ndarray | None = None, anchor_ids: np.ndarray | None = None,
    anchor_min_similarity: float = 1.0, radii: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The fitted model's whole rule (``NarrativeModel.assignment_rule()`` gives its arguments):
    codebook matches first, nearest centroid for the rest (within its radius, when given)."""
    fixed = None
    if anchors is not None and len(anchors):
        fixed = zero_shot_choice(embeddings, anchors, anchor_ids, min_similarity=anchor_min_similarity)
    return assign_to_centroids(embeddings, ids, centroids, min_similarity=min_similarity, fixed=fixed,
                               radii=radii)


def soft_distribution(
    embeddings: np.ndarray, centroids: np.ndarray, *, temperature: float = 0.05
) -> np.ndarray:
    """Softmax over cosine similarities to the centroids: a paragraph's narrative mixture."""
    if len(centroids) == 0:
        return np.zeros((len(embeddings), 0))
    sims = unit_rows(np.asarray(embeddings, dtype=np.float64)) @ centroids.astype(np.float64).T
    z = (sims - sims.max(axis=1, keepdims=True)) / temperature
    w = np.exp(z)
    return w / w.sum(axis=1, keepdims=True)


def sparse_distribution(
    weights: np.ndarray, *, min_weight: float = MIN_STORED_WEIGHT
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The weights worth storing of each row of a soft distribution: ``(rows, columns, weights)``.

    Weights below ``min_weight`` are dropped (a row's largest weight is always kept) and the kept
    ones are rescaled to sum to one per row, so an assigned paragraph's whole vote stays with
    narratives instead of leaking to ``unassigned`` in soft shares; the cost is that each kept
    weight grows by at most the dropped mass (under ``min_weight`` times the number of narratives).
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.size == 0:
        empty = np.zeros(0, dtype=int)
        return empty, empty, np.zeros(0)
    keep = (weights >= min_weight) | (weights == weights.max(axis=1, keepdims=True))
    kept = np.where(keep, weights, 0.0)
    kept /= kept.sum(axis=1, keepdims=True)
    rows, cols = np.nonzero(keep)
    return rows, cols, kept[rows, cols]


def distribution_rows(
    model,
    vectors: np.ndarray,
    text_hashes,
    paragraphs: pd.DataFrame,
    assignments: pd.DataFrame,
    *,
    id_map: dict[int, int] | None = None,
    min_weight: float = MIN_STORED_WEIGHT,
    chunk_size: int = 65_536,
    texts=None,
) -> pd.DataFrame:
    """The soft narrative mixture of every assigned paragraph in ``assignments``, sparse: the
    ``paragraph_id, narrative_id, weight`` rows ``Store.save_run`` stores as ``distributions``.

    ``vectors`` has one row per distinct text in ``text_hashes``; ``paragraphs`` maps each
    paragraph_id to its text_hash. Weights are ``model.distribution`` (softmax over centroid
    similarity; columns mapped to the run's narrative ids by ``id_map``) pruned and rescaled by
    :func:`sparse_distribution`. Unassigned paragraphs get no rows, so they keep
    counting as unassigned in soft shares. Texts are weighted in chunks to bound memory.
    ``texts`` (rows aligned with ``text_hashes``) are needed when the codebook gates a named
    narrative on its ``requires`` terms.
    """
    assigned = assignments.loc[assignments["narrative_id"] != UNASSIGNED_ID, ["paragraph_id"]].merge(
        paragraphs[["paragraph_id", "text_hash"]], on="paragraph_id", how="inner"
    )
    hashes = assigned["text_hash"].drop_duplicates().to_numpy()
    row_of = pd.Index(list(text_hashes)).get_indexer(hashes)
    if (row_of < 0).any():
        raise ValueError(f"{int((row_of < 0).sum())} assigned paragraph text(s) have no vector")
    columns = np.asarray(map_ids(model.centroid_ids_, id_map), dtype=int)
    parts = [pd.DataFrame({"text_hash": hashes[:0], "narrative_id": columns[:0], "weight": 0.0})]
    texts = None if texts is None else np.asarray(list(texts), dtype=object)
    for start in range(0, len(hashes), chunk_size):
        rows_here = row_of[start:start + chunk_size]
        rows, cols, weights = sparse_distribution(
            model.distribution(np.asarray(vectors)[rows_here],
                               None if texts is None else texts[rows_here].tolist()),
            min_weight=min_weight,
        )
        parts.append(pd.DataFrame({"text_hash": hashes[start:start + chunk_size][rows],
                                   "narrative_id": columns[cols], "weight": weights}))
    per_text = pd.concat(parts, ignore_index=True)
    out = assigned.merge(per_text, on="text_hash")[["paragraph_id", "narrative_id", "weight"]]
    return out.sort_values(["paragraph_id", "narrative_id"], ignore_index=True)

"""Sub-narratives: finer clusters inside each narrative, so the top level stays readable.

The top level is kept to a few dozen narratives an analyst can read (on ukraine_media_2022 about
35, where plain BERTopic makes 433). The finer structure is not thrown away: each narrative's
paragraphs are clustered again (HDBSCAN, leaf clusters, on the model's UMAP coordinates) and every
member then joins its nearest sub-narrative centroid, exactly as the top level assigns paragraphs
to narratives, so new paragraphs get a sub-narrative from the saved centroids alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .assign import assign_to_centroids, topic_centroids
from ..schema import UNASSIGNED_ID

#: Narratives smaller than this are not split.
MIN_PARENT_SIZE = 40


def sub_cluster_size_for(parent_size: int) -> int:
    """HDBSCAN min_cluster_size inside one narrative: about half the square root of its size."""
    return int(max(8, round(0.5 * math.sqrt(max(parent_size, 1)))))


@dataclass(frozen=True)
class SubNarratives:
    """``table``: one row per sub-narrative (narrative_id, sub_id, label, size, top_terms);
    ``subtopics``: each paragraph's sub id within its narrative (-1: none);
    ``keys`` (m × 2: narrative_id, sub_id) and ``centroids`` (m × dim): what assignment needs."""

    table: pd.DataFrame
    subtopics: np.ndarray
    keys: np.ndarray
    centroids: np.ndarray

    @classmethod
    def empty(cls, n_docs: int, dim: int) -> "SubNarratives":
        """No sub-narratives: every paragraph's sub id is -1."""
        return cls(
            table=pd.DataFrame(columns=["narrative_id", "sub_id", "label", "size", "top_terms"]),
            subtopics=np.full(n_docs, UNASSIGNED_ID, dtype=int),
            keys=np.zeros((0, 2), dtype=int),
            centroids=np.zeros((0, dim), dtype=np.float32),
        )


def _distinctive_terms(texts: list[str], labels: np.ndarray, vectorizer, top_n: int) -> list[list[str]]:
    """c-TF-IDF terms of each sub-cluster against its siblings (what sets it apart in its parent)."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from scipy import sparse

    bow = vectorizer.transform(texts)
    n_sub = int(labels.max()) + 1
    indicator = sparse.csr_matrix((np.ones(len(labels)), (labels, np.arange(len(labels)))),
                                  shape=(n_sub, len(labels)))
    per_class = indicator @ bow
    present = np.asarray(per_class.sum(axis=0)).ravel() > 0  # the parent's own vocabulary only
    per_class = per_class[:, present]
    words = vectorizer.get_feature_names_out()[present]
    if per_class.shape[1] == 0:
        return [[] for _ in range(n_sub)]
    scores = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(per_class).toarray()
    out = []
    for row in scores:
        top = [i for i in np.argsort(-row, kind="stable")[:top_n] if row[i] > 0]
        out.append([str(words[i]) for i in top])
    return out


def fit_subnarratives(
    texts: list[str],
    embeddings: np.ndarray,
    reduced: np.ndarray,
    topics: np.ndarray,
    *,
    vectorizer,
    top_n_words: int = 10,
    min_parent_size: int = MIN_PARENT_SIZE,
) -> SubNarratives:
    """Cluster each narrative's paragraphs into sub-narratives (see the module docstring).

    ``reduced`` are the coordinates clustered (UMAP's output, rows aligned with ``embeddings``);
    a narrative whose members form fewer than two clusters has no sub-narratives. Sub ids are
    local to their narrative, numbered by size (0 = largest).
    """
    from hdbscan import HDBSCAN

    topics = np.asarray(topics, dtype=int)
    subtopics = np.full(len(topics), UNASSIGNED_ID, dtype=int)
    rows, keys, centroids = [], [], []
    for parent in sorted(set(topics.tolist()) - {UNASSIGNED_ID}):
        members = np.flatnonzero(topics == parent)
        min_size = sub_cluster_size_for(len(members))
        if len(members) < max(min_parent_size, 2 * min_size):
            continue
        labels = HDBSCAN(min_cluster_size=min_size, cluster_selection_method="leaf").fit(
            reduced[members]
        ).labels_
        ids, cents = topic_centroids(embeddings[members], labels)
        if len(ids) < 2:
            continue
        # Every member joins its nearest sub-centroid (no floor: it already belongs to the parent).
        # Sub ids are then renumbered by size, so they do not depend on HDBSCAN's internal order,
        # and members are assigned again with the renumbered centroids (what transform uses).
        first, _ = assign_to_centroids(embeddings[members], ids, cents, min_similarity=-1.0)
        sizes = pd.Series(first).value_counts()
        order = [i for i in sorted(range(len(ids)), key=lambda i: (-int(sizes.get(ids[i], 0)), i))
                 if sizes.get(ids[i], 0) > 0]
        if len(order) < 2:
            continue
        cents = cents[order]
        local, _ = assign_to_centroids(
            embeddings[members], np.arange(len(order)), cents, min_similarity=-1.0
        )
        subtopics[members] = local
        terms = _distinctive_terms([texts[i] for i in members], local, vectorizer, top_n_words)
        for k in range(len(order)):
            rows.append({
                "narrative_id": int(parent), "sub_id": k,
                "label": ", ".join(terms[k][:3]) or f"sub-narrative {parent}.{k}",
                "size": int((local == k).sum()), "top_terms": terms[k],
            })
            keys.append((int(parent), k))
            centroids.append(cents[k])
    dim = embeddings.shape[1]
    if not rows:
        return SubNarratives.empty(len(topics), dim)
    return SubNarratives(
        table=pd.DataFrame(rows, columns=["narrative_id", "sub_id", "label", "size", "top_terms"]),
        subtopics=subtopics,
        keys=np.array(keys, dtype=int).reshape(-1, 2),
        centroids=np.array(centroids, dtype=np.float32).reshape(-1, dim),
    )


def assign_subnarratives(
    embeddings: np.ndarray, topics: np.ndarray, keys: np.ndarray, centroids: np.ndarray
) -> np.ndarray:
    """Each paragraph's nearest sub-narrative of its own narrative (-1 where it has none)."""
    topics = np.asarray(topics, dtype=int)
    out = np.full(len(topics), UNASSIGNED_ID, dtype=int)
    for parent in np.unique(keys[:, 0]) if len(keys) else []:
        rows = np.flatnonzero(keys[:, 0] == parent)
        members = np.flatnonzero(topics == parent)
        if len(members):
            out[members], _ = assign_to_centroids(
                embeddings[members], keys[rows, 1], centroids[rows], min_similarity=-1.0
            )
    return out

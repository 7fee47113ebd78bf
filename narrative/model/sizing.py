"""How big a narrative may be: HDBSCAN's cluster sizes scaled to the corpus."""

from __future__ import annotations

import math

__all__ = ["cluster_size_for", "max_cluster_size_for"]


def cluster_size_for(n_docs: int) -> int:
    """HDBSCAN min_cluster_size scaled to the corpus: about half the square root of its size.

    BERTopic's fixed default (10) finds nothing in a few dozen paragraphs and hundreds of tiny
    topics in tens of thousands; sqrt scaling keeps the number of narratives readable.
    """
    return int(min(500, max(3, round(0.5 * math.sqrt(max(n_docs, 1))))))


def max_cluster_size_for(n_docs: int, min_cluster: int, share: float | None) -> int:
    """HDBSCAN ``max_cluster_size`` for ``share`` of the ``n_docs`` paragraphs it clusters (0 = no
    cap, as in hdbscan); never below four minimum clusters, so small inputs still form clusters."""
    if not share:
        return 0
    return max(4 * min_cluster, int(share * n_docs))

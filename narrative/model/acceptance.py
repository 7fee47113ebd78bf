"""Acceptance of paragraphs by named narratives: the codebook decides, and may say "none" or "two".

A named narrative takes a paragraph only when the paragraph passes the narrative's acceptance
(:class:`narrative.codebook.Acceptance`): one of its ``requires`` terms is in the text, its best
cosine similarity to the narrative's description or example sentences (its *typicality*) reaches
the narrative's threshold, it is closer to them than to the narrative's counter-examples and the
codebook's background sentences (by the background margin), and it is not clearly closer to
another named narrative (the competitor margin). Every narrative that accepts a paragraph carries
it; the most typical one is its hard assignment. A paragraph that no named narrative accepts is
left to the discovered narratives (or to none): outlier reduction never forces it into a named one.

Pure numpy over arrays (:class:`AcceptanceRule`), so a saved model applies it without the codebook
texts or the embedding model; only the ``requires`` gate reads the paragraph's text
(:func:`requires_gates`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..schema import UNASSIGNED_ID
from .neighbours import unit_rows

__all__ = ["AcceptanceRule", "accept", "best_accepted", "build_rule", "requires_gates"]

#: Owner of a negative sentence that applies to every named narrative (the codebook's background).
BACKGROUND = -1


@dataclass(frozen=True)
class AcceptanceRule:
    """Everything acceptance needs, as arrays: one row of ``ids``, ``thresholds`` and ``patterns``
    per named narrative; ``prototypes`` (description and examples) and ``negatives``
    (counter-examples, and background sentences with owner :data:`BACKGROUND`) as unit vectors
    with the index of the narrative they belong to."""

    ids: np.ndarray
    thresholds: np.ndarray
    patterns: tuple[str | None, ...]
    prototypes: np.ndarray
    prototype_owner: np.ndarray
    negatives: np.ndarray
    negative_owner: np.ndarray
    background_margin: float
    competitor_margin: float

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def has_gates(self) -> bool:
        return any(p is not None for p in self.patterns)


def build_rule(codebook, ids: Sequence[int], encode) -> AcceptanceRule:
    """The rule of ``codebook``'s named narratives, with narrative ids ``ids`` (codebook order);
    ``encode`` embeds a list of texts (the fit's embedder)."""
    named = codebook.named
    acceptance = codebook.acceptance
    texts, owner = [], []
    for k, spec in enumerate(named):
        texts += list(spec.prototypes)
        owner += [k] * len(spec.prototypes)
    negatives, negative_owner = [], []
    for k, spec in enumerate(named):
        negatives += list(spec.counter_examples)
        negative_owner += [k] * len(spec.counter_examples)
    negatives += list(codebook.background)
    negative_owner += [BACKGROUND] * len(codebook.background)
    vectors = np.asarray(encode(texts + negatives), dtype=np.float64)
    vectors = unit_rows(vectors).astype(np.float32)
    return AcceptanceRule(
        ids=np.asarray(ids, dtype=int),
        thresholds=np.array([acceptance.threshold if s.threshold is None else s.threshold
                             for s in named], dtype=np.float32),
        patterns=tuple(None if (p := s.requires_pattern()) is None else p.pattern for s in named),
        prototypes=vectors[:len(texts)],
        prototype_owner=np.asarray(owner, dtype=int),
        negatives=vectors[len(texts):],
        negative_owner=np.asarray(negative_owner, dtype=int),
        background_margin=float(acceptance.background_margin),
        competitor_margin=float(acceptance.competitor_margin),
    )


def requires_gates(texts: Sequence[str] | None, patterns: Sequence[str | None]) -> np.ndarray:
    """``(n, K)``: whether each text contains one of each narrative's ``requires`` terms (True for a
    narrative without any). ``texts`` None: all True only when no narrative has terms."""
    k = len(patterns)
    if texts is None:
        if any(p is not None for p in patterns):
            raise ValueError("this model's codebook gates narratives on their 'requires' terms: "
                             "pass the paragraphs' texts")
        return np.ones((0, k), dtype=bool)
    texts = list(texts)
    gates = np.ones((len(texts), k), dtype=bool)
    for j, pattern in enumerate(patterns):
        if pattern is not None:
            compiled = re.compile(pattern, re.IGNORECASE)
            gates[:, j] = [compiled.search(t) is not None for t in texts]
    return gates


def _best_by_owner(sims: np.ndarray, owner: np.ndarray, k: int) -> np.ndarray:
    """``(n, k)``: each row's largest similarity among the columns owned by each of ``k`` owners
    (``-inf`` for an owner without columns)."""
    out = np.full((sims.shape[0], k), -np.inf)
    for j in range(k):
        cols = owner == j
        if cols.any():
            out[:, j] = sims[:, cols].max(axis=1)
    return out


def typicality(embeddings: np.ndarray, rule: AcceptanceRule) -> np.ndarray:
    """``(n, K)``: each paragraph's best cosine similarity to each named narrative's description
    or examples: how close it is to what the codebook says."""
    unit = unit_rows(np.asarray(embeddings, dtype=np.float64))
    return _best_by_owner(unit @ rule.prototypes.astype(np.float64).T, rule.prototype_owner,
                          len(rule))


def accept(embeddings: np.ndarray, rule: AcceptanceRule, gates: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """``(accepted, typicality)``, both ``(n, K)``: which named narratives accept each paragraph
    (see the module docstring) and its typicality for each. ``gates`` from
    :func:`requires_gates` (None: no gate)."""
    n, k = len(embeddings), len(rule)
    if k == 0 or n == 0:
        return np.zeros((n, k), dtype=bool), np.zeros((n, k))
    unit = unit_rows(np.asarray(embeddings, dtype=np.float64))
    typical = typicality(unit, rule)
    negative = np.full((n, k), -np.inf)
    if len(rule.negatives):
        sims = unit @ rule.negatives.astype(np.float64).T
        negative = _best_by_owner(sims, rule.negative_owner, k)
        background = rule.negative_owner == BACKGROUND
        if background.any():
            negative = np.maximum(negative, sims[:, background].max(axis=1, keepdims=True))
    if k > 1:
        order = np.sort(typical, axis=1)
        best, second = order[:, -1:], order[:, -2:-1]
        competitor = np.where(typical >= best, second, best)  # the best *other* narrative
    else:
        competitor = np.full((n, 1), -np.inf)
    accepted = (
        (typical >= rule.thresholds[None, :])
        & (typical - negative >= -rule.background_margin)
        & (typical >= competitor - rule.competitor_margin)
    )
    if gates is not None and gates.size:
        accepted &= gates
    return accepted, typical


def best_accepted(accepted: np.ndarray, typical: np.ndarray, ids: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Each paragraph's hard named assignment: the most typical accepted narrative's id (-1 when
    none accepts it), and that typicality (its best typicality when none accepts it)."""
    n = len(accepted)
    if accepted.shape[1] == 0:
        return np.full(n, UNASSIGNED_ID, dtype=int), np.zeros(n)
    masked = np.where(accepted, typical, -np.inf)
    best = masked.argmax(axis=1)
    has = accepted.any(axis=1)
    topics = np.where(has, np.asarray(ids)[best], UNASSIGNED_ID).astype(int)
    return topics, np.where(has, typical[np.arange(n), best], typical.max(axis=1))


def accepted_weights(accepted: np.ndarray, typical: np.ndarray) -> np.ndarray:
    """``(n, K)``: a paragraph's soft membership of the named narratives that accept it, in
    proportion to its typicality for each (rows without an acceptance are all zero)."""
    weights = np.where(accepted, np.clip(typical, 1e-6, None), 0.0)
    total = weights.sum(axis=1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def with_named_weights(mixture: np.ndarray, columns: np.ndarray, named_ids: np.ndarray,
                       accepted: np.ndarray, typical: np.ndarray) -> np.ndarray:
    """``mixture`` (rows: paragraphs, ``columns``: narrative ids) with the rows of paragraphs
    that named narratives accept replaced by their :func:`accepted_weights` over those narratives."""
    has = accepted.any(axis=1) if accepted.shape[1] else np.zeros(len(mixture), dtype=bool)
    if not has.any():
        return mixture
    out = mixture.copy()
    out[has] = 0.0
    column = {int(t): j for j, t in enumerate(columns)}
    weights = accepted_weights(accepted, typical)
    for k, t in enumerate(named_ids):
        if int(t) in column:
            out[has, column[int(t)]] = weights[has, k]
    total = out[has].sum(axis=1, keepdims=True)
    out[has] = np.divide(out[has], total, out=np.zeros_like(out[has]), where=total > 0)
    return out

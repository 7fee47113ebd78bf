"""Framing drift inside a narrative: its distinctive terms and its centroid, per period and outlet.

A narrative's share can stay flat while the way it is told changes. For each narrative, the
paragraphs of each period (overall, and per outlet) form one class; class-based TF-IDF (as in
BERTopic's topics_over_time, computed here directly because the fitted BERTopic is not kept)
gives the terms that set the period apart from the narrative's other periods, and the cosine
distance of the period's embedding centroid from the narrative's overall centroid gives the size
of the shift. Small cells have noisy centroids, so each shift comes with the shift expected from a
random sample of the same size (``shift_null``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .drift import ALL_OUTLETS
from .schema import UNASSIGNED

COLUMNS = ["narrative", "outlet", "period", "n_paragraphs", "top_terms", "new_terms",
           "centroid_shift", "shift_null", "shift_excess", "insufficient"]


def _lookup(frame: pd.DataFrame, table: dict | None) -> list:
    """Value for each paragraph from ``table`` keyed by paragraph_id, else by text_hash."""
    if not table:
        return [None] * len(frame)
    hashes = frame["text_hash"] if "text_hash" in frame else [None] * len(frame)
    return [table.get(p, table.get(h)) for p, h in zip(frame["paragraph_id"], hashes)]


def class_tfidf(counts: np.ndarray) -> np.ndarray:
    """c-TF-IDF of a classes × terms count matrix: tf normalised per class × log(1 + A / f_t),
    with A the mean number of words per class and f_t the term's frequency over all classes."""
    counts = np.asarray(counts, dtype=float)
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    avg = counts.sum() / max(len(counts), 1)
    idf = np.log(1 + avg / np.maximum(counts.sum(axis=0), 1))
    return tf * idf


def _doc_terms(texts: list[str]) -> tuple[Any, np.ndarray] | None:
    """Document × term counts of ``texts`` (English stop words out, words of 3+ letters; terms in
    at least 2 texts once there are 20), or None when no term is left."""
    from sklearn.feature_extraction.text import CountVectorizer

    min_df = 2 if len(texts) >= 20 else 1
    vectorizer = CountVectorizer(stop_words="english", min_df=min_df, token_pattern=r"(?u)\b[^\W\d_]{3,}\b")
    try:
        doc_terms = vectorizer.fit_transform(texts)
    except ValueError:  # no term left (empty or stop words only)
        return None
    return doc_terms.tocsr(), np.array(vectorizer.get_feature_names_out())


def _top_terms(
    doc_terms: Any, vocab: np.ndarray, classes: np.ndarray, top_n: int
) -> tuple[dict[object, list[str]], list[str]]:
    """Top c-TF-IDF terms per class and the most frequent terms overall."""
    from scipy import sparse

    labels, codes = np.unique(classes, return_inverse=True)
    membership = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(labels), len(codes))
    )
    counts = (membership @ doc_terms).toarray().astype(float)  # term counts per class
    scores = class_tfidf(counts)
    top = {}
    for k, label in enumerate(labels):
        order = np.argsort(-scores[k], kind="stable")[:top_n]
        top[label] = [str(vocab[j]) for j in order if counts[k, j] > 0]
    overall = vocab[np.argsort(-counts.sum(axis=0), kind="stable")[: 3 * top_n]]
    return top, [str(t) for t in overall]


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)


def _cos_distance(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(1 - a @ b / (na * nb)) if na > 0 and nb > 0 else float("nan")


def framing_drift(
    labelled: pd.DataFrame,
    *,
    narratives: list[str] | None = None,
    texts: dict[str, str] | None = None,
    embeddings: dict[str, np.ndarray] | None = None,
    top_n: int = 8,
    min_paragraphs: int = 5,
    by_outlet: bool = True,
    n_null: int = 20,
    seed: int = 0,
) -> pd.DataFrame:
    """Per narrative × period (outlet ``all``, and per outlet when ``by_outlet``): top terms and
    centroid shift.

    ``texts`` and ``embeddings`` are keyed by paragraph_id or text_hash; either may be missing
    (then its columns are empty). ``top_terms``: the cell's distinctive terms against the same
    narrative's other cells; ``new_terms``: those not among the narrative's most frequent terms
    overall. ``centroid_shift``: cosine distance of the cell's mean (unit) embedding from the
    narrative's overall mean; ``shift_null``: the mean shift of random samples of the same size
    from the narrative's paragraphs; ``shift_excess`` = shift − null. Cells with fewer than
    ``min_paragraphs`` paragraphs are ``insufficient`` and get no terms or shift.
    """
    rng = np.random.default_rng(seed)
    dated = labelled[labelled["period"].notna()]
    names = narratives or sorted(dated["narrative"].unique())
    rows = []
    for narrative in names:
        if narrative == UNASSIGNED:
            continue
        frame = dated[dated["narrative"] == narrative].reset_index(drop=True)
        if frame.empty:
            continue
        cells = [(ALL_OUTLETS, frame["period"].to_numpy())]
        if by_outlet:
            cells.append(("outlet", (frame["period"] + "|" + frame["outlet"]).to_numpy()))
        doc_texts = _lookup(frame, texts)
        has_text = np.array([t is not None for t in doc_texts])
        vecs = _lookup(frame, embeddings)
        has_vec = np.array([v is not None for v in vecs])
        unit = _unit(np.vstack([v for v in vecs if v is not None]).astype(float)) if has_vec.any() else None
        centre = unit.mean(axis=0) if unit is not None else None
        vec_row = np.cumsum(has_vec) - 1
        null_cache: dict[int, float] = {}
        counted = _doc_terms([doc_texts[i] for i in np.flatnonzero(has_text)]) if has_text.any() else None
        for view, classes in cells:
            terms, overall = ({}, [])
            if counted is not None:  # one vectorizer fit per narrative, shared by both views
                terms, overall = _top_terms(*counted, classes[has_text], top_n)
            for label in np.unique(classes):
                members = np.flatnonzero(classes == label)
                period, outlet = (label, ALL_OUTLETS) if view == ALL_OUTLETS else label.split("|", 1)
                enough = len(members) >= min_paragraphs
                top = terms.get(label, []) if enough else []
                shift = null = np.nan
                with_vec = members[has_vec[members]]
                if enough and unit is not None and len(with_vec) >= min_paragraphs:
                    shift = _cos_distance(unit[vec_row[with_vec]].mean(axis=0), centre)
                    m = len(with_vec)
                    if m not in null_cache:
                        draws = [
                            _cos_distance(unit[rng.choice(len(unit), m, replace=False)].mean(axis=0), centre)
                            for _ in range(n_null)
                        ] if m < len(unit) else [0.0]
                        null_cache[m] = float(np.mean(draws))
                    null = null_cache[m]
                rows.append(
                    (narrative, outlet, period, len(members), ", ".join(top),
                     ", ".join(t for t in top if t not in overall), shift, null, shift - null,
                     not enough)
                )
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values(["narrative", "outlet", "period"], ignore_index=True)

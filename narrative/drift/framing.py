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

from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..schema import UNASSIGNED
from .shares import ALL_OUTLETS, cell_rng

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
    """Document × term counts of ``texts`` (English stop words out, words of 3+ letters that the
    texts use like nouns, adjectives or names, when they show it; terms in at least 2 texts once
    there are 20), or None when no term is left."""
    from sklearn.feature_extraction.text import CountVectorizer

    from ..model.labels import noun_like_words

    min_df = 2 if len(texts) >= 20 else 1
    vectorizer = CountVectorizer(stop_words="english", min_df=min_df, token_pattern=r"(?u)\b[^\W\d_]{3,}\b")
    try:
        doc_terms = vectorizer.fit_transform(texts)
    except ValueError:  # no term left (empty or stop words only)
        return None
    vocab = np.array(vectorizer.get_feature_names_out())
    keep = np.isin(vocab, list(noun_like_words(texts, vocab)))
    if not keep.any():  # texts without sentences (no determiner, no capital) say nothing of it
        return doc_terms.tocsr(), vocab
    return doc_terms.tocsr()[:, keep], vocab[keep]


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
        top[label] = [str(vocab[j]) for j in _largest(scores[k], top_n) if counts[k, j] > 0]
    overall = vocab[np.argsort(-counts.sum(axis=0), kind="stable")[: 3 * top_n]]
    return top, [str(t) for t in overall]


def _largest(values: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest values, largest first, ties by index: the first ``n`` of a
    stable argsort of ``-values``, without sorting the whole vocabulary."""
    if n >= len(values):
        return np.argsort(-values, kind="stable")
    if n <= 0:
        return np.zeros(0, dtype=np.intp)
    kth = np.partition(values, len(values) - n)[len(values) - n]  # the n-th largest value
    candidates = np.flatnonzero(values >= kth)  # every tie with it too, in index order
    return candidates[np.argsort(-values[candidates], kind="stable")[:n]]


def null_shifts(unit: np.ndarray, centre: np.ndarray, sizes, n_null: int,
                rng: np.random.Generator) -> dict[int, float]:
    """The centroid shift expected by chance for a cell of each size: the mean cosine distance
    from ``centre`` of the mean of ``m`` rows of ``unit`` drawn at random without replacement
    (``n_null`` draws), for every ``m`` in ``sizes``; 0 when ``m`` is all the rows.

    The first ``m`` rows of a random permutation are such a draw, so each of the ``n_null``
    permutations gives every size at once from running sums: the cost does not grow with the
    number of sizes (a narrative has hundreds: one per period × outlet cell size). The sums come
    from one sparse product (each row of ``unit`` counted in the segment between two sizes its
    place in each permutation falls in), without copying ``unit`` in permuted order.
    """
    from scipy import sparse

    n = len(unit)
    wanted = np.array(sorted({int(m) for m in sizes if 0 < int(m) < n}), dtype=np.intp)
    out = {int(m): 0.0 for m in sizes if int(m) >= n}
    if len(wanted) == 0:
        return out
    k = len(wanted) + 1  # segments: before the first size, between sizes, after the last
    segment = np.searchsorted(wanted, np.arange(n), side="right")  # of each place 0..n-1
    rows = (np.arange(n_null)[:, None] * k + segment).ravel()
    cols = np.concatenate([rng.permutation(n) for _ in range(n_null)])
    pick = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_null * k, n))
    sums = np.cumsum((pick @ unit).reshape(n_null, k, -1), axis=1)[:, :-1]
    means = sums / wanted[None, :, None]
    norms = np.linalg.norm(means, axis=2) * np.linalg.norm(centre)
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = np.where(norms > 0, 1 - means @ centre / norms, np.nan)
    out.update(zip(wanted.tolist(), distance.mean(axis=0).tolist()))
    return out


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)


def _cos_distance(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(1 - a @ b / (na * nb)) if na > 0 and nb > 0 else float("nan")


def framing_drift(
    labelled: pd.DataFrame,
    *,
    narratives: Iterable[str] | None = None,
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

    ``narratives`` are taken one at a time, each with its own random draws (from ``seed`` and
    its name): an iterator that hands them out to several processes in turn splits the work,
    and the rows are the same whoever computes them.
    """
    dated = labelled[labelled["period"].notna()]
    names = sorted(dated["narrative"].unique()) if narratives is None else narratives
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
        counted = _doc_terms([doc_texts[i] for i in np.flatnonzero(has_text)]) if has_text.any() else None
        cell_rows = []  # this narrative's rows, the null shift filled in once all sizes are known
        for view, classes in cells:
            terms, overall = ({}, [])
            if counted is not None:  # one vectorizer fit per narrative, shared by both views
                terms, overall = _top_terms(*counted, classes[has_text], top_n)
            for label in np.unique(classes):
                members = np.flatnonzero(classes == label)
                period, outlet = (label, ALL_OUTLETS) if view == ALL_OUTLETS else label.split("|", 1)
                enough = len(members) >= min_paragraphs
                top = terms.get(label, []) if enough else []
                shift, m = np.nan, 0
                with_vec = members[has_vec[members]]
                if enough and unit is not None and len(with_vec) >= min_paragraphs:
                    shift = _cos_distance(unit[vec_row[with_vec]].mean(axis=0), centre)
                    m = len(with_vec)
                cell_rows.append((narrative, outlet, period, len(members), ", ".join(top),
                                  ", ".join(t for t in top if t not in overall), shift, m,
                                  not enough))
        rng = cell_rng(seed, "framing", narrative)  # its own: narratives may go to any process
        nulls = (null_shifts(unit, centre, [r[7] for r in cell_rows if r[7]], n_null, rng)
                 if unit is not None else {})
        for *head, shift, m, insufficient in cell_rows:
            null = nulls[m] if m else np.nan
            rows.append((*head, shift, null, shift - null, insufficient))
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values(["narrative", "outlet", "period"], ignore_index=True)

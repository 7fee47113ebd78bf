"""Topic quality and agreement with labels: NPMI coherence, topic diversity, ARI and NMI.

Every system is scored the same way, so numbers from narrative and from plain BERTopic compare:

- **NPMI** (gensim's ``c_npmi``): each topic's top-10 terms against the corpus, tokenised by
  scikit-learn's default ``CountVectorizer`` analyzer (lower case, tokens of two or more word
  characters) with stop words *kept*, so a topic made of "the, to, of" pays for it. Probabilities
  come from a boolean sliding window of 10 tokens; ``log(0)`` is avoided with epsilon 1e-12.
  gensim has no notion of a multiword term, so a topic holding one ("prime minister", counted
  as a phrase: in a window when the whole phrase is) is scored by the exact counter below.
- **NPMI, exact** (``npmi_exact``): the same windows and formula, counted exactly, for every
  topic. gensim 4.4's accumulator drops a word from the window when its earliest occurrence
  slides out even if the word occurs again inside the window, so it undercounts words repeated
  within 10 tokens (``aa xx aa xx xx``, window 3: ``aa`` is in 3 windows, gensim counts 1). On
  documents without such repeats the two agree to 1e-12 (tested).
- **Diversity**: unique terms among all topics' top-10 terms, divided by the number of terms.
- **ARI / NMI** against labels: the unassigned documents (``-1``) are kept and count as one
  cluster of their own, so hiding hard documents in ``-1`` is not rewarded. The same figures over
  the assigned documents only are reported alongside (``ari_assigned``, ``nmi_assigned``).

The unassigned topic (``-1``) never enters NPMI or diversity. Pure functions over terms, texts
and labels: :mod:`narrative.labelled` fits narrative on a labelled corpus and scores it with them.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from .schema import UNASSIGNED_ID

__all__ = [
    "SCORING_PROTOCOL",
    "evaluate_topics",
    "label_agreement",
    "npmi_coherence",
    "npmi_per_topic",
    "tokenize_for_npmi",
    "topic_diversity",
]

#: Terms per topic that are scored (the BERTopic paper's and OCTIS's top-10).
TOP_N = 10
#: gensim's default boolean sliding window for ``c_npmi``.
NPMI_WINDOW = 10
#: gensim's smoothing of ``log(0)`` in NPMI.
EPSILON = 1e-12

SCORING_PROTOCOL = {
    "npmi": "gensim CoherenceModel(coherence='c_npmi'), boolean sliding window of 10 tokens, "
    "epsilon 1e-12, mean over topics of the mean NPMI of each topic's top-10 terms",
    "reference_corpus": "every record's text, tokenised by sklearn CountVectorizer's default "
    "analyzer (lowercase, token_pattern \\b\\w\\w+\\b), stop words kept",
    "multiword_terms": "a topic holding a multiword term is scored by the exact counter (a phrase "
    "is in a window when one of its occurrences lies wholly inside it); gensim cannot score it",
    "npmi_exact": "same windows and formula, counted exactly for every topic; not subject to "
    "gensim 4.4's undercount of words repeated within a window",
    "diversity": "unique terms / all terms over the topics' top-10 terms",
    "outliers": "topic -1 excluded from NPMI and diversity; counted as its own cluster in ari/nmi; "
    "ari_assigned/nmi_assigned use the assigned documents only",
}



# -- scores ------------------------------------------------------------------------------------
def _analyzer():
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer().build_analyzer()


def tokenize_for_npmi(texts: Iterable[str]) -> list[list[str]]:
    """Tokens of each text by ``CountVectorizer``'s default analyzer, stop words kept."""
    analyze = _analyzer()
    return [analyze(t) for t in texts]


def _term_keys(topics: Sequence[Sequence[str]], topn: int) -> list[list[tuple[str, ...]]]:
    """Each topic's first ``topn`` terms as token tuples (same analyzer), empty ones dropped."""
    analyze = _analyzer()
    out = []
    for topic in topics:
        keys: list[tuple[str, ...]] = []
        for term in list(topic)[:topn]:
            key = tuple(analyze(str(term)))
            if key and key not in keys:
                keys.append(key)
        out.append(keys)
    return out


def npmi_per_topic(
    topics: Sequence[Sequence[str]],
    tokenized_docs: Sequence[Sequence[str]],
    *,
    window: int | None = None,
    topn: int = TOP_N,
    engine: str = "gensim",
) -> list[float | None]:
    """NPMI (``c_npmi``) of each topic's first ``topn`` terms; None where undefined.

    Terms are normalised by the default analyzer; a term that never occurs in the corpus cannot
    be scored and is left out of its topic, and a topic with fewer than two scorable terms gets
    None. ``engine="gensim"`` scores topics of single words with gensim's CoherenceModel and
    topics holding a multiword term, which gensim cannot score, with the exact counter;
    ``engine="exact"`` uses the exact counter for every topic (see :func:`_exact_npmi`).
    """
    keys = _term_keys(topics, topn)
    window = window or NPMI_WINDOW
    if engine not in ("gensim", "exact"):
        raise ValueError(f"engine must be 'gensim' or 'exact'; got {engine!r}")
    scores: list[float | None] = [None] * len(topics)
    single = [all(len(k) == 1 for k in topic) for topic in keys]
    by_gensim = [i for i, ok in enumerate(single) if ok and engine == "gensim"]
    by_counter = [i for i in range(len(keys)) if i not in set(by_gensim)]
    if by_counter:
        values = _exact_npmi([keys[i] for i in by_counter], tokenized_docs, window)
        for i, value in zip(by_counter, values):
            scores[i] = value
    if by_gensim:
        present: set[str] = set()
        for doc in tokenized_docs:
            present.update(doc)
        words = {i: [k[0] for k in keys[i] if k[0] in present] for i in by_gensim}
        scorable = [i for i in by_gensim if len(words[i]) >= 2]
        if scorable:
            values = _gensim_npmi([words[i] for i in scorable], tokenized_docs, window)
            for i, value in zip(scorable, values):
                scores[i] = value
    return scores


def _exact_npmi(
    keys: Sequence[Sequence[tuple[str, ...]]], docs: Sequence[Sequence[str]], window: int
) -> list[float | None]:
    """c_npmi from exact boolean window counts.

    Windows are gensim's: every run of ``window`` consecutive tokens, or the whole document when
    it is shorter. A term is in a window when one of its occurrences lies wholly inside it. This
    differs from gensim 4.4's accumulator, which drops a word from the window as soon as its
    earliest occurrence slides out even if it occurs again inside the window (so it undercounts
    words repeated within 10 tokens), and a phrase never hides its own words.
    """
    from scipy.sparse import csr_matrix

    terms = sorted({k for topic in keys for k in topic})
    by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for j, key in enumerate(terms):
        by_first.setdefault(key[0], []).append((key, j))
    rows: list[int] = []
    cols: list[int] = []
    n_windows = 0
    for doc in docs:
        length = len(doc)
        for p, token in enumerate(doc):
            for key, j in by_first.get(token, ()):
                n = len(key)
                if n > 1 and tuple(doc[p : p + n]) != key:
                    continue
                if length <= window:  # a short document is one window
                    lo, hi = 0, 0
                else:  # windows k..k+window-1 that hold the whole occurrence p..p+n-1
                    lo, hi = max(0, p + n - window), min(p, length - window)
                rows.extend(range(n_windows + lo, n_windows + hi + 1))
                cols.extend([j] * (hi - lo + 1))
        n_windows += max(length - window + 1, 1)
    present = csr_matrix(
        (np.ones(len(rows), dtype=np.int64), (rows, cols)), shape=(n_windows, len(terms))
    )
    present.data[:] = 1  # duplicates were summed: a window contains a term or not
    counts = np.asarray(present.sum(axis=0)).ravel()
    together = (present.T @ present).tocsr()  # sparse: hundreds of topics stay cheap
    index = {k: j for j, k in enumerate(terms)}
    scores: list[float | None] = []
    for topic in keys:
        ids = [index[k] for k in topic if counts[index[k]] > 0]
        pairs = [(a, b) for x, a in enumerate(ids) for b in ids[x + 1 :]]
        if not pairs:
            scores.append(None)
            continue
        values = []
        for a, b in pairs:
            p_ab = float(together[a, b]) / n_windows + EPSILON
            p_a, p_b = counts[a] / n_windows, counts[b] / n_windows
            values.append(np.log(p_ab / (p_a * p_b)) / -np.log(p_ab))
        scores.append(float(np.mean(values)))
    return scores


def _gensim_npmi(
    topics: list[list[str]], docs: Sequence[Sequence[str]], window: int
) -> list[float]:
    """gensim c_npmi of each topic (all words present in ``docs``)."""
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    # The accumulator only needs ids for the topics' words; every other token is skipped.
    vocab = Dictionary([sorted({w for topic in topics for w in topic})])
    model = CoherenceModel(
        topics=topics,
        texts=[list(d) for d in docs],
        dictionary=vocab,
        coherence="c_npmi",
        window_size=window,
        topn=max(len(t) for t in topics),
        processes=1,  # one accumulator: deterministic, and no worker processes on small machines
    )
    return [float(v) for v in model.get_coherence_per_topic()]


def npmi_coherence(
    topics: Sequence[Sequence[str]],
    tokenized_docs: Sequence[Sequence[str]],
    *,
    window: int | None = None,
) -> float:
    """Mean NPMI of the topics' top-10 terms against ``tokenized_docs`` (NaN if none scores)."""
    values = [v for v in npmi_per_topic(topics, tokenized_docs, window=window) if v is not None]
    return float(np.mean(values)) if values else float("nan")


def topic_diversity(topics: Sequence[Sequence[str]], *, topn: int = TOP_N) -> float:
    """Share of unique terms among all topics' first ``topn`` terms (1.0 = no term repeats)."""
    terms = [
        str(t).strip().lower() for topic in topics for t in list(topic)[:topn] if str(t).strip()
    ]
    return len(set(terms)) / len(terms) if terms else float("nan")


def _clean_terms(words: Iterable[str], topn: int = TOP_N) -> list[str]:
    """A topic's reported terms: non-empty strings (BERTopic pads with ``""``), first ``topn``."""
    return [str(w) for w in words if str(w).strip()][:topn]


def evaluate_topics(
    texts: Sequence[str],
    topics_words: Mapping[int, Sequence[str]] | Sequence[Sequence[str]],
    assigned: Sequence[int],
    labels: Sequence[object] | None = None,
    *,
    tokenized: Sequence[Sequence[str]] | None = None,
) -> dict:
    """Score one system's topics the common way.

    Parameters
    ----------
    texts : sequence of str
        The corpus the NPMI is computed against (one entry per document).
    topics_words : mapping topic id -> terms, or a sequence indexed by topic id
        Each topic's terms, best first; only the first 10 count. Topic ``-1`` is ignored.
    assigned : sequence of int
        Each document's topic (``-1`` = unassigned); aligned with ``labels``.
    labels : sequence, optional
        Reference classes; when given, ARI and NMI are reported (``-1`` counted as its own cluster).
    tokenized : sequence of token lists, optional
        ``tokenize_for_npmi(texts)`` when the caller already has it (scoring several systems).

    Returns
    -------
    dict
        ``npmi`` (gensim) and ``npmi_exact`` (exact window counts) with their per-topic values,
        ``diversity``, ``n_topics``, ``topics`` (id -> top-10 terms, ids as strings),
        ``topic_sizes``, ``n_docs``, ``n_unassigned``, ``unassigned_share`` and, with labels,
        ``ari``, ``nmi``, ``ari_assigned``, ``nmi_assigned``, ``n_labels``.
    """
    if not isinstance(topics_words, Mapping):
        topics_words = dict(enumerate(topics_words))
    assigned = np.asarray(assigned, dtype=int)
    topics = {
        int(t): _clean_terms(words)
        for t, words in sorted(topics_words.items(), key=lambda kv: int(kv[0]))
        if int(t) != UNASSIGNED_ID
    }
    ids = list(topics)
    word_lists = [topics[t] for t in ids]
    docs = tokenize_for_npmi(texts) if tokenized is None else tokenized
    per_topic = npmi_per_topic(word_lists, docs) if word_lists else []
    exact = npmi_per_topic(word_lists, docs, engine="exact") if word_lists else []
    sizes = {int(t): int(n) for t, n in zip(*np.unique(assigned, return_counts=True))}
    result = {
        "npmi": _mean(per_topic),
        "npmi_per_topic": {str(t): v for t, v in zip(ids, per_topic)},
        "npmi_exact": _mean(exact),
        "npmi_exact_per_topic": {str(t): v for t, v in zip(ids, exact)},
        "diversity": topic_diversity(word_lists) if word_lists else None,
        "n_topics": len(ids),
        "topics": {str(t): words for t, words in topics.items()},
        "topic_sizes": {str(t): sizes.get(t, 0) for t in [UNASSIGNED_ID, *ids]},
        "n_docs": int(len(assigned)),
        "n_unassigned": int((assigned == UNASSIGNED_ID).sum()),
        "unassigned_share": float((assigned == UNASSIGNED_ID).mean()) if len(assigned) else 0.0,
    }
    if labels is not None:
        result.update(label_agreement(assigned, labels))
    return result


def _mean(values: Sequence[float | None]) -> float | None:
    scored = [v for v in values if v is not None]
    return float(np.mean(scored)) if scored else None


def label_agreement(assigned: Sequence[int], labels: Sequence[object]) -> dict:
    """ARI and NMI of ``assigned`` against ``labels``: all documents (``-1`` is one cluster) and
    the assigned documents only."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    assigned = np.asarray(assigned, dtype=int)
    labels = np.asarray([str(x) for x in labels], dtype=object)
    if len(labels) != len(assigned):
        raise ValueError(
            f"labels and assignments differ in length: {len(labels)} != {len(assigned)}"
        )
    kept = assigned != UNASSIGNED_ID
    out = {
        "ari": float(adjusted_rand_score(labels, assigned)),
        "nmi": float(normalized_mutual_info_score(labels, assigned)),
        "n_labels": int(len(set(labels.tolist()))),
        "ari_assigned": None,
        "nmi_assigned": None,
    }
    if kept.any():
        out["ari_assigned"] = float(adjusted_rand_score(labels[kept], assigned[kept]))
        out["nmi_assigned"] = float(normalized_mutual_info_score(labels[kept], assigned[kept]))
    return out

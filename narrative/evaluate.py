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

The unassigned topic (``-1``) never enters NPMI or diversity.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from .schema import UNASSIGNED_ID, text_hash
from .errors import CorpusError  # noqa: F401 (defined in errors, raised here)

__all__ = [
    "CorpusError",
    "LabelledCorpus",
    "embed_texts",
    "evaluate_corpus",
    "evaluate_topics",
    "evaluation_versions",
    "fit_narrative_topics",
    "label_agreement",
    "npmi_coherence",
    "npmi_per_topic",
    "read_jsonl_corpus",
    "tokenize_for_npmi",
    "topic_diversity",
    "write_json",
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


# -- corpus ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelledCorpus:
    """Texts (and labels, when every record has one) of a JSONL corpus, in file order."""

    name: str
    sha256: str
    ids: list[str]
    texts: list[str]
    labels: list[str] | None


def read_jsonl_corpus(
    path: str | Path,
    *,
    text_field: str = "text",
    label_field: str | None = "label",
    id_field: str = "id",
) -> LabelledCorpus:
    """Read a JSONL corpus line by line (blank lines skipped).

    Labels are returned when every record has ``label_field``; when no record has it, ``labels``
    is None; a corpus where only some records have it is an error naming the first such line.
    """
    path = Path(path)
    digest = hashlib.sha256()
    ids: list[str] = []
    texts: list[str] = []
    labels: list[str | None] = []
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read corpus ({exc.strerror})") from exc
    with handle:
        for lineno, raw in enumerate(handle, start=1):
            digest.update(raw)
            if not raw.strip():
                continue
            where = f"{path.name}:{lineno}"
            try:
                record = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CorpusError(f"{where}: not a JSON object ({exc})") from exc
            if not isinstance(record, dict):
                raise CorpusError(f"{where}: expected a JSON object, got {type(record).__name__}")
            text = record.get(text_field)
            if not isinstance(text, str) or not text.strip():
                raise CorpusError(f"{where}: field {text_field!r} is missing or empty")
            texts.append(text)
            ids.append(str(record.get(id_field, f"line-{lineno}")))
            value = record.get(label_field) if label_field else None
            labels.append(None if value is None else str(value))
            if len(labels) == 1:
                first_line = lineno
            elif (labels[-1] is None) != (labels[0] is None):
                here, there = ("missing", "present")
                if labels[-1] is not None:
                    here, there = there, here
                raise CorpusError(
                    f"{where}: field {label_field!r} is {here} here but {there} at line "
                    f"{first_line}; label every record or pass no label field"
                )
    if not texts:
        raise CorpusError(f"{path}: no records with text")
    has_labels = labels[0] is not None
    return LabelledCorpus(path.name, digest.hexdigest(), ids, texts, labels if has_labels else None)


def embed_texts(
    texts: Sequence[str], embedder, *, store_path: str | Path | None = None
) -> np.ndarray:
    """Embeddings of ``texts`` (rows aligned), cached by text hash in a store (default: memory)."""
    import pandas as pd

    from .embed import embed_paragraphs
    from .store import Store

    frame = pd.DataFrame({"text": list(texts)})
    frame["text_hash"] = [text_hash(t) for t in frame["text"]]
    with Store(":memory:" if store_path is None else store_path) as store:
        vectors, _ = embed_paragraphs(store, frame, embedder)
    return vectors


def fit_narrative_topics(
    texts: Sequence[str],
    embeddings: np.ndarray,
    *,
    settings=None,
    codebook=None,
    embedder=None,
):
    """Fit narrative's model through :func:`narrative.runs.fit_texts` and return
    ``(assigned, topics, model)``: each input row's narrative id, and each narrative's top terms
    (``-1`` excluded)."""
    from .runs import fit_texts

    assigned, model = fit_texts(texts, embeddings, settings=settings, codebook=codebook,
                                embedder=embedder)
    topics = {
        int(r.narrative_id): list(r.top_terms)
        for r in model.narratives_.itertuples()
        if int(r.narrative_id) != UNASSIGNED_ID
    }
    return assigned, topics, model


def evaluation_versions() -> dict[str, str]:
    """Versions of Python and the libraries a score depends on (gensim included)."""
    from .provenance import library_versions

    return library_versions(extra=("gensim",))


def _units(corpus: LabelledCorpus, unit: str, settings) -> tuple[list[str], list[str] | None]:
    """Documents the model is fitted on, and their labels (a paragraph inherits its article's)."""
    if unit == "article":
        return corpus.texts, corpus.labels
    if unit == "paragraph":
        from .segment import segment_article

        texts: list[str] = []
        labels: list[str] = []
        for i, text in enumerate(corpus.texts):
            for p in segment_article(
                corpus.ids[i], text, min_words=settings.min_paragraph_words,
                window_sentences=settings.window_sentences, max_words=settings.max_paragraph_words,
            ):
                texts.append(p.text)
                if corpus.labels is not None:
                    labels.append(corpus.labels[i])
        return texts, labels if corpus.labels is not None else None
    raise ValueError(f"unit must be 'article' or 'paragraph'; got {unit!r}")


def evaluate_corpus(
    path: str | Path,
    *,
    label_field: str | None = "label",
    codebook_path: str | Path | None = None,
    settings=None,
    embedder=None,
    unit: str = "article",
    store_path: str | Path | None = None,
    text_field: str = "text",
) -> dict:
    """Fit narrative's model on a labelled JSONL corpus and score it (see the module docstring).

    Parameters
    ----------
    path : path
        JSONL, one record per line with ``text_field`` and, optionally, ``label_field``.
    label_field : str or None, default="label"
        Field holding the reference class; ARI/NMI are reported when every record has it.
    codebook_path : path, optional
        A codebook YAML; without it the model clusters freely (BBC's business, sport and tech
        are not in the war codebook, so the shipped default is *not* used here).
    settings : Settings, optional
        Model settings (seed included); defaults to ``Settings()``.
    embedder : optional
        A loaded embedder; default ``load_embedder(settings.embedding_model)``.
    unit : {"article", "paragraph"}, default="article"
        Fit one document per record, or per paragraph (each paragraph inherits its record's label).
    store_path : path, optional
        DuckDB file caching the embeddings between runs; default an in-memory store.

    Returns
    -------
    dict
        The :func:`evaluate_topics` result plus ``corpus``, ``unit``, ``label_field``,
        ``codebook``, ``settings``, ``timing_s``, ``versions`` and ``scoring``.
    """
    from .config import Settings
    from .embed import load_embedder

    settings = settings or Settings()
    timing: dict[str, float] = {}
    t_all = time.perf_counter()

    t = time.perf_counter()
    corpus = read_jsonl_corpus(path, text_field=text_field, label_field=label_field)
    texts, labels = _units(corpus, unit, settings)
    codebook = None
    if codebook_path is not None:
        from .codebook import load_codebook

        codebook = load_codebook(codebook_path)
    timing["read"] = time.perf_counter() - t

    t = time.perf_counter()
    embedder = embedder or load_embedder(settings.embedding_model, batch_size=settings.batch_size)
    timing["load_model"] = time.perf_counter() - t

    t = time.perf_counter()
    embeddings = embed_texts(texts, embedder, store_path=store_path)
    timing["embed"] = time.perf_counter() - t

    t = time.perf_counter()
    assigned, topics, model = fit_narrative_topics(
        texts, embeddings, settings=settings, codebook=codebook, embedder=embedder
    )
    timing["fit"] = time.perf_counter() - t

    t = time.perf_counter()
    tokenized = tokenize_for_npmi(corpus.texts)  # NPMI is always against the records' texts
    result = evaluate_topics(corpus.texts, topics, assigned, labels, tokenized=tokenized)
    timing["score"] = time.perf_counter() - t
    timing["total"] = time.perf_counter() - t_all

    result.update(
        {
            "corpus": {
                "name": corpus.name,
                "sha256": corpus.sha256,
                "n_records": len(corpus.texts),
                "n_documents": len(texts),
                "n_distinct_texts": len({text_hash(x) for x in texts}),
            },
            "unit": unit,
            "label_field": label_field if labels is not None else None,
            "codebook": None if codebook is None else {
                "source": Path(codebook_path).name,
                "fingerprint": codebook.fingerprint(),
                "names": list(codebook.names),
            },
            "topic_labels": {
                str(int(r.narrative_id)): r.label for r in model.narratives_.itertuples()
                if int(r.narrative_id) != UNASSIGNED_ID
            },
            "min_cluster_size": int(getattr(model, "min_cluster_size_", 0)) or None,
            "settings": settings.to_dict(),
            "embedding_model": getattr(embedder, "model_id", None),
            "timing_s": {k: round(v, 3) for k, v in timing.items()},
            "versions": evaluation_versions(),
            "scoring": dict(SCORING_PROTOCOL),
        }
    )
    return result


def write_json(result: dict, path: str | Path) -> Path:
    """Write ``result`` as indented JSON with sorted keys, atomically."""
    from .io import atomic_write_text

    plain = _jsonable(result)
    text = json.dumps(plain, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def _jsonable(value):
    """Plain JSON values: numpy scalars and arrays converted, NaN and infinities as null."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")

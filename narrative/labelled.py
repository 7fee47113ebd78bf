"""Labelled corpora: read a JSONL corpus with gold labels, fit narrative on it, score the topics.

``narrative evaluate`` runs :func:`evaluate_corpus`; the benchmarks use the same pieces. The fit is
:func:`narrative.runs.fit_texts` (the one fit path) and the scores are :mod:`narrative.evaluate`'s.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .errors import CorpusError
from .evaluate import SCORING_PROTOCOL, evaluate_topics, tokenize_for_npmi
from .schema import UNASSIGNED_ID, text_hash

__all__ = [
    "LabelledCorpus", "embed_texts", "evaluate_corpus", "evaluation_versions",
    "fit_narrative_topics", "read_jsonl_corpus", "write_json",
]


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

    result.update(_facts(corpus, texts, unit, labels, label_field, codebook, codebook_path, model,
                         settings, embedder))
    result["timing_s"] = {k: round(v, 3) for k, v in timing.items()}
    return result


def _facts(corpus: LabelledCorpus, texts: list[str], unit: str, labels, label_field, codebook,
           codebook_path, model, settings, embedder) -> dict:
    """What an evaluation records beside its scores: corpus, fit inputs, versions, protocol."""
    return {
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
        "versions": evaluation_versions(),
        "scoring": dict(SCORING_PROTOCOL),
    }


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

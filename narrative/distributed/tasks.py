"""The work one task does on a Dask worker (or in-process): pure functions over one partition.

Functions here are shipped to workers by reference, so they import what they need lazily; the
embedding model is cached per process, so a worker loads it once however many tasks it runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..config import Settings
from ..schema import Article, Paragraph, Reject

# -- partitions -------------------------------------------------------------------------------
def partition_files(files: Sequence[str | Path], n_partitions: int) -> list[list[str]]:
    """Cut ``files`` (in order) into at most ``n_partitions`` contiguous runs of near-equal length.

    Contiguous runs keep the articles in input order when the partitions are concatenated.
    """
    if n_partitions < 1:
        raise ValueError(f"n_partitions must be >= 1; got {n_partitions}")
    names = [str(f) for f in files]
    return [list(part) for part in np.array_split(np.array(names, dtype=object), n_partitions)
            if len(part)]


@dataclass
class IngestedPartition:
    """What one partition's ingest and segmentation produced."""

    articles: list[Article]
    paragraphs: list[Paragraph]
    rejects: list[Reject]
    removed: list[dict]
    warnings: list[str]
    n_read: int


def ingest_partition(
    files: Sequence[str], *, manifest: str | None, options, settings: Settings
) -> IngestedPartition:
    """Read, clean and segment one partition's files (runs on a worker)."""
    from ..ingest import ColumnMap, ingest_sources
    from ..segment import segment_articles

    result = ingest_sources(
        list(files), manifest=manifest, boilerplate=options.boilerplate,
        columns=ColumnMap(**options.columns) if options.columns else None,
        day_first=options.day_first,
    )
    paragraphs = segment_articles(
        result.articles, min_words=settings.min_paragraph_words,
        window_sentences=settings.window_sentences, max_words=settings.max_paragraph_words,
    )
    return IngestedPartition(result.articles, paragraphs, result.rejects, result.removed,
                             result.warnings, result.n_read)


# -- embedding --------------------------------------------------------------------------------
@dataclass(frozen=True)
class EmbedderSpec:
    """Which embedding model to load: the key of the per-process model cache."""

    name: str
    precision: str
    batch_size: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "EmbedderSpec":
        return cls(settings.embedding_model, settings.precision, settings.batch_size)


_EMBEDDERS: dict[EmbedderSpec, Any] = {}
_EMBEDDERS_LOCK = threading.Lock()
_LOADS: list[str] = []  # model ids in load order: shows a model is not reloaded per task


def cached_embedder(spec: EmbedderSpec):
    """The embedding model for ``spec``, loaded once per process (worker or driver)."""
    with _EMBEDDERS_LOCK:  # a worker with several threads must not load the model twice
        if spec not in _EMBEDDERS:
            from ..embed import load_embedder

            _EMBEDDERS[spec] = load_embedder(
                spec.name, batch_size=spec.batch_size, precision=spec.precision
            )
            _LOADS.append(_EMBEDDERS[spec].model_id)
        return _EMBEDDERS[spec]


def loaded_embedders() -> list[str]:
    """Model ids loaded in this process, once per load (``client.run(loaded_embedders)`` asks
    every worker)."""
    return list(_LOADS)


def embed_texts(texts: Sequence[str], *, spec: EmbedderSpec) -> np.ndarray:
    """Unit vectors for one chunk of texts (runs on a worker)."""
    return cached_embedder(spec).encode(list(texts))


# -- assignment -------------------------------------------------------------------------------
def assign_vectors(vectors: np.ndarray, **rule) -> tuple[np.ndarray, np.ndarray]:
    """``NarrativeModel.transform`` on a worker: ``rule`` is the model's ``assignment_rule()``
    (codebook matches, then nearest centroid, within its radius for ``outliers="keep"``), arrays
    only, so no BERTopic model is shipped."""
    from ..model.assign import assign_paragraphs

    return assign_paragraphs(vectors, **rule)

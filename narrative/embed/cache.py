"""Embed only what the store does not hold yet: one vector per distinct text and model."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Callable, ContextManager, Iterator

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..store import Store

#: Distinct texts embedded (and committed to the store) at a time. The encoder batches inside a
#: chunk, so the chunks decide the batches and, in bf16, the last bits of each vector: every
#: path that embeds for a run cuts the same chunks.
EMBED_CHUNK = 1024


def missing_chunks(store: "Store", paragraphs: pd.DataFrame, model_id: str, *,
                   chunk_size: int = EMBED_CHUNK) -> list[tuple[list[str], list[str]]]:
    """The texts of ``paragraphs`` the store has no vector for under ``model_id``, as
    ``(text hashes, texts)`` chunks in the rows' order (each distinct text once)."""
    hashes = paragraphs["text_hash"].tolist()
    cached = store.cached_hashes(hashes, model_id)
    first_text = dict(zip(paragraphs["text_hash"], paragraphs["text"]))
    todo = [h for h in dict.fromkeys(hashes) if h not in cached]
    return [(chunk, [first_text[h] for h in chunk])
            for chunk in (todo[s:s + chunk_size] for s in range(0, len(todo), chunk_size))]


@contextlib.contextmanager
def _progress(factory: Callable[[str, int], ContextManager] | None, total: int) -> Iterator:
    if factory is None or not total:
        yield None
    else:
        with factory(f"embedding {total} paragraphs", total) as progress:
            yield progress


def embed_paragraphs(
    store: "Store",
    paragraphs: pd.DataFrame,
    embedder,
    *,
    chunk_size: int = EMBED_CHUNK,
    progress_factory: Callable[[str, int], ContextManager] | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for ``paragraphs`` (rows in order), embedding and caching the missing texts.

    Returns ``(vectors, n_embedded)``. Texts are keyed by ``text_hash``, so a paragraph repeated by
    a syndicated copy, or already embedded in an earlier run, costs nothing. Missing texts are
    embedded and committed in chunks, so an interrupted run keeps what it finished.
    """
    chunks = missing_chunks(store, paragraphs, embedder.model_id, chunk_size=chunk_size)
    n_todo = sum(len(hashes) for hashes, _ in chunks)
    with _progress(progress_factory, n_todo) as progress:
        for hashes, texts in chunks:
            store.put_embeddings(hashes, embedder.encode(texts, progress=progress),
                                 embedder.model_id)
    return store.get_embeddings(paragraphs["text_hash"].tolist(), embedder.model_id), n_todo

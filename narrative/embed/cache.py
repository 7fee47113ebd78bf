"""Embed only what the store does not hold yet: one vector per distinct text and model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, ContextManager

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..store import Store


def embed_paragraphs(
    store: "Store",
    paragraphs: pd.DataFrame,
    embedder,
    *,
    chunk_size: int = 1024,
    progress_factory: Callable[[str, int], ContextManager] | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for ``paragraphs`` (rows in order), embedding and caching the missing texts.

    Returns ``(vectors, n_embedded)``. Texts are keyed by ``text_hash``, so a paragraph repeated by
    a syndicated copy, or already embedded in an earlier run, costs nothing. Missing texts are
    embedded and committed in chunks, so an interrupted run keeps what it finished.
    """
    hashes = paragraphs["text_hash"].tolist()
    cached = store.cached_hashes(hashes, embedder.model_id)
    first_text = dict(zip(paragraphs["text_hash"], paragraphs["text"]))
    todo = [h for h in dict.fromkeys(hashes) if h not in cached]
    if todo:
        import contextlib

        ctx = (
            progress_factory(f"embedding {len(todo)} paragraphs", len(todo))
            if progress_factory
            else contextlib.nullcontext(None)
        )
        with ctx as progress:
            for start in range(0, len(todo), chunk_size):
                chunk = todo[start : start + chunk_size]
                vectors = embedder.encode([first_text[h] for h in chunk], progress=progress)
                store.put_embeddings(chunk, vectors, embedder.model_id)
    return store.get_embeddings(hashes, embedder.model_id), len(todo)

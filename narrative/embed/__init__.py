"""Embedding backends behind one small interface, with a cache keyed by (text hash, model id)."""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from .cache import embed_paragraphs

__all__ = ["Embedder", "load_embedder", "embed_paragraphs"]


class Embedder(Protocol):
    """What the pipeline needs of an embedding model."""

    model_id: str
    dim: int

    def encode(self, texts: Sequence[str], *, progress=None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in input order."""
        ...


def load_embedder(name: str | None = None, *, batch_size: int = 32, precision: str = "fp32") -> Embedder:
    """The embedding model named ``name`` (default: the packaged all-MiniLM-L6-v2)."""
    from .sentence import SentenceEmbedder

    return SentenceEmbedder(name, batch_size=batch_size, precision=precision)

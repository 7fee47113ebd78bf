"""The build's stages over partitions on a Dask cluster (``narrative build --scheduler``).

The same stage functions as the in-process pipeline, cut into tasks:

1. **ingest + segment** per partition, on the workers. A partition is a run of input files in
   the order :func:`~narrative.ingest.readers.collect_files` lists them: typically the part files
   of a Parquet dataset (``dask.dataframe.to_parquet`` writes one per partition), but any input
   format works.
2. **dedup** on the driver, over every article and paragraph at once. A syndicated copy and its
   original may sit in different partitions, and "the first occurrence" is an order over the whole
   corpus, so no partition can decide it alone; the MinHash pass is linear in the corpus and
   returns the same links as the in-process run whatever the partitioning.
3. **embed** on the workers: one task per chunk of distinct texts not yet in the store, the chunks
   cut in text-hash order. Each text is embedded once, and a chunk (hence its batches, hence its
   vectors, to the bit) does not depend on how the input was partitioned. The model is loaded once
   per worker process (:func:`cached_embedder`).
4. **fit** on the driver, through :func:`narrative.runs.fit_run` like every build: on the
   corpus, or on its seeded sample above ``fit_sample_max`` distinct texts; an update of a saved
   run assigns the new paragraphs only.
5. **assign** the distinct texts the fit did not see to the fitted narratives on the workers: what
   ``NarrativeModel.transform`` computes, without shipping the BERTopic model (:class:`DaskRunner`).

Drift and the report follow on the driver as in any build.

Everything lands in the store as the in-process pipeline writes it (articles, paragraphs,
embeddings, a run and its saved model), so drift tables and reports work unchanged. Without a
client the same functions run in-process, one partition after another. Workers need narrative
installed and the input files at the same paths (a shared file system). The driver holds what the
store holds (article and paragraph texts, one vector per distinct text), as the in-process build
does; the workers take the CPU-bound work (parsing, cleaning, segmenting, embedding, assigning).
"""

from __future__ import annotations

from .run import DaskRunner, DistributedResult, build_distributed
from .scheduler import SchedulerUnreachable, resolve_scheduler
from .tasks import (
    EmbedderSpec, assign_vectors, cached_embedder, embed_texts, ingest_partition, loaded_embedders,
    partition_files,
)

__all__ = [
    "DaskRunner", "DistributedResult", "EmbedderSpec", "SchedulerUnreachable", "assign_vectors",
    "build_distributed", "cached_embedder", "embed_texts", "ingest_partition", "loaded_embedders",
    "partition_files", "resolve_scheduler",
]

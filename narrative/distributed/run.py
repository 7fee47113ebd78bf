"""The driver: ingest in partitions on the cluster, then the one fit path with a Dask runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import pandas as pd

from ..codebook import Codebook
from ..config import Settings
from ..embed.cache import EMBED_CHUNK, missing_chunks
from ..errors import InputError
from ..progress import ProgressFactory, StageTimer, no_progress
from ..runs import FitResult, Runner, fit_run
from ..store import Store
from .scheduler import connect
from .tasks import (
    EmbedderSpec, assign_vectors, cached_embedder, embed_texts, ingest_partition, partition_files,
)

if TYPE_CHECKING:
    from ..ingest.stream import StreamSummary

_MANIFEST_UNUSED = "listed file(s) not among the sources"


class DaskRunner(Runner):
    """Embeds and assigns on a Dask client, chunk by chunk; in-process when ``client`` is None.

    The chunks are those the in-process path embeds (:data:`~narrative.embed.cache.EMBED_CHUNK`
    distinct texts in the run's text-hash order), so the vectors, and the run, are the same.
    """

    def __init__(self, client=None, *, spec: EmbedderSpec, chunk_size: int = EMBED_CHUNK):
        self.client, self.spec, self.chunk_size = client, spec, chunk_size

    def map(self, fn: Callable, items: Sequence, **kwargs) -> list:
        """``fn(item, **kwargs)`` for each item, in item order, on the cluster."""
        if self.client is None:
            return [fn(item, **kwargs) for item in items]
        # Not pure: ingest reads files that may change between runs under the same name.
        return self.client.gather(self.client.map(fn, list(items), pure=False, **kwargs))

    @property
    def n_threads(self) -> int:
        """Tasks the cluster runs at once (1 in-process)."""
        if self.client is None:
            return 1
        return max(1, sum(self.client.nthreads().values()))

    def embed(self, store: Store, distinct: pd.DataFrame, embedder, *,
              progress: ProgressFactory = no_progress) -> tuple[np.ndarray, int]:
        chunks = missing_chunks(store, distinct, embedder.model_id, chunk_size=self.chunk_size)
        results = self.map(embed_texts, [texts for _, texts in chunks], spec=self.spec)
        for (hashes, _), vectors in zip(chunks, results):
            store.put_embeddings(hashes, vectors, embedder.model_id)
        n_embedded = sum(len(hashes) for hashes, _ in chunks)
        return store.get_embeddings(distinct["text_hash"].tolist(), embedder.model_id), n_embedded

    def assign(self, model, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rule = model.assignment_rule()
        chunks = [vectors[i:i + self.chunk_size] for i in range(0, len(vectors), self.chunk_size)]
        parts = self.map(assign_vectors, chunks, **rule)
        if not parts:
            return np.zeros(0, dtype=int), np.zeros(0, dtype=float)
        return np.concatenate([t for t, _ in parts]), np.concatenate([s for _, s in parts])


@dataclass
class DistributedResult:
    """What :func:`build_distributed` did: the ingest on the cluster and the run it fitted."""

    fit: FitResult
    ingest: "StreamSummary | None"  # None when there were no sources
    n_partitions: int
    timings: dict[str, float]


def build_distributed(
    sources: Sequence[str | Path],
    store: Store,
    *,
    settings: Settings = Settings(),
    codebook: Codebook | None = None,
    client=None,
    scheduler: str | None = None,
    n_partitions: int | None = None,
    manifest: str | Path | None = None,
    options=None,
    embed_chunk: int = EMBED_CHUNK,
    refit: bool = False,
    timer: StageTimer | None = None,
    provenance: dict | None = None,
) -> DistributedResult:
    """Ingest ``sources`` into ``store`` in partitions on a cluster, then fit (or update) the run
    with :func:`narrative.runs.fit_run`, embedding and assigning on the cluster.

    Parameters
    ----------
    sources : sequence of str or Path
        Files and folders (a Parquet dataset: its folder or part files). Empty: use the articles
        already in ``store``.
    client : distributed.Client, optional
        The cluster to run on. None with no ``scheduler``: in-process, the same functions.
    scheduler : str, optional
        A scheduler address (``tcp://HOST:PORT``) to connect to when no ``client`` is given.
    n_partitions : int, optional
        Ingest partitions (at most one per input file); default two per worker thread.

    The stored result is the in-process build's: dedup sees the whole corpus on the driver, the
    embedding chunks are the in-process ones, and the fit runs on the driver.
    """
    from ..ingest.options import ReadOptions

    if client is None and scheduler:
        with connect(scheduler) as own_client:
            return build_distributed(
                sources, store, settings=settings, codebook=codebook, client=own_client,
                n_partitions=n_partitions, manifest=manifest, options=options,
                embed_chunk=embed_chunk, refit=refit, timer=timer, provenance=provenance,
            )
    spec = EmbedderSpec.from_settings(settings)
    runner = DaskRunner(client, spec=spec, chunk_size=embed_chunk)
    timer = timer or StageTimer()
    summary, used_partitions = None, 0
    if sources:
        with timer.stage("ingest"):
            summary, used_partitions = _ingest(
                sources, store, runner, settings=settings, manifest=manifest,
                options=options or ReadOptions(), n_partitions=n_partitions or 2 * runner.n_threads,
            )
    fit = fit_run(store, settings=settings, codebook=codebook, embedder=cached_embedder(spec),
                  timer=timer, refit=refit, runner=runner, provenance=provenance)
    return DistributedResult(fit, summary, used_partitions, timer.seconds)


def _ingest(sources, store: Store, runner: DaskRunner, *, settings: Settings, manifest,
            options, n_partitions: int):
    """Ingest + segment per partition on the workers; dedup and store on the driver."""
    from ..dedup import mark_duplicate_articles, mark_duplicate_paragraphs
    from ..ingest.readers import collect_files
    from ..ingest.stream import StreamSummary

    warnings: list[str] = []
    skip = [Path(manifest)] if manifest is not None else []
    # Absolute paths: workers may start in another directory.
    files = [str(Path(f).resolve()) for f in collect_files(
        sources, skip=skip, warnings=warnings, follow_links=options.follow_links)]
    groups = partition_files(files, n_partitions) if files else []
    parts = runner.map(ingest_partition, groups, manifest=str(manifest) if manifest else None,
                       options=options, settings=settings)
    for part in parts:  # a partition sees only its files: manifest rows of others look unused
        warnings.extend(w for w in part.warnings if not (len(parts) > 1 and _MANIFEST_UNUSED in w))
    rejects = [r for part in parts for r in part.rejects]
    articles = mark_duplicate_articles(
        _without_collisions([a for part in parts for a in part.articles], store, rejects))
    paragraphs = mark_duplicate_paragraphs([p for part in parts for p in part.paragraphs],
                                           [a.article_id for a in articles])
    new_articles = store.add_articles(articles)
    store.add_removed([r for part in parts for r in part.removed])
    new_paragraphs = store.add_paragraphs(paragraphs)
    store.add_rejects(rejects)
    summary = StreamSummary(
        n_read=sum(p.n_read for p in parts), n_ingested=len(articles),
        n_new_articles=new_articles, n_paragraphs=len(paragraphs),
        n_new_paragraphs=new_paragraphs, rejects=rejects, warnings=list(dict.fromkeys(warnings)),
    )
    if summary.n_ingested == 0:
        reasons = ", ".join(f"{k}: {v}" for k, v in summary.reasons().items()) or "no input files"
        raise InputError(f"no readable article in {', '.join(map(str, sources))} ({reasons})")
    return summary, len(groups)


def _without_collisions(articles: list, store: Store, rejects: list) -> list:
    """``articles`` less the records whose article another record gave with other metadata: one
    read first in another partition, or one already stored (each partition's own records are
    checked by its Assembler). Those records go to ``rejects`` with their values, as in-process."""
    from ..ingest.assemble import stored_collision

    stored = store.article_identities(list({a.article_id for a in articles}))
    first = {row["article_id"]: row for row in stored.to_dict("records")}
    kept = []
    for article in articles:
        seen = first.setdefault(article.article_id, {
            "source": article.source, "source_id": article.source_id, "title": article.title,
            "url": article.url, "author": article.author})
        reject = stored_collision(article, seen) if seen["source"] != article.source else None
        if reject is None:
            kept.append(article)
        else:
            rejects.append(reject)
    return kept

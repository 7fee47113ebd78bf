"""The driver: cuts the build into tasks, runs them on a client or in-process, fills the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..codebook import Codebook, load_codebook
from ..config import Settings
from ..frames import isin
from ..pipeline import (
    BuildResult, FitResult, IngestOptions, IngestSummary, InputError, StageTimer, compute_drift,
    input_fingerprint, library_versions, model_dir, narrative_table, write_report,
)
from ..schema import content_hash
from ..store import RunRecord, Store
from .scheduler import connect, resolve_scheduler
from .tasks import (
    DEFAULT_FIT_SAMPLE, EMBED_CHUNK, EmbedderSpec, assign_vectors, cached_embedder, embed_texts,
    fit_sample, ingest_partition, partition_files,
)

_MANIFEST_UNUSED = "listed file(s) not among the sources"


# -- where tasks run --------------------------------------------------------------------------
class _Runner:
    """Maps a function over items on a Dask client, or in-process when there is none."""

    def __init__(self, client=None):
        self.client = client

    def submit_map(self, fn: Callable, items: Sequence, **kwargs) -> list:
        """Futures (or, in-process, results) of ``fn(item, **kwargs)``, in item order."""
        if self.client is None:
            return [fn(item, **kwargs) for item in items]
        # Not pure: ingest reads files that may change between runs under the same name.
        return self.client.map(fn, list(items), pure=False, **kwargs)

    def gather(self, futures: list) -> list:
        return futures if self.client is None else self.client.gather(futures)

    def map(self, fn: Callable, items: Sequence, **kwargs) -> list:
        return self.gather(self.submit_map(fn, items, **kwargs))

    @property
    def n_threads(self) -> int:
        """Tasks the cluster runs at once (1 in-process)."""
        if self.client is None:
            return 1
        return max(1, sum(self.client.nthreads().values()))


# -- the path ---------------------------------------------------------------------------------
@dataclass
class DistributedResult:
    """What :func:`build_distributed` did; ``assignments`` and ``shares`` are the run's output."""

    run_id: str
    reused: bool
    n_partitions: int
    n_paragraphs: int
    n_distinct: int
    n_embedded: int
    n_fit: int
    fit_hashes: list[str]
    """The text hashes the model was (or, when given a model, would have been) fitted on."""
    ingest: IngestSummary | None
    narratives: pd.DataFrame
    assignments: pd.DataFrame
    shares: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    model: Any = None
    """The NarrativeModel that assigned the paragraphs (None when a stored run was reused)."""

    def fit_result(self) -> FitResult:
        """The same result as ``pipeline.fit_run`` reports it."""
        mode = "reused" if self.reused else ("update" if self.n_fit == 0 else "fit")
        return FitResult(self.run_id, self.reused, self.n_embedded, self.narratives,
                         self.assignments, mode=mode)


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
    options: IngestOptions = IngestOptions(),
    fit_sample_size: int | None = None,
    embed_chunk: int = EMBED_CHUNK,
    model=None,
    echo: Callable[[str], None] = lambda s: None,
) -> DistributedResult:
    """Ingest ``sources`` into ``store``, then embed, fit, assign and aggregate, on a cluster.

    Parameters
    ----------
    sources : sequence of str or Path
        Files and folders (a Parquet dataset: its folder or part files). Empty: use the articles
        already in ``store``.
    store : Store
        Where every table is written, as the in-process pipeline writes it.
    client : distributed.Client, optional
        The cluster to run on. None with no ``scheduler``: in-process, the same functions.
    scheduler : str, optional
        A scheduler address (``tcp://HOST:PORT``) to connect to when no ``client`` is given.
    n_partitions : int, optional
        Ingest partitions (at most one per input file); default two per worker thread.
    fit_sample_size : int, optional
        The model is fitted on at most this many distinct texts; the rest are assigned
        (default: ``settings.fit_sample_max``).
    embed_chunk : int, default=EMBED_CHUNK
        Distinct texts per embedding task.
    model : NarrativeModel, optional
        A fitted model (e.g. ``persist.load_model`` of an earlier run) to assign with instead of
        fitting one: new paragraphs join the saved narratives.

    The result does not depend on ``n_partitions`` or on where tasks run: dedup sees the whole
    corpus, embedding chunks are cut from the text-hash order, the fit sample is drawn from it.
    """
    if client is None and scheduler:
        with connect(scheduler) as own_client:
            return build_distributed(
                sources, store, settings=settings, codebook=codebook, client=own_client,
                n_partitions=n_partitions, manifest=manifest, options=options,
                fit_sample_size=fit_sample_size, embed_chunk=embed_chunk, model=model,
                echo=echo,
            )
    if fit_sample_size is None:
        fit_sample_size = settings.fit_sample_max
    runner = _Runner(client)
    timer = StageTimer()
    given_model = model is not None
    summary, used_partitions = None, 0
    if sources:
        with timer.stage("ingest"):
            summary, used_partitions = _ingest(
                sources, store, runner, settings=settings, manifest=manifest, options=options,
                n_partitions=n_partitions or 2 * runner.n_threads,
            )
        echo(f"ingest: {summary.n_read} read, {summary.n_ingested} ingested "
             f"({summary.n_new_articles} new) in {used_partitions} partition(s), "
             f"{len(summary.rejects)} rejected, {summary.n_paragraphs} paragraphs")
    paragraphs = store.paragraphs()
    if paragraphs.empty:
        raise InputError(f"{store.path}: the store holds no paragraphs; ingest articles first")
    distinct = paragraphs.drop_duplicates("text_hash").sort_values("text_hash")
    distinct = distinct.reset_index(drop=True)
    spec = EmbedderSpec.from_settings(settings)
    with timer.stage("load model"):
        embedder = cached_embedder(spec)  # the driver's copy: codebook descriptions, labels
    with timer.stage("embed"):
        n_embedded = _embed_missing(distinct, store, runner, spec, embedder.model_id, embed_chunk)
        vectors = store.get_embeddings(distinct["text_hash"].tolist(), embedder.model_id)
    echo(f"embed: {n_embedded} of {len(distinct)} distinct texts embedded")
    sample = fit_sample(distinct["text_hash"].tolist(), fit_sample_size, settings.seed)
    fingerprint = input_fingerprint(paragraphs)
    codebook_hash = codebook.fingerprint() if codebook is not None else "none"
    sampled = len(sample) < len(distinct)
    run_id = content_hash(fingerprint, _settings_key(settings), codebook_hash,
                          *([f"fit_sample={fit_sample_size}"] if sampled else []),
                          *([f"model={_model_hash(model)}"] if model is not None else []))
    reused = store.one("SELECT 1 FROM runs WHERE run_id = ?", [run_id]) is not None
    if reused:
        narratives, assignments = narrative_table(store, run_id), store.assignments(run_id)
    else:
        if model is None:
            from ..model import NarrativeModel

            with timer.stage("fit"):
                model = NarrativeModel.from_settings(settings, codebook=codebook, embedder=embedder)
                model.fit(distinct["text"].iloc[sample].tolist(), vectors[sample])
        with timer.stage("assign"):
            chunks = [vectors[i:i + embed_chunk] for i in range(0, len(vectors), embed_chunk)]
            parts = runner.map(assign_vectors, chunks, **model.assignment_rule())
        topics = np.concatenate([t for t, _ in parts]) if parts else np.zeros(0, dtype=int)
        sims = np.concatenate([s for _, s in parts]) if parts else np.zeros(0)
        if not given_model and model.outliers == "keep":
            # The fit sample keeps the fit's own assignment, as in pipeline.fit_run: BERTopic's -1
            # stays -1 and no member is lost to its narrative's radius (with "reduce" the rule
            # already reproduces the fit).
            topics[sample], sims[sample] = model.topics_, model.probabilities_
        topic_of = dict(zip(distinct["text_hash"], topics))
        prob_of = dict(zip(distinct["text_hash"], sims))
        assignments = pd.DataFrame({
            "paragraph_id": paragraphs["paragraph_id"],
            "narrative_id": paragraphs["text_hash"].map(topic_of).astype(int),
            "probability": paragraphs["text_hash"].map(prob_of).astype(float),
        })
        narratives = _save_run(store, run_id, model, paragraphs, distinct, vectors, assignments,
                               settings=settings, codebook=codebook, codebook_hash=codebook_hash,
                               fingerprint=fingerprint, n_fit=0 if given_model else len(sample))
    n_fit = 0 if given_model else len(sample)
    echo(f"fit: run {run_id}" + (" (reused)" if reused else " (assigned with the given model)"
         if given_model else f" on {n_fit} of {len(distinct)} distinct texts"))
    fit_hashes = distinct["text_hash"].iloc[sample].tolist()
    with timer.stage("aggregate"):
        shares = outlet_period_shares(store, paragraphs, assignments, narratives, settings)
    return DistributedResult(
        run_id=run_id, reused=reused, n_partitions=used_partitions,
        n_paragraphs=len(paragraphs), n_distinct=len(distinct), n_embedded=n_embedded,
        n_fit=n_fit, fit_hashes=fit_hashes, ingest=summary, narratives=narratives,
        assignments=assignments.sort_values("paragraph_id", ignore_index=True), shares=shares,
        timings=timer.seconds, model=None if reused else model,
    )


def _settings_key(settings: Settings) -> str:
    """Every setting as JSON, for run ids; settings added since at their implicit value are left
    out (``config.IMPLICIT_MODEL_SETTINGS``), so runs stored before they existed keep their ids."""
    import json

    from ..config import without_implicit

    return json.dumps(without_implicit(settings.to_dict()), sort_keys=True)


def _model_hash(model) -> str:
    """Identity of a fitted model for run ids: its narratives' ids and centroids (and radii, for
    a model that keeps outliers)."""
    radii = getattr(model, "radii_", None)
    extra = [] if radii is None else [np.asarray(radii, dtype=np.float32).tobytes().hex()]
    return content_hash(np.asarray(model.centroid_ids_).tobytes().hex(),
                        np.asarray(model.centroids_, dtype=np.float32).tobytes().hex(), *extra)


def _ingest(sources, store: Store, runner: _Runner, *, settings: Settings, manifest,
            options: IngestOptions, n_partitions: int) -> tuple[IngestSummary, int]:
    """Ingest + segment per partition on the workers; dedup and store on the driver."""
    from ..dedup import mark_duplicate_articles, mark_duplicate_paragraphs
    from ..ingest.readers import collect_files

    warnings: list[str] = []
    skip = [Path(manifest)] if manifest is not None else []
    # Absolute paths: workers may start in another directory.
    files = [str(Path(f).resolve()) for f in collect_files(sources, skip=skip, warnings=warnings)]
    groups = partition_files(files, n_partitions) if files else []
    parts = runner.map(ingest_partition, groups, manifest=str(manifest) if manifest else None,
                       options=options, settings=settings)
    for part in parts:  # a partition sees only its files: manifest rows of others look unused
        warnings.extend(w for w in part.warnings if not (len(parts) > 1 and _MANIFEST_UNUSED in w))
    articles = mark_duplicate_articles([a for part in parts for a in part.articles])
    paragraphs = mark_duplicate_paragraphs([p for part in parts for p in part.paragraphs],
                                           [a.article_id for a in articles])
    rejects = [r for part in parts for r in part.rejects]
    new_articles = store.add_articles(articles)
    store.add_removed([r for part in parts for r in part.removed])
    new_paragraphs = store.add_paragraphs(paragraphs)
    store.add_rejects(rejects)
    summary = IngestSummary(
        n_read=sum(p.n_read for p in parts), n_ingested=len(articles),
        n_new_articles=new_articles, n_paragraphs=len(paragraphs),
        n_new_paragraphs=new_paragraphs, rejects=rejects, warnings=list(dict.fromkeys(warnings)),
    )
    if summary.n_ingested == 0:
        reasons = ", ".join(f"{k}: {v}" for k, v in summary.reasons().items()) or "no input files"
        raise InputError(f"no readable article in {', '.join(map(str, sources))} ({reasons})")
    return summary, len(groups)


def _embed_missing(distinct: pd.DataFrame, store: Store, runner: _Runner, spec: EmbedderSpec,
                   model_id: str, chunk_size: int) -> int:
    """Embed the distinct texts the store lacks, in text-hash-ordered chunks, on the workers."""
    cached = store.cached_hashes(distinct["text_hash"].tolist(), model_id)
    todo = distinct[~isin(distinct["text_hash"], cached)]
    hashes, texts = todo["text_hash"].tolist(), todo["text"].tolist()
    starts = range(0, len(todo), chunk_size)
    futures = runner.submit_map(embed_texts, [texts[s:s + chunk_size] for s in starts], spec=spec)
    for start, vectors in zip(starts, runner.gather(futures)):
        store.put_embeddings(hashes[start:start + chunk_size], vectors, model_id)
    return len(todo)


def _save_run(store: Store, run_id: str, model, paragraphs: pd.DataFrame,
              distinct: pd.DataFrame, vectors: np.ndarray, assignments: pd.DataFrame, *,
              settings: Settings, codebook: Codebook | None, codebook_hash: str, fingerprint: str,
              n_fit: int) -> pd.DataFrame:
    """Record the run as ``pipeline.fit_run`` does (plus the fit sample size), with the soft
    mixtures of its assigned paragraphs (``vectors``: one per row of ``distinct``); save the model."""
    from ..drift import distribution_rows

    narratives = model.narratives_.copy()
    sizes = assignments["narrative_id"].value_counts()
    narratives["size"] = narratives["narrative_id"].map(sizes).fillna(0).astype(int)
    stats = {
        "n_paragraphs": int(len(paragraphs)),
        "n_distinct_texts": int(len(distinct)),
        "n_fit_texts": int(n_fit),
        "min_cluster_size": int(getattr(model, "min_cluster_size_", 0) or 0),
        "n_named": int((narratives["kind"] == "named").sum()),
        "n_discovered": int((narratives["kind"] == "discovered").sum()),
        "unassigned_share": float((assignments["narrative_id"] == -1).mean()),
        "kinds": dict(zip(narratives["narrative_id"].astype(str), narratives["kind"])),
        "codebook": [
            {"name": n.name, "description": n.description, "seeds": list(n.seeds)}
            for n in (codebook.narratives if codebook is not None else ())
        ],
    }
    record = RunRecord(run_id=run_id, settings=settings.to_dict(), codebook_hash=codebook_hash,
                       versions=library_versions(), seed=settings.seed,
                       input_fingerprint=fingerprint, stats=stats)
    distributions = distribution_rows(model, vectors, distinct["text_hash"], paragraphs, assignments)
    store.save_run(record, narratives, assignments, distributions=distributions)
    if store.path != ":memory:":
        from ..persist import save_model

        save_model(model, model_dir(store, run_id))
    return narratives


def outlet_period_shares(store: Store, paragraphs: pd.DataFrame, assignments: pd.DataFrame,
                         narratives: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Narrative shares by outlet × period (hard, with bootstrap intervals) from the run."""
    from ..drift import labelled_paragraphs, narrative_shares

    labelled = labelled_paragraphs(store.articles(), paragraphs, assignments, narratives,
                                   period=settings.period)
    return narrative_shares(
        labelled, weighting=settings.weighting, n_bootstrap=settings.n_bootstrap,
        min_articles=settings.min_articles, seed=settings.seed, copies=settings.copies,
        period=settings.period,
    )


def build_with_dask(
    sources: Sequence[str | Path],
    out_dir: str | Path,
    *,
    scheduler: str | None = None,
    client=None,
    n_partitions: int | None = None,
    store_path: str | Path | None = None,
    manifest: str | Path | None = None,
    codebook_path: str | Path | None = None,
    settings: Settings = Settings(),
    formats: Sequence[str] = ("html", "pdf"),
    echo: Callable[[str], None] = lambda s: None,
    title: str | None = None,
    options: IngestOptions = IngestOptions(),
    fit_sample_size: int | None = None,
) -> BuildResult:
    """``pipeline.build`` with ingest, embedding, fitting and assignment on a Dask cluster.

    ``scheduler`` (or :func:`resolve_scheduler`'s environment and config) names the cluster;
    with neither it nor ``client`` the same path runs in-process. Drift and the report follow on
    the driver exactly as in :func:`narrative.pipeline.build`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    store_path = Path(store_path) if store_path else out_dir / "narrative.duckdb"
    codebook = load_codebook(codebook_path)  # validate before any long work
    scheduler = None if client is not None else resolve_scheduler(scheduler)
    if scheduler:
        echo(f"dask: scheduler {scheduler}")
    with Store(store_path) as store:
        result = build_distributed(
            sources, store, settings=settings, codebook=codebook, client=client,
            scheduler=scheduler, n_partitions=n_partitions, manifest=manifest, options=options,
            fit_sample_size=fit_sample_size, echo=echo,
        )
        for warning in (result.ingest.warnings if result.ingest else [])[:20]:
            echo(f"warning: {warning}")
        timer = StageTimer(dict(result.timings))
        with timer.stage("drift"):
            drift = compute_drift(store, result.run_id, settings=settings)
        with timer.stage("report"):
            paths = write_report(store, result.run_id, out_dir, settings=settings,
                                 formats=formats, drift=drift, timings=timer.seconds, title=title)
    summary = result.ingest or IngestSummary(0, 0, 0, result.n_paragraphs, 0, [], [])
    return BuildResult(out_dir, store_path, result.run_id, summary, result.fit_result(), paths,
                       timer.seconds)

"""Wires the stages: ingest → segment → dedup → store → embed → fit → drift → figures → report.

Each function here is orchestration only; the work lives in the stage modules. The CLI and the
notebooks call these functions.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence


from .codebook import load_codebook
from .config import Settings
from .drift import compute_drift
from .errors import InputError
from .ingest.options import ReadOptions
from .ingest.stream import StreamSummary as IngestSummary  # counts of one ingest
from .progress import ProgressFactory, StageTimer, no_progress
from .provenance import build_provenance
from .report.write import REPORT_FORMATS, report_formats, write_report  # noqa: F401 (re-exported)
from .runtime.workers import sharer
from .runs import FitResult, fit_run
from .store import Store

log = logging.getLogger("narrative")


# -- ingest -----------------------------------------------------------------------------------
def ingest_articles(
    sources: Sequence[str | Path],
    store: Store,
    *,
    manifest: str | Path | None = None,
    settings: Settings = Settings(),
    options: ReadOptions = ReadOptions(),
) -> IngestSummary:
    """Read ``sources``, clean, segment and dedup them, and add what is new to ``store``.

    Streams: records are read lazily and processed in batches, so memory holds one batch of text
    plus the compact dedup index (see :mod:`narrative.ingest.stream`).
    """
    from .ingest import ingest_into_store

    return ingest_into_store(
        sources, store, manifest=manifest, boilerplate=options.boilerplate,
        columns=options.columns or None, day_first=options.day_first, settings=settings,
        follow_links=options.follow_links,
    )




# -- build ------------------------------------------------------------------------------------
@dataclass
class BuildResult:
    out_dir: Path
    store_path: Path
    run_id: str
    ingest: IngestSummary
    fit: FitResult
    paths: dict[str, Path]
    timings: dict[str, float]


def build(
    sources: Sequence[str | Path],
    out_dir: str | Path,
    *,
    store_path: str | Path | None = None,
    manifest: str | Path | None = None,
    codebook_path: str | Path | None = None,
    settings: Settings = Settings(),
    formats: Sequence[str] = ("html", "pdf"),
    progress: ProgressFactory = no_progress,
    echo: Callable[[str], None] = lambda s: None,
    title: str | None = None,
    options: ReadOptions = ReadOptions(),
    refit: bool = False,
    scheduler: str | None = None,
    client=None,
    n_partitions: int | None = None,
    command: str | None = None,
    config_path: str | Path | None = None,
    index: bool = False,
) -> BuildResult:
    """Ingest + fit (or update) + drift + report: a folder of articles to ``out_dir/report.html``.

    A store that already holds a run with the same model settings and codebook is updated: new
    paragraphs are assigned with the saved model. ``refit=True`` clusters everything afresh.
    With a Dask ``scheduler`` address or ``client``, ingest (in ``n_partitions`` partitions),
    embedding and assignment run on that cluster (:mod:`narrative.distributed`); the stored
    result is the same. ``command`` (the command line) and the hashes of the manifest, codebook
    and ``config_path`` files are recorded with a new run, for the report's methods. With
    ``index=True`` the folder above ``out_dir`` gets an ``index.html`` listing its reports.
    """
    from .embed.sentence import resolve_model_path
    from .io import prepare_output_dir

    # Everything the user gave is checked before any long work.
    formats = report_formats(formats)
    out_dir = prepare_output_dir(out_dir)
    store_path = Path(store_path) if store_path else out_dir / "narrative.duckdb"
    codebook = load_codebook(codebook_path)
    resolve_model_path(settings.embedding_model)
    provenance = build_provenance(command=command, manifest=manifest, codebook=codebook_path,
                                  config=config_path)
    timer = StageTimer()
    on_cluster = scheduler is not None or client is not None
    embedder = None if on_cluster else _start_embedder(settings)  # loads while this process ingests
    with (
        contextlib.closing(embedder) if embedder is not None else contextlib.nullcontext(),
        Store(store_path) as store,
    ):
        if on_cluster:
            from .distributed import build_distributed

            result = build_distributed(
                sources, store, settings=settings, codebook=codebook, client=client,
                scheduler=scheduler, n_partitions=n_partitions, manifest=manifest,
                options=options, refit=refit, timer=timer, provenance=provenance,
            )
            summary, fit = result.ingest, result.fit
            _echo_ingest(summary, echo, partitions=result.n_partitions)
        else:
            with timer.stage("ingest"):
                summary = ingest_articles(sources, store, manifest=manifest, settings=settings,
                                          options=options)
            _echo_ingest(summary, echo, sources=sources)
            fit = fit_run(store, settings=settings, codebook=codebook, progress=progress,
                          timer=timer, refit=refit, embedder=embedder, provenance=provenance)
        if embedder is not None:
            embedder.close()  # done with the model: its memory back before drift and report
        _echo_fit(fit, echo)
        with timer.stage("drift"):
            drift = compute_drift(store, fit.run_id, settings=settings,
                                  share=sharer(settings.workers))
        with timer.stage("report"):
            paths = write_report(
                store, fit.run_id, out_dir, settings=settings, formats=formats, drift=drift,
                timings=timer.seconds, title=title, index=index,
            )
    return BuildResult(out_dir, store_path, fit.run_id, summary, fit, paths, timer.seconds)


def _echo_ingest(summary: IngestSummary, echo: Callable[[str], None], *,
                 partitions: int | None = None, sources: Sequence | None = None) -> None:
    """The ingest's summary line and its first warnings; an :class:`InputError` naming
    ``sources`` when nothing could be ingested."""
    where = f" in {partitions} partition(s)" if partitions else ""
    echo(
        f"ingest: {summary.n_read} read, {summary.n_ingested} ingested "
        f"({summary.n_new_articles} new){where}, {summary.n_rejected} rejected, "
        f"{summary.n_paragraphs} paragraphs"
    )
    for warning in summary.warnings[:20]:
        echo(f"warning: {warning}")
    if summary.n_warnings > 20:
        echo(f"warning: ... and {summary.n_warnings - 20} more warnings (see the store)")
    if sources is not None and summary.n_ingested == 0:
        reasons = ", ".join(f"{k}: {v}" for k, v in summary.reasons().items()) or "no input files"
        raise InputError(f"no readable article in {', '.join(map(str, sources))} ({reasons})")


def _echo_fit(fit: FitResult, echo: Callable[[str], None]) -> None:
    echo(_fit_message(fit))
    if fit.refit_proposal:
        echo(f"refit proposed: {fit.refit_proposal}; run again with --refit to cluster afresh")


def _start_embedder(settings: Settings):
    """The embedding model loading in a forked process (see
    :mod:`narrative.embed.background`), or None: one core only, ``processes`` 1, or no fork
    here. Started before the store opens, so no database connection crosses the fork, and before
    the ingest says whether anything needs embedding: on a re-run with nothing new it loads on
    the idle core and is stopped unused."""
    from .embed.background import BackgroundEmbedder

    if settings.workers < 2 or not BackgroundEmbedder.available():
        return None
    return BackgroundEmbedder(settings.embedding_model, batch_size=settings.batch_size,
                              precision=settings.precision)


def _fit_message(fit: FitResult) -> str:
    if fit.mode == "reused":
        return f"fit: run {fit.run_id} (reused: input and settings unchanged)"
    if fit.mode == "update":
        n_new = int(fit.assignments["paragraph_id"].size)
        return (f"update: run {fit.run_id}, {fit.n_embedded} paragraphs embedded, new paragraphs "
                f"assigned with the saved model ({n_new} paragraphs in all)")
    return f"{fit.mode}: run {fit.run_id}, {fit.n_embedded} paragraphs embedded"


def demo(
    out_dir: str | Path,
    *,
    seed: int = 0,
    settings: Settings | None = None,
    n_weeks: int = 14,
    articles_per_outlet_week: int = 3,
    **build_kw,
) -> BuildResult:
    """Generate the demo corpus under ``out_dir`` and build its report."""
    from .sample import generate_demo_corpus, write_demo_corpus, write_demo_events

    out_dir = Path(out_dir)
    corpus = generate_demo_corpus(
        seed, n_weeks=n_weeks, articles_per_outlet_week=articles_per_outlet_week
    )
    corpus_path, _truth = write_demo_corpus(corpus, out_dir)
    write_demo_events(corpus, out_dir)
    # The demo measures its own stability across seeds (two extra fits), for the report's methods.
    settings = settings or Settings(seed=seed, stability_seeds=2)
    return build(
        [corpus_path], out_dir, settings=settings, title=build_kw.pop("title", "Demo corpus"),
        **build_kw,
    )

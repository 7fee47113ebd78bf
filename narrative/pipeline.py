"""Wires the stages: ingest → segment → dedup → store → embed → fit → drift → figures → report.

Each function here is orchestration only; the work lives in the stage modules. The CLI and the
notebooks call these functions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import platform
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .codebook import Codebook, load_codebook
from .config import Settings
from .frames import isin
from .ingest.stream import StreamSummary as IngestSummary  # counts of one ingest
from .schema import UNASSIGNED, content_hash
from .store import RunRecord, Store, StoreError
from .update import map_ids
from .errors import ConfigError, InputError

log = logging.getLogger("narrative")



@dataclass
class StageTimer:
    """Wall time per stage, in the order the stages ran."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)


ProgressFactory = Callable[[str, int], contextlib.AbstractContextManager]


def _no_progress(description: str, total: int):
    return contextlib.nullcontext(None)


# -- ingest -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class IngestOptions:
    """How to read the input: boilerplate rules, table columns, date order."""

    boilerplate: str | Path | bool = True
    """True: the shipped rules; a path: a YAML rules file (extends the defaults); False: keep all."""
    columns: dict[str, str] = field(default_factory=dict)
    """Explicit table columns by field (text, date, outlet, title, author, url, id, lang)."""
    day_first: bool | None = None
    """Force day/month order for dates like 03/04/2025 (None: the documented rule)."""


def ingest(
    sources: Sequence[str | Path],
    store: Store,
    *,
    manifest: str | Path | None = None,
    settings: Settings = Settings(),
    options: IngestOptions = IngestOptions(),
) -> IngestSummary:
    """Read ``sources``, clean, segment and dedup them, and add what is new to ``store``.

    Streams: records are read lazily and processed in batches, so memory holds one batch of text
    plus the compact dedup index (see :mod:`narrative.ingest.stream`).
    """
    from .ingest import ingest_into_store

    return ingest_into_store(
        sources, store, manifest=manifest, boilerplate=options.boilerplate,
        columns=options.columns or None, day_first=options.day_first, settings=settings,
    )


# -- fit --------------------------------------------------------------------------------------
def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("narrative", "bertopic", "umap-learn", "hdbscan", "sentence-transformers",
                 "torch", "scikit-learn", "duckdb", "numpy", "pandas"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def input_fingerprint(paragraphs: pd.DataFrame) -> str:
    """Hash of the paragraph ids (content hashes) the run was fitted on, order-independent."""
    return content_hash(*sorted(paragraphs["paragraph_id"]))


@dataclass
class FitResult:
    run_id: str
    reused: bool
    n_embedded: int
    narratives: pd.DataFrame
    assignments: pd.DataFrame
    mode: str = "fit"
    """``fit`` (clustered afresh), ``update`` (new paragraphs assigned with a saved model) or
    ``reused`` (input and settings unchanged)."""
    refit_proposal: str | None = None
    """Why a refit is advised after an update (None: the saved model still fits)."""


#: Libraries the fit imports (about 8 s on 2 cores, most of it BERTopic and umap-learn).
FIT_LIBRARIES = ("bertopic", "bertopic.representation", "bertopic.vectorizers", "hdbscan", "umap",
                 "sklearn.feature_extraction.text")
#: From this many distinct texts, a fit imports its libraries while the texts are embedded.
PRELOAD_MIN_TEXTS = 2_000


def _import_fit_libraries() -> None:
    import importlib

    from .jit_cache import enable_umap_cache

    try:
        for name in FIT_LIBRARIES:
            importlib.import_module(name)
        enable_umap_cache()
    except Exception:  # noqa: BLE001 - the fit imports them again and raises the error there
        pass


def preload_fit_libraries() -> threading.Thread:
    """Import the fit's libraries in a thread, started before the embedding.

    The embedding runs in torch's threads, in this process or in the forked embedder
    (:mod:`narrative.embed.background`), so the imports, which hold the GIL, mostly use time the
    embedding leaves; the fit joins the thread before it starts. Nothing forks while it runs:
    the embedder is forked during the ingest, the report's workers after the fit.
    """
    thread = threading.Thread(target=_import_fit_libraries, name="narrative-preload", daemon=True)
    thread.start()
    return thread


def fit_run(
    store: Store,
    *,
    settings: Settings = Settings(),
    codebook: Codebook | None = None,
    embedder=None,
    progress: ProgressFactory = _no_progress,
    timer: StageTimer | None = None,
    refit: bool = False,
) -> FitResult:
    """Embed what is missing, then fit the narrative model or update the last compatible run.

    The run id is a hash of the input, the model settings and the codebook, so an unchanged corpus
    reuses its stored run. When the store holds a run fitted with the same model settings and
    codebook, new paragraphs are assigned with its saved model (an *update*) and a refit is proposed
    when they fit it poorly; ``refit=True`` fits afresh, keeping narrative ids stable by matching the
    new narratives to the previous run's (see :mod:`narrative.lineage`).
    """
    from .config import IMPLICIT_MODEL_SETTINGS, NOT_MODEL_SETTINGS
    from .drift import distribution_rows
    from .embed import embed_paragraphs, load_embedder
    from .update import compatible_run

    timer = timer or StageTimer()
    paragraphs = store.paragraphs()
    if paragraphs.empty:
        raise InputError(f"{store.path}: the store holds no paragraphs; ingest articles first")
    fingerprint = input_fingerprint(paragraphs)
    codebook_hash = codebook.fingerprint() if codebook is not None else "none"
    run_id = content_hash(fingerprint, settings.model_json(), codebook_hash)
    if refit:
        run_id = content_hash(run_id, "refit")
    existing = store.one("SELECT 1 FROM runs WHERE run_id = ?", [run_id])
    if existing is not None and (
        store.path == ":memory:" or model_dir(store, model_run_id(store, run_id)).is_dir()
    ):
        return FitResult(run_id, True, 0, narrative_table(store, run_id), store.assignments(run_id),
                         mode="reused")
    runs = [
        {"run_id": r[0], "settings": r[1], "codebook_hash": r[2]}
        for r in store.con.execute(
            "SELECT run_id, settings, codebook_hash FROM runs ORDER BY created_at DESC, run_id"
        ).fetchall()
    ]
    previous = compatible_run(
        runs, model_settings_json=settings.model_json(), codebook_hash=codebook_hash,
        not_model=NOT_MODEL_SETTINGS, implicit=IMPLICIT_MODEL_SETTINGS,
    )
    if previous is not None and not model_dir(store, model_run_id(store, previous)).is_dir():
        previous = None  # its model files are gone: nothing to update from

    with timer.stage("load model"):
        embedder = embedder or load_embedder(
            settings.embedding_model, batch_size=settings.batch_size, precision=settings.precision
        )
        embedder.model_id  # noqa: B018 - one loading elsewhere is waited for here
    with timer.stage("embed"):
        # One vector per distinct text, fitted in text-hash order so input order does not matter.
        distinct = (
            paragraphs.drop_duplicates("text_hash").sort_values("text_hash").reset_index(drop=True)
        )
        preload = (preload_fit_libraries() if (previous is None or refit)
                   and len(distinct) >= PRELOAD_MIN_TEXTS else None)
        vectors, n_embedded = embed_paragraphs(store, distinct, embedder, progress_factory=progress)
    record_base = dict(
        settings=settings.to_dict(), codebook_hash=codebook_hash, versions=library_versions(),
        seed=settings.seed, input_fingerprint=fingerprint,
    )
    if previous is not None and not refit:
        with timer.stage("assign"):
            return _update_run(store, run_id, previous, paragraphs, distinct, vectors, n_embedded,
                               settings=settings, record_base=record_base)
    with timer.stage("fit"):
        from .jit_cache import enable_umap_cache
        from .model import NarrativeModel

        if preload is not None:
            preload.join()
        enable_umap_cache()  # later runs load umap's compiled code instead of compiling it again
        model = NarrativeModel.from_settings(settings, codebook=codebook, embedder=embedder)
        sample = fit_sample(len(distinct), settings.fit_sample_max, settings.seed)
        if sample is None:
            model.fit(distinct["text"].tolist(), vectors)
            topics, probabilities = model.topics_, model.probabilities_
            subtopics = model.subtopics_
        else:  # large corpus: fit on a sample, assign everything to the sample's centroids
            model.fit(distinct["text"].iloc[sample].tolist(), vectors[sample])
            topics, probabilities = model.transform(vectors)
            topics[sample], probabilities[sample] = model.topics_, model.probabilities_
            subtopics = model.transform_subnarratives(vectors, topics)
            subtopics[sample] = model.subtopics_
    id_map, lineage_events = None, []
    if previous is not None:  # a refit: keep the previous run's ids where narratives continue
        id_map, lineage_events = _lineage(store, previous, model)
    topic_of = dict(zip(distinct["text_hash"], map_ids(topics, id_map)))
    prob_of = dict(zip(distinct["text_hash"], probabilities))
    sub_of = dict(zip(distinct["text_hash"], subtopics))
    assignments = pd.DataFrame(
        {
            "paragraph_id": paragraphs["paragraph_id"],
            "narrative_id": paragraphs["text_hash"].map(topic_of).astype(int),
            "probability": paragraphs["text_hash"].map(prob_of).astype(float),
            "sub_id": paragraphs["text_hash"].map(sub_of).astype(int),
        }
    )
    subnarratives = model.subnarratives_.copy()
    if len(subnarratives):
        subnarratives["narrative_id"] = map_ids(subnarratives["narrative_id"], id_map)
    narratives = model.narratives_.copy()
    narratives["narrative_id"] = map_ids(narratives["narrative_id"], id_map)
    sizes = assignments["narrative_id"].value_counts()
    narratives["size"] = narratives["narrative_id"].map(sizes).fillna(0).astype(int)
    stats = {
        "mode": "refit" if previous is not None else "fit",
        "n_paragraphs": int(len(paragraphs)),
        "n_distinct_texts": int(len(distinct)),
        "n_model_paragraphs": int(len(paragraphs)),
        "n_fit_sample": int(len(distinct) if sample is None else len(sample)),
        "min_cluster_size": int(model.min_cluster_size_),
        "n_named": int((narratives["kind"] == "named").sum()),
        "n_discovered": int((narratives["kind"] == "discovered").sum()),
        "unassigned_share": float((assignments["narrative_id"] == -1).mean()),
        "model_unassigned_share": float((assignments["narrative_id"] == -1).mean()),
        "kinds": dict(zip(narratives["narrative_id"].astype(str), narratives["kind"])),
        "codebook": [
            {"name": n.name, "description": n.description, "seeds": list(n.seeds)}
            for n in (codebook.narratives if codebook is not None else ())
        ],
    }
    if previous is not None:
        stats.update(previous_run=previous, lineage=lineage_events,
                     id_map={str(k): v for k, v in id_map.items()})
    if store.path != ":memory:":  # the model first: a stored run always has its model files
        from .persist import save_model

        save_model(model, model_dir(store, run_id))
    stats["n_subnarratives"] = int(len(subnarratives))
    if settings.stability_seeds > 0:
        with timer.stage("stability"):
            texts = distinct["text"] if sample is None else distinct["text"].iloc[sample]
            stats["stability"] = seed_stability(
                model, texts.tolist(), vectors if sample is None else vectors[sample],
                settings=settings, codebook=codebook, embedder=embedder,
            )
    distributions = distribution_rows(model, vectors, distinct["text_hash"], paragraphs, assignments,
                                      id_map=id_map)
    store.save_run(RunRecord(run_id=run_id, stats=stats, **record_base), narratives, assignments,
                   subnarratives, distributions)
    return FitResult(run_id, False, n_embedded, narratives, assignments, mode=stats["mode"])


def seed_stability(model, texts: list[str], vectors: np.ndarray, *, settings: Settings,
                   codebook: Codebook | None, embedder) -> dict:
    """ARI between ``model``'s assignments and refits with ``settings.stability_seeds`` other seeds
    on the same texts and embeddings (what the report's methods section prints)."""
    from sklearn.metrics import adjusted_rand_score

    from .model import NarrativeModel

    scores = []
    for offset in range(1, settings.stability_seeds + 1):
        other = NarrativeModel.from_settings(
            settings.replace(seed=settings.seed + offset), codebook=codebook, embedder=embedder
        ).fit(texts, vectors)
        scores.append(float(adjusted_rand_score(model.topics_, other.topics_)))
    return {
        "ari_mean": float(np.mean(scores)), "ari_min": float(np.min(scores)),
        "n_seeds": settings.stability_seeds + 1,
        "method": "ARI of paragraph assignments, seed "
                  f"{settings.seed} against seeds {settings.seed + 1}-{settings.seed + settings.stability_seeds}, "
                  "same embeddings",
    }


def fit_sample(n: int, max_size: int, seed: int) -> np.ndarray | None:
    """Sorted row indices of a seeded random sample of ``max_size`` rows, or None to fit on all."""
    if max_size <= 0 or n <= max_size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=max_size, replace=False))


def _update_run(store, run_id, base_id, paragraphs, distinct, vectors, n_embedded, *, settings,
                record_base) -> FitResult:
    """Assign the paragraphs the base run has not seen with its saved model; record a new run."""
    from .drift import distribution_rows
    from .update import refit_advice

    base = store.run(base_id)
    model_run = base["stats"].get("model_run", base_id)
    model, id_map = load_run_model(store, base_id)
    base_assign = store.assignments(base_id).merge(
        store.sub_assignments(base_id)[["paragraph_id", "sub_id"]], on="paragraph_id", how="left"
    )
    kept = base_assign[isin(base_assign["paragraph_id"], paragraphs["paragraph_id"])]
    new = paragraphs[~isin(paragraphs["paragraph_id"], kept["paragraph_id"])]
    row_of = {h: i for i, h in enumerate(distinct["text_hash"])}
    new_texts = new.drop_duplicates("text_hash")
    if len(new_texts):
        new_vectors = vectors[[row_of[h] for h in new_texts["text_hash"]]]
        topics, probs = model.transform(new_vectors)
        subs = model.transform_subnarratives(new_vectors, topics)
        topic_of = dict(zip(new_texts["text_hash"], map_ids(topics, id_map)))
        prob_of = dict(zip(new_texts["text_hash"], probs))
        sub_of = dict(zip(new_texts["text_hash"], subs))
    else:
        topic_of, prob_of, sub_of = {}, {}, {}
    added = pd.DataFrame({
        "paragraph_id": new["paragraph_id"],
        "narrative_id": new["text_hash"].map(topic_of).astype(int),
        "probability": new["text_hash"].map(prob_of).astype(float),
        "sub_id": new["text_hash"].map(sub_of).astype(int),
    })
    assignments = pd.concat([kept[added.columns], added], ignore_index=True)
    narratives = narrative_table(store, base_id)
    sizes = assignments["narrative_id"].value_counts()
    narratives["size"] = narratives["narrative_id"].map(sizes).fillna(0).astype(int)
    n_model = int(base["stats"].get("n_model_paragraphs", base["stats"].get("n_paragraphs", 0)))
    model_unassigned = float(base["stats"].get("model_unassigned_share",
                                                base["stats"].get("unassigned_share", 0.0)))
    new_unassigned = float((added["narrative_id"] == -1).mean()) if len(added) else 0.0
    advice = refit_advice(
        n_model=n_model, n_new=len(paragraphs) - n_model, new_unassigned_share=new_unassigned,
        model_unassigned_share=model_unassigned, margin=settings.refit_margin,
        growth=settings.refit_growth,
    )
    if len(added) == 0 or not advice.propose:
        advice_text = None
    else:
        advice_text = advice.reason
    stats = {
        **{k: v for k, v in base["stats"].items() if k not in ("lineage", "previous_run")},
        "mode": "update",
        "base_run": base_id,
        "model_run": model_run,
        "n_paragraphs": int(len(paragraphs)),
        "n_distinct_texts": int(len(distinct)),
        "n_new_paragraphs": int(len(added)),
        "new_unassigned_share": new_unassigned,
        "unassigned_share": float((assignments["narrative_id"] == -1).mean()),
        "refit_proposed": advice_text,
        "refit_check": advice.reason,
    }
    assignments["sub_id"] = assignments["sub_id"].fillna(-1).astype(int)
    # Soft mixtures: the base run's rows for the paragraphs it had, the saved model's for the new
    # ones (for every paragraph when the base run was stored without them).
    carried = store.distributions(base_id)
    carried = carried[isin(carried["paragraph_id"], kept["paragraph_id"])]
    distributions = pd.concat([carried, distribution_rows(
        model, vectors, distinct["text_hash"], paragraphs, added if len(carried) else assignments,
        id_map=id_map,
    )], ignore_index=True)
    store.save_run(RunRecord(run_id=run_id, stats=stats, **record_base),
                   narratives, assignments, store.subnarratives(base_id), distributions)
    return FitResult(run_id, False, n_embedded, narratives, assignments, mode="update",
                     refit_proposal=advice_text)


def _lineage(store: Store, previous: str, model) -> tuple[dict[int, int], list[dict]]:
    """Match a refit's narratives to the previous run's by centroid similarity (stable ids)."""
    from .lineage import match_narratives

    old_model, old_map = load_run_model(store, previous)
    old_narr = narrative_table(store, previous).set_index("narrative_id")
    new_narr = model.narratives_.set_index("narrative_id")
    old_ids = map_ids(old_model.centroid_ids_, old_map)
    used = store.con.execute(
        "SELECT max(narrative_id) FROM narratives"
    ).fetchall()[0][0]
    lineage = match_narratives(
        old_ids, old_model.centroids_, list(model.centroid_ids_), model.centroids_,
        old_names=[old_narr["codebook_name"].get(i) for i in old_ids],
        new_names=[new_narr["codebook_name"].get(int(i)) for i in model.centroid_ids_],
        next_id=max(int(used or 0), max(model.centroid_ids_, default=0)) + 1,
    )
    events = [
        {"event": r.event, "old_ids": [int(i) for i in r.old_ids],
         "new_ids": [int(i) for i in r.new_ids],
         "similarity": None if pd.isna(r.similarity) else round(float(r.similarity), 4)}
        for r in lineage.events.itertuples()
    ]
    return lineage.id_map(), events


def model_run_id(store: Store, run_id: str) -> str:
    """The run whose saved model a run uses: itself, or for an update the run it updated."""
    return store.run(run_id)["stats"].get("model_run", run_id)


def load_run_model(store: Store, run_id: str):
    """A run's saved model and its map from the model's topic ids to the run's narrative ids."""
    from .persist import load_model

    model_run = model_run_id(store, run_id)
    stats = store.run(model_run)["stats"]
    id_map = {int(k): int(v) for k, v in stats.get("id_map", {}).items()} or None
    return load_model(model_dir(store, model_run)), id_map


def model_dir(store: Store, run_id: str) -> Path:
    """Where a run's fitted model is saved: ``models/<run_id>/`` beside the store file."""
    return Path(store.path).parent / "models" / run_id


# -- drift ------------------------------------------------------------------------------------
@dataclass
class DriftFrames:
    """Every drift table of one run (see :func:`narrative.drift.drift_tables`)."""

    paragraphs: pd.DataFrame  # labelled paragraphs
    tables: dict[str, pd.DataFrame]
    narrative_order: list[str]
    left_out: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LEFT_OUT_COLUMNS))
    """Articles left out of the time views for a suspicious date (see :func:`suspicious_dates`)."""

    @property
    def shares(self) -> pd.DataFrame:
        return self.tables["shares"]

    @property
    def outlet_shares(self) -> pd.DataFrame:
        return self.tables["outlet_shares"]

    @property
    def changepoints(self) -> pd.DataFrame:
        return self.tables["changepoints"]


def narrative_table(store: Store, run_id: str) -> pd.DataFrame:
    """The run's narratives with their kind (named / discovered / unassigned)."""
    narratives = store.narratives(run_id)
    kinds = store.run(run_id)["stats"].get("kinds", {})
    narratives["kind"] = [
        kinds.get(str(i), "named" if cb else ("unassigned" if i == -1 else "discovered"))
        for i, cb in zip(narratives["narrative_id"], narratives["codebook_name"])
    ]
    return narratives


#: Columns of :attr:`DriftFrames.left_out`.
LEFT_OUT_COLUMNS = ["article_id", "outlet", "date", "reason"]


def suspicious_dates(articles: pd.DataFrame) -> pd.DataFrame:
    """The articles whose date the ingest flagged as suspicious (``meta["date_flag"]``: before
    1900, or after the day it was ingested), with the flag as ``reason``.

    Such a date is kept in the store (it may be right), but it is left out of the time views: one
    article dated 0001-01-01 or 9999-12-31 would stretch every time axis over millennia (beyond
    what matplotlib can draw) and add periods holding one article. It still counts in the totals.
    """
    if "meta" not in articles or articles.empty:
        return pd.DataFrame(columns=LEFT_OUT_COLUMNS)
    flags = articles["meta"].map(_date_flag)
    flagged = articles[flags.notna() & articles["date"].notna()]
    return pd.DataFrame({
        "article_id": flagged["article_id"].to_numpy(), "outlet": flagged["outlet"].to_numpy(),
        "date": [str(d)[:10] for d in flagged["date"]], "reason": flags[flagged.index].to_numpy(),
    }, columns=LEFT_OUT_COLUMNS)


def _date_flag(meta: object) -> str | None:
    """The ingest's ``date_flag`` in an article's meta (a JSON text), or None."""
    try:
        value = json.loads(meta) if isinstance(meta, str) else meta
    except ValueError:
        return None
    flag = value.get("date_flag") if isinstance(value, dict) else None
    return str(flag) if flag else None


def compute_drift(store: Store, run_id: str, *, settings: Settings = Settings()) -> DriftFrames:
    """Shares with intervals, change points, divergence, emerging narratives, framing drift.

    Articles with a suspicious date (:func:`suspicious_dates`) count as undated here: left out of
    the time views, still counted in the outlet totals; ``left_out`` lists them.
    """
    from .drift import distribution_frame, drift_tables, labelled_paragraphs

    narratives = narrative_table(store, run_id)
    paragraphs = store.paragraphs()
    articles = store.articles()
    left_out = suspicious_dates(articles)
    articles.loc[isin(articles["article_id"], left_out["article_id"]), "date"] = None
    labelled = labelled_paragraphs(
        articles, paragraphs, store.assignments(run_id), narratives, period=settings.period
    )
    run = store.run(run_id)
    model_run = run["stats"].get("model_run", run_id)
    order = _narrative_order(narratives, None if model_run == run_id else
                             store.narratives(model_run).set_index("narrative_id")["size"])
    model_id = run["settings"].get("embedding_model", settings.embedding_model)
    if run["settings"].get("precision", "fp32") != "fp32":
        model_id = f"{model_id}@{run['settings']['precision']}"
    distinct = paragraphs.drop_duplicates("text_hash")
    try:
        vectors = store.get_embeddings(distinct["text_hash"].tolist(), model_id)
        embeddings = dict(zip(distinct["text_hash"], vectors))
    except StoreError:  # embeddings of another model only: framing shift is left empty
        embeddings = None
    distribution = None
    if settings.shares == "soft":
        stored = store.distributions(run_id)
        distribution = (distribution_frame(stored) if len(stored)  # runs stored before: compute
                        else soft_distribution_frame(store, run_id, labelled, embeddings))
    tables = drift_tables(
        labelled, narratives=order, period=settings.period, weighting=settings.weighting,
        distribution=distribution,
        copies=settings.copies, n_bootstrap=settings.n_bootstrap,
        min_articles=settings.min_articles, seed=settings.seed,
        kinds=dict(zip(narratives["label"], narratives["kind"])),
        embeddings=embeddings, texts=dict(zip(distinct["text_hash"], distinct["text"])),
        workers=settings.workers,
    )
    return DriftFrames(paragraphs=labelled, tables=tables, narrative_order=order, left_out=left_out)


def _narrative_order(narratives: pd.DataFrame, fitted_sizes: pd.Series | None = None) -> list[str]:
    """Named narratives first (codebook order = id order), then discovered by size, unassigned last.

    ``fitted_sizes`` (by narrative id): the sizes when the model was fitted, which an update run
    ranks by, so that assigning new paragraphs never reorders the narratives (nor, so, changes
    their colours in every figure).
    """
    kind_rank = {"named": 0, "discovered": 1, "unassigned": 2}
    size = narratives["size"]
    if fitted_sizes is not None:
        size = narratives["narrative_id"].map(fitted_sizes).fillna(size)
    ordered = narratives.assign(_k=narratives["kind"].map(kind_rank), _size=size).sort_values(
        ["_k", "_size", "narrative_id"], ascending=[True, False, True]
    )
    return ordered["label"].tolist()


def soft_distribution_frame(
    store: Store, run_id: str, labelled: pd.DataFrame, embeddings: dict[str, np.ndarray] | None
) -> pd.DataFrame:
    """Each assigned paragraph's soft narrative mixture, from the run's saved centroids: the soft
    shares of a run stored before runs kept their mixtures (``Store.distributions``).

    Unassigned paragraphs are left out, so they keep counting as ``unassigned``: soft shares
    spread the assigned mass, they do not hide the paragraphs no narrative claims.
    """
    if embeddings is None:
        raise StoreError(f"run {run_id}: no embeddings in the store for soft shares")
    model, id_map = load_run_model(store, run_id)
    columns = map_ids(model.centroid_ids_, id_map)
    assigned = labelled[labelled["narrative_id"] != -1]
    vectors = np.stack([embeddings[h] for h in assigned["text_hash"]]) if len(assigned) else None
    if vectors is None:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(
        model.distribution(vectors), index=assigned["paragraph_id"].to_numpy(), columns=columns,
    )


def write_drift(frames: DriftFrames, out_dir: Path) -> dict[str, Path]:
    """shares.csv, changepoints.csv (DESIGN.md columns first), divergence, emerging, framing CSVs."""
    from .io import prepare_output_dir, write_csv
    from .schema import CHANGEPOINT_COLUMNS, SHARES_COLUMNS

    out_dir = prepare_output_dir(out_dir)
    paths = {}
    for name, first in (("shares", SHARES_COLUMNS), ("changepoints", CHANGEPOINT_COLUMNS),
                        ("divergence", []), ("emerging", []), ("framing", []),
                        ("outlet_comparison", []), ("coverage", [])):
        frame = frames.tables.get(name)
        if frame is None:
            continue
        columns = first + [c for c in frame.columns if c not in first]
        frame = frame[columns].copy()
        for col in frame.columns:  # lists (top terms) as "a; b; c"
            if frame[col].map(lambda v: isinstance(v, (list, tuple))).any():
                frame[col] = frame[col].map(lambda v: "; ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
        paths[name] = write_csv(out_dir / f"{name}.csv", frame, float_format="%.4f")
    return paths


# -- report -----------------------------------------------------------------------------------
#: The report files ``write_report`` can write.
REPORT_FORMATS = ("html", "pdf")


def report_formats(formats: str | Sequence[str]) -> list[str]:
    """The report formats asked for (``"html,pdf"`` or a list), checked: at least one, each
    known, else a :class:`ConfigError` naming the valid ones. A report with no format would
    write no report at all."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    asked = list(dict.fromkeys(str(f).strip().lower() for f in items if str(f).strip()))
    unknown = [f for f in asked if f not in REPORT_FORMATS]
    if unknown:
        problem = f"unknown report format(s) {', '.join(map(repr, unknown))}"
    elif not asked:
        problem = f"no report format in {formats!r}"
    else:
        return asked
    raise ConfigError(f"{problem}; valid formats: {', '.join(REPORT_FORMATS)} "
                      "(comma-separated, e.g. --format html,pdf)")


def write_report(
    store: Store,
    run_id: str,
    out_dir: str | Path,
    *,
    settings: Settings = Settings(),
    formats: Sequence[str] = ("html", "pdf"),
    drift: DriftFrames | None = None,
    timings: dict[str, float] | None = None,
    title: str | None = None,
) -> dict[str, Path]:
    """Figures, shares.csv, changepoints.csv and the report files for one run under ``out_dir``."""
    from .io import prepare_output_dir
    from .report.assemble import assemble_report

    formats = report_formats(formats)
    out_dir = prepare_output_dir(out_dir)
    drift = drift or compute_drift(store, run_id, settings=settings)
    paths = write_drift(drift, out_dir)
    model = assemble_report(
        store, run_id, drift, out_dir=out_dir, settings=settings, timings=timings or {},
        title=title,
    )
    if "html" in formats:
        from .report.html import write_html

        paths["html"] = write_html(model, out_dir / "report.html")
    if "pdf" in formats:
        from .report.pdf import write_pdf

        paths["pdf"] = write_pdf(model, out_dir / "report.pdf")
    if out_dir.resolve().parent.name == "reports":
        from .report.index import write_index

        paths["index"] = write_index(out_dir.resolve().parent)
    return paths


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
    progress: ProgressFactory = _no_progress,
    echo: Callable[[str], None] = lambda s: None,
    title: str | None = None,
    options: IngestOptions = IngestOptions(),
    refit: bool = False,
) -> BuildResult:
    """Ingest + fit (or update) + drift + report: a folder of articles to ``out_dir/report.html``.

    A store that already holds a run with the same model settings and codebook is updated: new
    paragraphs are assigned with the saved model. ``refit=True`` clusters everything afresh.
    """
    from .embed.sentence import resolve_model_path
    from .io import prepare_output_dir

    # Everything the user gave is checked before any long work.
    formats = report_formats(formats)
    out_dir = prepare_output_dir(out_dir)
    store_path = Path(store_path) if store_path else out_dir / "narrative.duckdb"
    codebook = load_codebook(codebook_path)
    resolve_model_path(settings.embedding_model)
    timer = StageTimer()
    embedder = _start_embedder(settings)  # loads while this process ingests
    with (
        contextlib.closing(embedder) if embedder is not None else contextlib.nullcontext(),
        Store(store_path) as store,
    ):
        with timer.stage("ingest"):
            summary = ingest(sources, store, manifest=manifest, settings=settings, options=options)
        echo(
            f"ingest: {summary.n_read} read, {summary.n_ingested} ingested "
            f"({summary.n_new_articles} new), {summary.n_rejected} rejected, "
            f"{summary.n_paragraphs} paragraphs"
        )
        for warning in summary.warnings[:20]:
            echo(f"warning: {warning}")
        if summary.n_warnings > 20:
            echo(f"warning: ... and {summary.n_warnings - 20} more warnings (see the store)")
        if summary.n_ingested == 0:
            reasons = ", ".join(f"{k}: {v}" for k, v in summary.reasons().items()) or "no input files"
            raise InputError(f"no readable article in {', '.join(map(str, sources))} ({reasons})")
        fit = fit_run(store, settings=settings, codebook=codebook, progress=progress, timer=timer,
                      refit=refit, embedder=embedder)
        if embedder is not None:
            embedder.close()  # done with the model: its memory back before drift and report
        echo(_fit_message(fit))
        if fit.refit_proposal:
            echo(f"refit proposed: {fit.refit_proposal}; run again with --refit to cluster afresh")
        with timer.stage("drift"):
            drift = compute_drift(store, fit.run_id, settings=settings)
        with timer.stage("report"):
            paths = write_report(
                store, fit.run_id, out_dir, settings=settings, formats=formats, drift=drift,
                timings=timer.seconds, title=title,
            )
    return BuildResult(out_dir, store_path, fit.run_id, summary, fit, paths, timer.seconds)


def _start_embedder(settings: Settings):
    """The embedding model loading in a forked process (see
    :mod:`narrative.embed.background`), or None: one core only, ``report_workers`` 1, or no fork
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
    from .sample import generate_demo_corpus, write_demo_corpus

    out_dir = Path(out_dir)
    corpus = generate_demo_corpus(
        seed, n_weeks=n_weeks, articles_per_outlet_week=articles_per_outlet_week
    )
    corpus_path, _truth = write_demo_corpus(corpus, out_dir)
    # The demo measures its own stability across seeds (two extra fits), for the report's methods.
    settings = settings or Settings(seed=seed, stability_seeds=2)
    return build(
        [corpus_path], out_dir, settings=settings, title=build_kw.pop("title", "Demo corpus"),
        **build_kw,
    )

"""Runs: fit, update or refit the narrative model on a store's paragraphs, and record the run.

This is the one fit path of the package: ``narrative build`` (in-process or on a Dask cluster),
the notebooks and ``narrative evaluate`` all fit through it. Where the heavy steps execute is a
:class:`Runner`: this process by default, a cluster with :class:`narrative.distributed.DaskRunner`;
the result does not depend on it.

A run id is a hash of the input paragraphs, the model settings and the codebook, so an unchanged
corpus reuses its stored run. When the store holds a run fitted with the same model settings and
codebook, new paragraphs are assigned with its saved model (an *update*) and a refit is proposed
when they fit it poorly; a *refit* clusters afresh and keeps narrative ids stable by matching the
new narratives to the previous run's (:mod:`narrative.model.lineage`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .codebook import Codebook
from .config import Settings
from .errors import InputError
from .frames import isin
from .model.lineage import EVENTS as LINEAGE_EVENTS, map_ids
from .progress import ProgressFactory, StageTimer, no_progress
from .provenance import input_fingerprint, library_versions
from .saved_runs import compatible_run, load_run_model, model_dir, model_run_id, narrative_table, run_stats
from .schema import RunStats, content_hash, text_hash
from .store import RunRecord, Store

__all__ = [
    "FitResult", "IN_PROCESS", "RefitAdvice", "Runner", "assign_texts", "assignment_table",
    "fit_run", "fit_sample", "fit_texts", "refit_advice", "run_id_for", "seed_stability",
]


@dataclass
class FitResult:
    run_id: str
    reused: bool
    n_embedded: int
    narratives: pd.DataFrame
    assignments: pd.DataFrame
    mode: str = "fit"
    """``fit`` (clustered afresh), ``refit`` (afresh, ids kept from the previous run), ``update``
    (new paragraphs assigned with a saved model) or ``reused`` (input and settings unchanged)."""
    refit_proposal: str | None = None
    """Why a refit is advised after an update (None: the saved model still fits)."""


# -- where the heavy steps run ------------------------------------------------------------------
class Runner:
    """Runs the embedding and the assignment of a fit in this process.

    A runner for a cluster overrides :meth:`embed` and :meth:`assign`; both must return what
    these return for the same input (the tests compare the two).
    """

    def embed(self, store: Store, distinct: pd.DataFrame, embedder, *,
              progress: ProgressFactory = no_progress) -> tuple[np.ndarray, int]:
        """Vectors of ``distinct``'s texts (rows aligned) and how many had to be embedded; the
        rest come from the store's cache, and new vectors are added to it."""
        from .embed import embed_paragraphs

        return embed_paragraphs(store, distinct, embedder, progress_factory=progress)

    def assign(self, model, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Narrative ids and similarities of ``vectors`` under ``model``'s assignment rule
        (``model.assignment_rule()``: the discovered narratives; the named narratives' acceptance
        runs in this process, see :func:`assign_texts`)."""
        from .model.assign import assign_paragraphs

        return assign_paragraphs(np.asarray(vectors, dtype=np.float32), **model.assignment_rule())


IN_PROCESS = Runner()


def assign_texts(model, vectors: np.ndarray, texts: Sequence[str], runner: Runner = IN_PROCESS
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``model.transform(vectors, texts)`` with the heavy part on ``runner``: the named
    narratives' acceptance (it reads the texts) runs here; the paragraphs none accepts are
    assigned to the discovered narratives by ``runner``."""
    from .model.acceptance import best_accepted

    accepted, typical = model.membership(vectors, list(texts))
    topics, probabilities = best_accepted(accepted, typical, model.named_ids_)
    rest = np.flatnonzero(topics == -1)
    if len(rest):
        topics[rest], probabilities[rest] = runner.assign(model, np.asarray(vectors)[rest])
    return topics, probabilities


# -- the fit's libraries, imported while the texts are embedded ----------------------------------
#: Libraries the fit imports (most of a small fit's time on 2 cores).
FIT_LIBRARIES = ("bertopic", "bertopic.representation", "bertopic.vectorizers", "hdbscan", "umap",
                 "sklearn.feature_extraction.text")
#: From this many distinct texts, a fit imports its libraries while the texts are embedded.
PRELOAD_MIN_TEXTS = 2_000


def _import_fit_libraries() -> None:
    import importlib

    from .runtime.jit_cache import enable_umap_cache

    try:
        for name in FIT_LIBRARIES:
            importlib.import_module(name)
        enable_umap_cache()
    except Exception:  # noqa: BLE001 - the fit imports them again and raises the error there
        pass


def preload_fit_libraries() -> threading.Thread:
    """Import the fit's libraries in a thread, started before the embedding.

    The embedding runs in torch's threads (or in the forked embedder), so the imports, which hold
    the GIL, mostly use time the embedding leaves; the fit joins the thread before it starts.
    """
    thread = threading.Thread(target=_import_fit_libraries, name="narrative-preload", daemon=True)
    thread.start()
    return thread


# -- pieces of a run ----------------------------------------------------------------------------
def run_id_for(paragraphs: pd.DataFrame, settings: Settings, codebook: Codebook | None, *,
               refit: bool = False) -> str:
    """The id of the run that fits ``paragraphs`` with ``settings`` and ``codebook``."""
    run_id = content_hash(input_fingerprint(paragraphs), settings.model_json(),
                          _codebook_hash(codebook))
    return content_hash(run_id, "refit") if refit else run_id


def _codebook_hash(codebook: Codebook | None) -> str:
    """The codebook's whole content (part of the run id: a curated codebook makes a new run)."""
    return codebook.fingerprint() if codebook is not None else "none"


def _model_codebook_hash(codebook: Codebook | None) -> str:
    """What the model reads of the codebook (the runs table's ``codebook_hash``): a codebook
    edited only by curation keeps it, so the build reuses the fitted model."""
    return codebook.model_fingerprint() if codebook is not None else "none"


def fit_sample(n: int, max_size: int, seed: int) -> np.ndarray | None:
    """Sorted row indices of a seeded random sample of ``max_size`` rows, or None to fit on all."""
    if max_size <= 0 or n <= max_size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=max_size, replace=False))


@dataclass
class _Fitted:
    """A fitted model and its assignment of every distinct text (rows of the fit's input)."""

    model: Any
    topics: np.ndarray
    probabilities: np.ndarray
    subtopics: np.ndarray
    sample: np.ndarray | None  # rows the model was fitted on (None: all)


def _fit_distinct(texts: Sequence[str], vectors: np.ndarray, *, settings: Settings,
                  codebook: Codebook | None, embedder, runner: Runner) -> _Fitted:
    """Fit on every distinct text, or on a seeded sample of ``fit_sample_max`` of them; the rest
    are then assigned to the sample's narratives (their sub-narratives too)."""
    from .runtime.jit_cache import enable_umap_cache
    from .model import NarrativeModel

    enable_umap_cache()  # later runs load umap's compiled code instead of compiling it again
    model = NarrativeModel.from_settings(settings, codebook=codebook, embedder=embedder)
    sample = fit_sample(len(texts), settings.fit_sample_max, settings.seed)
    if sample is None:
        model.fit(list(texts), vectors)
        return _Fitted(model, model.topics_, model.probabilities_, model.subtopics_, None)
    model.fit([texts[i] for i in sample], vectors[sample])
    topics, probabilities = assign_texts(model, vectors, texts, runner)
    topics[sample], probabilities[sample] = model.topics_, model.probabilities_
    subtopics = model.transform_subnarratives(vectors, topics)
    subtopics[sample] = model.subtopics_
    return _Fitted(model, topics, probabilities, subtopics, sample)


def assignment_table(paragraphs: pd.DataFrame, text_hashes: Sequence[str], topics: Sequence[int],
                     probabilities: Sequence[float], subtopics: Sequence[int], *,
                     id_map: Mapping[int, int] | None = None) -> pd.DataFrame:
    """One row per paragraph (``paragraph_id, narrative_id, probability, sub_id``) from the
    assignment of each distinct text; ``id_map`` maps model topic ids to the run's narrative ids."""
    topic_of = dict(zip(text_hashes, map_ids(topics, id_map)))
    prob_of = dict(zip(text_hashes, probabilities))
    sub_of = dict(zip(text_hashes, subtopics))
    return pd.DataFrame({
        "paragraph_id": paragraphs["paragraph_id"].to_numpy(),
        "narrative_id": paragraphs["text_hash"].map(topic_of).astype(int).to_numpy(),
        "probability": paragraphs["text_hash"].map(prob_of).astype(float).to_numpy(),
        "sub_id": paragraphs["text_hash"].map(sub_of).astype(int).to_numpy(),
    })


def _with_sizes(narratives: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    sizes = assignments["narrative_id"].value_counts()
    return narratives.assign(size=narratives["narrative_id"].map(sizes).fillna(0).astype(int))


# -- updates and refits --------------------------------------------------------------------------
@dataclass(frozen=True)
class RefitAdvice:
    propose: bool
    reason: str


def refit_advice(*, n_model: int, n_new: int, new_unassigned_share: float,
                 model_unassigned_share: float, margin: float, growth: float) -> RefitAdvice:
    """Propose a refit when new paragraphs are unassigned far more often than the fitted ones, or
    when the corpus grew by more than ``growth`` times the paragraphs the model was fitted on."""
    if n_new <= 0:
        return RefitAdvice(False, "no new paragraphs")
    excess = new_unassigned_share - model_unassigned_share
    if excess > margin:
        return RefitAdvice(True, (
            f"{new_unassigned_share:.0%} of the {n_new} new paragraphs fit no narrative, against "
            f"{model_unassigned_share:.0%} when the model was fitted (margin {margin:.0%})"
        ))
    if n_model > 0 and n_new / n_model > growth:
        return RefitAdvice(True, (
            f"the corpus grew by {n_new} paragraphs, {n_new / n_model:.0%} of the {n_model} the "
            f"model was fitted on (threshold {growth:.0%})"
        ))
    return RefitAdvice(False, (
        f"{new_unassigned_share:.0%} of {n_new} new paragraphs unassigned "
        f"(fitted: {model_unassigned_share:.0%}); growth {n_new / max(n_model, 1):.0%}"
    ))


def _previous_run(store: Store, settings: Settings, codebook: Codebook | None) -> str | None:
    """The newest stored run with the same model settings and codebook whose model files exist."""
    from .config import IMPLICIT_MODEL_SETTINGS, NOT_MODEL_SETTINGS

    runs = [
        {"run_id": r[0], "settings": r[1], "codebook_hash": r[2]}
        for r in store.con.execute(
            "SELECT run_id, settings, codebook_hash FROM runs ORDER BY created_at DESC, run_id"
        ).fetchall()
    ]
    previous = compatible_run(
        runs, model_settings_json=settings.model_json(), codebook_hash=_model_codebook_hash(codebook),
        not_model=NOT_MODEL_SETTINGS, implicit=IMPLICIT_MODEL_SETTINGS,
    )
    if previous is not None and not model_dir(store, model_run_id(store, previous)).is_dir():
        return None  # its model files are gone: nothing to update from
    return previous


def _name(value: object) -> str | None:
    """A codebook name, or None for a discovered narrative (stored as NULL: NaN in pandas)."""
    return value if isinstance(value, str) and value else None


def _lineage(store: Store, previous: str, model) -> tuple[dict[int, int], list[dict]]:
    """Match a refit's narratives to the previous run's by centroid similarity (stable ids)."""
    from .model.lineage import match_narratives

    old_model, old_map = load_run_model(store, previous)
    old_narr = narrative_table(store, previous).set_index("narrative_id")
    new_narr = model.narratives_.set_index("narrative_id")
    old_ids = map_ids(old_model.centroid_ids_, old_map)
    used = store.con.execute("SELECT max(narrative_id) FROM narratives").fetchall()[0][0]
    lineage = match_narratives(
        old_ids, old_model.centroids_, list(model.centroid_ids_), model.centroids_,
        old_names=[_name(old_narr["codebook_name"].get(i)) for i in old_ids],
        new_names=[_name(new_narr["codebook_name"].get(int(i))) for i in model.centroid_ids_],
        next_id=max(int(used or 0), max(model.centroid_ids_, default=0)) + 1,
    )
    events = [
        {"event": r.event, "old_ids": [int(i) for i in r.old_ids],
         "new_ids": [int(i) for i in r.new_ids],
         "similarity": None if pd.isna(r.similarity) else round(float(r.similarity), 4)}
        for r in lineage.events.itertuples()
    ]
    return lineage.id_map(), events


# -- the run ------------------------------------------------------------------------------------
def fit_run(
    store: Store,
    *,
    settings: Settings = Settings(),
    codebook: Codebook | None = None,
    embedder=None,
    progress: ProgressFactory = no_progress,
    timer: StageTimer | None = None,
    refit: bool = False,
    runner: Runner = IN_PROCESS,
    provenance: dict | None = None,
) -> FitResult:
    """Embed what is missing, then fit the narrative model or update the last compatible run.

    ``refit=True`` fits afresh even when a compatible run exists, keeping narrative ids stable.
    ``runner`` decides where the embedding and the assignment run (this process by default).
    ``provenance`` (:func:`narrative.provenance.build_provenance`) is recorded with a new run.
    """
    timer = timer or StageTimer()
    paragraphs = store.paragraphs()
    if paragraphs.empty:
        raise InputError(f"{store.path}: the store holds no paragraphs; ingest articles first")
    run_id = run_id_for(paragraphs, settings, codebook, refit=refit)
    if store.one("SELECT 1 FROM runs WHERE run_id = ?", [run_id]) is not None and (
        store.path == ":memory:" or model_dir(store, model_run_id(store, run_id)).is_dir()
    ):
        return FitResult(run_id, True, 0, narrative_table(store, run_id), store.assignments(run_id),
                         mode="reused")
    previous = _previous_run(store, settings, codebook)

    with timer.stage("load model"):
        if embedder is None:
            from .embed import load_embedder

            embedder = load_embedder(settings.embedding_model, batch_size=settings.batch_size,
                                     precision=settings.precision)
        embedder.model_id  # noqa: B018 - a model loading elsewhere is waited for here
    with timer.stage("embed"):
        # One vector per distinct text, fitted in text-hash order so input order does not matter.
        distinct = (
            paragraphs.drop_duplicates("text_hash").sort_values("text_hash").reset_index(drop=True)
        )
        preload = (preload_fit_libraries() if (previous is None or refit)
                   and len(distinct) >= PRELOAD_MIN_TEXTS else None)
        vectors, n_embedded = runner.embed(store, distinct, embedder, progress=progress)
    record = RunRecord(
        run_id=run_id, settings=settings.to_dict(), codebook_hash=_model_codebook_hash(codebook),
        versions=library_versions(), seed=settings.seed,
        input_fingerprint=input_fingerprint(paragraphs), stats={"provenance": provenance or {}},
    )
    if previous is not None and not refit:
        with timer.stage("assign"):
            return _update_run(store, record, previous, paragraphs, distinct, vectors, n_embedded,
                               settings=settings, runner=runner, codebook=codebook,
                               embedder=embedder)
    with timer.stage("fit"):
        if preload is not None:
            preload.join()
        fitted = _fit_distinct(distinct["text"].tolist(), vectors, settings=settings,
                               codebook=codebook, embedder=embedder, runner=runner)
    return _record_fit(store, record, fitted, paragraphs, distinct, vectors, n_embedded,
                       previous=previous, settings=settings, codebook=codebook, embedder=embedder,
                       timer=timer)


def _record_fit(store: Store, record: RunRecord, fitted: _Fitted, paragraphs: pd.DataFrame,
                distinct: pd.DataFrame, vectors: np.ndarray, n_embedded: int, *,
                previous: str | None, settings: Settings, codebook: Codebook | None, embedder,
                timer: StageTimer) -> FitResult:
    """Save a fresh fit's model, then its run: narratives, assignments, sub-narratives, mixtures."""
    from .model.assign import distribution_rows
    from .model.curation import curated_distributions

    model = fitted.model
    id_map, lineage_events = None, []
    if previous is not None:  # a refit: keep the previous run's ids where narratives continue
        id_map, lineage_events = _lineage(store, previous, model)
    assignments = assignment_table(paragraphs, distinct["text_hash"], fitted.topics,
                                   fitted.probabilities, fitted.subtopics, id_map=id_map)
    subnarratives = model.subnarratives_.copy()
    if len(subnarratives):
        subnarratives["narrative_id"] = map_ids(subnarratives["narrative_id"], id_map)
    narratives = _model_narratives(model, id_map)
    uncurated = assignments
    curated = _curate(narratives, assignments, codebook, paragraphs, distinct, vectors, embedder)
    narratives, assignments = _with_sizes(curated.narratives, curated.assignments), curated.assignments
    unassigned = float((assignments["narrative_id"] == -1).mean())
    stats = RunStats(
        mode="refit" if previous is not None else "fit",
        n_paragraphs=len(paragraphs), n_distinct_texts=len(distinct),
        n_model_paragraphs=len(paragraphs),
        n_fit_sample=len(distinct) if fitted.sample is None else len(fitted.sample),
        min_cluster_size=int(model.min_cluster_size_),
        n_named=int((narratives["kind"] == "named").sum()),
        n_discovered=int((narratives["kind"] == "discovered").sum()),
        n_subnarratives=len(subnarratives),
        unassigned_share=unassigned, model_unassigned_share=unassigned,
        kinds=dict(zip(narratives["narrative_id"].astype(str), narratives["kind"])),
        codebook=_codebook_entries(codebook),
        previous_run=previous, lineage=lineage_events + curated.events,
        narratives=_quality(model, narratives, assignments, id_map),
        id_map={str(k): v for k, v in (id_map or {}).items()},
        provenance=record.stats.get("provenance", {}),
    )
    if store.path != ":memory:":  # the model first: a stored run always has its model files
        from .model.persist import save_model

        save_model(model, model_dir(store, record.run_id))
    if settings.stability_seeds > 0:
        with timer.stage("stability"):
            rows = slice(None) if fitted.sample is None else fitted.sample
            stats.stability = seed_stability(
                model, distinct["text"].to_numpy()[rows].tolist(), vectors[rows],
                settings=settings, codebook=codebook, embedder=embedder,
            )
    distributions = curated_distributions(
        distribution_rows(model, vectors, distinct["text_hash"], paragraphs, uncurated,
                          id_map=id_map, texts=distinct["text"]),
        uncurated, assignments, curated.events)
    record.stats = stats.to_dict()
    store.save_run(record, narratives, assignments, subnarratives, distributions)
    return FitResult(record.run_id, False, n_embedded, narratives, assignments, mode=stats.mode)


def _model_narratives(model, id_map: Mapping[int, int] | None) -> pd.DataFrame:
    """The model's narratives table with the run's narrative ids."""
    narratives = model.narratives_.copy()
    narratives["narrative_id"] = map_ids(narratives["narrative_id"], id_map)
    return narratives


def _codebook_entries(codebook: Codebook | None) -> list[dict]:
    """The codebook as the run records it (every field an analyst set)."""
    if codebook is None:
        return []
    from .codebook import codebook_document

    return codebook_document(codebook)["narratives"]


def _curate(narratives: pd.DataFrame, assignments: pd.DataFrame, codebook: Codebook | None,
            paragraphs: pd.DataFrame, distinct: pd.DataFrame, vectors: np.ndarray, embedder):
    """The codebook's curation applied to a run (:func:`narrative.model.curation.curate`)."""
    from .model.curation import curate

    needs_vectors = codebook is not None and any(n.split_from for n in codebook.curated)
    rows = None
    if needs_vectors:
        row_of = pd.Series(np.arange(len(distinct)), index=distinct["text_hash"].to_numpy())
        hashes = assignments[["paragraph_id"]].merge(paragraphs[["paragraph_id", "text_hash"]],
                                                      on="paragraph_id", how="left")
        rows = np.asarray(vectors)[row_of.loc[hashes["text_hash"]].to_numpy()]
    return curate(narratives, assignments, codebook, vectors=rows,
                  encode=None if embedder is None else embedder.encode)


def _quality(model, narratives: pd.DataFrame, assignments: pd.DataFrame,
             id_map: Mapping[int, int] | None) -> dict[str, dict]:
    """Each narrative's threshold, typicality, share and catch-all flag (for the report)."""
    from .model.quality import narrative_quality

    rule = getattr(model, "acceptance_", None)
    thresholds = {} if rule is None else dict(zip(map_ids(rule.ids, id_map),
                                                  rule.thresholds.astype(float).tolist()))
    return narrative_quality(narratives, assignments, thresholds,
                             default_threshold=float(model.assign_min_similarity))


def _update_run(store: Store, record: RunRecord, base_id: str, paragraphs: pd.DataFrame,
                distinct: pd.DataFrame, vectors: np.ndarray, n_embedded: int, *,
                settings: Settings, runner: Runner, codebook: Codebook | None = None,
                embedder=None) -> FitResult:
    """Assign the paragraphs the base run has not seen with its saved model; record a new run.

    When the codebook curates narratives (or the base run was curated), every paragraph is
    assigned again with the saved model and the codebook's curation applied afresh, so an edit
    undone in the codebook is undone in the run; the model is not refitted.
    """
    from .model.assign import distribution_rows
    from .model.curation import curated_distributions

    base = run_stats(store, base_id)
    model, id_map = load_run_model(store, base_id)
    base_assign = store.assignments(base_id).merge(
        store.sub_assignments(base_id)[["paragraph_id", "sub_id"]], on="paragraph_id", how="left"
    )
    kept = base_assign[isin(base_assign["paragraph_id"], paragraphs["paragraph_id"])]
    new = paragraphs[~isin(paragraphs["paragraph_id"], kept["paragraph_id"])]
    new_texts = new.drop_duplicates("text_hash")
    if len(new_texts):
        row_of = {h: i for i, h in enumerate(distinct["text_hash"])}
        new_vectors = vectors[[row_of[h] for h in new_texts["text_hash"]]]
        topics, probabilities = assign_texts(model, new_vectors, new_texts["text"].tolist(), runner)
        subtopics = model.transform_subnarratives(new_vectors, topics)
    else:
        topics, probabilities, subtopics = [], [], []
    added = assignment_table(new, new_texts["text_hash"], topics, probabilities, subtopics,
                             id_map=id_map)
    assignments = pd.concat([kept[added.columns], added], ignore_index=True)
    assignments["sub_id"] = assignments["sub_id"].fillna(-1).astype(int)
    narratives = _with_sizes(narrative_table(store, base_id), assignments)
    new_unassigned = float((added["narrative_id"] == -1).mean()) if len(added) else 0.0
    advice = refit_advice(
        n_model=base.n_model_paragraphs, n_new=len(paragraphs) - base.n_model_paragraphs,
        new_unassigned_share=new_unassigned, model_unassigned_share=base.model_unassigned_share,
        margin=settings.refit_margin, growth=settings.refit_growth,
    )
    proposal = advice.reason if len(added) and advice.propose else None
    stats = RunStats.from_dict(base.to_dict())
    stats.lineage, stats.previous_run = [], None
    stats.mode, stats.base_run, stats.model_run = "update", base_id, base.model_run or base_id
    stats.n_paragraphs, stats.n_distinct_texts = len(paragraphs), len(distinct)
    stats.n_new_paragraphs, stats.new_unassigned_share = len(added), new_unassigned
    stats.unassigned_share = float((assignments["narrative_id"] == -1).mean())
    stats.refit_proposed, stats.refit_check = proposal, advice.reason
    stats.provenance = record.stats.get("provenance", {})
    # Soft mixtures: the base run's rows for the paragraphs it had, the saved model's for the new
    # ones (for every paragraph when the base run was stored without them).
    recurate = codebook is not None and (bool(codebook.curated) or any(
        e.get("event") not in LINEAGE_EVENTS for e in base.lineage))
    if recurate:
        topics, probabilities = assign_texts(model, vectors, distinct["text"].tolist(), runner)
        uncurated = assignment_table(paragraphs, distinct["text_hash"], topics, probabilities,
                                     model.transform_subnarratives(vectors, topics), id_map=id_map)
        curated = _curate(_model_narratives(model, id_map), uncurated, codebook, paragraphs,
                          distinct, vectors, embedder)
        assignments = curated.assignments
        narratives = _with_sizes(curated.narratives, assignments)
        stats.kinds = dict(zip(narratives["narrative_id"].astype(str), narratives["kind"]))
        stats.lineage = curated.events
        stats.codebook = _codebook_entries(codebook)
        stats.unassigned_share = float((assignments["narrative_id"] == -1).mean())
        distributions = curated_distributions(
            distribution_rows(model, vectors, distinct["text_hash"], paragraphs, uncurated,
                              id_map=id_map, texts=distinct["text"]),
            uncurated, assignments, curated.events)
    else:
        carried = store.distributions(base_id)
        carried = carried[isin(carried["paragraph_id"], kept["paragraph_id"])]
        distributions = pd.concat([carried, distribution_rows(
            model, vectors, distinct["text_hash"], paragraphs, added if len(carried) else assignments,
            id_map=id_map, texts=distinct["text"],
        )], ignore_index=True)
    stats.narratives = _quality(model, narratives, assignments, id_map)
    record.stats = stats.to_dict()
    store.save_run(record, narratives, assignments, store.subnarratives(base_id), distributions)
    return FitResult(record.run_id, False, n_embedded, narratives, assignments, mode="update",
                     refit_proposal=proposal)


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
                  f"{settings.seed} against seeds {settings.seed + 1}-"
                  f"{settings.seed + settings.stability_seeds}, same embeddings",
    }


# -- texts without a store (evaluation) ----------------------------------------------------------
def fit_texts(texts: Sequence[str], embeddings: np.ndarray, *, settings: Settings | None = None,
              codebook: Codebook | None = None, embedder=None,
              runner: Runner = IN_PROCESS) -> tuple[np.ndarray, Any]:
    """Fit on ``texts`` as :func:`fit_run` fits a store's paragraphs; returns each input row's
    narrative id and the fitted model.

    Each distinct text (by text hash) is fitted once, in hash order, so duplicates and input
    order change nothing.
    """
    settings = settings or Settings()
    hashes = [text_hash(t) for t in texts]
    first: dict[str, int] = {}
    for i, h in enumerate(hashes):
        first.setdefault(h, i)
    order = sorted(first)
    rows = [first[h] for h in order]
    fitted = _fit_distinct([texts[i] for i in rows], np.asarray(embeddings)[rows],
                           settings=settings, codebook=codebook, embedder=embedder, runner=runner)
    topic_of = dict(zip(order, np.asarray(fitted.topics, dtype=int).tolist()))
    return np.array([topic_of[h] for h in hashes], dtype=int), fitted.model


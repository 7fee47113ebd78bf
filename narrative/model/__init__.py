"""NarrativeModel: BERTopic assembled for news narratives, following the scikit-learn contract.

The constructor only stores arguments; ``fit`` builds UMAP, HDBSCAN, a stop-word-aware vectorizer and
a KeyBERTInspired representation, clusters the paragraphs (guided by the codebook's seed terms),
gives each named narrative the paragraphs its codebook entry accepts (:mod:`.acceptance`), the
rest to the clusters (discovered narratives, some marked off-topic, labelled with noun phrases:
:mod:`.labels`), and splits each narrative into sub-narratives. Learned state ends with ``_``.

The package: :mod:`.assign` (the assignment rule, pure numpy), :mod:`.acceptance`,
:mod:`.quality` (typicality, confidence, catch-alls), :mod:`.curation` (the codebook's edits),
:mod:`.subnarratives`,
:mod:`.lineage` (stable ids across refits), :mod:`.persist` (save and load without pickle), and
:mod:`._bertopic`, the one place that adapts BERTopic's internals.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..codebook import Codebook
from ..config import check_outliers
from ..errors import NotFittedError
from ..schema import UNASSIGNED, UNASSIGNED_ID
from .sizing import cluster_size_for, max_cluster_size_for
from ._bertopic import (
    ExactNeighbourUMAP, KnownTexts, SmallSafeHDBSCAN, labelled_later_bertopic, quiet_libraries,
)
from .acceptance import best_accepted
from .labels import PhraseAnalyzer
from .assign import assign_paragraphs, narrative_radii, refine_assignments, soft_distribution
from .quality import with_nearest_named

__all__ = ["NarrativeModel", "NotFittedError", "cluster_size_for", "max_cluster_size_for"]

#: Words common in news prose that carry no narrative (added to scikit-learn's English list).
NEWS_STOP_WORDS = frozenset(
    "said says say saying told tell according mr mrs ms dr just like year years week weeks "
    "day days time people new including added make made way going"
    .split()
)


#: Below this many paragraphs UMAP is skipped (it fails on a handful of points).
MIN_DOCS_FOR_UMAP = 30
#: Above this many paragraphs (where umap-learn's default is 200 epochs; 500 below, left as is)
#: the fit's UMAP layout runs :data:`LARGE_FIT_EPOCHS` epochs. Seeded, the layout runs on one
#: core: on ukraine_media_2022 (30,271 texts) it was a third of the fit. There, fits at 100
#: epochs agreed with those at 200 as closely as fits with another seed do, at a higher NPMI
#: (benchmarks/RESULTS.md, 2026-12-06).
LARGE_FIT_ABOVE = 10_000
LARGE_FIT_EPOCHS = 100


class NarrativeModel:
    """Narratives in paragraphs: codebook narratives by acceptance, the rest clustered and labelled.

    Parameters
    ----------
    codebook : Codebook or None, default=None
        Named narratives (each takes the paragraphs its entry accepts). None clusters freely.
    embedder : object with ``as_bertopic_backend()``, default=None
        The embedding model (used to embed codebook descriptions and candidate label words).
    random_state : int, default=42
        Seed for UMAP; the same seed and input give the same assignments.
    zeroshot_min_similarity : float, default=0.35
        The zero-shot floor of models saved before acceptance existed (their rule, kept to load
        them). Named narratives now take a paragraph by the codebook's acceptance
        (:mod:`narrative.model.acceptance`): per-narrative thresholds, counter-examples,
        background, required terms and a competitor margin.
    min_cluster_size : int or None, default=None
        HDBSCAN's minimum cluster size; None uses :func:`cluster_size_for`.
    max_cluster_share : float or None, default=0.25
        HDBSCAN's ``max_cluster_size`` as a share of the paragraphs it clusters (None: no
        cap). Without it, a perturbation of the embeddings can tip HDBSCAN's
        cluster selection into one cluster that swallows most of them (see
        ``Settings.max_cluster_share``).
    umap_neighbors, umap_components : int
        UMAP's neighbourhood size and output dimension.
    top_n_words : int, default=10
        Terms kept per narrative.
    ngram_max : int, default=2
        Largest n-gram in labels and terms.
    max_features : int, default=20000
        Vocabulary cap of the c-TF-IDF vectorizer.
    label_diversity : float, default=0.5
        MMR diversity of label terms (0 = most relevant only, 1 = most diverse).
    assign_min_similarity : float, default=0.3
        After clustering, a paragraph a named narrative accepts stays with it; every other
        paragraph goes to its nearest discovered narrative's centroid when the cosine similarity
        is at least this; below it the paragraph is unassigned (-1).
    outliers : {"reduce", "keep"}, default="reduce"
        ``reduce``: the rule above for every paragraph (outlier reduction by embeddings).
        ``keep``: a paragraph the clustering left at -1 that no named narrative accepts stays -1 (the
        refinement only moves clustered paragraphs), and :meth:`transform` assigns a paragraph to
        its nearest narrative only when the similarity also reaches that narrative's radius
        (``radii_``, see :func:`narrative.model.assign.narrative_radii`). More paragraphs stay
        unassigned; fewer weak matches are forced into a narrative (see ``Settings.outliers``).
    refine_iter : int, default=2
        Centroid update / reassignment rounds after clustering.
    guided : bool, default=True
        Use the codebook's seed terms for guided topic modelling (BERTopic ``seed_topic_list``):
        paragraphs closer to a narrative's seed terms than to the average paragraph are nudged
        towards them before UMAP, and seed terms weigh more in c-TF-IDF terms. Clusters formed
        this way stay discovered narratives: they are reported apart from the named ones, with
        the nearest named narrative in ``nearest_named`` for the analyst to judge.
    subnarratives : bool, default=True
        Split each narrative into finer sub-narratives (``subnarratives_``, ``subtopics_``).
    """

    def __init__(
        self,
        codebook: Codebook | None = None,
        *,
        embedder=None,
        random_state: int = 42,
        zeroshot_min_similarity: float = 0.35,
        min_cluster_size: int | None = None,
        max_cluster_share: float | None = 0.25,
        umap_neighbors: int = 15,
        umap_components: int = 5,
        top_n_words: int = 10,
        ngram_max: int = 2,
        max_features: int = 20000,
        label_diversity: float = 0.5,
        assign_min_similarity: float = 0.3,
        outliers: str = "reduce",
        refine_iter: int = 2,
        guided: bool = True,
        subnarratives: bool = True,
    ):
        self.codebook = codebook
        self.embedder = embedder
        self.random_state = random_state
        self.zeroshot_min_similarity = zeroshot_min_similarity
        self.min_cluster_size = min_cluster_size
        self.max_cluster_share = max_cluster_share
        self.umap_neighbors = umap_neighbors
        self.umap_components = umap_components
        self.top_n_words = top_n_words
        self.ngram_max = ngram_max
        self.max_features = max_features
        self.label_diversity = label_diversity
        self.assign_min_similarity = assign_min_similarity
        self.outliers = outliers
        self.refine_iter = refine_iter
        self.guided = guided
        self.subnarratives = subnarratives

    @classmethod
    def from_settings(cls, settings, *, codebook=None, embedder=None) -> "NarrativeModel":
        return cls(
            codebook,
            embedder=embedder,
            random_state=settings.seed,
            zeroshot_min_similarity=settings.zeroshot_min_similarity,
            min_cluster_size=settings.min_cluster_size,
            max_cluster_share=getattr(settings, "max_cluster_share", None),
            umap_neighbors=settings.umap_neighbors,
            umap_components=settings.umap_components,
            top_n_words=settings.top_n_words,
            ngram_max=settings.ngram_max,
            max_features=settings.max_features,
            label_diversity=settings.label_diversity,
            assign_min_similarity=settings.assign_min_similarity,
            # Settings fields that may not exist yet in older configurations.
            outliers=getattr(settings, "outliers", "reduce"),
            guided=getattr(settings, "guided", True),
            subnarratives=getattr(settings, "subnarratives", True),
        )

    _PARAMS = (
        "random_state", "zeroshot_min_similarity", "min_cluster_size", "max_cluster_share",
        "umap_neighbors", "umap_components", "top_n_words", "ngram_max", "max_features",
        "label_diversity", "assign_min_similarity", "outliers", "refine_iter", "guided",
        "subnarratives",
    )

    def get_params(self) -> dict:
        """The constructor's keyword parameters (codebook and embedder excluded)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    # -- validation ----------------------------------------------------------------------------
    def _validate(self, n_docs: int, embeddings: np.ndarray) -> None:
        if n_docs == 0:
            raise ValueError("no paragraphs to fit; ingest some articles first")
        if embeddings.shape[0] != n_docs:
            raise ValueError(
                f"embeddings must have one row per paragraph; got {embeddings.shape[0]} rows for "
                f"{n_docs} paragraphs"
            )
        if not 0.0 <= self.zeroshot_min_similarity <= 1.0:
            raise ValueError(
                f"zeroshot_min_similarity must be in [0, 1]; got {self.zeroshot_min_similarity}"
            )
        if self.min_cluster_size is not None and self.min_cluster_size < 2:
            raise ValueError(f"min_cluster_size must be >= 2; got {self.min_cluster_size}")
        if self.ngram_max not in (1, 2, 3):
            raise ValueError(f"ngram_max must be 1, 2 or 3; got {self.ngram_max}")
        check_outliers(self.outliers)
        if self.codebook is not None and self.embedder is None:
            raise ValueError("a codebook needs an embedder to embed its descriptions")

    # -- assembly ------------------------------------------------------------------------------
    def _build_bertopic(self, n_docs: int, embedder=None):
        from bertopic.vectorizers import ClassTfidfTransformer
        from hdbscan import HDBSCAN
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
        from umap import UMAP

        min_cluster = self.min_cluster_size or cluster_size_for(n_docs)
        if n_docs < MIN_DOCS_FOR_UMAP:
            # UMAP cannot embed a handful of points; pass embeddings through unchanged.
            from bertopic.dimensionality import BaseDimensionalityReduction

            umap_model = BaseDimensionalityReduction()
        else:
            umap_model = ExactNeighbourUMAP(UMAP(
                n_neighbors=min(self.umap_neighbors, n_docs - 1),
                n_components=self.umap_components,
                min_dist=0.0,
                metric="cosine",
                random_state=self.random_state,
                n_epochs=LARGE_FIT_EPOCHS if n_docs > LARGE_FIT_ABOVE else None,
            ))
        hdbscan_model = SmallSafeHDBSCAN(
            HDBSCAN(
                min_cluster_size=min_cluster,
                metric="euclidean",
                cluster_selection_method="eom",
                prediction_data=False,  # assignment is by centroid; HDBSCAN's predict is unused
            ),
            max_share=self.max_cluster_share,
        )
        vectorizer = CountVectorizer(
            analyzer=PhraseAnalyzer(ENGLISH_STOP_WORDS | NEWS_STOP_WORDS, self.ngram_max),
            max_features=self.max_features,
        )
        # Named narratives take their paragraphs by acceptance (narrative.model.acceptance), after
        # the clustering: BERTopic clusters every paragraph, so a paragraph near a description
        # but not accepted is clustered with its like, not set aside unclustered.
        zeroshot = None
        embedder = embedder if embedder is not None else self.embedder
        backend = embedder.as_bertopic_backend() if embedder is not None else None
        self.min_cluster_size_ = min_cluster
        return labelled_later_bertopic()(
            embedding_model=backend,
            umap_model=umap_model,
            hdbscan_model=hdbscan_model,
            vectorizer_model=vectorizer,
            ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
            # Labels are made once, from the final assignment (update_topics below), not twice.
            representation_model=None,
            seed_topic_list=self._seed_topic_list() if backend is not None else None,
            zeroshot_topic_list=zeroshot,
            zeroshot_min_similarity=self.zeroshot_min_similarity,
            top_n_words=self.top_n_words,
            calculate_probabilities=False,
            verbose=False,
        )

    def _representation(self, backend):
        """Terms stay c-TF-IDF (coherent, scoreable words); labels re-rank them by meaning.

        BERTopic keeps an aspect beside the main representation: the ``label`` aspect is
        KeyBERT-like re-ranking then MMR, so a label reads as a phrase and does not repeat itself,
        while ``top_terms`` remain the words that define the narrative in the corpus.
        """
        from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance

        if backend is None:
            return None  # both re-rankers need the embedding model: plain c-TF-IDF terms
        mmr = MaximalMarginalRelevance(diversity=self.label_diversity, top_n_words=self.top_n_words)
        return {"label": [KeyBERTInspired(top_n_words=30, random_state=self.random_state), mmr]}

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], embeddings: np.ndarray) -> "NarrativeModel":
        """Fit on paragraph texts and their precomputed embeddings (rows aligned)."""
        texts = list(texts)
        embeddings = np.asarray(embeddings, dtype=np.float32)
        self._validate(len(texts), embeddings)
        known = KnownTexts(self.embedder, texts, embeddings) if self.embedder is not None else None
        try:
            with quiet_libraries():
                return self._fit(texts, embeddings, known)
        finally:
            if known is not None:
                known.forget()

    def _fit(self, texts: list[str], embeddings: np.ndarray, known=None) -> "NarrativeModel":
        topic_model = self._build_bertopic(len(texts), known)
        # A copy: guided topic modelling nudges the embeddings it is given in place. Terms and
        # representative documents come from the final assignment (update_topics below).
        topic_model.label_later = True
        topics, _ = topic_model.fit_transform(texts, embeddings=embeddings.copy())
        topic_model.label_later = False
        topics = np.asarray(topics, dtype=int)
        # Named narratives get ids 0..K-1 (codebook order); clusters are numbered after them.
        n_named = len(self.codebook.named) if self.codebook is not None else 0
        topics = np.where(topics >= 0, topics + n_named, topics)
        self.clustered_topics_ = topics
        # Final assignment: a paragraph a named narrative accepts (narrative.model.acceptance)
        # keeps the most typical of them; the rest go to the nearest *discovered* centroid (see
        # narrative.model.assign for why), never to a named one; with outliers="keep" a paragraph
        # that HDBSCAN did not cluster and no named narrative accepts stays -1.
        self.acceptance_ = self._acceptance_rule(known)
        self._keep_anchors(embeddings.shape[1])
        named_ids = self.acceptance_.ids if self.acceptance_ is not None else np.zeros(0, int)
        accepted, typical = self._accept(embeddings, texts)
        fixed, named_typicality = best_accepted(accepted, typical, named_ids)
        start = self._without_remnants(np.where(fixed != UNASSIGNED_ID, fixed, topics), fixed)
        outliers = None
        if self.outliers == "keep":
            outliers = (start == UNASSIGNED_ID) & (fixed == UNASSIGNED_ID)
        topics, sims, ids, centroids = refine_assignments(
            embeddings, start, min_similarity=self.assign_min_similarity, n_iter=self.refine_iter,
            fixed=fixed, outliers=outliers, closed=named_ids,
        )
        # A named member's probability is its typicality (closeness to what the codebook says).
        sims = np.where(fixed != UNASSIGNED_ID, named_typicality, sims)
        ids, centroids = self._with_empty_named(ids, centroids)
        relabel = bool(set(topics.tolist()) - {UNASSIGNED_ID})
        if relabel:
            # Terms and labels from the final assignment, with the same vectorizer and labeller.
            topic_model.update_topics(
                texts, topics=topics.tolist(), top_n_words=self.top_n_words,
                vectorizer_model=topic_model.vectorizer_model, ctfidf_model=topic_model.ctfidf_model,
                representation_model=self._representation(topic_model.embedding_model),
            )
        topic_model.finish_labels(relabelled=relabel)
        self.topic_model_ = topic_model
        self.topics_ = topics
        self.probabilities_ = sims
        self.centroid_ids_ = ids
        self.centroids_ = centroids
        self.radii_ = narrative_radii(sims, topics, ids) if self.outliers == "keep" else None
        self.narratives_ = self._describe(topic_model, self.topics_, texts,
                                          self._off_topic_ids(embeddings, known))
        self.narratives_ = with_nearest_named(self.narratives_, self.centroid_ids_, self.centroids_)
        self._fit_subnarratives(topic_model, texts, embeddings)
        return self

    def _keep_anchors(self, dim: int) -> None:
        """The named narratives' description vectors (``anchors_``) and ids (``anchor_ids_``): what
        a model saved before acceptance existed assigned by; kept for the report and older readers."""
        rule = self.acceptance_
        if rule is None:
            self.anchors_ = np.zeros((0, dim), dtype=np.float32)
            self.anchor_ids_ = np.zeros(0, dtype=int)
            return
        first = np.array([np.flatnonzero(rule.prototype_owner == k)[0] for k in range(len(rule))])
        self.anchors_ = rule.prototypes[first]
        self.anchor_ids_ = rule.ids.copy()

    def _acceptance_rule(self, embedder=None):
        """The named narratives' acceptance rule, ids 0..K-1 in codebook order (None without
        named narratives)."""
        from .acceptance import build_rule

        if self.codebook is None or not self.codebook.named or self.embedder is None:
            return None
        embedder = embedder if embedder is not None else self.embedder
        return build_rule(self.codebook, list(range(len(self.codebook.named))), embedder.encode)

    def _without_remnants(self, start: np.ndarray, fixed: np.ndarray) -> np.ndarray:
        """``start`` with the clusters that named narratives emptied below HDBSCAN's minimum
        cluster size dissolved (their other paragraphs to -1, then to the nearest discovered
        narrative with ``outliers="reduce"``): a cluster whose members were mostly accepted by a
        named narrative leaves no remnant narrative of a few paragraphs."""
        clustered = start[(fixed == UNASSIGNED_ID) & (start != UNASSIGNED_ID)]
        ids, counts = np.unique(clustered, return_counts=True)
        remnants = ids[counts < self.min_cluster_size_]
        return np.where((fixed == UNASSIGNED_ID) & np.isin(start, remnants), UNASSIGNED_ID, start)

    def _with_empty_named(self, ids: np.ndarray, centroids: np.ndarray):
        """``(ids, centroids)`` with a centroid for every named narrative, also one that accepted
        no paragraph of the fit (the mean of its description and examples), so that a later
        update can assign to it."""
        rule = getattr(self, "acceptance_", None)
        missing = [k for k, t in enumerate(self.named_ids_) if t not in set(ids.tolist())]
        if rule is None or not missing:
            return ids, centroids
        from .neighbours import unit_rows

        extra = unit_rows(np.stack([rule.prototypes[rule.prototype_owner == k].mean(axis=0)
                                    for k in missing]).astype(np.float64)).astype(np.float32)
        ids = np.concatenate([ids, self.named_ids_[missing]]).astype(int)
        centroids = np.vstack([centroids.reshape(-1, extra.shape[1]), extra])
        order = np.argsort(ids, kind="stable")
        return ids[order], centroids[order]

    def _accept(self, embeddings: np.ndarray, texts=None) -> tuple[np.ndarray, np.ndarray]:
        """``(accepted, typicality)`` of each paragraph for each named narrative (``K`` columns in
        ``acceptance_.ids`` order; none without named narratives)."""
        from .acceptance import accept, requires_gates

        rule = getattr(self, "acceptance_", None)
        if rule is None:
            n = len(embeddings)
            return np.zeros((n, 0), dtype=bool), np.zeros((n, 0))
        gates = requires_gates(texts, rule.patterns) if rule.has_gates else None
        return accept(embeddings, rule, gates)

    @property
    def named_ids_(self) -> np.ndarray:
        """Narrative ids of the named narratives, codebook order (empty without any)."""
        rule = getattr(self, "acceptance_", None)
        return rule.ids if rule is not None else np.zeros(0, dtype=int)

    def membership(self, embeddings: np.ndarray, texts=None) -> tuple[np.ndarray, np.ndarray]:
        """Which named narratives accept each paragraph, and its typicality for each: two
        ``(n, K)`` arrays, columns in :attr:`named_ids_` order. A paragraph may be accepted by none
        or by several (its secondary narratives). ``texts`` are needed when the codebook gates a
        narrative on its ``requires`` terms."""
        self._check_fitted()
        return self._accept(np.asarray(embeddings, dtype=np.float32), texts)

    def assignment_rule(self) -> dict:
        """Everything :func:`narrative.model.assign.assign_paragraphs` needs to assign the
        paragraphs no named narrative accepts like this model: the discovered narratives'
        centroids (arrays and numbers only: Dask workers get this, not the model). A model saved
        before acceptance existed also gives its codebook description vectors (``anchors``)."""
        self._check_fitted()
        radii = getattr(self, "radii_", None)
        if check_outliers(self.outliers) == "keep" and radii is None:
            raise NotFittedError("a model with outliers='keep' needs its narrative radii (radii_); "
                                 "fit it again")
        open_ = ~np.isin(self.centroid_ids_, self.named_ids_)
        legacy = getattr(self, "acceptance_", None) is None
        return dict(
            ids=self.centroid_ids_[open_], centroids=self.centroids_[open_],
            min_similarity=self.assign_min_similarity,
            anchors=getattr(self, "anchors_", None) if legacy else None,
            anchor_ids=getattr(self, "anchor_ids_", None) if legacy else None,
            anchor_min_similarity=self.zeroshot_min_similarity,
            radii=radii[open_] if self.outliers == "keep" else None,
        )

    def _fit_subnarratives(self, topic_model, texts: list[str], embeddings: np.ndarray) -> None:
        """Finer clusters inside each narrative, kept as sub-narratives rather than thrown away.

        Sets ``subnarratives_`` (narrative_id, sub_id, label, size, top_terms), ``subtopics_``
        (each paragraph's sub id within its narrative, -1 for none), and the sub-centroids that
        :meth:`transform_subnarratives` uses. With ``subnarratives=False`` they are empty.
        """
        from .labels import noun_phrase_table
        from .subnarratives import SubNarratives, fit_subnarratives

        reduced = getattr(topic_model.umap_model, "embedding_", None)
        if reduced is None or len(reduced) != len(texts):
            reduced = embeddings  # UMAP was skipped (tiny input)
        if self.subnarratives:
            result = fit_subnarratives(
                texts, embeddings, np.asarray(reduced), self.topics_,
                vectorizer=topic_model.vectorizer_model, top_n_words=2 * self.top_n_words,
            )
        else:
            result = SubNarratives.empty(len(texts), embeddings.shape[1])
        self.subnarratives_ = noun_phrase_table(result.table, texts, top_n=self.top_n_words)
        self.subtopics_ = result.subtopics
        self.subcentroid_keys_ = result.keys
        self.subcentroids_ = result.centroids

    def transform_subnarratives(self, embeddings: np.ndarray, topics: np.ndarray) -> np.ndarray:
        """Sub-narrative (local id within the parent, -1 for none) of paragraphs already assigned."""
        from .subnarratives import assign_subnarratives

        self._check_fitted()
        if not hasattr(self, "subcentroids_"):
            return np.full(len(topics), UNASSIGNED_ID, dtype=int)
        return assign_subnarratives(
            np.asarray(embeddings, dtype=np.float32), np.asarray(topics, dtype=int),
            self.subcentroid_keys_, self.subcentroids_,
        )

    def _seed_topic_list(self) -> list[list[str]] | None:
        """Codebook seed terms per narrative, lower-cased to match the vectorizer's vocabulary."""
        if not self.guided or self.codebook is None:
            return None
        seeds = [[t.lower() for t in n.seeds] for n in self.codebook.named if n.seeds]
        return seeds or None

    def _off_topic_ids(self, embeddings: np.ndarray, embedder=None) -> set[int]:
        """Discovered narratives most of whose paragraphs are closer to off-codebook subjects
        (sport, culture, weather...) than to any named narrative's description or example
        (:func:`narrative.model.labels.off_topic_ids`)."""
        from .labels import OFF_TOPIC_SENTENCES, off_topic_ids

        rule = getattr(self, "acceptance_", None)
        if rule is None:
            return set()
        embedder = embedder if embedder is not None else self.embedder
        candidates = [int(t) for t in self.centroid_ids_ if t not in set(rule.ids.tolist())]
        return off_topic_ids(embeddings, self.topics_, candidates, rule.prototypes,
                             np.asarray(embedder.encode(list(OFF_TOPIC_SENTENCES))))

    def _describe(self, topic_model, topics: np.ndarray, texts=None, off_topic=frozenset()
                  ) -> pd.DataFrame:
        """The narratives table; discovered labels and terms kept to noun phrases when the
        corpus ``texts`` are given (:func:`narrative.model.labels.noun_phrases`)."""
        from .labels import noun_like_words, noun_phrases

        rule = getattr(self, "acceptance_", None)
        named = ({} if rule is None else
                 {int(t): spec.name for t, spec in zip(rule.ids, self.codebook.named)})
        sizes = pd.Series(topics).value_counts()
        aspect = (getattr(topic_model, "topic_aspects_", None) or {}).get("label", {})
        ids = sorted(set(topics.tolist()) | set(named) | {UNASSIGNED_ID})
        raw = {t: [w for w, _ in (topic_model.get_topic(t) or []) if w][: self.top_n_words]
               for t in ids}
        raw_labels = {t: [w for w, _ in aspect.get(t, []) if w] or raw[t] for t in ids}
        nouns = None
        if texts is not None:
            words = {w for terms in [*raw.values(), *raw_labels.values()] for t in terms
                     for w in t.lower().split()}
            nouns = noun_like_words(texts, words)
        rows = []
        for topic_id in ids:
            terms, label_terms = raw[topic_id], raw_labels[topic_id]
            if nouns is not None:
                terms = noun_phrases(terms, nouns) or terms
                label_terms = noun_phrases(label_terms, nouns) or terms
            if topic_id == UNASSIGNED_ID:
                label, kind, cb = UNASSIGNED, "unassigned", None
            elif topic_id in named:
                label, kind, cb = named[topic_id], "named", named[topic_id]
            else:
                kind = "off-topic" if topic_id in off_topic else "discovered"
                label, cb = ", ".join(label_terms[:3]) or f"narrative {topic_id}", None
            rows.append(
                {
                    "narrative_id": int(topic_id),
                    "label": label,
                    "codebook_name": cb,
                    "kind": kind,
                    "top_terms": terms,
                    "size": int(sizes.get(topic_id, 0)),
                }
            )
        return pd.DataFrame(rows)

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_"):
            raise NotFittedError("this NarrativeModel is not fitted yet; call fit(texts, embeddings) first")

    def transform(self, embeddings: np.ndarray, texts=None) -> tuple[np.ndarray, np.ndarray]:
        """Assign paragraphs with the fitted rule: ``(narrative ids, probabilities)``.

        A paragraph that named narratives accept goes to the most typical of them (probability:
        its typicality); the rest go to the nearest discovered centroid (within its radius with
        ``outliers="keep"``; see :mod:`narrative.model.assign`), or -1. ``texts`` are needed when
        the codebook gates a narrative on its ``requires`` terms.
        """
        self._check_fitted()
        embeddings = np.asarray(embeddings, dtype=np.float32)
        accepted, typical = self._accept(embeddings, texts)
        topics, probabilities = best_accepted(accepted, typical, self.named_ids_)
        rest = topics == UNASSIGNED_ID
        if rest.any():
            topics[rest], probabilities[rest] = assign_paragraphs(embeddings[rest],
                                                                  **self.assignment_rule())
        return topics, probabilities

    def distribution(self, embeddings: np.ndarray, texts=None) -> np.ndarray:
        """Soft narrative mixture per paragraph (columns in ``centroid_ids_`` order): over the named
        narratives that accept it, in proportion to its typicality (two when two accept it),
        else a softmax over the discovered centroids (named narratives get no weight)."""
        from .acceptance import with_named_weights

        self._check_fitted()
        embeddings = np.asarray(embeddings, dtype=np.float32)
        named = np.isin(self.centroid_ids_, self.named_ids_)
        out = np.zeros((len(embeddings), len(self.centroid_ids_)))
        if (~named).any():
            out[:, ~named] = soft_distribution(embeddings, self.centroids_[~named])
        accepted, typical = self._accept(embeddings, texts)
        return with_named_weights(out, self.centroid_ids_, self.named_ids_, accepted, typical)

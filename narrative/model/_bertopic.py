"""Every adapter of BERTopic's (and umap-learn's, hdbscan's) internals, in one place.

:class:`~narrative.model.NarrativeModel` assembles BERTopic from these pieces. Three of them reach
into BERTopic's private API, pinned by ``bertopic>=0.17,<0.18`` in pyproject.toml and checked by
tests/test_bertopic_adapters.py against the installed version:

- :func:`labelled_later_bertopic` overrides ``_extract_topics`` and ``_save_representative_docs``;
- :func:`zeroshot_topic_mapping` reads ``_topic_id_to_zeroshot_topic_idx``.

A BERTopic release that changes them fails those tests before it changes a result.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from typing import Sequence

import numpy as np

from ..schema import UNASSIGNED_ID
from .sizing import max_cluster_size_for

__all__ = [
    "ExactNeighbourUMAP", "KnownTexts", "SmallSafeHDBSCAN", "labelled_later_bertopic",
    "quiet_libraries", "zeroshot_topic_mapping",
]

#: The private BERTopic methods :func:`labelled_later_bertopic` overrides.
OVERRIDDEN_METHODS = ("_extract_topics", "_save_representative_docs")
#: The private BERTopic attribute :func:`zeroshot_topic_mapping` reads.
ZEROSHOT_MAPPING_ATTRIBUTE = "_topic_id_to_zeroshot_topic_idx"


def zeroshot_topic_mapping(topic_model) -> dict[int, int]:
    """BERTopic's map from topic id to the index of the zero-shot entry it came from.

    BERTopic keeps it privately; it is the only record of which topic came from which zero-shot
    entry. Empty when BERTopic made no zero-shot topic (or skipped clustering, see
    :meth:`NarrativeModel._zeroshot_names <narrative.model.NarrativeModel>`).
    """
    mapping = getattr(topic_model, ZEROSHOT_MAPPING_ATTRIBUTE, None) or {}
    return {int(t): int(i) for t, i in mapping.items()}


class _DropCustomAssignmentNotice(logging.Filter):
    """Drops BERTopic's notice that custom topic assignments were passed: we do that on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "custom list of topic assignments" not in record.getMessage()


@contextlib.contextmanager
def quiet_libraries():
    """Silence, for the duration of a fit only, notices we act on deliberately: UMAP's notice that
    a seed makes it single-threaded, and BERTopic's notice that we pass our own assignments.

    A filter, not a level: BERTopic resets its logger's level in several places during a fit.
    """
    bertopic_log = logging.getLogger("BERTopic")
    notice_filter = _DropCustomAssignmentNotice()
    bertopic_log.addFilter(notice_filter)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="n_jobs value .* overridden", category=UserWarning)
            yield
    finally:
        bertopic_log.removeFilter(notice_filter)


class ExactNeighbourUMAP:
    """UMAP given each point's exact cosine neighbours instead of searching them with pynndescent.

    From 4,096 points umap-learn switches to pynndescent, whose numba code is compiled in every
    process (25-50 s before a fit of a few tens of thousands of paragraphs on 2 cores) and which
    finds about 97% of the true neighbours; :func:`narrative.model.neighbours.exact_cosine_knn` finds
    all of them in seconds for the sizes fitted here (at most ``Settings.fit_sample_max``), up to
    :data:`narrative.model.neighbours.EXACT_KNN_MAX` rows, above which pynndescent is cheaper again.
    BERTopic calls ``fit_transform`` on the (guided) embeddings it holds, so the neighbours are
    computed there, on exactly what UMAP lays out. Below 4,096 points umap-learn's own exact
    search runs.

    With zero-shot topics BERTopic then calls ``transform`` on the paragraphs no codebook entry
    took, to cluster them: those are rows of the fitted input, and they get their fitted
    coordinates (which UMAP's transform, a placement among neighbours then a few optimisation
    epochs, only approximates). Other input goes to UMAP's own ``transform``.
    """

    def __init__(self, model):
        self.model = model
        self._fitted: np.ndarray | None = None
        self._row_of: dict[bytes, int] | None = None

    def fit_transform(self, X, y=None):
        from . import neighbours

        X = np.ascontiguousarray(X, dtype=np.float32)
        if neighbours.UMAP_EXACT_KNN_BELOW <= len(X) <= neighbours.EXACT_KNN_MAX:
            self.model.precomputed_knn = (*neighbours.exact_cosine_knn(X, self.model.n_neighbors),
                                          None)
        with warnings.catch_warnings():  # no search index: see transform
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
            layout = self.model.fit_transform(X, y=y)
        self._fitted, self._row_of = X, None
        return layout

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def transform(self, X):
        X = np.ascontiguousarray(X, dtype=np.float32)
        rows = self._fitted_rows(X)
        if rows is not None:
            return self.model.embedding_[rows]
        return self.model.transform(X)

    def _fitted_rows(self, X: np.ndarray) -> np.ndarray | None:
        """Row numbers in the fitted input of every row of ``X``, or None if one is not there."""
        import hashlib

        if self._fitted is None or X.ndim != 2 or X.shape[1:] != self._fitted.shape[1:]:
            return None
        digest = lambda row: hashlib.blake2b(row.tobytes(), digest_size=16).digest()  # noqa: E731
        if self._row_of is None:
            self._row_of = {}
            for i, row in enumerate(self._fitted):
                self._row_of.setdefault(digest(row), i)
        rows = [self._row_of.get(digest(row)) for row in X]
        if any(r is None for r in rows):
            return None
        rows = np.asarray(rows, dtype=np.int64)
        return rows if np.array_equal(self._fitted[rows], X) else None

    @property
    def embedding_(self):
        return self.model.embedding_


class KnownTexts:
    """The embedder, answering from vectors the fit already has.

    During a fit BERTopic embeds some paragraphs again: KeyBERTInspired's representative documents
    (five per narrative), through the backend. Their vectors are rows of the embeddings being
    fitted. Label words are embedded twice too (KeyBERTInspired's candidates, then again by
    MaximalMarginalRelevance): a text embedded once during the fit is remembered. Only texts
    not seen before (label words, codebook descriptions) reach the model. ``forget`` drops the
    lookup once the fit is done.
    """

    def __init__(self, embedder, texts: Sequence[str], vectors: np.ndarray):
        self.embedder = embedder
        self.vectors: list[np.ndarray] = [np.asarray(vectors, dtype=np.float32)]
        self.row_of: dict[str, tuple[int, int]] = {}
        for i, text in enumerate(texts):
            self.row_of.setdefault(text, (0, i))

    def encode(self, texts: Sequence[str], *, progress=None) -> np.ndarray:
        texts = list(texts)
        found = [self.row_of.get(t) for t in texts]
        new = list(dict.fromkeys(t for t, f in zip(texts, found) if f is None))
        if new:
            self.vectors.append(np.asarray(self.embedder.encode(new, progress=progress),
                                           dtype=np.float32))
            part = len(self.vectors) - 1
            self.row_of.update((t, (part, i)) for i, t in enumerate(new))
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self.vectors[part][row] for part, row in map(self.row_of.__getitem__, texts)])

    def forget(self) -> None:
        self.vectors, self.row_of = [], {}

    def as_bertopic_backend(self):
        """A backend through this lookup, or None where the embedder offers none."""
        from ..embed.sentence import bertopic_backend

        if self.embedder.as_bertopic_backend() is None:
            return None
        return bertopic_backend(self)


def labelled_later_bertopic():
    """BERTopic whose ``fit_transform`` leaves the topic terms and representative documents to
    :meth:`BERTopic.update_topics`.

    :meth:`NarrativeModel._fit <narrative.model.NarrativeModel>` re-assigns the paragraphs after clustering and then labels the
    final narratives with ``update_topics``, which counts c-TF-IDF again, with the same vectorizer,
    from the final assignment. The terms and representative documents ``fit_transform`` extracts
    from its clusters are overwritten unread: on ukraine_media_2022 (30,271 texts) counting them
    took about 7 s and picking the documents 1.7 s. This subclass skips both during
    ``fit_transform`` (``label_later``) and keeps what they need; the topic vectors, which the
    zero-shot step reads, are still made. ``finish_labels`` does the skipped work when no
    ``update_topics`` followed (every paragraph unassigned), so the narratives are the same as
    BERTopic's either way (tests/test_model.py compares them).

    Both overridden methods are BERTopic's private ``_extract_topics`` and
    ``_save_representative_docs`` (bertopic 0.17); a BERTopic without them fails the test.
    """
    from bertopic import BERTopic

    class LabelledLaterBERTopic(BERTopic):
        label_later = False
        _skipped: tuple = ()

        def _extract_topics(self, documents, embeddings=None, mappings=None, verbose=False,
                            fine_tune_representation=True):
            if not self.label_later:
                return super()._extract_topics(documents, embeddings=embeddings, mappings=mappings,
                                               verbose=verbose,
                                               fine_tune_representation=fine_tune_representation)
            self._skipped = (("topics", documents, embeddings, mappings, fine_tune_representation),)
            self.topic_representations_ = {}
            self._create_topic_vectors(documents=documents, embeddings=embeddings, mappings=mappings)

        def _save_representative_docs(self, documents):
            if not self.label_later:
                return super()._save_representative_docs(documents)
            self._skipped += (("documents", documents),)
            self.representative_docs_ = {}

        def finish_labels(self, relabelled: bool) -> None:
            """After ``fit_transform``: drop what it skipped (and the documents and embeddings
            kept for it) when ``update_topics`` relabelled the topics, else extract it now."""
            self.label_later = False
            skipped, self._skipped = self._skipped, ()
            for step in () if relabelled else skipped:
                if step[0] == "topics":
                    _, documents, embeddings, mappings, fine_tune = step
                    self._extract_topics(documents, embeddings=embeddings, mappings=mappings,
                                         fine_tune_representation=fine_tune)
                else:
                    self._save_representative_docs(step[1])

    return LabelledLaterBERTopic


class SmallSafeHDBSCAN:
    """HDBSCAN that leaves too few points unclustered instead of failing.

    After zero-shot assignment only a handful of paragraphs may remain for clustering (a few seed
    articles, a narrow corpus); HDBSCAN cannot form a cluster from fewer than two clusters' worth
    of points and raises on some of those inputs, so they stay unassigned here.
    """

    def __init__(self, model, max_share: float | None = None):
        self.model = model
        self.max_share = max_share

    def fit(self, X, y=None):
        X = np.asarray(X)
        self.model.max_cluster_size = max_cluster_size_for(
            len(X), self.model.min_cluster_size, self.max_share
        )
        if len(X) < 2 * self.model.min_cluster_size:
            self.labels_ = np.full(len(X), UNASSIGNED_ID, dtype=int)
        else:
            self.model.fit(X)
            self.labels_ = self.model.labels_
        return self

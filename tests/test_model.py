"""NarrativeModel with the real MiniLM and BERTopic: edge cases, validation, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from narrative.codebook import load_codebook
from narrative.model._bertopic import SmallSafeHDBSCAN
from narrative.model import (
    NarrativeModel,
    NotFittedError,
    cluster_size_for,
    max_cluster_size_for,
)

TEXTS = [
    "Xi and Putin met in Beijing to deepen the no-limits partnership between China and Russia.",
    "Sanctions on buyers of Russian oil and the price cap were tightened by Washington.",
    "The football club won the cup final after a penalty shoot-out.",
    "A coalition of the willing offered security guarantees and peacekeepers for Ukraine.",
    "Heavy rain and storms are forecast for the weekend across the north.",
]


def test_cluster_size_scales_with_corpus():
    assert cluster_size_for(50) == 4
    assert cluster_size_for(1300) == 18
    assert cluster_size_for(30000) == 87
    assert cluster_size_for(10**9) == 500


def test_max_cluster_size_is_a_share_of_what_is_clustered_with_a_floor():
    assert max_cluster_size_for(16_000, 87, 0.25) == 4000
    assert max_cluster_size_for(100, 10, 0.25) == 40  # four minimum clusters at least
    assert max_cluster_size_for(16_000, 87, None) == 0  # hdbscan's "no cap"


def test_large_fits_lay_umap_out_in_fewer_epochs():
    """Above LARGE_FIT_ABOVE paragraphs the fit's UMAP runs LARGE_FIT_EPOCHS epochs (umap-learn
    would run 200); smaller fits keep umap-learn's own choice (500)."""
    from narrative.model import LARGE_FIT_ABOVE, LARGE_FIT_EPOCHS

    model = NarrativeModel(random_state=1)
    epochs = {n: model._build_bertopic(n).umap_model.model.n_epochs
              for n in (1_000, LARGE_FIT_ABOVE, LARGE_FIT_ABOVE + 1)}
    assert epochs == {1_000: None, LARGE_FIT_ABOVE: None, LARGE_FIT_ABOVE + 1: LARGE_FIT_EPOCHS}
    assert LARGE_FIT_EPOCHS < 200


def test_no_cluster_grows_past_the_cap():
    """Two touching blobs (200 points each) beside a far one: capped at half the points, HDBSCAN
    may not return the two as one 400-point cluster."""
    from hdbscan import HDBSCAN

    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal((0, 0), 0.3, (200, 2)), rng.normal((1.2, 0), 0.3, (200, 2)),
                   rng.normal((10, 10), 0.3, (100, 2))])
    free = SmallSafeHDBSCAN(HDBSCAN(min_cluster_size=20)).fit(x).labels_
    assert np.bincount(free[free >= 0]).max() == 400  # uncapped, the two blobs are one cluster
    capped = SmallSafeHDBSCAN(HDBSCAN(min_cluster_size=20), max_share=0.5).fit(x)
    assert capped.model.max_cluster_size == 250
    sizes = np.bincount(capped.labels_[capped.labels_ >= 0])
    assert len(sizes) >= 3 and sizes.max() <= 250


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"zeroshot_min_similarity": 1.5}, "zeroshot_min_similarity must be in"),
        ({"min_cluster_size": 1}, "min_cluster_size must be >= 2; got 1"),
        ({"ngram_max": 5}, "ngram_max must be 1, 2 or 3; got 5"),
    ],
)
def test_bad_parameters_fail_at_fit_with_the_value(kwargs, message):
    model = NarrativeModel(**kwargs)
    with pytest.raises(ValueError, match=message):
        model.fit(["a b c"] * 3, np.zeros((3, 4), dtype=np.float32))


def test_embedding_rows_must_match_texts():
    with pytest.raises(ValueError, match="got 2 rows for 3 paragraphs"):
        NarrativeModel().fit(["a", "b", "c"], np.zeros((2, 4)))


def test_transform_before_fit_says_so():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        NarrativeModel().transform(np.zeros((1, 4)))


@pytest.mark.slow
@pytest.mark.parametrize("n", [1, 2, 5])
def test_tiny_inputs_get_named_narratives_without_crashing(embedder, n):
    vectors = embedder.encode(TEXTS[:n])
    model = NarrativeModel(load_codebook(), embedder=embedder).fit(TEXTS[:n], vectors)
    labels = dict(zip(model.narratives_["narrative_id"], model.narratives_["label"]))
    got = [labels[t] if t != -1 else "unassigned" for t in model.topics_]
    expected = ["Russia–China axis", "Sanctions leverage", "unassigned", "Security guarantees", "unassigned"]
    assert got == expected[:n]


@pytest.fixture(scope="module")
def demo_vectors(embedder):
    from narrative.sample import generate_demo_corpus

    corpus = generate_demo_corpus(5, n_weeks=12, articles_per_outlet_week=1)
    texts = sorted({p["text"] for a in corpus.articles for p in a["paragraphs"]})
    return texts, embedder.encode(texts)


@pytest.mark.slow
def test_same_seed_same_assignments_in_one_process(embedder, demo_vectors):
    texts, vectors = demo_vectors
    a = NarrativeModel(load_codebook(), embedder=embedder, random_state=7).fit(texts, vectors)
    b = NarrativeModel(load_codebook(), embedder=embedder, random_state=7).fit(texts, vectors)
    assert np.array_equal(a.topics_, b.topics_)
    assert a.narratives_["label"].tolist() == b.narratives_["label"].tolist()


@pytest.mark.slow
def test_assignment_is_nearest_centroid_and_transform_reproduces_fit(embedder, demo_vectors):
    texts, vectors = demo_vectors
    model = NarrativeModel(load_codebook(), embedder=embedder).fit(texts, vectors)
    # The shipped codebook gates narratives on their wording: assignment reads the texts.
    with pytest.raises(ValueError, match="pass the paragraphs' texts"):
        model.transform(vectors)
    topics, sims = model.transform(vectors, texts)
    assert np.array_equal(topics, model.topics_)
    assigned = topics != -1
    assert (sims[assigned] >= model.assign_min_similarity).all()
    assert (sims[~assigned] < model.assign_min_similarity).all()
    dist = model.distribution(vectors, texts)
    assert np.allclose(dist.sum(axis=1), 1)
    assert np.array_equal(model.centroid_ids_[dist.argmax(axis=1)][assigned], topics[assigned])


def test_subnarratives_recover_two_planted_subgroups_and_reassign_from_centroids():
    from sklearn.feature_extraction.text import CountVectorizer

    from narrative.model.subnarratives import assign_subnarratives, fit_subnarratives

    rng = np.random.default_rng(0)
    base = rng.normal(size=16)
    # One narrative (id 3) made of two tight subgroups, a small narrative (id 0) too small to
    # split, and unassigned paragraphs that must stay without a sub-narrative.
    a = base + 0.4 * np.eye(16)[0] + rng.normal(0, 0.02, (60, 16))
    b = base - 0.4 * np.eye(16)[0] + rng.normal(0, 0.02, (50, 16))
    small = rng.normal(size=16) + rng.normal(0, 0.02, (10, 16))
    loose = rng.normal(size=(5, 16))
    embeddings = np.vstack([a, b, small, loose]).astype(np.float32)
    topics = np.array([3] * 110 + [0] * 10 + [-1] * 5)
    texts = (["grain exports through the port"] * 60 + ["drone strikes on the refinery"] * 50
             + ["election results"] * 10 + ["weather"] * 5)
    vectorizer = CountVectorizer().fit(texts)
    result = fit_subnarratives(texts, embeddings, embeddings, topics, vectorizer=vectorizer, top_n_words=3)

    table = result.table
    assert table.columns.tolist() == ["narrative_id", "sub_id", "label", "size", "top_terms"]
    assert table["narrative_id"].tolist() == [3, 3] and table["sub_id"].tolist() == [0, 1]
    assert table["size"].tolist() == [60, 50]  # numbered by size, largest first
    assert {"grain", "exports", "port"} >= set(table["top_terms"][0]) and "drone" in table["label"][1]
    assert result.subtopics.tolist() == [0] * 60 + [1] * 50 + [-1] * 15
    assert result.keys.tolist() == [[3, 0], [3, 1]] and result.centroids.shape == (2, 16)
    again = assign_subnarratives(embeddings, topics, result.keys, result.centroids)
    assert np.array_equal(again, result.subtopics)


class _Recording:
    """An embedder that records every text it is asked to embed."""

    def __init__(self, embedder):
        self.embedder, self.seen = embedder, []
        self.model_id, self.dim = embedder.model_id, embedder.dim

    def encode(self, texts, *, progress=None):
        self.seen.extend(texts)
        return self.embedder.encode(texts, progress=progress)

    def as_bertopic_backend(self):
        from narrative.embed.sentence import bertopic_backend

        return bertopic_backend(self)


@pytest.fixture(scope="module")
def fitted_demo(embedder, demo_vectors):
    texts, vectors = demo_vectors
    given = vectors.copy()
    recording = _Recording(embedder)
    model = NarrativeModel(load_codebook(), embedder=recording, random_state=1).fit(texts, given)
    return model, texts, vectors, given


@pytest.mark.slow
def test_a_fit_embeds_no_paragraph_again(fitted_demo):
    """Labels re-rank words against representative paragraphs: their vectors come from the fit's
    input, only label words and codebook descriptions reach the model."""
    model, texts, *_ = fitted_demo
    seen = model.embedder.seen
    assert seen, "label words and descriptions are embedded"
    assert not set(seen) & set(texts)
    assert len(seen) == len(set(seen)), "a label word embedded once is remembered"
    assert (model.narratives_["label"].str.len() > 0).all()


@pytest.mark.slow
def test_seed_terms_guide_clustering_without_touching_the_callers_embeddings(fitted_demo):
    model, _, vectors, given = fitted_demo
    seeds = model.topic_model_.seed_topic_list
    assert seeds[0][:3] == ["china", "beijing", "xi"]  # lower-cased: the vectorizer's vocabulary
    assert len(seeds) == len(load_codebook())
    assert np.array_equal(given, vectors)  # guided modelling nudges a copy, not the input


@pytest.mark.slow
def test_discovered_narratives_stay_apart_from_named_ones(fitted_demo):
    model, *_ = fitted_demo
    nar = model.narratives_
    names = set(load_codebook().names)
    named, discovered = nar[nar["kind"] == "named"], nar[nar["kind"] == "discovered"]
    assert set(named["label"]) <= names and named["label"].is_unique
    assert discovered["codebook_name"].isna().all() and not set(discovered["label"]) & names
    assert set(discovered["nearest_named"]) <= names
    assert discovered["nearest_named_similarity"].between(-1, 1).all()
    assert nar.loc[nar["kind"] != "discovered", "nearest_named"].isna().all()


@pytest.mark.slow
def test_subnarratives_of_a_fitted_model_partition_their_narrative(fitted_demo):
    model, _, vectors, _ = fitted_demo
    subs, sub_of = model.subnarratives_, model.subtopics_
    assert len(sub_of) == len(model.topics_)
    assert set(subs["narrative_id"]) <= set(model.centroid_ids_.tolist())
    for parent, group in subs.groupby("narrative_id"):
        members = model.topics_ == parent
        assert group["sub_id"].tolist() == list(range(len(group))) and len(group) >= 2
        assert group["size"].sum() == members.sum()
        assert np.bincount(sub_of[members], minlength=len(group)).tolist() == group["size"].tolist()
    assert (sub_of[~np.isin(model.topics_, subs["narrative_id"])] == -1).all()
    assert np.array_equal(model.transform_subnarratives(vectors, model.topics_), sub_of)


def test_seed_terms_are_lower_cased_and_only_used_when_guided():
    codebook = load_codebook()
    assert NarrativeModel(codebook)._seed_topic_list()[2][:2] == ["sanctions", "secondary sanctions"]
    assert NarrativeModel(codebook, guided=False)._seed_topic_list() is None
    assert NarrativeModel(None)._seed_topic_list() is None
    assert {"guided", "subnarratives"} <= set(NarrativeModel().get_params())


def _eager_and_counted(monkeypatch):
    """(counts, use_eager): BERTopic's c-TF-IDF passes counted; ``use_eager()`` makes fits label
    their clusters inside ``fit_transform`` too, as plain BERTopic does."""
    import narrative.model as model_module

    later = model_module.labelled_later_bertopic()
    counts = {"c-TF-IDF": 0}
    real = later._c_tf_idf

    def counted(self, *args, **kwargs):
        counts["c-TF-IDF"] += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(later, "_c_tf_idf", counted)

    class Eager(later):
        label_later = property(lambda self: False, lambda self, value: None)

    def use_eager():
        monkeypatch.setattr(model_module, "labelled_later_bertopic", lambda: Eager)

    monkeypatch.setattr(model_module, "labelled_later_bertopic", lambda: later)
    return counts, use_eager


def _same_fit(a, b) -> None:
    assert np.array_equal(a.topics_, b.topics_)
    pd.testing.assert_frame_equal(a.narratives_, b.narratives_)
    pd.testing.assert_frame_equal(a.subnarratives_, b.subnarratives_)


@pytest.mark.slow
def test_clusters_are_labelled_once_from_the_final_assignment(embedder, demo_vectors, monkeypatch):
    """fit_transform's own c-TF-IDF pass, which update_topics overwrites, is skipped: one count
    instead of two, and the narratives, terms, labels and sub-narratives are unchanged."""
    texts, vectors = demo_vectors
    counts, use_eager = _eager_and_counted(monkeypatch)
    once = NarrativeModel(load_codebook(), embedder=embedder, random_state=3).fit(texts, vectors)
    assert counts["c-TF-IDF"] == 1
    assert once.topic_model_._skipped == (), "the skipped pass's documents are not kept"
    use_eager()
    twice = NarrativeModel(load_codebook(), embedder=embedder, random_state=3).fit(texts, vectors)
    assert counts["c-TF-IDF"] == 3
    _same_fit(once, twice)


@pytest.mark.slow
def test_a_fit_with_nothing_assigned_still_describes_its_outliers(embedder, monkeypatch):
    """No update_topics when every paragraph stays unassigned: the skipped pass runs then."""
    texts = TEXTS[:4]
    vectors = embedder.encode(texts)
    counts, use_eager = _eager_and_counted(monkeypatch)
    once = NarrativeModel(embedder=embedder, outliers="keep").fit(texts, vectors)
    assert set(once.topics_.tolist()) == {-1} and counts["c-TF-IDF"] == 1
    use_eager()
    _same_fit(once, NarrativeModel(embedder=embedder, outliers="keep").fit(texts, vectors))
    assert once.narratives_["top_terms"].iloc[0], "the unassigned paragraphs keep their terms"

"""NarrativeModel with the real MiniLM and BERTopic: edge cases, validation, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from narrative.codebook import load_codebook
from narrative.model import NarrativeModel, NotFittedError, cluster_size_for

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
    topics, sims = model.transform(vectors)
    assert np.array_equal(topics, model.topics_)
    assigned = topics != -1
    assert (sims[assigned] >= model.assign_min_similarity).all()
    assert (sims[~assigned] < model.assign_min_similarity).all()
    dist = model.distribution(vectors)
    assert np.allclose(dist.sum(axis=1), 1)
    assert np.array_equal(model.centroid_ids_[dist.argmax(axis=1)][assigned], topics[assigned])

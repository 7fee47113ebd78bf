"""The final assignment rule: codebook matches keep their named narrative, the rest go to the
nearest centroid above a floor. Pure numpy, hand-made vectors."""

import numpy as np

from narrative.assign import (
    assign_paragraphs,
    assign_to_centroids,
    refine_assignments,
    zero_shot_choice,
)

E = np.eye(3)
IDS = np.array([0, 7])  # 0: a named narrative, 7: a discovered one
CENTROIDS = np.array([[1.0, 0, 0], [0, 1.0, 0]])
ANCHORS = np.array([[0.6, 0.8, 0.0]])  # the named narrative's description


def _unit(*rows):
    x = np.array(rows, dtype=float)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_zero_shot_choice_takes_the_best_description_above_the_threshold():
    x = _unit([0.6, 0.8, 0], [0, 0, 1], [0.5, 0.9, 0.1])
    assert zero_shot_choice(x, ANCHORS, np.array([0]), min_similarity=0.9).tolist() == [0, -1, 0]
    assert zero_shot_choice(x, np.zeros((0, 3)), np.zeros(0), min_similarity=0.1).tolist() == [-1] * 3


def test_a_codebook_match_stays_named_even_when_a_discovered_centroid_is_nearer():
    # Nearer to the discovered centroid (0.8 > 0.6) but a codebook match: it stays named.
    x = _unit([0.6, 0.8, 0])
    free, _ = assign_to_centroids(x, IDS, CENTROIDS, min_similarity=0.3)
    assert free.tolist() == [7]
    topics, _ = assign_paragraphs(x, ids=IDS, centroids=CENTROIDS, min_similarity=0.3,
                                  anchors=ANCHORS, anchor_ids=np.array([0]),
                                  anchor_min_similarity=0.9)
    assert topics.tolist() == [0]


def test_rows_without_a_match_go_to_the_nearest_centroid_or_stay_unassigned():
    x = _unit([0.1, 1, 0], [0, 0, 1])
    topics, sims = assign_paragraphs(x, ids=IDS, centroids=CENTROIDS, min_similarity=0.3,
                                     anchors=ANCHORS, anchor_ids=np.array([0]),
                                     anchor_min_similarity=0.99)
    assert topics.tolist() == [7, -1]
    assert np.isclose(sims[0], x[0] @ CENTROIDS[1])


def test_a_fixed_id_without_a_centroid_is_ignored():
    x = _unit([1, 0.1, 0])
    topics, _ = assign_to_centroids(x, IDS, CENTROIDS, min_similarity=0.3, fixed=np.array([5]))
    assert topics.tolist() == [0]


def test_refinement_keeps_fixed_rows_through_every_round():
    rng = np.random.default_rng(0)
    x = np.vstack([_unit(*(rng.normal(0, 0.05, (20, 3)) + [1, 0, 0])),
                   _unit(*(rng.normal(0, 0.05, (20, 3)) + [0, 1, 0]))])
    start = np.array([0] * 20 + [7] * 20)
    fixed = np.full(40, -1)
    fixed[25] = 0  # a row deep in narrative 7 pinned to narrative 0
    topics, _, ids, _ = refine_assignments(x, start, min_similarity=0.3, fixed=fixed)
    assert topics[25] == 0 and (topics[20:25] == 7).all() and ids.tolist() == [0, 7]
    unpinned, *_ = refine_assignments(x, start, min_similarity=0.3)
    assert unpinned[25] == 7

"""The final assignment rule: codebook matches keep their named narrative, the rest go to the
nearest centroid above a floor. Pure numpy, hand-made vectors."""

import numpy as np

from narrative.model.assign import (
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


# -- outliers="keep": BERTopic's -1 stays, new rows must reach a narrative's radius ------------
def _blobs_with_outliers():
    """Two tight blobs (ids 0 and 7) and four rows the clustering left at -1, each within the floor
    of a centroid (cosine ~0.6-0.8) but far from every blob."""
    rng = np.random.default_rng(0)
    x = np.vstack([_unit(*(rng.normal(0, 0.05, (20, 3)) + [1, 0, 0])),
                   _unit(*(rng.normal(0, 0.05, (20, 3)) + [0, 1, 0])),
                   _unit([1, 0.2, 1], [0.2, 1, 1], [1, 0.1, 0.8], [0.1, 1, 0.9])])
    clustered = np.array([0] * 20 + [7] * 20 + [-1] * 4)
    return x, clustered


def test_reduce_moves_outliers_and_keep_leaves_them_without_changing_the_clusters():
    from narrative.model.assign import topic_centroids

    x, clustered = _blobs_with_outliers()
    reduced, *_ = refine_assignments(x, clustered, min_similarity=0.3)
    kept, sims, ids, centroids = refine_assignments(x, clustered, min_similarity=0.3,
                                                    outliers=clustered == -1)
    assert reduced[40:].tolist() == [0, 7, 0, 7]  # all within the floor: reduction takes them
    assert kept[40:].tolist() == [-1] * 4 and np.array_equal(kept[:40], clustered[:40])
    assert (kept == -1).sum() > (reduced == -1).sum()
    # The outliers shape no centroid: these are the two blobs' own means.
    assert np.allclose(centroids, topic_centroids(x[:40], clustered[:40])[1])
    assert np.isclose(sims[40], (x[40] @ centroids.T).max())  # their nearest-centroid similarity


def test_radii_raise_each_centroids_floor_and_codebook_matches_ignore_them():
    x = _unit([1, 0.05, 0], [0.9, 0.5, 0], [0.1, 1, 0], [0.6, 0.8, 0])
    plain, sims = assign_to_centroids(x, IDS, CENTROIDS, min_similarity=0.3)
    assert plain.tolist() == [0, 0, 7, 7]
    radii = np.array([0.95, 0.2], dtype=np.float32)  # narrative 0 tight; 7 below the floor
    topics, same_sims = assign_to_centroids(x, IDS, CENTROIDS, min_similarity=0.3, radii=radii)
    assert topics.tolist() == [0, -1, 7, 7] and np.array_equal(sims, same_sims)
    pinned, _ = assign_paragraphs(x, ids=IDS, centroids=CENTROIDS, min_similarity=0.3,
                                  anchors=_unit([0.9, 0.5, 0]), anchor_ids=np.array([0]),
                                  anchor_min_similarity=0.99, radii=radii)
    assert pinned.tolist() == [0, 0, 7, 7]  # row 1 matches the codebook: its radius does not apply
    rule = dict(ids=IDS, centroids=CENTROIDS, min_similarity=0.3)
    assert np.array_equal(assign_paragraphs(x, **rule, radii=None)[0], plain)


def test_radius_is_a_low_percentile_of_the_members_similarity():
    from narrative.model.assign import narrative_radii

    sims = np.array([0.9, 0.8, 0.7, 0.6, 0.95, 0.5])
    topics = np.array([0, 0, 0, 0, 7, -1])
    radii = narrative_radii(sims, topics, np.array([0, 7, 9]))
    assert radii.dtype == np.float32
    assert np.isclose(radii[0], np.percentile([0.9, 0.8, 0.7, 0.6], 5)) and 0.6 < radii[0] < 0.62
    assert np.isclose(radii[1], 0.95) and radii[2] == np.inf  # no members: nothing joins by similarity


def test_sparse_distribution_drops_small_weights_and_rescales_each_row():
    from narrative.model.assign import sparse_distribution

    weights = np.array([[0.7, 0.295, 0.005], [0.004, 0.006, 0.99], np.full(3, 1 / 3)])
    rows, cols, kept = sparse_distribution(weights, min_weight=0.01)
    assert list(zip(rows.tolist(), cols.tolist())) == [(0, 0), (0, 1), (1, 2), (2, 0), (2, 1), (2, 2)]
    assert np.allclose(np.bincount(rows, weights=kept), 1.0)
    assert np.isclose(kept[0], 0.7 / 0.995)
    # A row whose every weight is below the cut (many narratives) keeps its largest one.
    flat = np.full((1, 200), 1 / 200)
    flat[0, 3] += 1e-6
    r, c, w = sparse_distribution(flat / flat.sum(), min_weight=0.01)
    assert c.tolist() == [3] and np.allclose(w, 1.0)

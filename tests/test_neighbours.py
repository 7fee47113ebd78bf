"""Exact cosine neighbours (narrative.model.neighbours) and the UMAP of the model that uses them."""

import numpy as np

from narrative.model.neighbours import UMAP_EXACT_KNN_BELOW, exact_cosine_knn, most_similar, unit_rows


def test_exact_cosine_knn_matches_brute_force_with_self_first():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    indices, distances = exact_cosine_knn(vectors, 7, block=64)  # several blocks
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    dist = 1 - unit @ unit.T
    np.fill_diagonal(dist, -1)  # self first
    expected = np.argsort(dist, axis=1, kind="stable")[:, :7]
    assert np.array_equal(indices, expected)
    assert np.all(indices[:, 0] == np.arange(300)) and np.allclose(distances[:, 0], 0)
    want = np.take_along_axis(np.maximum(dist, 0), expected, axis=1)
    assert np.allclose(distances, want, atol=1e-5)
    assert np.all(np.diff(distances, axis=1) >= -1e-6)


def test_ties_at_the_k_th_neighbour_go_to_the_lower_index():
    rng = np.random.default_rng(0)
    base = rng.normal(size=16)
    # Rows 3..11 are copies of one vector: row 3's 4 nearest are itself, then the next copies by
    # index, although argpartition may pick any of the tied copies.
    vectors = np.vstack([rng.normal(size=(3, 16)), np.tile(base, (9, 1)), rng.normal(size=(20, 16))])
    indices, distances = exact_cosine_knn(vectors, 4, block=5)
    assert indices[3].tolist() == [3, 4, 5, 6]
    assert indices[11].tolist() == [11, 3, 4, 5]
    assert np.allclose(distances[3], 0, atol=1e-6)


def test_the_selection_split_over_threads_finds_the_same_neighbours(monkeypatch):
    """Each block's rows are split between threads (3 here, 16 rows or more each): the same
    neighbours, ties included, as one thread and as brute force."""
    import narrative.model.neighbours as nb

    rng = np.random.default_rng(5)
    vectors = np.vstack([rng.normal(size=(100, 16)), np.tile(rng.normal(size=16), (12, 1)),
                         rng.normal(size=(100, 16))]).astype(np.float32)
    monkeypatch.setattr(nb, "_usable_cores", lambda: 1)
    one_thread = nb.exact_cosine_knn(vectors, 6, block=64)
    monkeypatch.setattr(nb, "_usable_cores", lambda: 3)
    monkeypatch.setattr(nb, "THREADED_ROWS", 16)
    threads = []
    real = nb.np.argpartition
    monkeypatch.setattr(nb.np, "argpartition", lambda *a, **kw: threads.append(len(a[0])) or real(*a, **kw))
    split = nb.exact_cosine_knn(vectors, 6, block=64)
    assert sorted(set(threads)) == [20, 21, 22]  # blocks of 64 rows in thirds, the last 20 whole
    assert np.array_equal(split[0], one_thread[0]) and np.array_equal(split[1], one_thread[1])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    dist = 1 - unit.astype(np.float64) @ unit.T.astype(np.float64)
    np.fill_diagonal(dist, -1)
    assert np.array_equal(split[0][:, :1], np.arange(len(vectors))[:, None])
    assert split[0][100].tolist() == [100, 101, 102, 103, 104, 105]  # tied copies: lower index first
    assert np.allclose(np.take_along_axis(dist, split[0], axis=1)[:, 1:], split[1][:, 1:], atol=1e-5)


def test_most_similar_orders_by_similarity_then_index():
    anchors = unit_rows(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]))
    order, sims = most_similar(unit_rows(np.array([[1.0, 0.1]])), anchors, 3)
    assert order.tolist() == [[0, 2, 3]]
    assert np.all(np.diff(sims, axis=1) <= 0)


class _RecordingUMAP:
    """Stands in for umap.UMAP: records the neighbours it is given."""

    n_neighbors = 5
    precomputed_knn = (None, None, None)

    def fit_transform(self, X, y=None):
        self.seen = self.precomputed_knn
        self.embedding_ = np.zeros((len(X), 2))
        return self.embedding_


def test_the_model_gives_umap_exact_neighbours_from_umaps_own_threshold():
    from narrative.model._bertopic import ExactNeighbourUMAP

    rng = np.random.default_rng(1)
    big = rng.normal(size=(UMAP_EXACT_KNN_BELOW, 8)).astype(np.float32)
    wrapped = ExactNeighbourUMAP(_RecordingUMAP())
    layout = wrapped.fit_transform(big)
    indices, distances, index = wrapped.model.seen
    want_indices, want_distances = exact_cosine_knn(big, 5)
    assert np.array_equal(indices, want_indices) and np.array_equal(distances, want_distances)
    assert index is None and layout.shape == (len(big), 2) and wrapped.embedding_ is layout

    small = ExactNeighbourUMAP(_RecordingUMAP())
    small.fit(big[:100])  # below the threshold umap-learn's own exact search runs
    assert small.model.seen == (None, None, None)


def test_blocks_shrink_so_that_large_inputs_stay_within_the_memory_bound(monkeypatch):
    import narrative.model.neighbours as nb

    calls = []
    real = nb.most_similar
    monkeypatch.setattr(nb, "BLOCK_CELLS", 300 * 40)
    monkeypatch.setattr(nb, "most_similar", lambda q, a, k, **kw: calls.append(len(q)) or real(q, a, k, **kw))
    vectors = np.random.default_rng(2).normal(size=(300, 8))
    indices, _ = nb.exact_cosine_knn(vectors, 5)
    assert max(calls) == 40 and sum(calls) == 300
    assert np.array_equal(indices, nb.exact_cosine_knn(vectors, 5, block=300)[0])


def test_a_fit_passes_exact_neighbours_to_umap_only_up_to_the_limit(monkeypatch):
    """From UMAP_EXACT_KNN_BELOW to EXACT_KNN_MAX rows UMAP gets exact neighbours; above the
    limit (where the n² search costs more than pynndescent) it searches itself."""
    import narrative.model.neighbours as neighbours
    from narrative.model._bertopic import ExactNeighbourUMAP

    monkeypatch.setattr(neighbours, "UMAP_EXACT_KNN_BELOW", 10)
    monkeypatch.setattr(neighbours, "EXACT_KNN_MAX", 20)
    rng = np.random.default_rng(3)
    given = {}
    for n in (9, 10, 20, 21):
        umap = _RecordingUMAP()
        ExactNeighbourUMAP(umap).fit_transform(rng.normal(size=(n, 8)).astype(np.float32))
        given[n] = umap.seen[0] is not None
        if given[n]:
            assert umap.seen[0].shape == (n, umap.n_neighbors)
    assert given == {9: False, 10: True, 20: True, 21: False}

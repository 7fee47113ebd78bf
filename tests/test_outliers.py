"""Settings.outliers: ``reduce`` (outlier reduction by embeddings, the rule from before the setting)
and ``keep`` (BERTopic's -1 stands; new paragraphs must reach a narrative's radius). Real BERTopic
on the planted corpus of tests/planted.py (under 30 paragraphs: no UMAP, a fit in well under a
second once BERTopic is imported)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from narrative.model.assign import narrative_radii, refine_assignments, zero_shot_choice
from narrative.config import Settings
from narrative.model import NarrativeModel
from narrative.model.persist import ModelFileError, load_model, save_model

from .planted import planted


@pytest.fixture(scope="module")
def corpus():
    return planted(0)


@pytest.fixture(scope="module")
def fitted(corpus):
    texts, vectors, _ = corpus
    return {mode: NarrativeModel(None, random_state=0, outliers=mode).fit(texts, vectors)
            for mode in ("reduce", "keep")}


@pytest.fixture(scope="module")
def new_vectors(fitted):
    """New paragraphs: one at each centroid (any rule takes them) and a fresh set of far ones."""
    _, far_vectors, far = planted(1, n_per=0, n_far=6)
    return np.vstack([fitted["keep"].centroids_, far_vectors[far]])


def test_keep_leaves_the_far_paragraphs_unassigned_and_reduce_assigns_them(corpus, fitted):
    _, _, far = corpus
    reduce, keep = fitted["reduce"], fitted["keep"]
    # The planted far paragraphs are BERTopic's outliers, each within the floor of a centroid.
    clustered = reduce.clustered_topics_
    assert (clustered[far] == -1).all() and (clustered[~far] != -1).all()
    assert (reduce.probabilities_[far] >= reduce.assign_min_similarity).all()
    assert (reduce.topics_ != -1).all()
    assert (keep.topics_[far] == -1).all()
    assert np.array_equal(keep.topics_[~far], reduce.topics_[~far])
    assert (keep.topics_ == -1).sum() > (reduce.topics_ == -1).sum()
    size = dict(zip(keep.narratives_["narrative_id"], keep.narratives_["size"]))
    assert size[-1] == far.sum()  # reported, not hidden


def test_reduce_is_the_assignment_rule_from_before_bit_for_bit(corpus, fitted):
    _, vectors, _ = corpus
    model = fitted["reduce"]
    fixed = zero_shot_choice(vectors, model.anchors_, model.anchor_ids_,
                             min_similarity=model.zeroshot_min_similarity)
    topics, sims, ids, centroids = refine_assignments(
        vectors, model.clustered_topics_, min_similarity=model.assign_min_similarity,
        n_iter=model.refine_iter, fixed=fixed)
    assert np.array_equal(model.topics_, topics) and np.array_equal(model.probabilities_, sims)
    assert np.array_equal(model.centroid_ids_, ids) and np.array_equal(model.centroids_, centroids)
    assert model.radii_ is None and model.assignment_rule()["radii"] is None
    again, again_sims = model.transform(vectors)
    assert np.array_equal(again, topics)


def test_keep_fits_with_the_outlier_mask_and_records_each_narratives_radius(corpus, fitted):
    _, vectors, _ = corpus
    model = fitted["keep"]
    outliers = model.clustered_topics_ == -1  # no codebook: no zero-shot match to exempt
    topics, sims, ids, centroids = refine_assignments(
        vectors, model.clustered_topics_, min_similarity=model.assign_min_similarity,
        n_iter=model.refine_iter, outliers=outliers)
    assert np.array_equal(model.topics_, topics) and np.array_equal(model.centroids_, centroids)
    assert np.array_equal(model.radii_, narrative_radii(sims, topics, ids))
    assert np.array_equal(model.assignment_rule()["radii"], model.radii_)
    assert (model.radii_ > model.assign_min_similarity).all()  # tight planted clusters


def test_new_paragraphs_join_only_within_a_radius_under_keep(fitted, new_vectors):
    reduce, _ = fitted["reduce"].transform(new_vectors)
    keep, sims = fitted["keep"].transform(new_vectors)
    k = len(fitted["keep"].centroid_ids_)
    assert np.array_equal(keep[:k], fitted["keep"].centroid_ids_)  # a centroid joins its own
    assert (keep[k:] == -1).all() and (reduce[k:] != -1).all()
    assert (sims[k:] >= fitted["keep"].assign_min_similarity).all()  # refused by radius, not floor


def test_a_saved_keep_model_assigns_new_paragraphs_exactly_as_in_memory(fitted, new_vectors,
                                                                      tmp_path):
    model = fitted["keep"]
    loaded = load_model(save_model(model, tmp_path / "keep"))
    assert loaded.outliers == "keep" and loaded.get_params() == model.get_params()
    assert loaded.radii_.dtype == np.float32 and np.array_equal(loaded.radii_, model.radii_)
    for got, want in zip(loaded.transform(new_vectors), model.transform(new_vectors)):
        assert np.array_equal(got, want)


def _rewrite(path, name, data: bytes) -> None:
    """Replace one file of a saved model and re-sign it in the manifest (a valid older layout)."""
    (path / name).write_bytes(data)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_a_model_saved_before_the_setting_loads_as_reduce(fitted, new_vectors, tmp_path):
    model = fitted["reduce"]
    path = save_model(model, tmp_path / "old")
    config = json.loads((path / "model.json").read_text())
    del config["params"]["outliers"]
    _rewrite(path, "model.json", json.dumps(config).encode())
    loaded = load_model(path)
    assert loaded.outliers == "reduce" and loaded.radii_ is None
    for got, want in zip(loaded.transform(new_vectors), model.transform(new_vectors)):
        assert np.array_equal(got, want)


def test_radii_are_hashed_and_required_for_a_keep_model(fitted, tmp_path):
    from safetensors.numpy import load as load_tensors
    from safetensors.numpy import save as save_tensors

    path = save_model(fitted["keep"], tmp_path / "keep")
    tensors = load_tensors((path / "centroids.safetensors").read_bytes())
    assert "radii" in tensors
    edited = save_tensors({**tensors, "radii": tensors["radii"] * 0})
    (path / "centroids.safetensors").write_bytes(edited)  # tampered, manifest unchanged
    with pytest.raises(ModelFileError, match="sha256"):
        load_model(path)
    _rewrite(path, "centroids.safetensors",
             save_tensors({k: v for k, v in tensors.items() if k != "radii"}))
    with pytest.raises(ModelFileError, match="expected 3 radii .* outliers='keep'"):
        load_model(path)


def test_the_setting_reaches_the_model_and_a_bad_value_fails_clearly():
    model = NarrativeModel.from_settings(Settings(outliers="keep"))
    assert model.outliers == "keep" and model.get_params()["outliers"] == "keep"
    assert NarrativeModel.from_settings(Settings()).outliers == "reduce"
    with pytest.raises(ValueError, match="outliers must be one of 'reduce', 'keep'; got 'hide'"):
        NarrativeModel(outliers="hide").fit(["a b c"] * 3, np.zeros((3, 4), dtype=np.float32))

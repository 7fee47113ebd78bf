"""Saved models: safetensors + JSON, verified by hash, never unpickled."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from narrative.model.persist import ModelFileError, load_model, save_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fitted(embedder):
    from narrative.codebook import load_codebook
    from narrative.model import NarrativeModel
    from narrative.sample import generate_demo_corpus

    corpus = generate_demo_corpus(3, n_weeks=12, articles_per_outlet_week=1)
    texts = sorted({p["text"] for a in corpus.articles for p in a["paragraphs"]})
    vectors = embedder.encode(texts)
    model = NarrativeModel(load_codebook(), embedder=embedder, random_state=3).fit(texts, vectors)
    return model, texts, vectors


class _Payload:
    """Unpickling this writes a sentinel file: proof that a loader executed a pickle."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


def test_loaded_model_assigns_exactly_like_the_fitted_one(fitted, tmp_path):
    model, texts, vectors = fitted
    path = save_model(model, tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == ["centroids.safetensors", "manifest.json", "model.json"]
    loaded = load_model(path)
    topics, sims = loaded.transform(vectors, texts)
    assert np.array_equal(topics, model.topics_)
    assert np.allclose(sims, model.probabilities_, atol=1e-6)
    assert loaded.narratives_["label"].tolist() == model.narratives_["label"].tolist()
    assert loaded.get_params() == model.get_params()
    assert loaded.codebook.names == model.codebook.names
    # The codebook description vectors are part of the rule: codebook matches stay named.
    assert len(model.anchors_) > 0
    assert np.array_equal(loaded.anchors_, model.anchors_)
    assert np.array_equal(loaded.anchor_ids_, model.anchor_ids_)
    # Sub-narratives round-trip too: the loaded model places paragraphs in them as the fit did.
    assert len(model.subnarratives_) > 0
    subs = loaded.transform_subnarratives(vectors, topics)
    assert np.array_equal(subs, model.subtopics_)
    assert loaded.subnarratives_["label"].tolist() == model.subnarratives_["label"].tolist()


@pytest.mark.parametrize("name", ["model.pkl", "model.pickle", "pytorch_model.bin", "model.joblib", "centroids.npy"])
def test_planted_pickle_is_refused_and_never_executed(fitted, tmp_path, name):
    model, _, _ = fitted
    path = save_model(model, tmp_path / "model")
    sentinel = tmp_path / "pwned"
    (path / name).write_bytes(pickle.dumps(_Payload(sentinel)))
    with pytest.raises(ModelFileError, match="refusing"):
        load_model(path)
    assert not sentinel.exists()


def test_pickle_in_place_of_the_config_fails_the_hash_check(fitted, tmp_path):
    model, _, _ = fitted
    path = save_model(model, tmp_path / "model")
    sentinel = tmp_path / "pwned"
    (path / "model.json").write_bytes(pickle.dumps(_Payload(sentinel)))
    with pytest.raises(ModelFileError, match="sha256"):
        load_model(path)
    assert not sentinel.exists()


def test_truncated_safetensors_fails_clearly(fitted, tmp_path):
    model, _, _ = fitted
    path = save_model(model, tmp_path / "model")
    data = (path / "centroids.safetensors").read_bytes()
    (path / "centroids.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated or tampered"):
        load_model(path)


def test_tampered_file_with_a_matching_manifest_is_still_parsed_safely(fitted, tmp_path):
    model, _, _ = fitted
    path = save_model(model, tmp_path / "model")
    (path / "centroids.safetensors").write_bytes(b"not a safetensors file at all")
    manifest = json.loads((path / "manifest.json").read_text())
    import hashlib

    manifest["files"]["centroids.safetensors"] = hashlib.sha256(b"not a safetensors file at all").hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="not a valid safetensors"):
        load_model(path)


def test_saving_over_an_existing_model_leaves_no_temporary_files(fitted, tmp_path):
    model, _, _ = fitted
    save_model(model, tmp_path / "model")
    save_model(model, tmp_path / "model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_unfitted_model_cannot_be_saved(tmp_path):
    from narrative.model import NarrativeModel, NotFittedError

    with pytest.raises(NotFittedError, match="not fitted"):
        save_model(NarrativeModel(), tmp_path / "m")

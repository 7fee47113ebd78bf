"""The packaged all-MiniLM-L6-v2: loads offline, attempts no network, embeds in input order."""

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_packaged_model_loads_without_any_network_attempt(no_network, monkeypatch):
    import os

    from narrative.embed import load_embedder

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # the loader must set offline mode itself
    emb = load_embedder()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    vectors = emb.encode(["The talks in Geneva ended without a ceasefire."])
    assert vectors.shape == (1, 384) and emb.model_id == "all-MiniLM-L6-v2"
    assert no_network == []  # the autouse guard records every attempted connection


def test_meaning_drives_similarity(embedder):
    v = embedder.encode(
        [
            "Beijing and Moscow deepened their partnership at a summit of Xi and Putin.",
            "Xi Jinping and Vladimir Putin met to strengthen ties between China and Russia.",
            "The home side won the cup final after a late penalty.",
        ]
    )
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > 0.6 > v[0] @ v[2]


def test_length_sorted_batches_keep_input_order(embedder):
    texts = [f"Sentence number {i} " + "word " * (i * 7 % 40) for i in range(20)]
    batched = embedder.encode(texts)
    singles = np.stack([embedder.encode([t])[0] for t in texts])
    assert np.allclose(batched, singles, atol=1e-5)


def test_unknown_model_is_refused_not_downloaded():
    from narrative.embed.sentence import resolve_model_path

    with pytest.raises(ValueError, match="never downloads"):
        resolve_model_path("some-org/some-model")


def test_bf16_agrees_with_fp32_and_is_cached_under_its_own_id(embedder):
    from narrative.embed import load_embedder

    bf16 = load_embedder(precision="bf16")
    assert bf16.model_id == "all-MiniLM-L6-v2@bf16" != embedder.model_id
    texts = ["Sanctions on Russian oil buyers were tightened.", "The harvest festival drew crowds."]
    cos = np.sum(embedder.encode(texts) * bf16.encode(texts), axis=1)
    assert cos.min() > 0.999


def test_unknown_precision_is_refused():
    from narrative.embed import load_embedder

    with pytest.raises(ValueError, match="precision must be one of fp32, bf16; got 'int8'"):
        load_embedder(precision="int8")

"""The packaged all-MiniLM-L6-v2: loads offline, attempts no network, embeds in input order.

The default precision is ``auto`` (bf16 on CPUs with native bf16, else fp32), so vectors of the
same text embedded in different batches are compared to a cosine tolerance, not bit for bit; fp32
is checked where exactness is the point.
"""

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
    assert vectors.shape == (1, 384)
    from narrative.runtime.cpu import resolve_precision

    default = resolve_precision("auto")  # the default, chosen by this CPU's flags
    assert emb.precision == default
    assert emb.model_id == "all-MiniLM-L6-v2" + ("" if default == "fp32" else "@bf16")
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


_MIXED_LENGTHS = [
    f"Report {i} on the {topic}: " + "details " * (i * 7 % 40)
    for i, topic in enumerate(
        ["ceasefire talks", "oil sanctions", "a harvest festival", "drone strikes", "the cup final"] * 4
    )
]


def test_length_sorted_batches_keep_input_order_in_fp32():
    from narrative.embed import load_embedder

    fp32 = load_embedder(precision="fp32", batch_size=8)
    batched = fp32.encode(_MIXED_LENGTHS)
    singles = np.stack([fp32.encode([t])[0] for t in _MIXED_LENGTHS])
    assert np.allclose(batched, singles, atol=1e-5)


def test_length_sorted_batches_keep_input_order_in_bf16(embedder):
    # bf16 rounds differently with different padding: rows agree to a cosine tolerance, and each
    # batched row is closest to its own text's single embedding (a shuffled row would not be).
    batched = embedder.encode(_MIXED_LENGTHS)
    singles = np.stack([embedder.encode([t])[0] for t in _MIXED_LENGTHS])
    cos = batched @ singles.T
    assert np.diag(cos).min() > 0.999
    assert (cos.argmax(axis=1) == np.arange(len(_MIXED_LENGTHS))).all()


def test_unknown_model_is_refused_not_downloaded():
    from narrative.embed.sentence import resolve_model_path

    with pytest.raises(ValueError, match="never downloads"):
        resolve_model_path("some-org/some-model")


def test_bf16_agrees_with_fp32_and_is_cached_under_its_own_id():
    from narrative.embed import load_embedder

    fp32, bf16 = load_embedder(precision="fp32"), load_embedder(precision="bf16")
    assert fp32.model_id == "all-MiniLM-L6-v2" != bf16.model_id == "all-MiniLM-L6-v2@bf16"
    ref, fast = fp32.encode(_MIXED_LENGTHS), bf16.encode(_MIXED_LENGTHS)
    assert np.sum(ref * fast, axis=1).min() > 0.999
    # The default's pass rule: neighbourhoods agree with fp32's (kNN@3 of 20 mixed texts).
    top = lambda v: np.argsort(-(v @ v.T), axis=1)[:, 1:4]  # noqa: E731
    overlap = np.mean([len(set(a) & set(b)) / 3 for a, b in zip(top(ref), top(fast))])
    assert overlap >= 0.9


def test_unknown_precision_is_refused():
    from narrative.embed import load_embedder

    with pytest.raises(ValueError, match="precision must be one of fp32, bf16 or auto; got 'int8'"):
        load_embedder(precision="int8")

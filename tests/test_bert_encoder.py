"""The plain-torch encoder on the packaged checkpoint, without sentence-transformers: fast checks
of what any sentence encoder must do (the slow tests compare it with sentence-transformers)."""

from __future__ import annotations

import numpy as np
import pytest

TEXTS = ["Sanctions on oil exports tightened again this week.",
         "The talks in Geneva ended without a ceasefire.",
         "Grain ships left the port under a corridor deal. " * 80]


@pytest.fixture(scope="module")
def encoder():
    from narrative.embed.bert import BertEncoder, supports
    from narrative.embed.sentence import resolve_model_path

    _, path = resolve_model_path(None)
    if not supports(path):
        pytest.skip(f"{path} is not a checkpoint the plain-torch encoder computes")
    return BertEncoder(path)


def test_vectors_are_unit_length_and_do_not_depend_on_the_batch(encoder):
    together = np.asarray(encoder.encode(TEXTS), dtype=np.float64)
    alone = np.stack([np.asarray(encoder.encode([t]), dtype=np.float64)[0] for t in TEXTS])
    assert together.shape == (3, 384)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.abs(together - alone).max() < 1e-4  # padding in a batch changes nothing


def test_related_texts_are_closer_than_unrelated_ones(encoder):
    a, b, c = np.asarray(encoder.encode([
        "Sanctions on Russian oil exports were tightened.",
        "New sanctions target Russia's oil sales.",
        "The football club won the cup final on penalties.",
    ]))
    assert a @ b > a @ c + 0.2


def test_long_texts_are_cut_at_the_checkpoints_length(encoder):
    ids = encoder.token_ids(TEXTS)
    assert len(ids[2]) == 256  # the packaged model's max_seq_length
    assert len(ids[0]) < 30

"""The plain-torch BERT encoder gives sentence-transformers' vectors, and is chosen only where it can.

The reference is sentence-transformers itself, run on the same packaged checkpoint: texts longer
than ``max_seq_length`` (cut), blank and padded ones, and batches of mixed lengths (padding).
"""

import json
import shutil

import numpy as np
import pytest

pytestmark = pytest.mark.slow

_TEXTS = [
    "The talks in Geneva ended without a ceasefire.",
    "  Sanctions on oil exports tightened again this week.  ",
    "",
    "Xi Jinping and Vladimir Putin met to strengthen ties between China and Russia.",
    # Over 256 word pieces: both must cut at the same place.
    "Grain ships left the port under a corridor deal, " * 60,
] + [f"Report {i} on the harvest festival: " + "details " * (i * 11 % 70) for i in range(12)]


@pytest.fixture(scope="module")
def both():
    from narrative.embed.sentence import SentenceEmbedder

    return (SentenceEmbedder(precision="fp32", batch_size=6, backend="torch"),
            SentenceEmbedder(precision="fp32", batch_size=6, backend="sentence-transformers"))


def test_the_long_text_is_cut_at_max_seq_length(both):
    torch_backend, _ = both
    assert len(torch_backend.model.tokenizer.encode(_TEXTS[4]).ids) == 256


def test_fp32_vectors_equal_sentence_transformers(both):
    torch_backend, reference = both
    ours, theirs = torch_backend.encode(_TEXTS), reference.encode(_TEXTS)
    assert ours.shape == theirs.shape == (len(_TEXTS), 384)
    assert np.abs(ours - theirs).max() < 1e-5
    assert np.sum(ours * theirs, axis=1).min() > 0.99999


def test_batches_are_formed_by_token_count_not_characters(both, monkeypatch):
    """Characters are a poor proxy for word pieces (18% padding on news paragraphs): the torch
    encoder tokenizes first and batches texts of equal token counts together."""
    torch_backend, _ = both
    model = torch_backend.model
    texts = ["ok ok ok ok ok ok ok ok ok ok", "Antidisestablishmentarianism", "we", "a b c d e f",
             "Zbigniew Brzezinski", "it is so", "Pneumonoultramicroscopic", "no no no no no no"]
    tokens = [len(ids) for ids in model.token_ids(texts)]
    by_chars = [tokens[i] for i in np.argsort([len(t) for t in texts], kind="stable")]
    assert by_chars != sorted(by_chars)  # the texts are chosen so that the two orders differ
    batches = []
    real = model.encode_ids
    monkeypatch.setattr(model, "encode_ids", lambda ids: batches.append([len(r) for r in ids]) or real(ids))
    vectors = torch_backend.encode(texts)
    assert [n for batch in batches for n in batch] == sorted(tokens)
    assert np.allclose(vectors, model.encode(texts), atol=1e-5)  # input order kept


def test_bf16_vectors_agree_with_sentence_transformers():
    from narrative.embed.sentence import SentenceEmbedder

    ours = SentenceEmbedder(precision="bf16", backend="torch").encode(_TEXTS)
    theirs = SentenceEmbedder(precision="bf16", backend="sentence-transformers").encode(_TEXTS)
    assert np.sum(ours * theirs, axis=1).min() > 0.9999


def test_auto_picks_torch_for_the_packaged_model_without_importing_sentence_transformers():
    import subprocess
    import sys

    code = ("import sys; from narrative.embed import load_embedder; e = load_embedder(); "
            "e.encode(['a test']); print(e.backend, 'sentence_transformers' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["torch", "False"]


@pytest.mark.parametrize("change", ["cls pooling", "no tokenizer.json", "another architecture"])
def test_other_checkpoints_go_through_sentence_transformers(tmp_path, change):
    from narrative.embed.bert import supports
    from narrative.embed.sentence import SentenceEmbedder, packaged_model_path

    folder = tmp_path / "model"
    shutil.copytree(packaged_model_path(), folder)
    assert supports(folder)
    if change == "cls pooling":
        config = folder / "1_Pooling" / "config.json"
        pooling = json.loads(config.read_text())
        pooling.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
        config.write_text(json.dumps(pooling))
    elif change == "no tokenizer.json":
        (folder / "tokenizer.json").unlink()
    else:
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps(dict(config, hidden_act="relu")))
    assert not supports(folder)
    with pytest.raises(ValueError, match="not a BERT"):
        SentenceEmbedder(str(folder), backend="torch")
    if change == "cls pooling":  # still a loadable model: auto falls back to sentence-transformers
        embedder = SentenceEmbedder(str(folder), precision="fp32")
        assert embedder.backend == "sentence-transformers"
        assert embedder.encode(["a test"]).shape == (1, 384)

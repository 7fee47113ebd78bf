"""The same input twice changes nothing; an edited article re-embeds only its changed paragraphs."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from .conftest import store_digest, write_jsonl


class CountingEmbedder:
    """A stand-in for the sentence model: deterministic vectors, and a record of every text sent."""

    model_id = "counting-test-embedder"
    dim = 8

    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts, *, progress=None):
        self.seen.extend(texts)
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[: self.dim * 4], dtype=np.uint32)
                for t in texts]
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _ingest_and_embed(sources, store, embedder):
    from narrative.embed import embed_paragraphs
    from narrative.pipeline import ingest_articles as ingest

    summary = ingest(sources, store)
    distinct = store.paragraphs().drop_duplicates("text_hash").sort_values("text_hash")
    _, n_embedded = embed_paragraphs(store, distinct, embedder)
    return summary, n_embedded


def test_ingesting_and_embedding_the_same_input_twice_changes_nothing(tmp_path, corpus_file):
    from narrative.store import Store

    path = tmp_path / "store.duckdb"
    embedder = CountingEmbedder()
    with Store(path) as store:
        first, n_first = _ingest_and_embed([corpus_file], store, embedder)
    before = store_digest(path)
    with Store(path) as store:
        second, n_second = _ingest_and_embed([corpus_file], store, embedder)
    assert first.n_new_articles == first.n_ingested > 0 and n_first > 0
    assert (second.n_new_articles, second.n_new_paragraphs, n_second) == (0, 0, 0)
    assert len(embedder.seen) == n_first
    assert store_digest(path) == before


def test_edited_article_reembeds_only_its_changed_paragraph(tmp_path, corpus_file):
    from narrative.store import Store

    records = [json.loads(line) for line in corpus_file.read_text(encoding="utf-8").split("\n") if line]
    paragraphs = records[5]["text"].split("\n\n")
    assert len(paragraphs) == 2
    edited_text = ("An editor rewrote this closing paragraph after publication, adding a correction about "
                   "the figures quoted for the storage sites and the heating subsidies promised last week.")
    records[5]["text"] = "\n\n".join([paragraphs[0], edited_text])
    edited = write_jsonl(tmp_path / "edited" / "articles.jsonl", records)

    embedder = CountingEmbedder()
    with Store(tmp_path / "store.duckdb") as store:
        _, n_first = _ingest_and_embed([corpus_file], store, embedder)
        embedder.seen.clear()
        summary, n_again = _ingest_and_embed([edited], store, embedder)
    assert summary.n_new_articles == 1
    assert n_again == 1
    assert embedder.seen == [edited_text]


@pytest.mark.slow
def test_second_build_embeds_nothing_and_leaves_the_store_identical(second_builds, clean_build):
    finished = [run for run in second_builds.runs if run.returncode == 0]
    assert finished, [run.stderr[-1500:] for run in second_builds.runs]
    for run in finished:
        assert run.stored == 0 and run.encoded == 0, "the same input was embedded again"
        assert "reused" in run.stderr
    assert store_digest(second_builds.out / "narrative.duckdb") == second_builds.before
    assert (second_builds.out / "shares.csv").read_bytes() == (clean_build.out / "shares.csv").read_bytes()

"""Same input and seed give identical assignments: in two processes, and whatever the input order.

No thread setting is needed for this: with a seed, UMAP runs single-threaded (its result does not
depend on the number of numba threads), HDBSCAN and the centroid assignment are deterministic, and
the embeddings (bf16 or fp32, whichever ``auto`` picks) come out the same for the same texts and thread count. Vectors
embedded with another torch thread count may differ in the last bits; they are cached per text, so
re-fitting a store never re-embeds.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

_FIT_IN_A_PROCESS = r"""
import hashlib, sys
from narrative.codebook import load_codebook
from narrative.embed import load_embedder
from narrative.model import NarrativeModel
from narrative.sample import generate_demo_corpus

corpus = generate_demo_corpus(11, n_weeks=12, articles_per_outlet_week=1)
texts = sorted({p["text"] for a in corpus.articles for p in a["paragraphs"]})
emb = load_embedder()
model = NarrativeModel(load_codebook(), embedder=emb, random_state=5).fit(texts, emb.encode(texts))
labels = dict(zip(model.narratives_["narrative_id"], model.narratives_["label"]))
print(hashlib.sha256("|".join(labels.get(t, "unassigned") for t in model.topics_).encode()).hexdigest())
"""


def test_two_processes_give_identical_assignments():
    # Both processes at once (they share nothing): the wait is one process's, not two.
    env = {**__import__("os").environ, "HF_HUB_OFFLINE": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", _FIT_IN_A_PROCESS], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    digests = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-2000:]
        digests.append(stdout.strip().splitlines()[-1])
    assert digests[0] == digests[1] and len(digests[0]) == 64


def test_input_order_does_not_change_assignments(tmp_path, embedder):
    from narrative.codebook import load_codebook
    from narrative.config import Settings
    from narrative.pipeline import ingest_articles as ingest
    from narrative.runs import fit_run
    from narrative.sample import generate_demo_corpus
    from narrative.store import Store

    corpus = generate_demo_corpus(12, n_weeks=12, articles_per_outlet_week=1)
    records = [
        {"id": a["id"], "outlet": a["outlet"], "date": a["date"].isoformat(), "title": a["title"],
         "url": a["url"], "text": a["text"]}
        for a in corpus.articles
    ]
    results = []
    for name, ordered in (("forward", records), ("reversed", records[::-1])):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in ordered) + "\n", encoding="utf-8")
        with Store(tmp_path / f"{name}.duckdb") as store:
            ingest([path], store, settings=Settings(seed=3))
            fit = fit_run(store, settings=Settings(seed=3), codebook=load_codebook(), embedder=embedder)
            labels = dict(zip(fit.narratives["narrative_id"], fit.narratives["label"]))
            results.append(
                {pid: labels[n] for pid, n in zip(fit.assignments["paragraph_id"], fit.assignments["narrative_id"])}
            )
    assert results[0] == results[1]


@pytest.mark.slow
def test_run_measures_its_own_stability_across_seeds_when_asked(tmp_path, embedder):
    from narrative.codebook import load_codebook
    from narrative.config import Settings
    from narrative.pipeline import ingest_articles as ingest
    from narrative.runs import fit_run
    from narrative.report.sections import stability_sentence
    from narrative.sample import generate_demo_corpus
    from narrative.store import Store

    corpus = generate_demo_corpus(4, n_weeks=12, articles_per_outlet_week=1)
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(
        {"id": a["id"], "outlet": a["outlet"], "date": a["date"].isoformat(), "text": a["text"]})
        for a in corpus.articles) + "\n", encoding="utf-8")
    settings = Settings(seed=3, stability_seeds=1)
    with Store(tmp_path / "s.duckdb") as store:
        ingest([path], store, settings=settings)
        fit = fit_run(store, settings=settings, codebook=load_codebook(), embedder=embedder)
        stability = store.run(fit.run_id)["stats"]["stability"]
    assert stability["n_seeds"] == 2 and stability["ari_min"] == stability["ari_mean"]
    assert stability["ari_mean"] >= 0.9, stability
    assert "mean ARI" in stability_sentence({"stability": stability})

"""Stability of narrative assignments across seeds and tiny perturbations, next to plain BERTopic.

Usage: python benchmarks/stability.py STORE.duckdb [--seeds 42 43 44] [--no-codebook] [--plain]

Reads paragraphs and their cached all-MiniLM-L6-v2 embeddings from a store written by
`narrative build`, fits the model once per seed and once on embeddings plus 1e-7 noise, and
prints the adjusted Rand index between every pair of runs (paragraph assignments, -1 included as a
cluster of its own), with the number of narratives and the unassigned share of each run.
With --plain it does the same for BERTopic with default settings on the same embeddings.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
from sklearn.metrics import adjusted_rand_score


def load(store_path: str):
    from narrative.config import DEFAULT_EMBEDDING_MODEL
    from narrative.store import Store

    with Store(store_path, read_only=True) as st:
        paragraphs = st.paragraphs().drop_duplicates("text_hash").sort_values("text_hash")
        vectors = st.get_embeddings(paragraphs["text_hash"].tolist(), DEFAULT_EMBEDDING_MODEL)
    return paragraphs["text"].tolist(), vectors


def fit_narrative(texts, vectors, seed, codebook, embedder):
    from narrative.config import Settings
    from narrative.model import NarrativeModel

    model = NarrativeModel.from_settings(Settings(seed=seed), codebook=codebook, embedder=embedder)
    return model.fit(texts, vectors).topics_


def fit_plain(texts, vectors, seed, embedder):
    from bertopic import BERTopic
    from umap import UMAP

    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed)
    model = BERTopic(embedding_model=embedder.model, umap_model=umap_model)
    topics, _ = model.fit_transform(texts, embeddings=vectors)
    return np.asarray(topics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--no-codebook", action="store_true")
    parser.add_argument("--plain", action="store_true", help="also measure plain BERTopic")
    args = parser.parse_args()

    from narrative.codebook import load_codebook
    from narrative.embed import load_embedder

    texts, vectors = load(args.store)
    embedder = load_embedder()
    codebook = None if args.no_codebook else load_codebook()
    noisy = vectors + np.random.default_rng(0).normal(0, 1e-7, vectors.shape).astype(np.float32)
    print(f"{len(texts)} distinct paragraphs from {args.store}")

    systems = [("narrative", lambda v, s: fit_narrative(texts, v, s, codebook, embedder))]
    if args.plain:
        systems.append(("plain BERTopic", lambda v, s: fit_plain(texts, v, s, embedder)))
    for name, fit in systems:
        runs = {}
        for seed in args.seeds:
            start = time.perf_counter()
            runs[f"seed {seed}"] = fit(vectors, seed)
            print(f"{name} seed {seed}: {time.perf_counter() - start:.1f}s")
        runs[f"seed {args.seeds[0]} +1e-7 noise"] = fit(noisy, args.seeds[0])
        print(f"\n{name}")
        for key, topics in runs.items():
            print(f"  {key:<24} narratives {len(set(topics.tolist()) - {-1}):>4}  "
                  f"unassigned {np.mean(topics == -1):.1%}")
        for (a, ta), (b, tb) in itertools.combinations(runs.items(), 2):
            print(f"  ARI {a} vs {b}: {adjusted_rand_score(ta, tb):.3f}")


if __name__ == "__main__":
    main()

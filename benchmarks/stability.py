"""Stability of narrative assignments across seeds and tiny perturbations, next to plain BERTopic.

Usage: python benchmarks/stability.py STORE.duckdb [--seeds 42 43 44] [--no-codebook] [--plain]
                                     [--model-id ID] [--batch-sizes 32 64] [--umap-timing N]

Reads paragraphs and their cached embeddings (``--model-id``, default the ones `narrative build`
stores with default settings on this CPU: all-MiniLM-L6-v2, ``@bf16`` where ``auto`` picks bf16)
from a store written by `narrative build`, fits the model once per seed and once on embeddings
plus 1e-7 noise, and prints the adjusted Rand index between every pair of runs (paragraph
assignments, -1 included as a cluster of its own), with the number of narratives and the
unassigned share of each run. With --plain it does the same for BERTopic with default settings on
the same embeddings. With --batch-sizes it also embeds the texts afresh at each batch size (the
default precision) and compares fits on those. With --umap-timing N it times UMAP on N of the
vectors with a fixed random_state (single-threaded) and without one (all numba threads).
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
from sklearn.metrics import adjusted_rand_score


def load(store_path: str, model_id: str):
    from narrative.store import Store

    with Store(store_path, read_only=True) as st:
        paragraphs = st.paragraphs().drop_duplicates("text_hash").sort_values("text_hash")
        vectors = st.get_embeddings(paragraphs["text_hash"].tolist(), model_id)
    return paragraphs["text"].tolist(), vectors


def time_umap(vectors: np.ndarray, n: int) -> None:
    """Seeded UMAP runs single-threaded; free UMAP uses every numba thread. Time both."""
    import numba
    from umap import UMAP

    x = vectors[np.random.default_rng(0).choice(len(vectors), size=min(n, len(vectors)), replace=False)]
    kwargs = dict(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine")
    UMAP(random_state=0, **kwargs).fit(x[:2000])  # compile numba functions outside the timings
    UMAP(**kwargs).fit(x[:2000])
    for name, extra in (("seeded (random_state=42)", {"random_state": 42}), ("free (n_jobs=-1)", {})):
        start = time.perf_counter()
        UMAP(**kwargs, **extra).fit(x)
        print(f"UMAP on {len(x)} points, {name}: {time.perf_counter() - start:.1f}s "
              f"({numba.get_num_threads()} numba threads available)")


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
    parser.add_argument("--model-id", default=None, help="embeddings to read (default: the default settings' key)")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[])
    parser.add_argument("--umap-timing", type=int, default=0, metavar="N")
    args = parser.parse_args()

    from narrative.codebook import load_codebook
    from narrative.embed import load_embedder

    embedder = load_embedder()  # default settings: its model_id is the key `build` stores under
    texts, vectors = load(args.store, args.model_id or embedder.model_id)
    if args.umap_timing:
        time_umap(vectors, args.umap_timing)
        return
    rebatched = {}
    for size in args.batch_sizes:
        start = time.perf_counter()
        rebatched[size] = load_embedder(batch_size=size).encode(texts)
        print(f"embedded at batch size {size} ({embedder.model_id}): {time.perf_counter() - start:.1f}s")
    if len(rebatched) >= 2:
        a, b = list(rebatched.values())[:2]
        print(f"max |difference| between batch sizes: {np.abs(a - b).max():.2e}")
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
        for size, vecs in rebatched.items():
            runs[f"seed {args.seeds[0]} batch {size}"] = fit(vecs, args.seeds[0])
        print(f"\n{name}")
        for key, topics in runs.items():
            print(f"  {key:<24} narratives {len(set(topics.tolist()) - {-1}):>4}  "
                  f"unassigned {np.mean(topics == -1):.1%}")
        scores = []
        for (a, ta), (b, tb) in itertools.combinations(runs.items(), 2):
            scores.append(adjusted_rand_score(ta, tb))
            print(f"  ARI {a} vs {b}: {scores[-1]:.3f}")
        seed_keys = [f"seed {s}" for s in args.seeds]
        across = [adjusted_rand_score(runs[a], runs[b]) for a, b in itertools.combinations(seed_keys, 2)]
        if across:
            print(f"  across seeds: min ARI {min(across):.3f}, mean {np.mean(across):.3f}")


if __name__ == "__main__":
    main()

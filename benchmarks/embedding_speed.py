"""Embedding throughput and agreement with fp32 for each precision option, side by side.

Usage: python benchmarks/embedding_speed.py [STORE.duckdb | CORPUS.jsonl] [--n 1024] [--repeats 2]

Takes ``n`` paragraphs (from a built store, or the demo generator when no path is given), embeds
them with every option in alternation (so machine noise hits all options alike), and prints
paragraphs/s, the ratio to fp32, the minimum and median cosine to the fp32 vectors and the mean
kNN@10 overlap with fp32 neighbourhoods, and marks the option ``Settings.precision`` uses by
default (``auto``: bf16 where the CPU has native bf16, else fp32). The pass rule for a default:
cosine >= 0.999 and kNN@10 overlap >= 0.95; the fastest option that passes should be the one
``auto`` picks on that CPU.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def sample_texts(path: str | None, n: int) -> list[str]:
    if path and path.endswith(".duckdb"):
        from narrative.store import Store

        with Store(path, read_only=True) as st:
            texts = st.paragraphs()["text"].drop_duplicates().tolist()
    else:
        from narrative.sample import generate_demo_corpus

        corpus = generate_demo_corpus(0)
        texts = sorted({p["text"] for a in corpus.articles for p in a["paragraphs"]})
    rng = np.random.default_rng(0)
    return [texts[i] for i in rng.choice(len(texts), size=min(n, len(texts)), replace=False)]


def knn_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    na = np.argsort(-(a @ a.T), axis=1)[:, 1 : k + 1]
    nb = np.argsort(-(b @ b.T), axis=1)[:, 1 : k + 1]
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(na, nb)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?")
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import torch

    from narrative.config import Settings
    from narrative.embed.sentence import PRECISIONS, SentenceEmbedder

    texts = sample_texts(args.source, args.n)
    embedders = {p: SentenceEmbedder(precision=p) for p in PRECISIONS}
    seconds = {p: 0.0 for p in PRECISIONS}
    vectors = {}
    for _ in range(args.repeats):
        for p, emb in embedders.items():
            start = time.perf_counter()
            vectors[p] = emb.encode(texts)
            seconds[p] += time.perf_counter() - start
    print(f"{len(texts)} paragraphs, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.repeats} alternating repeats")
    print(f"{'option':<8}{'par/s':>8}{'x fp32':>8}{'cos min':>10}{'cos med':>10}{'kNN@10':>8}"
          f"{'passes':>8}{'default':>9}")
    ref = vectors["fp32"]
    base = len(texts) * args.repeats / seconds["fp32"]
    default = Settings().precision
    passing = {}
    for p in PRECISIONS:
        rate = len(texts) * args.repeats / seconds[p]
        cos = np.sum(ref * vectors[p], axis=1)
        knn = knn_overlap(ref, vectors[p])
        passing[p] = rate if cos.min() >= 0.999 and knn >= 0.95 else None
        print(f"{p:<8}{rate:>8.1f}{rate / base:>8.2f}{cos.min():>10.5f}{np.median(cos):>10.5f}"
              f"{knn:>8.3f}{'yes' if passing[p] else 'no':>8}{'*' if p == default else '':>9}")
    fastest = max((p for p in passing if passing[p]), key=lambda p: passing[p])
    from narrative.runtime.cpu import _this_cpu_bf16_is_faster

    faster = _this_cpu_bf16_is_faster()
    print(f"bf16 faster by the CPU rule (narrative/runtime/cpu.py): {'yes' if faster else 'no'}; default precision"
          f" (Settings.precision, auto): {default}; fastest passing option: {fastest}"
          + ("" if fastest == default else "  <-- the default should change"))


if __name__ == "__main__":
    main()

"""Exact cosine neighbours (narrative.model.neighbours) against pynndescent, as UMAP would run it.

Usage: python benchmarks/neighbours.py [--sizes 30000 60000 100000] [--vectors FILE.npy]

For each size it prints the seconds of :func:`narrative.model.neighbours.exact_cosine_knn` (15
neighbours, in this process) and of pynndescent's ``NNDescent`` with UMAP's settings for a seeded
fit (cosine, one thread, ``low_memory``) in a fresh process, because a fit pays its numba
compiling every time, and the share of the true 15 neighbours pynndescent finds (500 rows
checked). This is what sets ``EXACT_KNN_MAX``. Vectors: rows of ``--vectors`` (e.g. saved
paragraph embeddings), repeated with small noise up to each size, or seeded clustered random
unit vectors of 384 dimensions.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

K = 15

_PYNNDESCENT = """
import json, sys, time
import numpy as np
x = np.load(sys.argv[1])
started = time.perf_counter()
from pynndescent import NNDescent
index = NNDescent(x, metric="cosine", n_neighbors=int(sys.argv[2]), random_state=42,
                  low_memory=True, n_jobs=1, compressed=False)
indices, _ = index.neighbor_graph
print(json.dumps({"seconds": time.perf_counter() - started}))
np.save(sys.argv[3], indices)
"""


def vectors_of_size(n: int, base: np.ndarray | None, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if base is None:  # 200 clusters in 384 dimensions
        centres = rng.normal(size=(200, 384))
        base = centres[rng.integers(0, 200, n)] + rng.normal(scale=0.8, size=(n, 384))
        return base.astype(np.float32)
    reps = -(-n // len(base))
    tiles = [base + rng.normal(0, 0.01, base.shape) for _ in range(reps)]
    return np.vstack(tiles)[:n].astype(np.float32)


def recall(found: np.ndarray, x: np.ndarray, rows: np.ndarray) -> float:
    """Share of each checked row's true K neighbours (by brute force) that ``found`` holds."""
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = unit[rows] @ unit.T
    true = np.argsort(-sims, axis=1, kind="stable")[:, :K]
    return float(np.mean([len(set(t) & set(found[r])) / K for t, r in zip(true, rows)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30_000, 60_000, 100_000])
    parser.add_argument("--vectors", type=Path)
    args = parser.parse_args()
    from narrative.model.neighbours import EXACT_KNN_MAX, exact_cosine_knn

    base = np.load(args.vectors).astype(np.float32) if args.vectors else None
    print(f"vectors: {args.vectors or 'seeded clustered random, 384 dimensions'}; "
          f"EXACT_KNN_MAX = {EXACT_KNN_MAX:,}\n")
    print("| rows | exact s | pynndescent s (fresh process) | pynndescent recall@15 |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            x = vectors_of_size(n, base)
            started = time.perf_counter()
            exact_cosine_knn(x, K)
            exact = time.perf_counter() - started
            data, out = Path(tmp) / "x.npy", Path(tmp) / "knn.npy"
            np.save(data, x)
            done = subprocess.run([sys.executable, "-c", _PYNNDESCENT, str(data), str(K), str(out)],
                                  capture_output=True, text=True, check=True)
            seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
            rows = np.random.default_rng(1).choice(n, min(500, n), replace=False)
            print(f"| {n:,} | {exact:.1f} | {seconds:.1f} | "
                  f"{recall(np.load(out), x, rows):.3f} |", flush=True)


if __name__ == "__main__":
    main()

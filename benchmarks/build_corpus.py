"""Run `narrative build` on one corpus and print wall time per stage, throughput and peak memory.

Usage: python benchmarks/build_corpus.py SOURCE [--manifest CSV] [--out DIR] [--seed N]

Prints one table; the figures are this machine's, measured in this process (imports and model
load included in the stage they happen in).
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--manifest", type=Path)
    parser.add_argument("--out", type=Path, default=Path("out/benchmark"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", default="html,pdf")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    from narrative.config import Settings
    from narrative.pipeline import build
    from narrative.progress import progress_bar

    imports = time.perf_counter() - start
    result = build(
        [args.source], args.out, manifest=args.manifest, settings=Settings(seed=args.seed),
        formats=args.format.split(","), progress=lambda d, n: progress_bar(d, n),
        echo=lambda s: print(s, file=sys.stderr),
    )
    total = time.perf_counter() - start
    n_par = result.ingest.n_paragraphs
    print(f"machine: {platform.machine()}, {platform.python_version()}, "
          f"{__import__('os').cpu_count()} cores")
    print(f"corpus: {args.source} — {result.ingest.n_ingested} articles, {n_par} paragraphs, "
          f"{result.fit.n_embedded} embedded this run")
    print(f"{'stage':<14}{'seconds':>10}")
    print(f"{'imports':<14}{imports:>10.1f}")
    for stage, seconds in result.timings.items():
        print(f"{stage:<14}{seconds:>10.1f}")
    print(f"{'total':<14}{total:>10.1f}")
    if result.timings.get("embed"):
        print(f"embedding: {result.fit.n_embedded / result.timings['embed']:.1f} paragraphs/s")
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

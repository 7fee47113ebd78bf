"""Ingest throughput and dedup time on a corpus (default: ../shared/corpora/ukraine_media_2022).

Usage: ``python benchmarks/ingest_throughput.py [SOURCE ...] [--batch N] [--store FILE]``.
Runs the streaming ingest (:func:`narrative.ingest.stream.ingest_into_store`) into a fresh
store (a temporary file unless ``--store``) and prints articles/s over the whole ingest, the
time of each step (reading + cleaning + metadata + boilerplate, article dedup, segmentation,
paragraph dedup, store writes), the copies found, CPU time (the fair figure on a shared
machine) and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from narrative.ingest.stream import ingest_into_store
from narrative.store import Store

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "ukraine_media_2022"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", default=[str(DEFAULT)])
    parser.add_argument("--batch", type=int, default=2000, help="articles per batch")
    parser.add_argument("--store", default=None, help="store file (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.store or str(Path(folder) / "bench.duckdb")
        with Store(path) as store:
            start, cpu = time.perf_counter(), time.process_time()
            summary = ingest_into_store(args.sources, store, batch_articles=args.batch)
            total, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"read {summary.n_read:,}, ingested {summary.n_ingested:,}, rejected "
          f"{summary.n_rejected:,}; {summary.n_paragraphs:,} paragraphs")
    print(f"total {total:.1f} s wall = {summary.n_ingested / total:,.0f} articles/s; "
          f"{cpu:.1f} s CPU = {summary.n_ingested / cpu:,.0f} articles per CPU-second "
          f"(peak RSS {peak:,.0f} MiB)")
    for step, seconds in summary.seconds.items():
        print(f"  {step}: {seconds:.1f} s wall")
    print(f"article copies: {summary.n_article_copies:,}; paragraph copies: "
          f"{summary.n_paragraph_copies:,}")


if __name__ == "__main__":
    main()

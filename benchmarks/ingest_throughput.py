"""Ingest throughput and dedup time on a corpus (default: ../shared/corpora/ukraine_media_2022).

Usage: ``python benchmarks/ingest_throughput.py [SOURCE ...] [--limit N]``. Prints articles/s for
reading + cleaning + metadata + boilerplate, then the time for segmentation and for exact +
MinHash dedup at article and paragraph level, with the number of copies found.
"""

from __future__ import annotations

import argparse
import itertools
import time
import resource
from pathlib import Path

from narrative.dedup import mark_duplicate_articles, mark_duplicate_paragraphs
from narrative.ingest import IngestOptions, iter_records, load_rules
from narrative.schema import Article
from narrative.segment import segment_articles

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "ukraine_media_2022"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", default=[str(DEFAULT)])
    parser.add_argument("--limit", type=int, default=None, help="read at most N records")
    args = parser.parse_args()
    warnings: list[str] = []
    removed: list[dict] = []
    options = IngestOptions(rules=load_rules())
    start = time.perf_counter()
    records = itertools.islice(iter_records(args.sources, options=options, warnings=warnings,
                                            removed=removed), args.limit)
    articles, n_read = [], 0
    for record in records:
        n_read += 1
        if isinstance(record, Article):
            articles.append(record)
    read_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    chars = sum(len(a.text) for a in articles)
    print(f"read+clean+metadata+boilerplate: {n_read} records, {len(articles)} articles, "
          f"{chars / 1e6:.1f} M chars in {read_s:.2f} s = {len(articles) / read_s:,.0f} articles/s "
          f"(peak RSS {peak:,.0f} MiB; {len(removed)} boilerplate cuts)")
    t = time.perf_counter()
    linked = mark_duplicate_articles(articles)
    art_s = time.perf_counter() - t
    t = time.perf_counter()
    paragraphs = segment_articles(linked)
    seg_s = time.perf_counter() - t
    t = time.perf_counter()
    paragraphs = mark_duplicate_paragraphs(paragraphs, [a.article_id for a in linked])
    par_s = time.perf_counter() - t
    n_art = sum(a.duplicate_of is not None for a in linked)
    n_par = sum(p.duplicate_of is not None for p in paragraphs)
    print(f"article dedup: {art_s:.2f} s, {n_art} copies of {len(linked)}")
    print(f"segmentation: {seg_s:.2f} s, {len(paragraphs)} paragraphs")
    print(f"paragraph dedup: {par_s:.2f} s, {n_par} copies of {len(paragraphs)}")


if __name__ == "__main__":
    main()

"""Adding articles to a big store: copy-detection sketches read from the store vs made again.

Usage: python benchmarks/sketch_reuse.py [SOURCE --store STORE.duckdb] [--new 100] [--rounds 2]
       [--work DIR]

``STORE`` is a store built from the JSONL corpus ``SOURCE`` (only copied, never changed). Without
them a demo corpus of about 4,000 articles is generated and ingested into a fresh store first.

1. *Prepare*: copy the store and fill its sketch tables: an ingest of ``SOURCE`` that visits every
   stored article, as the first ingest adding articles to a store from before the tables does.
2. *Time*, alternating the two ways ``--rounds`` times each, each run in a fresh process on a
   fresh copy of the prepared store: ``ingest_into_store([SOURCE, NEW])``, ``NEW`` being ``--new``
   demo-generator articles dated in the week after the corpus (``incremental.py``'s), with

   - *stored sketches*: the prepared store as it is;
   - *made again*: its sketch tables emptied first (the path of a store from before them, which
     re-reads, re-sketches and re-segments every stored article, as every ingest did before).

Prints each run's ingest wall time and steps, the ratio of the medians, whether every run gave
the same copy links and counts, and the sketch tables' size on disk per article and paragraph.
Another job on the machine slows both ways alike: read the ratio, not the absolute times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WAYS = ("stored sketches", "made again")


def links_digest(store) -> str:
    """A hash of every article's and paragraph's ``duplicate_of`` link."""
    digest = hashlib.sha256()
    for table, key in (("articles", "article_id"), ("paragraphs", "paragraph_id")):
        rows = store.con.execute(
            f"SELECT {key}, coalesce(duplicate_of, '') FROM {table} ORDER BY {key}").fetchall()
        digest.update(json.dumps(rows).encode())
    return digest.hexdigest()[:16]


def one_run(way: str, store_path: Path, sources: list[Path]) -> dict:
    """Run in a child process: one ingest into ``store_path``; returns its figures."""
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    with Store(store_path) as store:
        if way == "made again":
            store.con.execute("DELETE FROM article_sketches").fetchall()
            store.con.execute("DELETE FROM paragraph_sketches").fetchall()
            store.con.execute("DELETE FROM meta WHERE key = 'sketch_params'").fetchall()
        start = time.perf_counter()
        summary = ingest_into_store(sources, store)
        wall = time.perf_counter() - start
        return {"way": way, "wall": wall, "steps": summary.seconds, "links": links_digest(store),
                "counts": [summary.n_new_articles, summary.n_new_paragraphs,
                           summary.n_article_copies, summary.n_paragraph_copies,
                           summary.n_paragraphs]}


def fill_sketches(store_path: Path, source: Path) -> dict:
    """Visit every stored article of ``source`` once (the ingest skips stored corpora otherwise),
    which writes the sketches a store from before the sketch tables lacks."""
    from narrative.ingest import stream
    from narrative.store import Store

    stream._all_stored = lambda *args: False  # this process only: go through every article
    with Store(store_path) as store:
        start = time.perf_counter()
        summary = stream.ingest_into_store([source], store)
        return {"wall": time.perf_counter() - start, "new": summary.n_new_articles,
                "articles": store.count("article_sketches"),
                "paragraphs": store.count("paragraph_sketches")}


def table_bytes(store_path: Path, folder: Path) -> dict:
    """Bytes on disk of each sketch table, copied alone into a fresh DuckDB file."""
    import duckdb

    out = {}
    for table in ("article_sketches", "paragraph_sketches"):
        target = folder / f"{table}.duckdb"
        con = duckdb.connect(str(target))
        con.execute(f"ATTACH '{store_path}' AS src (READ_ONLY)")
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM src.{table}")
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        con.execute("DETACH src")
        con.execute("CHECKPOINT")
        con.close()
        empty = folder / "empty.duckdb"
        duckdb.connect(str(empty)).close()
        out[table] = (target.stat().st_size - empty.stat().st_size, rows)
    return out


def demo_store(work: Path) -> tuple[Path, Path]:
    """A demo corpus of about 4,000 articles and a store holding it."""
    from narrative.ingest.stream import ingest_into_store
    from narrative.sample import generate_demo_corpus, write_demo_corpus
    from narrative.store import Store

    corpus = generate_demo_corpus(0, n_weeks=14, articles_per_outlet_week=45)
    source, _ = write_demo_corpus(corpus, work / "corpus")
    store = work / "demo.duckdb"
    with Store(store) as st:
        ingest_into_store([source], st)
    return source, store


def child(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"child run failed with status {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, nargs="?", help="the corpus JSONL STORE holds")
    parser.add_argument("--store", type=Path, help="a store built from SOURCE (copied)")
    parser.add_argument("--new", type=int, default=100, help="articles to add (default 100)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each way (default 2)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--child", nargs=3, metavar=("WAY", "STORE", "SOURCES"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--fill", nargs=2, metavar=("STORE", "SOURCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        way, store, sources = args.child
        print(json.dumps(one_run(way, Path(store), [Path(s) for s in sources.split(os.pathsep)])))
        return
    if args.fill:
        print(json.dumps(fill_sketches(Path(args.fill[0]), Path(args.fill[1]))))
        return
    if (args.source is None) != (args.store is None):
        parser.error("give both SOURCE and --store, or neither (a demo corpus then)")

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from incremental import corpus_last_date, write_new_articles

    work = Path(tempfile.mkdtemp(prefix="sketch-reuse-", dir=args.work))
    try:
        if args.source is None:
            start = time.perf_counter()
            source, base = demo_store(work)
            print(f"demo corpus and store built in {time.perf_counter() - start:.1f} s")
        else:
            source, base = args.source, args.store
        prepared = work / "prepared.duckdb"
        shutil.copy2(base, prepared)
        fill = child(["--fill", str(prepared), str(source)])
        print(f"prepared: the store holds sketches of {fill['articles']} articles and "
              f"{fill['paragraphs']} paragraphs after a {fill['wall']:.1f} s pass over the corpus "
              f"({fill['new']} new articles)")
        new = write_new_articles(args.new, corpus_last_date(source), work / "new")
        sources = os.pathsep.join(map(str, [source, new]))

        runs = []
        for round_ in range(args.rounds):
            order = WAYS if round_ % 2 == 0 else WAYS[::-1]
            for way in order:
                copy = work / "run.duckdb"
                shutil.copy2(prepared, copy)
                run = child(["--child", way, str(copy), sources])
                runs.append(run)
                steps = ", ".join(f"{k} {v:.2f}" for k, v in run["steps"].items())
                print(f"round {round_ + 1} {way:<16} ingest {run['wall']:6.2f} s  ({steps})",
                      flush=True)
                copy.unlink()

        medians = {way: statistics.median(r["wall"] for r in runs if r["way"] == way)
                   for way in WAYS}
        same = len({(r["links"], tuple(r["counts"])) for r in runs}) == 1
        sizes = table_bytes(prepared, work)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        cpu = platform.processor() or platform.machine()
        print(f"\n{source.name} + {args.new} new articles; {cpu}, {os.cpu_count()} cores, "
              f"load average {load:.2f} at the end; "
              f"python {platform.python_version()}, {dt.date.today().isoformat()}")
        for way in WAYS:
            walls = [f"{r['wall']:.2f}" for r in runs if r["way"] == way]
            print(f"  {way:<16} median {medians[way]:6.2f} s  (runs: {', '.join(walls)})")
        ratio = medians["made again"] / medians["stored sketches"]
        print(f"  made again / stored sketches: {ratio:.2f}x")
        print(f"  same links and counts in every run: {'yes' if same else 'NO'}  "
              f"(new articles, new paragraphs, article copies, paragraph copies, paragraphs: "
              f"{runs[0]['counts']})")
        for table, (size, rows) in sizes.items():
            print(f"  {table}: {size / 1e6:.1f} MB on disk for {rows} rows, "
                  f"{size / max(rows, 1):.0f} bytes a row")
        if not same:
            raise SystemExit("the two ways gave different links")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Warm re-runs of `narrative build` on a store that already holds a fitted run (issue 7 targets).

Usage: python benchmarks/incremental.py SOURCE --store STORE.duckdb [--report OUT] [--new 100]
       [--when next-day|next-week] [--new-outlets] [--work DIR]

``STORE`` is a store `narrative build SOURCE` wrote with default settings (for instance the one
``compare_bertopic.py`` leaves in its work folder), ``OUT`` the report folder that build wrote.
The store, the ``models/`` folder beside it and ``OUT`` are copied first, so they are left as they
were; both re-runs write their report into the copy of ``OUT``, as a daily re-run of the same
command does (its report cache then applies; without ``--report`` each re-run starts from an
empty folder and draws every figure). Then, each in a fresh process (imports, model load and
numba cache loads included):

1. *nothing new*: ``narrative build SOURCE --store COPY`` again: ingest finds every article
   known, nothing is embedded, the saved run is reused, drift and the report are rebuilt;
2. *plus N articles*: the same with a second source of N new articles, written here by the demo
   generator (the project's own text): only their paragraphs are embedded, and they are assigned
   with the saved model. By default they are a day's news, as a daily re-run meets it: dated the
   day after the corpus's last date and published by the corpus's outlets still being collected
   (the demo outlets renamed to those with an article in the last 14 days). ``--when next-week`` spreads them over the following week instead (a whole new,
   fully collected week: every time series gains a point) and ``--new-outlets`` keeps the demo
   generator's outlets (new columns in every per-outlet figure); both redraw more of the report.

Prints wall time, the build's own stage timings and its last lines (a refit proposal, if any).
Targets (issue 7, ukraine_media_2022): nothing new <= 60 s, plus 100 articles <= 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

#: An outlet with an article in the corpus's last this many days is still being collected: a
#: day's new articles come from these outlets (an outlet whose collection stopped months earlier
#: would not publish into the next day's batch).
ACTIVE_DAYS = 14


def corpus_facts(source: Path) -> tuple[dt.date, list[str]]:
    """Latest ``date`` of a JSONL corpus (the new articles come after it) and the outlets still
    being collected: those with an article in its last :data:`ACTIVE_DAYS` days, most first."""
    from collections import Counter

    last_of: dict[str, dt.date] = {}
    count: Counter = Counter()
    with source.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                date, outlet = record.get("date"), record.get("outlet")
                if date and outlet:
                    day = dt.date.fromisoformat(str(date)[:10])
                    last_of[str(outlet)] = max(day, last_of.get(str(outlet), day))
                    count[str(outlet)] += 1
    if not last_of:
        raise SystemExit(f"{source}: no article has a date and an outlet")
    last = max(last_of.values())
    active = [o for o in last_of if (last - last_of[o]).days < ACTIVE_DAYS]
    return last, sorted(active, key=lambda o: (-count[o], o))


def write_new_articles(n: int, after: dt.date, out: Path, *, when: str,
                       outlets: list[str] | None) -> Path:
    """``n`` demo-generator articles (the project's own text) dated after ``after``.

    ``when="next-day"``: all on the day after ``after``, as a daily re-run adds a day's articles;
    ``"next-week"``: spread over the week starting the Monday after it. ``outlets``: the demo
    outlets are renamed to these, in turn (the corpus's outlets still being collected); None
    keeps the demo's (outlets the corpus has not seen).
    """
    from narrative.sample import DemoCorpus, generate_demo_corpus, write_demo_corpus

    monday = after + dt.timedelta(days=7 - after.weekday())
    per_week = 1
    while True:
        corpus = generate_demo_corpus(7, n_weeks=1, articles_per_outlet_week=per_week, start=monday)
        if len(corpus.articles) >= n:
            break
        per_week += 1
    demo_outlets = sorted({a["outlet"] for a in corpus.articles})
    rename = {o: outlets[i % len(outlets)] for i, o in enumerate(demo_outlets)} if outlets else {}
    next_day = after + dt.timedelta(days=1)
    articles = []
    for a in corpus.articles[:n]:
        article = dict(a, id=f"new-{a['id']}", outlet=rename.get(a["outlet"], a["outlet"]))
        if when == "next-day":
            article["date"] = next_day
        if article.get("syndicated_from"):
            article["syndicated_from"] = f"new-{article['syndicated_from']}"
        articles.append(article)
    path, _ = write_demo_corpus(DemoCorpus(articles, corpus.truth, corpus.changepoints), out)
    return path


def timed_build(sources: list[Path], store: Path, out: Path,
                server: Path | None = None) -> tuple[float, list[str]]:
    """One `narrative build` in a fresh process, or sent to the `narrative serve` on ``server``."""
    cmd = [sys.executable, "-m", "narrative", "build", *map(str, sources), "--store", str(store),
           "--out", str(out)]
    env = {**os.environ, "NARRATIVE_SERVER": str(server) if server else "off"}
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"build failed with status {done.returncode}")
    return wall, [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]


def reused_line(html: Path) -> str:
    """The report's own count of figures and scores reused from the last report, if it says."""
    import re

    if not html.is_file():
        return ""
    found = re.search(r"(\d+ of \d+ figures and scores)", html.read_text(encoding="utf-8"))
    return f"; reused {found.group(1)}" if found else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the corpus JSONL the store was built from")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--report", type=Path,
                        help="the report folder of the build that wrote STORE (copied)")
    parser.add_argument("--new", type=int, default=100, help="articles to add (default 100)")
    parser.add_argument("--when", choices=["next-day", "next-week"], default="next-day",
                        help="date the new articles on the day after the corpus's last date "
                             "(default) or over the following week")
    parser.add_argument("--new-outlets", action="store_true",
                        help="keep the demo generator's outlets (default: the corpus's outlets "
                             "still being collected)")
    parser.add_argument("--work", type=Path, default=Path("out/incremental"))
    parser.add_argument("--serve", action="store_true",
                        help="send both re-runs to a `narrative serve` started first (its start-up "
                             "is not timed) instead of fresh processes")
    args = parser.parse_args()
    if not args.store.exists():
        raise SystemExit(f"{args.store}: no such store; build one first with narrative build")

    if args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True)
    store = args.work / "store.duckdb"
    shutil.copy2(args.store, store)
    models = args.store.parent / "models"  # the saved models live beside the store
    if models.is_dir():
        shutil.copytree(models, args.work / "models")
    last, corpus_outlets = corpus_facts(args.source)
    new = write_new_articles(args.new, last, args.work / "new", when=args.when,
                             outlets=None if args.new_outlets else corpus_outlets)
    report = None
    if args.report is not None:
        if not args.report.is_dir():
            raise SystemExit(f"{args.report}: no such report folder")
        report = args.work / "report"
        shutil.copytree(args.report, report)

    server = sock = None
    if args.serve:
        from resident import start_server

        server, sock, ready = start_server(args.work)
        print(f"narrative serve ready after {ready:.1f} s (not timed below)")
    rows = []
    for label, sources, target in [
        ("nothing new", [args.source], 60),
        (f"plus {args.new} articles", [args.source, new], 30),
    ]:
        out = report or args.work / label.replace(" ", "_")
        wall, lines = timed_build(sources, store, out, sock)
        stages = next((line for line in lines if line.startswith("stages:")), "stages: ?")
        reused = reused_line(out / "report.html")
        rows.append((label, wall, target, stages + reused,
                     [l for l in lines if "refit" in l.lower()]))

    if server is not None:
        server.terminate()
        server.wait()
    print(f"{args.source.name}; store {args.store.name}; report folder "
          f"{'copied from the build' if report else 'new for each re-run'}; "
          f"{platform.processor() or platform.machine()}, python {platform.python_version()}; "
          f"{'served by narrative serve' if server else 'fresh processes'}")
    print(f"new articles: {args.new}, dated {args.when} after {last}, "
          f"{'demo generator outlets' if args.new_outlets else 'from ' + ', '.join(corpus_outlets)}")
    print(f"{'re-run':<22}{'wall s':>8}{'target s':>10}  met")
    for label, wall, target, _, _ in rows:
        print(f"{label:<22}{wall:>8.1f}{target:>10}  {'yes' if wall <= target else 'no'}")
    for label, _, _, stages, refit in rows:
        print(f"{label}: {stages}")
        for line in refit:
            print(f"  {line}")


if __name__ == "__main__":
    main()

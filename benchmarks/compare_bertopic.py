"""Plain BERTopic next to narrative's `build`, side by side on the same paragraphs (issue 7).

Usage:
    python benchmarks/compare_bertopic.py --corpus ukraine [--source DIR_OR_JSONL]
    python benchmarks/compare_bertopic.py --corpus demo --paragraphs 10000
    options: [--work DIR] [--markdown FILE | --no-markdown] [--note TEXT]

One invocation runs, each in its own fresh Python process (so start-up, imports and peak RSS are
per system):

(b) narrative: ``narrative.pipeline.build`` with ``Settings()`` and the default codebook, html +
    pdf report, on a fresh store. Its ingest defines the paragraphs (narrative's segmentation).
(a) plain BERTopic as a user writes it, on every paragraph text narrative stored (duplicates
    included: a user does not dedup): ``SentenceTransformer`` all-MiniLM-L6-v2 (the packaged
    weights, fp32, default settings), ``embeddings = model.encode(docs)``, then
    ``BERTopic(embedding_model=model).fit_transform(docs, embeddings)``. It gets the paragraphs
    already segmented, so it pays no ingest.

A warm-up process imports both stacks first (untimed) so neither pays cold disk reads. Both
systems' topics are then scored here by ``narrative.evaluate.evaluate_topics`` (NPMI, diversity)
against one reference corpus: all the paragraph texts. Prints a table with the ratios
plain / narrative and appends it, dated, with the machine's description and load average, to
``benchmarks/RESULTS.md``. Skips politely, exit status 0, when the ukraine corpus is absent.
"""

from __future__ import annotations

import time

_T0 = time.time()  # first statement after the stdlib import: the end of interpreter start-up

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_UKRAINE = REPO.parent / "shared" / "corpora" / "ukraine_media_2022"
DEMO_WEEKS = 14  # the demo's planted design (change points at weeks 6 and 8) spans 14 weeks

#: Stage rows of the table: (key in a result's "stages", label); values are seconds.
STAGES = [
    ("startup", "process start-up + imports s"),
    ("ingest", "ingest + segment s"),
    ("load_model", "model load s"),
    ("embed", "embed s"),
    ("fit", "fit s"),
    ("report", "drift + report (html, pdf) s"),
    ("total", "total wall s"),
]


def peak_rss_mib() -> float:
    """Peak resident memory of this process and its waited-for children (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


# -- the two systems, each run as a worker process ---------------------------------------------
def worker_plain(args) -> dict:
    """Plain BERTopic on the paragraph texts in ``args.texts`` (one JSON string per line)."""
    texts = [json.loads(line) for line in args.texts.read_text(encoding="utf-8").splitlines()]
    stages = {}
    start = time.time()
    from bertopic import BERTopic
    from sentence_transformers import SentenceTransformer

    stages["imports"] = time.time() - start
    start = time.time()
    model = SentenceTransformer(args.model_path)  # a user's "all-MiniLM-L6-v2", packaged copy
    stages["load_model"] = time.time() - start
    start = time.time()
    embeddings = model.encode(texts, show_progress_bar=False)
    stages["embed"] = time.time() - start
    start = time.time()
    topic_model = BERTopic(embedding_model=model)
    topics, _ = topic_model.fit_transform(texts, embeddings)
    stages["fit"] = time.time() - start
    rss = peak_rss_mib()
    words = {
        int(t): [w for w, _ in topic_model.get_topic(t)] for t in sorted(set(topics)) if t != -1
    }
    return {
        "stages": stages, "peak_rss_mib": rss, "n_paragraphs": len(texts),
        "n_embedded": len(texts), "assigned": [int(t) for t in topics], "topics": words,
        "torch_threads": torch_threads(), "device": str(model.device),
    }


def worker_narrative(args) -> dict:
    """narrative's build (defaults, default codebook, html + pdf) into ``args.out``."""
    stages = {}
    start = time.time()
    from narrative.config import Settings
    from narrative.pipeline import build

    stages["imports"] = time.time() - start
    settings = Settings()
    result = build([args.source], args.out, settings=settings, formats=("html", "pdf"))
    rss = peak_rss_mib()
    timings = result.timings
    stages.update(
        ingest=timings.get("ingest", 0.0), load_model=timings.get("load model", 0.0),
        embed=timings.get("embed", 0.0), fit=timings.get("fit", 0.0),
        report=timings.get("drift", 0.0) + timings.get("report", 0.0),
    )
    from narrative.store import Store

    with Store(result.store_path, read_only=True) as store:
        paragraphs = store.paragraphs()[["paragraph_id", "text"]]
        assigned = store.assignments(result.run_id).set_index("paragraph_id")["narrative_id"]
        narratives = store.narratives(result.run_id)
        stats = store.run(result.run_id)["stats"]
    return {
        "stages": stages, "peak_rss_mib": rss, "n_paragraphs": int(len(paragraphs)),
        "n_embedded": int(result.fit.n_embedded),
        "texts": paragraphs["text"].tolist(),
        "assigned": [int(assigned[p]) for p in paragraphs["paragraph_id"]],
        "topics": {
            int(r.narrative_id): list(r.top_terms) for r in narratives.itertuples()
            if int(r.narrative_id) != -1
        },
        "n_named": stats.get("n_named"), "n_discovered": stats.get("n_discovered"),
        "settings": settings.to_dict(), "torch_threads": torch_threads(),
        "build_timings": dict(timings),  # every stage build timed, under its own name
    }


WARM_UP = (
    "import bertopic, sentence_transformers, umap, hdbscan, narrative.pipeline, narrative.model"
)


def run_worker(name: str, extra: list[str], work: Path, *, reuse: bool = False) -> dict:
    """Run one system in a fresh interpreter; its result plus start-up and total wall time.

    With ``reuse``, a result this script saved earlier in ``work`` is read instead (to re-score
    or re-print a long run without repeating it).
    """
    result_path = work / f"{name}.json"
    if not (reuse and result_path.exists()):
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", name,
                   "--result", str(result_path), "--launched-at", repr(time.time()), *extra]
        launched = time.time()
        subprocess.run(command, check=True)
        total = time.time() - launched
        result = json.loads(result_path.read_text(encoding="utf-8"))
        result["wall_s"] = total
        result_path.write_text(json.dumps(result), encoding="utf-8")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    stages = result["stages"]
    stages["startup"] = result["startup_s"] + stages.pop("imports")
    stages["total"] = result["wall_s"]
    return result


# -- corpora -----------------------------------------------------------------------------------
def demo_size(paragraphs: int, settings) -> int:
    """``articles_per_outlet_week`` that gives about ``paragraphs`` narrative paragraphs."""
    from narrative.sample import generate_demo_corpus
    from narrative.segment import segment_article

    probe = generate_demo_corpus(0, n_weeks=DEMO_WEEKS, articles_per_outlet_week=4)
    count = sum(
        len(segment_article(a["id"], a["text"], min_words=settings.min_paragraph_words,
                            window_sentences=settings.window_sentences,
                            max_words=settings.max_paragraph_words))
        for a in probe.articles
    )
    return max(1, round(paragraphs / (count / 4)))


def ukraine_source(args) -> Path | None:
    """The corpus JSONL (a folder's README must not be read as an article); None if absent."""
    source = args.source or DEFAULT_UKRAINE
    if source.is_dir():
        found = sorted(source.glob("*.jsonl"))
        return found[0] if found else None
    return source if source.exists() else None


def prepare_corpus(args, work: Path) -> tuple[Path, str] | None:
    """The input file/folder and a one-line description; None when it is absent."""
    if args.corpus == "ukraine":
        source = ukraine_source(args)
        if source is None:
            return None
        return source, f"ukraine_media_2022 ({source.name})"
    from narrative.config import Settings
    from narrative.sample import generate_demo_corpus, write_demo_corpus

    per_week = demo_size(args.paragraphs, Settings())
    corpus = generate_demo_corpus(
        args.seed, n_weeks=DEMO_WEEKS, articles_per_outlet_week=per_week
    )
    path, _ = write_demo_corpus(corpus, work / "input")
    described = (
        f"demo generator, seed {args.seed}, n_weeks={DEMO_WEEKS}, "
        f"articles_per_outlet_week={per_week} ({len(corpus.articles):,} articles, "
        f"target ~{args.paragraphs:,} paragraphs)"
    )
    return path, described


# -- scoring and output ------------------------------------------------------------------------
def score(texts: list[str], results: dict[str, dict]) -> None:
    """NPMI and diversity of both systems, one function, one reference corpus (all paragraphs)."""
    from narrative.evaluate import evaluate_topics, tokenize_for_npmi

    tokenized = tokenize_for_npmi(texts)
    for result in results.values():
        topics = {int(k): v for k, v in result["topics"].items()}
        result["scores"] = evaluate_topics(texts, topics, result["assigned"], tokenized=tokenized)


def _ratio(a, b) -> str:
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}×"


def table(results: dict[str, dict]) -> str:
    plain, narr = results["plain"], results["narrative"]
    rows = []
    for key, label in STAGES:
        a, b = plain["stages"].get(key), narr["stages"].get(key)
        rows.append((label, "–" if a is None else f"{a:.1f}", f"{b:.1f}", _ratio(a, b)))

    def per_s(r, key):
        seconds = r["stages"][key]
        count = r["n_paragraphs"] if key == "total" else r["n_embedded"]
        return count / seconds if seconds else None

    for key, label in (("total", "paragraphs/s end to end"), ("embed", "embedded paragraphs/s")):
        a, b = per_s(plain, key), per_s(narr, key)
        rows.append((label, f"{a:.1f}", f"{b:.1f}", _ratio(a, b)))
    rows.append(("paragraphs embedded", f"{plain['n_embedded']:,}", f"{narr['n_embedded']:,}",
                 _ratio(plain["n_embedded"], narr["n_embedded"])))
    rows.append(("peak RSS MiB", f"{plain['peak_rss_mib']:.0f}", f"{narr['peak_rss_mib']:.0f}",
                 _ratio(plain["peak_rss_mib"], narr["peak_rss_mib"])))
    for key, label, fmt in (("npmi", "NPMI (gensim c_npmi)", "{:.3f}"),
                            ("npmi_exact", "NPMI, exact counter", "{:.3f}"),
                            ("diversity", "topic diversity", "{:.3f}"),
                            ("n_topics", "topics (excl. -1)", "{:.0f}"),
                            ("unassigned_share", "unassigned share", "{:.1%}")):
        a, b = plain["scores"][key], narr["scores"][key]
        rows.append((label, "–" if a is None else fmt.format(a),
                     "–" if b is None else fmt.format(b), _ratio(a, b)))
    head = "| | plain BERTopic | narrative build | plain / narrative |\n|---|---|---|---|\n"
    return head + "\n".join(f"| {' | '.join(r)} |" for r in rows) + "\n"


def machine_lines(results: dict[str, dict], load: dict[str, tuple]) -> list[str]:
    from topic_quality import machine

    info = machine()
    fmt = lambda la: ", ".join(f"{x:.2f}" for x in la)  # noqa: E731
    return [
        f"- CPU: {info['cpu']}, {info['cores']} cores; memory {info['memory']}; {info['os']};"
        f" Python {info['python']}",
        f"- torch threads: plain {results['plain']['torch_threads']},"
        f" narrative {results['narrative']['torch_threads']};"
        f" plain BERTopic's device: {results['plain']['device']}",
        f"- load average (1, 5, 15 min): start {fmt(load['start'])}, end {fmt(load['end'])}",
    ]


NOTES = (
    "Stage boundaries differ, so compare totals: narrative imports torch and"
    " sentence-transformers lazily inside *model load* and UMAP/HDBSCAN/BERTopic inside *fit*;"
    " the plain script imports them all up front. Plain BERTopic gets narrative's paragraphs"
    " already segmented (no ingest) and writes no report; narrative's total includes ingest,"
    " drift and the html + pdf report. narrative embeds each distinct text once, at the"
    " precision its `Settings()` default names; plain BERTopic embeds every paragraph in fp32."
    " NPMI and diversity: `narrative.evaluate.evaluate_topics` on each system's top-10 terms,"
    " reference corpus = all the paragraph texts (tokenised by CountVectorizer's default"
    " analyzer, stop words kept). Plain BERTopic is unseeded (its default)."
)


def markdown(args, described, results, load, versions, wall, note) -> str:
    """The dated row set appended to RESULTS.md."""
    narr = results["narrative"]
    command = f"python benchmarks/compare_bertopic.py --corpus {args.corpus}"
    if args.corpus == "demo":
        command += f" --paragraphs {args.paragraphs}"
    settings = narr["settings"]
    started = load.get("started_utc")
    when = dt.datetime.fromisoformat(started) if started else dt.datetime.now(dt.timezone.utc)
    lines = [
        f"## {when:%Y-%m-%d %H:%M} UTC — {args.corpus},"
        f" {narr['n_paragraphs']:,} paragraphs",
        "",
        f"Command: `{command}` ({wall / 60:.0f} min in all). Corpus: {described}.",
        f"narrative: {narr['n_named']} named + {narr['n_discovered']} discovered narratives;"
        f" settings precision={settings.get('precision')}, batch_size={settings.get('batch_size')},"
        f" seed={settings.get('seed')}. git {versions.get('git', '?')}.",
        "",
        table(results),
        NOTES,
        "",
        "Machine:",
        "",
        *machine_lines(results, load),
        *([f"- {note}"] if note else []),
        "- versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items()) if k != "git"),
        "",
    ]
    return "\n".join(lines)


def git_state() -> str:
    """Short commit and whether the working tree had uncommitted changes (others' work)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, text=True, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = [line[3:] for line in dirty.splitlines()]
    code = [c for c in changed if c.startswith("narrative/")]
    if not changed:
        return head
    return head + f" + {len(changed)} uncommitted files" + (
        f" (narrative/: {', '.join(c[len('narrative/'):] for c in code)})" if code else ""
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("ukraine", "demo"), default="demo")
    parser.add_argument("--source", type=Path, help="ukraine_media_2022 folder or JSONL")
    parser.add_argument("--paragraphs", type=int, default=10_000, help="demo size (about)")
    parser.add_argument("--seed", type=int, default=0, help="demo generator seed")
    parser.add_argument("--work", type=Path, default=Path("out/compare_bertopic"))
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-markdown", action="store_true", help="print only")
    parser.add_argument("--note", default="", help="a line for RESULTS.md (e.g. shared machine)")
    parser.add_argument("--reuse", action="store_true",
                        help="re-score and re-print the results saved in the work folder")
    # worker mode (internal): one system in this process
    parser.add_argument("--worker", choices=("plain", "narrative"), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--launched-at", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model-path", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        result = (worker_plain if args.worker == "plain" else worker_narrative)(args)
        result["startup_s"] = _T0 - args.launched_at
        args.result.write_text(json.dumps(result), encoding="utf-8")
        return 0

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    if args.corpus == "ukraine" and ukraine_source(args) is None:
        print(f"skipped: {args.source or DEFAULT_UKRAINE} is not present (no .jsonl there)")
        return 0
    started = time.time()
    load = {"start": os.getloadavg()}
    log(f"load average at start: {load['start']}")
    work = args.work / (args.corpus if args.corpus == "ukraine" else f"demo-{args.paragraphs}")
    if work.exists() and not args.reuse:
        shutil.rmtree(work)  # a fresh store every time
    work.mkdir(parents=True, exist_ok=True)
    prepared = prepare_corpus(args, work)
    if prepared is None:
        print(f"skipped: {args.source or DEFAULT_UKRAINE} is not present")
        return 0
    source, described = prepared
    log(f"corpus: {described}")

    if not args.reuse:
        log("warm-up: importing both stacks once (untimed)")
        subprocess.run([sys.executable, "-c", WARM_UP], check=True)

    log("narrative build (fresh store, default settings and codebook, html + pdf)")
    results = {"narrative": run_worker(
        "narrative", ["--source", str(source), "--out", str(work / "narrative")], work,
        reuse=args.reuse,
    )}
    texts = results["narrative"].pop("texts")
    texts_path = work / "paragraphs.jsonl"
    texts_path.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
    log(f"plain BERTopic on the same {len(texts):,} paragraphs")
    from narrative.embed.sentence import packaged_model_path

    results["plain"] = run_worker(
        "plain", ["--texts", str(texts_path), "--model-path", str(packaged_model_path())], work,
        reuse=args.reuse,
    )
    load_path = work / "load.json"
    if args.reuse and load_path.exists():
        load = json.loads(load_path.read_text(encoding="utf-8"))
    else:
        load["end"] = os.getloadavg()
        load["wall_s"] = time.time() - started
        load["started_utc"] = dt.datetime.fromtimestamp(started, dt.timezone.utc).isoformat()
        load["git"] = git_state()
        load_path.write_text(json.dumps(load), encoding="utf-8")
    log(f"load average at end: {load['end']}; scoring")
    score(texts, results)

    from narrative.labelled import evaluation_versions

    versions = {**evaluation_versions(), "git": load.get("git") or git_state()}
    wall = load["wall_s"]
    text = markdown(args, described, results, load, versions, wall, args.note)
    print(text)
    (work / "scores.json").write_text(json.dumps(
        {k: {**v, "assigned": None} for k, v in results.items()}, indent=1, default=str
    ), encoding="utf-8")
    if not args.no_markdown:
        if not args.markdown.exists():
            args.markdown.write_text("# Plain BERTopic vs narrative build\n\n", encoding="utf-8")
        with args.markdown.open("a", encoding="utf-8") as handle:
            handle.write("\n" + text)
        log(f"appended to {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

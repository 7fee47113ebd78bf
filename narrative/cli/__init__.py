"""The ``narrative`` command: a thin layer that parses options, calls the pipeline, reports errors.

Heavy libraries are imported inside the commands, so ``narrative --help`` is instant.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ._common import (  # noqa: F401 (the options and helpers the commands share)
    _BOILERPLATE, _CODEBOOK, _CONFIG, _DATE_COL, _DAY_FIRST, _FOLLOW_LINKS, _ID_COL,
    _INDEX, _KEEP_BOILERPLATE, _MANIFEST, _OUTLET_COL, _QUIET, _SEED, _SOURCES, _STORE, _TEXT_COL,
    _TITLE_COL, _at_least, _check_address, _check_sources, _command, _duckdb_interrupt, _echo,
    _fail, _formats, _ingest_options, _out_dir, _progress, _report_done, _run, _run_settings,
    _settings, _user_errors,
)

app = typer.Typer(
    name="narrative",
    help="Find narratives in news articles and measure how outlets weight them over time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Markdown: help texts keep their "[default: ...]" (rich markup would take it for a tag and
    # drop it) and docstring paragraphs are re-flowed to the terminal's width.
    rich_markup_mode="markdown",
)

@app.command()
def ingest(
    sources: List[Path] = _SOURCES,
    store: Path = typer.Option(..., "--store", help="DuckDB store file to add the articles to."),
    manifest: Optional[Path] = _MANIFEST,
    config: Optional[Path] = _CONFIG,
    boilerplate: Optional[Path] = _BOILERPLATE,
    keep_boilerplate: bool = _KEEP_BOILERPLATE,
    text_col: Optional[str] = _TEXT_COL,
    date_col: Optional[str] = _DATE_COL,
    outlet_col: Optional[str] = _OUTLET_COL,
    title_col: Optional[str] = _TITLE_COL,
    id_col: Optional[str] = _ID_COL,
    day_first: Optional[bool] = _DAY_FIRST,
    follow_links: bool = _FOLLOW_LINKS,
) -> None:
    """Read articles into a store (clean, split paragraphs, link copies), printing a summary.

    Example: narrative ingest articles/ --store news.duckdb --manifest articles/manifest.csv
    """
    _check_sources(sources)

    def go():
        from ..pipeline import ingest_articles
        from ..store import Store

        settings = _settings(config)
        with Store(store) as st:
            summary = ingest_articles(
                sources, st, manifest=manifest, settings=settings,
                options=_ingest_options(
                    boilerplate, keep_boilerplate, day_first, follow_links, text=text_col, date=date_col,
                    outlet=outlet_col, title=title_col, id=id_col,
                ),
            )
        _echo(
            f"read {summary.n_read}, ingested {summary.n_ingested} ({summary.n_new_articles} new), "
            f"rejected {summary.n_rejected}, paragraphs {summary.n_paragraphs} "
            f"({summary.n_new_paragraphs} new), warnings {summary.n_warnings}"
        )
        for reason, n in sorted(summary.reasons().items()):
            _echo(f"  rejected ({reason}): {n}")
        for warning in summary.warnings[:20]:
            _echo(f"  warning: {warning}")
        if summary.n_rejected or summary.n_warnings > 20:
            _echo(f"  every reject is kept, with its reason, in the store's rejects table ({store})")
        if summary.n_ingested == 0:
            _fail("nothing could be ingested")

    _run(go)


@app.command()
def build(
    sources: List[Path] = _SOURCES,
    out: Path = typer.Option(..., "--out", help="Output folder for report.html, report.pdf, figures/, CSVs."),
    store: Optional[Path] = _STORE,
    manifest: Optional[Path] = _MANIFEST,
    codebook: Optional[Path] = _CODEBOOK,
    seed: Optional[int] = _SEED,
    format: str = typer.Option("html,pdf", "--format", help="Report formats, comma-separated."),
    index: bool = _INDEX,
    config: Optional[Path] = _CONFIG,
    quiet: bool = _QUIET,
    boilerplate: Optional[Path] = _BOILERPLATE,
    keep_boilerplate: bool = _KEEP_BOILERPLATE,
    text_col: Optional[str] = _TEXT_COL,
    date_col: Optional[str] = _DATE_COL,
    outlet_col: Optional[str] = _OUTLET_COL,
    title_col: Optional[str] = _TITLE_COL,
    id_col: Optional[str] = _ID_COL,
    day_first: Optional[bool] = _DAY_FIRST,
    follow_links: bool = _FOLLOW_LINKS,
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler",
        help="Dask scheduler (tcp://HOST:PORT): ingest, embed and assign on that cluster "
             "[default: DASK_SCHEDULER_ADDRESS or Dask config scheduler-address; else in-process].",
    ),
    partitions: Optional[int] = typer.Option(
        None, "--partitions",
        help="Input partitions with --scheduler (at most one per file) [default: two per worker thread].",
    ),
    refit: bool = typer.Option(
        False, "--refit",
        help="Cluster afresh even when the store holds a fitted run to update (narrative ids are "
             "kept stable by matching the new narratives to the previous run's).",
    ),
) -> None:
    """Ingest, fit narratives, measure drift and write the report, in one go.

    Re-running on a grown corpus with the same store updates the last run: only new paragraphs are
    embedded and they are assigned with the saved model; a refit is proposed when they fit it
    poorly (see --refit).

    Example: narrative build articles/ --manifest articles/manifest.csv --out reports/mine
    """
    _check_sources(sources)

    def go():
        from ..distributed.scheduler import resolve_scheduler

        _at_least("--partitions", partitions, 1)
        common = dict(
            store_path=store, manifest=manifest, codebook_path=codebook,
            settings=_settings(config, seed=seed), formats=_formats(format),
            echo=(lambda s: None) if quiet else _echo,
            options=_ingest_options(
                boilerplate, keep_boilerplate, day_first, follow_links, text=text_col, date=date_col,
                outlet=outlet_col, title=title_col, id=id_col,
            ),
        )
        _out_dir(out)
        address = resolve_scheduler(scheduler)
        if address:
            _check_address(address)
        from ..pipeline import build as run_build

        result = run_build(sources, out, progress=_progress(quiet), refit=refit,
                           scheduler=address, n_partitions=partitions, config_path=config,
                           command=_command(), index=index, **common)
        _report_done(result)

    _run(go)


@app.command()
def demo(
    out: Path = typer.Option(Path("reports/demo"), "--out", help="Output folder."),
    seed: int = typer.Option(0, "--seed", help="Seed of the generated corpus and of the model."),
    weeks: int = typer.Option(14, "--weeks", help="Weeks of generated news (>= 12)."),
    per_week: int = typer.Option(3, "--per-week", help="Articles per outlet and week."),
    index: bool = _INDEX,
    config: Optional[Path] = _CONFIG,
    quiet: bool = _QUIET,
) -> None:
    """Generate the demo corpus (fictional outlets, planted narratives and drift) and report on it.

    Writes OUT/demo_corpus.jsonl, OUT/truth.csv (planted shares), OUT/events.csv (every planted
    change) and the report.

    Example: narrative demo --out reports/demo --seed 0
    """

    def go():
        from ..pipeline import demo as run_demo

        _at_least("--weeks", weeks, 1)
        _at_least("--per-week", per_week, 1)
        settings = _settings(config, base={"stability_seeds": 2}, seed=seed)
        _out_dir(out)
        result = run_demo(
            out, seed=seed, settings=settings,
            n_weeks=weeks,
            articles_per_outlet_week=per_week, progress=_progress(quiet),
            echo=(lambda s: None) if quiet else _echo, command=_command(), config_path=config,
            index=index,
        )
        _report_done(result)

    _run(go)


@app.command()
def drift(
    store: Path = typer.Option(..., "--store", help="DuckDB store with a fitted run."),
    run: Optional[str] = typer.Option(None, "--run", help="Run id [default: the latest]."),
    by: str = typer.Option("outlet", "--by", help="Grouping column (only 'outlet' for now)."),
    period: Optional[str] = typer.Option(None, "--period", help="day, week or month [default: week, or the config file's]."),
    out: Path = typer.Option(..., "--out", help="Folder for shares.csv, changepoints.csv, diffusion.csv, lead_lag.csv and the other tables."),
    config: Optional[Path] = _CONFIG,
) -> None:
    """Write narrative shares per outlet and period with intervals, change points, diffusion and lead-lag, as CSV.

    Example: narrative drift --store reports/demo/narrative.duckdb --period week --out drift/
    """
    if by != "outlet":
        _fail(f"--by {by}: only 'outlet' is supported")

    def go():
        from ..drift import compute_drift
        from ..export import export_tables
        from ..runtime.workers import sharer
        from ..store import Store

        _settings(config, period=period)  # bad settings fail before the store is opened
        with Store(store, read_only=True) as st:
            run_id, settings = _run_settings(st, run, config, period=period)
            _out_dir(out)
            frames = compute_drift(st, run_id, settings=settings, share=sharer(settings.workers))
            paths = export_tables(frames, out)
        for p in paths.values():
            typer.echo(str(p))

    _run(go)


@app.command()
def report(
    store: Path = typer.Option(..., "--store", help="DuckDB store with a fitted run."),
    run: Optional[str] = typer.Option(None, "--run", help="Run id [default: the latest]."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    format: str = typer.Option("html,pdf", "--format", help="Report formats, comma-separated."),
    index: bool = _INDEX,
    config: Optional[Path] = _CONFIG,
) -> None:
    """Write the HTML and/or PDF report of a fitted run, its drift tables as CSV and explorer.html.

    Example: narrative report --store reports/demo/narrative.duckdb --out reports/again --format html
    """

    def go():
        from ..pipeline import write_report
        from ..store import Store

        _settings(config)  # a bad config file fails before the store is opened
        formats = _formats(format)
        with Store(store, read_only=True) as st:
            run_id, settings = _run_settings(st, run, config)
            _out_dir(out)
            paths = write_report(st, run_id, out, settings=settings, formats=formats,
                                 index=index)
        for p in paths.values():
            typer.echo(str(p))

    _run(go)


@app.command()
def export(
    store: Path = typer.Option(..., "--store", help="DuckDB store with a fitted run."),
    run: Optional[str] = typer.Option(None, "--run", help="Run id [default: the latest]."),
    out: Path = typer.Option(..., "--out", help="File to write: .parquet, .csv or .csv.gz (by its extension)."),
    narrative: Optional[str] = typer.Option(None, "--narrative", help="Only this narrative (its name or label; 'unassigned' too)."),
    outlet: Optional[str] = typer.Option(None, "--outlet", help="Only this outlet."),
    date_from: Optional[str] = typer.Option(None, "--from", help="Only articles dated on or after this day (YYYY-MM-DD)."),
    date_to: Optional[str] = typer.Option(None, "--to", help="Only articles dated on or before this day (YYYY-MM-DD)."),
    tables: Optional[Path] = typer.Option(None, "--tables", help="Also write every computed table (shares, changepoints, lead_lag, ...) as CSV into this folder."),
    config: Optional[Path] = _CONFIG,
) -> None:
    """Write a run's paragraphs with their text, source and narrative, for a spreadsheet, R or a dashboard.

    One row per paragraph: ids, outlet, date, period, title, author, url, text, narrative,
    sub-narrative, membership probability (how typical of its narrative), secondary narrative,
    copy-of; ordered by narrative typicality. Streams, so big runs export in bounded memory; CSV
    cells that a spreadsheet would run as formulas are guarded.

    Example: narrative export --store out/narrative.duckdb --out rt-sanctions.csv --narrative 'Sanctions leverage' --outlet RT --from 2022-06-20 --to 2022-06-26
    """

    def go():
        from ..export import export_paragraphs, export_tables
        from ..store import Store

        _settings(config)  # a bad config file fails before the store is opened
        with Store(store, read_only=True) as st:
            run_id, settings = _run_settings(st, run, config)
            result = export_paragraphs(st, out, run_id, narrative=narrative,
                                       outlet=outlet, date_from=date_from, date_to=date_to)
            _echo(f"{result.n_rows} paragraphs of run {result.run_id}")
            typer.echo(str(result.path))
            if tables is not None:
                from ..drift import compute_drift
                from ..runtime.workers import sharer

                frames = compute_drift(st, run_id, settings=settings,
                                       share=sharer(settings.workers))
                for path in export_tables(frames, tables).values():
                    typer.echo(str(path))

    _run(go)


@app.command()
def explore(
    store: Path = typer.Option(..., "--store", help="DuckDB store with a fitted run."),
    run: Optional[str] = typer.Option(None, "--run", help="Run id [default: the latest]."),
    out: Path = typer.Option(..., "--out", help="Folder for explorer.html."),
    max_paragraphs: int = typer.Option(20000, "--max-paragraphs", help="Paragraphs embedded in the page at most; above, the most typical of every cell (the page says so)."),
    config: Optional[Path] = _CONFIG,
) -> None:
    """Write OUT/explorer.html: an offline page that goes from every share to the paragraphs behind it.

    Charts of shares over time and by outlet (hover for the numbers and intervals); a click on a
    narrative, outlet, week or cell lists its paragraphs with outlet, date, title and link; a word
    box filters them. One self-contained file, no network; article text stays inert.

    Example: narrative explore --store out/narrative.duckdb --out out/
    """

    def go():
        from ..explore import write_explorer
        from ..store import Store

        _settings(config)
        _at_least("--max-paragraphs", max_paragraphs, 1)
        with Store(store, read_only=True) as st:
            run_id, settings = _run_settings(st, run, config)
            _out_dir(out)
            path = write_explorer(st, run_id, out, settings=settings,
                                  max_paragraphs=max_paragraphs)
        typer.echo(str(path))

    _run(go)


@app.command()
def evaluate(
    corpus: Path = typer.Argument(..., help="JSONL corpus: one record per line with a text field."),
    label_field: Optional[str] = typer.Option("label", "--label-field", help="Field with gold labels (ARI/NMI); '' for none."),
    json_out: Path = typer.Option(..., "--json", help="Where to write the scores (JSON)."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Fit with this codebook [default: none]."),
    seed: Optional[int] = _SEED,
    unit: str = typer.Option("article", "--unit", help="Fit on whole records (article) or their paragraphs."),
    config: Optional[Path] = _CONFIG,
) -> None:
    """Score narrative's topics on a labelled corpus: NPMI, diversity, topics' top-10 words, ARI/NMI.

    Example: narrative evaluate bbc.jsonl --label-field label --json scores.json
    """

    def go():
        from ..io import check_output_file
        from ..labelled import evaluate_corpus, write_json

        if unit not in ("article", "paragraph"):
            from ..errors import ConfigError

            raise ConfigError(f"--unit must be 'article' or 'paragraph'; got {unit!r}")
        settings = _settings(config, seed=seed)
        check_output_file(json_out)
        result = evaluate_corpus(
            corpus, label_field=label_field or None, codebook_path=codebook,
            settings=settings, unit=unit,
        )
        write_json(result, json_out)
        summary = ", ".join(
            f"{k} {result[k]:.3f}" for k in ("npmi", "diversity", "ari", "nmi")
            if isinstance(result.get(k), float)
        )
        _echo(f"{result.get('n_topics')} topics: {summary}")
        typer.echo(str(json_out))

    _run(go)


codebook_app = typer.Typer(help="Work with codebooks of named narratives.", no_args_is_help=True)
app.add_typer(codebook_app, name="codebook")


@codebook_app.command("suggest")
def codebook_suggest(
    store: Path = typer.Option(..., "--store", help="DuckDB store with a fitted run."),
    run: Optional[str] = typer.Option(None, "--run", help="Run id [default: the latest]."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the YAML here [default: stdout]."),
    examples: int = typer.Option(3, "--examples", help="Example paragraphs per entry."),
    codebook: Optional[Path] = typer.Option(
        None, "--codebook", help="Append the entries to this codebook (entries it already has, by "
                                 "id, are kept as they are) [default: the entries alone]."),
    config: Optional[Path] = _CONFIG,
) -> None:
    """Write the discovered (and off-topic) narratives of a run as codebook entries with their
    stable ids, to curate them: edit an entry's name to rename it, add `merge: [ID]`, `drop: true`
    or `kind: off-topic`, then build again with the edited codebook (no refit).

    Example: narrative codebook suggest --store reports/demo/narrative.duckdb --codebook my.yaml --out my.yaml
    """

    def go():
        import yaml

        from ..saved_runs import suggested_codebook
        from ..store import Store

        _settings(config)  # validated like every command's, though suggesting reads no setting
        if out is not None:
            from ..io import check_output_file

            check_output_file(out)
        with Store(store, read_only=True) as st:
            document = suggested_codebook(st, st.run(run)["run_id"], examples=examples, base=codebook)
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
        if out is None:
            typer.echo(text)
        else:
            from ..io import atomic_write_text

            atomic_write_text(out, text)
            typer.echo(str(out))

    _run(go)


@app.command()
def serve(
    socket_path: Optional[Path] = typer.Option(
        None, "--socket", help="Unix socket to listen on [default: NARRATIVE_SERVER, else a per-user "
                               "folder under XDG_RUNTIME_DIR or the temp folder].",
    ),
    stop: bool = typer.Option(
        False, "--stop", help="Stop the server listening on the socket: it takes no new command "
                              "and exits when the running ones have finished.",
    ),
) -> None:
    """Stay resident with the heavy libraries imported, so later commands start at once.

    While it runs, every `narrative` command (build, report, drift, ...) is run in a fork of this
    process instead of a fresh one: the imports of torch, BERTopic, UMAP and matplotlib (most of
    a small build) are paid once. Output, progress bars, Ctrl-C and exit status behave as without
    it. A server whose package files or import-time settings (OMP_*, NUMBA_*, ...) differ from
    the client's is not used. NARRATIVE_SERVER=off makes commands ignore a server. Stop it with
    `narrative serve --stop` (running commands finish first), or Ctrl-C or SIGTERM (they are
    interrupted).

    Example: narrative serve &   then   narrative build articles/ --out reports/mine
    """
    from ..errors import ServeError
    from ..runtime.serve import serve as run_server, socket_path as default_path, stop as stop_server

    path = socket_path or default_path()
    if path is None:
        _fail("NARRATIVE_SERVER is off: give a socket with --socket")
    if stop:
        answer = stop_server(path)
        if answer is None:
            _fail(f"no server of yours listens on {path}")
        running = int(answer.get("running", 0))
        _echo(f"narrative serve: server {answer.get('stopping')} on {path} stopped listening"
              + (f"; it exits when its {running} running command(s) finish" if running else ""))
        return
    try:
        run_server(path, run=_run_in_server, log=_echo)
    except ServeError as exc:
        _fail(str(exc))


def _run_in_server(argv: List[str]) -> int:
    """Run the CLI on ``argv`` as the console script would, in a child of ``narrative serve``;
    its exit status."""
    try:
        app(args=argv, prog_name="narrative")
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    return 0


def main() -> None:  # pragma: no cover - console script entry point
    from ..runtime.client import forward

    try:
        status = forward(sys.argv[1:])
    except KeyboardInterrupt:  # Ctrl-C while a server declined the command
        typer.echo("narrative: error: interrupted", err=True)
        sys.exit(130)
    if status is not None:
        sys.exit(status)
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

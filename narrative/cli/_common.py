"""What every ``narrative`` command shares: its options, the error boundary, settings, output
checks and messages. The commands themselves are in :mod:`narrative.cli`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

_SOURCES = typer.Argument(
    ..., help="Files or folders (walked recursively) of .txt/.md/.html/.jsonl/.csv/.parquet articles (also .gz)."
)
_STORE = typer.Option(None, "--store", help="DuckDB store file [default: OUT/narrative.duckdb].")
_MANIFEST = typer.Option(None, "--manifest", help="CSV file,outlet,date,author,title,url; paths relative to it.")
_CODEBOOK = typer.Option(None, "--codebook", help="YAML codebook of named narratives [default: shipped].")
_SEED = typer.Option(None, "--seed", help="Random seed [default: 42, or NARRATIVE_SEED].")
_CONFIG = typer.Option(None, "--config", help="YAML or TOML file of settings; flags override it.")
_QUIET = typer.Option(False, "--quiet", "-q", help="No progress bars or stage messages.")
_BOILERPLATE = typer.Option(None, "--boilerplate", help="YAML rules file adding to the shipped boilerplate rules.")
_KEEP_BOILERPLATE = typer.Option(False, "--keep-boilerplate", help="Cut no boilerplate (footers, bios, share lines).")
_TEXT_COL = typer.Option(None, "--text-col", help="Column or field holding the text [default: auto-detect].")
_DATE_COL = typer.Option(None, "--date-col", help="Column or field holding the date [default: auto-detect].")
_OUTLET_COL = typer.Option(None, "--outlet-col", help="Column or field holding the outlet [default: auto-detect].")
_TITLE_COL = typer.Option(None, "--title-col", help="Column or field holding the title [default: auto-detect].")
_ID_COL = typer.Option(None, "--id-col", help="Column or field holding the record id [default: auto-detect].")
_FOLLOW_LINKS = typer.Option(False, "--follow-links", help="Read links that point outside the sources given [default: skip them, with a warning].")
_INDEX = typer.Option(False, "--index", help="Also write an index.html listing the reports in the folder above OUT.")
_DAY_FIRST = typer.Option(None, "--day-first/--month-first", help="Read 03/04/2025 as 3 April / March 4 [default: month first with '/', day first with '.' or '-'].")


def _echo(message: str) -> None:
    typer.echo(message, err=True)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"narrative: error: {message}", err=True)
    raise typer.Exit(code)


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input or usage: printed as one line, never as a traceback."""
    from ..errors import NarrativeError

    return (NarrativeError, FileNotFoundError)


def _run(fn):
    """Call ``fn`` turning user errors into a one-line message and exit status 1."""
    interrupted = "interrupted; finished work is kept in the store, rerun to resume"
    try:
        return fn()
    except KeyboardInterrupt:
        _fail(interrupted, 130)
    except _user_errors() as exc:
        _fail(next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__))
    except Exception as exc:
        if _duckdb_interrupt(exc):
            _fail(interrupted, 130)
        raise


def _duckdb_interrupt(exc: Exception) -> bool:
    """Whether ``exc`` is Ctrl-C as DuckDB reports it when it arrives during a query."""
    if type(exc).__name__ == "InterruptException":
        return True
    return isinstance(exc, RuntimeError) and str(exc).strip() == "Query interrupted"


def _at_least(flag: str, value: Optional[int], low: int) -> None:
    """A whole-number flag below its floor is a one-line error, before any work."""
    if value is not None and value < low:
        from ..errors import ConfigError

        raise ConfigError(f"{flag} must be a whole number >= {low}; got {value}")


def _formats(text: str) -> list[str]:
    from ..pipeline import report_formats

    return report_formats(text)


def _out_dir(out: Path) -> Path:
    from ..io import prepare_output_dir

    return prepare_output_dir(out)


def _settings(config: Optional[Path], *, base: Optional[dict] = None, **overrides):
    from ..config import load_settings

    return load_settings(config, base=base, **overrides)


def _run_settings(st, run: Optional[str], config: Optional[Path], **overrides):
    """The stored run (the latest when ``run`` is None) with the settings a command uses on it:
    the run's own, unless the config file, the environment or a flag says otherwise."""
    stored = st.run(run)
    return stored["run_id"], _settings(config, base=stored["settings"], **overrides)


def _progress(quiet: bool):
    from ..progress import progress_bar

    def factory(description: str, total: int):
        return progress_bar(description, total, enabled=not quiet)

    return factory


def _ingest_options(boilerplate, keep_boilerplate, day_first, follow_links, **columns):
    from ..ingest.options import ReadOptions

    return ReadOptions(
        boilerplate=False if keep_boilerplate else (boilerplate or True),
        columns={k: v for k, v in columns.items() if v},
        day_first=day_first, follow_links=follow_links,
    )


def _check_sources(sources: List[Path]) -> None:
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(missing)}")


def _check_address(address: str) -> None:
    """A scheduler address Dask cannot parse (``foo``: no port) is a one-line error."""
    from distributed.comm.addressing import parse_address, parse_host_port

    from ..errors import SchedulerUnreachable

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as exc:
        raise SchedulerUnreachable(f"scheduler address {address!r}: {exc}; give tcp://HOST:PORT") from exc


def _command() -> str:
    """This invocation's command line, for the run's record."""
    from ..provenance import command_line

    return command_line(sys.argv[1:])


def _report_done(result) -> None:
    times = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
    _echo(f"stages: {times}")
    for key in ("html", "pdf", "shares", "changepoints"):
        if key in result.paths:
            typer.echo(str(result.paths[key]))

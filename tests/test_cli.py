"""The command line: help with examples, one-line errors, exit codes, instant start."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from narrative.cli import app

runner = CliRunner()
COMMANDS = ["ingest", "build", "demo", "drift", "report", "export", "explore", "evaluate", "serve"]


def test_top_level_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help_with_an_example(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example: narrative " + command in " ".join(result.output.split())


def _help_words(args: list[str]) -> str:
    """The help text of ``args`` as single-spaced words, without the boxes rich draws."""
    result = runner.invoke(app, [*args, "--help"], terminal_width=100)
    assert result.exit_code == 0
    return " ".join(result.output.replace("│", " ").split())


def test_defaults_written_in_option_help_are_shown():
    """A "[default: ...]" written in an option's help reaches --help (rich markup took it for a
    tag and dropped it, leaving "DuckDB store file .")."""
    import re

    import typer.main

    group = typer.main.get_command(app)
    checked = 0
    for name, command in group.commands.items():
        for param in command.params:
            for written in re.findall(r"\[default: [^\]]*\]", getattr(param, "help", None) or ""):
                assert written in _help_words([name]), (name, param.name, written)
                checked += 1
    assert checked >= 10


def test_missing_input_is_a_one_line_error(tmp_path):
    result = runner.invoke(app, ["build", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "no such file or folder" in lines[0] and "nope" in lines[0]


def test_folder_without_articles_fails_cleanly(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.txt").write_text("   \n")
    result = runner.invoke(app, ["build", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1
    assert "no readable article" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_bad_codebook_fails_before_any_work(tmp_path):
    (tmp_path / "a.txt").write_text("Some article text " * 20)
    cb = tmp_path / "cb.yaml"
    cb.write_text("narratives:\n  - name: X\n")
    result = runner.invoke(app, ["build", str(tmp_path / "a.txt"), "--out", str(tmp_path / "o"),
                                 "--codebook", str(cb)])
    assert result.exit_code == 1
    assert "narrative 'X': field 'description'" in result.stderr


def test_report_on_missing_store_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["report", "--store", str(tmp_path / "x.duckdb"), "--out", str(tmp_path)])
    assert result.exit_code == 1 and "no such store" in result.stderr


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from narrative.cli import app; from typer.testing import CliRunner;"
        "CliRunner().invoke(app, ['--help']);"
        "heavy = [m for m in ('torch', 'bertopic', 'umap', 'hdbscan', 'sentence_transformers', 'duckdb')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_codebook_suggest_has_help_with_an_example():
    result = runner.invoke(app, ["codebook", "suggest", "--help"])
    assert result.exit_code == 0
    assert "Example: narrative codebook suggest" in " ".join(result.output.split())


def test_every_command_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS + ["codebook suggest"]:
        assert f"narrative {command}" in readme, command


@pytest.mark.parametrize("command", [[c] for c in COMMANDS if c != "serve"] + [["codebook", "suggest"]])
def test_every_command_accepts_the_config_file(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "--config" in result.output


def test_a_bad_config_file_is_a_clear_error_for_any_command(tmp_path):
    bad = tmp_path / "settings.yaml"
    bad.write_text("no_such_setting: 3\n")
    result = runner.invoke(app, ["drift", "--store", str(tmp_path / "x.duckdb"), "--out",
                                 str(tmp_path / "o"), "--config", str(bad)])
    assert result.exit_code == 1
    assert "no_such_setting" in result.stderr


@pytest.mark.parametrize("how", ["interrupt", "signal"])
def test_ctrl_c_during_a_duckdb_query_is_the_interrupted_message_not_a_traceback(how, capsys):
    """DuckDB turns Ctrl-C during a query into its own exceptions (InterruptException, or
    RuntimeError "Query interrupted" when the signal arrives while it runs); both mean exit 130."""
    import threading

    import duckdb
    import typer

    from narrative.cli import _run

    con = duckdb.connect()

    def query():
        if how == "interrupt":
            threading.Timer(0.3, con.interrupt).start()
            con.execute("select count(*) from range(100000000000) a").fetchall()
        raise RuntimeError("Query interrupted")

    with pytest.raises(typer.Exit) as stopped:
        _run(query)
    assert stopped.value.exit_code == 130
    assert "interrupted; finished work is kept in the store" in capsys.readouterr().err


def test_other_runtime_errors_still_raise():
    from narrative.cli import _run

    def broken():
        raise RuntimeError("something else")

    with pytest.raises(RuntimeError, match="something else"):
        _run(broken)

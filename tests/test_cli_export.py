"""`narrative export` and `narrative explore`: the library calls behind one command each."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from narrative.cli import app
from narrative.query import paragraphs
from narrative.store import Store

from .explore_store import FERRIES, RUN_ID, build_store

runner = CliRunner()


def test_export_writes_the_paragraphs_of_a_selection_and_the_tables(tmp_path):
    path, _ = build_store(tmp_path)
    out = tmp_path / "ferries.csv"
    result = runner.invoke(app, ["export", "--store", str(path), "--out", str(out), "--narrative",
                                 FERRIES, "--outlet", "Wire", "--tables", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    with Store(path, read_only=True) as store:
        expected = paragraphs(store, RUN_ID, narrative=FERRIES, outlet="Wire")
    written = pd.read_csv(out)
    assert written["paragraph_id"].tolist() == expected["paragraph_id"].tolist()
    assert {"shares.csv", "changepoints.csv", "lead_lag.csv"} <= {p.name for p in (tmp_path / "t").iterdir()}


def test_export_of_an_unknown_narrative_is_a_one_line_error(tmp_path):
    path, _ = build_store(tmp_path)
    result = runner.invoke(app, ["export", "--store", str(path), "--out", str(tmp_path / "x.csv"),
                                 "--narrative", "No such thing"])
    assert result.exit_code == 1
    assert result.stderr.startswith("narrative: error:") and "No such thing" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_explore_writes_the_page(tmp_path):
    path, _ = build_store(tmp_path)
    result = runner.invoke(app, ["explore", "--store", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "o" / "explorer.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and FERRIES in page

"""`narrative codebook suggest`: the run's discovered narratives written into a codebook with
their stable ids, ready to curate."""

from __future__ import annotations

from typer.testing import CliRunner

from narrative.cli import app
from narrative.codebook import load_codebook

from . import tiny_run

runner = CliRunner()


def test_suggest_appends_discovered_narratives_with_their_ids_to_a_codebook(tmp_path):
    store = tiny_run.build_store(tmp_path, tiny_run.records(["Daily A", "Daily B"]))
    mine = tmp_path / "mine.yaml"
    mine.write_text("narratives:\n  - name: Harbour traffic\n    description: ships at the pier\n",
                    encoding="utf-8")
    result = runner.invoke(app, ["codebook", "suggest", "--store", str(store), "--codebook",
                                 str(mine), "--out", str(mine)])
    assert result.exit_code == 0, result.output
    codebook = load_codebook(mine)
    assert codebook.names == ["Harbour traffic"]
    suggested = [n for n in codebook.narratives if n.kind == "discovered"]
    assert [(n.id, n.name) for n in suggested] == [(1, "Orchard harvest")]
    # Suggesting again keeps the analyst's entry (by id) instead of adding it twice.
    runner.invoke(app, ["codebook", "suggest", "--store", str(store), "--codebook", str(mine),
                        "--out", str(mine)])
    assert len(load_codebook(mine).narratives) == 2

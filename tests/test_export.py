"""narrative.export: paragraph files read back by DuckDB and pandas, the CSV formula guard, and
every drift table written."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from narrative.errors import OutputError
from narrative.drift import DriftFrames, compute_drift
from narrative.export import export_paragraphs, export_tables
from narrative.io import FORMULA_STARTS
from narrative.query import NUMERIC_COLUMNS, QUERY_COLUMNS, paragraphs
from narrative.store import Store

from .explore_store import FORMULAS, RUN_ID, build_store

TEXT_COLUMNS = [c for c in QUERY_COLUMNS if c not in NUMERIC_COLUMNS]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    path, settings = build_store(folder, hostile=True)
    with Store(path, read_only=True) as store:
        yield store, settings, folder


def _same_rows(read: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(read.columns) == QUERY_COLUMNS
    assert read["paragraph_id"].tolist() == expected["paragraph_id"].tolist()
    assert np.allclose(read["probability"].astype(float), expected["probability"].astype(float))
    assert read["narrative_id"].astype(int).tolist() == expected["narrative_id"].tolist()


def test_parquet_reads_back_with_duckdb_and_pandas(built, tmp_path):
    store, _, _ = built
    result = export_paragraphs(store, tmp_path / "paragraphs.parquet")
    expected = paragraphs(store, RUN_ID)
    assert result.n_rows == len(expected) and result.run_id == RUN_ID and result.format == "parquet"
    by_pandas = pd.read_parquet(result.path)
    _same_rows(by_pandas, expected)
    assert by_pandas["text"].tolist() == expected["text"].tolist()  # Parquet keeps text as is
    assert by_pandas["title"].tolist() == expected["title"].tolist()
    by_duckdb = duckdb.sql(f"SELECT * FROM read_parquet('{result.path}')").df()
    _same_rows(by_duckdb, expected)
    types = {row[0]: row[1] for row in
             duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{result.path}')").fetchall()}
    assert types["date"] == "DATE" and types["probability"] == "DOUBLE"


@pytest.mark.parametrize("name", ["paragraphs.csv", "paragraphs.csv.gz"])
def test_csv_reads_back_with_cells_guarded(built, tmp_path, name):
    store, _, _ = built
    result = export_paragraphs(store, tmp_path / name)
    expected = paragraphs(store, RUN_ID)
    read = pd.read_csv(result.path, keep_default_na=False, na_values=[""], dtype={"period": str})
    _same_rows(read, expected)
    assert read["probability"].dtype.kind == "f" and read["position"].dtype.kind == "i"
    guarded = 0
    for column in TEXT_COLUMNS:
        for got, original in zip(read[column], expected[column]):
            if isinstance(original, str) and original.startswith(FORMULA_STARTS):
                # pandas' CSV reader drops a lone \r; every other character comes back
                assert got.replace("\r", "") == ("'" + original).replace("\r", "")
                guarded += 1
            elif isinstance(original, str):
                assert got == original
    assert guarded >= 10
    by_duckdb = duckdb.sql(f"SELECT count(*), count(DISTINCT paragraph_id) FROM "
                           f"read_csv('{result.path}', header=true)").fetchall()[0]
    assert by_duckdb == (len(expected), len(expected))


def test_filters_select_the_rows_the_query_returns(built, tmp_path):
    store, _, _ = built
    names = paragraphs(store, RUN_ID)
    narrative, outlet = names["narrative"].iloc[0], names["outlet"].iloc[0]
    result = export_paragraphs(store, tmp_path / "some.parquet", RUN_ID, narrative=narrative,
                               outlet=outlet, date_from="2024-01-08", date_to="2024-01-31")
    expected = paragraphs(store, RUN_ID, narrative=narrative, outlet=outlet,
                          date_from="2024-01-08", date_to="2024-01-31")
    assert 0 < len(expected) < len(names)
    _same_rows(pd.read_parquet(result.path), expected)


def test_unknown_extension_and_file_as_folder_say_so(built, tmp_path):
    store, _, _ = built
    with pytest.raises(OutputError, match=r"\.parquet, \.csv"):
        export_paragraphs(store, tmp_path / "paragraphs.xlsx")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        export_paragraphs(store, tmp_path / "file" / "paragraphs.csv")


class _FailingCopy:
    """A connection whose COPY dies half way, after writing part of the file."""

    def __init__(self, con):
        self.con = con

    def execute(self, sql, params=None):
        if sql.startswith("COPY"):
            target = sql.split(" TO '", 1)[1].split("'", 1)[0]
            with open(target, "w") as partial:
                partial.write("paragraph_id,article\n0123,")
            raise duckdb.IOException("disk full")
        return self.con.execute(sql, params or [])

    def __getattr__(self, name):
        return getattr(self.con, name)


def test_failed_export_leaves_the_old_file_and_no_temporary(built, tmp_path, monkeypatch):
    store, _, _ = built
    target = tmp_path / "paragraphs.csv"
    target.write_text("old\n")
    monkeypatch.setattr(store, "con", _FailingCopy(store.con))
    with pytest.raises(duckdb.IOException):
        export_paragraphs(store, target)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paragraphs.csv"]






def test_export_tables_writes_every_table_lead_lag_included(built, tmp_path):
    store, settings, _ = built
    drift = compute_drift(store, RUN_ID, settings=settings)
    paths = export_tables(drift, tmp_path / "tables")
    assert set(paths) == set(drift.tables) >= {"shares", "changepoints", "lead_lag", "framing",
                                               "outlet_shares", "coverage", "divergence"}
    for name, path in paths.items():
        assert path == tmp_path / "tables" / f"{name}.csv"
        read = pd.read_csv(path, keep_default_na=False)
        assert len(read) == len(drift.tables[name]), name
        assert list(read.columns)[:1] == list(drift.tables[name].columns)[:1] or name in (
            "shares", "changepoints")
    shares = pd.read_csv(paths["shares"], keep_default_na=False)
    assert list(shares.columns[:7]) == ["period", "outlet", "narrative", "share", "ci_low",
                                        "ci_high", "n_articles"]
    assert shares["share"].dtype.kind == "f"


def test_export_tables_guards_names_and_joins_lists(tmp_path):
    tables = {
        "lead_lag": pd.DataFrame({"narrative": ["=HYPERLINK(\"x\")"], "leader": ["@evil"],
                                  "follower": ["Wire"], "lag_periods": [1], "correlation": [-0.5],
                                  "p_value": [0.01], "n_periods": [9]}),
        "framing": pd.DataFrame({"narrative": ["Ferries"], "terms": [["-ferry", "harbour"]]}),
    }
    paths = export_tables(DriftFrames(paragraphs=pd.DataFrame(), tables=tables,
                                      narrative_order=[]), tmp_path)
    lead = pd.read_csv(paths["lead_lag"])
    assert lead.loc[0, "narrative"] == "'=HYPERLINK(\"x\")" and lead.loc[0, "leader"] == "'@evil"
    assert lead.loc[0, "correlation"] == -0.5  # a negative number stays a number
    assert pd.read_csv(paths["framing"]).loc[0, "terms"] == "'-ferry; harbour"


def test_formula_payloads_are_in_the_hostile_store(built):
    store, _, _ = built
    titles = set(paragraphs(store, RUN_ID)["title"])
    assert set(FORMULAS) & titles


def test_memory_limit_and_threads_are_put_back_after_the_export(built, tmp_path):
    store, _, _ = built
    con = store.con
    setting = "SELECT current_setting('memory_limit'), current_setting('threads')"
    before = con.execute(setting).fetchall()[0]
    seen = []

    class Spy:
        def execute(self, sql, params=None):
            if sql.startswith("COPY"):
                seen.append(con.execute(setting).fetchall()[0])
            return con.execute(sql, params or [])

        def __getattr__(self, name):
            return getattr(con, name)

    store.con = Spy()
    try:
        export_paragraphs(store, tmp_path / "p.parquet", memory_limit="64MB")
    finally:
        store.con = con
    assert seen and seen[0][0] != before[0] and "MiB" in seen[0][0] and seen[0][1] == 1
    assert store.con.execute(setting).fetchall()[0] == before

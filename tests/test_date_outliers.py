"""One article with an out-of-range date may not take the report down (issue 24, case 9).

The ingest keeps a date it finds suspicious (before 1900, or after the day it was ingested) with a
warning and a ``date_flag`` in the article's meta. Drift and the report leave such articles out of
the time views (they would stretch every time axis over millennia, past what matplotlib draws),
count them in the totals, and say how many were left out and why.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from narrative.drift import compute_drift
from narrative.pipeline import write_report
from narrative.store import Store

from . import tiny_run

ODD = [("ancient", "Wire", "0001-01-01"), ("far", "Gazette", "9999-12-31")]


@pytest.fixture(scope="module")
def odd_store(tmp_path_factory):
    """A store ingested from a tiny corpus plus two articles dated 0001-01-01 and 9999-12-31."""
    folder = tmp_path_factory.mktemp("odd-dates")
    records = tiny_run.records(["Wire", "Gazette"])
    records += [{"id": name, "outlet": outlet, "date": date, "title": name,
                 "text": tiny_run.article_text(100 + i)} for i, (name, outlet, date) in enumerate(ODD)]
    return tiny_run.build_store(folder, records)


def test_the_ingest_keeps_the_odd_dates_and_flags_them(odd_store):
    from narrative.drift import suspicious_dates

    with Store(odd_store, read_only=True) as st:
        articles = st.articles()
    left = suspicious_dates(articles)
    assert sorted(left["date"]) == ["0001-01-01", "9999-12-31"]
    assert dict(zip(left["date"], left["reason"])) == {"0001-01-01": "before_1900",
                                                        "9999-12-31": "future"}
    assert len(articles) == 18


def test_the_report_is_written_and_says_what_was_left_out(odd_store, tmp_path):
    with Store(odd_store, read_only=True) as st:
        paths = write_report(st, "run1", tmp_path / "out", settings=tiny_run.settings(),
                             formats=["html", "pdf"])
    html = " ".join(paths["html"].read_text(encoding="utf-8").split())
    assert ("2 articles have a suspicious date (0001-01-01 (before 1900), 9999-12-31 (future), "
            "as flagged at ingest): they count in the totals") in html
    assert "2025-03-03 to 2025-03-25" in html  # the subtitle's date range leaves them out
    assert paths["pdf"].read_bytes().startswith(b"%PDF")
    shares = pd.read_csv(paths["shares"])
    assert shares["period"].min() == "2025-03-03" and shares["period"].max() == "2025-03-24"


def test_the_odd_dates_still_count_in_the_outlet_totals(odd_store):
    with Store(odd_store, read_only=True) as st:
        drift = compute_drift(st, "run1", settings=tiny_run.settings())
    totals = drift.outlet_shares.drop_duplicates("outlet").set_index("outlet")["n_articles"]
    assert totals.to_dict() == {"Gazette": 9, "Wire": 9}  # 8 dated in range + 1 odd each
    coverage = drift.tables["coverage"].set_index("outlet")
    assert coverage.loc["Wire", "n_undated"] == 1 and coverage.loc["Gazette", "n_undated"] == 1
    assert set(drift.left_out["date"]) == {"0001-01-01", "9999-12-31"}


def test_the_report_command_succeeds(odd_store, tmp_path):
    from typer.testing import CliRunner

    from narrative.cli import app

    result = CliRunner().invoke(app, ["report", "--store", str(odd_store), "--out",
                                      str(tmp_path / "o"), "--format", "html"])
    assert result.exit_code == 0, result.stderr[-2000:]


def test_a_date_without_a_flag_stays_in_the_time_views():
    from narrative.drift import suspicious_dates

    articles = pd.DataFrame({"article_id": ["a", "b", "c"], "outlet": ["X"] * 3,
                             "date": pd.to_datetime(["2025-01-01", "1850-05-05", None]),
                             "meta": [json.dumps({}), json.dumps({"date_flag": "before_1900"}),
                                      json.dumps({"date_flag": "future"})]})
    left = suspicious_dates(articles)
    assert left["article_id"].tolist() == ["b"]  # "c" has no date: it is undated, not odd

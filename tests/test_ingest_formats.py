"""HTML, CSV and Parquet readers (each also gzipped), column mapping, and the bad-input battery."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from narrative.ingest import ColumnMap, ingest_sources

BODY = ("The ministers met on Tuesday to discuss the grain corridor and the sanctions package "
        "that has stalled for several weeks now.")
HTML = f"""<html><head><title>Grain talks | Daily Planet</title>
<meta property="og:site_name" content="Daily Planet"><meta name="author" content="Lois Lane">
<meta property="article:published_time" content="2022-03-04T10:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Grain talks</h1><p>{BODY}</p><p>Officials said a second round of talks would
follow next month in Istanbul, with the <b>United Nations</b> attending.</p></article>
<footer>Copyright 2022 Daily Planet. All rights reserved.</footer></body></html>"""


def counts_add_up(result) -> None:
    assert len(result.articles) + len(result.rejects) == result.n_read


def gz(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    target.write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    return target


@pytest.mark.parametrize("compress", [False, True])
def test_html_main_text_and_metadata(tmp_path: Path, compress: bool) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    if compress:
        path = gz(path)
    (article,) = ingest_sources([path]).articles
    assert BODY in article.text and "United Nations" in article.text
    assert "Home" not in article.text and "<" not in article.text
    assert "All rights reserved" not in article.text
    assert (article.outlet, article.author, article.date) == (
        "Daily Planet", "Lois Lane", dt.date(2022, 3, 4))
    assert article.meta["outlet"] == "field:html" and article.source_id == "page"


def write_csv(path: Path, header: list[str], rows: list[list[str]], **kw) -> Path:
    with path.open("w", encoding=kw.pop("encoding", "utf-8"), newline="") as handle:
        writer = csv.writer(handle, **kw)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_csv_auto_columns_ragged_rows_and_a_long_field(tmp_path: Path, compress: bool) -> None:
    long_text = (BODY + " ") * 1600  # about 200,000 characters in one field
    assert len(long_text) >= 200_000
    path = write_csv(tmp_path / "feed.csv", ["ID", "Headline", "Published", "Body", "Publisher"], [
        ["1", "Grain", "2022-03-04", BODY, "Daily Planet"],
        ["2", "Short row", "2022-03-04"],
        ["3", "Long row", "2022-03-04", BODY, "X", "extra"],
        ["4", "Long field", "March 5, 2022", long_text, "Daily Planet"],
    ])
    if compress:
        path = gz(path)
    result = ingest_sources([path])
    counts_add_up(result)
    assert result.n_read == 4
    first, long_one = result.articles
    assert (first.source_id, first.title, first.outlet, first.date) == (
        "1", "Grain", "Daily Planet", dt.date(2022, 3, 4))
    assert first.source.endswith(":row1") and len(long_one.text) > 199_000
    assert long_one.date == dt.date(2022, 3, 5)
    reasons = {r.position: r.reason for r in result.rejects}
    assert "too few" in reasons["row 2"] and "too many" in reasons["row 3"]


def test_csv_explicit_columns_and_semicolons(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", ["story", "when", "paper", "text"],
                     [[BODY, "2022-03-04", "The Paper", "not this one"]], delimiter=";")
    cols = ColumnMap(text="Story", date="when", outlet="paper")
    (article,) = ingest_sources([path], columns=cols).articles
    assert article.text == BODY and article.outlet == "The Paper"
    (wrong,) = ingest_sources([path], columns=ColumnMap(text="missing")).rejects
    assert "no 'missing' field" in wrong.reason


@pytest.mark.parametrize("compress", [False, True])
def test_parquet(tmp_path: Path, compress: bool) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"id": ["a", "b", "c"], "content": [BODY, None, BODY + " More."],
                      "outlet": ["P", "P", "Q"], "date": ["2022-03-04", "x", None]})
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    if compress:
        path = gz(path)
    result = ingest_sources([path])
    counts_add_up(result)
    assert [a.source_id for a in result.articles] == ["a", "c"]
    (reject,) = result.rejects
    assert reject.position == "row 2" and "no 'text' field" in reject.reason


def test_bad_input_battery(tmp_path: Path) -> None:
    good = json.dumps({"id": "k1", "date": "2022-03-04", "text": BODY})
    files = {
        "empty.txt": b"",
        "blank.txt": b"  \n\t \n",
        "binary.txt": bytes(range(256)) * 4,
        "invalid_utf8.txt": b"abc " + bytes(range(128, 256)),
        "utf16.txt": "\ufeff".encode("utf-16-le") + BODY.encode("utf-16-le"),
        "latin1.txt": ("Caf\u00e9 cr\u00e8me, " + BODY).encode("latin-1"),
        "nul.txt": BODY.encode() + b"\x00" + BODY.encode(),
        "huge.txt": b"word " * (10 * 1024 * 1024),  # 50 MB
        "records.jsonl": "\n".join([
            good,
            good,  # duplicate id: kept, warned
            json.dumps({"id": "k2", "date": "not a date", "text": BODY + " Two."}),
            json.dumps({"id": "k3", "date": "2999-01-01", "text": BODY + " Three."}),
            '{"id": "k4", "text": "cut off in the mid',  # truncated line
        ]).encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    write_csv(tmp_path / "rows.csv", ["id", "text"], [["r1", BODY], ["r2"], ["r3", BODY, "x"]])
    result = ingest_sources([tmp_path])
    counts_add_up(result)
    assert result.n_read == 8 + 5 + 3
    rejected = {(r.source.rsplit("/", 1)[-1], r.position): r.reason for r in result.rejects}
    assert "empty file" in rejected[("empty.txt", "file")]
    assert "whitespace-only" in rejected[("blank.txt", "file")]
    assert "binary" in rejected[("binary.txt", "byte 0")]
    assert "undecodable" in rejected[("invalid_utf8.txt", "byte 4")]
    assert "NUL" in rejected[("nul.txt", f"byte {len(BODY)}")]
    assert "too long" in rejected[("huge.txt", "file")]
    assert "truncated record" in rejected[("records.jsonl", "line 5")]
    assert "too few" in rejected[("rows.csv", "row 2")]
    assert "too many" in rejected[("rows.csv", "row 3")]
    assert all(reason for reason in rejected.values())
    assert len(result.rejects) == 9
    names = {a.source.rsplit("/", 1)[-1]: a for a in result.articles}
    assert names["utf16.txt"].meta["encoding"] == "utf-16"
    assert names["latin1.txt"].meta["encoding_guessed"] and "Caf\u00e9" in names["latin1.txt"].text
    assert names["records.jsonl:3"].date is None
    assert names["records.jsonl:4"].meta["date_flag"] == "future"
    joined = "\n".join(result.warnings)
    assert "duplicate id 'k1'" in joined and "bad date 'not a date'" in joined
    assert "suspicious date 2999-01-01" in joined


def test_utf16_jsonl_bad_unit_costs_only_its_line(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"u{i}", "text": f"{BODY} Number {i}."}) for i in range(3)]
    bad = "\ud800".encode("utf-16-le", "surrogatepass")  # a lone high surrogate
    data = (b"\xff\xfe" + (lines[0] + "\n").encode("utf-16-le")
            + (lines[1][:20]).encode("utf-16-le") + bad + (lines[1][20:] + "\n").encode("utf-16-le")
            + (lines[2] + "\n").encode("utf-16-le"))
    (tmp_path / "wide.jsonl").write_bytes(data)
    result = ingest_sources([tmp_path / "wide.jsonl"])
    counts_add_up(result)
    assert [a.source_id for a in result.articles] == ["u0", "u2"]
    (reject,) = result.rejects
    assert reject.position == "line 2" and "not UTF-16" in reject.reason

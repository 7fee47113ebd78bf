"""Fuzzing the readers: any bytes or text in a .jsonl, .csv, .txt or .html file gives articles
and rejects (with a reason), never an exception; records read = articles + rejects."""

from __future__ import annotations

import codecs
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrative.ingest import ingest_sources
from narrative.ingest.decode import DecodeError, decode_bytes
from narrative.ingest.readers import read_jsonl_file, read_text_file
from narrative.ingest.tables import read_csv_rows
from narrative.schema import Article, Reject

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Text that looks like the real thing often enough to get past the first checks.
FIELD = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                  st.text(max_size=40), st.lists(st.text(max_size=5), max_size=3),
                  st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))
RECORD = st.dictionaries(st.sampled_from(["text", "body", "date", "outlet", "author", "title",
                                          "url", "id", "lang", "other"]),
                         st.one_of(FIELD, st.text(min_size=20, max_size=300)), max_size=6)
JSON_LINE = st.one_of(RECORD.map(json.dumps), st.text(max_size=80),
                      RECORD.map(lambda r: json.dumps(r)[: len(json.dumps(r)) // 2]))
PREFIX = st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])


def _check(items: list) -> None:
    for item in items:
        assert isinstance(item, (Article, Reject))
        if isinstance(item, Reject):
            assert item.reason and item.position
        else:
            assert item.text.strip()


def _write(name: str, data: bytes) -> tuple[tempfile.TemporaryDirectory, Path]:
    folder = tempfile.TemporaryDirectory()
    path = Path(folder.name) / name
    path.write_bytes(data)
    return folder, path


@FUZZ
@given(st.binary(max_size=600), PREFIX)
def test_jsonl_reader_survives_any_bytes(data: bytes, prefix: bytes) -> None:
    folder, path = _write("f.jsonl", prefix + data)
    with folder:
        items = list(read_jsonl_file(path, source="f.jsonl"))
    assert items
    _check(items)


@FUZZ
@given(st.lists(JSON_LINE, max_size=8), st.sampled_from(["\n", "\r\n"]),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_jsonl_reader_survives_any_lines(lines: list[str], newline: str, codec: str) -> None:
    folder, path = _write("f.jsonl", newline.join(lines).encode(codec, "surrogatepass"))
    with folder:
        items = list(read_jsonl_file(path, source="f.jsonl"))
    _check(items)


@FUZZ
@given(st.binary(max_size=600), PREFIX)
def test_csv_reader_survives_any_bytes(data: bytes, prefix: bytes) -> None:
    folder, path = _write("f.csv", prefix + data)
    with folder:
        items = list(read_csv_rows(path, source="f.csv"))
    for item in items:
        assert isinstance(item, (Reject, tuple))


@FUZZ
@given(st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=5), min_size=1, max_size=6),
       st.sampled_from([",", ";", "\t"]))
def test_csv_ingest_survives_any_cells_and_counts_add_up(rows: list[list[str]], sep: str) -> None:
    text = "\n".join(sep.join('"' + c.replace('"', '""') + '"' for c in row) for row in rows)
    folder, path = _write("f.csv", ("text" + sep + "date\n" + text).encode("utf-8", "replace"))
    with folder:
        result = ingest_sources([path])
    assert len(result.articles) + len(result.rejects) == result.n_read
    _check(result.articles + result.rejects)


@FUZZ
@given(st.one_of(st.binary(max_size=800), st.text(max_size=800).map(
    lambda t: t.encode("utf-8", "surrogatepass"))), st.sampled_from(["f.txt", "f.md", "f.html"]))
def test_document_reader_survives_any_content(data: bytes, name: str) -> None:
    folder, path = _write(name, data)
    with folder:
        item = read_text_file(path, source=name)
    _check([item])


@settings(FUZZ, max_examples=10)  # trafilatura takes ~0.5 s a page
@given(st.lists(st.sampled_from(["<p>", "</p>", "<div>", "<script>", "</script>", "<!--", "-->",
                                 "<br/>", "&amp;", "&#0;", "<meta charset='x'>", "<title>",
                                 "By A. Writer", "Sept. 3, 2024", "text text text. "]),
                max_size=40))
def test_html_reader_survives_tag_soup(parts: list[str]) -> None:
    folder, path = _write("f.html", "".join(parts).encode("utf-8"))
    with folder:
        item = read_text_file(path, source="f.html")
    _check([item])


@FUZZ
@given(st.binary(max_size=400))
def test_decode_raises_only_decode_error(data: bytes) -> None:
    try:
        text, encoding, _ = decode_bytes(data)
    except DecodeError as err:
        assert err.reason and err.position.startswith("byte ")
    else:
        assert isinstance(text, str) and encoding

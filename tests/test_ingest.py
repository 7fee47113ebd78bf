"""Readers and manifest: txt/md/jsonl(.gz) -> Article, every bad record -> Reject with a reason."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import inspect
import json
import random
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from narrative.ingest import IngestResult, ManifestError, ingest_sources, read_manifest
from narrative.ingest.metadata import NO_DATE
from narrative.ingest.readers import read_jsonl_file
from narrative.schema import Article

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = SHARED / "corpora" / "seeds"

BODY = "The ministers met on Tuesday to discuss the grain corridor and the sanctions package."


def jsonl(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n",
                    encoding="utf-8")
    return path


def write_manifest(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def assert_counts(result: IngestResult) -> None:
    assert len(result.articles) + len(result.rejects) == result.n_read


# -- plain text ---------------------------------------------------------------------------------

def test_txt_file_becomes_one_cleaned_article(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "story.one.txt").write_text(f"  {BODY}  \r\n\r\n\r\nSecond   line.\n",
                                                     encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ingest_sources(["data"])
    assert result.n_read == 1 and result.rejects == []
    assert result.warnings == ["data/story.one.txt: " + NO_DATE]  # no date anywhere: said once
    (article,) = result.articles
    assert article.text == f"{BODY}\n\nSecond line."
    assert article.source == "data/story.one.txt"
    assert article.source_id == "story.one"
    assert article.outlet is None and article.date is None and article.title is None
    assert article.meta == {"encoding": "utf-8"}


def test_source_outside_cwd_is_absolute(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.txt").write_text(BODY, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "b")
    (article,) = ingest_sources([tmp_path / "a" / "x.txt"]).articles
    assert Path(article.source).is_absolute()
    assert Path(article.source).name == "x.txt"


def test_md_links_cleaned_and_heading_gives_title(tmp_path: Path) -> None:
    md = tmp_path / "post.md"
    md.write_text(f"# A *Bold* [Title](http://x.org)\n\n{BODY} See [the memo](#).\n",
                  encoding="utf-8")
    (article,) = ingest_sources([md]).articles
    assert article.title == "A Bold Title"
    assert article.meta["title"] == "text:heading"
    assert "[" not in article.text and "](" not in article.text and "*" not in article.text
    assert article.text.endswith("See the memo.")


def test_txt_without_heading_has_no_title(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"Plain first line\n{BODY}", encoding="utf-8")
    (article,) = ingest_sources([tmp_path]).articles
    assert article.title is None and "title" not in article.meta


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (("\ufeff" + BODY).encode("utf-8"), "utf-8-sig"),
        (BODY.encode("utf-16"), "utf-16"),
        (b"\xfe\xff" + BODY.encode("utf-16-be"), "utf-16"),
    ],
)
def test_bom_encodings(tmp_path: Path, data: bytes, encoding: str) -> None:
    (tmp_path / "a.txt").write_bytes(data)
    (article,) = ingest_sources([tmp_path]).articles
    assert article.text == BODY
    assert article.meta["encoding"] == encoding


# -- folders ------------------------------------------------------------------------------------

def test_folder_walk_is_sorted_recursive_and_skips_hidden_and_other_types(tmp_path: Path) -> None:
    for rel in ["b.txt", "a.md", "sub/c.markdown", "sub/deeper/d.txt", "A/z.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"{rel}: {BODY}", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    result = ingest_sources([tmp_path])
    names = [Path(a.source).relative_to(tmp_path).as_posix() for a in result.articles]
    assert names == ["A/z.txt", "a.md", "b.txt", "sub/c.markdown", "sub/deeper/d.txt"]
    other = [w for w in result.warnings if not w.endswith(NO_DATE)]
    assert len(other) == 1 and "notes.pdf" in other[0]
    assert len(result.warnings) - len(other) == len(names)  # every file undated, each said
    assert ingest_sources([tmp_path]).articles == result.articles  # deterministic


def test_file_given_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(BODY, encoding="utf-8")
    result = ingest_sources([tmp_path / "a.txt", tmp_path])
    assert result.n_read == 1 and len(result.articles) == 1


def test_missing_source_raises_naming_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        ingest_sources([tmp_path / "nope"])


# -- jsonl --------------------------------------------------------------------------------------

RECORD = {"id": "r1", "outlet": "Daily  Planet", "date": "2022-03-04T10:15:00Z", "title": "Grain",
          "url": "https://example.org/1", "text": BODY, "author": ["Lois Lane", "Clark Kent"]}
# another article (same text and another id would be one article read twice: see test_assembly)
SECOND = {**RECORD, "id": "r2", "text": BODY + " Talks resume next week."}


def test_jsonl_fields_and_line_sources(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "c.jsonl", [RECORD, "", {**RECORD, "id": 7, "date": "2022-03-05",
                                                      "lang": "en", "author": "Jimmy Olsen"}])
    result = ingest_sources([path])
    assert result.n_read == 2 and result.rejects == [] and result.warnings == []
    first, second = result.articles
    assert first.source.endswith("c.jsonl:1") and second.source.endswith("c.jsonl:3")
    assert first.source_id == "r1" and second.source_id == "7"
    assert first.outlet == "Daily Planet"
    assert first.date == dt.date(2022, 3, 4) and second.date == dt.date(2022, 3, 5)
    assert first.author == "Lois Lane; Clark Kent" and second.author == "Jimmy Olsen"
    assert first.title == "Grain" and first.url == "https://example.org/1"
    assert second.lang == "en"
    assert first.meta == {"outlet": "field", "date": "field", "author": "field",
                          "title": "field", "url": "field", "encoding": "utf-8"}


def test_jsonl_gz(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(RECORD) + "\n" + json.dumps(SECOND) + "\n")
    result = ingest_sources([tmp_path])
    assert [a.source_id for a in result.articles] == ["r1", "r2"]
    assert result.articles[1].source.endswith("c.jsonl.gz:2")


@pytest.mark.parametrize(("codec", "encoding"), [("utf-16", "utf-16"), ("utf-8-sig", "utf-8-sig")])
def test_jsonl_with_bom(tmp_path: Path, codec: str, encoding: str) -> None:
    lines = json.dumps(RECORD, ensure_ascii=False) + "\n" + json.dumps(SECOND)
    (tmp_path / "c.jsonl").write_bytes(lines.encode(codec))
    result = ingest_sources([tmp_path])
    assert result.rejects == [] and [a.source_id for a in result.articles] == ["r1", "r2"]
    assert {a.meta["encoding"] for a in result.articles} == {encoding}


def test_jsonl_bad_date_is_a_warning_not_a_reject(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "c.jsonl", [{**RECORD, "date": "04/03/2022"},
                                         {**RECORD, "date": "2022-02-30"}])
    result = ingest_sources([path])
    assert result.rejects == [] and [a.date for a in result.articles] == [None, None]
    dates = [w for w in result.warnings if "bad date" in w]
    assert len(dates) == 2
    assert "c.jsonl:1" in dates[0] and "04/03/2022" in dates[0]
    assert "date" not in result.articles[0].meta


def test_jsonl_reader_streams(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "c.jsonl", [RECORD] * 3)
    records = read_jsonl_file(path, source="c.jsonl")
    assert inspect.isgenerator(records)
    assert isinstance(next(records), Article)


# -- rejects ------------------------------------------------------------------------------------

REJECT_CASES = {
    "empty.txt": (b"", "file", "empty file"),
    "blank.txt": (b" \n\t\n ", "file", "whitespace-only"),
    "binary.txt": (b"GIF89a\x00\x01\x02", "byte 6", "binary file"),
    "garbage.txt": (b"abc " + bytes(range(128, 256)), "byte 4", "undecodable"),
    "markup.md": (b"![photo](a.jpg)\n\n# \n", "file", "empty after cleaning"),
    "empty.jsonl": (b"", "file", "empty file"),
    "binary.jsonl": (b"\x00\x01\x02{}\n", "file", "binary file"),
}


@pytest.mark.parametrize("name", sorted(REJECT_CASES))
def test_file_rejects(tmp_path: Path, name: str) -> None:
    data, position, reason = REJECT_CASES[name]
    (tmp_path / name).write_bytes(data)
    result = ingest_sources([tmp_path])
    assert result.articles == [] and result.n_read == 1
    (reject,) = result.rejects
    assert reject.source.endswith(name)
    assert reject.position == position
    assert reason in reject.reason
    assert "\x00" not in reject.excerpt


LINE_CASES = [
    ('{"id": 1, "text": ', "not valid JSON"),
    ('["a", "list"]', "not a JSON object"),
    ('{"id": 3, "outlet": "X"}', "no 'text' field"),
    ('{"id": 4, "text": null}', "no 'text' field"),
    ('{"id": 5, "text": "   "}', "empty 'text' field"),
    ('{"id": 6, "text": ["not", "a", "string"]}', "not a string"),
    ('{"id": 7, "text": "![img](x.png)"}', "empty after cleaning"),
]


def test_jsonl_line_rejects_name_line_and_reason(tmp_path: Path) -> None:
    lines = [json.dumps(RECORD)] + [line for line, _ in LINE_CASES] + [json.dumps(RECORD)]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes("\n".join(lines).encode() + b"\n" + b'{"text": "caf\xe9"}\n')
    result = ingest_sources([path])
    assert_counts(result)
    assert result.n_read == len(LINE_CASES) + 3
    assert len(result.articles) == 2
    expected = [(f"line {i + 2}", reason) for i, (_, reason) in enumerate(LINE_CASES)]
    expected.append((f"line {len(lines) + 1}", "not UTF-8"))
    got = [(r.position, r.reason) for r in result.rejects]
    assert [p for p, _ in got] == [p for p, _ in expected]
    for (_, reason), (_, want) in zip(got, expected):
        assert want in reason
    assert all(r.source.endswith("mixed.jsonl") for r in result.rejects)
    assert result.rejects[0].excerpt.startswith('{"id": 1')


def test_latin1_text_is_decoded_by_a_recorded_guess(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes(
        "Le caf\u00e9 de la gare a ferm\u00e9 ses portes apr\u00e8s trente ann\u00e9es."
        .encode("latin-1"))
    (article,) = ingest_sources([tmp_path]).articles
    assert "caf\u00e9" in article.text and "apr\u00e8s" in article.text
    assert article.meta["encoding_guessed"] is True
    assert article.meta["encoding"] not in ("utf-8", "utf-8-sig", "utf-16")


def test_corrupt_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    good = gzip.compress((json.dumps(RECORD) + "\n").encode() * 50)
    (tmp_path / "broken.jsonl.gz").write_bytes(good[: len(good) - 12])  # truncated stream
    (tmp_path / "junk.jsonl.gz").write_bytes(b"this is not gzip at all")
    result = ingest_sources([tmp_path])
    assert_counts(result)
    broken = [r for r in result.rejects if "broken" in r.source]
    junk = [r for r in result.rejects if "junk" in r.source]
    assert len(broken) == 1 and broken[0].position.startswith("line")
    assert len(junk) == 1 and junk[0].position == "file"
    assert len(result.articles) == int(broken[0].position.split()[1]) - 1


def test_counts_add_up_over_a_mixed_folder(tmp_path: Path) -> None:
    for name, (data, _, _) in REJECT_CASES.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "good.txt").write_text(BODY, encoding="utf-8")
    jsonl(tmp_path / "many.jsonl", [RECORD, "{bad", RECORD, "", {"text": ""}])
    result = ingest_sources([tmp_path])
    assert_counts(result)
    assert len(result.articles) == 3
    assert len(result.rejects) == len(REJECT_CASES) + 2


# -- manifest -----------------------------------------------------------------------------------

HEADER = "file,outlet,date,author,title,url,evidence"


def test_manifest_relative_paths_win_and_warn_for_missing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text(f"# Heading title\n{BODY}", encoding="utf-8")
    (data / "b.md").write_text(f"# Heading title\n{BODY}", encoding="utf-8")
    (data / "c.txt").write_text(BODY, encoding="utf-8")
    jsonl(data / "d.jsonl", [RECORD])
    meta = tmp_path / "meta"
    meta.mkdir()
    manifest = write_manifest(meta / "m.csv", HEADER, [
        '../data/a.txt,The Outlet,2025-09-09,"Ann One;  Bob Two ;",A Title,http://a,note',
        "../data/b.md,,not a date,,,,",
        "../data/d.jsonl,Manifest Outlet,,,,,",
    ])
    result = ingest_sources([data], manifest=manifest)
    assert_counts(result)
    a, b, c, d = result.articles
    assert (a.outlet, a.date, a.author, a.title, a.url) == (
        "The Outlet", dt.date(2025, 9, 9), "Ann One; Bob Two", "A Title", "http://a")
    assert a.meta == {"outlet": "manifest", "date": "manifest", "author": "manifest",
                      "title": "manifest", "url": "manifest", "encoding": "utf-8"}
    assert b.outlet is None and b.date is None
    assert b.title == "Heading title" and b.meta["title"] == "text:heading"
    assert c.outlet is None and c.title is None
    assert d.outlet == "Manifest Outlet" and d.meta["outlet"] == "manifest"
    assert d.title == RECORD["title"] and d.meta["title"] == "field"
    assert any("m.csv: line 3" in w and "not a date" in w for w in result.warnings)
    assert any(w.endswith("c.txt: not in manifest; metadata read off the text only")
               for w in result.warnings)
    assert not any("a.txt" in w for w in result.warnings)


def test_manifest_in_walked_folder_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(BODY, encoding="utf-8")
    manifest = write_manifest(tmp_path / "manifest.csv", "file,outlet", ["a.txt,X"])
    result = ingest_sources([tmp_path], manifest=manifest)
    assert result.n_read == 1 and result.articles[0].outlet == "X"
    assert [w for w in result.warnings if not w.endswith(NO_DATE)] == []


def test_manifest_listing_unread_files_warns_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(BODY, encoding="utf-8")
    manifest = write_manifest(tmp_path / "m.csv", "file,outlet",
                              ["a.txt,X", "gone1.txt,Y", "gone2.txt,Z"])
    result = ingest_sources([tmp_path / "a.txt"], manifest=manifest)
    (warning,) = [w for w in result.warnings if not w.endswith(NO_DATE)]
    assert "2 listed file(s)" in warning and "gone1.txt" in warning


def test_read_manifest_values_and_row_warnings(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.csv", "File, Outlet ,date", [
        "x.txt,  Some   Outlet ,2024-01-02T08:00",
        ",Nobody,",
        "x.txt,Again,",
        "",
        "y.txt,Y,2024-13-01,extra",
    ])
    warnings: list[str] = []
    entries = read_manifest(manifest, warnings=warnings)
    x = entries[(tmp_path / "x.txt").resolve()]
    assert x["outlet"] == "Some Outlet" and x["date"] == dt.date(2024, 1, 2)
    assert x["author"] is None and x["url"] is None and x["line"] == 2
    y = entries[(tmp_path / "y.txt").resolve()]
    assert y["date"] is None and y["line"] == 6
    assert len(entries) == 2
    assert [w.split(": ")[1] for w in warnings] == ["line 3", "line 4", "line 6", "line 6"]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "line 1: empty manifest"),
        ("path,outlet\na.txt,X\n", "line 1: header has no 'file' column"),
        ("file,outlet,outlet\n", "duplicate column"),
    ],
)
def test_manifest_errors_name_file_and_line(tmp_path: Path, content: str, match: str) -> None:
    manifest = tmp_path / "bad.csv"
    manifest.write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match=match) as info:
        ingest_sources([tmp_path], manifest=manifest)
    assert "bad.csv" in str(info.value)
    assert isinstance(info.value, ValueError)


# -- the seed corpus ----------------------------------------------------------------------------

def test_seeds_with_manifest() -> None:
    if not (SEEDS / "raw").is_dir() or not (SEEDS / "manifest.csv").is_file():
        pytest.skip(f"seed corpus not found at {SEEDS}")
    with (SEEDS / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        rows = {Path(r["file"]).name: r for r in csv.DictReader(handle)}
    result = ingest_sources([SEEDS / "raw"], manifest=SEEDS / "manifest.csv")
    undated = sorted(Path(a.source).name for a in result.articles if a.date is None)
    assert result.rejects == []
    assert sorted(w.split(":")[0].rsplit("/", 1)[-1] for w in result.warnings) == undated
    assert all(w.endswith(NO_DATE) for w in result.warnings)
    assert result.n_read == len(result.articles) == 5
    for article in result.articles:
        row = rows[Path(article.source).name]
        assert article.outlet == (row["outlet"] or None)
        assert article.date == (dt.date.fromisoformat(row["date"]) if row["date"] else None)
        assert article.author == (row["author"] or None)
        assert article.text and "](" not in article.text
    assert len({a.article_id for a in result.articles}) == 5


# -- streaming into a store ---------------------------------------------------------------------

WORDS = ("grain gas rail port steel loan arms power talks envoy minister week aides said "
         "border army city plan vote court bank price tax deal fleet truck river bridge school "
         "farm").split()


def _body(seed: int, paragraphs: int = 2) -> str:
    """Paragraphs of seeded random words: unrelated bodies share words but few 5-word runs."""
    rng = random.Random(seed)
    return "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(60)) + "."
                       for _ in range(paragraphs))


def _streaming_corpus(tmp_path: Path) -> Path:
    """JSONL of 30 articles: a syndicated copy far from its original, exact copies, a same-id
    repeat, undated articles, a shared paragraph, and bad lines."""
    records: list = []
    for i in range(30):
        body = _body(i)
        records.append({"id": f"a{i}", "outlet": f"Outlet {i % 4}", "text": body,
                        "date": None if i % 7 == 3 else f"2024-03-{1 + i % 28:02d}"})
    original = records[2]["text"]
    typographic = (original.replace(" said ", " \u2014 said \u2014 ")
                   .replace(" aides", " \u201caides\u201d"))
    records.append({"id": "copy-late", "outlet": "Late Outlet", "date": "2024-03-30",
                    "text": typographic + "\n\nRepublished with permission of Outlet 2."})
    records.append({"id": "copy-early", "outlet": "Early Outlet", "date": "2024-02-01",
                    "text": records[20]["text"]})  # earlier than its source: the first occurrence
    records.append(dict(records[5]))  # the same article read twice
    records.append({"id": "quote", "outlet": "Q", "date": "2024-03-15",
                    "text": records[9]["text"].split("\n\n")[0] + "\n\n" + _body(99, 1)})
    records += ['{"text": "truncated', {"title": "no text field"}, {"text": "   "}]
    return jsonl(tmp_path / "feed.jsonl", records)


def _tables(store) -> dict:
    out = {}
    for table, key in (("articles", "article_id"), ("paragraphs", "paragraph_id"),
                       ("removed", "article_id, start"), ("rejects", "source, position")):
        frame = store.con.execute(f"SELECT * FROM {table} ORDER BY {key}").df()
        out[table] = frame.drop(columns=["ingested_at"], errors="ignore")
    return out


@pytest.mark.parametrize("batch", [1, 3, 7, 2000])
def test_streaming_ingest_equals_reading_everything_at_once(tmp_path: Path, batch: int) -> None:
    from narrative.dedup import mark_duplicate_articles, mark_duplicate_paragraphs
    from narrative.ingest.stream import ingest_into_store
    from narrative.segment import segment_articles
    from narrative.store import Store

    feed = _streaming_corpus(tmp_path)
    with Store(":memory:") as expected:
        result = ingest_sources([feed])
        articles = mark_duplicate_articles(result.articles)
        paragraphs = mark_duplicate_paragraphs(segment_articles(articles),
                                               [a.article_id for a in articles])
        expected.add_articles(articles)
        expected.add_removed(result.removed)
        expected.add_paragraphs(paragraphs)
        expected.add_rejects(result.rejects)
        want = _tables(expected)
    with Store(":memory:") as store:
        summary = ingest_into_store([feed], store, batch_articles=batch)
        got = _tables(store)
    for table in want:
        assert got[table].equals(want[table]), table
    assert (summary.n_read, summary.n_ingested, summary.n_rejected) == (37, 34, 3)
    assert summary.n_ingested + summary.n_rejected == summary.n_read
    assert summary.n_paragraphs == len(paragraphs) and summary.n_new_articles == 33
    assert sum(summary.reasons().values()) == 3
    links = dict(zip(got["articles"]["source_id"], got["articles"]["duplicate_of"]))
    ids = dict(zip(got["articles"]["source_id"], got["articles"]["article_id"]))
    assert links["copy-late"] == ids["a2"]  # a near copy, read after 28 others
    assert links["a20"] == ids["copy-early"]  # the earlier-dated copy is the first occurrence
    assert pd.isna(links["a5"]) and pd.isna(links["quote"])
    assert got["articles"]["duplicate_of"].notna().sum() == 2
    shared = got["paragraphs"][got["paragraphs"]["article_id"] == ids["quote"]]
    assert shared["duplicate_of"].notna().sum() == 1  # the quoted paragraph, not the article


def test_streaming_summary_keeps_counts_but_bounds_lists(tmp_path: Path, monkeypatch) -> None:
    from narrative.ingest import stream
    from narrative.store import Store

    monkeypatch.setattr(stream, "KEEP", 5)
    feed = jsonl(tmp_path / "bad.jsonl", ["{broken"] * 12 + [{"text": BODY, "date": "soon"}] * 8)
    with Store(tmp_path / "s.duckdb") as store:
        summary = stream.ingest_into_store([feed], store, batch_articles=4)
        assert store.count("rejects") == 12
    assert (summary.n_rejected, len(summary.rejects)) == (12, 5)
    assert summary.n_warnings >= 8 and len(summary.warnings) == 5
    assert summary.n_ingested == 8 and summary.n_new_articles == 1


def test_streaming_missing_source_writes_nothing(tmp_path: Path) -> None:
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    with Store(":memory:") as store:
        with pytest.raises(FileNotFoundError, match="nope"):
            ingest_into_store([tmp_path / "nope"], store)
        assert store.count("rejects") == 0


def test_rerun_on_stored_corpus_skips_linking_and_keeps_counts(tmp_path: Path, monkeypatch) -> None:
    """A re-run on the same corpus writes nothing, links nothing again and reports the same
    counts; one new article brings the full pass back, linked to the stored originals."""
    from narrative import dedup
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    feed = _streaming_corpus(tmp_path)
    with Store(tmp_path / "s.duckdb") as store:
        first = ingest_into_store([feed], store, batch_articles=5)
        before = _tables(store)
        calls = []
        real = dedup.CopyIndex.add_sketches
        monkeypatch.setattr(dedup.CopyIndex, "add_sketches",
                            lambda *a, **k: calls.append(1) or real(*a, **k))
        again = ingest_into_store([feed], store, batch_articles=5)
        assert calls == [] and _tables(store)["paragraphs"].equals(before["paragraphs"])
        assert (again.n_new_articles, again.n_new_paragraphs) == (0, 0)
        assert (again.n_paragraphs, again.n_article_copies, again.n_paragraph_copies) == (
            first.n_paragraphs, first.n_article_copies, first.n_paragraph_copies)
        assert again.n_rejected == first.n_rejected

        copied = store.articles().iloc[0]
        extra = jsonl(tmp_path / "extra.jsonl", [{"id": "late-copy", "outlet": "Echo",
                                                  "date": "2031-01-01", "text": copied["text"]}])
        more = ingest_into_store([feed, extra], store, batch_articles=5)
        assert calls and more.n_new_articles == 1
        new = store.articles().query("source_id == 'late-copy'")
        original = copied["article_id"] if pd.isna(copied["duplicate_of"]) else copied["duplicate_of"]
        assert new["duplicate_of"].tolist() == [original]


# -- persisted copy-detection sketches ---------------------------------------------------------

def _two_step_corpus(tmp_path: Path, *, earlier: bool = False) -> tuple[Path, Path]:
    """Demo-generator articles: weeks 1-2 (stored first), then week 3 with a copy of a stored
    article, a near copy, a stored paragraph reworded inside a new article and, with
    ``earlier``, a copy dated before everything stored (it becomes the first occurrence)."""
    from narrative.sample import generate_demo_corpus

    corpus = generate_demo_corpus(3, n_weeks=3, articles_per_outlet_week=2, syndication_rate=0.5)
    records = [{"id": a["id"], "outlet": a["outlet"], "date": a["date"].isoformat(),
                "title": a["title"], "text": a["text"]} for a in corpus.articles]
    first = [r for r in records if r["date"] < "2025-06-16"]
    later = [r for r in records if r["date"] >= "2025-06-16"]
    stored = {r["id"]: r for r in first}
    source = first[3]["text"]
    typographic = source.replace(" said ", " \u2014 said \u2014 ").replace(". ", ".  ")
    reworded = first[5]["text"].split("\n\n")[0].replace(" the ", " this ", 1)
    later += [
        {"id": "mirror", "outlet": "Mirror", "date": "2025-06-25", "text": source},
        {"id": "echo", "outlet": "Echo", "date": "2025-06-26",
         "text": typographic + "\n\nRepublished with permission of the original outlet."},
        {"id": "mixed", "outlet": "Mixed", "date": "2025-06-27",
         "text": reworded + "\n\n" + later[0]["text"].split("\n\n")[-1] + " " + _body(7, 1)},
    ]
    if earlier:
        later.append({"id": "early", "outlet": "Early", "date": "2025-05-01",
                      "text": stored[first[8]["id"]]["text"]})
    return jsonl(tmp_path / "first.jsonl", first), jsonl(tmp_path / "later.jsonl", later)


def _forget_sketches(path: Path) -> None:
    """Make ``path`` a store from before the sketch tables (they come back empty on opening)."""
    from narrative.store import Store

    with Store(path) as store:
        store.con.execute("DROP TABLE article_sketches").fetchall()
        store.con.execute("DROP TABLE paragraph_sketches").fetchall()
        store.con.execute("DELETE FROM meta WHERE key = 'sketch_params'").fetchall()


def _ingest_twice(tmp_path: Path, name: str, first: Path, later: Path, *, forget: bool = False,
                  before_second=None) -> tuple[dict, object]:
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    path = tmp_path / f"{name}.duckdb"
    with Store(path) as store:
        ingest_into_store([first], store, batch_articles=7)
    if forget:
        _forget_sketches(path)
    with Store(path) as store:
        if before_second is not None:
            before_second(store)
        summary = ingest_into_store([first, later], store, batch_articles=7)
        return _tables(store), summary


def _counts(summary) -> tuple:
    return (summary.n_read, summary.n_new_articles, summary.n_paragraphs,
            summary.n_new_paragraphs, summary.n_article_copies, summary.n_paragraph_copies)


@pytest.mark.parametrize("earlier", [False, True])
def test_adding_articles_with_stored_sketches_links_as_sketching_everything(
        tmp_path: Path, earlier: bool) -> None:
    """Two-step ingest, the second step reading the stored articles' sketches, gives the store
    the same two-step ingest gives without them (a store from before the sketch tables) and,
    when nothing new is dated before what is stored, the store a one-step ingest gives."""
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    first, later = _two_step_corpus(tmp_path, earlier=earlier)
    reused, reused_summary = _ingest_twice(tmp_path, "reused", first, later)
    remade, remade_summary = _ingest_twice(tmp_path, "remade", first, later, forget=True)
    for table in reused:
        assert reused[table].equals(remade[table]), table
    assert _counts(reused_summary) == _counts(remade_summary)

    articles, paragraphs = reused["articles"], reused["paragraphs"]
    ids = dict(zip(articles["source_id"], articles["article_id"]))
    links = dict(zip(articles["source_id"], articles["duplicate_of"]))
    first_ids = [json.loads(line)["id"] for line in first.read_text().splitlines()]
    assert links["mirror"] == links["echo"] == ids[first_ids[3]]  # exact and near, to stored
    mixed = paragraphs[paragraphs["article_id"] == ids["mixed"]].sort_values("position")
    stored_paragraphs = set(paragraphs["paragraph_id"][paragraphs["article_id"].isin(
        [ids[i] for i in first_ids])])
    assert mixed["duplicate_of"].iloc[0] in stored_paragraphs  # a reworded stored paragraph
    if earlier:
        assert pd.isna(links["early"]) and links[first_ids[8]] == ids["early"]  # relinked to it
        return
    with Store(tmp_path / "one.duckdb") as store:
        one_summary = ingest_into_store([first, later], store, batch_articles=7)
        once = _tables(store)
    for table in reused:
        assert reused[table].equals(once[table]), table
    assert (one_summary.n_paragraphs, one_summary.n_article_copies,
            one_summary.n_paragraph_copies) == (reused_summary.n_paragraphs,
                                                reused_summary.n_article_copies,
                                                reused_summary.n_paragraph_copies)


def test_stored_articles_are_not_sketched_again(tmp_path: Path, monkeypatch) -> None:
    """The second step sketches the new articles and their paragraphs only; a store from before
    the sketch tables sketches every article once more, and fills the tables for the next."""
    from narrative import dedup
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    sketched: list[tuple[int, str]] = []
    real = dedup.CopyIndex.sketch

    def sketch(index, texts):
        sketched.extend((index.num_perm, t) for t in texts)
        return real(index, texts)

    first, later = _two_step_corpus(tmp_path)
    n_later = len(later.read_text().splitlines())
    for forget in (False, True):
        path = tmp_path / f"s{forget}.duckdb"
        with Store(path) as store:
            ingest_into_store([first], store, batch_articles=7)
            stored = store.articles()
        if forget:
            _forget_sketches(path)
        with Store(path) as store:
            sketched.clear()
            monkeypatch.setattr(dedup.CopyIndex, "sketch", sketch)
            summary = ingest_into_store([first, later], store, batch_articles=7)
            monkeypatch.undo()
            texts = Counter(t for perm, t in sketched if perm == 128)  # the article index
            n_paragraph_texts = sum(perm == 64 for perm, _ in sketched)
            articles = store.articles()
            new = articles[~articles["article_id"].isin(stored["article_id"])]
            assert summary.n_new_articles == len(new) == n_later
            if forget:
                assert texts == Counter(articles["text"])
            else:  # the new articles' texts only (one of them repeats a stored text)
                assert texts == Counter(new["text"])
                assert n_paragraph_texts == summary.n_new_paragraphs
            assert store.count("article_sketches") == store.count("articles")
            assert store.count("paragraph_sketches") == store.count("paragraphs")


def test_sketches_of_other_parameters_are_made_again_not_misread(tmp_path: Path) -> None:
    from narrative.dedup import paragraph_index

    first, later = _two_step_corpus(tmp_path)
    want, _ = _ingest_twice(tmp_path, "want", first, later)
    params = {}

    def tamper(store) -> None:  # other parameters, and rows that would be wrong under these
        params.update(store.sketch_params())
        other = dict(params, paragraph=dict(params["paragraph"], shingle=4))
        store.con.execute("UPDATE meta SET value = ? WHERE key = 'sketch_params'",
                          [json.dumps(other)]).fetchall()
        for table in ("article_sketches", "paragraph_sketches"):
            store.con.execute(f"UPDATE {table} SET exact_key = 0").fetchall()

    got, _ = _ingest_twice(tmp_path, "got", first, later, before_second=tamper)
    for table in want:
        assert got[table].equals(want[table]), table
    from narrative.store import Store

    with Store(tmp_path / "got.duckdb") as store:
        assert store.sketch_params() == params
        assert params["paragraph"] == paragraph_index().sketch_params
        assert store.one("SELECT count(*) FROM article_sketches WHERE exact_key = 0")[0] == 0
        assert store.count("paragraph_sketches") == store.count("paragraphs")


def test_sketches_are_written_with_their_articles(tmp_path: Path, monkeypatch) -> None:
    """A batch whose sketches cannot be written leaves neither its articles nor paragraphs."""
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    first, later = _two_step_corpus(tmp_path)

    def fail(self, articles, paragraphs):
        raise OSError("disk full")

    with Store(tmp_path / "s.duckdb") as store:
        monkeypatch.setattr(Store, "add_sketches", fail)
        with pytest.raises(OSError, match="disk full"):
            ingest_into_store([first, later], store, batch_articles=10_000)
        assert store.count("articles") == 0 and store.count("paragraphs") == 0


# -- records assembled before ------------------------------------------------------------------

def _count_builds(monkeypatch) -> list[str]:
    from narrative.ingest.assemble import Assembler

    built: list[str] = []
    real = Assembler._build

    def counting(self, raw, **kw):
        built.append(raw)
        return real(self, raw, **kw)

    monkeypatch.setattr(Assembler, "_build", counting)
    return built


def test_a_record_read_again_is_not_assembled_again(tmp_path: Path, monkeypatch) -> None:
    """Re-reading the same records takes their articles from the store by record key: no
    cleaning, metadata or boilerplate work, same store. A changed record is built (and stored)
    again; other ingest options, or copy-detection settings whose sketches are gone, build
    everything again."""
    from narrative.config import Settings
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    first, later = _two_step_corpus(tmp_path)
    built = _count_builds(monkeypatch)
    with Store(tmp_path / "s.duckdb") as store:
        ingest_into_store([first], store, batch_articles=7)
        n_records = len(first.read_text().splitlines())
        assert len(built) == n_records and store.count("record_keys") == store.count("articles")
        before = _tables(store)

        built.clear()
        again = ingest_into_store([first], store, batch_articles=7)
        assert built == [] and again.n_ingested == n_records and again.n_new_articles == 0
        for table in before:
            assert _tables(store)[table].equals(before[table]), table

        built.clear()
        more = ingest_into_store([first, later], store, batch_articles=7)
        assert len(built) == len(later.read_text().splitlines())  # only the new records
        assert more.n_new_articles == len(built)

        records = [json.loads(line) for line in first.read_text().splitlines()]
        records[2]["text"] += "\n\nA correction was appended to this story on Tuesday."
        edited = jsonl(tmp_path / "edited.jsonl", records)
        built.clear()
        summary = ingest_into_store([edited, later], store, batch_articles=7)
        assert [b.endswith("on Tuesday.") for b in built] == [True]
        assert summary.n_new_articles == 1

        built.clear()
        ingest_into_store([first], store, batch_articles=7, boilerplate=False)
        assert len(built) == n_records  # other options: other keys

        built.clear()
        ingest_into_store([first], store, batch_articles=7,
                          settings=Settings(min_paragraph_words=3))
        assert len(built) == n_records  # sketches made again: the texts are needed


def test_a_store_from_before_record_keys_learns_them_on_the_next_ingest(
        tmp_path: Path, monkeypatch) -> None:
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    first, _ = _two_step_corpus(tmp_path)
    path = tmp_path / "old.duckdb"
    with Store(path) as store:
        ingest_into_store([first], store, batch_articles=7)
        store.con.execute("DROP TABLE record_keys").fetchall()
    built = _count_builds(monkeypatch)
    with Store(path) as store:
        assert store.count("record_keys") == 0
        ingest_into_store([first], store, batch_articles=7)  # nothing new: all built, known
        assert len(built) == len(first.read_text().splitlines())
        assert store.count("record_keys") == store.count("articles")
        built.clear()
        ingest_into_store([first], store, batch_articles=7)
        assert built == []

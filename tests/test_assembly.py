"""What the Assembler decides for every record: nothing it reads is lost without a word.

Two records of one article (same outlet, date and cleaned text, so one article id) that carry
different metadata keep both: the first becomes the article, the second a reject whose excerpt
holds its metadata. Boilerplate rules never eat a record's only text.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from narrative.ingest import ingest_sources
from narrative.ingest.boilerplate import Rule
from narrative.schema import content_hash

BODY = ("The ministers met on Tuesday to discuss the grain corridor and the sanctions package "
        "that has stalled for several weeks now.")
MORE = "Officials said a second round of talks would follow in the spring."


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def rows(store, table: str) -> list[tuple]:
    """A table's rows in a fixed order, without the ingest time."""
    drop = " EXCLUDE (ingested_at)" if table in ("articles", "rejects") else ""
    return store.con.execute(f"SELECT *{drop} FROM {table} ORDER BY ALL").fetchall()


def record(**values: str) -> dict:
    return {"outlet": "Daily Planet", "date": "2022-06-01", "text": f"{BODY}\n\n{MORE}", **values}


# -- case 4: one article, two records with different metadata ------------------------------------

@pytest.mark.parametrize("field", ["id", "title", "url", "author"])
def test_a_second_record_with_other_metadata_is_kept_as_a_reject(tmp_path: Path,
                                                                  field: str) -> None:
    first = record(id="p1", title="Talks resume", url="https://planet.example/a",
                   author="Ann Smith")
    second = dict(first, **{field: {"id": "p2", "title": "Talks to resume",
                                    "url": "https://planet.example/b",
                                    "author": "Bob Jones"}[field]})
    result = ingest_sources([jsonl(tmp_path / "feed.jsonl", [first, second])])
    assert result.n_read == 2 and len(result.articles) + len(result.rejects) == 2
    (article,) = result.articles
    assert article.source_id == "p1" and article.title == "Talks resume"
    (reject,) = result.rejects
    assert reject.position == "line 2"
    assert "same outlet, date and text" in reject.reason and f"another {field}" in reject.reason
    kept = json.loads(reject.excerpt)
    assert kept["article_id"] == article.article_id
    assert kept[field] == second[field]  # the second record's own value is in the store


def test_exact_duplicate_records_still_merge_with_the_duplicate_id_warning(tmp_path: Path) -> None:
    same = record(id="p1", title="Talks resume")
    result = ingest_sources([jsonl(tmp_path / "feed.jsonl", [same, same])])
    assert result.rejects == [] and len(result.articles) == 2
    assert len({a.article_id for a in result.articles}) == 1
    assert any("duplicate id 'p1'" in w for w in result.warnings)


def test_a_record_missing_a_value_the_first_has_merges(tmp_path: Path) -> None:
    full = record(id="p1", title="Talks resume")
    bare = record(id="p1")  # nothing of its own would be lost
    result = ingest_sources([jsonl(tmp_path / "feed.jsonl", [full, bare])])
    assert result.rejects == [] and result.articles[0].title == "Talks resume"


def test_colliding_records_ingest_idempotently_with_their_metadata_in_the_store(
        tmp_path: Path) -> None:
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    feed = jsonl(tmp_path / "feed.jsonl", [
        record(id="p1", title="Talks resume"), record(id="p2", title="Talks to resume"),
        record(id="q1", text=f"{MORE}\n\n{BODY}")])  # an ordinary article beside them
    ordinary = content_hash("Daily Planet", dt.date(2022, 6, 1), f"{MORE}\n\n{BODY}")
    with Store(tmp_path / "s.duckdb") as store:
        first = ingest_into_store([feed], store)
        tables = {t: rows(store, t) for t in ("articles", "rejects", "paragraphs", "removed")}
        again = ingest_into_store([feed], store)
        for table, before in tables.items():
            assert rows(store, table) == before, table
        (excerpt,) = store.con.execute("SELECT excerpt FROM rejects").fetchone()
        ids = [r[0] for r in store.con.execute("SELECT article_id FROM articles").fetchall()]
    assert (first.n_read, first.n_ingested, first.n_rejected) == (3, 2, 1)
    assert (again.n_read, again.n_ingested, again.n_rejected) == (3, 2, 1)
    assert json.loads(excerpt)["title"] == "Talks to resume"
    assert ordinary in ids  # an ordinary record's id is the content hash it always was


def test_a_colliding_record_read_in_a_later_ingest_is_kept_as_a_reject(tmp_path: Path) -> None:
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    jsonl(tmp_path / "a.jsonl", [record(id="p1", title="Talks resume")])
    with Store(tmp_path / "s.duckdb") as store:
        ingest_into_store([tmp_path], store)
        jsonl(tmp_path / "b.jsonl", [record(id="p2", title="Talks to resume")])
        summary = ingest_into_store([tmp_path], store)
        (excerpt,) = store.con.execute("SELECT excerpt FROM rejects").fetchone()
    assert (summary.n_read, summary.n_ingested, summary.n_rejected) == (2, 1, 1)
    assert json.loads(excerpt)["id"] == "p2"


@pytest.mark.parametrize("field", ["id", "url", "author"])
def test_a_colliding_record_of_a_later_ingest_alone_is_kept_as_a_reject(tmp_path: Path,
                                                                        field: str) -> None:
    """Only the new file is given: its record's article is already stored from another
    record, with other metadata. It becomes a reject with its values, not a silent no-op."""
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    first = record(id="p1", url="https://planet.example/a", author="Ann Smith")
    second = dict(first, **{field: {"id": "p2", "url": "https://planet.example/b",
                                    "author": "Bob Jones"}[field]})
    with Store(tmp_path / "s.duckdb") as store:
        ingest_into_store([jsonl(tmp_path / "a.jsonl", [first])], store)
        articles = rows(store, "articles")
        summary = ingest_into_store([jsonl(tmp_path / "b.jsonl", [second])], store)
        rejects = store.con.execute("SELECT source, position, reason, excerpt FROM rejects").fetchall()
        assert rows(store, "articles") == articles  # the stored article is unchanged
        again = ingest_into_store([tmp_path / "b.jsonl"], store)  # idempotent
        assert store.count("rejects") == 1
    assert (summary.n_read, summary.n_ingested, summary.n_rejected) == (1, 0, 1)
    assert (again.n_read, again.n_ingested, again.n_rejected) == (1, 0, 1)
    ((source, position, reason, excerpt),) = rejects
    assert source.endswith("b.jsonl") and position == "line 1"
    assert f"another {field}" in reason and "stored" in reason
    assert json.loads(excerpt)[field] == second[field]


def test_the_same_record_read_again_by_a_later_ingest_is_no_reject(tmp_path: Path) -> None:
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    same = record(id="p1", url="https://planet.example/a")
    with Store(tmp_path / "s.duckdb") as store:
        ingest_into_store([jsonl(tmp_path / "a.jsonl", [same])], store)
        summary = ingest_into_store([jsonl(tmp_path / "b.jsonl", [same, record(id="p1")])], store)
        assert store.count("rejects") == 0
    assert (summary.n_read, summary.n_ingested, summary.n_rejected) == (2, 2, 0)


# -- case 5: boilerplate rules never eat a record's only text -------------------------------------

@pytest.mark.parametrize("headline", ["In pictures: Kyiv's metro becomes a shelter",
                                      "Pictures: the week the grain ships sailed"])
def test_a_headline_only_record_is_not_eaten_as_a_photo_credit(tmp_path: Path,
                                                              headline: str) -> None:
    result = ingest_sources([jsonl(tmp_path / "feed.jsonl",
                                   [{"title": headline, "text": headline}])])
    assert result.rejects == []
    (article,) = result.articles
    assert article.text == headline


def test_no_rule_may_leave_nothing_and_the_kept_text_is_explained(tmp_path: Path) -> None:
    promo = "Share on Facebook | Twitter | Email"
    result = ingest_sources([jsonl(tmp_path / "feed.jsonl", [{"id": "s1", "text": promo}])])
    assert result.rejects == []
    (article,) = result.articles
    assert article.text == promo and article.meta["boilerplate_kept"] == ["share_buttons"]
    assert any("share_buttons" in w and "kept" in w for w in result.warnings)


def test_no_rule_may_leave_only_the_title(tmp_path: Path) -> None:
    page = tmp_path / "gallery.md"
    page.write_text("# Kyiv after the storm\n\nPhoto: the city's parks under the first snow\n",
                    encoding="utf-8")
    (article,) = ingest_sources([page]).articles
    assert article.title == "Kyiv after the storm"
    assert "first snow" in article.text and article.meta["boilerplate_kept"] == ["photo_credit"]


def test_rules_still_cut_around_real_prose(tmp_path: Path) -> None:
    text = f"In pictures: the grain ships\n\n{BODY}\n\nPhoto: Reuters/Jane Doe"
    (article,) = ingest_sources([jsonl(tmp_path / "feed.jsonl", [{"text": text}])]).articles
    assert article.text == f"In pictures: the grain ships\n\n{BODY}"  # a gallery heading stays
    assert "boilerplate_kept" not in article.meta


def test_a_record_of_only_overlong_runs_is_still_rejected(tmp_path: Path) -> None:
    blob = "x" * 5000
    result = ingest_sources([jsonl(tmp_path / "feed.jsonl", [{"text": f"Share\n\n{blob}"}])],
                            boilerplate=[Rule("share", "share", match="line")])
    assert [a.text for a in result.articles] == ["Share"]  # the rule spared, the blob still cut
    result = ingest_sources([jsonl(tmp_path / "only.jsonl", [{"text": blob}])])
    (reject,) = result.rejects
    assert reject.reason.startswith("no prose")

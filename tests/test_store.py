import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from narrative.schema import Article, Paragraph, Reject
from narrative.store import RunRecord, Store, StoreError


def _article(text="Some text here.", outlet="X"):
    return Article(text=text, source="a.txt", outlet=outlet, date=dt.date(2025, 1, 6), meta={"outlet": "field"})


def test_articles_and_paragraphs_are_idempotent(tmp_path):
    path = tmp_path / "s.duckdb"
    a = _article()
    p = Paragraph(a.article_id, 0, 0, len(a.text), a.text)
    with Store(path) as st:
        assert st.add_articles([a, a]) == 1
        assert st.add_paragraphs([p]) == 1
        assert st.add_rejects([Reject("b.jsonl", "line 3", "invalid JSON", "{oops")]) == 1
    with Store(path) as st:  # reopen: same rows, nothing added twice
        assert st.add_articles([a]) == 0
        assert st.add_paragraphs([p]) == 0
        assert st.add_rejects([Reject("b.jsonl", "line 3", "invalid JSON", "{oops")]) == 0
        arts = st.articles()
        assert arts.loc[0, "article_id"] == a.article_id and str(arts.loc[0, "date"])[:10] == "2025-01-06"
        assert st.paragraphs().loc[0, "text_hash"] == p.text_hash
        assert st.rejects().loc[0, "reason"] == "invalid JSON"


def test_embedding_cache_round_trip(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        vecs = np.random.default_rng(0).random((3, 4), dtype=np.float32)
        assert st.put_embeddings(["h1", "h2", "h3"], vecs, "m") == 3
        assert st.cached_hashes(["h1", "h3", "h9"], "m") == {"h1", "h3"}
        assert st.cached_hashes(["h1"], "other-model") == set()
        got = st.get_embeddings(["h3", "h1", "h3"], "m")
        assert np.array_equal(got, vecs[[2, 0, 2]])
        with pytest.raises(StoreError, match="no m embedding"):
            st.get_embeddings(["h9"], "m")


def test_run_is_saved_all_or_nothing(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        record = RunRecord("r1", {"seed": 1}, "cb", {"x": "1"}, 1, "fp", {"n": 2})
        narratives = pd.DataFrame(
            {"narrative_id": [-1, 0], "label": ["unassigned", "A"], "codebook_name": [None, "A"],
             "top_terms": [[], ["a", "b"]], "size": [1, 1]}
        )
        bad = pd.DataFrame({"paragraph_id": ["p1"], "narrative_id": ["not-an-int"], "probability": [0.5]})
        with pytest.raises(Exception):
            st.save_run(record, narratives, bad)
        assert st.count("runs") == 0 and st.count("narratives") == 0
        good = pd.DataFrame({"paragraph_id": ["p1", "p2"], "narrative_id": [0, -1], "probability": [0.5, 0.1]})
        st.save_run(record, narratives, good)
        assert st.latest_run_id() == "r1"
        assert st.narratives("r1")["top_terms"].tolist() == [[], ["a", "b"]]
        assert st.assignments("r1")["narrative_id"].tolist() == [0, -1]
        with pytest.raises(StoreError, match="unknown run 'nope'"):
            st.run("nope")


def test_read_only_open_of_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="no such store"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_sub_narratives_and_sub_ids_round_trip(tmp_path):
    record = RunRecord("r1", {"seed": 1}, "cb", {"x": "1"}, 1, "fp", {"n": 3})
    narratives = pd.DataFrame({"narrative_id": [0, -1], "label": ["a", "unassigned"],
                               "codebook_name": [None, None], "top_terms": [["x"], []], "size": [2, 1]})
    assignments = pd.DataFrame({"paragraph_id": ["p1", "p2", "p3"], "narrative_id": [0, 0, -1],
                                "probability": [0.9, 0.8, 0.1], "sub_id": [1, 0, -1]})
    subs = pd.DataFrame({"narrative_id": [0, 0], "sub_id": [0, 1], "label": ["a one", "a two"],
                         "top_terms": [["y", "z"], ["w"]], "size": [1, 1]})
    with Store(tmp_path / "s.duckdb") as st:
        st.save_run(record, narratives, assignments, subs)
        got = st.sub_assignments("r1")
        table = st.subnarratives("r1")
        plain = st.assignments("r1")
    assert got["sub_id"].tolist() == [1, 0, -1]
    assert table["label"].tolist() == ["a one", "a two"] and table["top_terms"].tolist() == [["y", "z"], ["w"]]
    assert list(plain.columns) == ["paragraph_id", "narrative_id", "probability"]


def test_a_run_saved_without_sub_ids_reads_as_none(tmp_path):
    record = RunRecord("r1", {"seed": 1}, "cb", {"x": "1"}, 1, "fp", {"n": 1})
    narratives = pd.DataFrame({"narrative_id": [0], "label": ["a"], "codebook_name": [None],
                               "top_terms": [["x"]], "size": [1]})
    with Store(tmp_path / "s.duckdb") as st:
        st.save_run(record, narratives, pd.DataFrame(
            {"paragraph_id": ["p1"], "narrative_id": [0], "probability": [0.5]}))
        assert st.sub_assignments("r1")["sub_id"].tolist() == [-1]
        assert st.subnarratives("r1").empty


def _run(run_id="r1"):
    record = RunRecord(run_id, {"seed": 1}, "cb", {"x": "1"}, 1, "fp", {"n": 3})
    narratives = pd.DataFrame({"narrative_id": [0, 1, -1], "label": ["a", "b", "unassigned"],
                               "codebook_name": [None] * 3, "top_terms": [["x"], ["y"], []],
                               "size": [1, 1, 1]})
    assignments = pd.DataFrame({"paragraph_id": ["p1", "p2", "p3"], "narrative_id": [0, 1, -1],
                                "probability": [0.9, 0.8, 0.1]})
    return record, narratives, assignments


def test_distributions_are_saved_with_the_run_and_replaced_with_it(tmp_path):
    record, narratives, assignments = _run()
    rows = pd.DataFrame({"paragraph_id": ["p1", "p1", "p2"], "narrative_id": [0, 1, 1],
                         "weight": [0.75, 0.25, 1.0]})
    with Store(tmp_path / "s.duckdb") as st:
        st.save_run(record, narratives, assignments, distributions=rows)
        st.save_run(replace(record, run_id="r2"), narratives, assignments,
                    distributions=rows.iloc[2:])
        pd.testing.assert_frame_equal(st.distributions("r1"), rows, check_dtype=False)
        # Saving a run again replaces all its rows: fewer, or none when none are given.
        st.save_run(record, narratives, assignments, distributions=rows.iloc[:2])
        assert st.distributions("r1")["weight"].tolist() == [0.75, 0.25]
        st.save_run(record, narratives, assignments)
        assert st.distributions("r1").empty and len(st.distributions("r2")) == 1
        # All or nothing: a run whose distribution rows cannot be written is not saved at all.
        with pytest.raises(Exception):
            st.save_run(replace(record, run_id="r3"), narratives, assignments,
                        distributions=rows.assign(weight=["heavy", "light", "none"]))
        assert st.one("SELECT count(*) FROM runs WHERE run_id = 'r3'")[0] == 0
        assert st.one("SELECT count(*) FROM assignments WHERE run_id = 'r3'")[0] == 0


def test_a_store_from_before_distributions_reads_as_none(tmp_path):
    record, narratives, assignments = _run()
    path = tmp_path / "old.duckdb"
    with Store(path) as st:
        st.save_run(record, narratives, assignments)
        st.con.execute("DROP TABLE distributions").fetchall()  # as a store written before it
    with Store(path, read_only=True) as st:
        assert list(st.distributions("r1").columns) == ["paragraph_id", "narrative_id", "weight"]
        assert st.distributions("r1").empty
    with Store(path) as st:  # opened for writing, it gains the table
        assert st.count("distributions") == 0


def _sketch_frames(texts, article_ids):
    from narrative.dedup import article_index

    index = article_index()
    sketches = index.sketch(texts)
    frame = pd.DataFrame({"article_id": article_ids, **sketches.to_columns()})
    return index, sketches, frame


def test_sketches_round_trip_and_need_their_article(tmp_path):
    from narrative.dedup import Sketches
    from narrative.store import PARAGRAPH_SKETCH_COLUMNS

    long = " ".join(f"word{i} of a sentence long enough for a signature" for i in range(12))
    articles = [_article(long), _article("Too short.", outlet="Y")]
    ids = [a.article_id for a in articles]
    index, sketches, frame = _sketch_frames([a.text for a in articles], ids)
    paragraphs = pd.DataFrame({"paragraph_id": ["p0", "p1"], "article_id": ids[:1] * 2,
                               "position": [1, 0], **sketches.to_columns()})
    with Store(tmp_path / "s.duckdb") as st:
        assert st.sketch_params() is None and st.sketched_articles(ids).tolist() == [False] * 2
        with st.transaction():
            st.add_articles(articles[:1])  # the second article is not stored
            assert st.add_sketches(frame, paragraphs) == 2
        assert st.add_sketches(frame, paragraphs) == 0  # idempotent, like every add_*
    with Store(tmp_path / "s.duckdb") as st:
        assert st.sketched_articles(ids + ["nope"]).tolist() == [True, False, False]
        back = st.article_sketches(ids).set_index("article_id").loc[ids]
        got = Sketches.from_columns(back["exact_key"].to_numpy(), back["n_shingles"].to_numpy(),
                                    back["signature"].tolist(), back["bands"].tolist(),
                                    num_perm=index.num_perm, n_bands=index.bands)
        for field in ("exact", "sizes", "signatures", "bands"):
            assert np.array_equal(getattr(got, field), getattr(sketches, field)), field
        assert got.sizes[1] == 0 and back["signature"].isna().tolist() == [False, True]
        stored = st.paragraph_sketches(ids)
        assert list(stored.columns) == PARAGRAPH_SKETCH_COLUMNS
        assert stored["paragraph_id"].tolist() == ["p1", "p0"]  # by article, then position
        assert st.article_sketches([]).empty and st.paragraph_sketches([]).empty

        st.reset_sketches({"article": {"num_perm": 128}})
        assert st.sketch_params() == {"article": {"num_perm": 128}}
        assert st.count("article_sketches") == 0 and st.count("paragraph_sketches") == 0


def test_store_from_before_the_sketch_tables_gets_them_empty(tmp_path):
    path = tmp_path / "old.duckdb"
    with Store(path) as st:
        st.add_articles([_article()])
        st.con.execute("DROP TABLE article_sketches").fetchall()
        st.con.execute("DROP TABLE paragraph_sketches").fetchall()
    with Store(path) as st:
        assert st.count("articles") == 1
        assert st.count("article_sketches") == 0 and st.count("paragraph_sketches") == 0
        assert st.sketch_params() is None
        assert st.sketched_articles([_article().article_id]).tolist() == [False]


def test_narrative_kinds_are_a_column_and_older_runs_read_them_from_their_stats(tmp_path):
    from narrative.saved_runs import narrative_table

    record, narratives, assignments = _run()
    record = replace(record, stats={"kinds": {"0": "named", "1": "off-topic", "-1": "unassigned"}})
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        st.save_run(record, narratives.assign(kind=["discovered", "off-topic", "unassigned"]),
                    assignments)
        assert list(st.narratives("r1")["kind"]) == ["unassigned", "discovered", "off-topic"]
        assert list(narrative_table(st, "r1")["kind"]) == ["unassigned", "discovered", "off-topic"]
        st.con.execute("ALTER TABLE narratives DROP COLUMN kind").fetchall()  # as before it
    with Store(path, read_only=True) as st:  # not migrated: the stats name the kinds
        assert st.narratives("r1")["kind"].isna().all()
        assert list(narrative_table(st, "r1")["kind"]) == ["unassigned", "named", "off-topic"]
    with Store(path) as st:  # opened for writing, it gains the column, empty for the old run
        assert st.narratives("r1")["kind"].isna().all()

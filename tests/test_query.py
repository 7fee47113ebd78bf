"""narrative.query.paragraphs: the paragraphs behind a share, checked against the drift grouping."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from narrative.drift import labelled_paragraphs
from narrative.errors import InputError, StoreError
from narrative.saved_runs import narrative_table
from narrative.query import QUERY_COLUMNS, UNKNOWN_OUTLET, paragraphs
from narrative.store import Store

from .explore_store import FERRIES, ORCHARDS, RUN_ID, build_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path, _settings = build_store(tmp_path_factory.mktemp("query"))
    with Store(path, read_only=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def labelled(store):
    """The drift's own grouping of the run (pandas), to check the SQL against."""
    return labelled_paragraphs(store.articles(), store.paragraphs(), store.assignments(RUN_ID),
                               narrative_table(store, RUN_ID), period="week")


def test_every_paragraph_of_the_run_with_its_metadata(store):
    frame = paragraphs(store, RUN_ID)
    assert list(frame.columns) == QUERY_COLUMNS
    assert len(frame) == store.count("paragraphs") == len(store.assignments(RUN_ID))
    assert frame["paragraph_id"].is_unique
    articles = store.articles().set_index("article_id")
    texts = store.paragraphs().set_index("paragraph_id")["text"]
    for row in frame.head(20).itertuples():
        article = articles.loc[row.article_id]
        assert row.title == article["title"] and row.url == article["url"]
        assert row.author == article["author"]
        assert row.text == texts[row.paragraph_id]


def test_rows_are_ordered_by_typicality_then_id(store):
    frame = paragraphs(store, RUN_ID)
    expected = frame.sort_values(["probability", "paragraph_id"], ascending=[False, True])
    assert frame["paragraph_id"].tolist() == expected["paragraph_id"].tolist()
    assert frame["probability"].duplicated().any()  # ties exist, so the tie-break is tested


def test_each_cell_holds_the_paragraphs_the_drift_counts(store, labelled):
    """Every narrative × outlet × week selection returns the paragraphs the shares are made of."""
    checked = 0
    for (narrative, outlet, period), group in labelled.dropna(subset=["period"]).groupby(
            ["narrative", "outlet", "period"]):
        got = paragraphs(store, RUN_ID, narrative=narrative, outlet=outlet, period=period)
        assert sorted(got["paragraph_id"]) == sorted(group["paragraph_id"])
        assert set(got["period"]) == {period}
        checked += 1
    assert checked >= 20
    for outlet, group in labelled.groupby("outlet"):  # undated articles included here
        got = paragraphs(store, RUN_ID, outlet=outlet)
        assert sorted(got["paragraph_id"]) == sorted(group["paragraph_id"])


def test_articles_without_outlet_or_date(store, labelled):
    unknown = paragraphs(store, RUN_ID, outlet=UNKNOWN_OUTLET)
    assert len(unknown) == (labelled["outlet"] == UNKNOWN_OUTLET).sum() > 0
    frame = paragraphs(store, RUN_ID)
    undated = frame[frame["date"].isna()]
    assert len(undated) > 0 and undated["period"].isna().all()


def test_narrative_by_label_codebook_name_or_unassigned(store, labelled):
    by_label = paragraphs(store, RUN_ID, narrative=ORCHARDS)
    assert set(by_label["narrative"]) == {ORCHARDS}
    assert len(by_label) == (labelled["narrative"] == ORCHARDS).sum()
    named = paragraphs(store, RUN_ID, narrative=FERRIES)  # FERRIES is also its codebook name
    assert set(named["narrative_id"]) == {0}
    unassigned = paragraphs(store, RUN_ID, narrative="unassigned")
    assert set(unassigned["narrative_id"]) == {-1} and set(unassigned["narrative"]) == {"unassigned"}
    assert unassigned["sub_narrative"].isna().all()


def test_sub_narrative_and_secondary_narrative(store):
    frame = paragraphs(store, RUN_ID).set_index("paragraph_id")
    subs = store.sub_assignments(RUN_ID).set_index("paragraph_id")
    names = {0: "Night crossings", 1: "Timetables"}
    ferries = frame[frame["narrative_id"] == 0]
    assert (ferries["sub_narrative"] == subs.loc[ferries.index, "sub_id"].map(names)).all()

    dist = store.distributions(RUN_ID).merge(
        frame[["narrative_id"]].rename(columns={"narrative_id": "own"}), left_on="paragraph_id",
        right_index=True)
    other = dist[dist["narrative_id"] != dist["own"]].sort_values(
        ["paragraph_id", "weight", "narrative_id"], ascending=[True, False, True])
    strongest = other.drop_duplicates("paragraph_id").set_index("paragraph_id")
    label = {0: FERRIES, 1: ORCHARDS, -1: "unassigned"}
    assigned = frame[frame["narrative_id"] != -1]
    assert (assigned["secondary_narrative"] == strongest.loc[assigned.index, "narrative_id"].map(label)).all()
    assert (assigned["secondary_weight"] - strongest.loc[assigned.index, "weight"]).abs().max() < 1e-12
    assert "unassigned" in set(assigned["secondary_narrative"])
    assert frame.loc[frame["narrative_id"] == -1, "secondary_narrative"].isna().all()


def test_copies_name_what_they_copy(store):
    frame = paragraphs(store, RUN_ID)
    copies = frame[frame["article_copy_of"].notna()]
    assert len(copies) >= 2
    originals = frame.set_index("paragraph_id")
    for row in copies.itertuples():
        assert originals.loc[row.copy_of, "article_id"] == row.article_copy_of
        assert originals.loc[row.copy_of, "text"] == row.text
    assert frame.loc[frame["article_copy_of"].isna(), "copy_of"].isna().all()


def test_date_bounds_are_inclusive_and_drop_undated(store):
    frame = paragraphs(store, RUN_ID, date_from="2024-01-08", date_to=dt.date(2024, 1, 14))
    dates = pd.to_datetime(frame["date"])
    assert len(frame) and dates.min() == pd.Timestamp("2024-01-08")
    assert dates.max() <= pd.Timestamp("2024-01-14") and dates.notna().all()
    week = paragraphs(store, RUN_ID, period="2024-01-08")
    assert sorted(week["paragraph_id"]) == sorted(frame["paragraph_id"])


def test_limit_keeps_the_most_typical(store):
    assert paragraphs(store, RUN_ID, limit=5)["paragraph_id"].tolist() == \
        paragraphs(store, RUN_ID)["paragraph_id"].head(5).tolist()


def test_latest_run_by_default(store):
    assert paragraphs(store).attrs["run_id"] == RUN_ID


@pytest.mark.parametrize("kwargs, message", [
    ({"narrative": "Orchard harvst"}, "did you mean 'Orchard harvest'"),
    ({"outlet": "Wyre"}, "did you mean 'Wire'"),
    ({"period": "2024-01-09"}, "use 2024-01-08"),
    ({"date_from": "Jan 8"}, "ISO date"),
])
def test_bad_filters_say_what_to_use(store, kwargs, message):
    with pytest.raises(InputError, match=message):
        paragraphs(store, RUN_ID, **kwargs)


def test_unknown_run_says_so(store):
    with pytest.raises(StoreError, match="unknown run"):
        paragraphs(store, "no-such-run")


def test_store_from_before_distributions_and_subnarratives(tmp_path):
    path, _ = build_store(tmp_path)
    with Store(path) as store:
        store.con.execute("DROP TABLE distributions")
        store.con.execute("DROP TABLE subnarratives")
        store.con.execute("ALTER TABLE assignments DROP COLUMN sub_id")
    with Store(path, read_only=True) as old:
        frame = paragraphs(old, RUN_ID)
    assert len(frame) > 0 and list(frame.columns) == QUERY_COLUMNS
    assert frame["secondary_narrative"].isna().all() and frame["sub_narrative"].isna().all()

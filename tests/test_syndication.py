"""Which copy of a syndicated article is the original: the texts' own claims, then dates, else
unknown; the same links whatever the input order, the batches or the ingests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from pathlib import Path

import pandas as pd
import pytest

from narrative.dedup import mark_duplicate_articles
from narrative.ingest import ingest_sources
from narrative.schema import Article
from narrative.syndication import Claim, Member, decide_original, resolve_copies

SENTENCES = [
    f"Paragraph {i} says the {who} envoy pressed for {what} before the winter session closed."
    for i, (who, what) in enumerate(zip(
        "Latvian Estonian Maltese Slovenian Croatian Cypriot Icelandic Belgian".split(),
        "ferries tariffs pipelines vaccines bonds drones subsidies pensions".split()))
]
STORY = "\n\n".join(" ".join(SENTENCES[i:i + 2]) for i in range(0, len(SENTENCES), 2))
#: The same words in other punctuation: another text (another id), the same article
TYPOGRAPHIC = STORY.replace("envoy", "\u201cenvoy\u201d")
DAY = dt.date(2024, 10, 1)


def article(outlet: str | None, date: dt.date | None, *, claim: tuple[str, str] | None = None,
            text: str = STORY) -> Article:
    meta = {"first_published_in": {"phrase": claim[0], "outlet": claim[1]}} if claim else {}
    return Article(text=text, source=f"{outlet}.txt", outlet=outlet, date=date, meta=meta)


def linked(articles: list[Article]) -> dict[str | None, Article]:
    """mark_duplicate_articles in every input order: the same result each time, by outlet."""
    results = []
    for order in itertools.permutations(articles):
        out = mark_duplicate_articles(list(order))
        results.append(sorted((a.article_id, a.duplicate_of, json.dumps(a.meta, sort_keys=True))
                              for a in out))
    assert all(r == results[0] for r in results)
    return {a.outlet: a for a in mark_duplicate_articles(articles)}


def test_a_claim_beats_the_dates_and_flips_the_link() -> None:
    # the republisher's copy is dated earlier and would be the first occurrence by date
    original = article("Digest Weekly", DAY + dt.timedelta(days=5))
    copy = article("OpEd Daily", DAY, claim=("first_published", "Digest Weekly"),
                   text=TYPOGRAPHIC)
    out = linked([original, copy])
    assert out["OpEd Daily"].duplicate_of == out["Digest Weekly"].article_id
    assert out["Digest Weekly"].duplicate_of is None
    for a in out.values():
        assert a.meta["copy_evidence"] == "text"
        assert a.meta["copy_phrase"] == "first_published"
        assert a.meta["copy_source"] == "Digest Weekly"
        assert a.meta["copy_evidence_from"] == out["OpEd Daily"].article_id
    assert out["OpEd Daily"].date == DAY  # the copy keeps its own date and outlet


@pytest.mark.parametrize(("named", "outlet"), [
    ("intpolicydigest.org", "International Policy Digest"),
    ("https://www.intpolicydigest.org/2024/10/a-story/", "International Policy Digest"),
    ("balticcourier.com", "The Baltic Courier"),
    ("The Baltic Courier", "baltic-courier.com"),
    ("OpEd News", "OpEdNews"),
])
def test_a_claim_names_the_outlet_under_another_spelling(named: str, outlet: str) -> None:
    original = article(outlet, None)
    copy = article("Other Paper", DAY, claim=("republished_from", named))
    out = linked([original, copy])
    assert out["Other Paper"].duplicate_of == out[outlet].article_id
    assert out["Other Paper"].meta["copy_evidence"] == "text"
    assert out["Other Paper"].meta["copy_source"] == named


def test_dates_beat_the_order() -> None:
    a, b = article("Alpha", DAY), article("Beta", DAY)
    # the later-dated article has the smaller id: the order alone would make it the original
    late, early = sorted([a, b], key=lambda x: x.article_id)
    late = dataclasses.replace(late, date=DAY + dt.timedelta(days=3))
    out = linked([late, early])
    assert out[late.outlet].duplicate_of == out[early.outlet].article_id
    assert out[early.outlet].duplicate_of is None
    assert {x.meta["copy_evidence"] for x in out.values()} == {"date"}
    assert not any("copy_source" in x.meta for x in out.values())


def test_the_same_date_falls_back_to_the_order() -> None:
    out = linked([article("Alpha", DAY), article("Beta", DAY)])
    first, second = sorted(out.values(), key=lambda x: x.article_id)
    assert second.duplicate_of == first.article_id and first.duplicate_of is None
    assert {x.meta["copy_evidence"] for x in out.values()} == {"order"}


@pytest.mark.parametrize("dated", [True, False])
def test_no_claim_and_a_missing_date_is_unknown(dated: bool) -> None:
    out = linked([article("Alpha", DAY if dated else None), article("Beta", None)])
    assert sum(x.duplicate_of is not None for x in out.values()) == 1
    assert {x.meta["copy_evidence"] for x in out.values()} == {"unknown"}


def test_a_claim_naming_no_member_still_rules_its_bearer_out() -> None:
    """The seeds' case without a manifest: the dated copy says it was first published by an
    outlet no copy is attributed to; the undated one, which says nothing, is the original."""
    bearer = article("OpEd Daily", DAY, claim=("first_published", "Digest Weekly"))
    silent = article(None, None, text=TYPOGRAPHIC)
    out = linked([bearer, silent])
    assert out["OpEd Daily"].duplicate_of == out[None].article_id
    assert out["OpEd Daily"].meta["copy_evidence"] == "text"
    assert out["OpEd Daily"].meta["copy_source"] == "Digest Weekly"


def test_a_claim_naming_its_own_outlet_decides_nothing() -> None:
    own = article("UnHerd", DAY + dt.timedelta(days=1), claim=("courtesy_of", "UnHerd"))
    out = linked([own, article("Echo", DAY)])
    assert out["UnHerd"].duplicate_of == out["Echo"].article_id
    assert out["UnHerd"].meta["copy_evidence"] == "date"


def test_a_third_copy_links_to_the_named_original_on_the_claimant_s_word() -> None:
    original = article("Digest Weekly", None)
    claimant = article("OpEd Daily", DAY, claim=("first_published", "Digest Weekly"),
                       text=STORY + "\n\nThe authors are analysts.")
    third = article("Third Post", DAY - dt.timedelta(days=1), text=STORY.replace(".", "!"))
    out = linked([original, claimant, third])
    for name in ("OpEd Daily", "Third Post"):
        assert out[name].duplicate_of == out["Digest Weekly"].article_id
        assert out[name].meta["copy_evidence"] == "text"
        assert out[name].meta["copy_evidence_from"] == out["OpEd Daily"].article_id


def test_decision_reads_claims_of_older_stores() -> None:
    """Stores written before claims had a kind hold the outlet's name alone."""
    members = [Member("b", "OpEd Daily", DAY, Claim("first_published", "Digest Weekly")),
               Member("a", "Digest Weekly", None)]
    assert decide_original(members) == decide_original(reversed(members))
    old = Article(text=STORY, source="x", outlet="OpEd Daily", date=DAY,
                  meta={"first_published_in": "Digest Weekly"})
    new = article("Digest Weekly", None)
    out = {a.outlet: a for a in resolve_copies(
        [dataclasses.replace(old, duplicate_of=new.article_id), new])}
    assert out["OpEd Daily"].duplicate_of == new.article_id
    assert out["OpEd Daily"].meta["copy_phrase"] == "first_published"


# -- through the ingest: the claim is read before the note is cut -------------------------------

def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _corpus(folder: Path) -> Path:
    """Two copies of one op-ed: the republisher's (dated, with a note naming the first
    publisher by its domain) and the first publisher's (undated), and an unrelated article."""
    _write(folder, "a_copy.txt", "Exclusive to OpEd Daily:\n\nOpEd Daily 10/3/2024\n\n"
           f"Article first published in digestweekly.com\n\n{STORY}\n")
    _write(folder, "b_original.txt", TYPOGRAPHIC + "\n")
    _write(folder, "c_other.txt", " ".join(reversed(SENTENCES)).replace("envoy", "minister"))
    _write(folder, "manifest.csv", "file,outlet,date\nb_original.txt,Digest Weekly,\n")
    return folder


def test_the_cut_republication_note_still_decides(tmp_path: Path) -> None:
    folder = _corpus(tmp_path / "in")
    result = ingest_sources([folder], manifest=folder / "manifest.csv")
    assert any(r["rule"] == "republication_note" for r in result.removed)  # the note is cut
    out = {a.outlet: a for a in mark_duplicate_articles(result.articles)}
    assert "first published" not in out["OpEd Daily"].text
    assert out["OpEd Daily"].duplicate_of == out["Digest Weekly"].article_id
    assert out["OpEd Daily"].meta["copy_evidence"] == "text"
    assert out["OpEd Daily"].meta["copy_source"] == "digestweekly.com"  # as the note names it


def _articles(store) -> pd.DataFrame:
    frame = store.con.execute("SELECT article_id, outlet, duplicate_of, meta FROM articles "
                              "ORDER BY article_id").df()
    frame["meta"] = frame["meta"].map(lambda m: json.dumps(json.loads(m), sort_keys=True))
    return frame


def _assert_copy_links_to_original(articles: pd.DataFrame) -> None:
    by = articles.set_index("outlet")
    assert by.loc["OpEd Daily", "duplicate_of"] == by.loc["Digest Weekly", "article_id"]
    assert pd.isna(by.loc["Digest Weekly", "duplicate_of"])
    assert json.loads(by.loc["OpEd Daily", "meta"])["copy_evidence"] == "text"


def _in_memory(sources: list[Path], manifest: Path) -> pd.DataFrame:
    from narrative.store import Store

    with Store(":memory:") as store:
        store.add_articles(mark_duplicate_articles(
            ingest_sources(sources, manifest=manifest).articles))
        return _articles(store)


@pytest.mark.parametrize("batch", [1, 2, 2000])
def test_streaming_in_batches_links_as_in_memory(tmp_path: Path, batch: int) -> None:
    """The original (undated) is read in a later batch than its copy: the copy, already
    written, is relinked."""
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    folder = _corpus(tmp_path / "in")
    want = _in_memory([folder], folder / "manifest.csv")
    with Store(tmp_path / "s.duckdb") as store:
        ingest_into_store([folder], store, manifest=folder / "manifest.csv", batch_articles=batch)
        got = _articles(store)
    pd.testing.assert_frame_equal(got, want)
    _assert_copy_links_to_original(got)


def test_a_later_ingest_relinks_stored_copies(tmp_path: Path) -> None:
    """The copy is stored first, alone; the original comes in a later ingest: the stored copy
    now links to it, as ingesting both at once gives."""
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    folder = _corpus(tmp_path / "in")
    want = _in_memory([folder], folder / "manifest.csv")
    with Store(tmp_path / "s.duckdb") as store:
        ingest_into_store([folder / "a_copy.txt", folder / "c_other.txt"], store,
                          manifest=folder / "manifest.csv")
        assert _articles(store)["duplicate_of"].isna().all()
        ingest_into_store([folder], store, manifest=folder / "manifest.csv")
        got = _articles(store)
    pd.testing.assert_frame_equal(got, want)
    _assert_copy_links_to_original(got)


@pytest.mark.parametrize("n_partitions", [1, 3])
def test_the_dask_path_links_as_the_streaming_ingest(tmp_path: Path, n_partitions: int) -> None:
    """The Dask ingest links on the driver, after the partitions: the same links and copy meta,
    however the files are partitioned."""
    from narrative.config import Settings
    from narrative.distributed import DaskRunner, EmbedderSpec
    from narrative.distributed.run import _ingest
    from narrative.ingest.options import ReadOptions
    from narrative.store import Store

    folder = _corpus(tmp_path / "in")
    want = _in_memory([folder], folder / "manifest.csv")
    runner = DaskRunner(None, spec=EmbedderSpec.from_settings(Settings()), chunk_size=16)
    with Store(":memory:") as store:
        _ingest([folder], store, runner, settings=Settings(), manifest=folder / "manifest.csv",
                options=ReadOptions(), n_partitions=n_partitions)
        got = _articles(store)
    pd.testing.assert_frame_equal(got, want)
    _assert_copy_links_to_original(got)

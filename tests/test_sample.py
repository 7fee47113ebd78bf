"""The demo corpus generator: determinism, sizes, planted truth, drift, syndication, files."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections import Counter
from urllib.parse import urlparse

import pandas as pd
import pytest

from narrative.sample import (
    BOILERPLATE,
    DEMO_NARRATIVES,
    NOISE_TOPICS,
    OUTLETS,
    PLANTED_LABELS,
    SYNDICATION_FOOTER,
    DemoCorpus,
    generate_demo_corpus,
    load_templates,
    planted_changepoints,
    planted_share,
    read_demo_articles,
    write_demo_corpus,
)
from narrative.schema import normalize_for_matching

EXPECTED_NARRATIVES = {
    "Russia–China axis", "Security guarantees", "Sanctions leverage",
    "Battlefield and territory", "Peace talks and summits", "European unity and division",
}
EXPECTED_OUTLETS = {
    "Northern Ledger", "Atlantic Wire Service", "Eastern Meridian", "Continental Review",
    "Harbor Times", "Free Voice Republisher",
}
FLAT = "Battlefield and territory"


@pytest.fixture(scope="module")
def corpus() -> DemoCorpus:
    return generate_demo_corpus(0)


@pytest.fixture(scope="module")
def big() -> DemoCorpus:
    """Enough paragraphs per cell that realised shares sit close to the planted ones."""
    return generate_demo_corpus(3, articles_per_outlet_week=20)


def _originals(c: DemoCorpus) -> list[dict]:
    return [a for a in c.articles if a.get("syndicated_from") is None]


def _planted_paragraphs(c: DemoCorpus) -> list[dict]:
    return [p for a in c.articles for p in a["paragraphs"] if p["narrative"] != BOILERPLATE]


def _mean_before_after(truth: pd.DataFrame, outlet: str, narrative: str, period: str) -> tuple[float, float]:
    cell = truth[(truth.outlet == outlet) & (truth.narrative == narrative)]
    return cell[cell.period < period].realized_share.mean(), cell[cell.period >= period].realized_share.mean()


# --- determinism -------------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(tmp_path):
    a = generate_demo_corpus(7, n_weeks=3)
    b = generate_demo_corpus(7, n_weeks=3)
    assert a.articles == b.articles
    files_a = write_demo_corpus(a, tmp_path / "a")
    files_b = write_demo_corpus(b, tmp_path / "b")
    for fa, fb in zip(files_a, files_b):
        assert fa.read_bytes() == fb.read_bytes()


def test_different_seeds_give_different_text():
    a = {p["text"] for p in _planted_paragraphs(generate_demo_corpus(1, n_weeks=3))}
    b = {p["text"] for p in _planted_paragraphs(generate_demo_corpus(2, n_weeks=3))}
    assert len(a & b) < 0.05 * len(a)


# --- sizes and metadata ------------------------------------------------------------------------

def test_public_names():
    assert set(DEMO_NARRATIVES) == EXPECTED_NARRATIVES and len(DEMO_NARRATIVES) == 6
    assert set(NOISE_TOPICS) == {"Off-topic: sport", "Off-topic: weather", "Off-topic: culture"}
    assert set(OUTLETS) == EXPECTED_OUTLETS
    assert PLANTED_LABELS == DEMO_NARRATIVES + NOISE_TOPICS


def test_default_size(corpus):
    originals = _originals(corpus)
    assert len(originals) == 6 * 14 * 3
    assert 230 <= len(corpus.articles) <= 320
    assert 1100 <= len(_planted_paragraphs(corpus)) <= 1700
    assert {a["outlet"] for a in corpus.articles} == EXPECTED_OUTLETS
    mondays = {a["date"] - dt.timedelta(days=a["date"].weekday()) for a in corpus.articles}
    assert len(mondays) == 14 and min(mondays) == dt.date(2025, 6, 2)
    assert all(a["date"].weekday() < 5 for a in originals)
    assert len({a["date"].weekday() for a in originals}) == 5  # spread over the working week


def test_size_knobs():
    c = generate_demo_corpus(0, n_weeks=4, articles_per_outlet_week=1, start=dt.date(2024, 1, 1))
    assert len(_originals(c)) == 6 * 4
    assert sorted(c.truth.period.unique()) == ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]
    assert c.changepoints.empty  # the first planted change is in week index 6


def test_ids_urls_and_bylines(corpus):
    ids = [a["id"] for a in corpus.articles]
    assert len(set(ids)) == len(ids)
    assert len({a["url"] for a in corpus.articles}) == len(ids)
    domains: dict[str, set[str]] = {}
    for a in corpus.articles:
        url = urlparse(a["url"])
        assert url.scheme == "https" and url.netloc.endswith(".example")
        domains.setdefault(a["outlet"], set()).add(url.netloc)
        assert a["title"] and a["author"]
    assert all(len(d) == 1 for d in domains.values())
    assert len(set().union(*domains.values())) == len(OUTLETS)


@pytest.mark.parametrize("bad", [
    {"n_weeks": 0}, {"articles_per_outlet_week": 0}, {"start": dt.date(2025, 6, 3)},
    {"syndication_rate": 1.5},
])
def test_invalid_arguments_are_refused(bad):
    with pytest.raises(ValueError):
        generate_demo_corpus(0, **bad)


# --- templates and paragraphs --------------------------------------------------------------------

def _words(template: str) -> set[str]:
    return set(re.findall(r"[a-z']+", re.sub(r"\{\w+\}", " ", template.lower())))


def test_template_counts_and_variety():
    templates = load_templates()
    for label in PLANTED_LABELS:
        sentences = templates.sentences[label]
        assert len(set(sentences)) >= (40 if label in DEMO_NARRATIVES else 25), label
        frames = {re.sub(r"\{\w+\}", "{}", s) for s in sentences}
        assert len(frames) == len(sentences), f"{label}: two templates differ only in a slot"
        for a, b in itertools.combinations(sentences, 2):
            overlap = len(_words(a) & _words(b)) / len(_words(a) | _words(b))
            assert overlap < 0.5, f"{label}: near-identical templates {a!r} / {b!r}"
        assert templates.titles[label]


def test_paragraphs_are_mostly_distinct(corpus):
    texts = [p["text"] for a in _originals(corpus) for p in a["paragraphs"]]
    assert len(set(texts)) / len(texts) > 0.9


def test_paragraph_and_article_shape(corpus):
    for article in corpus.articles:
        assert article["text"] == "\n\n".join(p["text"] for p in article["paragraphs"])
        planted = [p for p in article["paragraphs"] if p["narrative"] != BOILERPLATE]
        assert 3 <= len(planted) <= 7
        for p in planted:
            assert p["narrative"] in PLANTED_LABELS
            assert 40 <= len(p["text"].split()) <= 110, p["text"]
            assert p["text"] == p["text"].strip() and "\n" not in p["text"]
            assert "{" not in p["text"] and "}" not in p["text"]  # every slot filled
    assert min(len(p["text"].split()) for p in _planted_paragraphs(corpus)) >= 20


def test_every_label_occurs(corpus):
    counts = Counter(p["narrative"] for p in _planted_paragraphs(corpus))
    assert set(counts) == set(PLANTED_LABELS)
    noise = sum(counts[n] for n in NOISE_TOPICS) / sum(counts.values())
    assert 0.05 < noise < 0.25


# --- truth -------------------------------------------------------------------------------------

def test_truth_layout_and_sums(corpus):
    truth = corpus.truth
    assert list(truth.columns) == ["outlet", "period", "narrative", "planted_share", "realized_share",
                                   "n_paragraphs"]
    assert len(truth) == (len(OUTLETS) + 1) * 14 * len(PLANTED_LABELS)
    assert set(truth.narrative) == set(PLANTED_LABELS)
    sums = truth.groupby(["outlet", "period"])[["planted_share", "realized_share"]].sum()
    assert sums.planted_share.between(0.999, 1.001).all()
    assert sums.realized_share.between(0.999, 1.001).all()
    assert all(dt.date.fromisoformat(p).weekday() == 0 for p in truth.period.unique())


def test_truth_realized_matches_the_articles(corpus):
    week1 = [a for a in corpus.articles
             if a["outlet"] == "Harbor Times" and dt.date(2025, 6, 9) <= a["date"] < dt.date(2025, 6, 16)]
    labels = [p["narrative"] for a in week1 for p in a["paragraphs"]]
    cell = corpus.truth[(corpus.truth.outlet == "Harbor Times") & (corpus.truth.period == "2025-06-09")]
    for row in cell.itertuples():
        assert row.n_paragraphs == len(labels)
        assert row.realized_share == pytest.approx(labels.count(row.narrative) / len(labels))
    everyone = corpus.truth[corpus.truth.narrative == FLAT].groupby(
        corpus.truth.outlet == "all").n_paragraphs.sum()
    assert everyone[True] == everyone[False]  # "all" counts every outlet's paragraphs once


def test_all_rows_average_the_outlets(corpus):
    truth = corpus.truth
    week = truth[truth.period == "2025-08-04"]
    for label in PLANTED_LABELS:
        rows = week[week.narrative == label]
        outlets = rows[rows.outlet != "all"]
        assert rows[rows.outlet == "all"].planted_share.item() == pytest.approx(outlets.planted_share.mean())
        counts = (outlets.realized_share * outlets.n_paragraphs).sum()
        realized = rows[rows.outlet == "all"].realized_share.item()
        assert realized == pytest.approx(counts / outlets.n_paragraphs.sum())


def test_planted_share_function():
    for outlet, week in itertools.product(OUTLETS, range(20)):
        shares = [planted_share(outlet, week, label) for label in PLANTED_LABELS]
        assert all(0.0 < s < 1.0 for s in shares)
        assert sum(shares) == pytest.approx(1.0)
        assert 0.10 <= sum(planted_share(outlet, week, n) for n in NOISE_TOPICS) <= 0.2
    assert planted_share("all", 0, FLAT) == pytest.approx(0.16)
    for bad in [("Nowhere Gazette", 0, FLAT), ("Harbor Times", 0, "Weather"), ("Harbor Times", -1, FLAT)]:
        with pytest.raises(ValueError):
            planted_share(*bad)


def test_outlets_have_different_slants(big):
    vectors = {o: tuple(planted_share(o, 0, n) for n in PLANTED_LABELS) for o in OUTLETS}
    assert len(set(vectors.values())) >= 5
    axis = big.truth[(big.truth.narrative == "Russia–China axis") & (big.truth.period < "2025-07-14")]
    by_outlet = axis.groupby("outlet").realized_share.mean()
    assert by_outlet["Eastern Meridian"] > by_outlet["Northern Ledger"] + 0.1


# --- drift -------------------------------------------------------------------------------------

def test_changepoints_frame(corpus):
    cps = corpus.changepoints
    assert {"narrative", "outlet", "period", "direction"} <= set(cps.columns)
    assert cps.period.nunique() >= 2
    assert set(cps.direction) == {"up", "down"}
    found = {(r.narrative, r.outlet, r.direction) for r in cps.itertuples()}
    assert ("Sanctions leverage", "Eastern Meridian", "up") in found
    assert ("Security guarantees", "Northern Ledger", "up") in found
    assert FLAT not in set(cps.narrative)
    for row in cps.itertuples():
        week = (dt.date.fromisoformat(row.period) - dt.date(2025, 6, 2)).days // 7
        step = (planted_share(row.outlet, week, row.narrative)
                - planted_share(row.outlet, week - 1, row.narrative))
        assert abs(step) >= 0.15 and (step > 0) == (row.direction == "up")
    pd.testing.assert_frame_equal(cps, planted_changepoints())


def test_planted_changepoints_show_in_realized_shares(big):
    for row in big.changepoints.itertuples():
        before, after = _mean_before_after(big.truth, row.outlet, row.narrative, row.period)
        assert abs(after - before) > 0.1, row
        assert (after > before) == (row.direction == "up"), row


def test_flat_narrative_stays_flat(big):
    assert big.truth[big.truth.narrative == FLAT].planted_share.nunique() == 1
    for outlet, period in itertools.product(OUTLETS, sorted(set(big.changepoints.period))):
        before, after = _mean_before_after(big.truth, outlet, FLAT, period)
        assert abs(after - before) < 0.05


def test_only_planted_changes_move(big):
    planted = {(r.narrative, r.outlet) for r in big.changepoints.itertuples()}
    truth = big.truth[big.truth.outlet != "all"]
    for (outlet, narrative), cell in truth.groupby(["outlet", "narrative"]):
        assert (cell.planted_share.nunique() > 1) == ((narrative, outlet) in planted)


# --- syndication -------------------------------------------------------------------------------

_UNTYPESET = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2013": "-"})


def test_syndicated_copies_differ_only_in_punctuation_and_footer(corpus):
    by_id = {a["id"]: a for a in corpus.articles}
    copies = [a for a in corpus.articles if a.get("syndicated_from")]
    assert copies
    changed = 0
    for copy in copies:
        original = by_id[copy["syndicated_from"]]
        assert original["outlet"] == "Atlantic Wire Service" and copy["outlet"] == "Free Voice Republisher"
        assert 1 <= (copy["date"] - original["date"]).days <= 2
        assert copy["paragraphs"][-1] == {"text": SYNDICATION_FOOTER, "narrative": BOILERPLATE}
        body = copy["paragraphs"][:-1]
        assert [p["narrative"] for p in body] == [p["narrative"] for p in original["paragraphs"]]
        for theirs, ours in zip(original["paragraphs"], body):
            assert ours["text"].translate(_UNTYPESET) == theirs["text"]
            assert normalize_for_matching(ours["text"]) == normalize_for_matching(theirs["text"])
            assert '"' not in ours["text"] and " - " not in ours["text"]
        changed += copy["text"] != original["text"] + "\n\n" + SYNDICATION_FOOTER
    assert changed >= len(copies) // 2  # most wire copy carries quotes or dashes to retypeset


def test_syndication_rate(big):
    wire = [a for a in big.articles if a["outlet"] == "Atlantic Wire Service"]
    copies = [a for a in big.articles if a.get("syndicated_from")]
    assert 0.2 < len(copies) / len(wire) < 0.4
    assert not [a for a in generate_demo_corpus(0, n_weeks=2, syndication_rate=0.0).articles
                if a.get("syndicated_from")]


# --- files -------------------------------------------------------------------------------------

def test_write_demo_corpus_round_trips(corpus, tmp_path):
    jsonl, truth_csv = write_demo_corpus(corpus, tmp_path / "out")
    assert (jsonl.name, truth_csv.name) == ("demo_corpus.jsonl", "truth.csv")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["demo_corpus.jsonl", "truth.csv"]
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(corpus.articles)
    first = json.loads(lines[0])
    assert {"id", "outlet", "date", "title", "url", "text", "paragraphs", "syndicated_from"} <= set(first)
    assert dt.date.fromisoformat(first["date"]) == corpus.articles[0]["date"]
    assert read_demo_articles(jsonl) == corpus.articles
    back = pd.read_csv(truth_csv, dtype={"period": str})
    pd.testing.assert_frame_equal(back, corpus.truth, check_dtype=False)


def test_paragraph_frame(corpus):
    frame = corpus.paragraph_frame()
    assert len(frame) == sum(len(a["paragraphs"]) for a in corpus.articles)
    assert set(frame.narrative) == set(PLANTED_LABELS) | {BOILERPLATE}


# --- scenarios ---------------------------------------------------------------------------------

from narrative.sample.design import (  # noqa: E402
    DEFAULT_SCENARIO,
    EVENT_COLUMNS,
    PlantedEvent,
    Scenario,
    events_frame,
    flat_scenario,
    hard_scenario,
)
from narrative.sample import write_demo_events  # noqa: E402


def test_default_scenario_is_the_published_design(corpus):
    """The scenario machinery reproduces the planted shares and change points of the default
    design (the default corpus is unchanged: its articles draw from the same mixes)."""
    for outlet in (*OUTLETS, "all"):
        for week in (0, 5, 6, 7, 8, 13):
            for label in PLANTED_LABELS:
                assert DEFAULT_SCENARIO.week_share(outlet, week, label) == planted_share(outlet, week, label)
    steps = corpus.events[corpus.events["outlet"] != "all"]
    assert list(corpus.events.columns) == EVENT_COLUMNS
    assert set(steps["kind"]) == {"step"} and (steps["lead_days"] == 0).all()
    pd.testing.assert_frame_equal(
        steps[["narrative", "outlet", "period", "direction", "magnitude"]]
        .sort_values(["period", "narrative", "outlet"], ignore_index=True),
        planted_changepoints().sort_values(["period", "narrative", "outlet"], ignore_index=True),
    )
    everywhere = corpus.events[corpus.events["outlet"] == "all"].set_index(["period", "narrative"])
    assert everywhere.loc[("2025-07-28", "Security guarantees"), "magnitude"] == pytest.approx(0.08)


def test_default_corpus_is_unchanged_by_the_scenario_knobs():
    """Spelled out or left to its default, the default design gives the same corpus."""
    a = generate_demo_corpus(4, n_weeks=10)
    b = generate_demo_corpus(4, n_weeks=10, scenario=DEFAULT_SCENARIO)
    assert a.articles == b.articles
    pd.testing.assert_frame_equal(a.truth, b.truth)


def test_flat_scenario_plants_nothing():
    flat = generate_demo_corpus(2, n_weeks=6, scenario=flat_scenario())
    assert flat.events.empty and flat.changepoints.empty
    per_series = flat.truth.groupby(["outlet", "narrative"])["planted_share"].nunique()
    assert (per_series == 1).all()


def test_hard_scenario_is_deterministic_and_plants_every_kind():
    for seed in range(6):
        scenario = hard_scenario(seed)
        assert scenario == hard_scenario(seed)
        corpus = generate_demo_corpus(seed, scenario=scenario)
        events = corpus.events[corpus.events["outlet"] != "all"]
        assert {"step", "trend", "pulse"} <= set(events["kind"])
        assert FLAT not in set(events["narrative"]) and not set(events["narrative"]) & set(NOISE_TOPICS)
        lead = events[(events["event"] == "lead") & (events["magnitude"] > 0)]
        assert lead["outlet"].nunique() == 2 and 2 <= lead["lead_days"].max() <= 5
        # the leader's and follower's planted shares really move that many days apart
        first = lead.sort_values("lead_days").iloc[0]
        follower = lead.sort_values("lead_days").iloc[1]
        day = (dt.date.fromisoformat(follower.start) - dt.date(2025, 6, 2)).days
        assert scenario.share(first.outlet, day, first.narrative) > scenario.share(first.outlet, 0, first.narrative)
        assert scenario.share(follower.outlet, day - 1, first.narrative) == scenario.share(follower.outlet, 0, first.narrative)
        # thin cells: one outlet publishes 1-2 articles a week, and plants nothing
        thin = [o for o, (low, high) in scenario.per_week.items() if high <= 2]
        assert len(thin) == 1 and thin[0] not in set(events["outlet"])
        weekly = Counter((a["outlet"], a["date"].isocalendar()[1]) for a in _originals(corpus))
        assert {n for (o, _), n in weekly.items() if o == thin[0]} <= {1, 2}
        # every planted mix is a distribution on every day
        for outlet in OUTLETS:
            for day in range(0, 98, 3):
                mix = scenario.mix(outlet, day)
                assert min(mix) >= 0 and sum(mix) == pytest.approx(1.0)
    assert hard_scenario(0) != hard_scenario(1)


def test_trends_and_pulses_shape_the_planted_share():
    ramp = PlantedEvent("r", "trend", "Northern Ledger", "Security guarantees", "Sanctions leverage", 14, 0.14, days=14)
    pulse = PlantedEvent("p", "pulse", "Eastern Meridian", "Peace talks and summits", "Russia–China axis", 21, 0.2, days=5)
    scenario = Scenario("shapes", events=(ramp, pulse))
    guarantees = [scenario.share("Northern Ledger", d, "Security guarantees") for d in (13, 14, 20, 27, 40)]
    assert guarantees == pytest.approx([0.16, 0.17, 0.23, 0.30, 0.30])
    talks = [scenario.share("Eastern Meridian", d, "Peace talks and summits") for d in (20, 21, 25, 26)]
    assert talks == pytest.approx([0.24, 0.44, 0.44, 0.24])
    rows = events_frame(scenario, n_weeks=6).set_index(["event", "narrative"])
    assert rows.loc[("r", "Security guarantees"), "end"].iloc[0] == "2025-06-29"
    assert rows.loc[("p", "Russia–China axis"), "direction"].iloc[0] == "down"


def test_impossible_scenarios_are_refused():
    with pytest.raises(ValueError, match="leave"):
        Scenario("bad", events=(PlantedEvent("x", "step", "Northern Ledger", "Security guarantees",
                                             "Russia–China axis", 7, 0.3),))
    with pytest.raises(ValueError, match="unknown outlet"):
        Scenario("bad", events=(PlantedEvent("x", "step", "Nowhere", "Security guarantees",
                                             "Russia–China axis", 7, 0.01),))
    with pytest.raises(ValueError, match="per_week"):
        Scenario("bad", per_week={"Northern Ledger": (0, 2)})


def test_events_csv_and_labelled_frame(tmp_path, corpus):
    path = write_demo_events(corpus, tmp_path)
    assert pd.read_csv(path).shape == corpus.events.shape
    labelled = corpus.labelled()
    assert len(labelled) == len(_planted_paragraphs(corpus))
    assert labelled["paragraph_id"].is_unique and labelled.attrs["period"] == "week"
    copies = labelled.dropna(subset=["duplicate_of"]).drop_duplicates("article_id")
    assert len(copies) == sum(1 for a in corpus.articles if a.get("syndicated_from"))

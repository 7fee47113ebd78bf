"""Planted drift on the demo generator, measured without the model.

The planted narrative of every paragraph is used as its assignment (``DemoCorpus.labelled``), so
this checks the drift measures alone: shares against the planted mixes, intervals, change points
(steps, trends, pulses), emerging narratives and what is reported where nothing was planted.
"""

import numpy as np
import pandas as pd
import pytest

from narrative.sample.design import PlantedEvent, Scenario, flat_scenario
from narrative.sample.scoring import false_alarms, match_changes
from narrative.drift import narrative_shares, select_copies
from narrative.drift.change import detect_changes, emerging
from narrative.sample import PLANTED_LABELS, generate_demo_corpus

SEEDS = range(5)
FLAT = "Battlefield and territory"
NL = "Northern Ledger"
GUARANTEES = "Security guarantees"


def detect(corpus, seed=0):
    labelled = select_copies(corpus.labelled(), "per_outlet")
    return detect_changes(labelled, narratives=list(PLANTED_LABELS), seed=seed)


@pytest.fixture(scope="module")
def runs():
    """The default design with 12 articles per outlet and week: every planted step is plain."""
    out = []
    for seed in SEEDS:
        corpus = generate_demo_corpus(seed, articles_per_outlet_week=12)
        shares = narrative_shares(
            corpus.labelled(), narratives=list(PLANTED_LABELS), n_bootstrap=200,
            min_articles=3, seed=seed, copies="per_outlet",
        )
        out.append((corpus, shares, detect(corpus, seed)))
    return out


def test_shares_match_the_planted_mix(runs):
    errors, coverage = [], []
    for corpus, shares, _ in runs:
        cells = shares.merge(corpus.truth, on=["outlet", "period", "narrative"], validate="1:1")
        assert len(cells) == len(corpus.truth)
        # hard shares are exactly the realised fractions of the planted labels
        assert np.allclose(cells["share"], cells["realized_share"])
        errors.append((cells["share"] - cells["planted_share"]).abs().mean())
        coverage.append(
            ((cells["ci_low"] <= cells["planted_share"]) & (cells["planted_share"] <= cells["ci_high"])).mean()
        )
    assert np.mean(errors) < 0.03, errors
    assert min(coverage) >= 0.85, coverage


def test_planted_steps_are_found_as_steps(runs):
    """Nine in ten planted steps are found within a week, in the right direction, as steps, with
    their size."""
    hits = pd.concat([match_changes(found.changes, corpus.events.query("outlet != 'all'"))
                      for corpus, _, found in runs])
    assert hits["found"].mean() >= 0.9, hits[~hits["found"]]
    assert (hits.loc[hits["found"], "found_kind"] == "step").mean() >= 0.9
    steps = hits[hits["found_kind"] == "step"]
    assert (steps["offset_days"].abs() <= 7).all()
    changes = pd.concat([f.changes for *_, f in runs])
    planted = pd.concat([c.events for c, *_ in runs]).drop_duplicates(["narrative", "outlet"])
    sizes = changes.merge(planted, on=["narrative", "outlet", "direction"], suffixes=("", "_planted"))
    sizes = sizes[sizes["outlet"] != "all"]
    assert (sizes["magnitude"] - sizes["magnitude_planted"]).abs().median() < 0.05


def test_changes_report_intervals_and_evidence(runs):
    _, _, found = runs[0]
    changes = found.changes
    assert len(changes) and changes.attrs["n_series"] > 50
    assert (changes["before_low"] <= changes["before"]).all() and (changes["before"] <= changes["before_high"]).all()
    assert (changes["after_low"] <= changes["after"]).all() and (changes["after"] <= changes["after_high"]).all()
    up = changes["direction"] == "up"
    assert (changes.loc[up, "after_low"] > changes.loc[up, "before_high"]).mean() > 0.8
    assert (changes["p_value"] <= changes.attrs["p_cutoff"]).all()
    assert (changes["n_carrying_after"] <= changes["n_articles_after"]).all()
    labelled = runs[0][0].labelled().set_index("paragraph_id")
    for row in changes.itertuples():
        ids = row.evidence.split(";")
        assert 1 <= len(ids) <= 3
        assert (labelled.loc[ids, "narrative"] == row.narrative).all()
        if row.outlet != "all":
            assert (labelled.loc[ids, "outlet"] == row.outlet).all()
        rich_side = row.period if row.direction == "up" else None
        if rich_side:
            assert (labelled.loc[ids, "period"] >= rich_side).all()


def test_few_change_points_where_nothing_was_planted(runs):
    """At a 5% false discovery rate a null series is sometimes flagged, but seldom: at most one
    a corpus on average, and the flat narrative in at most one corpus of five."""
    spurious = [false_alarms(found.changes, corpus.events) for corpus, _, found in runs]
    assert sum(len(s) for s in spurious) <= len(runs), spurious
    assert sum((s["narrative"] == FLAT).any() for s in spurious) <= 1


def test_flat_corpora_raise_no_alarm():
    """With nothing planted every series is null: the false discovery rate is then the chance
    of any alarm at all."""
    found = [detect(generate_demo_corpus(100 + seed, articles_per_outlet_week=12,
                                         scenario=flat_scenario()), seed).changes for seed in range(5)]
    assert sum(len(f) for f in found) <= 1, [f[["narrative", "outlet", "period"]] for f in found]


def test_planted_steps_at_the_demo_density():
    """At the demo's three articles per outlet and week a step of 0.16 shows with a z of about 3
    in its outlet's own articles, often less. Tested as moves of each outlet's whole mix (the
    narrative that rose and the one that fell together), and in the direction the other outlets
    moved at the same date, most are found: the step three outlets take at once in six of ten.
    (The per-series detector found one in four.)"""
    hits = []
    for seed in range(6):
        corpus = generate_demo_corpus(seed)
        hits.append(match_changes(detect(corpus, seed).changes, corpus.events.query("outlet != 'all'")))
    hits = pd.concat(hits)
    shared = hits[hits["event"] == "guarantees"]
    assert hits["found"].mean() >= 0.55, hits[~hits["found"]]
    assert shared["found"].mean() >= 0.6, shared[~shared["found"]]


def test_a_move_several_outlets_make_at_once_is_found_in_more_of_them_when_they_lend_it():
    """Northern Ledger, Continental Review and Harbor Times take the same step in the same week.
    Each outlet tested also in the direction the others moved finds it in more outlets than each
    tested alone."""
    found = {True: 0, False: 0}
    for seed in range(4):
        corpus = generate_demo_corpus(seed)
        labelled = select_copies(corpus.labelled(), "per_outlet")
        shared = corpus.events.query("event == 'guarantees' and outlet != 'all'")
        for borrow in found:
            changes = detect_changes(labelled, narratives=list(PLANTED_LABELS), seed=seed, borrow=borrow).changes
            found[borrow] += int(match_changes(changes, shared)["found"].sum())
    assert found[True] > found[False], found


def test_nine_in_ten_planted_steps_at_six_articles_a_week():
    hits, wide = [], []
    for seed in range(6):
        corpus = generate_demo_corpus(seed, articles_per_outlet_week=6)
        changes = detect(corpus, seed).changes
        hits.append(match_changes(changes, corpus.events.query("outlet != 'all'")))
        wide.append(match_changes(changes, corpus.events.query("outlet == 'all' and abs(magnitude) >= 0.05")))
    hits, wide = pd.concat(hits), pd.concat(wide)
    assert hits["found"].mean() >= 0.9, hits[~hits["found"]]
    assert wide["found"].mean() >= 0.9, wide[~wide["found"]]


def test_flat_corpora_at_the_demo_density_seldom_raise_an_alarm():
    """Nothing planted, seven mixes tested a corpus (six outlets and all of them): at a 5% false
    discovery rate, an alarm in at most one corpus in twenty."""
    alarms = [len(detect(generate_demo_corpus(1000 + seed, scenario=flat_scenario()), seed).changes)
              for seed in range(40)]
    assert sum(a > 0 for a in alarms) <= 2, alarms


def _four_way_move(name: str, kind: str, day: int, days: int = 1) -> tuple[PlantedEvent, ...]:
    """0.4 of Northern Ledger's share moves to Security guarantees from four narratives."""
    sources = (("Sanctions leverage", 0.18), ("Peace talks and summits", 0.08),
               ("European unity and division", 0.08), ("Russia–China axis", 0.06))
    return tuple(PlantedEvent(name, kind, NL, GUARANTEES, s, day, d, days) for s, d in sources)  # type: ignore[arg-type]


def test_a_large_step_shows_even_in_thin_cells():
    """One or two articles a week: no week holds enough articles for an interval (the previous
    detector, which left such cells out, found none of these), but the segments on either side
    often do. With 20-odd articles in all, the permutation p-value sits near the cutoff, so half
    the seeds is what is asked."""
    thin = Scenario("thin", events=_four_way_move("big", "step", 49), per_week={NL: (1, 2)})
    found = []
    for seed in range(6):
        corpus = generate_demo_corpus(seed, scenario=thin)
        assert corpus.truth.query("outlet == @NL")["n_paragraphs"].max() <= 14  # thin indeed
        hits = match_changes(detect(corpus, seed).changes, corpus.events, tolerance_days=14)
        found.append(hits.query("narrative == @GUARANTEES and outlet == @NL")["found"].all())
    assert sum(found) >= 3, found


def test_a_gradual_move_is_one_trend_not_a_string_of_steps():
    ramp = Scenario("ramp", events=_four_way_move("ramp", "trend", 28, days=42))
    for seed in range(3):
        corpus = generate_demo_corpus(seed, scenario=ramp, articles_per_outlet_week=20)
        changes = detect(corpus, seed).changes.query("narrative == @GUARANTEES and outlet == @NL")
        assert len(changes) == 1, changes
        change = changes.iloc[0]
        assert change["kind"] == "trend" and change["direction"] == "up"
        # the ramp runs from the week of 2025-06-30 to that of 2025-08-04: the trend starts within
        # a week of it and ends after most of it (where the realised shares settle is noisier)
        assert abs((pd.Timestamp(change["period"]) - pd.Timestamp("2025-06-30")).days) <= 7
        assert change["end_period"] >= "2025-07-28"
        assert change["magnitude"] == pytest.approx(0.4, abs=0.12)


def test_a_one_week_pulse_is_not_a_sustained_change():
    pulse = Scenario("pulse", events=_four_way_move("pulse", "pulse", 49, days=5))
    for seed in range(3):
        corpus = generate_demo_corpus(seed, scenario=pulse, articles_per_outlet_week=12)
        found = detect(corpus, seed)
        series = found.changes.query("narrative == @GUARANTEES and outlet == @NL")
        assert set(series["kind"]) <= {"pulse"}, series
        assert not len(emerging(found).query("narrative == @GUARANTEES and outlet == @NL"))


def test_emerging_and_fading_only_where_shares_moved(runs):
    """Emerging and fading answer to the change points' null: every listed series has a change
    found (so flat series are flagged no more often than change points are falsely found, see
    above), and most planted rises are listed."""
    for corpus, _, found in runs:
        moved = emerging(found)
        changed = set(zip(found.changes["narrative"], found.changes["outlet"]))
        assert set(zip(moved["narrative"], moved["outlet"])) <= changed
        up = corpus.events.query("outlet != 'all' and direction == 'up'")
        rising = moved.query("status == 'emerging'")
        assert len(set(zip(rising["narrative"], rising["outlet"])) & set(zip(up["narrative"], up["outlet"]))) >= 3
        rose = moved["share"] > moved["baseline_share"]
        assert (rose == moved["status"].isin(["emerging", "new"])).all()

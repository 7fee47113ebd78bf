"""Diffusion and lead-lag on generated corpora with planted leads, measured without the model."""

import pandas as pd
import pytest

from narrative.sample.design import PlantedEvent, Scenario, flat_scenario, hard_scenario
from narrative.sample.scoring import lead_recovery
from narrative.drift import drift_tables, select_copies
from narrative.drift.diffusion import diffusion, lead_lag, syndication_links, uptake
from narrative.sample import PLANTED_LABELS, generate_demo_corpus
from narrative.schema import DIFFUSION_COLUMNS, LEAD_LAG_COLUMNS

NL, CR = "Northern Ledger", "Continental Review"
TALKS = "Peace talks and summits"
WIRE, REPUBLISHER = "Atlantic Wire Service", "Free Voice Republisher"


def lead_scenario(day: int, lag: int, per_week: int = 25) -> Scenario:
    """Peace talks rise by 0.28 at Northern Ledger on ``day`` and at Continental Review ``lag``
    days later; both publish ``per_week`` articles a week (five a working day)."""
    return Scenario("lead", events=(
        PlantedEvent("lead", "step", NL, TALKS, "Sanctions leverage", day, 0.18),
        PlantedEvent("lead", "step", NL, TALKS, "Security guarantees", day, 0.10),
        PlantedEvent("lead", "step", CR, TALKS, "Sanctions leverage", day + lag, 0.16),
        PlantedEvent("lead", "step", CR, TALKS, "European unity and division", day + lag, 0.12),
    ), per_week={NL: (per_week, per_week), CR: (per_week, per_week)})


def tables(corpus, seed=0):
    labelled = corpus.labelled()
    kept = select_copies(labelled, "per_outlet")
    found = uptake(kept, narratives=list(PLANTED_LABELS), seed=seed)
    return (diffusion(kept, copies_from=labelled, found=found),
            lead_lag(kept, copies_from=labelled, found=found))


@pytest.mark.parametrize("lag", [3, 6])
def test_a_month_of_data_gives_the_order_and_the_lead(lag):
    """Four weeks, too few for any weekly lead-lag: day by day, the leader comes first, the lead
    has the right sign and size (within two days), and each onset comes with its interval."""
    for seed in range(2):
        corpus = generate_demo_corpus(seed, n_weeks=4, scenario=lead_scenario(10, lag))
        spread, pairs = tables(corpus, seed)
        talks = spread[spread["narrative"] == TALKS].set_index("outlet")
        assert talks.loc[NL, "rank"] == 1 and talks.loc[CR, "rank"] == 2, talks
        planted = corpus.events.query("narrative == @TALKS and outlet != 'all'").set_index("outlet")
        for outlet in (NL, CR):
            onset, start = pd.Timestamp(talks.loc[outlet, "onset"]), pd.Timestamp(planted.loc[outlet, "start"])
            assert abs((onset - start).days) <= 3  # originals are dated Monday to Friday
            assert talks.loc[outlet, "onset_low"] <= talks.loc[outlet, "onset"] <= talks.loc[outlet, "onset_high"]
        recovered = lead_recovery(pairs, corpus.events)
        assert len(recovered) == 1
        assert recovered["right_sign"].all() and recovered["within"].all(), recovered


def test_syndicated_copies_are_direct_evidence():
    """The republisher copies the wire a day or two later: for every narrative it carried, the
    wire leads it, by syndication, never the other way round."""
    corpus = generate_demo_corpus(0)
    _, pairs = tables(corpus)
    copied = pairs[pairs["evidence"].str.contains("syndication")]
    assert len(copied) >= 5
    assert set(zip(copied["leader"], copied["follower"])) == {(WIRE, REPUBLISHER)}
    assert copied["copy_delay_days"].between(1, 2).all() and (copied["n_copies"] > 0).all()
    links = syndication_links(corpus.labelled())
    assert set(links["source"]) == {WIRE} and set(links["outlet"]) == {REPUBLISHER}
    assert len(links.drop_duplicates("article_id")) == sum(1 for a in corpus.articles if a["syndicated_from"])


def test_no_uptake_claimed_where_nothing_rose():
    spread = [tables(generate_demo_corpus(200 + seed, articles_per_outlet_week=6,
                                          scenario=flat_scenario()), seed) for seed in range(3)]
    assert sum(len(d) for d, _ in spread) <= 1, [d for d, _ in spread]
    assert not any(ll["evidence"].str.contains("timing").any() for _, ll in spread)


def test_drift_tables_write_diffusion_and_lead_lag():
    corpus = generate_demo_corpus(1, n_weeks=4, scenario=lead_scenario(10, 6))
    out = drift_tables(corpus.labelled(), narratives=list(PLANTED_LABELS), period="week",
                       n_bootstrap=50, min_articles=3, seed=1)
    assert list(out["diffusion"].columns) == DIFFUSION_COLUMNS
    assert list(out["lead_lag"].columns) == LEAD_LAG_COLUMNS
    assert (out["diffusion"]["narrative"] == TALKS).sum() == 2
    assert ((out["lead_lag"]["leader"] == NL) & (out["lead_lag"]["follower"] == CR)
            & (out["lead_lag"]["narrative"] == TALKS)).any()


def test_a_planted_lead_of_a_few_days_at_ten_articles_a_week():
    """Hard corpora: two outlets (ten articles a week each) take the same step 2-5 days apart.
    An onset placed by the narrative that rose and the ones that lost share to it, together,
    gives the lead within two days in most corpora (placed by the rise alone: 7 of 12)."""
    recovered = []
    for seed in range(12):
        corpus = generate_demo_corpus(seed, scenario=hard_scenario(seed))
        recovered.append(lead_recovery(tables(corpus, seed)[1], corpus.events))
    recovered = pd.concat(recovered)
    assert recovered["within"].mean() >= 0.75, recovered
    assert recovered["right_sign"].mean() >= 0.8, recovered

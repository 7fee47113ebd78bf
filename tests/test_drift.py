"""Drift measures on corpora small enough to work out on paper."""

import numpy as np
import pandas as pd
import pytest

from narrative.drift import change_points
from narrative.drift.shares import (
    bootstrap_shares, labelled_paragraphs, narrative_shares, outlet_shares, period_start,
)


@pytest.fixture
def tiny():
    """3 articles, 2 outlets, 2 weeks: A1 (X, week 1): n1 n1 n2; A2 (Y, week 1): n2 -1; A3 (X, week 2): n1."""
    articles = pd.DataFrame(
        {
            "article_id": ["A1", "A2", "A3"],
            "outlet": ["X", "Y", "X"],
            "date": pd.to_datetime(["2025-01-06", "2025-01-08", "2025-01-14"]).date,
        }
    )
    paragraphs = pd.DataFrame(
        {
            "paragraph_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "article_id": ["A1", "A1", "A1", "A2", "A2", "A3"],
        }
    )
    assignments = pd.DataFrame(
        {"paragraph_id": ["p1", "p2", "p3", "p4", "p5", "p6"], "narrative_id": [0, 0, 1, 1, -1, 0]}
    )
    narratives = pd.DataFrame({"narrative_id": [-1, 0, 1], "label": ["unassigned", "n1", "n2"]})
    return labelled_paragraphs(articles, paragraphs, assignments, narratives)


def cell(frame, period, outlet, narrative):
    row = frame[(frame.period == period) & (frame.outlet == outlet) & (frame.narrative == narrative)]
    assert len(row) == 1
    return row.iloc[0]


def test_period_start_weeks_begin_monday():
    dates = pd.Series(pd.to_datetime(["2025-01-05", "2025-01-06", "2025-01-12", None]))
    assert period_start(dates, "week").tolist() == ["2024-12-30", "2025-01-06", "2025-01-06", None]
    assert period_start(dates, "month").tolist()[:3] == ["2025-01-01"] * 3
    with pytest.raises(ValueError, match="period must be"):
        period_start(dates, "year")


def test_paragraph_weighted_shares_by_hand(tiny):
    s = narrative_shares(tiny, narratives=["n1", "n2", "unassigned"], n_bootstrap=0, min_articles=1)
    w1, w2 = "2025-01-06", "2025-01-13"
    assert cell(s, w1, "X", "n1").share == pytest.approx(2 / 3)
    assert cell(s, w1, "X", "n2").share == pytest.approx(1 / 3)
    assert cell(s, w1, "X", "unassigned").share == 0
    assert cell(s, w1, "Y", "unassigned").share == pytest.approx(0.5)
    assert cell(s, w1, "all", "n1").share == pytest.approx(2 / 5)
    assert cell(s, w1, "all", "unassigned").share == pytest.approx(1 / 5)
    assert cell(s, w2, "X", "n1").share == 1
    assert cell(s, w1, "all", "n1").n_articles == 2
    # every cell sums to one, unassigned included
    sums = s.groupby(["period", "outlet"])["share"].sum()
    assert np.allclose(sums, 1)


def test_article_weighting_gives_one_vote_per_article(tiny):
    s = narrative_shares(tiny, narratives=["n1", "n2", "unassigned"], n_bootstrap=0, min_articles=1,
                         weighting="article")
    w1 = "2025-01-06"
    assert cell(s, w1, "all", "n1").share == pytest.approx(1 / 3)
    assert cell(s, w1, "all", "n2").share == pytest.approx(5 / 12)
    assert cell(s, w1, "all", "unassigned").share == pytest.approx(1 / 4)


def test_cells_with_few_articles_are_insufficient(tiny):
    s = narrative_shares(tiny, narratives=["n1", "n2", "unassigned"], n_bootstrap=50, min_articles=2)
    x = cell(s, "2025-01-13", "X", "n1")
    assert x.insufficient and np.isnan(x.ci_low) and np.isnan(x.ci_high)
    a = cell(s, "2025-01-06", "all", "n1")
    assert not a.insufficient and a.ci_low <= a.share <= a.ci_high


def test_outlet_shares_cover_whole_corpus(tiny):
    o = outlet_shares(tiny, narratives=["n1", "n2", "unassigned"], min_articles=1)
    x = o[o.outlet == "X"].set_index("narrative")["share"]
    assert x["n1"] == pytest.approx(3 / 4) and x["n2"] == pytest.approx(1 / 4)
    assert np.isnan(outlet_shares(tiny, min_articles=2).query("outlet == 'Y'")["share"]).all()


def test_bootstrap_resamples_articles_not_paragraphs():
    rng = np.random.default_rng(0)
    same = np.array([[2.0, 1.0], [2.0, 1.0], [2.0, 1.0]])
    share, low, high = bootstrap_shares(same, n_bootstrap=200, rng=rng)
    assert np.allclose(share, [2 / 3, 1 / 3]) and np.allclose(low, share) and np.allclose(high, share)
    split = np.array([[5.0, 0.0], [0.0, 5.0]])
    share, low, high = bootstrap_shares(split, n_bootstrap=500, rng=rng)
    assert share[0] == 0.5 and low[0] == 0.0 and high[0] == 1.0


def test_bootstrap_is_seeded(tiny):
    a = narrative_shares(tiny, n_bootstrap=100, min_articles=1, seed=3)
    b = narrative_shares(tiny, n_bootstrap=100, min_articles=1, seed=3)
    pd.testing.assert_frame_equal(a, b)


def _weekly(shares, *, per_week=8, outlet="X", seed=0):
    """Labelled paragraphs of one outlet: ``per_week`` articles a week, 5 paragraphs each, each
    paragraph n1 with that week's probability in ``shares``, else n2."""
    rng = np.random.default_rng(seed)
    rows = []
    for week, share in enumerate(shares):
        day = pd.Timestamp("2025-01-06") + pd.Timedelta(weeks=week)
        for i in range(per_week):
            ids = (rng.random(5) < share).astype(int) * -1 + 1  # 0 (n1) with probability share
            rows.append((f"w{week}a{i}", outlet, str((day + pd.Timedelta(days=i % 5)).date()), list(ids)))
    return _labelled(rows)


def test_change_point_found_at_the_step():
    values = [0.15] * 6 + [0.45] * 6
    cps = change_points(_weekly(values), narratives=["n1", "n2", "unassigned"], include_all=False)
    cp = cps[cps["narrative"] == "n1"]
    assert len(cp) == 1
    cp = cp.iloc[0]
    assert cp.period == "2025-02-17" and cp.direction == "up" and cp.kind == "step"
    assert cp.magnitude == pytest.approx(0.3, abs=0.08)
    assert cp.before_low <= cp.before <= cp.before_high and cp.after_low <= cp.after <= cp.after_high


def test_no_change_point_in_a_flat_series():
    cps = change_points(_weekly([0.3] * 12, seed=1), narratives=["n1", "n2", "unassigned"])
    assert cps.empty and cps.attrs["n_series"] == 4  # n1 and n2, in X and over all outlets


def _labelled(rows):
    """Labelled paragraphs from (article, outlet, date, [narrative ids]) rows."""
    articles = pd.DataFrame(
        {"article_id": [r[0] for r in rows], "outlet": [r[1] for r in rows],
         "date": pd.to_datetime([r[2] for r in rows]).date}
    )
    par = [(f"{a}-{k}", a, n) for a, _, _, ids in rows for k, n in enumerate(ids)]
    paragraphs = pd.DataFrame({"paragraph_id": [p[0] for p in par], "article_id": [p[1] for p in par]})
    assignments = pd.DataFrame({"paragraph_id": [p[0] for p in par], "narrative_id": [p[2] for p in par]})
    narratives = pd.DataFrame({"narrative_id": [-1, 0, 1], "label": ["unassigned", "n1", "n2"]})
    return labelled_paragraphs(articles, paragraphs, assignments, narratives)


def test_interval_of_a_cell_ignores_articles_added_elsewhere():
    """Each (period, outlet) cell resamples with its own generator: articles added in a later
    week and a new outlet leave the intervals of the earlier cells as they were, so a daily
    re-run need not redraw figures of unchanged weeks."""
    old = [(f"a{i}", "X" if i % 2 else "Y", "2025-01-07", [0] * (i % 3 + 1) + [1] * (i % 2))
           for i in range(12)]
    new = [(f"b{i}", "Z", "2025-01-21", [1, 1, 0]) for i in range(4)]
    before = narrative_shares(_labelled(old), n_bootstrap=100, min_articles=1, seed=5)
    after = narrative_shares(_labelled(old + new), n_bootstrap=100, min_articles=1, seed=5)
    columns = ["period", "outlet", "narrative", "share", "ci_low", "ci_high"]
    kept = after[after["period"] == "2025-01-06"][columns].reset_index(drop=True)
    assert (before["ci_high"] > before["ci_low"]).any()  # the intervals are not degenerate
    pd.testing.assert_frame_equal(before[columns].reset_index(drop=True), kept)
    o_before = outlet_shares(_labelled(old), n_bootstrap=100, min_articles=1, seed=5)
    o_after = outlet_shares(_labelled(old + new), n_bootstrap=100, min_articles=1, seed=5)
    pd.testing.assert_frame_equal(o_before, o_after[o_after["outlet"] != "Z"].reset_index(drop=True))

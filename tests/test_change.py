"""Change points, emerging narratives and their evidence on small corpora built for each case."""

import numpy as np
import pandas as pd
import pytest

from narrative.drift.change import change_points, detect_changes, emerging
from narrative.drift.segments import article_series, bh_cutoff, dispersion_factor, two_stage_cutoff
from narrative.schema import CHANGE_DETAIL_COLUMNS, CHANGEPOINT_COLUMNS

NAMES = ["n1", "n2", "unassigned"]


def labelled(weeks, *, per_week=8, outlet="X", seed=0, start="2025-01-06", narrative="n1"):
    """One outlet's labelled paragraphs: ``per_week`` articles a week of 5 paragraphs, each
    ``narrative`` with that week's probability in ``weeks``, else n2."""
    rng = np.random.default_rng(seed)
    rows = []
    for week, share in enumerate(weeks):
        monday = pd.Timestamp(start) + pd.Timedelta(weeks=week)
        for i in range(per_week):
            article = f"{outlet}-{week}-{i}"
            for k in range(5):
                rows.append((f"{article}-{k}", article, outlet, (monday + pd.Timedelta(days=i % 5)).date(),
                             narrative if rng.random() < share else "n2"))
    frame = pd.DataFrame(rows, columns=["paragraph_id", "article_id", "outlet", "date", "narrative"])
    frame["period"] = (pd.to_datetime(frame["date"]) - pd.to_timedelta(pd.to_datetime(frame["date"]).dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d")
    frame["duplicate_of"] = None
    return frame


def test_columns_follow_the_design_then_the_details():
    cps = change_points(labelled([0.1] * 6 + [0.5] * 6), narratives=NAMES)
    assert list(cps.columns) == CHANGEPOINT_COLUMNS + CHANGE_DETAIL_COLUMNS
    assert {"alpha", "n_series", "p_cutoff"} <= set(cps.attrs)


def test_two_steps_are_both_found():
    cps = change_points(labelled([0.1] * 6 + [0.45] * 6 + [0.15] * 6), narratives=NAMES,
                        include_all=False)
    n1 = cps[cps["narrative"] == "n1"]
    assert n1["direction"].tolist() == ["up", "down"]
    assert n1["period"].tolist() == ["2025-02-17", "2025-03-31"]
    assert n1["kind"].tolist() == ["step", "step"]
    assert n1["magnitude"].iloc[0] == pytest.approx(0.35, abs=0.08)
    # the segment after the first step is the one before the second
    assert n1["after"].iloc[0] == pytest.approx(n1["before"].iloc[1])


def test_news_cycles_are_not_read_as_steps():
    """Weeks whose whole mix swings (every article of a week shares its share) vary far more than
    their articles say; that excess is measured (dispersion) and no step is claimed."""
    swings = 0.3 + np.random.default_rng(4).choice([-0.15, 0.15], size=16)
    found = detect_changes(labelled(swings, per_week=10, seed=4), narratives=NAMES, include_all=False)
    assert found.changes.empty
    group = article_series(labelled(swings, per_week=10, seed=4), NAMES, weighting="paragraph",
                           distribution=None, include_all=False)[0]
    assert dispersion_factor(group, min_segment=2) > 2


def test_copies_join_their_original_only_over_all_outlets():
    frame = pd.concat([labelled([0.3] * 4, outlet="X"), labelled([0.3] * 4, outlet="Y", seed=1)])
    original = frame["article_id"].iloc[0]
    copy = frame[frame["article_id"] == original].assign(
        article_id="copy", outlet="Y", duplicate_of=original,
        paragraph_id=lambda d: "copy-" + d["paragraph_id"])
    groups = {g.outlet: g for g in article_series(pd.concat([frame, copy]), NAMES, weighting="paragraph",
                                                  distribution=None, include_all=True)}
    assert len(groups["Y"].n) == 33  # its own 32 articles and the copy
    assert len(groups["all"].n) == 64  # the copy is the same story as its original (same week)
    assert groups["all"].N.sum() == 64 * 5 + 5  # but its paragraphs still count


def test_evidence_is_the_paragraphs_nearest_their_centre():
    frame = labelled([0.05] * 5 + [0.6] * 5, seed=2)
    rng = np.random.default_rng(0)
    centre = rng.normal(size=8)
    vectors = {p: centre + rng.normal(scale=0.1, size=8) for p in frame["paragraph_id"]}
    outliers = frame[(frame["narrative"] == "n1") & (frame["period"] >= "2025-02-10")]["paragraph_id"].iloc[:5]
    for p in outliers:
        vectors[p] = -centre
    cps = change_points(frame, narratives=NAMES, embeddings=vectors, include_all=False)
    row = cps[cps["narrative"] == "n1"].iloc[0]
    ids = row["evidence"].split(";")
    assert len(ids) == 3 and not set(ids) & set(outliers)
    chosen = frame.set_index("paragraph_id").loc[ids]
    assert (chosen["narrative"] == "n1").all() and (chosen["period"] >= row["period"]).all()
    assert chosen["article_id"].is_unique


def test_evidence_shows_a_text_once_though_several_articles_repeat_it():
    """An outlet that reprints one paragraph in many articles shows it once among the evidence:
    three copies of one sentence are not three pieces of evidence."""
    frame = labelled([0.05] * 5 + [0.6] * 5, seed=2)
    frame["text_hash"] = frame["paragraph_id"]
    late = frame[(frame["narrative"] == "n1") & (frame["period"] >= "2025-02-10")]
    repeated = late.drop_duplicates("article_id")["paragraph_id"].iloc[:6]
    frame.loc[frame["paragraph_id"].isin(repeated), "text_hash"] = "same text"
    rng = np.random.default_rng(0)
    centre = rng.normal(size=8)
    vectors = {p: centre + rng.normal(scale=0.3, size=8) for p in frame["text_hash"]}
    vectors["same text"] = centre  # the most central paragraph of all
    cps = change_points(frame, narratives=NAMES, embeddings=vectors, include_all=False)
    ids = cps[cps["narrative"] == "n1"].iloc[0]["evidence"].split(";")
    hashes = frame.set_index("paragraph_id").loc[ids, "text_hash"]
    assert len(ids) == 3 and hashes.is_unique and "same text" in set(hashes)


def test_a_pulse_reports_the_z_of_its_own_move():
    """A pulse up reports the rise's z and p, even when the return was the split found more
    clearly: a row that says "up" with a negative z reads as a contradiction."""
    from narrative.drift.change import _classify
    from narrative.drift.segments import Split

    group = article_series(labelled([0.1] * 6 + [0.55] * 2 + [0.1] * 6, per_week=12, seed=5), NAMES,
                           weighting="paragraph", distribution=None, include_all=False)[0]
    splits = [Split(6, 4.0, 0.01), Split(8, -5.0, 0.001)]
    changes = _classify(group, 0, splits, z_cut=2.0, max_pulse=2, trend_alpha=0.05, n_sim=200,
                        rng=np.random.default_rng(0))
    assert [c.kind for c in changes] == ["pulse"]
    assert (changes[0].z, changes[0].p) == (4.0, 0.01)


def test_evidence_comes_from_the_periods_next_to_the_change():
    """The evidence of a rise shows what rose: paragraphs from the first weeks at the new level,
    not the most central of a long segment (here months later)."""
    frame = labelled([0.05] * 6 + [0.6] * 10, seed=3)
    rng = np.random.default_rng(1)
    centre = rng.normal(size=8)
    vectors = {p: centre + rng.normal(scale=0.5, size=8) for p in frame["paragraph_id"]}
    late = frame[(frame["narrative"] == "n1") & (frame["period"] >= "2025-03-17")]["paragraph_id"]
    for p in late:
        vectors[p] = centre  # the most central paragraphs of all lie weeks after the change
    cps = change_points(frame, narratives=NAMES, embeddings=vectors, include_all=False)
    row = cps[(cps["narrative"] == "n1") & (cps["direction"] == "up")].iloc[0]
    assert row["period"] == "2025-02-17"
    chosen = frame.set_index("paragraph_id").loc[row["evidence"].split(";")]
    assert len(chosen) == 3
    assert chosen["period"].between("2025-02-17", "2025-03-10").all(), chosen["period"].tolist()


def test_evidence_periods_widen_until_they_hold_enough_articles():
    """Where the first weeks after a rise hold too few articles carrying the narrative, the
    evidence window grows away from the change until it holds one per paragraph asked for."""
    from narrative.drift.change import EVIDENCE_PERIODS, _beside, _Change

    pieces = [labelled([0.05] * 6, per_week=8, seed=1),
              labelled([0.0, 0.0, 0.0, 1.0], per_week=1, seed=2, start="2025-02-17"),
              labelled([0.6] * 6, per_week=8, seed=3, start="2025-03-17")]
    frame = pd.concat([p.assign(article_id=f"{i}-" + p["article_id"], paragraph_id=f"{i}-" + p["paragraph_id"])
                       for i, p in enumerate(pieces)])
    group = article_series(frame, NAMES, weighting="paragraph", distribution=None,
                           include_all=False)[0]
    rise = _Change("step", 6, 6, (0, 6), (6, 16), 4.0, 0.001)
    a, b = _beside(group, 0, rise, up=True, n=3)
    assert (a, b) != (6, 6 + EVIDENCE_PERIODS) and a == 6
    assert group.carrying[a:b, 0].sum() >= 3 > group.carrying[a:b - 1, 0].sum()


def test_emerging_new_and_fading_come_from_the_changes():
    frame = pd.concat([
        labelled([0.1] * 6 + [0.5] * 6, outlet="X"),
        labelled([0.5] * 6 + [0.1] * 6, outlet="Y", seed=1),
        labelled([0.0] * 6 + [0.4] * 6, outlet="Z", seed=2, narrative="d1"),
        labelled([0.1] * 6 + [0.5] * 2 + [0.1] * 4, outlet="W", seed=3),  # up, then back
    ])
    found = detect_changes(frame, narratives=["n1", "n2", "d1"], include_all=False)
    moved = emerging(found, kinds={"n1": "named", "n2": "named", "d1": "discovered"})
    got = {(r.narrative, r.outlet): r for r in moved.itertuples()}
    assert got[("n1", "X")].status == "emerging" and got[("n1", "X")].period == "2025-02-17"
    assert got[("n1", "Y")].status == "fading" and got[("n1", "Y")].n_periods == 6
    assert got[("d1", "Z")].status == "new" and got[("d1", "Z")].baseline_share == 0
    assert ("n1", "W") not in got  # it went back: not a new level
    assert got[("n1", "X")].ci_low > got[("n1", "X")].baseline_high


def test_two_stage_cutoff_spreads_the_level_over_the_hypotheses_left():
    """Benjamini–Krieger–Yekutieli: Benjamini–Hochberg at alpha / (1 + alpha), then again at that
    level times m / (m - r) (at most 2) once r hypotheses are rejected."""
    assert two_stage_cutoff([0.001, 0.002, 0.003, 0.2, 0.6], 0.05) == 0.003
    # three clear rejections leave three hypotheses to share the level: the fourth passes
    p = [0.001, 0.002, 0.003, 0.05, 0.5, 0.9]
    assert two_stage_cutoff(p, 0.05) == 0.05 and bh_cutoff(p, 0.05) == 0.003
    # four leave two, but the level is at most doubled: 0.08 > 2 * 0.0476 * 5 / 6
    assert two_stage_cutoff([0.001, 0.002, 0.003, 0.004, 0.08, 0.9], 0.05) == 0.004
    assert two_stage_cutoff([0.3, 0.5, 0.9], 0.05) == 0.0
    assert two_stage_cutoff([], 0.05) == 0.0


def test_the_mix_over_all_outlets_varies_around_each_outlets_own_mix():
    """Two flat outlets that differ (X carries n1 only, Y n2 only): over all outlets the shares
    vary only through which outlet an article comes from, which shuffling within outlets keeps,
    so that difference is no noise."""
    frame = pd.concat([labelled([1.0] * 6, outlet="X"), labelled([0.0] * 6, outlet="Y", seed=1)])
    groups = {g.outlet: g for g in article_series(frame, NAMES, weighting="paragraph", distribution=None,
                                                  include_all=True)}
    both = groups["all"]
    assert np.allclose(both.spread(0, len(both.periods)), 0.0)
    assert both.standard_error(0, len(both.periods), 0) > 0  # around the pooled share, it is not


def test_an_outlet_is_not_tested_against_copies_of_its_own_articles():
    """Y republishes every article of X. Y's moves are then X's own noise, and borrowing their
    direction would find in X whatever X happened to do; a copy and its original are one story,
    so Y lends X nothing."""
    for seed in range(3):
        frame = labelled([0.3] * 12, per_week=6, outlet="X", seed=seed)
        copies = frame.assign(outlet="Y", duplicate_of=frame["article_id"],
                              article_id="y-" + frame["article_id"], paragraph_id="y-" + frame["paragraph_id"])
        found = detect_changes(pd.concat([frame, copies]), narratives=NAMES, include_all=False, seed=seed)
        assert found.changes.empty, found.changes[["narrative", "outlet", "period", "p_value"]]

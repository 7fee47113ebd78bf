"""Planted drift on the demo generator, measured without the model.

The planted narrative of every paragraph is used as its assignment, so this checks the drift
measures alone: shares against the planted mixes, intervals, and change points.
"""

import numpy as np
import pandas as pd
import pytest

from narrative.drift import change_points, narrative_shares, period_start
from narrative.sample import BOILERPLATE, PLANTED_LABELS, generate_demo_corpus

SEEDS = range(5)
FLAT = "Battlefield and territory"


def labelled_from(corpus) -> pd.DataFrame:
    """The labelled-paragraphs frame for the corpus, planted labels as assignments. The
    republisher's footer is dropped (ingest strips it as boilerplate)."""
    rows = [
        (f'{a["id"]}-{i}', a["id"], a["outlet"], a["date"], p["narrative"], a["syndicated_from"])
        for a in corpus.articles
        for i, p in enumerate(a["paragraphs"])
        if p["narrative"] != BOILERPLATE
    ]
    frame = pd.DataFrame(
        rows, columns=["paragraph_id", "article_id", "outlet", "date", "narrative", "duplicate_of"]
    )
    frame["period"] = period_start(frame["date"], "week")
    frame.attrs["period"] = "week"
    return frame


@pytest.fixture(scope="module")
def runs():
    out = []
    for seed in SEEDS:
        corpus = generate_demo_corpus(seed, articles_per_outlet_week=12)
        shares = narrative_shares(
            labelled_from(corpus), narratives=list(PLANTED_LABELS), n_bootstrap=200,
            min_articles=3, seed=seed, copies="per_outlet",
        )
        out.append((corpus, shares, change_points(shares, seed=seed)))
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


def test_planted_change_points_are_found(runs):
    """Every planted change is found within two weeks, nearly all (95%) within one, with its
    direction and size. (The location is a statistic of noisy weekly shares: a borderline case
    can move by a week when the bootstrap draws do.)"""
    offsets = []
    for corpus, _, found in runs:
        for planted in corpus.changepoints.itertuples():
            hits = found[(found.narrative == planted.narrative) & (found.outlet == planted.outlet)]
            weeks = [abs((pd.Timestamp(p) - pd.Timestamp(planted.period)).days) // 7 for p in hits.period]
            assert weeks and min(weeks) <= 2, (planted, hits)
            offsets.append(min(weeks))
            hit = hits.iloc[int(np.argmin(weeks))]
            assert hit.direction == planted.direction
            assert abs(hit.magnitude - planted.magnitude) < 0.08
        assert not (found.narrative == FLAT).any(), found[found.narrative == FLAT]
    assert np.mean(np.array(offsets) <= 1) >= 0.95, offsets


def test_few_change_points_where_nothing_was_planted(runs):
    spurious = 0
    for corpus, _, found in runs:
        planted = set(zip(corpus.changepoints.narrative, corpus.changepoints.outlet))
        per_outlet = found[found.outlet != "all"]
        spurious += sum((n, o) not in planted for n, o in zip(per_outlet.narrative, per_outlet.outlet))
    assert spurious <= 3  # over 5 seeds × ~55 unchanged series

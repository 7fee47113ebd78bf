"""Drift measures beyond shares, each on a case worked out on paper.

The tiny corpus (3 articles, 2 outlets, 2 weeks) is the one of test_drift.py:
A1 (X, Mon 2025-01-06): n1 n1 n2; A2 (Y, Wed 2025-01-08): n2 unassigned; A3 (X, Tue 2025-01-14): n1.
"""

import math
import os
import sys
import time

import numpy as np
import pandas as pd
import pytest

from narrative.drift import drift_tables
from narrative.runtime.workers import share_beside
from narrative.drift.shares import (
    labelled_paragraphs, narrative_shares, paragraph_matrix, select_copies,
)
from narrative.drift.divergence import divergence, js_divergence
from narrative.drift.compare import compare_groups, coverage_table, outlet_comparison
from narrative.drift.framing import _largest, class_tfidf, framing_drift, null_shifts
from narrative.schema import CHANGEPOINT_COLUMNS, SHARES_COLUMNS

NAMES = ["n1", "n2", "unassigned"]
W1, W2 = "2025-01-06", "2025-01-13"


@pytest.fixture
def tiny():
    articles = pd.DataFrame(
        {
            "article_id": ["A1", "A2", "A3"],
            "outlet": ["X", "Y", "X"],
            "date": pd.to_datetime(["2025-01-06", "2025-01-08", "2025-01-14"]).date,
            "duplicate_of": [None, None, None],
        }
    )
    paragraphs = pd.DataFrame(
        {
            "paragraph_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "article_id": ["A1", "A1", "A1", "A2", "A2", "A3"],
            "text_hash": ["h1", "h2", "h3", "h4", "h5", "h6"],
        }
    )
    assignments = pd.DataFrame(
        {"paragraph_id": ["p1", "p2", "p3", "p4", "p5", "p6"], "narrative_id": [0, 0, 1, 1, -1, 0]}
    )
    narratives = pd.DataFrame({"narrative_id": [-1, 0, 1], "label": ["unassigned", "n1", "n2"]})
    return labelled_paragraphs(articles, paragraphs, assignments, narratives)


def share(frame, period, outlet, narrative, column="share"):
    row = frame[(frame.period == period) & (frame.outlet == outlet) & (frame.narrative == narrative)]
    assert len(row) == 1
    return row.iloc[0][column]


def test_labelled_carries_copies_and_hashes(tiny):
    assert {"duplicate_of", "text_hash"} <= set(tiny.columns)
    assert tiny.attrs["period"] == "week"


def test_copies_once_or_per_outlet(tiny):
    # A4: Y republishes A1 (a copy from another outlet); A5: X reprints A3 (its own copy).
    extra = pd.DataFrame(
        {
            "paragraph_id": ["q1", "q2", "q3", "q4"], "narrative_id": [0, 0, 1, 0],
            "article_id": ["A4", "A4", "A4", "A5"], "text_hash": ["h1", "h2", "h3", "h6"],
            "outlet": ["Y", "Y", "Y", "X"],
            "date": pd.to_datetime(["2025-01-09", "2025-01-09", "2025-01-09", "2025-01-15"]).date,
            "duplicate_of": ["A1", "A1", "A1", "A3"], "narrative": ["n1", "n1", "n2", "n1"],
            "period": [W1, W1, W1, W2],
        }
    )
    frame = pd.concat([tiny, extra], ignore_index=True)
    assert set(select_copies(frame, "per_outlet")["article_id"]) == {"A1", "A2", "A3", "A4"}
    assert set(select_copies(frame, "once")["article_id"]) == {"A1", "A2", "A3"}
    s = narrative_shares(frame, narratives=NAMES, n_bootstrap=0, min_articles=1, copies="per_outlet")
    # Y in week 1: A2 (n2, unassigned) + A4 (n1 n1 n2) -> n1 2/5
    assert share(s, W1, "Y", "n1") == pytest.approx(2 / 5)
    s = narrative_shares(frame, narratives=NAMES, n_bootstrap=0, min_articles=1, copies="once")
    assert share(s, W1, "Y", "n1") == 0
    with pytest.raises(ValueError, match="copies must be"):
        select_copies(frame, "twice")


def test_soft_shares_from_a_distribution(tiny):
    # p1 is half n1 half n2; p5 has 0.4 n1 and leaves 0.6 to unassigned; columns are narrative ids.
    dist = pd.DataFrame({0: [0.5, 0.4], 1: [0.5, 0.0]}, index=["p1", "p5"])
    m = paragraph_matrix(tiny, NAMES, dist)
    assert np.allclose(m.sum(axis=1), 1)
    s = narrative_shares(tiny, narratives=NAMES, n_bootstrap=0, min_articles=1, distribution=dist)
    # week 1, all: n1 = 0.5 + 1 + 0.4 = 1.9 of 5 paragraphs; n2 = 0.5 + 1 + 1 = 2.5; unassigned 0.6
    assert share(s, W1, "all", "n1") == pytest.approx(1.9 / 5)
    assert share(s, W1, "all", "n2") == pytest.approx(2.5 / 5)
    assert share(s, W1, "all", "unassigned") == pytest.approx(0.6 / 5)


def test_undated_articles_are_counted_and_partial_periods_flagged(tiny):
    undated = tiny[tiny.article_id == "A2"].assign(article_id="A9", paragraph_id=["u1", "u2"],
                                                    date=None, period=None)
    frame = pd.concat([tiny, undated], ignore_index=True)
    frame.attrs["period"] = "week"
    s = narrative_shares(frame, narratives=NAMES, n_bootstrap=0, min_articles=1)
    assert s.attrs["n_undated_articles"] == 1
    assert share(s, W1, "all", "n1", "n_articles") == 2
    # X was collected Mon 01-06 .. Tue 01-14: week 1 fully, week 2 on 2 of 7 days
    assert not share(s, W1, "X", "n1", "partial")
    assert share(s, W2, "X", "n1", "partial")
    assert share(s, W2, "X", "n1", "coverage") == pytest.approx(2 / 7, abs=1e-3)
    cov = coverage_table(frame)
    y = cov.set_index("outlet").loc["Y"]
    assert y.n_articles == 2 and y.n_undated == 1 and str(y.first_date) == "2025-01-08"
    assert "1 undated article" in cov.attrs["note"]


def test_js_divergence_by_hand():
    p, q = np.array([2 / 3, 1 / 3, 0]), np.array([1.0, 0, 0])
    m = (p + q) / 2
    by_hand = 0.5 * (2 / 3 * math.log2((2 / 3) / m[0]) + 1 / 3 * math.log2((1 / 3) / m[1])) \
        + 0.5 * math.log2(1 / m[0])
    assert js_divergence(p, q) == pytest.approx(by_hand)
    assert js_divergence(p, q) == pytest.approx(0.1908745, abs=1e-6)
    assert js_divergence(p, p) == 0
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)


def test_divergence_between_weeks(tiny):
    s = narrative_shares(tiny, narratives=NAMES, n_bootstrap=0, min_articles=1)
    d = divergence(s, baseline_periods=1).set_index(["outlet", "period"])
    assert np.isnan(d.loc[("X", W1), "js_previous"])
    assert d.loc[("X", W2), "js_previous"] == pytest.approx(0.1908745, abs=1e-6)
    assert d.loc[("X", W2), "js_baseline"] == pytest.approx(0.1908745, abs=1e-6)
    assert d.loc[("X", W1), "js_baseline"] == 0
    # all, week 1 = (0.4, 0.4, 0.2); week 2 = (1, 0, 0)
    p, q = np.array([0.4, 0.4, 0.2]), np.array([1.0, 0, 0])
    assert d.loc[("all", W2), "js_previous"] == pytest.approx(js_divergence(p, q))


def test_outlet_comparison_uses_overlapping_periods_only(tiny):
    c = outlet_comparison(tiny, narratives=NAMES, n_bootstrap=0, min_articles=1)
    x = c[c.outlet == "X"].set_index("narrative")
    # Y has articles in week 1 only: X is compared on A1 alone (n1 2/3, n2 1/3) vs A2 (n2, unassigned)
    assert x.loc["n1", "difference"] == pytest.approx(2 / 3)
    assert x.loc["n2", "difference"] == pytest.approx(1 / 3 - 1 / 2)
    assert x.loc["unassigned", "difference"] == pytest.approx(-1 / 2)
    assert (x["n_overlap_periods"] == 1).all() and (x["overlap_last"] == W1).all()
    assert (x["n_articles"] == 1).all()
    assert "overlap" in c.attrs["note"]


def test_group_difference_interval_covers_a_real_gap():
    rng = np.random.default_rng(1)
    rows = []
    for i in range(120):
        outlet = "A" if i % 2 else "B"
        p = 0.6 if outlet == "A" else 0.3
        for j in range(4):
            rows.append((f"a{i}-{j}", f"a{i}", outlet, "2025-01-06",
                         "n1" if rng.random() < p else "n2"))
    frame = pd.DataFrame(rows, columns=["paragraph_id", "article_id", "outlet", "period", "narrative"])
    frame["date"] = pd.Timestamp("2025-01-06")
    g = compare_groups(frame, ["A"], ["B"], narratives=["n1", "n2"], n_bootstrap=300).set_index("narrative")
    assert g.loc["n1", "ci_low"] < 0.3 < g.loc["n1", "ci_high"]
    assert g.loc["n1", "ci_low"] > 0.15
    c = outlet_comparison(frame, narratives=["n1", "n2"], n_bootstrap=300)
    assert c.set_index(["outlet", "narrative"]).loc[("A", "n1"), "weighting"] == "over"


def test_class_tfidf_by_hand():
    counts = np.array([[2, 0], [1, 1]])
    # tf: [[1, 0], [.5, .5]]; A = 4 / 2 = 2 words per class; f = [3, 1]
    expected = np.array([[math.log(1 + 2 / 3), 0], [0.5 * math.log(1 + 2 / 3), 0.5 * math.log(3)]])
    assert np.allclose(class_tfidf(counts), expected)


def test_framing_terms_and_centroid_shift(tiny):
    texts = {"p1": "tanks advance river", "p2": "tanks river crossing", "h6": "sanctions oil price cap",
             "p3": "other", "p4": "other", "p5": "other"}
    emb = {"p1": np.array([1.0, 0.0]), "p2": np.array([2.0, 0.0]), "h6": np.array([0.0, 3.0])}
    f = framing_drift(tiny, narratives=NAMES, texts=texts, embeddings=emb, min_paragraphs=1, n_null=5)
    n1 = f[(f.narrative == "n1") & (f.outlet == "all")].set_index("period")
    # unit vectors: overall centroid (2/3, 1/3); week 1 centroid (1, 0): cos = 2/sqrt(5)
    assert n1.loc[W1, "centroid_shift"] == pytest.approx(1 - 2 / math.sqrt(5))
    assert n1.loc[W2, "centroid_shift"] == pytest.approx(1 - 1 / math.sqrt(5))
    assert "tanks" in n1.loc[W1, "top_terms"] and "sanctions" in n1.loc[W2, "top_terms"]
    assert "tanks" not in n1.loc[W2, "top_terms"]
    assert set(f[f.narrative == "n1"].outlet) == {"all", "X"}
    assert set(f[f.narrative == "n2"].outlet) == {"all", "X", "Y"}
    assert "unassigned" not in set(f.narrative)
    big = framing_drift(tiny, narratives=NAMES, texts=texts, embeddings=emb, min_paragraphs=2)
    assert big.set_index(["narrative", "outlet", "period"]).loc[("n1", "all", W2), "insufficient"]


def test_null_shifts_agree_with_drawing_each_size_apart():
    rng = np.random.default_rng(3)
    unit = rng.normal(size=(60, 4)) + np.array([2.0, 0, 0, 0])
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    centre = unit.mean(axis=0)
    got = null_shifts(unit, centre, [5, 20, 5, 59, 60], 2000, np.random.default_rng(0))
    assert set(got) == {5, 20, 59, 60} and got[60] == 0.0
    brute = np.random.default_rng(1)
    for m in (5, 20, 59):
        draws = [1 - (mean := unit[brute.choice(60, m, replace=False)].mean(axis=0)) @ centre
                 / (np.linalg.norm(mean) * np.linalg.norm(centre)) for _ in range(4000)]
        spread = np.std(draws) * (1 / 2000 + 1 / 4000) ** 0.5
        assert abs(got[m] - np.mean(draws)) < 4 * spread + 1e-12
    assert got[5] > got[20] > got[59] > 0  # smaller samples stray further from the centre
    again = null_shifts(unit, centre, [5, 20, 59, 60], 2000, np.random.default_rng(0))
    assert again == got


def test_largest_is_the_head_of_a_stable_sort():
    rng = np.random.default_rng(0)
    for _ in range(200):
        values = rng.integers(0, 4, size=rng.integers(1, 30)).astype(float)
        for n in (0, 1, 3, 8, 40):
            assert _largest(values, n).tolist() == np.argsort(-values, kind="stable")[:n].tolist()


def _series(values, outlet="all", narrative="n1", width=0.04, start="2025-01-06"):
    periods = pd.date_range(start, periods=len(values), freq="7D").strftime("%Y-%m-%d")
    values = np.asarray(values, dtype=float)
    return pd.DataFrame(
        {
            "period": periods, "outlet": outlet, "narrative": narrative, "share": values,
            "ci_low": values - width, "ci_high": values + width,
            "n_articles": 20, "n_paragraphs": 100, "insufficient": False, "partial": False,
        }
    )










def test_drift_tables_contract(tiny):
    tables = drift_tables(tiny, narratives=NAMES, period="week", n_bootstrap=20, min_articles=1,
                          seed=0, texts={"p1": "tanks river", "p2": "tanks", "p6": "sanctions"})
    assert {"shares", "outlet_shares", "changepoints", "divergence", "emerging", "framing",
            "outlet_comparison", "coverage", "lead_lag"} <= set(tables)
    assert list(tables["shares"].columns[:7]) == SHARES_COLUMNS
    assert list(tables["changepoints"].columns[:5]) == CHANGEPOINT_COLUMNS
    assert {"js_previous", "js_baseline"} <= set(tables["divergence"].columns)
    monthly = drift_tables(tiny, narratives=NAMES, period="month", n_bootstrap=0, min_articles=1, seed=0)
    assert set(monthly["shares"]["period"]) == {"2025-01-01"}




def test_framing_drift_beside_the_other_tables_gives_the_same_tables(tiny):
    texts = {"p1": "tanks river", "p2": "tanks", "p6": "sanctions", "h6": "sanctions oil"}
    emb = {"p1": np.array([1.0, 0.0]), "p2": np.array([2.0, 0.0]), "h6": np.array([0.0, 3.0])}
    common = dict(narratives=NAMES, period="week", n_bootstrap=20, min_articles=1, seed=0,
                  texts=texts, embeddings=emb)
    here, beside = drift_tables(tiny, **common), drift_tables(tiny, share=share_beside, **common)
    assert set(here) == set(beside)
    for name in here:
        pd.testing.assert_frame_equal(here[name], beside[name])




def test_resampled_sums_are_the_sums_of_the_resampled_rows():
    from narrative.drift.shares import resampled_sums

    rng = np.random.default_rng(0)
    counts = rng.integers(0, 6, size=(37, 5))
    draws = rng.integers(0, 37, size=(50, 37))
    np.testing.assert_array_equal(resampled_sums(counts, draws), counts[draws].sum(axis=1))
    fractions = rng.random((12, 3))
    draws = rng.integers(0, 12, size=(9, 12))
    np.testing.assert_allclose(resampled_sums(fractions, draws), fractions[draws].sum(axis=1),
                               rtol=1e-12)


def _many_narratives(n_narratives=7, n_articles=120, seed=0):
    """A labelled frame with several narratives, outlets and weeks, texts and embeddings."""
    rng = np.random.default_rng(seed)
    words = ["tanks", "river", "sanctions", "oil", "grain", "ports", "talks", "drones", "power"]
    articles = pd.DataFrame({
        "article_id": [f"A{i}" for i in range(n_articles)],
        "outlet": rng.choice(["X", "Y", "Z"], n_articles),
        "date": (pd.Timestamp("2025-01-06") + pd.to_timedelta(rng.integers(0, 35, n_articles),
                                                               unit="D")).date,
        "duplicate_of": None,
    })
    n_par = 4 * n_articles
    paragraphs = pd.DataFrame({
        "paragraph_id": [f"p{i}" for i in range(n_par)],
        "article_id": np.repeat(articles["article_id"], 4).to_numpy(),
        "text_hash": [f"h{i}" for i in range(n_par)],
    })
    # skewed sizes, so that the largest narratives go first and the split is uneven
    ids = rng.choice(n_narratives, n_par, p=np.arange(n_narratives, 0, -1) / sum(
        range(1, n_narratives + 1)))
    assignments = pd.DataFrame({"paragraph_id": paragraphs["paragraph_id"], "narrative_id": ids})
    narratives = pd.DataFrame({"narrative_id": range(-1, n_narratives),
                               "label": ["unassigned"] + [f"n{k}" for k in range(n_narratives)]})
    labelled = labelled_paragraphs(articles, paragraphs, assignments, narratives)
    texts = {h: " ".join(rng.choice(words, 6)) for h in paragraphs["text_hash"]}
    embeddings = {h: rng.normal(size=4) + k for h, k in zip(paragraphs["text_hash"], ids)}
    names = [f"n{k}" for k in range(n_narratives)] + ["unassigned"]
    return labelled, names, texts, embeddings


def test_framing_split_between_two_processes_is_the_in_process_table():
    labelled, names, texts, embeddings = _many_narratives()
    common = dict(narratives=names, period="week", n_bootstrap=10, min_articles=2, seed=3,
                  texts=texts, embeddings=embeddings)
    here = drift_tables(labelled, **common)["framing"]
    beside = drift_tables(labelled, share=share_beside, **common)["framing"]
    assert here["shift_null"].notna().sum() > 20 and set(here["narrative"]) == set(names[:-1])
    pd.testing.assert_frame_equal(here, beside)
    # each narrative's rows depend on its own data and the seed only, not on what else is asked
    alone = framing_drift(select_copies(labelled, "per_outlet"), narratives=["n3"], texts=texts,
                          embeddings=embeddings, seed=3)
    pd.testing.assert_frame_equal(alone, here[here["narrative"] == "n3"].reset_index(drop=True))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers are Linux only")
def test_framing_narratives_a_dead_worker_took_are_computed_here():
    import functools

    from narrative.drift import _framing_shared

    labelled, names, texts, embeddings = _many_narratives(seed=1)
    parent = os.getpid()
    kept = select_copies(labelled, "per_outlet")
    full = framing_drift(kept, narratives=names, texts=texts, embeddings=embeddings, seed=0)
    job = functools.partial(framing_drift, kept, texts=texts, embeddings=embeddings, seed=0)

    def takes_two_then_dies(narratives):
        if os.getpid() != parent:
            for _ in zip(range(2), narratives):  # claim (up to) two narratives, then die
                pass
            os._exit(1)
        time.sleep(0.5)  # here: let the worker claim first
        return job(narratives=narratives)

    got = _framing_shared(takes_two_then_dies, names, kept, share_beside)()
    pd.testing.assert_frame_equal(got, full)

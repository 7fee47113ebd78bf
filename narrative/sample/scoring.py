"""Drift findings scored against what the demo corpus planted (:mod:`narrative.sample.design`).

Tests, the calibration benchmark and notebook 2.01 ask the same questions of change points and
lead-lag found on a generated corpus: which planted moves were found (in the right direction, near
the right week), what was reported where nothing was planted, how clearly the articles showed
each planted move, and whether a planted lead came out with the right sign and size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["false_alarms", "lead_recovery", "match_changes", "step_visibility"]

_DAY = pd.Timedelta(days=1)


def match_changes(changes: pd.DataFrame, events: pd.DataFrame, *, tolerance_days: int = 7,
                  kinds: tuple[str, ...] = ("step", "trend")) -> pd.DataFrame:
    """One row per planted move of the given ``kinds`` (the ``events`` rows, pulses left out by
    default), with ``found`` (a change of the same narrative, outlet and direction whose
    period..end_period, widened by ``tolerance_days``, reaches the planted period..end_period),
    ``found_period``, ``found_kind`` and ``offset_days`` (found period − planted period) of the
    closest such change."""
    planted = events[events["kind"].isin(kinds)].reset_index(drop=True)
    tol = pd.Timedelta(days=tolerance_days)
    found, periods, found_kinds, offsets = [], [], [], []
    for e in planted.itertuples():
        same = changes[(changes["narrative"] == e.narrative) & (changes["outlet"] == e.outlet)
                       & (changes["direction"] == e.direction)]
        start, end = pd.Timestamp(e.period), pd.Timestamp(e.end_period)
        lo = pd.to_datetime(same["period"]) - tol
        hi = pd.to_datetime(same.get("end_period", same["period"])) + tol
        hits = same[((lo <= end) & (hi >= start)).to_numpy()]
        if hits.empty:
            found.append(False), periods.append(None), found_kinds.append(None), offsets.append(np.nan)
            continue
        offset = (pd.to_datetime(hits["period"]) - start) / _DAY
        best = int(np.argmin(np.abs(offset.to_numpy())))
        found.append(True)
        periods.append(hits["period"].iloc[best])
        found_kinds.append(hits["kind"].iloc[best] if "kind" in hits else None)
        offsets.append(float(offset.iloc[best]))
    return planted.assign(found=found, found_period=periods, found_kind=found_kinds, offset_days=offsets)


def false_alarms(changes: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """The changes on series (narrative, outlet) where nothing at all was planted."""
    planted = set(zip(events["narrative"], events["outlet"]))
    keep = [(n, o) not in planted for n, o in zip(changes["narrative"], changes["outlet"])]
    return changes[np.asarray(keep, dtype=bool)].reset_index(drop=True)


def step_visibility(labelled: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """How clearly the articles show each planted move: ``events`` with ``realized_before``,
    ``realized_after`` (the outlet's pooled shares before and from the planted start date; for a
    trend, from its end) and ``z``, their difference over its cluster-robust (per article)
    standard error. No detector can be expected to find a move its own data hardly show; a
    detector that knew the date would test exactly this z."""
    from ..drift.shares import ALL_OUTLETS

    paragraphs = labelled[labelled["date"].notna()]
    dates = pd.to_datetime(paragraphs["date"])
    rows = []
    for e in events.itertuples():
        mine = (paragraphs["outlet"] == e.outlet).to_numpy() if e.outlet != ALL_OUTLETS else np.ones(len(dates), bool)
        carries = (paragraphs["narrative"] == e.narrative).to_numpy(dtype=float)
        before_mask = mine & (dates < pd.Timestamp(e.start)).to_numpy()
        after_mask = mine & (dates >= pd.Timestamp(e.end if e.kind == "trend" else e.start)).to_numpy()
        if e.kind == "pulse":
            after_mask &= (dates <= pd.Timestamp(e.end)).to_numpy()
        sides = []
        for mask in (before_mask, after_mask):
            per_article = pd.DataFrame({"a": paragraphs["article_id"].to_numpy()[mask], "y": carries[mask]})
            per_article = per_article.groupby("a")["y"].agg(["sum", "size"])
            y, n = per_article["sum"].to_numpy(), per_article["size"].to_numpy(dtype=float)
            share = y.sum() / n.sum() if n.sum() else np.nan
            var = ((y - share * n) ** 2).sum() / n.sum() ** 2 if n.sum() else np.nan
            sides.append((share, var))
        (before, var_b), (after, var_a) = sides
        z = (after - before) / np.sqrt(var_a + var_b) if var_a + var_b > 0 else np.nan
        rows.append((before, after, z))
    return events.assign(realized_before=[r[0] for r in rows], realized_after=[r[1] for r in rows],
                         z=[r[2] for r in rows])


def lead_recovery(lead_lag: pd.DataFrame, events: pd.DataFrame, *, tolerance_days: int = 2) -> pd.DataFrame:
    """One row per planted lead (a rise planted in two outlets some days apart): event,
    narrative, leader, follower, lead_days (planted), found_lag (the lead-lag table's lag from
    leader to follower, negative when it puts them the other way round; NaN when the pair is not
    in the table), right_sign, within (|found_lag − lead_days| <= ``tolerance_days``) and
    significant."""
    rises = events[(events["outlet"] != "all") & (events["magnitude"] > 0)]
    rows = []
    for (name, narrative), group in rises.groupby(["event", "narrative"]):
        if group["lead_days"].nunique() < 2:
            continue
        group = group.sort_values("lead_days")
        first = group.iloc[0]
        for follower in group.iloc[1:].itertuples():
            k = int(follower.lead_days - first.lead_days)
            pair = lead_lag[lead_lag["narrative"] == narrative]
            forward = pair[(pair["leader"] == first.outlet) & (pair["follower"] == follower.outlet)]
            backward = pair[(pair["leader"] == follower.outlet) & (pair["follower"] == first.outlet)]
            lag, significant = np.nan, False
            if len(forward):
                lag, significant = float(forward["lag_days"].iloc[0]), bool(forward["significant"].iloc[0])
            elif len(backward):
                lag, significant = -float(backward["lag_days"].iloc[0]), bool(backward["significant"].iloc[0])
            rows.append((name, narrative, first.outlet, follower.outlet, k, lag,
                         bool(np.sign(lag) == np.sign(k)) if np.isfinite(lag) else False,
                         bool(abs(lag - k) <= tolerance_days) if np.isfinite(lag) else False, significant))
    return pd.DataFrame(rows, columns=["event", "narrative", "leader", "follower", "lead_days", "found_lag",
                                       "right_sign", "within", "significant"])

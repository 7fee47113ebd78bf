"""The report's "Who carried it first" section, from the drift stage's diffusion and lead-lag
tables (:mod:`narrative.drift.diffusion`).

For each narrative: the outlet that took it up first (the day its share there rose beyond chance,
with that day's interval) and whether it led the next outlet beyond the uncertainty, or by
republished copies. Where no outlet's share rose, or the lead's interval spans zero, the section
says it cannot tell; it never names a leader the numbers do not support. The full tables are the
CSV files beside the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .model import Section, Table
from .text import count, join_words

if TYPE_CHECKING:
    from ..drift import DriftFrames

__all__ = ["diffusion_section", "lead_cell", "lead_sentences"]

#: Kinds whose uptake the section reports (off-topic clusters and "unassigned" are left out).
_KINDS = ("named", "discovered")
#: Narratives named in the "cannot tell" sentence before "and N more".
_NAMED_THIN = 6


def _dated_outlets(drift: DriftFrames) -> int:
    """Outlets with at least one dated article."""
    coverage = drift.tables.get("coverage")
    if coverage is None or coverage.empty:
        return 0
    rows = coverage[coverage["outlet"] != "all"]
    return int(rows["first_date"].notna().sum())


def _days(x: float) -> str:
    return count(int(round(float(x))), "day")


def _pair(lead_lag: pd.DataFrame, narrative: str, a: str, b: str) -> pd.Series | None:
    """The lead-lag row of outlets ``a`` and ``b`` on ``narrative``, in either order."""
    rows = lead_lag[(lead_lag["narrative"] == narrative)
                    & (((lead_lag["leader"] == a) & (lead_lag["follower"] == b))
                       | ((lead_lag["leader"] == b) & (lead_lag["follower"] == a)))]
    return None if rows.empty else rows.iloc[0]


def lead_cell(pair: pd.Series | None) -> str:
    """Who led in one pair, in words, only as far as the evidence goes: the lead with its 95%
    interval where the timing is beyond the uncertainty, the copies where syndication decides,
    else that it cannot tell."""
    if pair is None:
        return "cannot tell"
    if bool(pair["significant"]):
        return (f"{pair['leader']}, by {_days(pair['lag_days'])} (95% interval "
                f"{pair['lag_low']:.0f} to {pair['lag_high']:.0f})")
    if int(pair.get("n_copies", 0) or 0) > 0:
        return (f"{pair['leader']}: {pair['follower']} republished "
                f"{count(int(pair['n_copies']), 'of its article')}")
    if pd.notna(pair["lag_low"]) and pd.notna(pair["lag_high"]):
        return (f"cannot tell (interval {pair['lag_low']:.0f} to {pair['lag_high']:.0f} days "
                "includes no lead)")
    return "cannot tell"


def _row(narrative: str, ups: pd.DataFrame, lead_lag: pd.DataFrame) -> list[str | int | None]:
    """One table row: the first outlet, its uptake day and interval, the next outlet, the lead."""
    first = ups.iloc[0]
    span = (f"{first['onset_low']} to {first['onset_high']}"
            if pd.notna(first["onset_low"]) and pd.notna(first["onset_high"]) else None)
    if len(ups) == 1:
        return [narrative, str(first["outlet"]), str(first["onset"]), span, None,
                "only one outlet's share rose", 1]
    second = ups.iloc[1]
    pair = _pair(lead_lag, narrative, str(first["outlet"]), str(second["outlet"]))
    return [narrative, str(first["outlet"]), str(first["onset"]), span, str(second["outlet"]),
            lead_cell(pair), len(ups)]


def _quoted(names: list[str]) -> str:
    """Narrative names in quotes (a discovered one's label may hold commas), the first
    :data:`_NAMED_THIN`, then how many more."""
    shown = [f"\u201c{n}\u201d" for n in names[:_NAMED_THIN]]
    return join_words(shown + ([f"{len(names) - _NAMED_THIN} more"] if len(names) > _NAMED_THIN else []))


def _timing_sentence(pairs: pd.DataFrame, carried: list[str]) -> str | None:
    """How many outlet pairs that both took a narrative up show a lead beyond the uncertainty."""
    timed = pairs[pairs["p_value"].notna()]
    if timed.empty:
        return ("No narrative was taken up by two outlets, so timing gives no lead between "
                "outlets." if carried else None)
    clear = int(timed["significant"].astype(bool).sum())
    return (f"Of {count(len(timed), 'pair')} of outlets that both took a narrative up, {clear:,} "
            f"{'shows' if clear == 1 else 'show'} a lead beyond the uncertainty; the table gives "
            "the first outlet per narrative, every pair is in lead_lag.csv.")


def _copy_sentences(pairs: pd.DataFrame) -> list[str]:
    """Per pair of outlets linked by copies: who republished whom, on how many narratives."""
    copied = pairs[(pairs["n_copies"].fillna(0) > 0) & ~pairs["significant"].astype(bool)]
    out = []
    for (leader, follower), group in copied.groupby(["leader", "follower"], sort=True):
        delay = group["copy_delay_days"].median()
        later = f", a median {_days(delay)} later" if pd.notna(delay) else ""
        out.append(f"Copies decide the order where timing cannot: {follower} republished "
                   f"{leader}'s articles carrying {count(len(group), 'narrative')}{later}, so "
                   f"{leader} carried {'it' if len(group) == 1 else 'them'} before {follower} "
                   f"({_quoted(sorted(group['narrative'].astype(str)))}).")
    return out


def _sentences(names: list[str], carried: list[str], thin: list[str],
               lead_lag: pd.DataFrame) -> list[str]:
    """How the section reads its numbers, how many leads are clear, what copies decide, and
    where it cannot tell."""
    out = ["An outlet takes a narrative up on the day its share there rises beyond what the same "
           "articles give shuffled over the days (false discovery rate 5% over all outlets and "
           "narratives); a lead is the gap between two outlets' uptake days, with a 95% interval "
           "from resampling articles."]
    pairs = lead_lag[lead_lag["narrative"].isin(names)]
    timing = _timing_sentence(pairs, carried)
    if timing:
        out.append(timing)
    out += _copy_sentences(pairs)
    if thin and not carried:
        out.append("From timing, the data is too thin to tell who carried any narrative first: "
                   "no outlet's share of a narrative rose, day by day, beyond what chance gives. "
                   "It takes more articles per outlet and day, or a longer window.")
    elif thin:
        out.append(f"Too thin to tell from timing who carried {_quoted(thin)} first: no "
                   "outlet's share rose beyond what chance gives.")
    return out


def lead_sentences(drift: DriftFrames, kinds: dict[str, str], limit: int = 1) -> list[str]:
    """The clearest leads between outlets (smallest p-value, then longest lead), as findings:
    only pairs whose lead is beyond the uncertainty."""
    lead_lag = drift.tables.get("lead_lag")
    if lead_lag is None or lead_lag.empty:
        return []
    clear = lead_lag[lead_lag["significant"].astype(bool)
                     & lead_lag["narrative"].map(lambda n: kinds.get(n) in _KINDS)]
    clear = clear.sort_values(["p_value", "lag_days", "narrative"], ascending=[True, False, True])
    return [f"{r.leader} took up {r.narrative} {_days(r.lag_days)} before {r.follower} (95% "
            f"interval {r.lag_low:.0f} to {r.lag_high:.0f} days); see Who carried it first."
            for r in clear.head(limit).itertuples()]


def diffusion_section(
    drift: DriftFrames, kinds: dict[str, str], order: list[str],
) -> tuple[Section | None, list[Table]]:
    """Who carried each narrative first, from ``drift.tables["diffusion"]`` and ``["lead_lag"]``:
    a short text, a table of the narratives some outlet took up, and links to both CSVs. None
    when drift computed neither table or fewer than two outlets have dated articles (nothing to
    compare)."""
    diffusion, lead_lag = drift.tables.get("diffusion"), drift.tables.get("lead_lag")
    if diffusion is None or lead_lag is None or _dated_outlets(drift) < 2:
        return None, []
    names = [n for n in order if kinds.get(n) in _KINDS]
    rows, carried, thin = [], [], []
    for name in names:
        ups = diffusion[diffusion["narrative"] == name].sort_values(["rank", "onset", "outlet"])
        if ups.empty:
            thin.append(name)
            continue
        carried.append(name)
        rows.append(_row(name, ups, lead_lag))
    if not names:
        return None, []
    tables = []
    if rows:
        tables.append(Table(
            key="first-carried", title="Who took each narrative up first",
            columns=["Narrative", "First outlet", "Took it up", "95% interval", "Next outlet",
                     "Who led", "Outlets that took it up"],
            rows=rows))
    section = Section("first-carried", "Who carried it first",
                      _sentences(names, carried, thin, lead_lag),
                      tables=[t.key for t in tables],
                      files=[(f"{name}.csv", f"{name}.csv") for name in ("diffusion", "lead_lag")])
    return section, tables

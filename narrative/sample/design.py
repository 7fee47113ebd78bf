"""What the demo corpus plants: outlets and their mixes of narratives, and the events that move them.

:mod:`narrative.sample` turns this design into text; this module holds the truth that tests and
benchmarks score against. A :class:`Scenario` is a list of :class:`PlantedEvent` (each moves
``delta`` of one outlet's planted share from one narrative to another, as a step, a gradual trend
or a short pulse) plus the number of articles each outlet publishes a week. Planted shares are
defined per day, so an outlet can follow another by a known number of days.

:data:`DEFAULT_SCENARIO` is the design described in :mod:`narrative.sample` (two steps, four
outlets); :func:`flat_scenario` plants nothing (for counting false alarms); :func:`hard_scenario`
draws, from a seed, a step on any weekday, a trend, a one-week pulse, an outlet leading another by
a few days, and an outlet with thin cells (1-2 articles a week).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ALL_OUTLETS", "DEFAULT_SCENARIO", "DEFAULT_START", "DEMO_NARRATIVES", "EVENT_COLUMNS",
    "NOISE_TOPICS", "OUTLETS", "PLANTED_CHANGES", "PLANTED_LABELS", "PlantedChange", "PlantedEvent",
    "Scenario", "events_frame", "flat_scenario", "hard_scenario", "planted_changepoints",
    "planted_share",
]

DEMO_NARRATIVES: tuple[str, ...] = (
    "Russia–China axis",
    "Security guarantees",
    "Sanctions leverage",
    "Battlefield and territory",
    "Peace talks and summits",
    "European unity and division",
)
NOISE_TOPICS: tuple[str, ...] = ("Off-topic: sport", "Off-topic: weather", "Off-topic: culture")
#: Every label a paragraph's narrative is drawn from; the order of the share vectors below.
PLANTED_LABELS: tuple[str, ...] = DEMO_NARRATIVES + NOISE_TOPICS
CHANGEPOINT_COLUMNS = ["narrative", "outlet", "period", "direction", "magnitude"]
#: One row per planted move of one narrative at one outlet (and its corpus-wide trace, ``all``).
EVENT_COLUMNS = ["event", "kind", "narrative", "outlet", "period", "direction", "magnitude",
                 "start", "end", "end_period", "lead_days"]
ALL_OUTLETS = "all"
DEFAULT_START = dt.date(2025, 6, 2)
#: Held flat everywhere, always: the control a detector must never flag.
FLAT = "Battlefield and territory"
EventKind = Literal["step", "trend", "pulse"]
_WEEKDAYS = 5  # originals are dated Monday to Friday


@dataclass(frozen=True)
class _Outlet:
    name: str
    code: str
    domain: str
    shares: tuple[float, ...]  # base planted shares, in PLANTED_LABELS order; sum to 1
    authors: tuple[str, ...]


_WIRE = "Atlantic Wire Service"
_REPUBLISHER = "Free Voice Republisher"
#                 axis  guar  sanc  battle talks  EU   sport weath cult
_WIRE_MIX = (0.12, 0.14, 0.14, 0.16, 0.20, 0.12, 0.04, 0.04, 0.04)
_OUTLETS: tuple[_Outlet, ...] = (
    _Outlet("Northern Ledger", "nl", "northernledger.example",
            (0.10, 0.16, 0.22, 0.16, 0.12, 0.12, 0.04, 0.04, 0.04),
            ("Harriet Quill", "Simon Ashworth", "Priya Raman", "Oliver Brandt")),
    _Outlet(_WIRE, "aws", "atlanticwire.example", _WIRE_MIX,
            ("Maria Costa", "James Okoye", "Lena Fischer", "Tom Reyes")),
    _Outlet("Eastern Meridian", "em", "easternmeridian.example",
            (0.26, 0.06, 0.08, 0.16, 0.24, 0.08, 0.04, 0.04, 0.04),
            ("Dmitri Orlov", "Svetlana Kuzmina", "Igor Vasnetsov")),
    _Outlet("Continental Review", "cr", "continentalreview.example",
            (0.08, 0.14, 0.20, 0.16, 0.10, 0.20, 0.03, 0.03, 0.06),
            ("Claudia Weber", "Étienne Moreau", "Katarzyna Nowak", "Pieter de Vries")),
    _Outlet("Harbor Times", "ht", "harbortimes.example",
            (0.12, 0.14, 0.20, 0.16, 0.12, 0.08, 0.08, 0.06, 0.04),
            ("Bill Donnelly", "Grace Whitaker", "Luis Ortega")),
    _Outlet(_REPUBLISHER, "fvr", "freevoice.example", _WIRE_MIX,
            ("Ray Calder", "Nina Holt", "Staff writer")),
)
OUTLETS: tuple[str, ...] = tuple(o.name for o in _OUTLETS)
_BY_NAME: Mapping[str, _Outlet] = MappingProxyType({o.name: o for o in _OUTLETS})
_WESTERN = ("Northern Ledger", "Continental Review", "Harbor Times")


# --- events and scenarios -------------------------------------------------------------------------

@dataclass(frozen=True)
class PlantedEvent:
    """``delta`` of ``outlet``'s planted share moves from ``source`` to ``narrative``.

    ``day`` counts days from the corpus start (0 = its first Monday). A ``step`` holds the new mix
    from ``day`` on; a ``trend`` ramps linearly to it over ``days`` days (full from
    ``day + days - 1``); a ``pulse`` holds it for ``days`` days only. Moves that belong to one
    story share ``name``: an outlet that follows another by k days has the same event k days later.
    """

    name: str
    kind: EventKind
    outlet: str
    narrative: str
    source: str
    day: int
    delta: float
    days: int = 1

    def effect(self, day: int) -> float:
        """Fraction of ``delta`` in force on ``day``."""
        t = day - self.day
        if t < 0:
            return 0.0
        if self.kind == "step":
            return 1.0
        if self.kind == "trend":
            return min((t + 1) / self.days, 1.0)
        return 1.0 if t < self.days else 0.0

    @property
    def end(self) -> int:
        """Day the move is complete (a pulse: its last day)."""
        return self.day if self.kind == "step" else self.day + self.days - 1


@dataclass(frozen=True)
class Scenario:
    """Planted events and publishing volume of a generated corpus.

    ``per_week`` maps an outlet to the (min, max) original articles it publishes a week (drawn
    uniformly each week); outlets not listed publish ``articles_per_outlet_week``.
    """

    name: str
    events: tuple[PlantedEvent, ...] = ()
    per_week: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for event in self.events:
            if event.outlet not in _BY_NAME:
                raise ValueError(f"scenario {self.name!r}: unknown outlet {event.outlet!r}")
            for label in (event.narrative, event.source):
                if label not in PLANTED_LABELS:
                    raise ValueError(f"scenario {self.name!r}: unknown narrative {label!r}")
            if event.kind not in ("step", "trend", "pulse") or event.days < 1 or event.day < 0:
                raise ValueError(f"scenario {self.name!r}: bad event {event!r}")
        for outlet, (low, high) in self.per_week.items():
            if outlet not in _BY_NAME or not 1 <= low <= high:
                raise ValueError(f"scenario {self.name!r}: bad per_week entry {outlet!r}: {(low, high)}")
        for outlet in {e.outlet for e in self.events}:
            for day in sorted({d for e in self.events for d in (e.day, e.end, e.end + 1)}):
                shares = self.mix(outlet, day)
                if min(shares) < 0 or max(shares) > 1:
                    raise ValueError(
                        f"scenario {self.name!r}: {outlet}'s planted shares leave [0, 1] on day {day}"
                    )

    @cached_property
    def _by_outlet(self) -> Mapping[str, tuple[PlantedEvent, ...]]:
        return {o: tuple(e for e in self.events if e.outlet == o) for o in OUTLETS}

    def share(self, outlet: str, day: int, narrative: str) -> float:
        """Probability that a paragraph of ``outlet`` on ``day`` carries ``narrative``."""
        share = _BY_NAME[outlet].shares[PLANTED_LABELS.index(narrative)]
        share += sum(
            e.delta * e.effect(day) * ((e.narrative == narrative) - (e.source == narrative))
            for e in self._by_outlet[outlet] if narrative in (e.narrative, e.source)
        )
        return round(share, 10)

    def mix(self, outlet: str, day: int) -> list[float]:
        """The share of every planted label (in :data:`PLANTED_LABELS` order)."""
        return [self.share(outlet, day, label) for label in PLANTED_LABELS]

    def week_share(self, outlet: str, week: int, narrative: str) -> float:
        """Mean planted share over the working days of week index ``week``; ``outlet`` may be
        ``"all"`` (the unweighted mean over outlets)."""
        if outlet == ALL_OUTLETS:
            return round(sum(self.week_share(o, week, narrative) for o in OUTLETS) / len(OUTLETS), 10)
        days = [self.share(outlet, 7 * week + d, narrative) for d in range(_WEEKDAYS)]
        return days[0] if len(set(days)) == 1 else round(sum(days) / len(days), 10)

    def volume(self, outlet: str, default: int) -> tuple[int, int]:
        """(min, max) original articles ``outlet`` publishes a week."""
        return self.per_week.get(outlet, (default, default))


def _step(name: str, outlets: tuple[str, ...], narrative: str, source: str, week: int,
          delta: float) -> tuple[PlantedEvent, ...]:
    return tuple(PlantedEvent(name, "step", o, narrative, source, 7 * week, delta) for o in outlets)


_STEP = 0.16
#: The default demo's design (see :mod:`narrative.sample`): two steps of 0.16.
DEFAULT_SCENARIO = Scenario(
    "default",
    events=(
        *_step("eastern-turn", ("Eastern Meridian",), "Sanctions leverage", "Peace talks and summits",
               6, _STEP),
        *_step("guarantees", _WESTERN, "Security guarantees", "Sanctions leverage", 8, _STEP),
    ),
)


def flat_scenario() -> Scenario:
    """Nothing planted: every outlet keeps its base mix (every series is a flat control)."""
    return Scenario("flat")


_HOSTS = ("Northern Ledger", "Eastern Meridian", "Continental Review", "Harbor Times")
_MOVABLE = tuple(n for n in DEMO_NARRATIVES if n != FLAT)


def hard_scenario(seed: int = 0, *, n_weeks: int = 14, lead_days: int | None = None,
                  lead_per_week: int = 10, delta: float = 0.18) -> Scenario:
    """A harder design, drawn from ``seed`` (the same seed gives the same scenario).

    Among the four outlets that publish their own copy (the wire and its republisher are left
    alone, so copies never carry a planted move), one has thin cells (1-2 articles a week) and
    plants nothing; of the other three, two carry the same step ``lead_days`` days apart (2-5
    when None; both publish ``lead_per_week`` articles a week), and the three host a trend over
    five weeks, a one-week pulse and one more step on any weekday, each on its own series. Each
    move takes ``delta`` from the host's largest free movable narratives (two when one cannot
    give it all, each keeping 0.04). "Battlefield and territory"
    and the off-topic labels stay flat everywhere. Needs ``n_weeks >= 12``.
    """
    if n_weeks < 12:
        raise ValueError(f"hard_scenario needs n_weeks >= 12; got {n_weeks}")
    rng = random.Random(f"hard-scenario-{seed}")
    thin = rng.choice(("Continental Review", "Harbor Times"))
    active = [o for o in _HOSTS if o != thin]
    leader, follower = rng.sample(active, 2)
    lag = lead_days if lead_days is not None else rng.randint(2, 5)
    used: set[tuple[str, str]] = set()

    def weekday(first_week: int, last_week: int) -> int:
        return 7 * rng.randint(first_week, last_week) + rng.randrange(_WEEKDAYS)

    def plant(name: str, kind: EventKind, outlets: list[str], day: int, days: int = 1,
              lags: tuple[int, ...] = (0,)) -> list[PlantedEvent]:
        # the narrative that gains is one of the hosts' smallest: large ones are left to give
        candidates = sorted(rng.sample(_MOVABLE, len(_MOVABLE)), key=lambda n: sum(
            _BY_NAME[o].shares[PLANTED_LABELS.index(n)] for o in outlets))
        for narrative in candidates:
            if any((o, narrative) in used for o in outlets):
                continue
            parts = [_sources(o, narrative, delta, used) for o in outlets]
            if all(parts):
                used.update((o, n) for o, p in zip(outlets, parts) for n in (narrative, *p))
                return [PlantedEvent(name, kind, o, narrative, source, day + lag_o, part, days)
                        for o, p, lag_o in zip(outlets, parts, lags) for source, part in p.items()]
        return []

    def plant_anywhere(name: str, kind: EventKind, day: int, days: int = 1) -> list[PlantedEvent]:
        for outlet in rng.sample(active, len(active)):
            if events := plant(name, kind, [outlet], day, days):
                return events
        return []

    last = n_weeks - 1
    events = plant("lead", "step", [leader, follower], weekday(4, last - 4), lags=(0, lag))
    events += plant_anywhere("trend", "trend", 7 * rng.randint(3, last - 7), days=35)
    events += plant_anywhere("pulse", "pulse", 7 * rng.randint(4, last - 3), days=_WEEKDAYS)
    events += plant_anywhere("step", "step", weekday(3, last - 3))
    per_week = {thin: (1, 2), leader: (lead_per_week, lead_per_week),
                follower: (lead_per_week, lead_per_week)}
    return Scenario(f"hard-{seed}", events=tuple(events), per_week=per_week)


def _sources(outlet: str, narrative: str, delta: float, used: set[tuple[str, str]]
             ) -> dict[str, float]:
    """Where ``outlet`` finds ``delta`` of share to move to ``narrative``: its largest free movable
    narratives, each keeping at least 0.04; empty when they cannot cover it."""
    shares = {n: _BY_NAME[outlet].shares[PLANTED_LABELS.index(n)] for n in _MOVABLE}
    free = sorted((n for n in _MOVABLE if n != narrative and (outlet, n) not in used),
                  key=lambda n: -shares[n])
    parts, left = {}, delta
    for name in free:
        take = round(min(shares[name] - 0.04, left), 10)
        if take > 0:
            parts[name], left = take, round(left - take, 10)
        if left <= 0:
            return parts
    return {}


def _date(start: dt.date, day: int) -> dt.date:
    return start + dt.timedelta(days=day)


def _monday(day: dt.date) -> str:
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def events_frame(scenario: Scenario, n_weeks: int = 14, start: dt.date = DEFAULT_START) -> pd.DataFrame:
    """Every planted move inside a corpus of ``n_weeks`` weeks: :data:`EVENT_COLUMNS`.

    Each event gives two rows per outlet (``narrative`` gains ``magnitude``, ``source`` loses it)
    and, per narrative, one ``all`` row: the move in the corpus-wide planted share (the mean over
    outlets), from the event's first day. ``period`` and ``end_period`` are the Mondays of the
    weeks holding ``start`` (first day of the move) and ``end`` (first day at the full new level;
    for a pulse, its last day). ``lead_days``: days after the event's first outlet.
    """
    import pandas as pd

    inside = [e for e in scenario.events if 0 < e.day < 7 * n_weeks]
    rows = []
    first = {}
    for e in inside:
        first[e.name] = min(first.get(e.name, e.day), e.day)
    totals: dict[tuple[str, str], list] = {}
    for e in inside:
        for narrative, sign in ((e.narrative, 1), (e.source, -1)):
            rows.append((e.name, e.kind, narrative, e.outlet, e.day, e.end, sign * e.delta,
                         e.day - first[e.name]))
            acc = totals.setdefault((e.name, narrative), [e.kind, e.day, e.end, 0.0])
            acc[1], acc[2] = min(acc[1], e.day), max(acc[2], e.end)
            acc[3] += sign * e.delta / len(OUTLETS)
    merged: dict[tuple, float] = {}  # a narrative fed from two sources gets one row
    for *key, magnitude, lead in rows:
        merged[(*key, lead)] = merged.get((*key, lead), 0.0) + magnitude
    rows = [(*key[:-1], round(m, 10), key[-1]) for key, m in merged.items()]
    rows += [(name, kind, narrative, ALL_OUTLETS, day, end, round(total, 10), 0)
             for (name, narrative), (kind, day, end, total) in totals.items()]
    out = []
    for name, kind, narrative, outlet, day, end, magnitude, lead in rows:
        begin, done = _date(start, day), _date(start, end)
        out.append((name, kind, narrative, outlet, _monday(begin), "up" if magnitude > 0 else "down",
                    magnitude, begin.isoformat(), done.isoformat(), _monday(done), lead))
    frame = pd.DataFrame(out, columns=EVENT_COLUMNS)
    return frame.sort_values(["start", "event", "outlet", "narrative"], ignore_index=True)


# --- the default design, as it was first published ----------------------------------------------

@dataclass(frozen=True)
class PlantedChange:
    """A step in ``narrative``'s planted share at ``outlets`` from week index ``week`` on."""

    narrative: str
    outlets: tuple[str, ...]
    week: int
    delta: float

    @property
    def direction(self) -> str:
        return "up" if self.delta > 0 else "down"


PLANTED_CHANGES: tuple[PlantedChange, ...] = (
    PlantedChange("Sanctions leverage", ("Eastern Meridian",), 6, +_STEP),
    PlantedChange("Peace talks and summits", ("Eastern Meridian",), 6, -_STEP),
    PlantedChange("Security guarantees", _WESTERN, 8, +_STEP),
    PlantedChange("Sanctions leverage", _WESTERN, 8, -_STEP),
)


def planted_share(outlet: str, week: int, narrative: str) -> float:
    """The probability that a paragraph of ``outlet`` in week index ``week`` carries ``narrative``
    in the default design.

    ``outlet`` may be ``"all"``: the unweighted mean over outlets. ``narrative`` is one of
    :data:`PLANTED_LABELS` (boilerplate is never drawn, so it has no share).
    """
    if narrative not in PLANTED_LABELS:
        raise ValueError(f"unknown narrative {narrative!r}; expected one of {list(PLANTED_LABELS)}")
    if not isinstance(week, int) or week < 0:
        raise ValueError(f"week must be a week index >= 0; got {week!r}")
    if outlet != ALL_OUTLETS and outlet not in _BY_NAME:
        raise ValueError(f"unknown outlet {outlet!r}; expected one of {list(OUTLETS)} or 'all'")
    return DEFAULT_SCENARIO.week_share(outlet, week, narrative)


def planted_changepoints(n_weeks: int = 14, start: dt.date = DEFAULT_START) -> pd.DataFrame:
    """The planted change points of the default design inside a corpus of ``n_weeks`` weeks.

    One row per (narrative, outlet): ``period`` is the Monday of the first week at the new level,
    ``direction`` ``up``/``down``, ``magnitude`` the signed step in planted share.
    """
    import pandas as pd

    rows = [
        (c.narrative, outlet, (start + dt.timedelta(weeks=c.week)).isoformat(), c.direction, c.delta)
        for c in sorted(PLANTED_CHANGES, key=lambda c: c.week)
        if 0 < c.week < n_weeks
        for outlet in c.outlets
    ]
    return pd.DataFrame(rows, columns=CHANGEPOINT_COLUMNS)

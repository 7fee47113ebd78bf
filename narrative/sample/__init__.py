"""The demo corpus: a fictional, news-like corpus with planted narratives, drift and syndication.

``narrative demo`` and the tests need input whose truth is known: which narrative each paragraph
carries, how each outlet's mix of narratives moves over time, and which articles are syndicated
copies. This module writes such a corpus from sentence templates
(``narrative/data/demo_templates.yaml``, all text original and fictional) with one seeded
``random.Random``: the same arguments give byte-identical output, another seed other text.

Planted design
--------------
* Outlets (fictional, ``.example`` domains) and their slants: Northern Ledger (Western broadsheet),
  Atlantic Wire Service (wire agency), Eastern Meridian (state media, Russia-friendly: more
  Russia–China axis and peace talks, little on guarantees), Continental Review (European weekly:
  more European unity and division), Harbor Times (US regional daily: more off-topic local news),
  Free Voice Republisher (republishes wire copy; its own pieces follow the wire's mix, so its planted
  share is the wire's).
* Paragraphs: 3-5 sentences from ONE topic's templates, 40-110 words; that topic is the paragraph's
  planted narrative. Each of an article's 3-7 paragraphs draws its narrative independently from the
  outlet's share vector for that week, so shares are per paragraph. The article's title comes from
  its main narrative (the most frequent named narrative among its paragraphs), whose paragraphs lead.
* Noise: three off-topic topics (sport, weather, culture) hold 12% of every outlet's mix (18% at
  Harbor Times), flat over time.
* "Battlefield and territory" is held flat at 0.16 for every outlet in every week.
* Change points (steps of 0.16 in planted share, listed by :func:`planted_changepoints`, week
  indices counted from 0 at ``start``):

  - week 6 (2025-07-14 with the default start), Eastern Meridian: "Sanctions leverage" up,
    "Peace talks and summits" down;
  - week 8 (2025-07-28), Northern Ledger, Continental Review and Harbor Times: "Security guarantees"
    up, "Sanctions leverage" down.

  Nothing else moves. The corpus-wide ("all") mix moves by the mean of these steps.
* Syndication: each Atlantic Wire Service article is, with probability ``syndication_rate`` (0.3),
  republished by Free Voice Republisher 1-2 days later (same week) with typographic punctuation
  (straight quotes to curly, " - " to " – ") and a footer paragraph whose planted narrative is
  ``"boilerplate"``; the copy's ``syndicated_from`` holds the original's id.

Other designs
-------------
The design above is :data:`narrative.sample.design.DEFAULT_SCENARIO`. ``generate_demo_corpus(...,
scenario=...)`` draws from another one: :func:`flat_scenario` (nothing planted) or
:func:`hard_scenario` (steps on any weekday, a trend, a one-week pulse, a lead of a few days
between two outlets, thin cells), or any :class:`Scenario`. The corpus's ``events`` frame lists
every planted move; :func:`write_demo_events` writes it as ``events.csv``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from narrative.sample.design import (
    _BY_NAME,
    _OUTLETS,
    _REPUBLISHER,
    _WIRE,
    ALL_OUTLETS,
    DEFAULT_SCENARIO,
    DEFAULT_START,
    DEMO_NARRATIVES,
    EVENT_COLUMNS,
    NOISE_TOPICS,
    OUTLETS,
    PLANTED_CHANGES,
    PLANTED_LABELS,
    PlantedChange,
    PlantedEvent,
    Scenario,
    _Outlet,
    events_frame,
    flat_scenario,
    hard_scenario,
    planted_changepoints,
    planted_share,
)
from narrative.io import atomic_write_text, write_csv

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BOILERPLATE",
    "DEMO_NARRATIVES",
    "EVENT_COLUMNS",
    "NOISE_TOPICS",
    "OUTLETS",
    "PLANTED_CHANGES",
    "PLANTED_LABELS",
    "SYNDICATION_FOOTER",
    "TRUTH_COLUMNS",
    "DemoCorpus",
    "DemoTemplates",
    "PlantedChange",
    "PlantedEvent",
    "Scenario",
    "flat_scenario",
    "generate_demo_corpus",
    "hard_scenario",
    "load_templates",
    "planted_changepoints",
    "planted_share",
    "read_demo_articles",
    "write_demo_corpus",
    "write_demo_events",
]

#: Planted narrative of the republisher's footer paragraph (never drawn from shares).
BOILERPLATE = "boilerplate"
SYNDICATION_FOOTER = (
    "This story was republished from Atlantic Wire Service under a content-sharing agreement."
)
TRUTH_COLUMNS = ["outlet", "period", "narrative", "planted_share", "realized_share", "n_paragraphs"]

_MIN_WORDS, _MAX_WORDS = 40, 110


def _period(start: dt.date, week: int) -> str:
    return (start + dt.timedelta(weeks=week)).isoformat()


# --- templates ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoTemplates:
    """Template data: slot values, and sentence and title templates per planted label."""

    slots: Mapping[str, tuple[str, ...]]
    sentences: Mapping[str, tuple[str, ...]]
    titles: Mapping[str, tuple[str, ...]]


_SLOT = re.compile(r"\{(\w+)\}")
_SMALL = ("two", "three", "four", "five", "six")
_ORDINALS = ("second", "third", "fourth", "fifth", "sixth", "seventh")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _nth(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _score(rng: random.Random) -> str:
    home = rng.randint(1, 4)
    return f"{home}-{rng.randint(0, home - 1)}"


# Slots filled by code rather than from the YAML lists: numbers, dates and scores.
_GENERATED_SLOTS: Mapping[str, Callable[[random.Random], str]] = MappingProxyType({
    "weekday": lambda r: r.choice(_WEEKDAYS),
    "month": lambda r: r.choice(_MONTHS),
    "small": lambda r: r.choice(_SMALL),
    "ordinal": lambda r: r.choice(_ORDINALS),
    "num": lambda r: str(r.randint(12, 95)),
    "big": lambda r: str(r.randint(120, 950)),
    "pct": lambda r: str(r.randint(4, 45)),
    "bn": lambda r: f"{r.randint(15, 600) / 10:.1f}",
    "km": lambda r: str(r.randint(2, 15)),
    "temp": lambda r: str(r.randint(34, 44)),
    "price": lambda r: str(r.randint(44, 60)),
    "disc": lambda r: str(r.randint(8, 25)),
    "minute": lambda r: _nth(r.randint(5, 89)),
    "score": _score,
    "sets": lambda r: f"6-{r.randint(0, 4)}, 7-{r.choice((5, 6))}",
})


def _lines(block: Any, where: str) -> tuple[str, ...]:
    if not isinstance(block, str):
        raise ValueError(f"demo templates: {where} must be a block of lines; got {type(block).__name__}")
    return tuple(line.strip() for line in block.splitlines() if line.strip())


@lru_cache(maxsize=1)
def load_templates() -> DemoTemplates:
    """Read and check ``narrative/data/demo_templates.yaml`` (cached: it never changes at run time)."""
    import yaml

    source = resources.files("narrative") / "data" / "demo_templates.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    slots = {name: _lines(block, f"slot {name!r}") for name, block in data["slots"].items()}
    topics = data["topics"]
    missing = [label for label in PLANTED_LABELS if label not in topics]
    if missing:
        raise ValueError(f"demo templates: no templates for {missing}")
    sentences = {lab: _lines(topics[lab]["sentences"], f"{lab!r} sentences") for lab in PLANTED_LABELS}
    titles = {lab: _lines(topics[lab]["titles"], f"{lab!r} titles") for lab in PLANTED_LABELS}
    for label, templates in (*sentences.items(), *titles.items()):
        for template in templates:
            unknown = set(_SLOT.findall(template)) - set(slots) - set(_GENERATED_SLOTS)
            if unknown:
                raise ValueError(
                    f"demo templates: unknown slot(s) {sorted(unknown)} in {label!r}: {template!r}"
                )
    return DemoTemplates(
        slots=MappingProxyType(slots),
        sentences=MappingProxyType(sentences),
        titles=MappingProxyType(titles),
    )


def _fill(template: str, rng: random.Random, slots: Mapping[str, tuple[str, ...]]) -> str:
    """Fill every ``{slot}``; a slot used twice in one template gets two different values."""
    used: dict[str, set[str]] = {}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        seen = used.setdefault(name, set())
        for _ in range(10):
            text = _GENERATED_SLOTS[name](rng) if name in _GENERATED_SLOTS else rng.choice(slots[name])
            if text not in seen:
                break
        seen.add(text)
        return text

    filled = _SLOT.sub(value, template)
    return filled[:1].upper() + filled[1:]


def _paragraph(rng: random.Random, templates: DemoTemplates, label: str) -> str:
    """3-5 distinct sentences of one topic, trimmed or padded into 40-110 words."""
    pool = templates.sentences[label]
    order = rng.sample(range(len(pool)), 7)
    sentences = [_fill(pool[i], rng, templates.slots) for i in order[: rng.randint(3, 5)]]
    words = sum(len(s.split()) for s in sentences)
    while words > _MAX_WORDS and len(sentences) > 3:
        words -= len(sentences.pop().split())
    for i in order[len(sentences):]:
        if words >= _MIN_WORDS:
            break
        sentences.append(_fill(pool[i], rng, templates.slots))
        words += len(sentences[-1].split())
    return " ".join(sentences)


# --- articles ----------------------------------------------------------------------------------

def _slug(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rsplit("-", 1)[0] if len(slug) > limit else slug


def _typeset(text: str) -> str:
    """What a republisher's CMS does to wire copy: curly quotes and en dashes."""
    text = text.replace(" - ", " \u2013 ")
    text = re.sub(r'(^|[\s(\[])"', "\\1\u201c", text).replace('"', "\u201d")
    return re.sub(r"(^|[\s(\[])'", "\\1\u2018", text).replace("'", "\u2019")


def _main_label(labels: Sequence[str]) -> str:
    """The most frequent named narrative (first drawn wins ties); a noise topic if none is named."""
    named = [lab for lab in labels if lab in DEMO_NARRATIVES] or list(labels)
    counts = Counter(named)
    return max(named, key=lambda lab: (counts[lab], -named.index(lab)))


def _article(
    outlet: _Outlet, seq: int, day: dt.date, title: str, author: str,
    paragraphs: list[dict[str, str]], syndicated_from: str | None = None,
) -> dict[str, Any]:
    return {
        "id": f"{outlet.code}-{day:%Y%m%d}-{seq:04d}",
        "outlet": outlet.name,
        "date": day,
        "title": title,
        "url": f"https://{outlet.domain}/{day:%Y/%m/%d}/{_slug(title)}-{seq:04d}",
        "author": author,
        "text": "\n\n".join(p["text"] for p in paragraphs),
        "paragraphs": paragraphs,
        "syndicated_from": syndicated_from,
    }


def _original(
    rng: random.Random, templates: DemoTemplates, outlet: _Outlet, seq: int, day: dt.date,
    labels: Sequence[str],
) -> dict[str, Any]:
    main = _main_label(labels)
    ordered = sorted(labels, key=lambda lab: lab != main)  # stable: the main narrative leads
    paragraphs = [{"text": _paragraph(rng, templates, lab), "narrative": lab} for lab in ordered]
    title = _fill(rng.choice(templates.titles[main]), rng, templates.slots)
    return _article(outlet, seq, day, title, rng.choice(outlet.authors), paragraphs)


def _copy(rng: random.Random, wire: dict[str, Any], seq: int) -> dict[str, Any]:
    day = wire["date"] + dt.timedelta(days=rng.randint(1, 2))
    paragraphs = [{"text": _typeset(p["text"]), "narrative": p["narrative"]} for p in wire["paragraphs"]]
    paragraphs.append({"text": SYNDICATION_FOOTER, "narrative": BOILERPLATE})
    return _article(_BY_NAME[_REPUBLISHER], seq, day, _typeset(wire["title"]), wire["author"],
                    paragraphs, syndicated_from=wire["id"])


@dataclass
class DemoCorpus:
    """Generated articles with their ground truth.

    Attributes
    ----------
    articles : list of dict
        Keys ``id, outlet, date (datetime.date), title, url, author, text, paragraphs,
        syndicated_from``; ``paragraphs`` is a list of ``{"text", "narrative"}`` and
        ``text == "\\n\\n".join(p["text"] for p in paragraphs)``.
    truth : pandas.DataFrame
        :data:`TRUTH_COLUMNS`, one row per outlet x week x planted label, plus outlet ``"all"``
        (planted: mean over outlets; realized: over all outlets' paragraphs). ``realized_share`` is
        the fraction of the cell's paragraphs (boilerplate excluded) drawn with that label;
        ``n_paragraphs`` is the cell's paragraph count (the denominator).
    changepoints : pandas.DataFrame
        The planted steps of the default design inside the corpus (see
        :func:`planted_changepoints`); empty for other scenarios (see ``events``).
    events : pandas.DataFrame
        Every planted move of the corpus's scenario (:func:`narrative.sample.design.events_frame`):
        steps, trends, pulses, leads.
    scenario : Scenario
        The design the corpus was drawn from.
    """

    articles: list[dict[str, Any]]
    truth: pd.DataFrame
    changepoints: pd.DataFrame
    events: pd.DataFrame | None = None
    scenario: Scenario = DEFAULT_SCENARIO

    def paragraph_frame(self) -> pd.DataFrame:
        """One row per paragraph: id (article), position, outlet, date, period, text, narrative."""
        import pandas as pd

        rows = [
            (a["id"], i, a["outlet"], a["date"],
             (a["date"] - dt.timedelta(days=a["date"].weekday())).isoformat(), p["text"], p["narrative"])
            for a in self.articles
            for i, p in enumerate(a["paragraphs"])
        ]
        return pd.DataFrame(rows, columns=["id", "position", "outlet", "date", "period", "text", "narrative"])

    def labelled(self, period: str = "week") -> pd.DataFrame:
        """The paragraphs as :func:`narrative.drift.labelled_paragraphs` gives them for a model
        that assigns every paragraph its planted narrative: paragraph_id (``<article id>-<position>``),
        article_id, outlet, date, period, narrative, duplicate_of (the original of a syndicated
        copy). The republisher's footer is left out, as ingest strips it as boilerplate. Drift
        measures run on this frame are checked against the planted truth without fitting a model.
        """
        import pandas as pd

        from ..drift.shares import period_start

        rows = [
            (f"{a['id']}-{i}", a["id"], a["outlet"], a["date"], p["narrative"], a["syndicated_from"])
            for a in self.articles
            for i, p in enumerate(a["paragraphs"])
            if p["narrative"] != BOILERPLATE
        ]
        frame = pd.DataFrame(rows, columns=["paragraph_id", "article_id", "outlet", "date", "narrative",
                                            "duplicate_of"])
        frame["period"] = period_start(frame["date"], period)  # type: ignore[arg-type]
        frame.attrs["period"] = period
        return frame


def _truth(articles: list[dict[str, Any]], n_weeks: int, start: dt.date,
           scenario: Scenario = DEFAULT_SCENARIO) -> pd.DataFrame:
    import pandas as pd

    counts: dict[tuple[str, int], Counter[str]] = {}
    for article in articles:
        week = (article["date"] - start).days // 7
        for outlet in (article["outlet"], ALL_OUTLETS):
            cell = counts.setdefault((outlet, week), Counter())
            cell.update(p["narrative"] for p in article["paragraphs"] if p["narrative"] != BOILERPLATE)
    rows = []
    for outlet in (*OUTLETS, ALL_OUTLETS):
        for week in range(n_weeks):
            cell = counts.get((outlet, week), Counter())
            n = sum(cell.values())
            for label in PLANTED_LABELS:
                realized = cell[label] / n if n else float("nan")
                rows.append((outlet, _period(start, week), label,
                             scenario.week_share(outlet, week, label), realized, n))
    return pd.DataFrame(rows, columns=TRUTH_COLUMNS)


def generate_demo_corpus(
    seed: int = 0,
    *,
    n_weeks: int = 14,
    articles_per_outlet_week: int = 3,
    start: dt.date = DEFAULT_START,
    syndication_rate: float = 0.3,
    scenario: Scenario | None = None,
) -> DemoCorpus:
    """Generate the demo corpus (see the module docstring for the planted design).

    Parameters
    ----------
    seed : int, default=0
        Seed of the one ``random.Random`` used; the same arguments give identical output.
    n_weeks : int, default=14
        Weeks of articles, from ``start`` (a Monday).
    articles_per_outlet_week : int, default=3
        Original articles per outlet and week, dated Monday to Friday; syndicated copies come on
        top. A scenario may set other numbers for some outlets.
    start : datetime.date, default=2025-06-02
        Monday of the first week.
    syndication_rate : float, default=0.3
        Probability that a wire article is republished by Free Voice Republisher.
    scenario : Scenario, optional
        The planted events and publishing volumes (:mod:`narrative.sample.design`): None is the
        default design, :func:`flat_scenario` plants nothing, :func:`hard_scenario` is harder.
        A paragraph's narrative is drawn from its outlet's planted mix on the article's day.
    """
    if not isinstance(n_weeks, int) or n_weeks < 1:
        raise ValueError(f"n_weeks must be an int >= 1; got {n_weeks!r}")
    if not isinstance(articles_per_outlet_week, int) or articles_per_outlet_week < 1:
        raise ValueError(f"articles_per_outlet_week must be an int >= 1; got {articles_per_outlet_week!r}")
    if not isinstance(start, dt.date) or start.weekday() != 0:
        raise ValueError(f"start must be a Monday (weeks start on Monday); got {start!r}")
    if not 0.0 <= syndication_rate <= 1.0:
        raise ValueError(f"syndication_rate must be within [0, 1]; got {syndication_rate!r}")
    scenario = scenario or DEFAULT_SCENARIO

    rng = random.Random(seed)
    templates = load_templates()
    seq = dict.fromkeys(OUTLETS, 0)
    articles: list[dict[str, Any]] = []
    copies: list[dict[str, Any]] = []
    for week in range(n_weeks):
        for outlet in _OUTLETS:
            low, high = scenario.volume(outlet.name, articles_per_outlet_week)
            for _ in range(low if low == high else rng.randint(low, high)):
                day = 7 * week + rng.randrange(5)
                weights = scenario.mix(outlet.name, day)
                labels = rng.choices(PLANTED_LABELS, weights=weights, k=rng.randint(3, 7))
                seq[outlet.name] += 1
                article = _original(rng, templates, outlet, seq[outlet.name],
                                    start + dt.timedelta(days=day), labels)
                articles.append(article)
                if outlet.name == _WIRE and rng.random() < syndication_rate:
                    seq[_REPUBLISHER] += 1
                    copies.append(_copy(rng, article, seq[_REPUBLISHER]))
    articles += copies
    articles.sort(key=lambda a: (a["date"], OUTLETS.index(a["outlet"]), a["id"]))
    return DemoCorpus(
        articles=articles,
        truth=_truth(articles, n_weeks, start, scenario),
        changepoints=(planted_changepoints(n_weeks, start) if scenario is DEFAULT_SCENARIO
                      else planted_changepoints(0, start)),
        events=events_frame(scenario, n_weeks, start),
        scenario=scenario,
    )


# --- files -------------------------------------------------------------------------------------

_RECORD_KEYS = ("id", "outlet", "date", "title", "url", "author", "text", "paragraphs", "syndicated_from")


def write_demo_corpus(corpus: DemoCorpus, out_dir: Path) -> tuple[Path, Path]:
    """Write ``out_dir/demo_corpus.jsonl`` (one article per line) and ``out_dir/truth.csv``.

    Each file is written atomically (temporary file in ``out_dir``, fsync, rename). The JSONL has
    the fields a generic news reader takes (``id, outlet, date, title, url, text``) plus ``author``,
    ``paragraphs`` (``[{text, narrative}]``) and ``syndicated_from``. Returns both paths.
    """
    out_dir = Path(out_dir)
    lines = []
    for article in corpus.articles:
        record = {key: article.get(key) for key in _RECORD_KEYS}
        record["date"] = article["date"].isoformat()
        lines.append(json.dumps(record, ensure_ascii=False))
    jsonl = atomic_write_text(out_dir / "demo_corpus.jsonl", "".join(line + "\n" for line in lines))
    truth = write_csv(out_dir / "truth.csv", corpus.truth)
    return jsonl, truth


def write_demo_events(corpus: DemoCorpus, out_dir: Path) -> Path:
    """Write ``out_dir/events.csv``: every planted move (:data:`EVENT_COLUMNS`), atomically."""
    events = corpus.events if corpus.events is not None else events_frame(DEFAULT_SCENARIO)
    return write_csv(Path(out_dir) / "events.csv", events)


def read_demo_articles(path: Path) -> list[dict[str, Any]]:
    """Read a ``demo_corpus.jsonl`` back into article dicts (``date`` as ``datetime.date``)."""
    articles = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                record["date"] = dt.date.fromisoformat(record["date"])
                articles.append(record)
    return articles

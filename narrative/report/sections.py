"""The report's analysis sections and methods appendix, each built from one drift table.

Every builder takes what the pipeline already computed, draws its figure through ``add`` (which
saves it under ``figures/`` and registers it in the model) and returns a :class:`Section` plus the
tables it names. Sentences are generated from the numbers; nothing here is rendered.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..frames import isin
from ..schema import UNASSIGNED
from .cache import Plot, ReportCache
from .model import Section, Table
from .power import detectable_sentence, windows_overlap
from .text import count, pct, plural, shown_name

if TYPE_CHECKING:
    from ..config import Settings
    from ..drift import DriftFrames
    from ..store import Store

#: ``add(key, plot, title, caption)``: draw a :class:`~narrative.report.cache.Plot` (or reuse its
#: saved files when its inputs are unchanged), save it and put it in the report.
AddFigure = Callable[[str, "Plot", str, str], None]

__all__ = [
    "AddFigure",
    "coverage_section",
    "divergence_section",
    "emerging_section",
    "framing_section",
    "map_section",
    "quality_section",
    "stability_sentence",
    "syndication_section",
]

_MAX_TABLE_ROWS = 25


_pct = pct


def _where(outlet: object) -> str:
    return "all outlets" if outlet == "all" else str(outlet)


def _share_cell(x: object) -> str | None:
    """A 0-1 share as a table cell, ``"12.3%"``; None (a dash) when missing."""
    value = _round(x, 6)
    return None if value is None else f"{100 * value:.1f}%"


def _points_cell(x: object) -> str | None:
    """A change of share in percentage points, signed: ``"+28.2"``."""
    value = _round(x, 6)
    return None if value is None else f"{100 * value:+.1f}"


def _round(x: object, digits: int) -> float | None:
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else round(value, digits)


# -- divergence ---------------------------------------------------------------------------------


def divergence_section(
    drift: "DriftFrames", add: AddFigure, colors: Mapping[str, str], period: str,
    kinds: Mapping[str, str] | None = None,
) -> tuple[Section, list[Table]]:
    """Jensen–Shannon divergence from the baseline mix per outlet, with the change points (those
    of off-topic clusters, per ``kinds``, counted in a sentence but not drawn or listed, as in
    the share charts)."""
    from ..figures import plot_divergence

    div = drift.tables.get("divergence", pd.DataFrame())
    changes = drift.changepoints
    off_topic = (changes["narrative"].map(lambda n: (kinds or {}).get(n) == "off-topic")
                 if len(changes) else pd.Series(dtype=bool))
    n_off_topic = int(off_topic.sum())
    if n_off_topic:
        changes = changes[~off_topic.to_numpy(dtype=bool)].copy()
        changes.attrs = dict(drift.changepoints.attrs)
    text = [
        f"Divergence measures how far an outlet's mix of narratives in a {period} is from its "
        f"baseline (the mean mix of its first usable {period}s), as Jensen\u2013Shannon divergence "
        "(0 = the same mix, 1 = nothing in common). Vertical lines mark change points: the first "
        f"{period} at which one narrative's share settled at a new level."
    ]
    figures: list[str] = []
    if div is not None and not div.empty:
        add("divergence", Plot(plot_divergence, (div, changes), {"colors": colors}),
            "Divergence with change points",
            f"Solid: divergence of each {period}'s narrative mix from the outlet's baseline; dashed: "
            f"from the previous {period}. Lines in a narrative's colour mark its change points "
            "(\u25b2 rise, \u25bc fall).")
        figures.append("divergence")
        usable = div[~div["partial"].astype(bool)] if "partial" in div else div
        usable = usable[np.isfinite(pd.to_numeric(usable["js_baseline"], errors="coerce"))]
        if not usable.empty:
            top = usable.loc[pd.to_numeric(usable["js_baseline"]).idxmax()]
            text.append(
                f"The largest divergence from baseline was {_where(top['outlet'])}'s in the "
                f"{period} of {top['period']} ({float(top['js_baseline']):.3f})."
            )
    else:
        text.append(f"Divergence was not measured: too few {period}s with enough articles.")
    n_series = changes.attrs.get("n_series")
    alpha = changes.attrs.get("alpha")
    if changes.empty:
        text.append("No change point was detected" + (
            f" in {n_series} share series" if n_series else "") + ".")
    else:
        text.append(
            f"{len(changes)} change point{'s' if len(changes) != 1 else ''} detected"
            + (f" across {n_series} share series" if n_series else "")
            + (f", false discovery rate controlled at {alpha:.0%}" if alpha else "") + "."
        )
    if n_off_topic:
        text.append(f"{count(n_off_topic, 'more change point')} of off-topic clusters "
                    f"{'is' if n_off_topic == 1 else 'are'} left out here (changepoints.csv has "
                    f"{'it' if n_off_topic == 1 else 'them'}).")
    seen = detectable_sentence(drift.tables.get("detectable"), period,
                               pooled=windows_overlap(drift.tables.get("coverage")))
    if seen:
        text.append(seen)
    tables = []
    if not changes.empty:
        rows = []
        for c in changes.itertuples():
            rows.append([
                c.narrative, c.outlet, c.period, c.direction,
                _share_cell(getattr(c, "before", np.nan)), _share_cell(getattr(c, "after", np.nan)),
                _points_cell(c.magnitude),
            ])
        tables.append(Table(
            key="changepoints", title="Detected change points",
            columns=["narrative", "outlet", "from period", "direction", "before", "after",
                     "change (points)"],
            rows=rows,
        ))
    return Section("divergence", "Divergence and change points", text, figures,
                   [t.key for t in tables]), tables


# -- emerging and fading ----------------------------------------------------------------------------


def emerging_sentences(emerging: pd.DataFrame, period: str, limit: int = 3) -> list[str]:
    """One sentence per emerging, fading or new narrative, largest change first."""
    if emerging is None or emerging.empty:
        return []
    frame = emerging[emerging["narrative"] != UNASSIGNED]
    frame = frame.assign(_size=pd.to_numeric(frame["magnitude"], errors="coerce").abs())
    frame = frame.sort_values(["_size", "narrative", "outlet"], ascending=[False, True, True])
    verbs = {"emerging": "grew", "fading": "faded", "new": "appeared"}
    out = []
    for r in frame.head(limit).itertuples():
        verb = verbs.get(str(r.status), str(r.status))
        out.append(
            f"{r.narrative} {verb} in {_where(r.outlet)}: {_pct(float(r.share))} of paragraphs "
            f"in {int(r.n_periods)} {period}s between {r.period} and {r.end_period}, against "
            f"{_pct(float(r.baseline_share))} in the baseline."
        )
    return out


def emerging_section(
    drift: "DriftFrames", add: AddFigure, colors: Mapping[str, str], period: str
) -> tuple[Section, list[Table]]:
    """Narratives whose share left their baseline interval for several periods, or appeared late."""
    from ..figures import plot_emerging

    emerging = drift.tables.get("emerging", pd.DataFrame())
    text = [
        f"A narrative is emerging (fading) in an outlet when, for at least 3 consecutive {period}s "
        "after the baseline, its whole 95% interval lies above (below) the baseline level; new "
        "narratives are discovered ones absent from the baseline that later take a share."
    ]
    if emerging is None or emerging.empty:
        text.append("No narrative emerged or faded in this run.")
        return Section("emerging", "Emerging and fading narratives", text), []
    text += emerging_sentences(emerging, period)
    add("emerging", Plot(plot_emerging, (emerging,), {"colors": colors}), "Emerging and fading narratives",
        "Open circle: mean share in the baseline; filled circle: mean share over the run of "
        f"{period}s named beside it.")
    frame = emerging.assign(_size=pd.to_numeric(emerging["magnitude"], errors="coerce").abs())
    frame = frame.sort_values(["_size", "narrative", "outlet"], ascending=[False, True, True])
    table = Table(
        key="emerging", title="Emerging, fading and new narratives",
        columns=["narrative", "outlet", "status", "from", "to", f"{period}s", "baseline",
                 "during"],
        rows=[[r.narrative, r.outlet, r.status, r.period, r.end_period, int(r.n_periods),
               _share_cell(r.baseline_share), _share_cell(r.share)]
              for r in frame.head(_MAX_TABLE_ROWS).itertuples()],
    )
    return Section("emerging", "Emerging and fading narratives", text, ["emerging"],
                   ["emerging"]), [table]


# -- framing --------------------------------------------------------------------------------------


def framing_section(drift: "DriftFrames", period: str,
                    kinds: dict[str, str] | None = None) -> tuple[Section | None, list[Table]]:
    """The periods in which a narrative was told most unlike its usual self (all outlets);
    off-topic clusters are left out."""
    framing = drift.tables.get("framing", pd.DataFrame())
    text = [
        f"Framing shift: how far a {period}'s paragraphs of a narrative sit from the narrative's "
        "overall centre (cosine distance of mean embeddings), minus the distance that random "
        "samples of the same size show. Above zero, the narrative was told differently that "
        f"{period}; the new terms are its distinctive words that are not among the narrative's "
        "usual ones."
    ]
    title = "Framing shift"
    if framing is None or framing.empty or "shift_excess" not in framing:
        return None, []  # not measured for this run: left out
    cells = framing[(framing["outlet"] == "all") & ~framing["insufficient"].astype(bool)
                    & (framing["narrative"].map(lambda n: (kinds or {}).get(n)) != "off-topic")]
    cells = cells.assign(excess=pd.to_numeric(cells["shift_excess"], errors="coerce"))
    cells = cells[np.isfinite(cells["excess"])]
    if cells.empty:  # no embeddings for the run's model, or too few paragraphs per period
        return None, []
    best = cells.sort_values(["excess", "narrative", "period"], ascending=[False, True, True])
    best = best.groupby("narrative", sort=False).head(2).head(_MAX_TABLE_ROWS)
    top = best.iloc[0]
    text.append(
        f"The largest shift was {shown_name(top['narrative'])} in the {period} of {top['period']} "
        f"({float(top['excess']):+.3f} above chance"
        + (f"; new terms: {top['new_terms']}" if str(top["new_terms"] or "").strip() else "")
        + ")."
    )
    table = Table(
        key="framing", title=f"Largest framing shifts (all outlets; up to 2 {period}s per narrative)",
        columns=["narrative", period, "paragraphs", "shift above chance", "new terms"],
        rows=[[r.narrative, r.period, int(r.n_paragraphs), _round(r.excess, 3), r.new_terms or None]
              for r in best.itertuples()],
    )
    return Section("framing", title, text, [], ["framing"]), [table]


# -- syndication ------------------------------------------------------------------------------------

#: How a copy's direction was decided, as a reader is told (``articles.meta["copy_evidence"]``).
_DIRECTION = {
    "text": "the text names the first publisher",
    "date": "the original is dated earlier",
    "order": "taken in input order, as neither text nor dates decide",
    "unknown": "direction unknown",
}


def _pair_evidence(articles: pd.DataFrame, evidence: pd.Series) -> pd.DataFrame:
    """Each copy with its outlet, its original's outlet and how its direction was decided."""
    outlet = articles.set_index("article_id")["outlet"].fillna("(unknown outlet)").astype(str)
    outlet = outlet[~outlet.index.duplicated()]
    copies = articles[articles["duplicate_of"].notna() & isin(articles["duplicate_of"], outlet.index)]
    return pd.DataFrame({
        "copy_outlet": copies["outlet"].fillna("(unknown outlet)").astype(str).to_numpy(),
        "original_outlet": outlet.reindex(copies["duplicate_of"]).to_numpy(),
        "how": evidence.reindex(copies["article_id"]).fillna("unknown").to_numpy(),
    })


def _direction(how: pd.Series) -> str:
    """"the original is dated earlier", or "2 by the text, 1 unknown" for a mix."""
    counts = how.value_counts()
    if len(counts) == 1:
        return _DIRECTION.get(str(counts.index[0]), "direction unknown")
    names = {"text": "by the text", "date": "by dates", "order": "by input order",
             "unknown": "unknown"}
    return "direction " + ", ".join(f"{n} {names.get(str(k), str(k))}" for k, n in counts.items())


def syndication_sentence(counts: pd.DataFrame, n_articles: int,
                         evidence: pd.Series | None = None,
                         articles: pd.DataFrame | None = None) -> str | None:
    """How many articles are copies, and the most frequent pair with how its direction was
    decided ("direction unknown" where nothing recorded says which came first); None without
    copies."""
    if counts.empty or not n_articles:
        return None
    total = int(counts["n_copies"].sum())
    top = counts.iloc[0]
    n = int(top["n_copies"])
    how = pd.Series(["unknown"] * n)
    if evidence is not None and articles is not None:
        pairs = _pair_evidence(articles, evidence)
        how = pairs.loc[(pairs["copy_outlet"] == top["copy_outlet"])
                        & (pairs["original_outlet"] == top["original_outlet"]), "how"]
    if set(how) <= {"unknown"}:
        pair = (f"{top['copy_outlet']} and {top['original_outlet']} running the same "
                f"{plural(n, 'article')} ({n}; direction unknown: neither the text nor the dates "
                "say which came first)")
    else:
        pair = (f"{top['copy_outlet']} carrying {top['original_outlet']}'s articles "
                f"({n}; {_direction(how)})")
    return (f"{total} of {count(n_articles, 'article')} ({_pct(total / n_articles)}) "
            f"{'is a copy' if total == 1 else 'are copies'} of another article; the most "
            f"frequent pair is {pair}.")


def copies_sentence(contribution: pd.DataFrame, copies: str) -> str | None:
    """How much of the shares comes from syndicated copies under the ``copies`` setting in
    force, and the narrative that owes them most; None when no counted paragraph is a copy."""
    counted = float(contribution.attrs.get("counted", 0.0))
    from_copies = float(contribution.attrs.get("from_copies", 0.0))
    if not counted or not from_copies:
        return None
    how = ("each outlet's copy counts for that outlet" if copies == "per_outlet"
           else "a story counts once")
    top = contribution.sort_values(["copy_share", "narrative"], ascending=[False, True]).iloc[0]
    n_copies = int(contribution.attrs.get("copy_articles", 0))
    return (f"With copies = {copies} ({how}), {_pct(from_copies / counted)} of the paragraphs "
            f"counted in the shares come from {count(n_copies, 'syndicated copy')}, and up to "
            f"{_pct(float(top['copy_share']))} of one narrative's share ({top['narrative']}).")


#: Fewest outlet pairs for which the syndication grid is drawn (fewer: the table says it all).
MIN_SYNDICATION_PAIRS = 3


def syndication_section(
    articles: pd.DataFrame, drift: "DriftFrames", add: AddFigure, settings: "Settings",
) -> tuple[Section | None, list[Table]]:
    """Which outlets carry copies of which outlets' articles (``duplicate_of`` set on ingest),
    how each direction was decided, and how much of each share the copies make; None without
    copies."""
    from ..figures import plot_syndication, syndication_counts
    from .compute import copy_contribution, copy_evidence

    counts = syndication_counts(articles)
    if counts.empty:
        return None, []
    evidence = copy_evidence(articles)
    how = ("each outlet's copy counts for that outlet" if settings.copies == "per_outlet"
           else "each story counts once, for its first outlet")
    text = [f"An article is a copy when its text repeats another article's. In the shares, {how} "
            "(setting copies).",
            syndication_sentence(counts, len(articles), evidence, articles)]
    share = copies_sentence(copy_contribution(drift, settings), settings.copies)
    if share:
        text.append(share)
    figures = []
    if len(counts) >= MIN_SYNDICATION_PAIRS:
        by_size = articles["outlet"].fillna("(unknown outlet)").astype(str).value_counts()
        outlets = sorted(by_size.index, key=lambda o: (-by_size[o], o))
        add("syndication", Plot(plot_syndication, (counts,), {"outlets": outlets}), "Syndication",
            "Rows: the outlet that published the copy; columns: the outlet of the original; "
            "cells: copied articles. The diagonal is an outlet repeating its own article.")
        figures.append("syndication")
    pairs = _pair_evidence(articles, evidence)
    directions = {k: _direction(g["how"]) for k, g in pairs.groupby(["copy_outlet", "original_outlet"])}
    table = Table(
        key="syndication", title="Copied articles by outlet pair",
        columns=["copy outlet", "original outlet", "copies", "which came first"],
        rows=[[r.copy_outlet, r.original_outlet, int(r.n_copies),
               directions.get((r.copy_outlet, r.original_outlet), "direction unknown")]
              for r in counts.head(_MAX_TABLE_ROWS).itertuples()],
    )
    tables = [table]
    contribution = copy_contribution(drift, settings)
    contribution = contribution[contribution["from_copies"] > 0]
    if len(contribution):
        tables.append(Table(
            key="copy-shares", title=f"Share of each narrative from copies (copies = {settings.copies})",
            columns=["narrative", "paragraphs counted", "from copies", "share from copies"],
            rows=[[r.narrative, _round(r.counted, 1), _round(r.from_copies, 1),
                   _share_cell(r.copy_share)]
                  for r in contribution.sort_values("copy_share", ascending=False)
                  .head(_MAX_TABLE_ROWS).itertuples()],
        ))
    return Section("syndication", "Syndication", text, figures, [t.key for t in tables]), tables


# -- map --------------------------------------------------------------------------------------------


def run_model_id(run: Mapping[str, object], default: str) -> str:
    """The embedding key a run's vectors are stored under (model name, ``@precision`` if not fp32)."""
    settings = run.get("settings") or {}
    model_id = str(settings.get("embedding_model", default))  # type: ignore[union-attr]
    precision = settings.get("precision", "fp32")  # type: ignore[union-attr]
    return model_id if precision == "fp32" else f"{model_id}@{precision}"


#: The report cache key of the map's layout; :func:`map_section` updates the value stored under it.
MAP_LAYOUT_KEY = "narrative-map-layout"


def map_section(
    store: "Store", run_id: str, drift: "DriftFrames", add: AddFigure,
    colors: Mapping[str, str], *, default_model: str, seed: int,
    cache: ReportCache | None = None,
) -> tuple[Section | None, list[Table]]:
    """UMAP map of the run's distinct paragraph texts, coloured by narrative.

    The texts shown are a bottom-k sample by seeded hash (:func:`.narrative_map.stable_sample`),
    so a corpus that grows keeps most of them. The layout depends on the sampled texts, the
    embedding model and the seed, never on narrative names (a relabelled run reuses it). With a
    ``cache`` it is reused while those are unchanged; when texts were added, the last report's
    layout (:meth:`ReportCache.previous`) is kept and only the new texts are placed, by their
    nearest neighbours, until fewer than :data:`.narrative_map.MIN_UMAP_SHARE` of the points come
    from the last full UMAP (:func:`.narrative_map.map_layout`).
    """
    from ..figures import narrative_map as nm
    from ..figures import plot_narrative_map
    from ..store import StoreError

    title = "Narrative map"
    labelled = drift.paragraphs
    if "text_hash" not in labelled:
        return None, []  # a view the store cannot fill is left out
    distinct = labelled.drop_duplicates("text_hash").sort_values("text_hash")
    hashes = distinct["text_hash"].astype(str).tolist()
    name_of = dict(zip(hashes, distinct["narrative"].astype(str)))
    model_id = run_model_id(store.run(run_id), default_model)
    sample = [hashes[i] for i in nm.stable_sample(hashes, nm.MAX_MAP_POINTS, seed)]

    def layout() -> dict:
        previous = cache.previous(MAP_LAYOUT_KEY) if cache else None
        vectors = store.get_embeddings(sample, model_id)
        return nm.map_layout(np.asarray(vectors), sample, seed=seed,
                             basis={"model_id": model_id}, previous=previous)

    try:
        inputs = (sample, model_id, seed, nm.LAYOUT_VERSION)
        placed = cache.value(MAP_LAYOUT_KEY, inputs, layout) if cache else layout()
    except StoreError:  # no embeddings of the run's model: no map
        return None, []
    points = pd.DataFrame({
        "x": placed["x"], "y": placed["y"],
        "narrative": [name_of.get(h, UNASSIGNED) for h in placed["key"]],
    }, columns=["x", "y", "narrative"])
    n_placed = sum(1 for by_umap in placed["umap"] if not by_umap)
    sampled = (f" A seeded sample of {len(points):,} of the {len(distinct):,} texts is shown "
               "(those with the smallest seeded hash, so a re-run on a grown corpus keeps most "
               "of them)."
               if len(distinct) > nm.MAX_MAP_POINTS else "")
    text = [
        "Each dot is one distinct paragraph text, placed by UMAP (cosine, 2 dimensions, seed "
        f"{seed}) so that paragraphs with similar embeddings lie close together, and coloured by "
        "its narrative; each name sits just above its paragraphs. Distances between far-apart "
        "groups carry little meaning." + sampled
    ]
    if n_placed:
        now = int(placed.get("placed_now", 0))
        when = ("" if now == n_placed else f" ({now:,} of them at the latest update)" if now
                else " (none at the latest update)")
        text.append(
            f"{n_placed:,} of the {len(points):,} dots{when} are texts added since the last "
            "full UMAP layout: each was placed at the similarity-weighted mean position of its "
            f"{int(placed['basis']['n_neighbors'])} most similar dots laid out by UMAP (cosine "
            "similarity of embeddings), as UMAP starts new points, and every other dot kept its "
            "place, so the map stays put between re-runs. UMAP lays the map out afresh once "
            f"fewer than {nm.MIN_UMAP_SHARE:.0%} of the dots come from it, or the embedding "
            "model or seed changes."
        )
    caption = f"{len(points):,} distinct paragraph texts" + (
        "; grey: unassigned." if (points["narrative"] == UNASSIGNED).any() else ".")
    if n_placed:
        caption += f" {n_placed:,} placed by their nearest neighbours since the last UMAP layout."
    add("narrative-map", Plot(plot_narrative_map, (points,),
                             {"narratives": drift.narrative_order, "colors": colors}),
        "Narrative map of paragraphs", caption)
    return Section("map", title, text, ["narrative-map"]), []


# -- appendix ---------------------------------------------------------------------------------------


#: Fewer distinct texts per narrative than this, and the report says NPMI means little.
NPMI_MIN_TEXTS = 50


def quality_section(
    narratives: pd.DataFrame, texts: list[str], *, seed: int, max_texts: int = 20_000,
    cache: ReportCache | None = None, updated: bool = False,
) -> tuple[Section, list[Table]]:
    """Topic quality: NPMI coherence of each narrative's top terms and the topics' diversity.

    NPMI is counted over ``texts``, the distinct texts the narratives were fitted on (a seeded
    sample of ``max_texts`` when there are more), with a sliding window, as
    :mod:`narrative.evaluate` defines it, by its exact counter: gensim's accumulator gives the
    same scores where no word repeats inside a window and undercounts repeated words; on the
    20,000-text sample of a ukraine_media_2022 report it took 6.2-6.8 s where the counter takes
    0.6 s, for mean scores 0.1414 and 0.1415 (the benchmarks print both).
    ``updated`` says the run assigned paragraphs added since the fit, which the scores leave out.
    With a ``cache`` the scores are reused while the terms and texts stay the same.
    """
    from ..evaluate import npmi_per_topic, tokenize_for_npmi, topic_diversity
    from ..figures.narrative_map import subsample

    scored = narratives[narratives["kind"] != "unassigned"].sort_values("narrative_id")
    terms = [[str(t) for t in (ts if isinstance(ts, (list, tuple)) else [])]
             for ts in scored["top_terms"]]
    title = "Quality scores"
    if not terms or not texts:
        return Section("quality", title, ["No narrative to score."]), []
    sample = [texts[i] for i in subsample(len(texts), max_texts, seed)]
    def score() -> list:
        return npmi_per_topic(terms, tokenize_for_npmi(sample), engine="exact")

    npmi = cache.value("quality-npmi-exact", (terms, sample), score) if cache else score()
    values = [v for v in npmi if v is not None]
    diversity = topic_diversity(terms)
    text = [
        "NPMI coherence (from \u22121 to 1; higher: a narrative's top terms occur together in the "
        "paragraphs more than chance) averages "
        + (f"{np.mean(values):.3f}" if values else "n/a")
        + f" over {len(values)} narrative{'s' if len(values) != 1 else ''}; topic diversity (share "
        f"of distinct terms among all narratives' top terms; 1 = no overlap) is {diversity:.2f}."
        + (f" NPMI counted on a seeded sample of {len(sample):,} of {len(texts):,} paragraph "
           "texts." if len(sample) < len(texts) else "")
        + (" The scores count the paragraph texts the narratives were fitted on; paragraphs "
           "assigned to them since, by an update, change neither the terms nor the scores."
           if updated else "")
    ]
    per_narrative = len(texts) / max(len(terms), 1)
    if per_narrative < NPMI_MIN_TEXTS:
        text.append(
            f"Read these scores with care: NPMI counts how often top terms occur together, and "
            f"with about {per_narrative:.0f} paragraph texts per narrative ({len(texts):,} in "
            "all) most pairs of terms occur together once or never, so the scores are mostly "
            "chance and say little about how coherent a narrative is."
        )
    table = Table(
        key="quality", title="Quality by narrative",
        columns=["narrative", "kind", "paragraphs", "NPMI"],
        rows=[[r.label, r.kind, int(r.size), _round(v, 3)]
              for r, v in zip(scored.itertuples(), npmi)],
    )
    return Section("quality", title, text, [], ["quality"]), [table]


def coverage_section(drift: "DriftFrames", sentences: list[str]) -> tuple[Section, list[Table]]:
    """Each outlet's collection window: first and last dated article, periods, counts, with
    ``sentences`` (undated articles, how far the windows overlap) above the table."""
    coverage = drift.tables.get("coverage")
    title = "Coverage windows"
    if coverage is None or coverage.empty:
        return Section("coverage", title, ["No dated articles."]), []
    table = Table(
        key="coverage", title="Collection window of each outlet",
        columns=["outlet", "first date", "last date", "periods", "articles", "undated",
                 "copies left out"],
        rows=[[r.outlet, None if r.first_date is None else str(r.first_date),
               None if r.last_date is None else str(r.last_date), int(r.n_periods),
               int(r.n_articles), int(r.n_undated), int(r.n_copies_dropped)]
              for r in coverage.itertuples()],
    )
    return Section("coverage", title, list(sentences), [], ["coverage"]), [table]


def stability_sentence(stats: Mapping[str, object]) -> str:
    """The run's clustering stability across seeds, or that it was not measured."""
    stability = stats.get("stability")
    if not isinstance(stability, Mapping) or stability.get("ari_mean") is None:
        return "Stability across seeds: not measured for this run."
    parts = [f"mean ARI {float(stability['ari_mean']):.2f}"]  # type: ignore[arg-type]
    if stability.get("ari_min") is not None:
        parts.append(f"lowest {float(stability['ari_min']):.2f}")  # type: ignore[arg-type]
    seeds = stability.get("n_seeds")
    method = stability.get("method")
    return (
        "Stability across seeds: " + ", ".join(parts)
        + (f" over {int(seeds)} seeds" if seeds is not None else "")  # type: ignore[call-overload]
        + (f" ({method})" if method else "")
        + " (1 = the same partition every time)."
    )

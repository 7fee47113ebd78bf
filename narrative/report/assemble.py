"""Compute → structure: turn a run's tables into a :class:`ReportModel` (no rendering here).

The report leads with what a reader asks first: two or three findings with their uncertainty and
one chart of every narrative's share with its interval. Then the views the corpus can fill
(:func:`.compute.measure`), one figure per question, each sized for the printed page; what the
corpus cannot show is said once, at the top, and its views are left out.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..config import Settings
from ..frames import isin
from ..schema import UNASSIGNED
from .cache import FigureFiles, Plot, ReportCache
from .compute import Measured, is_shown, measure, overall_shares, thin_data_note
from .model import Evidence, FigureRef, NarrativeSection, ReportModel, Section, Table
from .text import count, interval, pct, pct_interval

if TYPE_CHECKING:
    from ..drift import DriftFrames
    from ..store import Store

#: Narratives in the first chart (the largest); the rest are named in its caption.
MAX_HEADLINE_ROWS = 8
#: Narrative panels per page of the shares-over-time figure.
TIME_PANELS_PER_PAGE = 12
#: Outlets (columns) per page of the by-outlet figure, and narratives (rows) it follows.
OUTLETS_PER_PAGE = 4
OUTLET_TREND_ROWS = 8
#: Narratives (rows) per page of the outlet heatmap.
HEATMAP_ROWS_PER_PAGE = 28
#: Kinds that are narratives (the rest, e.g. off-topic clusters, are kept apart in the findings).
NARRATIVE_KINDS = ("named", "discovered")


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _short_source(source: str) -> str:
    """File name and line of an input record: no folder of the machine that built the report."""
    return Path(source).name


def _text(value: object) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _evidence(
    articles: pd.DataFrame, paragraphs: pd.DataFrame, assignments: pd.DataFrame, k: int,
) -> dict[int, list[Evidence]]:
    """Each narrative's ``k`` most confident paragraphs, from distinct articles, originals first
    (one sort over all assignments, not one merge per narrative)."""
    rows = assignments[["paragraph_id", "narrative_id", "probability"]].merge(
        paragraphs[["paragraph_id", "article_id", "text", "duplicate_of"]], on="paragraph_id"
    )
    if rows.empty:
        return {}
    rows = rows.assign(
        _dup=rows["duplicate_of"].notna(),
        _p=rows["probability"].fillna(0.0),
    ).sort_values(["narrative_id", "_dup", "_p", "paragraph_id"],
                  ascending=[True, True, False, True])
    rows = rows.drop_duplicates(["narrative_id", "article_id"]).groupby("narrative_id").head(k)
    meta = articles.set_index("article_id")
    out: dict[int, list[Evidence]] = {}
    for r in rows.itertuples():
        a = meta.loc[r.article_id]
        date = a["date"]
        source = _text(a["source"])
        out.setdefault(int(r.narrative_id), []).append(
            Evidence(
                text=r.text,
                outlet=_text(a["outlet"]),
                date=None if pd.isna(date) else str(pd.Timestamp(date).date()),
                author=_text(a.get("author")),
                title=_text(a["title"]),
                url=_text(a["url"]),
                source=None if source is None else _short_source(source),
            )
        )
    return out


def _latest_interval(shares: pd.DataFrame, narrative: str, outlet: str) -> str:
    """"; X% in the latest period, P (95% interval L–H%)" for a series' last usable cell, or ""."""
    if shares.empty or not {"ci_low", "ci_high"} <= set(shares.columns):
        return ""
    rows = shares[(shares["narrative"] == narrative) & (shares["outlet"] == outlet)]
    for flag in ("insufficient", "partial"):
        if flag in rows and not rows[flag].astype(bool).all():
            rows = rows[~rows[flag].astype(bool)]
    rows = rows.dropna(subset=["share"]).sort_values("period")
    if rows.empty:
        return ""
    last = rows.iloc[-1]
    return (f"; {pct(last['share'])} in the latest period, {last['period']}"
            + (f", 95% interval {span}" if (span := interval(last["ci_low"], last["ci_high"]))
               else ""))


def left_out_sentence(left_out: pd.DataFrame, shown: int = 3) -> str:
    """Why articles are missing from the time views: how many, which dates, the ingest's flag."""
    examples = [f"{r.date} ({str(r.reason).replace('_', ' ')})"
                for r in left_out.sort_values("date").drop_duplicates("date").head(shown).itertuples()]
    more = ", ..." if left_out["date"].nunique() > shown else ""
    n = len(left_out)
    return (f"{count(n, 'article')} {'has' if n == 1 else 'have'} a suspicious date "
            f"({', '.join(examples)}{more}, as flagged at ingest): {'it counts' if n == 1 else 'they count'} "
            "in the totals and outlet comparisons but not in the time views, and as undated in "
            "the coverage table.")


def top_narratives_sentence(overall: pd.DataFrame, kinds: dict[str, str], n_articles: int,
                            *, first: str | None, last: str | None) -> str | None:
    """The lead finding: the largest narratives with their share and 95% interval."""
    rows = overall[overall["narrative"].map(lambda n: kinds.get(n) in NARRATIVE_KINDS)]
    rows = rows.sort_values(["share", "narrative"], ascending=[False, True]).head(3)
    if rows.empty:
        return None
    parts = [f"{r.narrative} ({pct_interval(r.share, r.ci_low, r.ci_high)})"
             for r in rows.itertuples()]
    if len(parts) > 1:
        parts[-1] = "and " + parts[-1]
    window = f", {first} to {last}" if first and last and first != last else ""
    lead = "the most frequent narratives are " if len(parts) > 1 else "the most frequent narrative is "
    return (f"Across {count(n_articles, 'article')}{window}, " + lead
            + (", " if len(parts) > 2 else " ").join(parts) + " of the paragraphs.")


def outlet_difference_sentence(outlet_shares: pd.DataFrame, compared: list[str],
                               kinds: dict[str, str]) -> str | None:
    """The narrative on which two outlets differ most, over the whole window, counted only where
    their 95% intervals do not overlap (a difference beyond the uncertainty); None if none."""
    rows = outlet_shares[outlet_shares["outlet"].astype(str).isin(compared)
                         & outlet_shares["narrative"].map(lambda n: kinds.get(n) in NARRATIVE_KINDS)]
    rows = rows.dropna(subset=["share", "ci_low", "ci_high"])
    best = None
    for name, group in rows.groupby("narrative", sort=True):
        high, low = group.loc[group["share"].idxmax()], group.loc[group["share"].idxmin()]
        gap = float(high["share"] - low["share"])
        if high["ci_low"] > low["ci_high"] and (best is None or gap > best[0]):
            best = (gap, name, high, low)
    if best is None:
        return None
    _, name, high, low = best
    return (f"Outlets differ most on {name}: {pct(high['share'])} of the paragraphs in "
            f"{high['outlet']} (95% interval {interval(high['ci_low'], high['ci_high'])}) against "
            f"{pct(low['share'])} in {low['outlet']} "
            f"({interval(low['ci_low'], low['ci_high'])}), over the whole window.")


def change_sentences(drift: "DriftFrames", period: str, limit: int) -> list[str]:
    """The largest change points, per outlet first (a change across all outlets can reflect
    outlets entering or leaving the collection), each with its latest interval."""
    changes = drift.changepoints.copy()
    if changes.empty:
        return []
    changes = changes[changes["narrative"] != UNASSIGNED]
    changes = changes.assign(_all=changes["outlet"] == "all", _size=changes["magnitude"].abs())
    changes = changes.sort_values(["_all", "_size"], ascending=[True, False])
    out = []
    for cp in changes.head(limit).itertuples():
        whose = "all outlets'" if cp.outlet == "all" else f"{cp.outlet}'s"
        verb = "rose" if cp.direction == "up" else "fell"
        before, after = getattr(cp, "before", np.nan), getattr(cp, "after", np.nan)
        out.append(
            f"{cp.narrative} {verb} from {_pct(before)} to {_pct(after)} of {whose} paragraphs "
            f"from the {period} of {cp.period} on (mean share before vs after the change"
            f"{_latest_interval(drift.shares, cp.narrative, cp.outlet)})."
        )
    return out


def coverage_sentences(drift: "DriftFrames", period: str) -> list[str]:
    """Undated articles left out of the time views, and how far the outlets' windows overlap."""
    coverage = drift.tables.get("coverage")
    if coverage is None or coverage.empty:
        return []
    out = []
    total = coverage[coverage["outlet"] == "all"]
    n_undated = int(total["n_undated"].iloc[0]) if len(total) else 0
    if n_undated:
        out.append(f"{count(n_undated, 'undated article')} {'is' if n_undated == 1 else 'are'} "
                   "counted in the totals but left out of the views over time.")
    outlets = coverage[coverage["outlet"] != "all"].dropna(subset=["first_date"])
    if len(outlets) > 1:
        start, end = outlets["first_date"].max(), outlets["last_date"].min()
        if start > end:
            out.append(f"The outlets' collection windows do not all overlap (latest start "
                       f"{start}, earliest end {end}): compare two outlets only over the "
                       f"{period}s both cover.")
    return out


def _codebook_names(run_stats, narratives: pd.DataFrame) -> list[str]:
    """The codebook's narrative names in codebook order: the run's recorded codebook, else its
    named narratives by id (ids follow the codebook's order)."""
    names = [str(c.get("name")) for c in run_stats.codebook if c.get("name")]
    if names:
        return names
    named = narratives[narratives["kind"] == "named"].sort_values("narrative_id")
    return [str(n) for n in named["codebook_name"].fillna(named["label"])]


def assemble_report(
    store: "Store",
    run_id: str,
    drift: "DriftFrames",
    *,
    out_dir: Path,
    settings: Settings,
    timings: dict[str, float],
    title: str | None = None,
    cache: ReportCache | None = None,
) -> ReportModel:
    """The report of one run. Figures, the map layout and NPMI scores come from ``cache`` when
    their inputs are unchanged since the last report in ``out_dir`` (see
    :mod:`narrative.report.cache`); by default the cache of ``out_dir`` is used and updated."""
    from ..figures import narrative_colors, save_figure
    from ..saved_runs import narrative_table, run_stats
    from . import methods as describe
    from . import overview as views
    from . import sections as build

    run = store.run(run_id)
    stats = run_stats(store, run_id)
    articles = store.articles()
    paragraphs = store.paragraphs()
    assignments = store.assignments(run_id)
    narratives = narrative_table(store, run_id)
    narratives = narratives[[is_shown(str(r.label), int(r.size)) for r in narratives.itertuples()]]
    n_par = len(assignments)
    kinds = dict(zip(narratives["label"].astype(str), narratives["kind"].astype(str)))
    order = [n for n in drift.narrative_order if n in kinds]
    colors = narrative_colors(order, codebook=_codebook_names(stats, narratives))
    measured = measure(drift, settings)
    overall = overall_shares(drift, settings, order)

    cache = cache if cache is not None else ReportCache(out_dir)
    figures_dir = out_dir / "figures"
    drawn: list[tuple[str, str, str, FigureFiles]] = []

    def add(key: str, plot: Plot, title_: str, caption: str) -> None:
        drawn.append((key, title_, caption, cache.figure(key, plot, figures_dir)))

    left_out = drift.left_out
    # The date range of the time views: a suspicious date (0001-01-01) is left out of it.
    dates = pd.to_datetime(articles["date"].where(~isin(articles["article_id"],
                                                        left_out["article_id"])), errors="coerce")
    first = None if dates.isna().all() else str(dates.min().date())
    last = None if dates.isna().all() else str(dates.max().date())

    headline = views.headline_figure(overall, add, colors, settings, kinds=kinds, first=first,
                                     last=last, limit=MAX_HEADLINE_ROWS)
    overview = [s for s in (
        views.time_section(drift, add, colors, order, settings, measured,
                           per_page=TIME_PANELS_PER_PAGE),
        views.outlet_section(drift, add, colors, order, settings, measured,
                             per_page=OUTLETS_PER_PAGE, rows=OUTLET_TREND_ROWS,
                             heatmap_rows=HEATMAP_ROWS_PER_PAGE),
    ) if s is not None]
    # The figures so far are drawn in worker processes while the rest of the report is built:
    # the map layout and the scores run on one core.
    cache.start_drawing(workers=settings.workers)
    try:
        subs = store.subnarratives(run_id)
        sub_list = {
            int(k): [(str(x.label), int(x.size)) for x in g.sort_values("size", ascending=False).itertuples()]
            for k, g in subs.groupby("narrative_id")
        } if len(subs) else {}
        evidence = _evidence(articles, paragraphs, assignments, settings.evidence_per_narrative)
        codebook_desc = {n.get("name"): n.get("description") for n in stats.codebook}
        interval = overall.set_index("narrative")
        sections = []
        for r in narratives.sort_values("narrative_id").itertuples():
            label = str(r.label)
            low = interval["ci_low"].get(label) if label in interval.index else None
            high = interval["ci_high"].get(label) if label in interval.index else None
            sections.append(
                NarrativeSection(
                    narrative_id=int(r.narrative_id),
                    label=label,
                    kind=str(r.kind),
                    description=codebook_desc.get(r.codebook_name),
                    size=int(r.size),
                    share=float(r.size / n_par) if n_par else 0.0,
                    share_low=None if low is None or pd.isna(low) else float(low),
                    share_high=None if high is None or pd.isna(high) else float(high),
                    top_terms=list(r.top_terms),
                    evidence=evidence.get(int(r.narrative_id), []),
                    subnarratives=sub_list.get(int(r.narrative_id), []),
                )
            )
        rank = {name: i for i, name in enumerate(order)}
        sections.sort(key=lambda s: rank.get(s.label, len(rank)))

        outlet_names = articles["outlet"].fillna("(unknown outlet)")
        corpus = {
            "Articles": int(len(articles)),
            "Paragraphs": int(len(paragraphs)),
            "Distinct paragraph texts": int(paragraphs["text_hash"].nunique()),
            "Outlets": int(outlet_names.nunique()),
            "First date": first,
            "Last date": last,
            "Undated articles": int(articles["date"].isna().sum()),
            "Articles with a suspicious date": int(len(left_out)),
            "Syndicated copies": int(articles["duplicate_of"].notna().sum()),
            "Rejected records": store.count("rejects"),
        }
        tables: list[Table] = []  # articles per outlet: in the coverage table
        period = settings.period
        analyses: list[Section] = list(overview)
        candidates = [build.map_section(store, run_id, drift, add, colors,
                                        default_model=settings.embedding_model, seed=settings.seed,
                                        cache=cache)]
        if measured.time:  # else the note at the top says why these cannot be measured
            candidates += [build.divergence_section(drift, add, colors, period),
                           build.emerging_section(drift, add, colors, period),
                           build.framing_section(drift, period)]
        candidates.append(build.syndication_section(articles, drift, add, settings))
        for section, extra in candidates:
            if section is not None:
                analyses.append(section)
                tables += extra
        # NPMI scores the fitted narratives' terms against the texts they were fitted on: paragraphs
        # assigned since by an update neither change the terms nor, so, the scores (reused).
        model_run = stats.model_run or run_id
        fitted = paragraphs if model_run == run_id else paragraphs[
            isin(paragraphs["paragraph_id"], store.assignments(model_run)["paragraph_id"])]
        distinct_texts = fitted.drop_duplicates("text_hash").sort_values("text_hash")["text"]
        appendix: list[Section] = []
        for section, extra in (
            describe.settings_section(run["settings"]),
            describe.model_section(stats, run["settings"], narratives, n_par),
            build.quality_section(narratives, distinct_texts.tolist(), seed=settings.seed,
                                  cache=cache, updated=model_run != run_id),
            (Section("stability", "Stability", [build.stability_sentence(run["stats"])]), []),
            build.coverage_section(drift, coverage_sentences(drift, period)),
            describe.codebook_section(stats.codebook),
            describe.all_settings_section(run["settings"]),
        ):
            appendix.append(section)
            tables += extra
        warnings = []
        if corpus["Undated articles"]:
            n = corpus["Undated articles"]
            warnings.append(f"{count(n, 'article')} {'has' if n == 1 else 'have'} no date: "
                            f"{'it counts' if n == 1 else 'they count'} in the totals but not in "
                            "the time views.")
        if len(left_out):
            warnings.append(left_out_sentence(left_out))
        if corpus["Rejected records"]:
            warnings.append(f"{count(corpus['Rejected records'], 'input record')} "
                            f"{'was' if corpus['Rejected records'] == 1 else 'were'} rejected; "
                            "see the store's rejects table.")
        methods = describe.run_facts(run_id, run, stats, timings,
                                     reused=(cache.hits, cache.hits + cache.misses))
        methods["generated"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        cache.draw_pending(save_figure, workers=settings.workers)
    except BaseException:
        cache.cancel_drawing()
        raise
    figures: list[FigureRef] = []
    for key, title_, caption, files in drawn:
        png, svg = files.files()  # the embedded PNG is the saved file's bytes
        figures.append(FigureRef(key=key, title=title_, caption=caption, png=png,
                                 svg_path=str(Path("figures") / svg.name)))
    cache.save()
    note = thin_data_note(measured, len(articles))
    lead, more = findings(drift, overall, kinds, narratives, n_par, settings, measured, note,
                          articles=articles, stats=run["stats"], first=first, last=last)
    return ReportModel(
        title=title or "Narrative report",
        subtitle=f"{count(corpus['Articles'], 'article')} from {count(corpus['Outlets'], 'outlet')}"
        + (f", {first} to {last}" if first else ""),
        summary=more,
        corpus=corpus,
        narratives=sections,
        figures=figures,
        tables=tables,
        methods=methods,
        warnings=warnings,
        sections=analyses,
        appendix=appendix,
        findings=lead,
        headline=headline,
    )


def findings(
    drift: "DriftFrames", overall: pd.DataFrame, kinds: dict[str, str], narratives: pd.DataFrame,
    n_paragraphs: int, settings: Settings, measured: Measured, note: str | None, *,
    articles: pd.DataFrame, stats: dict, first: str | None, last: str | None,
) -> tuple[list[str], list[str]]:
    """The lead (at most three sentences: the largest narratives with their intervals, the
    largest change or what the data cannot show) and the further findings, plain sentences
    generated from the numbers."""
    from .sections import copies_sentence, emerging_sentences, stability_sentence, syndication_sentence

    lead: list[str] = []
    more: list[str] = []
    top = top_narratives_sentence(overall, kinds, len(articles), first=first, last=last)
    if top:
        lead.append(top)
    other = narratives[~narratives["kind"].isin([*NARRATIVE_KINDS, "unassigned"])]
    if len(other) and n_paragraphs:
        more.append(f"{count(len(other), 'cluster')} off the codebook's subject "
                    f"({', '.join(other['label'].astype(str).head(3))}) "
                    f"{'holds' if len(other) == 1 else 'hold'} {pct(other['size'].sum() / n_paragraphs)} "
                    "of the paragraphs; they are not counted among the narratives above.")
    unassigned = int(narratives.loc[narratives["kind"] == "unassigned", "size"].sum())
    if unassigned and n_paragraphs:
        more.append(f"{pct(unassigned / n_paragraphs)} of paragraphs match no narrative "
                    f"(reported as '{UNASSIGNED}').")
    changes = change_sentences(drift, settings.period, limit=6) if measured.time else []
    differ = (outlet_difference_sentence(drift.outlet_shares, measured.compared, kinds)
              if measured.outlet_comparison else None)
    if changes:
        lead.append(changes[0])
        more += changes[1:]
    if note:
        lead.append(note)
    if differ:
        (lead if len(lead) < 3 else more).append(differ)
    if measured.time:
        more += emerging_sentences(drift.tables.get("emerging", pd.DataFrame()), settings.period,
                                   limit=2)
    from ..figures import syndication_counts
    from .compute import copy_contribution, copy_evidence

    copied = syndication_sentence(syndication_counts(articles), len(articles),
                                  copy_evidence(articles), articles)
    if copied:
        more.append(copied)
    share = copies_sentence(copy_contribution(drift, settings), settings.copies)
    if share:
        (lead if len(lead) < 3 and "copies" not in " ".join(lead) and
         _large_copy_share(drift, settings) else more).append(share)
    if stats.get("stability"):
        more.append(stability_sentence(stats))
    more += coverage_sentences(drift, settings.period)
    return lead[:3], more


#: Copies count for at least this share of the paragraphs counted: said in the lead findings.
LARGE_COPY_SHARE = 0.1


def _large_copy_share(drift: "DriftFrames", settings: Settings) -> bool:
    from .compute import copy_contribution

    contribution = copy_contribution(drift, settings)
    counted = contribution.attrs.get("counted", 0.0)
    return bool(counted) and contribution.attrs.get("from_copies", 0.0) / counted >= LARGE_COPY_SHARE

"""Compute → structure: turn a run's tables into a :class:`ReportModel` (no rendering here)."""

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
from .model import Evidence, FigureRef, NarrativeSection, ReportModel, Section, Table

if TYPE_CHECKING:
    from ..drift import DriftFrames
    from ..store import Store


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _complete_periods(shares: pd.DataFrame) -> pd.DataFrame:
    """Shares without the periods flagged as partly collected (kept when nothing else is left)."""
    if "partial" not in shares or shares["partial"].all():
        return shares
    return shares[~shares["partial"].astype(bool)]


def _shown(frame: pd.DataFrame, mask: pd.Series | np.ndarray | None = None) -> pd.DataFrame:
    """The rows a figure draws, renumbered and without ``attrs``: a figure's cache fingerprint
    then covers exactly what it shows, so rows added elsewhere (a new week, another narrative's
    shares) do not force it to be drawn again."""
    rows = (frame if mask is None else frame[mask]).reset_index(drop=True)
    rows.attrs = {}
    return rows


def _short_source(source: str) -> str:
    """File name and line of an input record: no folder of the machine that built the report."""
    return Path(source).name


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
        out.setdefault(int(r.narrative_id), []).append(
            Evidence(
                text=r.text,
                outlet=None if pd.isna(a["outlet"]) else str(a["outlet"]),
                date=None if pd.isna(date) else str(pd.Timestamp(date).date()),
                title=None if pd.isna(a["title"]) else str(a["title"]),
                url=None if pd.isna(a["url"]) else str(a["url"]),
                source=None if pd.isna(a["source"]) else _short_source(str(a["source"])),
            )
        )
    return out


def _latest_interval(shares: pd.DataFrame, narrative: str, outlet: str) -> str:
    """", latest {period} X% (95% interval L–H%)" for a series' last usable cell, or ""."""
    if shares.empty or not {"ci_low", "ci_high"} <= set(shares.columns):
        return ""
    rows = shares[(shares["narrative"] == narrative) & (shares["outlet"] == outlet)]
    if "insufficient" in rows:
        rows = rows[~rows["insufficient"].astype(bool)]
    rows = _complete_periods(rows).dropna(subset=["share"]).sort_values("period")
    if rows.empty:
        return ""
    last = rows.iloc[-1]
    if pd.isna(last["ci_low"]) or pd.isna(last["ci_high"]):
        return f"; {_pct(last['share'])} in the {last['period']} period"
    return (
        f"; {_pct(last['share'])} in the latest period, {last['period']} (95% interval "
        f"{100 * last['ci_low']:.0f}–{100 * last['ci_high']:.0f}%)"
    )


def left_out_sentence(left_out: pd.DataFrame, shown: int = 3) -> str:
    """Why articles are missing from the time views: how many, which dates, the ingest's flag."""
    examples = [f"{r.date} ({str(r.reason).replace('_', ' ')})"
                for r in left_out.sort_values("date").drop_duplicates("date").head(shown).itertuples()]
    more = ", ..." if left_out["date"].nunique() > shown else ""
    n = len(left_out)
    return (f"{n} {'article has' if n == 1 else 'articles have'} a suspicious date "
            f"({', '.join(examples)}{more}, as flagged at ingest): {'it counts' if n == 1 else 'they count'} "
            "in the totals and outlet comparisons but not in the time views, and as undated in "
            "the coverage table.")


def summary_sentences(
    drift: "DriftFrames", narratives: pd.DataFrame, n_paragraphs: int, period: str = "week",
    *, articles: pd.DataFrame | None = None, stats: dict | None = None,
) -> list[str]:
    """Plain sentences generated from the numbers: biggest narratives, changes, emerging
    narratives, syndication and stability."""
    from .sections import emerging_sentences, stability_sentence, syndication_sentence
    sentences = []
    period_word = period
    sized = narratives[narratives["kind"] != "unassigned"].sort_values("size", ascending=False)
    if not sized.empty and n_paragraphs:
        top = sized.head(3)
        parts = [f"{r.label} ({_pct(r.size / n_paragraphs)})" for r in top.itertuples()]
        sentences.append("The most frequent narratives are " + ", ".join(parts) + " of all paragraphs.")
    unassigned = narratives.loc[narratives["kind"] == "unassigned", "size"].sum()
    if n_paragraphs:
        sentences.append(
            f"{_pct(unassigned / n_paragraphs)} of paragraphs match no narrative (reported as "
            f"'{UNASSIGNED}')."
        )
    changes = drift.changepoints.copy()
    if not changes.empty:
        # Per-outlet changes first: a change across "all" outlets can reflect outlets entering or
        # leaving the collection rather than a shift in coverage.
        changes["_all"] = changes["outlet"] == "all"
        changes["_size"] = changes["magnitude"].abs()
        changes = changes.sort_values(["_all", "_size"], ascending=[True, False])
    for cp in changes.head(6).itertuples():
        if cp.narrative == UNASSIGNED:
            continue
        whose = "all outlets'" if cp.outlet == "all" else f"{cp.outlet}'s"
        verb = "rose" if cp.direction == "up" else "fell"
        before, after = getattr(cp, "before", np.nan), getattr(cp, "after", np.nan)
        sentences.append(
            f"{cp.narrative} {verb} from {_pct(before)} to {_pct(after)} of {whose} paragraphs "
            f"from the {period_word} of {cp.period} on (mean share before vs after the change"
            f"{_latest_interval(drift.shares, cp.narrative, cp.outlet)})."
        )
    sentences += emerging_sentences(drift.tables.get("emerging", pd.DataFrame()), period, limit=2)
    if articles is not None:
        from ..figures import syndication_counts

        copied = syndication_sentence(syndication_counts(articles), len(articles))
        if copied:
            sentences.append(copied)
    if stats is not None and stats.get("stability"):
        sentences.append(stability_sentence(stats))
    note = getattr(drift.tables.get("coverage"), "attrs", {}).get("note")
    if note:
        sentences.append(str(note))
    return sentences


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
    from ..figures import (
        narrative_colors, plot_narrative_sizes, plot_outlet_heatmap,
        plot_outlet_small_multiples, plot_share_over_time, save_figure,
    )
    from . import sections as build
    from ..runs import narrative_table

    run = store.run(run_id)
    articles = store.articles()
    paragraphs = store.paragraphs()
    assignments = store.assignments(run_id)
    narratives = narrative_table(store, run_id)
    n_par = len(assignments)
    colors = narrative_colors(drift.narrative_order)

    figures_dir = out_dir / "figures"
    figures: list[FigureRef] = []

    cache = cache if cache is not None else ReportCache(out_dir)

    drawn: list[tuple[str, str, str, FigureFiles]] = []

    def add(key: str, plot: Plot, title_: str, caption: str) -> None:
        drawn.append((key, title_, caption, cache.figure(key, plot, figures_dir)))

    complete = _complete_periods(drift.shares)
    by_outlet = complete["outlet"].astype(str) if len(complete) else pd.Series([], dtype=str)
    if not drift.shares.empty:
        add(
            "share-over-time",
            Plot(plot_share_over_time, (_shown(complete, (by_outlet == "all").to_numpy()),),
                 {"outlet": "all", "narratives": drift.narrative_order, "colors": colors}),
            "Narrative shares over time",
            f"Share of paragraphs per {settings.period} across all outlets; bands are 95% bootstrap "
            "intervals over articles. Partly collected first/last periods are left out, so they do "
            "not show as dips.",
        )
    add(
        "outlet-heatmap",
        Plot(plot_outlet_heatmap, (drift.outlet_shares,), {"narratives": drift.narrative_order}),
        "Outlet × narrative",
        f"Share of each outlet's paragraphs per narrative; grey cells: fewer than "
        f"{settings.min_articles} articles.",
    )
    if not drift.shares.empty and (drift.shares["outlet"] != "all").any():
        add(
            "share-by-outlet",
            Plot(plot_outlet_small_multiples, (_shown(complete, (by_outlet != "all").to_numpy()),),
                 {"narratives": drift.narrative_order, "colors": colors}),
            "Narrative share by outlet",
            f"One row per narrative, one column per outlet: share of the outlet's paragraphs per "
            f"{settings.period} with 95% bands; gaps are {settings.period}s with fewer than "
            f"{settings.min_articles} articles.",
        )
    sizes = narratives.rename(columns={"label": "narrative"})[["narrative", "size", "kind"]]
    add(
        "narrative-sizes",
        Plot(plot_narrative_sizes, (sizes,), {"colors": colors}),
        "Narrative sizes",
        "Paragraphs assigned to each narrative (named = from the codebook, discovered = found by clustering).",
    )

    codebook_desc = {n["name"]: n["description"] for n in run["stats"].get("codebook", [])}
    own_figure = {}  # narrative id -> key of its row of share-by-outlet panels
    if not drift.shares.empty:
        shown = set(drift.shares["narrative"].astype(str))
        of_narrative = complete.groupby(complete["narrative"].astype(str)).indices
        for r in narratives.itertuples():
            if r.kind == "unassigned" or str(r.label) not in shown:
                continue
            key = f"narrative-{int(r.narrative_id)}"
            label = str(r.label)
            rows = of_narrative.get(label, np.array([], dtype=int))
            add(
                key,
                Plot(plot_outlet_small_multiples, (_shown(complete.iloc[rows]),),
                     {"narratives": [label], "colors": {label: colors.get(label, "#000000")},
                      "include_all": True}),
                f"{r.label}: share by outlet",
                f"Share of paragraphs per {settings.period}, all outlets first, with 95% bands.",
            )
            own_figure[int(r.narrative_id)] = key
    # The figures so far (most of them) are drawn in worker processes while the rest of the
    # report is built: the map layout and the scores run on one core.
    cache.start_drawing(workers=settings.workers)
    try:
        subs = store.subnarratives(run_id)
        sub_list = {
            int(k): [(str(x.label), int(x.size)) for x in g.sort_values("size", ascending=False).itertuples()]
            for k, g in subs.groupby("narrative_id")
        } if len(subs) else {}
        evidence = _evidence(articles, paragraphs, assignments, settings.evidence_per_narrative)
        sections = []
        for r in narratives.sort_values("narrative_id").itertuples():
            sections.append(
                NarrativeSection(
                    narrative_id=int(r.narrative_id),
                    label=str(r.label),
                    kind=str(r.kind),
                    description=codebook_desc.get(r.codebook_name),
                    size=int(r.size),
                    share=float(r.size / n_par) if n_par else 0.0,
                    top_terms=list(r.top_terms),
                    evidence=evidence.get(int(r.narrative_id), []),
                    figure=own_figure.get(int(r.narrative_id)),
                    subnarratives=sub_list.get(int(r.narrative_id), []),
                )
            )
        order = {name: i for i, name in enumerate(drift.narrative_order)}
        sections.sort(key=lambda s: order.get(s.label, len(order)))

        left_out = drift.left_out
        # The date range of the time views: a suspicious date (0001-01-01) is left out of it.
        dates = pd.to_datetime(articles["date"].where(~isin(articles["article_id"],
                                                            left_out["article_id"])), errors="coerce")
        corpus = {
            "articles": int(len(articles)),
            "paragraphs": int(len(paragraphs)),
            "distinct paragraph texts": int(paragraphs["text_hash"].nunique()),
            "outlets": int(articles["outlet"].nunique()),
            "first date": None if dates.isna().all() else str(dates.min().date()),
            "last date": None if dates.isna().all() else str(dates.max().date()),
            "undated articles": int(articles["date"].isna().sum()),
            "articles with a suspicious date": int(len(left_out)),
            "syndicated copies": int(articles["duplicate_of"].notna().sum()),
            "rejected records": store.count("rejects"),
        }
        by_outlet = articles.groupby(articles["outlet"].fillna("(unknown outlet)")).size()
        tables = [
            Table(
                key="outlets", title="Articles per outlet", columns=["outlet", "articles"],
                rows=[[o, int(n)] for o, n in by_outlet.sort_values(ascending=False).items()],
            )
        ]
        period = settings.period
        analyses: list[Section] = []
        for section, extra in (
            build.map_section(store, run_id, drift, add, colors,
                              default_model=settings.embedding_model, seed=settings.seed,
                              cache=cache),
            build.divergence_section(drift, add, colors, period),
            build.emerging_section(drift, add, colors, period),
            build.framing_section(drift, period),
            build.syndication_section(articles, add, settings.copies),
        ):
            analyses.append(section)
            tables += extra
        # NPMI scores the fitted narratives' terms against the texts they were fitted on: paragraphs
        # assigned since by an update neither change the terms nor, so, the scores (reused).
        model_run = run["stats"].get("model_run", run_id)
        fitted = paragraphs if model_run == run_id else paragraphs[
            isin(paragraphs["paragraph_id"], store.assignments(model_run)["paragraph_id"])]
        distinct_texts = fitted.drop_duplicates("text_hash").sort_values("text_hash")["text"]
        appendix: list[Section] = []
        for section, extra in (
            build.quality_section(narratives, distinct_texts.tolist(), seed=settings.seed,
                                  cache=cache, updated=model_run != run_id),
            build.coverage_section(drift),
        ):
            appendix.append(section)
            tables += extra
        appendix.append(Section("stability", "Stability", [build.stability_sentence(run["stats"])]))
        warnings = []
        if corpus["undated articles"]:
            warnings.append(
                f"{corpus['undated articles']} articles have no date: they count in totals but not in "
                "the time views."
            )
        if len(left_out):
            warnings.append(left_out_sentence(left_out))
        if corpus["rejected records"]:
            warnings.append(
                f"{corpus['rejected records']} input records were rejected; see the store's rejects table."
            )
        methods = {
            "run id": run_id,
            "seed": int(run["seed"]),
            "input fingerprint": run["input_fingerprint"],
            "codebook hash": run["codebook_hash"],
            "settings": run["settings"],
            "model statistics": {
                k: v for k, v in run["stats"].items() if k not in ("kinds", "stability")
            },
            "versions": run["versions"],
            "stage wall times (s)": timings,
            "reused from the last report": (
                f"{cache.hits} of {cache.hits + cache.misses} figures and scores (inputs unchanged)"
            ),
            "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }
        cache.draw_pending(save_figure, workers=settings.workers)
    except BaseException:
        cache.cancel_drawing()
        raise
    for key, title_, caption, files in drawn:
        png, svg = files.files()  # the embedded PNG is the saved file's bytes
        figures.append(FigureRef(key=key, title=title_, caption=caption, png=png,
                                 svg_path=str(Path("figures") / svg.name)))
    cache.save()
    return ReportModel(
        title=title or "Narrative report",
        subtitle=f"{corpus['articles']} articles from {corpus['outlets']} outlets"
        + (f", {corpus['first date']} to {corpus['last date']}" if corpus["first date"] else ""),
        summary=summary_sentences(
            drift, narratives, n_par, settings.period, articles=articles, stats=run["stats"]
        ),
        corpus=corpus,
        narratives=sections,
        figures=figures,
        tables=tables,
        methods=methods,
        warnings=warnings,
        sections=analyses,
        appendix=appendix,
    )

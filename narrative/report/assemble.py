"""Compute → structure: turn a run's tables into a :class:`ReportModel` (no rendering here).

The report leads with what a reader asks first: two or three findings with their uncertainty and
one chart of every narrative's share with its interval. Then the views the corpus can fill
(:func:`.compute.measure`), one figure per question, each sized for the printed page; what the
corpus cannot show is said once, at the top, and its views are left out.

:func:`assemble_report` only orders the steps; each part is built in its module: the inputs
(:mod:`.inputs`), the overview figures (:mod:`.overview`), each narrative's section
(:mod:`.narratives`), the analyses (:mod:`.sections`), the methods appendix (:mod:`.methods`)
and the findings (:mod:`.findings`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from ..frames import isin
from . import methods as describe
from . import overview as views
from . import sections as build
from .cache import FigureFiles, Plot, ReportCache
from .compute import thin_data_note
from .diffusion import diffusion_section
from .findings import coverage_sentences, findings, warning_sentences
from .inputs import ReportInputs, read_inputs
from .model import FigureRef, ReportModel, Section, Table
from .narratives import narrative_sections
from .text import count

if TYPE_CHECKING:
    from ..drift import DriftFrames
    from ..store import Store

__all__ = ["assemble_report"]

#: Narratives in the first chart (the largest); the rest are named in its caption.
MAX_HEADLINE_ROWS = 8
#: Narrative panels per page of the shares-over-time figure.
TIME_PANELS_PER_PAGE = 12
#: Outlets (columns) per page of the by-outlet figure, and narratives (rows) it follows.
OUTLETS_PER_PAGE = 4
OUTLET_TREND_ROWS = 8
#: Narratives (rows) per page of the outlet heatmap.
HEATMAP_ROWS_PER_PAGE = 28


def assemble_report(
    store: Store,
    run_id: str,
    drift: DriftFrames,
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
    from ..figures import save_figure

    inputs = read_inputs(store, run_id, drift, settings)
    cache = cache if cache is not None else ReportCache(out_dir)
    figures = _Figures(cache, out_dir / "figures")
    headline = views.headline_figure(
        inputs.overall, figures.add, inputs.colors, settings, kinds=inputs.kinds,
        first=inputs.first, last=inputs.last, limit=MAX_HEADLINE_ROWS)
    overview = _overview_sections(inputs, drift, figures, settings)
    # The figures so far are drawn in worker processes while the rest of the report is built:
    # the map layout and the scores run on one core.
    cache.start_drawing(workers=settings.workers)
    try:
        narratives = narrative_sections(inputs, store.subnarratives(run_id),
                                        settings.evidence_per_narrative)
        corpus = _corpus_facts(store, inputs)
        analyses, tables = _analysis_sections(store, inputs, drift, figures, settings, cache)
        appendix, appendix_tables = _appendix_sections(store, inputs, drift, settings, cache)
        tables += appendix_tables
        warnings = warning_sentences(corpus, inputs.left_out)
        methods = describe.run_facts(run_id, inputs.run, inputs.stats, timings,
                                     reused=(cache.hits, cache.hits + cache.misses))
        methods["generated"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        cache.draw_pending(save_figure, workers=settings.workers)
    except BaseException:
        cache.cancel_drawing()
        raise
    figure_refs = figures.refs()
    cache.save()
    note = thin_data_note(inputs.measured, len(inputs.articles))
    lead, more = findings(drift, inputs, settings, note)
    first, last = inputs.first, inputs.last
    return ReportModel(
        title=title or "Narrative report",
        subtitle=f"{count(corpus['Articles'], 'article')} from {count(corpus['Outlets'], 'outlet')}"
        + (f", {first} to {last}" if first else ""),
        summary=more,
        corpus=corpus,
        narratives=narratives,
        figures=figure_refs,
        tables=tables,
        methods=methods,
        warnings=warnings,
        sections=[*overview, *analyses],
        appendix=appendix,
        findings=lead,
        headline=headline,
    )


@dataclass
class _Figures:
    """The report's figures in the order added, each drawn through ``cache`` (or its saved
    files reused) into ``folder``; :meth:`refs` once all are drawn."""

    cache: ReportCache
    folder: Path
    drawn: list[tuple[str, str, str, FigureFiles]] = field(default_factory=list)

    def add(self, key: str, plot: Plot, title: str, caption: str) -> None:
        """Draw ``plot`` as figure ``key`` (see :data:`.sections.AddFigure`)."""
        self.drawn.append((key, title, caption, self.cache.figure(key, plot, self.folder)))

    def refs(self) -> list[FigureRef]:
        """The figures for the model; the embedded PNG is the saved file's bytes."""
        out = []
        for key, title, caption, files in self.drawn:
            png, svg = files.files()
            out.append(FigureRef(key=key, title=title, caption=caption, png=png,
                                 svg_path=str(Path("figures") / svg.name)))
        return out


def _overview_sections(
    inputs: ReportInputs, drift: DriftFrames, figures: _Figures, settings: Settings,
) -> list[Section]:
    """The overview: shares over time, and the outlets compared (each only where the corpus can
    fill it). Off-topic clusters are not narratives: the charts leave them out and say so."""
    charted = [n for n in inputs.order if inputs.kinds.get(n) != "off-topic"]
    off_topic = [n for n in inputs.order if inputs.kinds.get(n) == "off-topic"]
    sections = (
        views.time_section(drift, figures.add, inputs.colors, charted, settings,
                           inputs.measured, per_page=TIME_PANELS_PER_PAGE, off_topic=off_topic),
        views.outlet_section(drift, figures.add, inputs.colors, charted, settings,
                             inputs.measured, per_page=OUTLETS_PER_PAGE, rows=OUTLET_TREND_ROWS,
                             heatmap_rows=HEATMAP_ROWS_PER_PAGE, off_topic=off_topic),
    )
    return [s for s in sections if s is not None]


def _corpus_facts(store: Store, inputs: ReportInputs) -> dict[str, object]:
    """The corpus in numbers, as the report's table of it shows them."""
    articles, paragraphs = inputs.articles, inputs.paragraphs
    outlet_names = articles["outlet"].fillna("(unknown outlet)")
    return {
        "Articles": int(len(articles)),
        "Paragraphs": int(len(paragraphs)),
        "Distinct paragraph texts": int(paragraphs["text_hash"].nunique()),
        "Outlets": int(outlet_names.nunique()),
        "First date": inputs.first,
        "Last date": inputs.last,
        "Undated articles": int(articles["date"].isna().sum()),
        "Articles with a suspicious date": int(len(inputs.left_out)),
        "Syndicated copies": int(articles["duplicate_of"].notna().sum()),
        "Rejected records": store.count("rejects"),
    }


def _analysis_sections(
    store: Store, inputs: ReportInputs, drift: DriftFrames, figures: _Figures,
    settings: Settings, cache: ReportCache,
) -> tuple[list[Section], list[Table]]:
    """The analyses after the overview: the narrative map; where shares over time can be
    measured, divergence, emerging narratives and framing (else the note at the top says why
    not); who carried each narrative first; syndication. Returns the sections shown and the tables they name."""
    period = settings.period
    candidates = [build.map_section(store, inputs.run_id, drift, figures.add, inputs.colors,
                                    default_model=settings.embedding_model, seed=settings.seed,
                                    cache=cache)]
    if inputs.measured.time:
        candidates += [build.divergence_section(drift, figures.add, inputs.colors, period,
                                                inputs.kinds),
                       build.emerging_section(drift, figures.add, inputs.colors, period),
                       build.framing_section(drift, period, inputs.kinds)]
    # Uptake is measured day by day: a month of data can tell who carried a narrative first
    # even where weekly shares over time cannot be measured.
    candidates.append(diffusion_section(drift, inputs.kinds, inputs.order))
    candidates.append(build.syndication_section(inputs.articles, drift, figures.add, settings))
    sections: list[Section] = []
    tables: list[Table] = []  # articles per outlet: in the coverage table
    for section, extra in candidates:
        if section is not None:
            sections.append(section)
            tables += extra
    return sections, tables


def _appendix_sections(
    store: Store, inputs: ReportInputs, drift: DriftFrames, settings: Settings,
    cache: ReportCache,
) -> tuple[list[Section], list[Table]]:
    """The methods appendix: settings, model, topic quality, stability, coverage, codebook and
    every setting. Returns its sections and the tables they name."""
    run_id, run = inputs.run_id, inputs.run
    # NPMI scores the fitted narratives' terms against the texts they were fitted on: paragraphs
    # assigned since by an update neither change the terms nor, so, the scores (reused).
    model_run = inputs.stats.model_run or run_id
    paragraphs = inputs.paragraphs
    fitted = paragraphs if model_run == run_id else paragraphs[
        isin(paragraphs["paragraph_id"], store.assignments(model_run)["paragraph_id"])]
    distinct_texts = fitted.drop_duplicates("text_hash").sort_values("text_hash")["text"]
    sections: list[Section] = []
    tables: list[Table] = []
    for section, extra in (
        describe.settings_section(run["settings"]),
        describe.model_section(inputs.stats, run["settings"], inputs.narratives,
                               inputs.n_paragraphs),
        build.quality_section(inputs.narratives, distinct_texts.tolist(), seed=settings.seed,
                              cache=cache, updated=model_run != run_id),
        (Section("stability", "Stability", [build.stability_sentence(run["stats"])]), []),
        build.coverage_section(drift, coverage_sentences(drift, settings.period)),
        describe.codebook_section(inputs.stats.codebook),
        describe.all_settings_section(run["settings"]),
    ):
        sections.append(section)
        tables += extra
    return sections, tables

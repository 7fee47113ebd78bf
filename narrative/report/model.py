"""The report as plain data: what the pipeline computed, arranged into sections.

The pipeline fills a :class:`ReportModel`; :mod:`narrative.report.html` and
:mod:`narrative.report.pdf` render the same model. Nothing here computes anything, and every string
is treated by the renderers as untrusted text (article paragraphs, titles and outlet names come from
the input), so it may hold anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Evidence", "FigureRef", "NarrativeSection", "ReportModel", "Section", "Table"]

#: The kinds a narrative can be; renderers style anything else as a plain label.
KINDS = ("named", "discovered", "off-topic", "unassigned")


@dataclass
class Evidence:
    """One paragraph quoted as an example of a narrative, with where it came from."""

    text: str
    outlet: str | None = None
    date: str | None = None  # ISO date
    author: str | None = None
    title: str | None = None
    url: str | None = None  # shown as a link only when it is http(s)
    source: str | None = None  # input file and line/record
    confidence: str | None = None  # "high" | "medium" | "low": how far it clears the threshold


@dataclass
class NarrativeSection:
    """What the report says about one narrative (or about the unassigned paragraphs)."""

    narrative_id: int
    label: str
    kind: str  # "named" | "discovered" | "off-topic" | "unassigned"
    description: str | None
    size: int  # paragraphs assigned
    share: float  # of all paragraphs, 0-1
    share_low: float | None = None  # 95% interval of its share of the paragraphs counted in the
    share_high: float | None = None  # shares (copies as the run counts them), whole window
    top_terms: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    figure: str | None = None  # key of a FigureRef shown in this section
    subnarratives: list[tuple[str, int]] = field(default_factory=list)  # (label, paragraphs)
    trust: str | None = None  # one sentence: threshold, median typicality, confidence counts
    catch_all: str | None = None  # the warning when it may be a catch-all (None: not flagged)


@dataclass
class FigureRef:
    """A figure already drawn: its PNG bytes for embedding and, optionally, a saved SVG's path."""

    key: str
    title: str
    caption: str
    png: bytes
    svg_path: str | None = None  # relative to the report, e.g. "figures/share-all.svg"


@dataclass
class Table:
    """A small table; cells are str, int, float or None (shown as a dash)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[str | int | float | None]]


@dataclass
class Section:
    """A titled part of the report: plain sentences, then figures and tables named by key.

    Figures and tables a section names are shown there and not again in the general lists.
    """

    key: str
    title: str
    text: list[str] = field(default_factory=list)  # plain sentences, one paragraph each
    figures: list[str] = field(default_factory=list)  # keys of FigureRef
    tables: list[str] = field(default_factory=list)  # keys of Table
    files: list[tuple[str, str]] = field(default_factory=list)  # (label, path beside the report)


@dataclass
class ReportModel:
    """Everything a report shows, in reading order; see the module docstring."""

    title: str
    subtitle: str
    summary: list[str]  # plain sentences: more findings, after the lead ones
    corpus: dict[str, object]  # n_articles, n_paragraphs, n_outlets, date range, ...
    narratives: list[NarrativeSection]
    figures: list[FigureRef]
    tables: list[Table]
    methods: dict[str, object]  # settings, seed, versions, counts, input fingerprint, codebook, ...
    warnings: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)  # analyses, after the overview figures
    appendix: list[Section] = field(default_factory=list)  # inside Methods: quality, coverage, ...
    findings: list[str] = field(default_factory=list)  # the lead: 2-3 sentences, with uncertainty
    headline: str | None = None  # key of the FigureRef shown with the findings, on the first screen

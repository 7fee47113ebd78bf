"""The report as a reader meets it (issue 25): the story first, honest thin data, one colour per
narrative, figures readable in print, no empty "unassigned", citations with authors, compact
methods. Each test builds a store in a second (hand-made runs over synthetic text, no model) and
asserts on the ReportModel, the rendered HTML and the figures the report draws.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matplotlib.text import Text

from tests import tiny_run
from tests.html_tags import TagCollector

from tests.reader_store import NAMES, build, recs, text_of


def report(path: Path, out: Path, monkeypatch, settings=None):
    """The ReportModel of run ``run1`` and every figure the report drew: {key: Plot}."""
    from narrative.drift import compute_drift
    from narrative.report.assemble import assemble_report
    from narrative.report.cache import ReportCache
    from narrative.store import Store

    settings = settings or tiny_run.settings()
    plots = {}
    original = ReportCache.figure

    def record(self, key, plot, folder):
        plots[key] = plot
        return original(self, key, plot, folder)

    monkeypatch.setattr(ReportCache, "figure", record)
    with Store(path) as store:
        drift = compute_drift(store, "run1", settings=settings)
        model = assemble_report(store, "run1", drift, out_dir=out, settings=settings, timings={})
    return model, plots


def html_of(model) -> tuple[str, str]:
    from narrative.report.html import render_html

    page = render_html(model)
    parsed = TagCollector()
    parsed.feed(page)
    return page, " ".join("".join(parsed.text).split())


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def draws_something(ax) -> bool:
    """Whether the axes shows data a reader can see: a marker on a finite point, a line
    joining two finite points, a band or bar with an area, or an image."""
    for line in ax.get_lines():
        y = np.isfinite(np.asarray(line.get_ydata(orig=False), dtype=float))
        if (line.get_marker() not in (None, "None", "", " ") and y.any()) or (y[1:] & y[:-1]).any():
            return True
    shapes = [p for c in ax.collections for p in c.get_paths() if len(p.vertices) > 2]
    return bool(shapes or ax.images or [p for p in ax.patches if p.get_width() > 0])


# -- 2: the first screen --------------------------------------------------------------------------


def test_the_report_leads_with_findings_their_uncertainty_and_one_chart(tmp_path, monkeypatch):
    path = build(tmp_path / "s", recs(["Wire", "Gazette", "Mirror"]), NAMES)
    model, plots = report(path, tmp_path / "out", monkeypatch)
    assert 1 <= len(model.findings) <= 3
    assert "95% interval" in model.findings[0]
    assert model.headline in plots and model.headline in {f.key for f in model.figures}
    page, _ = html_of(model)
    first_section = page.index('<section class="analysis"')
    img = page.index("<img", page.index('id="findings"'))
    assert page.index(model.findings[0][:40]) < img < first_section < page.index('id="corpus"')
    nav = page[page.index('<nav class="toc"'):page.index("</nav>")]
    assert "<details>" in nav  # the narratives' list folds away: the contents stay compact


# -- 3: thin data ---------------------------------------------------------------------------------


def seeds_like() -> list[dict]:
    """Five outlets, one article each, four of them dated over three weeks (as the seeds)."""
    dates = ["2025-08-20", "2025-09-02", "2025-09-05", "2025-09-09", None]
    return [{"id": f"s{k}", "outlet": f"Outlet {k}", "date": d, "title": f"T{k}",
             "text": text_of(k, [("harbour", "orchard"), ("orchard", "council")][k % 2])}
            for k, d in enumerate(dates)]


def test_a_thin_corpus_says_once_what_it_cannot_measure_and_draws_no_empty_panel(
        tmp_path, monkeypatch):
    path = build(tmp_path / "s", seeds_like(), NAMES)
    settings = tiny_run.settings().replace(min_articles=3)
    model, plots = report(path, tmp_path / "out", monkeypatch, settings)
    assert plots, "the report draws its first chart even on five articles"
    for key, plot in plots.items():
        fig = plot.draw()
        words = " ".join(t.get_text() for t in fig.findobj(Text))
        assert "No outlet has dated articles" not in words, key  # 4 of the 5 are dated
        for ax in visible_axes(fig):
            assert draws_something(ax), f"{key}: an empty panel ({ax.get_title()!r})"
    notes = [s for s in model.findings + model.summary if "cannot be measured" in s]
    assert len(notes) == 1 and "none of the 3 dated weeks" in notes[0]
    assert {s.key for s in model.sections}.isdisjoint({"time", "outlets", "divergence", "emerging"})


def test_partly_collected_weeks_keep_their_panel_and_are_marked_alike_everywhere(
        tmp_path, monkeypatch):
    from matplotlib.colors import to_hex

    records = recs(["Wire", "Gazette"], weeks=4, per_week=3)
    # "Edge" ran two weeks, each on one day only: both weeks are partly collected
    for k, day in enumerate(["2025-03-16", "2025-03-16", "2025-03-16",
                             "2025-03-17", "2025-03-17", "2025-03-17"]):
        records.append({"id": f"e{k}", "outlet": "Edge", "date": day, "title": f"E{k}",
                        "text": text_of(100 + k, ("harbour", "orchard"))})
    path = build(tmp_path / "s", records, NAMES)
    _, plots = report(path, tmp_path / "out", monkeypatch)
    grid = plots["share-by-outlet"].draw()
    top = {ax.get_title(): ax.get_subplotspec().colspan.start for ax in grid.axes
           if ax.get_visible() and ax.get_title()}
    assert "Edge" in top, "the outlet whose weeks are all partial lost its panels"
    edge = [ax for ax in grid.axes if ax.get_visible()
            and ax.get_subplotspec().colspan.start == top["Edge"]]

    def hollow(ax) -> set[float]:
        return {float(x) for line in ax.get_lines() if line.get_marker() == "o"
                and to_hex(line.get_markerfacecolor()) == "#ffffff"
                for x in np.asarray(line.get_xdata(orig=False), dtype=float)}

    assert all(len(hollow(ax)) == 2 for ax in edge)  # both weeks drawn, as thin points
    # the all-outlets figure marks its thin weeks the same way
    shares = plots["share-over-time"].args[0]
    thin = shares[shares["partial"] | shares["insufficient"]]
    assert len(thin)
    from matplotlib.dates import date2num

    expected = {float(date2num(pd.Timestamp(p))) for p in thin["period"]}
    marked = set().union(*(hollow(ax) for ax in visible_axes(plots["share-over-time"].draw())))
    assert marked == expected


# -- 5: colours -----------------------------------------------------------------------------------


def test_a_narrative_keeps_its_colour_across_runs_reports_and_notebooks(tmp_path, monkeypatch):
    from narrative.figures import narrative_colors

    first = build(tmp_path / "a", recs(["Wire", "Gazette"]), NAMES)
    second = build(tmp_path / "b", recs(["Mirror"], weeks=3), {
        "harbour": ("Harbour traffic", "named"), "council": ("Council budget", "named"),
        "orchard": ("Orchard harvest", "discovered")})
    colors = []
    for path, out in ((first, tmp_path / "out-a"), (second, tmp_path / "out-b")):
        _, plots = report(path, out, monkeypatch)
        merged: dict[str, str] = {}
        for plot in plots.values():
            for name, color in plot.kwargs.get("colors", {}).items():
                assert merged.setdefault(name, color) == color, name  # one colour per figure
        colors.append(merged)
    for name in ("Harbour traffic", "Orchard harvest"):
        assert colors[0][name] == colors[1][name], name
    # the public function a notebook calls gives the same colour
    notebook = narrative_colors(["Orchard harvest"], codebook=["Harbour traffic"])
    assert notebook["Orchard harvest"] == colors[0]["Orchard harvest"]


# -- 6: one figure per question, text readable in print --------------------------------------------

#: The PDF's text width (A4, 18 mm margins) and the tallest figure it places at full size.
A4_TEXT_WIDTH_IN = (210 - 36) / 25.4
TALLEST_IN = 8.0


def printed_sizes(fig) -> list[tuple[str, float]]:
    """Each visible text and its size in points once the figure, saved with a tight bounding
    box, is scaled to fit the PDF's text width (never scaled up), as the PDF places it."""
    from matplotlib.text import Text

    fig.canvas.draw()
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    scale = min(1.0, A4_TEXT_WIDTH_IN / (box.width + 0.2), TALLEST_IN / (box.height + 0.2))
    return [(t.get_text(), t.get_fontsize() * scale) for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip()
            and (t.axes is None or t.axes.get_visible())]


@pytest.mark.parametrize("outlets", [3, 9])
def test_every_figure_prints_its_text_at_8pt_or_more(tmp_path, monkeypatch, outlets):
    names = ["Wire", "Gazette", "Mirror", "Ledger", "Courier", "Herald", "Post", "Tribune",
             "Echo"][:outlets]
    path = build(tmp_path / "s", recs(names, weeks=5), NAMES)
    _, plots = report(path, tmp_path / "out", monkeypatch)
    for key, plot in plots.items():
        small = [(t, round(pt, 1)) for t, pt in printed_sizes(plot.draw()) if pt < 8 - 1e-6]
        assert not small, f"{key}: text under 8 pt once printed: {small[:5]}"
    assert not [k for k in plots if re.fullmatch(r"narrative-\d+", k)], \
        "per-narrative charts repeat rows of the by-outlet grid"


# -- 8: unassigned --------------------------------------------------------------------------------


def test_unassigned_is_shown_only_where_it_holds_paragraphs(tmp_path, monkeypatch):
    only_two = recs(["Wire", "Gazette"], topics=lambda k: ("harbour", "orchard"))
    path = build(tmp_path / "s", only_two, NAMES)
    model, plots = report(path, tmp_path / "out", monkeypatch)
    assert "unassigned" not in [n.label for n in model.narratives]
    page, text = html_of(model)
    assert "unassigned" not in page[page.index('<nav class="toc"'):page.index("</nav>")]
    for key, plot in plots.items():
        named = [*plot.kwargs.get("narratives", [])]
        frames = [a for a in plot.args if isinstance(a, pd.DataFrame) and "narrative" in a]
        assert "unassigned" not in named + [n for f in frames for n in f["narrative"]], key
    assert "no paragraph is left unassigned" in text and "Outliers reduced" in text
    # where paragraphs are unassigned, they are reported
    path = build(tmp_path / "t", recs(["Wire", "Gazette"]), NAMES)
    model, _ = report(path, tmp_path / "out-t", monkeypatch)
    assert "unassigned" in [n.label for n in model.narratives]


# -- 9: citations and counts -----------------------------------------------------------------------


def test_citations_name_the_author_and_counts_agree_with_their_nouns(tmp_path, monkeypatch):
    records = recs(["Wire", "Gazette"], weeks=2)
    records.append({"id": "u1", "outlet": "Wire", "date": None, "title": "Undated", "author": "A. Writer",
                    "text": text_of(999, ("harbour", "orchard"))})
    path = build(tmp_path / "s", records, NAMES)
    model, _ = report(path, tmp_path / "out", monkeypatch)
    page, text = html_of(model)
    bad = re.findall(r"\b1 (?:articles|paragraphs|outlets|weeks|copies|narratives|records)\b", text)
    assert not bad, bad
    assert "1 article has no date" in text
    footers = re.findall(r"<footer>(.*?)</footer>", page, flags=re.S)
    assert footers and all("Reporter" in f or "A. Writer" in f for f in footers)


# -- 10: methods ----------------------------------------------------------------------------------


def test_methods_list_changed_settings_the_codebook_and_how_to_repeat_the_run(
        tmp_path, monkeypatch):
    from narrative.config import Settings

    provenance = {"command": "narrative build corpus --manifest m.csv --out out",
                  "files": {"manifest": {"name": "m.csv", "sha256": "ab" * 32}}}
    path = build(tmp_path / "s", recs(["Wire", "Gazette"]), NAMES, provenance=provenance)
    model, _ = report(path, tmp_path / "out", monkeypatch)
    page, text = html_of(model)
    methods = page[page.index('id="methods"'):]
    assert methods.count(">Seed<") <= 1, "the seed is listed twice"
    assert provenance["command"] in text and "ab" * 32 in text
    tables = {t.key: t for t in model.tables}
    assert {"settings-changed", "settings-all", "codebook"} <= set(tables)
    defaults, stored = Settings().to_dict(), tiny_run.settings().to_dict()
    assert {r[0] for r in tables["settings-changed"].rows} == {
        k for k, v in stored.items() if defaults[k] != v}
    assert len(tables["settings-all"].rows) == len(defaults)
    assert [r[0] for r in tables["codebook"].rows] == ["Harbour traffic"]
    assert "NPMI counts how often top terms occur together" in text  # few paragraphs: caveat


# -- 4 (the report's half): syndication -------------------------------------------------------------


@pytest.mark.parametrize("evidence, says", [
    ("text", "Mirror carrying Wire's articles (2; the text names the first publisher)"),
    ("unknown", "Mirror and Wire running the same articles (2; direction unknown"),
])
def test_syndication_direction_follows_the_ingests_evidence(tmp_path, monkeypatch, evidence, says):
    from narrative.store import Store

    records = recs(["Wire", "Gazette"], weeks=2)
    for k, original in enumerate(records[:2]):  # Mirror carries two Wire stories a day later
        later = (dt.date.fromisoformat(original["date"]) + dt.timedelta(days=1)).isoformat()
        records.append({**original, "id": f"m{k}", "outlet": "Mirror", "date": later})
    path = build(tmp_path / "s", records, NAMES)
    with Store(path) as store:
        copies = store.articles().dropna(subset=["duplicate_of"])
        assert len(copies) == 2
        for row in copies.itertuples():
            meta = {**json.loads(row.meta), "copy_evidence": evidence}
            store.con.execute("UPDATE articles SET meta = ? WHERE article_id = ?",
                              [json.dumps(meta), row.article_id])
        labelled = len(store.paragraphs())
    model, _ = report(path, tmp_path / "out", monkeypatch)
    _, text = html_of(model)
    assert says in text
    # copies = per_outlet (the default): Mirror's 4 paragraphs count, out of every paragraph
    share = f"{100 * 4 / labelled:.0f}% of the paragraphs counted in the shares come from 2 syndicated copies"
    assert share in text


def test_counts_agree_with_their_nouns_and_pages_are_even():
    from narrative.report.overview import pages
    from narrative.report.text import count, interval, pct_interval

    assert count(1, "article") == "1 article" and count(1272, "article") == "1,272 articles"
    assert count(2, "syndicated copy") == "2 syndicated copies"
    assert pct_interval(0.26, 0.11, 0.57) == "26%, 95% interval 11–57%"
    assert interval(0.041, float("nan")) is None
    assert [len(p) for p in pages([str(i) for i in range(9)], 4)] == [3, 3, 3]
    assert [len(p) for p in pages([str(i) for i in range(6)], 4)] == [3, 3]


def test_off_topic_clusters_are_left_out_of_the_share_charts_and_named(tmp_path, monkeypatch):
    names = {"harbour": ("Harbour traffic", "named"), "orchard": ("Orchard harvest", "discovered"),
             "council": ("league match, derby", "off-topic")}
    path = build(tmp_path / "s", recs(["Wire", "Gazette"], weeks=6, per_week=3), names)
    model, plots = report(path, tmp_path / "out", monkeypatch)
    charts = {k: p for k, p in plots.items()
              if k.startswith(("share-over-time", "outlet-heatmap", "share-by-outlet"))}
    assert charts, sorted(plots)
    for key, plot in charts.items():
        frames = [a for a in plot.args if isinstance(a, pd.DataFrame) and "narrative" in a]
        shown = [*plot.kwargs.get("narratives", [])] + [n for f in frames for n in f["narrative"]]
        assert "league match, derby" not in shown, key
        assert "Harbour traffic" in shown, key
    page, text = html_of(model)
    assert "left out of these charts: \u201cleague match, derby\u201d" in text


def test_findings_speak_of_changes_in_narratives_not_in_off_topic_clusters():
    from types import SimpleNamespace

    from narrative.report.findings import change_sentences

    changes = pd.DataFrame({
        "narrative": ["league match, derby", "Harbour traffic", "unassigned"],
        "outlet": ["Wire", "Wire", "Wire"], "period": ["2025-03-10"] * 3,
        "direction": ["up", "down", "up"], "magnitude": [0.3, -0.1, 0.2],
        "before": [0.05, 0.3, 0.01], "after": [0.35, 0.2, 0.21]})
    drift = SimpleNamespace(changepoints=changes, shares=pd.DataFrame(
        columns=["period", "outlet", "narrative", "share", "ci_low", "ci_high", "insufficient"]))
    kinds = {"league match, derby": "off-topic", "Harbour traffic": "named"}
    sentences = change_sentences(drift, "week", limit=6, kinds=kinds)
    assert len(sentences) == 1 and sentences[0].startswith("Harbour traffic fell")


def test_a_discovered_label_with_commas_is_quoted_in_the_findings():
    from narrative.report.findings import top_narratives_sentence

    overall = pd.DataFrame({"narrative": ["peace talks, ceasefire", "Harbour traffic"],
                            "share": [0.3, 0.2], "ci_low": [0.25, 0.15], "ci_high": [0.35, 0.25]})
    kinds = {"peace talks, ceasefire": "discovered", "Harbour traffic": "named"}
    sentence = top_narratives_sentence(overall, kinds, 10, first=None, last=None)
    assert "\u201cpeace talks, ceasefire\u201d (30%" in sentence and "Harbour traffic (20%" in sentence


def test_framing_leaves_off_topic_clusters_out_and_quotes_labels():
    from types import SimpleNamespace

    from narrative.report.sections import framing_section

    framing = pd.DataFrame({
        "narrative": ["league match, derby", "peace talks, ceasefire", "Harbour traffic"],
        "outlet": ["all"] * 3, "period": ["2025-03-10"] * 3, "insufficient": [False] * 3,
        "shift_excess": [0.09, 0.05, 0.01], "n_paragraphs": [9, 8, 7],
        "new_terms": ["banner, giant", "envoys", "ferries"]})
    kinds = {"league match, derby": "off-topic", "peace talks, ceasefire": "discovered",
             "Harbour traffic": "named"}
    section, (table,) = framing_section(SimpleNamespace(tables={"framing": framing}), "week", kinds)
    assert "The largest shift was \u201cpeace talks, ceasefire\u201d" in " ".join(section.text)
    assert [row[0] for row in table.rows] == ["peace talks, ceasefire", "Harbour traffic"]


def test_framing_new_terms_are_words_used_like_nouns():
    from narrative.drift.framing import _doc_terms

    texts = [f"The envoys want the ceasefire {k}. They want it covering the port." for k in
             ("now", "soon", "today")] + ["A ceasefire holds at the port. The envoys met."] * 20
    _, vocab = _doc_terms(texts)
    assert {"envoys", "ceasefire", "port"} <= set(vocab)
    assert not {"want", "covering"} & set(vocab), vocab

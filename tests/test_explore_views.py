"""The notebooks' plotly views: a trace per narrative in the report's colours, hover text that
gives each share with its interval and articles, and names that show as written. Checked on the
figure data, no browser needed."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from narrative.drift import DriftFrames
from narrative.errors import InputError
from narrative.explore.views import outlet_heatmap, share_over_time
from narrative.figures import narrative_colors

SCRIPT = "<script>alert(1)</script>"
HOSTILE_OUTLET = f'Evil <a href="javascript:alert(2)">{SCRIPT}</a> Daily'
NAMES = ["Sanctions leverage", "grain, ports, convoys", "unassigned"]
WEEKS = ["2025-06-02", "2025-06-09", "2025-06-16"]


def _shares() -> pd.DataFrame:
    rows = []
    for outlet in ("all", "Harbor Times", HOSTILE_OUTLET):
        for w, week in enumerate(WEEKS):
            for n, name in enumerate(NAMES):
                share = 0.1 * (n + 1) + 0.01 * w
                thin = outlet == "Harbor Times" and w == 1
                rows.append({"period": week, "outlet": outlet, "narrative": name, "share": share,
                             "ci_low": None if thin else share - 0.05, "ci_high": None if thin else share + 0.07,
                             "n_articles": 2 if thin else 10 + w, "insufficient": thin})
    return pd.DataFrame(rows)


def _outlet_shares() -> pd.DataFrame:
    rows = []
    for o, outlet in enumerate(("Harbor Times", HOSTILE_OUTLET)):
        for n, name in enumerate(NAMES):
            missing = o == 1 and n == 0
            rows.append({"outlet": outlet, "narrative": name, "share": None if missing else 0.2 + 0.1 * n,
                         "ci_low": None if missing else 0.15 + 0.1 * n, "ci_high": None if missing else 0.3 + 0.1 * n,
                         "n_articles": 40 + o})
    return pd.DataFrame(rows)


@pytest.fixture
def drift() -> DriftFrames:
    labelled = pd.DataFrame(columns=["paragraph_id", "narrative"])
    labelled.attrs["period"] = "week"
    return DriftFrames(paragraphs=labelled, tables={"shares": _shares(), "outlet_shares": _outlet_shares()},
                       narrative_order=list(NAMES))


def _lines(fig):
    return [t for t in fig.data if not t.meta["thin"]]


def test_share_over_time_draws_one_line_per_narrative_in_the_report_colours(drift):
    fig = share_over_time(drift, outlet="all")
    lines = _lines(fig)
    assert [t.meta["narrative"] for t in lines] == NAMES
    colors = narrative_colors(NAMES)
    assert [t.line.color for t in lines] == [colors[n] for n in NAMES]
    assert lines[0].y == pytest.approx((0.1, 0.11, 0.12))
    assert lines[-1].line.dash == "dot", "unassigned is drawn dotted, as in the report"


def test_share_over_time_colours_follow_the_codebook_given(drift):
    codebook = ["grain, ports, convoys", "Sanctions leverage"]
    fig = share_over_time(drift, codebook=codebook)
    colors = narrative_colors(NAMES, codebook)
    assert {t.meta["narrative"]: t.line.color for t in _lines(fig)} == colors
    assert colors["grain, ports, convoys"] != narrative_colors(NAMES)["grain, ports, convoys"]


def test_share_hover_gives_the_share_its_interval_and_articles(drift):
    fig = share_over_time(drift, outlet="all")
    first = _lines(fig)[0].text[1]  # Sanctions leverage, week of 2025-06-09: 11%, 6%-18%
    assert "<b>Sanctions leverage</b>" in first
    assert "week of 2025-06-09" in first
    assert "share 11.0% (95% CI 6.0%\u201318.0%)" in first
    assert "11 articles" in first
    assert _lines(fig)[0].hovertemplate == "%{text}<extra></extra>"


def test_a_thin_period_leaves_the_line_for_a_hollow_marker_without_interval(drift):
    fig = share_over_time(drift, outlet="Harbor Times")
    line = _lines(fig)[0]
    assert line.y[1] is None and line.y[0] == pytest.approx(0.1)
    thin = [t for t in fig.data if t.meta["thin"] and t.meta["narrative"] == NAMES[0]]
    assert len(thin) == 1 and thin[0].x == ("2025-06-09",) and thin[0].marker.symbol == "circle-open"
    assert "too few articles for an interval" in thin[0].text[0] and "2 articles" in thin[0].text[0]


def test_share_over_time_takes_a_shares_table_and_draws_only_the_outlet_asked(drift):
    table = _shares()
    table.loc[(table["outlet"] == "Harbor Times") & (table["narrative"] == NAMES[0]), "share"] = 0.9
    fig = share_over_time(table, outlet="Harbor Times", narratives=NAMES[:2], intervals=True)
    lines = _lines(fig)
    assert [t.meta["narrative"] for t in lines] == NAMES[:2]
    assert lines[0].y[0] == pytest.approx(0.9)
    assert lines[1].error_y.array[0] == pytest.approx(0.07) and lines[1].error_y.arrayminus[0] == pytest.approx(0.05)


def test_an_unknown_outlet_is_an_input_error_naming_the_outlets(drift):
    with pytest.raises(InputError, match="no shares for outlet 'Harbour Times'.*'Harbor Times'"):
        share_over_time(drift, outlet="Harbour Times")


def test_outlet_heatmap_cells_hover_with_interval_and_rows_in_narrative_colours(drift):
    fig = outlet_heatmap(drift)
    (heat,) = fig.data
    assert heat.meta["narratives"] == NAMES and heat.meta["outlets"] == [HOSTILE_OUTLET, "Harbor Times"]
    assert heat.z[1][1] == pytest.approx(0.3)
    assert heat.z[0][0] is None, "a cell without a share stays empty"
    assert "share 30.0% (95% CI 25.0%\u201340.0%)" in heat.text[1][1] and "40 articles" in heat.text[1][1]
    assert "too few articles for a share" in heat.text[0][0]
    colors = narrative_colors(NAMES)
    for label, name in zip(fig.layout.yaxis.ticktext, NAMES):
        assert f"color:{colors[name]}" in label


def test_names_from_the_articles_show_as_written_never_as_markup(drift):
    drift.tables["shares"].loc[drift.tables["shares"]["narrative"] == NAMES[1], "narrative"] = SCRIPT
    drift.narrative_order[1] = SCRIPT
    figures = [share_over_time(drift, outlet=HOSTILE_OUTLET), outlet_heatmap(drift)]
    for fig in figures:
        shown = fig.to_plotly_json()  # all but meta and legendgroup, which plotly never displays
        for trace in shown["data"]:
            trace.pop("meta"), trace.pop("legendgroup", None)
        raw = json.dumps(shown, default=str)
        assert "<script" not in raw and "<a href" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in figures[0].data[1].name
    assert "Evil &lt;a href=" in figures[0].layout.title.text
    assert "&lt;a href=" in " ".join(figures[1].layout.xaxis.ticktext)

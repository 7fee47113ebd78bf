"""Figures: artists drawn from tiny frames, stable colours, reproducible files, safe names."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from narrative.figures import (
    PALETTE,
    UNASSIGNED_COLOR,
    figure_to_png_bytes,
    narrative_colors,
    plot_narrative_sizes,
    plot_outlet_heatmap,
    plot_share_over_time,
    save_figure,
)
from narrative.io import safe_filename

PERIODS = ["2024-01-01", "2024-01-08", "2024-01-15"]


@pytest.fixture
def shares() -> pd.DataFrame:
    """3 weeks x 2 outlets x 3 narratives; only narrative A has intervals."""
    rows = []
    values = {"A": [0.5, 0.4, 0.3], "B": [0.3, 0.4, 0.6], "unassigned": [0.2, 0.2, 0.1]}
    for outlet in ["all", "Правда"]:
        for i, period in enumerate(PERIODS):
            for name, series in values.items():
                share = series[i]
                has_ci = name == "A"
                rows.append(
                    {
                        "period": period, "outlet": outlet, "narrative": name, "share": share,
                        "ci_low": share - 0.05 if has_ci else np.nan,
                        "ci_high": share + 0.05 if has_ci else np.nan,
                        "n_articles": 10,
                    }
                )
    return pd.DataFrame(rows)


def _legend_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# -- share over time ------------------------------------------------------------------------------


def test_share_over_time_one_line_per_narrative_with_band(shares):
    fig = plot_share_over_time(shares, outlet="all")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert len(lines) == 3
    # default order: largest mean share first (B: 0.433 > A: 0.4), unassigned last
    assert _legend_labels(ax) == ["B", "A", "unassigned"]
    by_label = {line.get_label(): line for line in lines}
    np.testing.assert_allclose(by_label["A"].get_ydata(), [0.5, 0.4, 0.3])
    assert to_hex(by_label["unassigned"].get_color()) == UNASSIGNED_COLOR.lower()
    assert len(ax.collections) == 1  # only A has intervals


def test_share_over_time_respects_narratives_and_colors(shares):
    fig = plot_share_over_time(
        shares, outlet="Правда", narratives=["A", "B"], colors={"A": "#112233", "B": "#445566"}
    )
    ax = fig.axes[0]
    assert _legend_labels(ax) == ["A", "B"]
    assert [to_hex(line.get_color()) for line in ax.get_lines()] == ["#112233", "#445566"]
    assert "Правда" in ax.get_title(loc="left")


def test_share_over_time_draws_on_given_axes(shares):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_share_over_time(shares, ax=ax) is fig
    assert len(ax.get_lines()) == 3
    assert len(fig.axes) == 1


def test_share_over_time_unknown_outlet_names_the_choices(shares):
    with pytest.raises(ValueError, match="Правда"):
        plot_share_over_time(shares, outlet="nowhere")


def test_share_over_time_rejects_duplicate_rows(shares):
    with pytest.raises(ValueError, match="one row"):
        plot_share_over_time(pd.concat([shares, shares]))


def test_labels_with_dollar_signs_render_literally(shares):
    odd = shares.replace({"narrative": {"A": "costs $5 and $", "B": r"$\frac{$"}})
    fig = plot_share_over_time(odd)
    assert figure_to_png_bytes(fig, dpi=30).startswith(b"\x89PNG")  # no mathtext parse error


# -- heatmap ------------------------------------------------------------------------------------


def test_outlet_heatmap_shape_labels_and_insufficient_cells():
    frame = pd.DataFrame(
        {
            "outlet": ["X", "X", "Y", "Y", "Z"],
            "narrative": ["A", "B", "A", "B", "A"],
            "share": [0.5, 0.25, np.nan, 0.75, 0.1],
        }
    )
    fig = plot_outlet_heatmap(frame, narratives=["A", "B"])
    ax = fig.axes[0]
    grid = ax.images[0].get_array()
    assert grid.shape == (3, 2)  # outlets X, Y, Z x narratives A, B
    assert grid.mask[1, 0] and grid.mask[2, 1]  # NaN share and missing row
    texts = [t.get_text() for t in ax.texts]
    assert "50%" in texts and "75%" in texts and texts.count("n/a") == 2
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert len(hatched) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["X", "Y", "Z"]


def test_outlet_heatmap_on_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    frame = pd.DataFrame({"outlet": ["X"], "narrative": ["A"], "share": [0.2]})
    assert plot_outlet_heatmap(frame, ax=ax) is fig
    assert ax.images[0].get_array().shape == (1, 1)


# -- sizes ----------------------------------------------------------------------------------------


def test_narrative_sizes_sorted_bars_with_kinds_and_counts():
    frame = pd.DataFrame(
        {
            "narrative": ["small", "big", "unassigned", "found"],
            "size": [5, 1200, 300, 40],
            "kind": ["named", "named", "unassigned", "discovered"],
        }
    )
    fig = plot_narrative_sizes(frame)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 4
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["big", "unassigned", "found", "small"]  # largest first (top)
    hatches = dict(zip(labels, (b.get_hatch() for b in bars)))
    assert hatches["big"] is None and hatches["small"] is None
    assert hatches["found"] and hatches["unassigned"]
    assert to_hex(bars[1].get_facecolor()) == UNASSIGNED_COLOR.lower()
    counts = {t.get_text() for t in ax.texts}
    assert {"1,200", "300", "40", "5"} <= counts


def test_narrative_sizes_on_given_axes_and_bad_sizes():
    fig = Figure()
    ax = fig.add_subplot()
    frame = pd.DataFrame({"narrative": ["a"], "size": [3], "kind": ["named"]})
    assert plot_narrative_sizes(frame, ax=ax) is fig
    with pytest.raises(ValueError, match="size"):
        plot_narrative_sizes(frame.assign(size=[-1]))


# -- colours --------------------------------------------------------------------------------------


def test_colors_follow_list_position_and_unassigned_is_grey():
    names = ["Zeta", "alpha", "unassigned", "Mid"]
    first = narrative_colors(names)
    assert first == narrative_colors(list(names))  # stable across calls
    assert first["Zeta"] == PALETTE[0] and first["alpha"] == PALETTE[1]
    assert first["Mid"] == PALETTE[2]  # unassigned takes no palette slot
    assert first["unassigned"] == UNASSIGNED_COLOR
    assert narrative_colors(["Unassigned "])["Unassigned "] == UNASSIGNED_COLOR
    many = narrative_colors([f"n{i}" for i in range(len(PALETTE))])
    assert len(set(many.values())) == len(PALETTE)
    assert UNASSIGNED_COLOR not in PALETTE


# -- saving -----------------------------------------------------------------------------------------


def test_save_figure_is_reproducible_and_safely_named(shares, tmp_path):
    first = save_figure(plot_share_over_time(shares), tmp_path / "a", "Share: all/outlets")
    second = save_figure(plot_share_over_time(shares), tmp_path / "b", "Share: all/outlets")
    assert set(first) == {"png", "svg"}
    for kind in ("png", "svg"):
        assert first[kind].name == second[kind].name
        assert first[kind].read_bytes() == second[kind].read_bytes()
        assert re.fullmatch(r"[a-z0-9-]+\.(png|svg)", first[kind].name)
    assert first["png"].read_bytes().startswith(b"\x89PNG")
    svg = first["svg"].read_text(encoding="utf-8")
    assert "<svg" in svg and "<dc:date>" not in svg
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        p.name for p in first.values()
    )  # no temporary files left behind


def test_save_figure_hostile_name_stays_inside(shares, tmp_path):
    paths = save_figure(plot_share_over_time(shares), tmp_path, "../../etc/passwd")
    for path in paths.values():
        assert path.parent == tmp_path


# -- safe_filename ----------------------------------------------------------------------------------

_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
             *(f"lpt{i}" for i in range(10))}


@pytest.mark.parametrize(
    "name",
    ["../../x", "/etc/passwd", "CON", "con", "nul", "LPT1", "a" * 300, "bad\x00name", "..", ".",
     "", "   ", "Правда", "C:\\Windows\\system32", "a/b\\c", "\u2028\u2029", "x" * 81],
)
def test_safe_filename_hostile_names_stay_plain(name):
    slug = safe_filename(name)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), slug
    assert slug not in _RESERVED
    assert 0 < len(slug) <= 80
    assert safe_filename(name) == slug  # deterministic


def test_safe_filename_keeps_plain_names_and_separates_different_ones():
    assert safe_filename("share-all") == "share-all"
    assert safe_filename("a b") != safe_filename("a-b")
    assert safe_filename("A") != safe_filename("a")
    assert safe_filename("x" * 300) != safe_filename("x" * 301)
    assert len(safe_filename("y" * 300, max_len=20)) <= 20
    assert safe_filename("Épée").startswith("epee-")
    with pytest.raises(ValueError, match="max_len"):
        safe_filename("x", max_len=3)

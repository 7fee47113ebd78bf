"""Figures: artists drawn from tiny frames, stable colours, reproducible files, safe names."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.dates import num2date
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from narrative.figures import (
    PALETTE,
    UNASSIGNED_COLOR,
    figure_to_png_bytes,
    narrative_color,
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
    assert grid.shape == (2, 3)  # narratives A, B (rows) x outlets X, Y, Z (columns)
    assert grid.mask[0, 1] and grid.mask[1, 2]  # NaN share and missing row
    texts = [t.get_text() for t in ax.texts]
    assert "50%" in texts and "75%" in texts and texts.count("n/a") == 2
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert len(hatched) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["X", "Y", "Z"]


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


def test_colors_follow_the_name_whatever_else_is_drawn():
    codebook = ["Zeta", "alpha"]
    first = narrative_colors(["Zeta", "alpha", "unassigned", "Mid"], codebook=codebook)
    assert first["Zeta"] == PALETTE[0] and first["alpha"] == PALETTE[1]  # codebook order
    assert first["unassigned"] == UNASSIGNED_COLOR
    assert narrative_colors(["Unassigned "])["Unassigned "] == UNASSIGNED_COLOR
    # a discovered name keeps its colour in another run: other names, another order
    other = narrative_colors(["Mid", "Other", "alpha"], codebook=codebook)
    assert other["Mid"] == first["Mid"] and other["alpha"] == first["alpha"]
    assert first["Mid"] not in PALETTE[:6]  # never a codebook narrative's colour
    assert narrative_colors(["Mid"], codebook=["x", "y", "z"])["Mid"] == first["Mid"]
    assert narrative_color("Mid", codebook) == first["Mid"]
    assert UNASSIGNED_COLOR not in PALETTE and len(set(PALETTE)) == len(PALETTE)


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


# -- change, emerging, small multiples, syndication, map ------------------------------------------

from narrative.figures import (  # noqa: E402  (grouped with the tests that use them)
    plot_divergence,
    plot_emerging,
    plot_narrative_map,
    plot_outlet_small_multiples,
    plot_syndication,
    syndication_counts,
)
from narrative.figures.narrative_map import subsample  # noqa: E402

COLORS = {"A": "#e69f00", "B": "#56b4e9", "unassigned": to_hex(UNASSIGNED_COLOR)}


def _divergence() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"period": p, "outlet": o, "js_baseline": 0.01 * i, "js_previous": np.nan if i == 0 else 0.02}
            for o in ["all", "Правда"] for i, p in enumerate(PERIODS)
        ]
    )


def _changes() -> pd.DataFrame:
    return pd.DataFrame(
        [{"narrative": "B", "outlet": "Правда", "period": PERIODS[1], "direction": "up",
          "magnitude": 0.2}]
    )


def _saved(fig, tmp_path, name) -> dict:
    paths = save_figure(fig, tmp_path, name)
    assert paths["png"].read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in paths["svg"].read_bytes()[:400]
    return paths


def test_divergence_one_panel_per_outlet_and_change_in_narrative_colour(tmp_path):
    fig = plot_divergence(_divergence(), _changes(), colors=COLORS)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in visible] == ["all outlets", "Правда"]
    marks = [line for line in visible[1].get_lines() if to_hex(line.get_color()) == COLORS["B"]]
    assert marks, "the change point of B is drawn in B's colour in the Правда panel"
    assert not [line for line in visible[0].get_lines() if to_hex(line.get_color()) == COLORS["B"]]
    paths = _saved(fig, tmp_path, "divergence")
    assert [p.name for p in paths.values()] == ["divergence.png", "divergence.svg"]


def test_divergence_without_change_points_or_rows(tmp_path):
    no_changes = _changes().iloc[:0]
    fig = plot_divergence(_divergence(), no_changes)
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes if ax.get_visible())
    empty = plot_divergence(_divergence().iloc[:0], None)
    assert "No divergence" in " ".join(t.get_text() for t in empty.axes[0].texts)
    _saved(empty, tmp_path, "divergence-empty")


def test_emerging_arrows_sorted_by_size_in_narrative_colours(tmp_path):
    rows = pd.DataFrame(
        [
            {"narrative": "A", "outlet": "all", "status": "fading", "period": PERIODS[1],
             "end_period": PERIODS[2], "n_periods": 2, "baseline_share": 0.5, "share": 0.45},
            {"narrative": "B", "outlet": "Правда", "status": "emerging", "period": PERIODS[1],
             "end_period": PERIODS[2], "n_periods": 2, "baseline_share": 0.2, "share": 0.5},
        ]
    )
    fig = plot_emerging(rows, colors=COLORS)
    (ax,) = fig.axes
    labels = [t.get_text().split("\n") for t in ax.get_yticklabels()]
    assert [first for first, _ in labels] == ["B \u2014 Правда", "A \u2014 all outlets"]  # largest change first
    assert labels[0][1].startswith("\u25b2 emerging, 2024-01-08")  # the status under its row
    filled = {to_hex(line.get_color()) for line in ax.get_lines()}
    assert {COLORS["A"], COLORS["B"]} <= filled
    _saved(fig, tmp_path, "emerging")


def test_emerging_empty_says_so(tmp_path):
    cols = ["narrative", "outlet", "status", "period", "end_period", "baseline_share", "share"]
    fig = plot_emerging(pd.DataFrame(columns=cols))
    assert "No narrative" in " ".join(t.get_text() for t in fig.axes[0].texts)
    _saved(fig, tmp_path, "emerging-empty")


def test_outlet_small_multiples_grid_rows_narratives_columns_outlets(shares, tmp_path):
    more = shares.assign(outlet=shares["outlet"].replace({"all": "Second"}))
    frame = pd.concat([shares, more], ignore_index=True)
    fig = plot_outlet_small_multiples(frame, narratives=["A", "B", "unassigned"], colors=COLORS)
    assert len(fig.axes) == 2 * 2  # A, B (unassigned left out) x Правда, Second ("all" left out)
    top_row = sorted(ax.get_title() for ax in fig.axes if ax.get_title())
    assert top_row == ["Second", "Правда"]
    for ax in fig.axes:
        (line,) = ax.get_lines()
        assert to_hex(line.get_color()) in (COLORS["A"], COLORS["B"])
    _saved(fig, tmp_path, "share-by-outlet")
    only_all = plot_outlet_small_multiples(shares[shares["outlet"] == "all"])
    assert "No shares to draw" in " ".join(t.get_text() for t in only_all.axes[0].texts)


def test_outlet_small_multiples_rows_share_one_scale_that_holds_every_panel():
    """A narrative's row has one y scale, high enough for its highest panel, wherever that panel
    stands (the scale was once fixed by the panels drawn first, and cut later, higher ones off);
    every panel shows the same dates; only the first column is labelled."""
    rows = []
    for outlet, peak in [("Low", 0.02), ("Mid", 0.10), ("High", 0.80)]:
        for i, period in enumerate(PERIODS):
            for name, scale in [("A", 1.0), ("B", 0.5)]:
                share = peak * scale * (i + 1) / len(PERIODS)
                rows.append({"period": period, "outlet": outlet, "narrative": name, "share": share,
                             "ci_low": share / 2, "ci_high": share * 1.1,
                             "n_articles": {"Low": 30, "Mid": 20, "High": 10}[outlet]})
    frame = pd.DataFrame(rows)
    fig = plot_outlet_small_multiples(frame, narratives=["A", "B"])
    assert [ax.get_title() for ax in fig.axes[:3]] == ["Low", "Mid", "High"]  # most articles first
    for r, name in enumerate(["A", "B"]):
        row = fig.axes[3 * r: 3 * r + 3]
        highest = frame.loc[frame["narrative"] == name, "ci_high"].max()
        assert {ax.get_ylim() for ax in row} == {row[0].get_ylim()}
        bottom, top = row[0].get_ylim()
        assert bottom == 0.0 and highest <= top <= highest * 1.1
        assert [bool(ax.yaxis.get_ticklabels()[0].get_visible()) if ax.yaxis.get_ticklabels()
                else False for ax in row] == [True, False, False]
    views = {ax.get_xlim() for ax in fig.axes}
    assert len(views) == 1
    lo, hi = (num2date(v).strftime("%Y-%m-%d %H:%M") for v in views.pop())
    assert lo < PERIODS[0] and hi > PERIODS[-1] + " 00:00"  # matplotlib's margins both sides
    figure_to_png_bytes(fig)
    assert [t.get_text() for t in fig.axes[-1].get_xticklabels()]  # every panel dated


def test_share_panels_scale_holds_a_later_panels_peak():
    """Panels over time are ordered by mean share; a narrative drawn later with a higher peak is
    not cut off at the scale of the panels drawn before it."""
    values = {"Flat": [0.35, 0.35, 0.35], "Peak": [0.0, 0.05, 0.9], "Low": [0.1, 0.1, 0.1]}
    frame = pd.DataFrame([{"period": p, "outlet": "all", "narrative": name, "share": series[i]}
                          for name, series in values.items() for i, p in enumerate(PERIODS)])
    fig = plot_share_over_time(frame, layout="panels")
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in shown] == ["Flat", "Peak", "Low"]
    assert {ax.get_ylim() for ax in shown} == {shown[0].get_ylim()}
    assert shown[0].get_ylim() == (0.0, pytest.approx(0.9 * 1.05))  # the peak, plus the margin
    assert len({ax.get_xlim() for ax in shown}) == 1


def test_syndication_counts_pairs_and_plot(tmp_path):
    articles = pd.DataFrame(
        {
            "article_id": ["a", "b", "c", "d", "e"],
            "outlet": ["Wire", "Paper", "Paper", None, "Wire"],
            "duplicate_of": [None, "a", "e", "b", "missing"],
        }
    )
    counts = syndication_counts(articles)
    assert counts.to_dict("records") == [
        {"copy_outlet": "Paper", "original_outlet": "Wire", "n_copies": 2},
        {"copy_outlet": "(unknown outlet)", "original_outlet": "Paper", "n_copies": 1},
    ]
    fig = plot_syndication(counts)
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Paper", "(unknown outlet)"]
    _saved(fig, tmp_path, "syndication")


def test_syndication_without_copies(tmp_path):
    articles = pd.DataFrame({"article_id": ["a"], "outlet": ["Wire"], "duplicate_of": [None]})
    counts = syndication_counts(articles)
    assert counts.empty and list(counts.columns) == ["copy_outlet", "original_outlet", "n_copies"]
    fig = plot_syndication(counts)
    assert "No article is a copy" in " ".join(t.get_text() for t in fig.axes[0].texts)
    _saved(fig, tmp_path, "syndication-empty")


def test_narrative_map_colours_and_labels_over_clusters(tmp_path):
    points = pd.DataFrame(
        {
            "x": [0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 5.0],
            "y": [0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 2.0],
            "narrative": ["A", "A", "A", "B", "B", "B", "unassigned"],
        }
    )
    fig = plot_narrative_map(points, colors=COLORS)
    (ax,) = fig.axes
    labels = {t.get_text(): t.get_position() for t in ax.texts if t.get_text() in ("A", "B")}
    assert labels["A"][0] == 1.0 and labels["B"][0] == 11.0  # over the median x of each cluster
    assert 0.0 < labels["A"][1] < 1.0 and 5.0 < labels["B"][1] < 6.0  # just above its points
    faces = {to_hex(c) for coll in ax.collections for c in coll.get_facecolors()}
    assert {COLORS["A"], COLORS["B"], COLORS["unassigned"]} <= faces
    _saved(fig, tmp_path, "narrative-map")
    empty = plot_narrative_map(points.iloc[:0])
    assert "Too few" in " ".join(t.get_text() for t in empty.axes[0].texts)


def test_subsample_is_seeded_sorted_and_capped():
    assert subsample(5, 10, seed=1).tolist() == [0, 1, 2, 3, 4]
    picked = subsample(1000, 50, seed=1)
    assert len(picked) == 50 and len(set(picked)) == 50
    assert (np.diff(picked) > 0).all()
    assert picked.tolist() == subsample(1000, 50, seed=1).tolist()
    assert picked.tolist() != subsample(1000, 50, seed=2).tolist()


def _keys(start: int, stop: int) -> list[str]:
    import hashlib

    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(start, stop)]


def test_stable_sample_keeps_most_members_when_texts_are_added():
    from narrative.figures.narrative_map import stable_sample

    keys = sorted(_keys(0, 10_000))
    picked = stable_sample(keys, 1_000, seed=1)
    assert len(picked) == 1_000 and (np.diff(picked) > 0).all()
    assert stable_sample(keys, 1_000, seed=1).tolist() == picked.tolist()  # deterministic
    assert stable_sample(keys[:7], 1_000, seed=1).tolist() == list(range(7))
    before = {keys[i] for i in picked}
    grown = sorted(keys + _keys(10_000, 10_200))  # 2% more texts, sorted in among the old
    after = {grown[i] for i in stable_sample(grown, 1_000, seed=1)}
    # bottom-k: about 1,000 * 200 / 10,200 = 20 swaps expected; a fresh random draw keeps ~10%
    assert len(before & after) >= 950
    shuffled = list(np.random.default_rng(0).permutation(grown))
    assert {shuffled[i] for i in stable_sample(shuffled, 1_000, seed=1)} == after  # order-free
    assert {keys[i] for i in stable_sample(keys, 1_000, seed=2)} != before


def test_place_by_neighbours_is_the_similarity_weighted_mean_of_the_nearest():
    from narrative.figures.narrative_map import place_by_neighbours

    anchors = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 1.0]])
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [50.0, 50.0]])
    query = np.array([[1.0, 0.0, 0.0]])  # cosine 1.0 with the first anchor, 0.8 with the second
    placed = place_by_neighbours(query, anchors, xy, k=2)
    assert placed == pytest.approx(np.array([[0.8 * 10.0 / 1.8, 0.0]]))
    assert place_by_neighbours(query * 7, anchors, xy, k=1) == pytest.approx(np.array([[0, 0]]))
    assert place_by_neighbours(query[:0], anchors, xy).shape == (0, 2)
    with pytest.raises(ValueError, match="anchor"):
        place_by_neighbours(query, anchors[:0], xy[:0])


def _clusters(n_per: int, seed: int, centres=(0, 1, 2, 3)) -> np.ndarray:
    """Points around orthogonal directions of an 8-D space (one cluster per centre)."""
    rng = np.random.default_rng(seed)
    return np.vstack([np.eye(8)[c] + rng.normal(0, 0.05, (n_per, 8)) for c in centres])


@pytest.fixture
def umap_calls(monkeypatch):
    """Count UMAP runs; the stand-in is a fixed projection that puts the clusters of
    :func:`_clusters` at the corners of a 10 x 10 square."""
    from narrative.figures import narrative_map

    calls = []
    corners = np.array([[0, 0], [10, 0], [0, 10], [10, 10]] + [[5, 5]] * 4, dtype=float)

    def fake(vectors, *, seed=0, **_):
        calls.append(len(vectors))
        return np.asarray(vectors, dtype=np.float64) @ corners + seed

    monkeypatch.setattr(narrative_map, "umap_layout", fake)
    return calls


def test_map_layout_places_a_few_added_texts_by_their_neighbours(umap_calls):
    import json

    from narrative.figures.narrative_map import map_layout

    old_vectors, old_keys = _clusters(25, 0), _keys(0, 100)
    first = json.loads(json.dumps(map_layout(old_vectors, old_keys, seed=3, basis={"m": "x"})))
    assert umap_calls == [100] and first["full"] and all(first["umap"])
    new_vectors, new_keys = _clusters(2, 1, centres=(1, 3)), _keys(100, 104)
    vectors, keys = np.vstack([old_vectors, new_vectors]), old_keys + new_keys
    second = map_layout(vectors, keys, seed=3, basis={"m": "x"}, previous=first)
    assert umap_calls == [100], "4 added texts: no UMAP"
    assert not second["full"] and second["placed_now"] == 4
    assert second["x"][:100] == first["x"] and second["y"][:100] == first["y"]  # exactly kept
    assert second["umap"] == [True] * 100 + [False] * 4
    xy = np.column_stack([second["x"], second["y"]])
    for row, cluster in zip(range(100, 104), (1, 1, 3, 3)):
        members = xy[cluster * 25:(cluster + 1) * 25]
        assert np.linalg.norm(xy[row] - members.mean(axis=0)) < 1.0, (row, cluster)
        others = np.delete(xy[:100], np.s_[cluster * 25:(cluster + 1) * 25], axis=0)
        assert np.linalg.norm(others - xy[row], axis=1).min() > 3.0
    again = map_layout(vectors, keys, seed=3, basis={"m": "x"}, previous=first)
    assert again == second  # same inputs, same previous: the same map
    # the placed points count against the share: 104 -> 130 leaves 100/130 < 80% from UMAP
    more = np.vstack([vectors, _clusters(13, 2, centres=(0, 2))])
    third = map_layout(more, keys + _keys(104, 130), seed=3, basis={"m": "x"}, previous=second)
    assert third["full"] and umap_calls == [100, 130] and all(third["umap"])


def test_map_layout_runs_umap_afresh_when_it_cannot_update(umap_calls):
    from narrative.figures.narrative_map import MIN_UMAP_SHARE, map_layout

    vectors, keys = _clusters(25, 0), _keys(0, 100)
    first = map_layout(vectors, keys, seed=3, basis={"m": "x"})
    many = np.vstack([vectors, _clusters(8, 1)])  # 32 added: 100/132 < 80% laid out by UMAP
    assert 100 / 132 < MIN_UMAP_SHARE
    assert map_layout(many, keys + _keys(100, 132), seed=3, basis={"m": "x"},
                      previous=first)["full"]
    for changed in ({"seed": 4}, {"basis": {"m": "other model"}}, {"n_neighbors": 5}):
        args = {"seed": 3, "basis": {"m": "x"}, **changed}
        assert map_layout(vectors, keys, previous=first, **args)["full"], changed
    broken = {**first, "x": first["x"][:-1]}
    assert map_layout(vectors, keys, seed=3, basis={"m": "x"}, previous=broken)["full"]
    assert len(umap_calls) == 6
    kept = map_layout(vectors[:90], keys[:90], seed=3, basis={"m": "x"}, previous=first)
    assert not kept["full"] and kept["x"] == first["x"][:90] and len(umap_calls) == 6
    assert map_layout(vectors[:3], keys[:3])["key"] == []


@pytest.mark.slow
def test_map_points_umap_is_deterministic():
    from narrative.figures import map_points

    rng = np.random.default_rng(0)
    vectors = np.vstack([rng.normal(c, 0.3, (20, 8)) for c in (0.0, 3.0)])
    names = ["A"] * 20 + ["B"] * 20
    first = map_points(vectors, names, seed=3)
    assert list(first.columns) == ["x", "y", "narrative", "row"] and len(first) == 40
    assert first.equals(map_points(vectors, names, seed=3))
    centre = first.groupby("narrative")[["x", "y"]].median()
    spread = first.groupby("narrative")[["x", "y"]].std().to_numpy().max()
    assert np.linalg.norm(centre.loc["A"] - centre.loc["B"]) > 2 * spread
    assert map_points(vectors[:3], names[:3]).empty


def test_wrap_label_two_lines_cut_and_literal():
    from narrative.figures.style import wrap_label

    assert wrap_label("Peace talks and summits", 26) == "Peace talks and summits"
    lines = wrap_label("strings festival, museum, quartet orleans extra words", 16).split("\n")
    assert len(lines) == 2 and all(len(line) <= 16 for line in lines) and lines[1].endswith("\u2026")
    assert wrap_label("$5 $ale", 20) == r"\$5 \$ale"


def test_percent_formatter_never_rounds_a_tick_to_a_wrong_value():
    from narrative.figures.style import percent_formatter

    fmt = percent_formatter()
    assert [fmt(v) for v in (0.0, 0.2, 0.025, 0.125)] == ["0%", "20%", "2.5%", "12.5%"]


def test_a_single_period_draws_without_date_locator_warnings():
    import warnings

    from narrative.figures import figure_to_svg_bytes

    one = pd.DataFrame(
        [{"period": "2024-01-01", "outlet": o, "narrative": n, "share": 0.5, "ci_low": 0.4,
          "ci_high": 0.6, "n_articles": 3} for o in ["all", "Правда"] for n in ["A", "B"]]
    )
    divergence = pd.DataFrame({"period": ["2024-01-01"], "outlet": ["Правда"], "js_baseline": [0.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fig in (plot_share_over_time(one), plot_share_over_time(one, layout="panels"),
                    plot_outlet_small_multiples(one, include_all=True), plot_divergence(divergence)):
            figure_to_png_bytes(fig)
            figure_to_svg_bytes(fig)
    fig = plot_outlet_small_multiples(one, narratives=["B"], include_all=True)
    assert [ax.get_title() for ax in fig.axes] == ["all outlets", "Правда"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2024-01-01"]


def _ticks_in_view(ax) -> list[str]:
    """The x ticks inside the view, as ``YYYY-MM-DD HH:MM``."""
    lo, hi = ax.get_xlim()
    return [num2date(v).strftime("%Y-%m-%d %H:%M") for v in ax.get_xticks() if lo <= v <= hi]


def _one_narrative(periods, outlets=("all",), insufficient=False) -> pd.DataFrame:
    return pd.DataFrame(
        [{"period": p, "outlet": o, "narrative": "A", "share": 0.3, "n_articles": 1,
          "insufficient": insufficient} for p in periods for o in outlets]
    )


def test_periods_of_gaps_only_or_one_day_apart_tick_their_dates_without_warnings():
    """Every share of a period a gap (too few articles: NaN), or periods one day apart: the date
    axis shows those dates, without AutoDateLocator's warning. (Gaps only left the axis at 1970's
    default range, 26 hours, ticked in hours and warned: once per narrative figure of the seed
    corpus; consecutive days were ticked in hours too.)"""
    import warnings

    from narrative.figures import figure_to_svg_bytes

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = plot_outlet_small_multiples(
            _one_narrative(["2024-01-01"], insufficient=True), narratives=["A"], include_all=True,
        )
        figure_to_png_bytes(one)
        figure_to_svg_bytes(one)
        (ax,) = one.axes
        assert _ticks_in_view(ax) == ["2024-01-01 00:00"]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["2024-01-01"]

        two = plot_outlet_small_multiples(
            _one_narrative(["2025-08-18", "2025-09-01"], insufficient=True), narratives=["A"],
            include_all=True,
        )
        figure_to_png_bytes(two)
        (ax,) = two.axes
        lo, hi = (num2date(v).strftime("%Y-%m-%d") for v in ax.get_xlim())
        assert "2025-08-17" <= lo <= "2025-08-18" and "2025-09-01" <= hi <= "2025-09-02"
        assert _ticks_in_view(ax) and all(t.startswith("2025-") for t in _ticks_in_view(ax))

        days = _one_narrative(["2024-05-01", "2024-05-02"], outlets=("all", "Правда"))
        divergence = pd.DataFrame({"period": ["2024-05-01", "2024-05-02"], "outlet": "Правда",
                                   "js_baseline": [0.0, 0.1]})
        for fig in (plot_outlet_small_multiples(days, include_all=True),
                    plot_share_over_time(days, layout="panels"), plot_share_over_time(days),
                    plot_divergence(divergence)):
            figure_to_png_bytes(fig)
            figure_to_svg_bytes(fig)
            assert _ticks_in_view(fig.axes[0]) == ["2024-05-01 00:00", "2024-05-02 00:00"]


def test_a_panel_of_one_period_does_not_narrow_the_shared_date_axis():
    """Panels share one date axis: a later panel with one period must not cut the others' to it."""
    rows = _one_narrative(PERIODS)
    rows = pd.concat([rows, _one_narrative(PERIODS[-1:], outlets=("Правда",))], ignore_index=True)
    fig = plot_outlet_small_multiples(rows, narratives=["A"], include_all=True)
    figure_to_png_bytes(fig)
    for ax in fig.axes:
        lo, hi = (num2date(v).strftime("%Y-%m-%d") for v in ax.get_xlim())
        assert lo <= PERIODS[0] and hi >= PERIODS[-1], ax.get_title()


def test_large_map_gives_umap_exact_neighbours_not_pynndescent(monkeypatch):
    import umap

    from narrative.figures import narrative_map

    seen = {}

    class FakeUMAP:
        def __init__(self, **kwargs):
            seen.update(kwargs)

        def fit_transform(self, x):
            return np.zeros((len(x), 2))

    monkeypatch.setattr(umap, "UMAP", FakeUMAP)
    rng = np.random.default_rng(0)
    big = rng.normal(size=(narrative_map.UMAP_EXACT_KNN_BELOW, 8))
    narrative_map.umap_layout(big, seed=1, n_neighbors=15)
    indices, distances, index = seen["precomputed_knn"]
    assert indices.shape == distances.shape == (len(big), 15) and index is None
    seen.clear()
    narrative_map.umap_layout(big[:100], seed=1)  # below umap's own exact threshold: left to it
    assert seen["precomputed_knn"] == (None, None, None)

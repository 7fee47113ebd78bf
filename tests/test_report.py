"""Reports: hostile text stays text in HTML and PDF; links, CSP, formatting, atomic writes."""

from __future__ import annotations

import base64
import copy
import os
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import narrative.io
from narrative.io import atomic_write_bytes, atomic_write_text
from narrative.report import (
    Evidence,
    FigureRef,
    NarrativeSection,
    ReportModel,
    Section,
    Table,
    render_html,
    write_html,
)
from narrative.report.html import num, pct, safe_relative_href, safe_url
from tests.synthetic_run import FAST_LAYOUT, fast_layout, synthetic_run

from .html_tags import TagCollector

HOSTILE = (
    '<script>alert(1)</script> "><img src=x onerror=alert(2)> javascript:alert(3) {{7*7}} '
    "\u2028 tail"
)
GOOD_URL = "https://example.org/story?id=1&x=2"


def _tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A valid grey RGB PNG, built by hand so the test needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


PNG = _tiny_png()


def hostile_model() -> ReportModel:
    """A model whose every string field carries the hostile payload."""
    h = HOSTILE
    return ReportModel(
        title=f"Title {h}",
        subtitle=f"Subtitle {h}",
        summary=[f"Summary {h}"],
        corpus={"n_articles": 1234, f"key {h}": f"value {h}", "outlets": ["Правда", h]},
        narratives=[
            NarrativeSection(
                narrative_id=3, label=f"Label {h}", kind="named", description=f"Description {h}",
                size=120, share=0.25, top_terms=[f"term {h}"],
                evidence=[
                    Evidence(text=f"Evidence {h}", outlet="Правда", date="2024-01-08",
                             title=f"Story {h}", url=GOOD_URL, source=f"source {h}"),
                    Evidence(text=f"Second {h}", outlet=f"Outlet {h}", date=h, title=f"T {h}",
                             url="javascript:alert(3)", source=None),
                ],
                figure="share",
                subnarratives=[(f"Sub {h}", 40)],
            ),
            NarrativeSection(
                narrative_id=-1, label=h, kind=h, description=None, size=5, share=0.01,
                top_terms=[], evidence=[Evidence(text=h, outlet=None, date=None, title=None,
                                                 url=f"  javascript:{h}", source=None)],
                figure=f"missing {h}",
            ),
        ],
        figures=[
            FigureRef(key="share", title=f"Figure {h}", caption=f"Caption {h}", png=PNG,
                      svg_path="figures/share.svg"),
            FigureRef(key=f"other {h}", title=f"Other {h}", caption=h, png=PNG,
                      svg_path="javascript:alert(1)"),
            FigureRef(key=f"section figure {h}", title=f"In section {h}", caption=h, png=PNG),
        ],
        tables=[Table(key=f"table {h}", title=f"Table {h}", columns=["a", f"col {h}"],
                      rows=[[1, f"cell {h}"], [None, 0.5]]),
                Table(key="section-table", title=f"Section table {h}", columns=["when", "x"],
                      rows=[["2024-01-08", f"row {h}"]])],
        methods={"seed": 7, f"setting {h}": {"nested": [h, {"deep": h}]}, "codebook": [{"name": h}]},
        warnings=[f"Warning {h}"],
        sections=[
            Section(key=f"analysis {h}", title=f"Analysis {h}", text=[f"Sentence {h}"],
                    figures=[f"section figure {h}"], tables=["section-table", f"absent {h}"]),
        ],
        appendix=[Section(key="stability", title=f"Stability {h}", text=[f"Stable {h}"])],
    )


@pytest.fixture(scope="module")
def page() -> tuple[str, TagCollector]:
    html = render_html(hostile_model())
    parser = TagCollector()
    parser.feed(html)
    parser.close()
    return html, parser


# -- HTML safety ------------------------------------------------------------------------------------


def test_html_has_no_script_no_handlers_no_javascript_links(page):
    html, parsed = page
    names = [tag for tag, _ in parsed.tags]
    assert "script" not in names
    for banned in ("iframe", "object", "embed", "base", "form", "link"):
        assert banned not in names
    for tag, attrs in parsed.tags:
        for attr, value in attrs.items():
            assert not attr.lower().startswith("on"), (tag, attr)
            if attr in ("href", "src"):
                assert not (value or "").strip().lower().startswith("javascript:"), (tag, value)
    assert "<script" not in html.lower()


def test_html_head_has_csp_referrer_and_charset(page):
    _, parsed = page
    metas = [attrs for tag, attrs in parsed.tags if tag == "meta"]
    assert {"charset": "utf-8"} in metas
    csp = [m["content"] for m in metas if (m.get("http-equiv") or "").lower()
           == "content-security-policy"]
    assert len(csp) == 1
    assert "default-src 'none'" in csp[0] and "img-src data:" in csp[0]
    assert "script-src" not in csp[0] and "base-uri 'none'" in csp[0]
    assert {"name": "referrer", "content": "no-referrer"} in metas


def test_html_makes_no_external_request(page):
    _, parsed = page
    for tag, attrs in parsed.tags:
        if "src" in attrs:
            assert attrs["src"].startswith("data:image/png;base64,"), (tag, attrs["src"])
    images = [attrs["src"] for tag, attrs in parsed.tags if tag == "img"]
    assert images and all(base64.b64decode(s.split(",", 1)[1]) == PNG for s in images)


def test_html_shows_hostile_text_literally(page):
    html, parsed = page
    text = "".join(parsed.text)
    assert f"Title {HOSTILE}" in text  # escaped on the wire, intact once parsed (U+2028 included)
    assert f"Evidence {HOSTILE}" in text and f"cell {HOSTILE}" in text
    assert f"Sub {HOSTILE}" in text  # sub-narrative labels are article-derived text too
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{7*7}}" in text and "alert(3) 49" not in text


def test_html_links_only_http_urls(page):
    _, parsed = page
    links = [attrs for tag, attrs in parsed.tags if tag == "a"]
    external = [a for a in links if not a["href"].startswith("#")]
    hrefs = sorted(a["href"] for a in external)
    assert hrefs == sorted([GOOD_URL, "figures/share.svg"])
    for a in external:
        assert set(a["rel"].split()) >= {"noopener", "noreferrer", "nofollow"}
    text = "".join(parsed.text)
    assert "javascript:alert(3)" in text  # the rejected URL is still shown, as text


def test_html_ids_are_slugs_unique_and_toc_targets_exist(page):
    _, parsed = page
    ids = [attrs["id"] for _, attrs in parsed.tags if "id" in attrs]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids)
    targets = {a["href"][1:] for t, a in parsed.tags if t == "a" and a["href"].startswith("#")}
    assert targets and targets <= set(ids)


def test_html_sections_and_narrative_content(page):
    _, parsed = page
    ids = {attrs.get("id") for _, attrs in parsed.tags}
    assert {"findings", "corpus", "figures", "narratives", "tables", "methods", "warnings"} <= ids
    text = "".join(parsed.text)
    assert "120 paragraphs" in text and "25% of all paragraphs" in text and "1,234" in text
    assert "Number of articles" in text
    classes = [attrs.get("class", "") for _, attrs in parsed.tags]
    assert "badge badge-named" in classes and "badge badge-other" in classes


def test_html_analysis_sections_hold_their_figures_and_tables(page):
    html, parsed = page
    ids = [attrs.get("id") for _, attrs in parsed.tags if attrs.get("id")]
    section_ids = [i for i in ids if i.startswith("section-")]
    assert len(section_ids) == 1 and "appendix-stability" in ids
    # order: overview figures, then the analysis section, then narratives; appendix inside methods
    assert ids.index("figures") < ids.index(section_ids[0]) < ids.index("narratives")
    assert ids.index("methods") < ids.index("appendix-stability")
    text = "".join(parsed.text)
    assert f"Sentence {HOSTILE}" in text and f"Stable {HOSTILE}" in text
    assert f"\u201c{'absent ' + HOSTILE}\u201d is not in this report" in text
    # the section's figure and table are shown there, once, and not again in the general lists
    start, end = html.index(f'id="{section_ids[0]}"'), html.index('id="narratives"')
    assert html.count("In section") == 2  # alt text and caption, inside the section only
    assert start < html.index("In section") < end
    assert html.count("Section table") == 1 and start < html.index("Section table") < end
    toc = html[html.index('<nav class="toc"'):html.index("</nav>")]
    assert f'href="#{section_ids[0]}"' in toc and 'href="#appendix-stability"' in toc
    classes = {attrs.get("class") for tag, attrs in parsed.tags if tag == "td"}
    assert "short" in classes  # the date cell stays on one line


def test_figures_are_shown_at_their_drawn_size(page):
    _, parsed = page
    widths = {attrs.get("width") for tag, attrs in parsed.tags if tag == "img"}
    assert widths == {"2"}  # the 4-pixel test PNG, drawn at 200 dpi -> 2 CSS pixels


def test_render_is_deterministic_and_leaves_model_alone():
    model = hostile_model()
    before = repr(model)
    assert render_html(model) == render_html(copy.deepcopy(model))
    assert repr(model) == before


def test_unprintable_characters_do_not_break_the_file(tmp_path):
    model = hostile_model()
    model.summary = ["NUL\x00 bell\x07 lone surrogate \ud800 end"]
    path = write_html(model, tmp_path / "report.html")
    text = path.read_bytes().decode("utf-8")  # valid UTF-8
    assert "\x00" not in text and "\x07" not in text and "lone surrogate \ufffd end" in text
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# -- filters and URL checks -------------------------------------------------------------------------


def test_number_filters():
    assert pct(0.1234) == "12.3%" and pct(None) == "\u2013" and pct(float("nan")) == "\u2013"
    assert num(1234567) == "1,234,567" and num(True) == "yes" and num(None) == "\u2013"
    assert num(0.000123) == "0.000123" and num(3.14159) == "3.14" and num(2.0) == "2"


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " https://x.org", "java\tscript:alert(1)",
     "data:text/html,<script>", "https://user:pw@evil.example", "//evil.example", "ftp://x.org",
     "https://x.org/\u2028", "https://", "vbscript:msgbox", "https://x.org\\@evil.example", None, 5],
)
def test_safe_url_rejects(url):
    assert safe_url(url) is None


@pytest.mark.parametrize("url", ["https://example.org/a?b=1&c=2#f", "http://x.org", "HTTPS://X.ORG/"])
def test_safe_url_accepts(url):
    assert safe_url(url) == url


def test_safe_relative_href():
    assert safe_relative_href("figures/a b.svg") == "figures/a%20b.svg"
    for bad in ("/etc/passwd", "../x.svg", "javascript:alert(1)", "C:\\x.svg", "", None, "a//b"):
        assert safe_relative_href(bad) is None


# -- PDF -----------------------------------------------------------------------------------------------


def test_pdf_writes_same_bytes_with_cyrillic_and_literal_markup(tmp_path):
    pytest.importorskip("reportlab")
    from narrative.report import write_pdf

    first = write_pdf(hostile_model(), tmp_path / "a" / "report.pdf")
    second = write_pdf(hostile_model(), tmp_path / "b" / "report.pdf")
    data = first.read_bytes()
    assert data.startswith(b"%PDF")
    assert data == second.read_bytes()  # invariant: no timestamp or random id
    assert [p.name for p in first.parent.iterdir()] == ["report.pdf"]

    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(first)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Правда" in text
    assert "<script>alert(1)</script>" in text
    assert "onerror=alert(2)>" in text
    flat = " ".join(text.split())
    assert "Analysis <script>" in flat and "Sentence <script>" in flat and "Stable <script>" in flat
    assert flat.index("Analysis <script>") < flat.index("Narratives") < flat.index("Stable <script>")


def test_pdf_survives_markup_lookalikes(tmp_path):
    pytest.importorskip("reportlab")
    from narrative.report import write_pdf

    model = hostile_model()
    model.summary = ['<b>unclosed <font name="x"> &amp; &bogus; <a href="javascript:x">', "\x00\ud800"]
    model.tables[0].rows.append(["z" * 5000, None, "extra cell beyond the columns"])
    assert write_pdf(model, tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


# -- atomic writes -------------------------------------------------------------------------------------


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second \u2028 ok")
    assert target.read_text(encoding="utf-8") == "second \u2028 ok"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_atomic_write_interrupted_leaves_old_file_and_no_temp(tmp_path, monkeypatch, error):
    target = tmp_path / "report.html"
    target.write_bytes(b"old")

    def interrupted(fd):  # the data is in the temporary file by now; the rename has not happened
        raise error("interrupted mid-write")

    monkeypatch.setattr(narrative.io.os, "fsync", interrupted)
    with pytest.raises(error):
        atomic_write_bytes(target, b"new content")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_atomic_write_failed_rename_leaves_no_temp(tmp_path, monkeypatch):
    def no_replace(src, dst):
        assert Path(src).name.startswith(".") and Path(src).name.endswith(".tmp")
        raise PermissionError("target locked")

    monkeypatch.setattr(narrative.io.os, "replace", no_replace)
    with pytest.raises(PermissionError):
        atomic_write_bytes(tmp_path / "x.bin", b"data")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_atomic_write_rejects_wrong_types(tmp_path):
    with pytest.raises(TypeError):
        atomic_write_bytes(tmp_path / "x", "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        atomic_write_text(tmp_path / "x", b"bytes")  # type: ignore[arg-type]


# -- the assembled report of a small synthetic run ------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic_report(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(FAST_LAYOUT, fast_layout)
    folder = tmp_path_factory.mktemp("synthetic")
    store, settings = synthetic_run(
        folder, stability={"ari_mean": 0.91, "ari_min": 0.87, "n_seeds": 5, "method": "seeds"}
    )
    from narrative.pipeline import write_report

    try:
        paths = write_report(store, "run1", folder / "out", settings=settings)
    finally:
        store.close()
        monkeypatch.undo()
    return folder / "out", paths


def test_report_has_the_analysis_sections_and_appendix(synthetic_report):
    out, paths = synthetic_report
    html = paths["html"].read_text(encoding="utf-8")
    parsed = TagCollector()
    parsed.feed(html)
    ids = {attrs.get("id") for _, attrs in parsed.tags}
    assert {"section-map", "section-divergence", "section-emerging", "section-framing",
            "section-syndication"} <= ids
    assert {"appendix-quality", "appendix-coverage", "appendix-stability"} <= ids
    text = " ".join("".join(parsed.text).split())
    assert "Stability across seeds: mean ARI 0.91, lowest 0.87 over 5 seeds (seeds)" in text
    assert "8 of 56 articles (14%) are copies of another article" in text
    # the ingest decided the direction by the dates (Mirror's copies are a day later)
    assert "Mirror carrying Wire's articles (8; the original is dated earlier)" in text
    assert "Collection window of each outlet" in text and "Quality by narrative" in text
    assert "<script" not in html.lower()


def test_report_writes_every_figure_as_png_and_svg(synthetic_report):
    out, _ = synthetic_report
    names = sorted(p.name for p in (out / "figures").iterdir())
    for stem in ("headline", "share-over-time", "outlet-heatmap", "share-by-outlet",
                 "narrative-map", "divergence"):
        assert f"{stem}.png" in names and f"{stem}.svg" in names, stem
    png = (out / "figures" / "divergence.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_report_pdf_has_the_new_sections(synthetic_report):
    pypdf = pytest.importorskip("pypdf")
    _, paths = synthetic_report
    text = " ".join(
        " ".join(page.extract_text() for page in pypdf.PdfReader(paths["pdf"]).pages).split()
    )
    for title in ("Narrative map", "Divergence and change points", "Emerging and fading",
                  "Framing shift", "Syndication", "Quality scores", "Coverage windows",
                  "Stability across seeds: mean ARI 0.91"):
        assert title in text, title


def test_stability_not_measured_and_no_copies(tmp_path, monkeypatch):
    monkeypatch.setattr(FAST_LAYOUT, fast_layout)
    from narrative.drift import compute_drift
    from narrative.report.assemble import assemble_report

    store, settings = synthetic_run(tmp_path, stability=None)
    with store:
        store.con.execute("UPDATE articles SET duplicate_of = NULL").fetchall()
        drift = compute_drift(store, "run1", settings=settings)
        model = assemble_report(store, "run1", drift, out_dir=tmp_path / "out",
                                settings=settings, timings={})
    appendix = {s.key: s for s in model.appendix}
    assert appendix["stability"].text == ["Stability across seeds: not measured for this run."]
    sections = {s.key: s for s in model.sections}
    assert "syndication" not in sections  # no copies: a view with nothing to show is left out
    assert not (tmp_path / "out" / "figures" / "syndication.png").exists()
    assert not any("Stability" in s for s in model.summary)


# -- the map section: a layout that stays put across re-runs -------------------------------------


class _MapStore:
    """What the map section reads from a store: the run's model and embeddings by text hash."""

    def __init__(self, vectors: dict[str, np.ndarray], model: str = "m") -> None:
        self.vectors, self.model, self.asked = vectors, model, []

    def run(self, run_id):
        return {"settings": {"embedding_model": self.model}}

    def get_embeddings(self, hashes, model_id):
        self.asked.append(len(hashes))
        return np.stack([self.vectors[h] for h in hashes])


def _map_texts(start: int, stop: int, seed: int) -> tuple[list[str], np.ndarray, list[str]]:
    """Texts ``start..stop`` in 4 clusters (one direction of an 8-D space each, by number), with
    hash-like keys and the cluster's narrative name."""
    import hashlib

    numbers = range(start, stop)
    keys = [hashlib.sha256(f"text {i}".encode()).hexdigest() for i in numbers]
    rng = np.random.default_rng(seed)
    vectors = np.vstack([np.eye(8)[i % 4] + rng.normal(0, 0.05, 8) for i in numbers])
    return keys, vectors, [f"N{i % 4}" for i in numbers]


def _map_report(folder, keys, vectors, names, *, model="m", seed=0):
    """The map section of one report written to ``folder`` (its cache read, then saved): the
    section and the points handed to the plot."""
    from types import SimpleNamespace

    from narrative.report.cache import ReportCache
    from narrative.report.sections import map_section

    store = _MapStore(dict(zip(keys, vectors)), model)
    drift = SimpleNamespace(
        paragraphs=pd.DataFrame({"text_hash": keys, "narrative": names}),
        narrative_order=sorted(set(names)))
    cache = ReportCache(folder, salt="s")
    plots = {}
    section, _ = map_section(store, "run", drift, lambda key, plot, *_: plots.update({key: plot}),
                             {}, default_model=model, seed=seed, cache=cache)
    cache.save()
    return section, plots["narrative-map"].args[0]


@pytest.fixture
def layouts(monkeypatch):
    """Count UMAP runs (each a stand-in: a fixed projection of the 8-D clusters)."""
    calls = []
    corners = np.array([[0, 0], [10, 0], [0, 10], [10, 10]] + [[5, 5]] * 4, dtype=float)

    def fake(vectors, *, seed=0, **_):
        calls.append(len(vectors))
        return np.asarray(vectors, dtype=np.float64) @ corners

    monkeypatch.setattr(FAST_LAYOUT, fake)
    return calls


def test_map_section_relabelled_narratives_reuse_the_layout(tmp_path, layouts):
    keys, vectors, names = _map_texts(0, 100, 0)
    _, first = _map_report(tmp_path, keys, vectors, names)
    renamed = [f"renamed {n}" for n in names]
    _, second = _map_report(tmp_path, keys, vectors, renamed)
    assert layouts == [100]
    assert second[["x", "y"]].equals(first[["x", "y"]])
    assert second["narrative"].tolist() == [dict(zip(keys, renamed))[k] for k in sorted(keys)]


def test_map_section_places_a_few_added_texts_and_says_so(tmp_path, layouts):
    keys, vectors, names = _map_texts(0, 100, 0)
    _, first = _map_report(tmp_path, keys, vectors, names)
    more_keys, more_vectors, more_names = _map_texts(100, 105, 1)
    section, second = _map_report(tmp_path, keys + more_keys, np.vstack([vectors, more_vectors]),
                                  names + more_names)
    assert layouts == [100], "5 added texts: no UMAP"
    by_key = second.set_index(np.array(sorted(keys + more_keys)))
    old = first.set_index(np.array(sorted(keys)))
    assert by_key.loc[old.index, ["x", "y"]].equals(old[["x", "y"]])  # exactly where they were
    corners = {"N0": (0, 0), "N1": (10, 0), "N2": (0, 10), "N3": (10, 10)}
    for key, name in zip(more_keys, more_names):
        assert np.hypot(*(by_key.loc[key, ["x", "y"]].to_numpy(float) - corners[name])) < 1.0
    said = " ".join(section.text)
    assert "5 of the 105 dots are texts added since the last full UMAP" in said and "80%" in said
    # unchanged inputs: the stored layout itself, identical
    section_again, again = _map_report(tmp_path, keys + more_keys,
                                       np.vstack([vectors, more_vectors]), names + more_names)
    assert layouts == [100] and again.equals(second) and section_again.text == section.text
    # 2 more: 7 placed since the last UMAP, 2 of them now
    two_keys, two_vectors, two_names = _map_texts(105, 107, 3)
    section, _ = _map_report(tmp_path, keys + more_keys + two_keys,
                             np.vstack([vectors, more_vectors, two_vectors]),
                             names + more_names + two_names)
    assert layouts == [100]
    assert "7 of the 107 dots (2 of them at the latest update)" in section.text[1]
    # 30 more: 100 of 135 from UMAP is under 80%, so UMAP lays the map out afresh
    many_keys, many_vectors, many_names = _map_texts(105, 135, 2)
    section, _ = _map_report(tmp_path, keys + more_keys + many_keys,
                             np.vstack([vectors, more_vectors, many_vectors]),
                             names + more_names + many_names)
    assert layouts == [100, 135] and len(section.text) == 1  # no sentence on placed dots


def test_map_section_new_model_or_seed_means_a_new_layout(tmp_path, layouts):
    keys, vectors, names = _map_texts(0, 40, 0)
    more_keys, more_vectors, more_names = _map_texts(40, 42, 1)
    _map_report(tmp_path, keys, vectors, names)
    _map_report(tmp_path, keys + more_keys, np.vstack([vectors, more_vectors]),
                names + more_names, model="other")
    _map_report(tmp_path, keys, vectors, names, model="other", seed=5)
    assert layouts == [40, 42, 40]


def test_map_section_sample_survives_additions(tmp_path, layouts, monkeypatch):
    from narrative.figures import narrative_map

    monkeypatch.setattr(narrative_map, "MAX_MAP_POINTS", 200)
    keys, vectors, names = _map_texts(0, 1_000, 0)
    section, first = _map_report(tmp_path, keys, vectors, names)
    assert len(first) == 200 and "A seeded sample of 200 of the 1,000 texts" in section.text[0]
    more_keys, more_vectors, more_names = _map_texts(1_000, 1_030, 1)
    _, second = _map_report(tmp_path, keys + more_keys, np.vstack([vectors, more_vectors]),
                            names + more_names)
    assert layouts == [200] and len(second) == 200
    kept = first.merge(second, on=["x", "y"])  # points still there, at the same place
    assert len(kept) >= 180  # about 200 * 30 / 1,030 = 6 swapped


def test_pdf_column_widths_fit_the_page_and_follow_the_text():
    from narrative.report.pdf import _column_widths

    table = Table(key="t", title="t", columns=["narrative", "status", "weeks"],
                  rows=[["strings festival, museum, quartet orleans", "fading", 3]])
    widths = _column_widths(table, 3, 480.0)
    assert sum(widths) == pytest.approx(480.0)
    assert widths[0] > widths[1] > 0 and widths[0] > widths[2]
    assert widths[1] >= len("status") * 5.8 + 12  # a header word is never broken
    crowded = Table(key="c", title="c", columns=["x"] * 12, rows=[["z" * 5000] * 12])
    assert all(w > 12 for w in _column_widths(crowded, 12, 480.0))  # room beyond the padding

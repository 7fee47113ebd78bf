"""Hostile article content, read by ``narrative build`` from a JSONL file, stays inert.

tests/test_report.py checks the renderers on a hand-made ReportModel and tests/test_report_render.py
a corpus with payloads in outlet, title, URL and text. This battery adds what those leave out: the
payloads arrive through the command line in every field (author and id included), text shaped like
Jinja statements or ReportLab markup prints literally, and titles written as Python never run when
the shipped notebooks are pointed at the corpus.
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from ..html_tags import TagCollector
from ..notebook_runner import DATA_CELL_MARK, EXPECTED, NOTEBOOKS, execute, source, text_outputs
from ..notebook_runner import kernel_dir  # noqa: F401  (a fixture: the kernel that runs this interpreter)
from .conftest import IMG, JS_URL, PDF_MARKUP, SCRIPT, SENTINEL_NAME, TEMPLATE

pytestmark = pytest.mark.slow


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_html_report_has_no_live_markup_from_any_field(clean_build):
    raw = (clean_build.out / "report.html").read_text(encoding="utf-8")
    page = TagCollector()
    page.feed(raw)
    for tag, attrs in page.tags:
        assert tag not in ("script", "iframe", "object", "embed", "base", "form"), f"<{tag}> in the report"
        assert not [a for a in attrs if a.lower().startswith("on")], f"<{tag}> has an event handler: {attrs}"
        for name in ("href", "src", "action", "formaction", "xlink:href"):
            value = "".join((attrs.get(name) or "").split()).lower()
            assert not value.startswith(("javascript:", "vbscript:", "data:text")), f"<{tag} {name}={value!r}>"
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/png;base64,"), "only inline figures"
    text = _flat(" ".join(page.text))
    for needle in (SCRIPT, IMG, JS_URL):
        assert needle in text, f"{needle!r} is not shown as text"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_template_and_pdf_markup_in_text_print_literally_in_html(clean_build):
    raw = (clean_build.out / "report.html").read_text(encoding="utf-8")
    page = TagCollector()
    page.feed(raw)
    text = _flat(" ".join(page.text))
    assert TEMPLATE in text, "Jinja-like text is printed as written"
    assert "loop loop" not in text and "looploop" not in text, "a {% for %} in the data ran"
    assert _flat(PDF_MARKUP) in text
    assert not [tag for tag, _ in page.tags if tag in ("font", "para")], "markup from the data became tags"


def test_pdf_report_prints_markup_lookalikes_literally(clean_build):
    from pypdf import PdfReader

    reader = PdfReader(clean_build.out / "report.pdf")
    text = _flat(" ".join(page.extract_text() or "" for page in reader.pages))
    for needle in (SCRIPT, "onerror=alert(2)>", "{{7*7}}", "{% for x in range(3) %}", "<b>bold</b>",
                   '<font color="red">red</font>', "& &amp; &bogus;"):
        assert needle in text, f"{needle!r} is missing from the PDF text"
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A") or {}
            uri = str(action.get("/URI", "")) if hasattr(action, "get") else ""
            assert not uri.lower().startswith("javascript:"), uri
            assert "/JS" not in action


def _point_at(nb, *, corpus, work, reports):
    """Replace the notebook's data cell with one that names the hostile corpus and our folders."""
    cell = next(c for c in nb.cells if c.cell_type == "code" and source(c).startswith(DATA_CELL_MARK))
    cell.source = "\n".join([
        DATA_CELL_MARK,
        f"SOURCES = [Path({str(corpus)!r})]",
        "MANIFEST = None",
        "CODEBOOK = None",
        f"WORK_DIR = Path({str(work)!r})",
        f"REPORTS_DIR = Path({str(reports)!r})",
        "REPORT_NAME = 'hostile'",
        "TITLE = 'Hostile corpus'",
        "SEED = 7  # the seed of the shared build, so its saved run is reused",
    ])
    return nb


def test_titles_written_as_python_never_run_in_the_shipped_notebooks(tmp_path, clean_build, corpus_file, kernel_dir):  # noqa: F811
    sentinel = corpus_file.parent / SENTINEL_NAME
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy2(clean_build.out / "narrative.duckdb", work / "narrative.duckdb")
    shutil.copytree(clean_build.out / "models", work / "models")
    outputs, views = [], []
    for name in EXPECTED:  # 0 shows the titles, 1 curates, 2 draws the interactive views, 3 builds the report
        nb = _point_at(nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4),
                       corpus=corpus_file, work=work, reports=tmp_path / "reports")
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, path)
        ran = execute(path, tmp_path, kernel_dir)
        outputs.append(text_outputs(ran))
        views += _plotly_outputs(ran)
        assert not sentinel.exists(), f"a title ran as code in {name}"
    shown = "\n".join(outputs)
    assert 'import os; os.system(' in shown, "the titles are shown, as text"
    assert not sentinel.exists()
    assert views, "notebook 2.01 drew its interactive views"
    for figure in views:
        for trace in figure["data"]:  # meta and legendgroup hold the raw names; plotly never shows them
            trace.pop("meta", None), trace.pop("legendgroup", None)
        raw = json.dumps(figure)
        assert "<script" not in raw and "<img" not in raw, "a name from the articles is plotly markup"


def _plotly_outputs(nb) -> list[dict]:
    """The plotly figures a notebook displayed (their JSON)."""
    return [out["data"]["application/vnd.plotly.v1+json"] for cell in nb.cells
            for out in cell.get("outputs", []) if "application/vnd.plotly.v1+json" in out.get("data", {})]

"""reports/index.html: lists every report below a folder, escaped, with relative links."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from narrative.report.html import CONTENT_SECURITY_POLICY
from narrative.report.index import write_index

from .html_tags import TagCollector

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{7*7}}'


def _parse(path: Path) -> TagCollector:
    page = TagCollector()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _report(folder: Path, title: str, subtitle: str = "", *, mtime: float | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body><h1>{title}</h1>"
        f'<p class="subtitle">{subtitle}</p></body></html>'
    )
    path = folder / "report.html"
    path.write_text(html, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _links(page: TagCollector) -> list[str]:
    return [a.get("href") or "" for tag, a in page.tags if tag == "a"]


def test_lists_each_report_newest_first_with_relative_links(tmp_path):
    _report(tmp_path / "older", "Older report", "10 articles", mtime=1_700_000_000)
    _report(tmp_path / "newer", "Newer report", "20 articles", mtime=1_800_000_000)
    _report(tmp_path / "group" / "deep", "Deep report", mtime=1_750_000_000)
    (tmp_path / "newer" / "report.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "no-report").mkdir()

    index = write_index(tmp_path)

    assert index == tmp_path / "index.html"
    page = _parse(index)
    links = _links(page)
    assert links == [
        "newer/report.html", "newer/report.html", "newer/report.pdf",
        "group/deep/report.html", "group/deep/report.html",
        "older/report.html", "older/report.html",
    ]
    text = " ".join(page.text)
    assert text.index("Newer report") < text.index("Deep report") < text.index("Older report")
    assert "20 articles" in text and "10 articles" in text
    assert "2027-01-15" in text  # mtime 1.8e9 s is 2027-01-15 08:00 UTC


def test_sidecar_wins_over_the_html_title(tmp_path):
    _report(tmp_path / "a", "Title from HTML", "subtitle from HTML")
    (tmp_path / "a" / "report.json").write_text(
        json.dumps({"title": "Title from sidecar", "subtitle": "Subtitle from sidecar"}), encoding="utf-8"
    )
    text = " ".join(_parse(write_index(tmp_path)).text)
    assert "Title from sidecar" in text and "Subtitle from sidecar" in text
    assert "Title from HTML" not in text


def test_broken_sidecar_falls_back_to_html(tmp_path):
    _report(tmp_path / "a", "Title from HTML")
    (tmp_path / "a" / "report.json").write_text("{not json", encoding="utf-8")
    assert "Title from HTML" in " ".join(_parse(write_index(tmp_path)).text)


def test_hostile_titles_and_folder_names_are_inert(tmp_path):
    folder = tmp_path / 'x"><img src=x onerror=alert(9)>'
    folder.mkdir()
    (folder / "report.html").write_text("<html><head><title></title></head></html>", encoding="utf-8")
    (folder / "report.json").write_text(
        json.dumps({"title": HOSTILE, "subtitle": "javascript:alert(3)"}), encoding="utf-8"
    )
    index = write_index(tmp_path)
    page = _parse(index)
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "img" not in tags
    for _, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs)
    for href in _links(page):
        assert not href.lower().startswith("javascript:")
        assert '"' not in href and "<" not in href
    text = "".join(page.text)
    assert HOSTILE in text  # shown as text
    raw = index.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    csp = [a.get("content") for tag, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp == [CONTENT_SECURITY_POLICY]


def test_no_reports_gives_an_empty_index_and_rerun_replaces_it(tmp_path):
    index = write_index(tmp_path)
    assert "0 reports" in " ".join(_parse(index).text)
    _report(tmp_path / "first", "First")
    assert "1 report " in " ".join(_parse(write_index(tmp_path)).text) + " "
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_self_contained(tmp_path):
    _report(tmp_path / "a", "A")
    page = _parse(write_index(tmp_path))
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed")
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert "://" not in value, f"external reference in <{tag} {name}={value!r}>"


def test_not_a_folder(tmp_path):
    with pytest.raises(NotADirectoryError):
        write_index(tmp_path / "missing")


def test_the_index_is_written_only_when_asked(tmp_path):
    """A report folder inside one named ``reports`` gets no index.html behind the user's back;
    ``write_report(..., index=True)`` writes it (``narrative demo`` asks for it)."""
    from narrative.pipeline import write_report
    from narrative.store import Store

    from . import tiny_run

    path = tiny_run.build_store(tmp_path, tiny_run.records(["Wire", "Gazette"], weeks=2))
    reports = tmp_path / "reports"
    with Store(path) as store:
        write_report(store, "run1", reports / "plain", settings=tiny_run.settings(),
                     formats=("html",))
        assert not (reports / "index.html").exists()
        paths = write_report(store, "run1", reports / "listed", settings=tiny_run.settings(),
                             formats=("html",), index=True)
    assert paths["index"] == reports / "index.html"
    assert "2 reports" in " ".join(_parse(paths["index"]).text)

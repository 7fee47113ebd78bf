"""The reports as people see them: report.html in headless Chromium, report.pdf as page images,
and hostile article content that must stay inert in both.

The browser and page tests need Debian's ``chromium`` and ``poppler-utils`` (``.ci/install-system-deps``
installs them); without them those tests skip and say why. Set ``NARRATIVE_RENDER_DIR`` to keep the
screenshot and page images for a look.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .html_tags import TagCollector

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOPPM = shutil.which("pdftoppm")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; see .ci/install-system-deps)"
)
needs_pdftoppm = pytest.mark.skipif(
    PDFTOPPM is None, reason="pdftoppm is not installed (apt-get install poppler-utils; see .ci/install-system-deps)"
)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
JS_URL = "javascript:alert(3)"
TEMPLATE = "{{7*7}}"
LINE_SEP = "\u2028"


def _keep(*paths: Path) -> None:
    """Copy rendered images to $NARRATIVE_RENDER_DIR when set (to look at them, or as CI artefacts)."""
    target = os.environ.get("NARRATIVE_RENDER_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copy2(path, Path(target) / path.name)


def _assert_not_blank(png: Path, *, min_ink: float = 0.005) -> None:
    """The image has visible content: grey levels vary and some pixels are clearly not background."""
    from PIL import Image, ImageStat

    with Image.open(png) as image:
        gray = image.convert("L")
        width, height = gray.size
        assert width > 100 and height > 100, f"{png.name} is only {width}x{height}"
        assert ImageStat.Stat(gray).var[0] > 50.0, f"{png.name} is blank (no contrast)"
        histogram = gray.histogram()
        ink = sum(histogram[:160]) / (width * height)
        assert ink > min_ink, f"{png.name} is nearly blank ({ink:.2%} dark pixels)"


def _screenshot(html: Path, png: Path, profile: Path, size: str = "1280,4000") -> None:
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
        f"--window-size={size}", html.resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert png.is_file(), f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"


def _pdf_pages(pdf: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [PDFTOPPM, "-r", "60", "-png", str(pdf), str(out / "page")],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, f"pdftoppm failed: {done.stderr[-2000:]}"
    return sorted(out.glob("page-*.png"), key=lambda p: int(re.findall(r"\d+", p.stem)[-1]))


# -- the demo report, as a reader sees it ------------------------------------------------------


@pytest.fixture(scope="module")
def demo_report(demo_build) -> Path:
    out, result = demo_build  # shared with the end-to-end tests: one demo build per session
    assert result.paths["html"].is_file() and result.paths["pdf"].is_file()
    return out


@pytest.mark.slow
@needs_chromium
def test_report_html_renders_in_headless_chromium(demo_report, tmp_path):
    png = tmp_path / "report-screenshot.png"
    _screenshot(demo_report / "report.html", png, tmp_path / "profile")
    _keep(png)
    from PIL import Image

    with Image.open(png) as image:
        assert image.size == (1280, 4000)
    _assert_not_blank(png, min_ink=0.02)


@pytest.mark.slow
@needs_pdftoppm
def test_report_pdf_renders_to_pages(demo_report, tmp_path):
    from pypdf import PdfReader

    pdf = demo_report / "report.pdf"
    pages = _pdf_pages(pdf, tmp_path / "pages")
    assert len(pages) >= 1
    assert len(pages) == len(PdfReader(pdf).pages)
    _keep(*pages)
    _assert_not_blank(pages[0], min_ink=0.01)
    for page in pages:
        _assert_not_blank(page, min_ink=0.001)


# -- hostile content ---------------------------------------------------------------------------

_TOPICS = [
    "Western governments agreed a new package of sanctions on Russian oil exports, tightening the "
    "price cap and targeting the shadow fleet of tankers that carries crude to buyers in Asia.",
    "Leaders met at a summit in Geneva to discuss a ceasefire and peace talks, with mediators "
    "proposing a framework for negotiations between the two sides over the coming months.",
    "European allies debated security guarantees for Kyiv, including long-term military aid, air "
    "defence systems and a commitment to help rebuild the armed forces after the war ends.",
    "Beijing and Moscow deepened their partnership with new energy deals and joint military "
    "exercises, presenting their alignment as a counterweight to the Western alliance in Asia.",
]
HOSTILE_OUTLET = f"Evil {SCRIPT} Outlet {IMG}"
OTHER_OUTLET = f"Plain{LINE_SEP}Outlet {TEMPLATE}"


def _hostile_corpus(folder: Path) -> Path:
    """Six articles whose outlet, title, URL and text carry every hostile string."""
    lines = []
    for i in range(6):
        paragraphs = [
            topic + (f" {SCRIPT} {IMG} {JS_URL} {TEMPLATE}{LINE_SEP}End of part {j}." if j == 0
                     else f" Report {i}, part {j}.")
            for j, topic in enumerate(_TOPICS)
        ]
        lines.append(json.dumps({
            "id": f"hostile-{i}",
            "outlet": HOSTILE_OUTLET if i % 2 == 0 else OTHER_OUTLET,
            "date": f"2025-06-{2 + 7 * (i % 4):02d}",
            "title": f"Title {i} {SCRIPT} {IMG} {TEMPLATE}{LINE_SEP}end",
            "url": JS_URL if i % 3 else f'https://example.org/{i}?q="><script>alert(4)</script>',
            "text": "\n\n".join(paragraphs),
        }, ensure_ascii=False))
    path = folder / "hostile.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    from narrative.pipeline import build

    folder = tmp_path_factory.mktemp("hostile")
    corpus = _hostile_corpus(folder)
    result = build([corpus], folder / "report", formats=("html", "pdf"))
    assert result.ingest.n_ingested == 6
    return folder / "report"


@pytest.mark.slow
def test_hostile_content_is_inert_in_html(hostile_report):
    from narrative.report.html import CONTENT_SECURITY_POLICY

    raw = (hostile_report / "report.html").read_text(encoding="utf-8")
    page = TagCollector()
    page.feed(raw)
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags
    assert tags.count("img") == sum(
        1 for tag, a in page.tags if tag == "img" and (a.get("src") or "").startswith("data:image/png;base64,")
    ), "every <img> is an inline figure"
    for tag, attrs in page.tags:
        handlers = [name for name in attrs if name.lower().startswith("on")]
        assert not handlers, f"<{tag}> carries event handler(s) {handlers}"
        for name in ("href", "src", "action", "formaction"):
            value = "".join((attrs.get(name) or "").split()).lower()
            assert not value.startswith(("javascript:", "vbscript:", "data:text")), f"<{tag} {name}={value!r}>"
        if tag == "a" and attrs.get("href"):
            href = attrs["href"]
            assert href.startswith(("#", "https://", "http://")) or ":" not in href, href
    csp = [a.get("content") for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp == [CONTENT_SECURITY_POLICY] and "script-src" not in csp[0] and "'none'" in csp[0]

    text = _flat(" ".join(page.text))
    for needle in (SCRIPT, IMG, TEMPLATE, "Evil", JS_URL):
        assert needle in text, f"{needle!r} is not shown as text"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw  # escaped in the source, not dropped
    assert f"Plain Outlet {TEMPLATE}" in text  # not evaluated as a template; U+2028 kept as a space
    assert f'href="{JS_URL}"' not in raw


@pytest.mark.slow
def test_hostile_content_is_literal_in_pdf(hostile_report):
    from pypdf import PdfReader

    reader = PdfReader(hostile_report / "report.pdf")
    text = _flat(" ".join(page.extract_text() or "" for page in reader.pages))
    for needle in (SCRIPT, "onerror=alert(2)>", TEMPLATE, "Evil"):
        assert needle in text, f"{needle!r} is missing from the PDF text"
    for page in reader.pages:  # no link annotation points at a javascript: URL
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A") or {}
            uri = str(action.get("/URI", "")) if hasattr(action, "get") else ""
            assert not uri.lower().startswith("javascript:"), uri
            assert "/JS" not in action


@pytest.mark.slow
@needs_chromium
def test_hostile_report_renders_in_chromium(hostile_report, tmp_path):
    png = tmp_path / "hostile-screenshot.png"
    _screenshot(hostile_report / "report.html", png, tmp_path / "profile", size="1280,2000")
    _keep(png)
    _assert_not_blank(png)


# -- the share figure stays readable with many narratives -----------------------------------------


def test_share_over_time_uses_panels_for_many_narratives():
    import numpy as np
    import pandas as pd

    from narrative.figures import plot_share_over_time
    from narrative.figures.shares import MAX_LINES

    names = [f"narrative {i}" for i in range(MAX_LINES + 4)] + ["unassigned"]
    periods = ["2025-06-02", "2025-06-09", "2025-06-16"]
    shares = pd.DataFrame(
        [{"period": p, "outlet": "all", "narrative": n, "share": 0.1, "ci_low": 0.05, "ci_high": 0.15}
         for p in periods for n in names]
    )
    fig = plot_share_over_time(shares, narratives=names)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(names)
    assert [ax.get_title(loc="left") for ax in visible] == names
    assert all(len(ax.get_lines()) == 1 and len(ax.collections) == 1 for ax in visible[:-1])
    assert len({ax.get_ylim() for ax in visible}) == 1  # one shared scale: panels compare
    np.testing.assert_allclose(visible[0].get_lines()[0].get_ydata(), [0.1, 0.1, 0.1])

    few = plot_share_over_time(shares, narratives=names[:3])
    assert len(few.axes) == 1 and len(few.axes[0].get_lines()) == 3
    assert len(plot_share_over_time(shares, narratives=names, layout="lines").axes) == 1
    with pytest.raises(ValueError, match="layout"):
        plot_share_over_time(shares, layout="grid")


# -- the first screen, as a reader opens the report --------------------------------------------


def _palette_pixels(png: Path, palette: tuple[str, ...], tolerance: int = 12) -> int:
    """How many pixels of ``png`` are within ``tolerance`` of a narrative colour."""
    import numpy as np
    from PIL import Image

    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=int).reshape(-1, 3)
    targets = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in palette])
    near = (np.abs(pixels[:, None, :] - targets[None, :, :]).max(axis=2) <= tolerance).any(axis=1)
    return int(near.sum())


@needs_chromium
def test_first_screen_shows_the_findings_and_a_chart(tmp_path):
    """At 1366x768, before any scrolling, a reader sees the narratives' colours: a chart."""
    from narrative.figures import PALETTE
    from narrative.pipeline import write_report
    from narrative.store import Store
    from tests import tiny_run
    from tests.reader_store import NAMES, build, recs

    path = build(tmp_path / "s", recs(["Wire", "Gazette", "Mirror"]), NAMES)
    with Store(path) as store:
        paths = write_report(store, "run1", tmp_path / "out", settings=tiny_run.settings(),
                             formats=("html",))
    png = tmp_path / "first-screen.png"
    _screenshot(paths["html"], png, tmp_path / "profile", size="1366,768")
    _keep(png)
    assert _palette_pixels(png, PALETTE) > 300, "no chart on the first screen"

"""explorer.html in a real headless Chromium: it loads clean under its CSP, a click lists exactly
the paragraphs narrative.query.paragraphs returns, the word box filters, hostile text runs nothing.

Playwright drives the system Chromium (never a downloaded browser); without either the browser
tests skip with the reason. The page-structure tests need no browser.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import time
from html import unescape

import pytest

from narrative.explore import write_explorer
from narrative.explore.data import explorer_data
from narrative.drift import compute_drift
from narrative.query import paragraphs
from narrative.store import Store

from .explore_store import HOSTILE_OUTLETS, RUN_ID, build_store, labels

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    executable = _chromium()
    if executable is None:
        pytest.skip("no chromium on PATH (.ci/install-system-deps installs it)")
    manager = sync_api.sync_playwright().start()
    try:
        launched = manager.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - any launch failure means: no usable browser here
        manager.stop()
        pytest.skip(f"chromium did not start under playwright: {exc}")
    yield launched
    launched.close()
    manager.stop()


def _explorer(folder, *, hostile: bool, **kwargs):
    path, settings = build_store(folder, hostile=hostile)
    store = Store(path, read_only=True)
    drift = compute_drift(store, RUN_ID, settings=settings)
    page = write_explorer(store, RUN_ID, folder, settings=settings, drift=drift, **kwargs)
    return store, page


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    store, page = _explorer(tmp_path_factory.mktemp("explorer"), hostile=False)
    yield store, page
    store.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    store, page = _explorer(tmp_path_factory.mktemp("hostile"), hostile=True)
    yield store, page
    store.close()


class Page:
    """One loaded explorer tab, recording what the page said and tried."""

    def __init__(self, browser, path):
        self.tab = browser.new_page(viewport={"width": 1366, "height": 900})
        self.messages: list[tuple[str, str]] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.tab.on("console", lambda m: self.messages.append((m.type, m.text)))
        self.tab.on("pageerror", lambda e: self.messages.append(("pageerror", str(e))))
        self.tab.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.tab.on("request", lambda r: self.requests.append(r.url))
        self.tab.add_init_script(
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation',"
            " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));")
        self.tab.goto(path.as_uri())
        self.tab.wait_for_selector("body[data-ready=true]", timeout=30_000)

    def listed(self) -> list[str]:
        """Every listed paragraph id, in order (pressing "Show more" until it is gone)."""
        while self.tab.is_visible("#more"):
            self.tab.click("#more")
        return self.tab.eval_on_selector_all("#paragraph-list li", "els => els.map(e => e.dataset.paragraphId)")

    def status(self) -> str:
        return self.tab.text_content("#list-status") or ""

    def click_chart(self, chart: str, x, y, *, xaxis="xaxis", yaxis="yaxis") -> None:
        """A real mouse click at data coordinates (x, y) of a plotly chart."""
        self.tab.wait_for_selector("body[data-ready=true]")  # not while the charts redraw
        point = self.tab.evaluate(
            """([id, x, y, xname, yname]) => {
                const gd = document.getElementById(id);
                gd.scrollIntoView({block: 'center'});
                const xa = gd._fullLayout[xname], ya = gd._fullLayout[yname];
                const box = gd.getBoundingClientRect();
                return [box.left + xa._offset + xa.l2p(xa.d2l(x)), box.top + ya._offset + ya.l2p(ya.d2l(y))];
            }""", [chart, x, y, xaxis, yaxis])
        # plotly clicks the point it last hovered: leave the chart until that is forgotten, then
        # hover the target until plotly has it, then click
        hovered = f"(document.getElementById('{chart}')._hoverdata || []).length"
        self.tab.mouse.move(1, 1)
        self.wait_until(lambda: not self.tab.evaluate(hovered))
        self.tab.mouse.move(point[0], point[1])
        self.wait_until(lambda: self.tab.evaluate(hovered))
        self.tab.mouse.click(point[0], point[1])

    def wait_until(self, condition, timeout: float = 10.0) -> None:
        """Poll ``condition`` from here (Playwright's in-page polling would need eval, which the
        page's CSP refuses)."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "timed out waiting for the page"
            self.tab.wait_for_timeout(50)

    def problems(self) -> list:
        bad = [m for m in self.messages if m[0] in ("error", "warning", "pageerror")]
        return bad + self.tab.evaluate("window.__violations") + self.dialogs


@pytest.fixture()
def tiny_page(browser, tiny):
    page = Page(browser, tiny[1])
    yield page
    page.tab.close()


# -- the file, without a browser --------------------------------------------------------------
def test_page_allows_exactly_its_own_scripts(tiny):
    html = tiny[1].read_text(encoding="utf-8")
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 2  # plotly.js and the explorer's code; the data block is not a script
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
              for s in scripts}
    assert set(directives["script-src"].split()) == hashes
    assert directives["default-src"] == "'none'"
    assert "unsafe" not in directives["script-src"]
    assert "http" not in csp


def test_page_loads_nothing_from_outside(tiny):
    html = tiny[1].read_text(encoding="utf-8")
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=""", html, flags=re.I)
    data = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', html,
                     flags=re.S).group(1)
    assert "<" not in data and ">" not in data


# -- in the browser ---------------------------------------------------------------------------
def test_loads_without_console_error_or_csp_violation(tiny_page):
    assert tiny_page.problems() == []
    assert all(url.startswith("file:") for url in tiny_page.requests), tiny_page.requests
    assert tiny_page.tab.locator("#time-chart .scatterlayer .trace").count() >= 3
    assert tiny_page.tab.locator("#outlet-chart .hm").count() == 1


def test_first_list_is_every_paragraph_most_typical_first(tiny_page, tiny):
    expected = paragraphs(tiny[0], RUN_ID)["paragraph_id"].tolist()
    assert tiny_page.status().startswith(f"{len(expected)} paragraphs")
    assert tiny_page.listed() == expected


def test_click_on_a_cell_lists_exactly_its_paragraphs(tiny_page, tiny):
    store = tiny[0]
    data = explorer_data(store, RUN_ID, compute_drift(store, RUN_ID), period_kind="week",
                         copies="per_outlet")
    names = [n["name"] for n in data["narratives"]]
    checked = 0
    for outlet in ("Wire", "Gazette"):
        for narrative in labels():
            tiny_page.click_chart("outlet-chart", data["outlets"].index(outlet),
                                  names.index(narrative))
            expected = paragraphs(store, RUN_ID, narrative=narrative, outlet=outlet)
            assert len(expected) > 0
            assert tiny_page.listed() == expected["paragraph_id"].tolist(), (outlet, narrative)
            assert tiny_page.tab.input_value("#pick-outlet") == str(data["outlets"].index(outlet))
            checked += 1
    assert checked == 4 and tiny_page.problems() == []


def test_click_on_a_point_a_week_and_a_legend_entry(tiny_page, tiny):
    store = tiny[0]
    ferries = labels()[0]
    week = "2024-01-15"
    frame = paragraphs(store, RUN_ID, narrative=ferries, period=week)
    share = compute_drift(store, RUN_ID).shares.query(
        "outlet == 'all' and narrative == @ferries and period == @week")["share"].iloc[0]
    tiny_page.click_chart("time-chart", week, share)
    assert tiny_page.listed() == frame["paragraph_id"].tolist()

    articles = len(set(paragraphs(store, RUN_ID, period=week)["article_id"]))
    tiny_page.click_chart("time-chart", week, articles / 2, yaxis="yaxis2")
    assert tiny_page.listed() == paragraphs(store, RUN_ID, period=week)["paragraph_id"].tolist()

    tiny_page.tab.locator("#time-chart g.traces").filter(
        has=tiny_page.tab.locator(".legendtext", has_text=ferries)).locator(".legendtoggle").click()
    assert tiny_page.listed() == paragraphs(store, RUN_ID, narrative=ferries)["paragraph_id"].tolist()
    assert tiny_page.problems() == []


def test_the_selection_form_and_an_outlet_bar(tiny_page, tiny):
    store = tiny[0]
    tiny_page.tab.select_option("#pick-outlet", label="Gazette")
    tiny_page.tab.select_option("#pick-period", label="2024-01-22")
    expected = paragraphs(store, RUN_ID, outlet="Gazette", period="2024-01-22")
    assert tiny_page.listed() == expected["paragraph_id"].tolist()
    tiny_page.tab.click("#clear")
    outlets = sorted({"Wire", "Gazette", "(unknown outlet)"})
    tiny_page.click_chart("outlet-chart", outlets.index("Wire"), 3, yaxis="yaxis2")
    assert tiny_page.listed() == paragraphs(store, RUN_ID, outlet="Wire")["paragraph_id"].tolist()


def test_search_filters_by_words(tiny_page, tiny):
    store = tiny[0]
    frame = paragraphs(store, RUN_ID, outlet="Wire")
    tiny_page.tab.select_option("#pick-outlet", label="Wire")
    tiny_page.tab.fill("#search", "Cider  HARVEST")
    words = ("cider", "harvest")
    haystack = (frame["title"].fillna("") + "\n" + frame["text"]).str.lower()
    expected = frame[haystack.map(lambda h: all(w in h for w in words))]["paragraph_id"].tolist()
    assert 0 < len(expected) < len(frame)
    tiny_page.wait_until(lambda: "cider" in tiny_page.status())
    assert tiny_page.listed() == expected
    tiny_page.tab.fill("#search", "")
    tiny_page.wait_until(lambda: "cider" not in tiny_page.status())
    assert tiny_page.listed() == frame["paragraph_id"].tolist()


def test_a_sample_says_so_and_is_the_most_typical_of_each_cell(browser, tmp_path):
    store, path = _explorer(tmp_path, hostile=False, max_paragraphs=80)
    try:
        page = Page(browser, path)
        everything = paragraphs(store, RUN_ID)
        assert page.tab.is_visible("#sample-note")
        assert "sample" in page.tab.text_content("#sample-note")
        assert page.status().startswith(f"{len(everything)} paragraphs")
        listed = page.listed()
        assert 0 < len(listed) <= 80
        order = everything["paragraph_id"].tolist()
        assert listed == [p for p in order if p in set(listed)]  # the query's order
        shown = everything[everything["paragraph_id"].isin(listed)]
        key = ["narrative", "outlet", "period"]
        per_cell = everything.fillna({"period": "-"}).groupby(key)
        k = int(shown.fillna({"period": "-"}).groupby(key).size().max())
        assert k >= 2 and len(listed) < len(everything)
        for _, cell in per_cell:  # each cell shows its k most typical (all of a smaller one)
            assert cell["paragraph_id"].head(k).isin(listed).all()
            assert not cell["paragraph_id"].iloc[k:].isin(listed).any()
        assert page.problems() == []
        page.tab.close()
    finally:
        store.close()


def test_hostile_corpus_runs_nothing(browser, hostile):
    store, path = hostile
    page = Page(browser, path)
    tab = page.tab
    data = explorer_data(store, RUN_ID, compute_drift(store, RUN_ID), period_kind="week",
                         copies="per_outlet")
    for i, outlet in enumerate(data["outlets"]):  # hover and click every cell, then list them
        for j in range(len(data["narratives"])):
            page.click_chart("outlet-chart", i, j)
            page.listed()
    tab.mouse.move(5, 5)
    tab.locator("#time-chart .legendtoggle").first.hover()
    assert tab.evaluate("window.__pwned") is None
    assert page.dialogs == [] and page.problems() == []
    assert all(url.startswith("file:") for url in page.requests), page.requests
    # what a payload would have made: elements, handlers, links to other schemes
    assert tab.evaluate("document.scripts.length") == 3
    assert tab.evaluate("""Array.from(document.querySelectorAll('*')).filter(e =>
        Array.from(e.attributes).some(a => a.name.startsWith('on'))).length""") == 0
    tab.click("#clear")
    page.listed()
    hrefs = tab.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all(re.match(r"https://example\.org/", h) for h in hrefs), hrefs
    assert len(hrefs) < tab.locator("#paragraph-list li").count()  # hostile URLs: no link
    assert tab.locator("#paragraph-list img, #paragraph-list svg, #paragraph-list b").count() == 0
    # ...and the text is shown as written
    listed_text = tab.text_content("#paragraph-list")
    assert "<script>window.__pwned = 'script'</script>" in listed_text
    assert "</script><script>window.__pwned='close'</script>" in listed_text
    ticks = " ".join(tab.eval_on_selector_all("#outlet-chart .xtick text",
                                              "els => els.map(e => e.textContent)"))
    assert all(outlet[:25] in ticks for outlet in HOSTILE_OUTLETS), ticks  # labels cut at 26
    tab.close()


@pytest.mark.slow
def test_demo_explorer_loads_clean(browser, demo_build, tmp_path):
    out, result = demo_build
    with Store(result.store_path, read_only=True) as store:
        path = write_explorer(store, result.run_id, tmp_path)
        expected = paragraphs(store, result.run_id)
    page = Page(browser, path)
    assert page.problems() == []
    assert page.status().startswith(f"{len(expected):,} paragraphs")
    page.tab.close()


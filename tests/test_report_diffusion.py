"""The report's "Who carried it first" section (issue 26): on a store where one outlet takes a
narrative up days before another, the section names the leader and the lead with its interval;
on a corpus too thin to tell, it says so and shows no table. Hand-made runs, no model."""

from __future__ import annotations

import datetime as dt

from tests import tiny_run
from tests.reader_store import NAMES, assemble, build, pdf_text, text_of

START = dt.date(2025, 3, 3)


def planted(days: int, per_day: int, rises: dict[str, int]) -> list[dict]:
    """``per_day`` articles per outlet and day; an outlet's articles carry harbour traffic (one
    paragraph of two) from day ``rises[outlet]`` on, and none before."""
    out, k = [], 0
    for day in range(days):
        for outlet, rise in rises.items():
            for _ in range(per_day):
                topics = ("harbour", "orchard") if day >= rise else ("orchard", "council")
                out.append({"id": f"a{k}", "outlet": outlet,
                            "date": (START + dt.timedelta(days=day)).isoformat(),
                            "title": f"Story {k}", "text": text_of(k, topics)})
                k += 1
    return out


def section(model):
    found = [s for s in model.sections if s.key == "first-carried"]
    assert len(found) == 1, [s.key for s in model.sections]
    return found[0]


def test_the_outlet_that_took_a_narrative_up_first_is_named_with_its_lead(tmp_path):
    recs = planted(days=20, per_day=2, rises={"Wire": 7, "Gazette": 12})
    path = build(tmp_path / "s", recs, NAMES)
    settings = tiny_run.settings().replace(n_bootstrap=200)
    model, drift = assemble(path, tmp_path / "out", settings)
    first = section(model)
    table = next(t for t in model.tables if t.key in first.tables)
    rows = {r[0]: dict(zip(table.columns, r)) for r in table.rows}
    harbour = rows["Harbour traffic"]
    assert harbour["First outlet"] == "Wire" and harbour["Next outlet"] == "Gazette"
    assert harbour["Took it up"] == str(START + dt.timedelta(days=7))
    assert harbour["Who led"].startswith("Wire, by 5 days (95% interval")
    # Orchard harvest is flat in both outlets: no uptake, said in words, not a table row
    assert "Orchard harvest" not in rows
    assert any("Too thin to tell" in s and "\u201cOrchard harvest\u201d" in s for s in first.text)
    assert any(s.startswith("Of 1 pair of outlets that both took a narrative up, 1 shows a lead")
               for s in first.text)
    assert ("lead_lag.csv", "lead_lag.csv") in first.files
    assert [s for s in model.summary if "took up" in s] == [
        "Wire took up Harbour traffic 5 days before Gazette (95% interval 4 to 6 days); see Who "
        "carried it first."]
    from narrative.report.html import render_html

    page = render_html(model)
    assert 'href="lead_lag.csv"' in page and 'href="diffusion.csv"' in page
    pdf = pdf_text(model)
    assert "Who carried it first" in pdf and "Wire, by 5 days" in pdf


def test_a_thin_corpus_says_it_cannot_tell_who_carried_it_first(tmp_path):
    recs = planted(days=4, per_day=1, rises={"Wire": 2, "Gazette": 2})
    path = build(tmp_path / "s", recs, NAMES)
    model, drift = assemble(path, tmp_path / "out")
    assert drift.tables["diffusion"].empty
    first = section(model)
    assert first.tables == [] and "first-carried" not in {t.key for t in model.tables}
    assert any("too thin to tell who carried any narrative first" in s for s in first.text)
    assert not any("republished" in s for s in first.text)  # no copies in this corpus
    assert not any("by " in s and "days" in s for s in first.text)  # no lead claimed


def test_a_single_outlet_has_no_section(tmp_path):
    recs = planted(days=20, per_day=2, rises={"Wire": 7})
    model, _ = assemble(build(tmp_path / "s", recs, NAMES), tmp_path / "out")
    assert "first-carried" not in {s.key for s in model.sections}


def test_copies_decide_who_carried_it_first_where_timing_cannot(tmp_path):
    recs = planted(days=4, per_day=1, rises={"Wire": 0, "Gazette": 9})
    wire = [r for r in recs if r["outlet"] == "Wire"][:2]
    recs += [{**r, "id": f"copy{k}", "outlet": "Mirror",
              "date": (dt.date.fromisoformat(r["date"]) + dt.timedelta(days=1)).isoformat()}
             for k, r in enumerate(wire)]
    model, drift = assemble(build(tmp_path / "s", recs, NAMES), tmp_path / "out")
    assert drift.tables["diffusion"].empty  # timing alone cannot tell
    said = [s for s in section(model).text if "republished" in s]
    assert len(said) == 1
    assert "Mirror republished Wire's articles carrying 2 narratives, a median 1 day later" in said[0]
    assert "Wire carried them before Mirror" in said[0]

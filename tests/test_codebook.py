import pytest

from narrative.codebook import CodebookError, load_codebook, parse_codebook

REQUIRED = {
    "Russia–China axis", "Security guarantees", "Sanctions leverage",
    "Battlefield and territory", "Peace talks and summits", "European unity and division",
}


def test_default_codebook_names_the_required_narratives():
    cb = load_codebook()
    assert REQUIRED <= set(cb.names)
    for n in cb.narratives:
        assert len(n.description.split()) >= 10, n.name
        assert len(n.seeds) >= 5, n.name


def test_fingerprint_depends_on_content_only():
    a = parse_codebook({"narratives": [{"name": "X", "description": "one two three"}]}, source="a")
    b = parse_codebook({"narratives": [{"name": "X", "description": "one two three"}]}, source="b")
    c = parse_codebook({"narratives": [{"name": "X", "description": "one two four"}]})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


@pytest.mark.parametrize(
    "doc, message",
    [
        ({}, "expected a mapping with a 'narratives' list"),
        ({"narratives": []}, "non-empty list"),
        ({"narratives": [{"description": "a b c"}]}, "narrative #1: field 'name'"),
        ({"narratives": [{"name": "X", "description": "short"}]}, "narrative 'X': field 'description'"),
        ({"narratives": [{"name": "X", "description": "a b c", "seeds": {"a": 1}}]}, "field 'seeds'"),
        ({"narratives": [{"name": "X", "description": "a b c", "colour": "red"}]}, "unknown field"),
        (
            {"narratives": [{"name": "X", "description": "a b c"}, {"name": "x", "description": "a b c"}]},
            "duplicate name",
        ),
        ({"narratives": [{"name": "unassigned", "description": "a b c"}]}, "reserved"),
    ],
)
def test_invalid_codebooks_name_entry_and_field(doc, message):
    with pytest.raises(CodebookError, match=message):
        parse_codebook(doc, source="cb.yaml")


def test_bad_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text("narratives:\n  - name: [unclosed\n")
    with pytest.raises(CodebookError, match=r"cb\.yaml: line \d+"):
        load_codebook(path)


def test_suggested_entries_load_as_a_codebook():
    import pandas as pd

    from narrative.codebook import suggest_entries

    narratives = pd.DataFrame(
        {
            "narrative_id": [-1, 0, 1, 2],
            "label": ["unassigned", "Sanctions leverage", "grain, ships, corridor", "storm, rain, warning"],
            "kind": ["unassigned", "named", "discovered", "discovered"],
            "top_terms": [[], ["sanctions"], ["grain", "ships", "corridor"], ["storm", "rain", "warning"]],
            "size": [5, 40, 12, 30],
        }
    )
    doc = suggest_entries(narratives, {1: ["Grain ships left Odesa.", "b", "c", "d"], 2: ["Rain."]})
    names = [e["name"] for e in doc["narratives"]]
    assert names == ["storm, rain, warning", "grain, ships, corridor"]  # discovered only, largest first
    assert doc["narratives"][1]["examples"] == ["Grain ships left Odesa.", "b", "c"]
    cb = parse_codebook(doc)
    assert [n.name for n in cb.narratives] == names and cb.narratives[1].seeds == ("grain", "ships", "corridor")
    # Suggested entries curate the run's narratives by stable id; they are not named narratives
    # until the analyst promotes them (kind: named).
    assert [(n.id, n.kind) for n in cb.narratives] == [(2, "discovered"), (1, "discovered")]
    assert cb.names == []


def test_a_codebook_written_back_reads_the_same_with_every_field():
    from narrative.codebook import codebook_document

    doc = {
        "acceptance": {"threshold": 0.5, "background_margin": 0.0, "competitor_margin": 0.2},
        "background": ["Sport results and weather."],
        "narratives": [
            {"name": "A", "description": "alpha one two", "examples": ["alpha three"],
             "counter_examples": ["not alpha"], "requires": ["alph*"], "threshold": 0.6,
             "pin": ["p1"]},
            {"name": "grain", "id": 4, "kind": "discovered", "merge": [5, "storm"]},
            {"name": "sport", "id": 7, "kind": "off-topic", "drop": True},
            {"name": "prices", "id": 9, "split_from": 4, "examples": ["grain prices rose"]},
        ],
    }
    cb = parse_codebook(doc)
    again = parse_codebook(codebook_document(cb))
    assert again == cb and again.fingerprint() == cb.fingerprint()
    assert cb.names == ["A"] and [n.name for n in cb.curated] == ["A", "grain", "sport", "prices"]


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"name": "x", "kind": "discovered"}, "needs the 'id'"),
        ({"name": "x", "id": -1, "kind": "discovered"}, "field 'id'"),
        ({"name": "x", "description": "a b c", "threshold": 2}, "field 'threshold'"),
        ({"name": "x", "description": "a b c", "kind": "topic"}, "field 'kind'"),
        ({"name": "x", "id": 3, "split_from": 2}, "a split needs 'examples'"),
    ],
)
def test_curation_fields_are_checked(entry, message):
    with pytest.raises(CodebookError, match=message):
        parse_codebook({"narratives": [entry]}, source="cb.yaml")

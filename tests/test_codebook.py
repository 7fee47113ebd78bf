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

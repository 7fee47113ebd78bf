"""Curation as data: a round of rename, merge, drop (and pin, off-topic, split) written in the
codebook is applied to a run's narratives without refitting, keeps ids, and is recorded."""

import numpy as np
import pandas as pd
import pytest

from narrative.codebook import CodebookError, parse_codebook
from narrative.model.curation import curate, curated_distributions


def run():
    narratives = pd.DataFrame({
        "narrative_id": [-1, 0, 4, 5, 6],
        "label": ["unassigned", "Sanctions leverage", "grain, ships", "grain exports", "football"],
        "codebook_name": [None, "Sanctions leverage", None, None, None],
        "kind": ["unassigned", "named", "discovered", "discovered", "discovered"],
        "top_terms": [[], ["sanctions"], ["grain"], ["grain"], ["match"]],
        "size": [1, 2, 2, 2, 1],
    })
    assignments = pd.DataFrame({
        "paragraph_id": list("abcdefgh"),
        "narrative_id": [-1, 0, 0, 4, 4, 5, 5, 6],
        "probability": [0.1, 0.7, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5],
    })
    return narratives, assignments


CURATED = parse_codebook({"narratives": [
    {"name": "Sanctions leverage", "description": "Sanctions as leverage on Russia"},
    {"name": "Black Sea grain corridor", "id": 4, "kind": "discovered", "merge": [5]},
    {"name": "football", "id": 6, "kind": "discovered", "drop": True},
]}, source="cb.yaml")


def test_a_curation_round_renames_merges_and_drops_by_id():
    narratives, assignments = run()
    out = curate(narratives, assignments, CURATED)
    by_id = out.narratives.set_index("narrative_id")
    assert sorted(by_id.index) == [-1, 0, 4]  # 5 merged into 4, 6 dropped
    assert by_id.loc[4, "label"] == "Black Sea grain corridor" and by_id.loc[4, "size"] == 4
    assert out.assignments.set_index("paragraph_id")["narrative_id"].to_dict() == {
        "a": -1, "b": 0, "c": 0, "d": 4, "e": 4, "f": 4, "g": 4, "h": -1}
    assert [e["event"] for e in out.events] == ["rename", "merge", "drop"]
    assert out.events[1]["old_ids"] == [4, 5] and out.events[1]["new_ids"] == [4]
    assert out.events[0]["old_label"] == "grain, ships"


def test_curation_is_idempotent_and_a_named_narrative_without_edits_is_untouched():
    narratives, assignments = run()
    once = curate(narratives, assignments, CURATED)
    twice = curate(once.narratives, once.assignments, CURATED)
    assert twice.assignments.equals(once.assignments)
    # Narratives already merged or dropped are reported missing, not an error.
    assert [e["event"] for e in twice.events] == ["missing", "missing"]
    assert once.narratives.set_index("narrative_id").loc[0, "label"] == "Sanctions leverage"


def test_off_topic_pin_and_named_rename():
    narratives, assignments = run()
    cb = parse_codebook({"narratives": [
        {"name": "Sanctions as leverage", "id": 0, "description": "Sanctions as leverage on Russia",
         "pin": ["a"]},
        {"name": "Sport", "id": 6, "kind": "off-topic"},
    ]})
    out = curate(narratives, assignments, cb)
    by_id = out.narratives.set_index("narrative_id")
    assert by_id.loc[0, "codebook_name"] == "Sanctions as leverage"
    assert by_id.loc[6, "kind"] == "off-topic"
    assert out.assignments.set_index("paragraph_id").loc["a", "narrative_id"] == 0
    assert {e["event"] for e in out.events} == {"rename", "pin", "off-topic"}


def test_split_moves_the_members_closer_to_the_new_examples():
    narratives, assignments = run()
    vectors = np.eye(8)[[0, 1, 1, 2, 3, 2, 2, 4]].astype(float)
    vectors[4] = [0, 0, 0.2, 1, 0, 0, 0, 0]  # paragraph e: close to the new entry's example
    cb = parse_codebook({"narratives": [
        {"name": "grain prices", "id": 9, "kind": "discovered", "split_from": 4,
         "examples": ["grain prices rose"]},
    ]})
    out = curate(narratives, assignments, cb, vectors=vectors,
                 encode=lambda texts: np.eye(8)[[3]])
    assert out.assignments.set_index("paragraph_id").loc["e", "narrative_id"] == 9
    assert out.assignments.set_index("paragraph_id").loc["d", "narrative_id"] == 4
    assert out.events[0]["event"] == "split" and out.events[0]["new_ids"] == [4, 9]


def test_an_unknown_reference_names_the_file_and_the_fix():
    narratives, assignments = run()
    cb = parse_codebook({"narratives": [
        {"name": "x", "id": 4, "kind": "discovered", "merge": ["no such thing"]}]}, source="cb.yaml")
    with pytest.raises(CodebookError, match="cb.yaml: no narrative 'no such thing'"):
        curate(narratives, assignments, cb)


def test_curated_mixtures_follow_merges_drops_and_moves():
    narratives, assignments = run()
    out = curate(narratives, assignments, CURATED)
    dist = pd.DataFrame({"paragraph_id": ["d", "d", "f", "h", "b"],
                         "narrative_id": [4, 5, 5, 6, 0], "weight": [0.6, 0.4, 1.0, 1.0, 1.0]})
    new = curated_distributions(dist, assignments, out.assignments, out.events)
    got = {(p, n): round(w, 6) for p, n, w in new.itertuples(index=False)}
    assert got == {("b", 0): 1.0, ("d", 4): 1.0, ("f", 4): 1.0}  # h was dropped: no mixture


def test_curation_fields_change_the_run_id_but_not_the_model():
    plain = parse_codebook({"narratives": [
        {"name": "A", "description": "alpha one two"}]})
    curated = parse_codebook({"narratives": [
        {"name": "A", "description": "alpha one two", "pin": ["p1"]},
        {"name": "grain", "id": 4, "kind": "discovered", "drop": True}]})
    assert plain.fingerprint() != curated.fingerprint()
    assert plain.model_fingerprint() == curated.model_fingerprint()

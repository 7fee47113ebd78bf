"""Lineage across refits: stable ids and events from synthetic centroids with known history."""

from __future__ import annotations

import numpy as np
import pytest

from narrative.model.lineage import match_narratives

# Orthonormal directions: distinct narratives are unrelated (cosine 0) unless built from each other.
BASIS = np.linalg.qr(np.random.default_rng(0).normal(size=(32, 12)))[0].T


def near(k: int, offset: int | None = None, sign: float = 1.0) -> np.ndarray:
    """Direction k, optionally nudged towards +-direction ``offset`` (cosine 0.96 to direction k)."""
    v = BASIS[k].copy()
    if offset is not None:
        v = v + sign * 0.3 * BASIS[offset]
    return v / np.linalg.norm(v)


def events_of(lineage) -> list[tuple[str, list[int], list[int]]]:
    return [(r.event, r.old_ids, r.new_ids) for r in lineage.events.itertuples()]


def test_each_event_kind_and_the_ids_it_gives():
    old_ids = [0, 1, 2, 3, 4]
    old = np.stack([
        near(0),          # 0 continues as new 10
        near(1),          # 1 splits into new 11 and 12
        near(2, 9, +1),   # 2 and 3 merge into new 13
        near(2, 9, -1),
        near(4),          # 4 dies
    ])
    new_ids = [10, 11, 12, 13, 14]
    new = np.stack([
        near(0, 8, 0.2),  # slight drift of narrative 0
        near(1, 10, +1),
        near(1, 10, -1),
        near(2),
        near(5),          # 14 is born
    ])
    lineage = match_narratives(old_ids, old, new_ids, new, threshold=0.85)
    ids = lineage.id_map()
    assert ids[10] == 0                              # continuation keeps the old id
    assert sorted([ids[11], ids[12]])[0] == 1        # one part of a split keeps it ...
    assert sorted([ids[11], ids[12]])[1] > 14        # ... the other gets a fresh id
    assert ids[13] in (2, 3)                         # a merge keeps one of the merged ids
    assert ids[14] > 14 and ids[14] != max(ids[11], ids[12])  # a birth gets its own fresh id
    assert events_of(lineage) == [
        ("continuation", [0], [0]),
        ("split", [1], sorted([ids[11], ids[12]])),
        ("merge", [2, 3], [ids[13]]),
        ("birth", [], [ids[14]]),
        ("death", [4], []),
    ]
    sims = lineage.events.set_index("event")["similarity"]
    assert sims["continuation"] > 0.95 and sims["split"] > 0.9
    assert np.isnan(sims["birth"]) and np.isnan(sims["death"])


def test_identical_runs_continue_every_narrative_and_keep_ids():
    centroids = BASIS[:4] * np.array([[1.0], [2.0], [0.5], [3.0]])  # length does not matter
    lineage = match_narratives([3, 7, 8, 9], centroids, [0, 1, 2, 3], centroids[[2, 0, 3, 1]])
    assert lineage.id_map() == {-1: -1, 0: 8, 1: 3, 2: 9, 3: 7}
    assert set(lineage.events["event"]) == {"continuation"}


def test_below_threshold_is_a_death_and_a_birth_not_a_continuation():
    old = near(0)[None]
    new = (0.6 * BASIS[0] + 0.8 * BASIS[1])[None]  # cosine 0.6 to the old centroid
    lineage = match_narratives([0], old, [0], new, threshold=0.85)
    assert events_of(lineage) == [("birth", [], [1]), ("death", [0], [])]
    assert match_narratives([0], old, [0], new, threshold=0.5).id_map()[0] == 0


def test_unassigned_stays_unassigned_and_fresh_ids_start_at_next_id():
    lineage = match_narratives(
        [-1, 0], np.stack([near(7), near(0)]), [-1, 0, 1], np.stack([near(7), near(0), near(3)]),
        next_id=40,
    )
    assert lineage.id_map() == {-1: -1, 0: 0, 1: 40}
    assert all(-1 not in ids for ids in lineage.events["old_ids"] + lineage.events["new_ids"])


def test_named_narratives_keep_their_id_by_name_and_never_take_another_named_id():
    old = np.stack([near(0), near(1)])
    # The codebook narrative "Sanctions" drifted far (cosine 0.6), and a discovered narrative now
    # sits where it was; names decide for named narratives, similarity for the rest.
    new = np.stack([0.6 * BASIS[1] + 0.8 * BASIS[6], near(1, 2, 0.1), near(0)])
    lineage = match_narratives(
        [0, 1], old, [0, 1, 2], new,
        old_names=["Russia–China axis", "Sanctions"], new_names=["Sanctions", None, "Peace talks"],
    )
    ids = lineage.id_map()
    assert ids[0] == 1            # "Sanctions" keeps its id despite the drift
    assert ids[2] not in (0, 1)   # "Peace talks" is not the old "Russia–China axis", however close
    assert ids[1] > 2             # the discovered look-alike gets a fresh id: "Sanctions" split
    assert ("split", [1], [1, ids[1]]) in events_of(lineage)
    assert ("death", [0], []) in events_of(lineage)


def test_empty_runs_and_bad_input():
    empty = np.zeros((0, 8))
    assert events_of(match_narratives([], empty, [0], BASIS[:1, :8])) == [("birth", [], [1])]
    assert events_of(match_narratives([0], BASIS[:1, :8], [], empty)) == [("death", [0], [])]
    with pytest.raises(ValueError, match="threshold must be in"):
        match_narratives([0], BASIS[:1], [0], BASIS[:1], threshold=0)
    with pytest.raises(ValueError, match="new_centroids must have one row per new id"):
        match_narratives([0], BASIS[:1], [0, 1], BASIS[:1])


def test_a_discovered_narrative_whose_name_is_nan_is_matched_by_its_centroid():
    """Blank codebook names come back from the store as NaN: they are no name, so a discovered
    narrative continues by similarity instead of dying and being born again under a new id."""
    rng = np.random.default_rng(0)
    old = rng.normal(size=(3, 8))
    new = old + 0.01 * rng.normal(size=(3, 8))
    lineage = match_narratives([0, 5, 6], old, [0, 1, 2], new, next_id=7,
                               old_names=["Sanctions", float("nan"), float("nan")],
                               new_names=["Sanctions", float("nan"), None])
    assert lineage.id_map() == {-1: -1, 0: 0, 1: 5, 2: 6}
    assert list(lineage.events["event"]) == ["continuation"] * 3

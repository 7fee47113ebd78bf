"""Named narratives accept paragraphs by the codebook: they can say "none" and "two", a
counter-example or a missing required term keeps a look-alike out, and outlier reduction never
forces a weak match into a named narrative. Synthetic unit vectors, no model."""

import numpy as np
import pytest

from narrative.codebook import parse_codebook
from narrative.model.acceptance import (
    AcceptanceRule, accept, accepted_weights, best_accepted, build_rule, requires_gates,
)
from narrative.model.assign import refine_assignments


def unit(*rows):
    x = np.asarray(rows, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def rule(thresholds=(0.8, 0.8), background_margin=0.0, competitor_margin=0.2, negatives=None,
         negative_owner=(), patterns=(None, None)):
    # Narrative 10 lives on axis 0, narrative 20 on axis 1; axis 2 is off the codebook.
    return AcceptanceRule(
        ids=np.array([10, 20]), thresholds=np.asarray(thresholds, dtype=np.float32),
        patterns=tuple(patterns),
        prototypes=unit([1, 0, 0, 0], [0, 1, 0, 0]).astype(np.float32),
        prototype_owner=np.array([0, 1]),
        negatives=(np.zeros((0, 4)) if negatives is None else negatives).astype(np.float32),
        negative_owner=np.asarray(negative_owner, dtype=int),
        background_margin=background_margin, competitor_margin=competitor_margin,
    )


def test_a_paragraph_no_description_is_close_to_is_accepted_by_none():
    x = unit([0.3, 0.2, 1, 0])
    accepted, typical = accept(x, rule())
    assert not accepted.any()
    topics, _ = best_accepted(accepted, typical, np.array([10, 20]))
    assert topics.tolist() == [-1]


def test_a_paragraph_close_to_two_narratives_carries_both_and_its_closest_is_hard():
    x = unit([1, 0.9, 0.05, 0])
    accepted, typical = accept(x, rule(thresholds=(0.6, 0.6)))
    assert accepted.tolist() == [[True, True]]
    topics, prob = best_accepted(accepted, typical, np.array([10, 20]))
    assert topics.tolist() == [10] and prob[0] == pytest.approx(typical[0, 0])
    weights = accepted_weights(accepted, typical)
    assert weights.sum() == pytest.approx(1.0) and weights[0, 0] > weights[0, 1] > 0.3


def test_a_far_better_competitor_keeps_the_second_narrative_out():
    x = unit([1, 0.75, 0, 0])  # 0.8 to narrative 10, 0.6 to narrative 20
    accepted, _ = accept(x, rule(thresholds=(0.5, 0.5), competitor_margin=0.1))
    assert accepted.tolist() == [[True, False]]


def test_a_paragraph_closer_to_a_counter_example_is_not_accepted():
    counter = unit([1, 0, 0, 1])  # "looks like 10 but is not"
    x = unit([1, 0, 0, 0.9])
    plain, _ = accept(x, rule(thresholds=(0.5, 0.5)))
    with_counter, _ = accept(x, rule(thresholds=(0.5, 0.5), negatives=counter, negative_owner=[0]))
    assert plain[0, 0] and not with_counter[0, 0]


def test_background_sentences_count_against_every_narrative():
    background = unit([0, 1, 0, 1])
    x = unit([0, 1, 0, 0.9])
    accepted, _ = accept(x, rule(thresholds=(0.5, 0.5), negatives=background, negative_owner=[-1]))
    assert not accepted.any()


def test_required_terms_gate_acceptance_on_the_wording():
    r = rule(thresholds=(0.5, 0.5), patterns=(r"\b(?:sanction\w*)\b", None))
    texts = ["New sanctions were announced.", "Oil prices rose."]
    gates = requires_gates(texts, r.patterns)
    assert gates.tolist() == [[True, True], [False, True]]
    accepted, _ = accept(unit([1, 0, 0, 0], [1, 0, 0, 0]), r, gates)
    assert accepted[:, 0].tolist() == [True, False]
    with pytest.raises(ValueError, match="pass the paragraphs' texts"):
        requires_gates(None, r.patterns)


def test_requires_terms_match_prefixes_and_phrases_on_word_boundaries():
    cb = parse_codebook({"narratives": [{"name": "S", "description": "one two three",
                                         "requires": ["sanction*", "price cap"]}]})
    pattern = cb.named[0].requires_pattern()
    assert pattern.search("Sanctioned banks") and pattern.search("the oil price  cap")
    assert not pattern.search("consanction") and not pattern.search("price capital")


def test_reduce_sends_weak_matches_to_discovered_narratives_never_to_named_ones():
    # Narrative 0 is named and accepts only the first row; rows 1-2 are near it but not accepted.
    x = unit([1, 0, 0], [0.9, 0.3, 0], [0.8, 0.6, 0], [0, 1, 0], [0.1, 1, 0])
    start = np.array([0, 0, 1, 1, 1])
    fixed = np.array([0, -1, -1, -1, -1])
    topics, _, _, _ = refine_assignments(x, start, min_similarity=0.3, fixed=fixed,
                                         closed=np.array([0]))
    assert topics[0] == 0 and (topics[1:] == 1).all()
    old, _, _, _ = refine_assignments(x, start, min_similarity=0.3, fixed=fixed)
    assert old[1] == 0  # the old rule forced the weak match into the named narrative


def test_build_rule_embeds_descriptions_examples_counter_examples_and_background():
    cb = parse_codebook({
        "narratives": [
            {"name": "A", "description": "alpha one two", "examples": ["alpha three"],
             "counter_examples": ["beta look-alike"], "threshold": 0.6},
            {"name": "B", "description": "beta one two"},
        ],
        "background": ["off the codebook"],
        "acceptance": {"threshold": 0.4, "competitor_margin": 0.05},
    })
    seen = []

    def encode(texts):
        seen.extend(texts)
        return np.eye(len(texts), 8)

    r = build_rule(cb, [3, 7], encode)
    assert seen == ["alpha one two", "alpha three", "beta one two", "beta look-alike",
                    "off the codebook"]
    assert r.ids.tolist() == [3, 7] and r.thresholds.tolist() == pytest.approx([0.6, 0.4])
    assert r.prototype_owner.tolist() == [0, 0, 1] and r.negative_owner.tolist() == [0, -1]
    assert r.competitor_margin == 0.05


def test_a_cluster_emptied_by_named_narratives_leaves_no_remnant():
    from narrative.model import NarrativeModel

    model = NarrativeModel()
    model.min_cluster_size_ = 3
    # Cluster 7 lost four of its five paragraphs to named narrative 0; cluster 8 kept its own.
    start = np.array([0, 0, 0, 0, 7, 8, 8, 8, -1])
    fixed = np.array([0, 0, 0, 0, -1, -1, -1, -1, -1])
    assert model._without_remnants(start, fixed).tolist() == [0, 0, 0, 0, -1, 8, 8, 8, -1]

"""Each narrative's trust figures: a broad narrative of weak matches is flagged as a catch-all,
and each assignment's confidence says how far it clears its narrative's threshold."""

import pandas as pd

from narrative.model.quality import confidence, narrative_quality


def test_a_large_narrative_of_weak_matches_is_a_possible_catch_all():
    narratives = pd.DataFrame({"narrative_id": [-1, 0, 1, 2]})
    probability = [0.2] * 10 + [0.46] * 30 + [0.70] * 30 + [0.50] * 30
    assignments = pd.DataFrame({
        "narrative_id": [-1] * 10 + [0] * 30 + [1] * 30 + [2] * 30, "probability": probability})
    q = narrative_quality(narratives, assignments, {0: 0.45, 1: 0.45}, default_threshold=0.3)
    assert q["0"]["catch_all"] and not q["1"]["catch_all"]  # same share, typical members
    assert not q["2"]["catch_all"]  # discovered: floor 0.3, members well above it
    assert q["0"]["share"] == 0.3 and q["0"]["threshold"] == 0.45
    assert q["1"]["confidence"] == {"high": 30, "medium": 0, "low": 0}
    assert "-1" not in q


def test_confidence_words():
    assert [confidence(p, 0.5) for p in (0.65, 0.55, 0.51)] == ["high", "medium", "low"]

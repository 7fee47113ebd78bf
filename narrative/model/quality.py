"""How much to trust each narrative and each assignment: typicality, confidence, catch-alls.

Every assignment's ``probability`` is its typicality: for a named narrative, the paragraph's best
cosine similarity to the narrative's description or example sentences; for a discovered one, its
similarity to the narrative's centroid. :func:`narrative_quality` summarises each narrative for
the report (its acceptance threshold, median typicality, share, and whether it looks like a
catch-all); :func:`confidence` turns a typicality into the word a report shows.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["CATCH_ALL_SHARE", "confidence", "narrative_quality", "with_nearest_named"]

#: A narrative holding more than this share of all paragraphs is implausibly broad for one claim.
CATCH_ALL_SHARE = 0.15
#: ... and a possible catch-all when its median typicality is also within this of its threshold.
CATCH_ALL_MARGIN = 0.05
#: Typicality above the threshold from which an assignment is "high" / "medium" confidence.
HIGH_ABOVE, MEDIUM_ABOVE = 0.10, 0.03


def confidence(typicality: float, threshold: float) -> str:
    """``high``, ``medium`` or ``low``: how far an assignment's typicality clears its
    narrative's threshold."""
    if typicality >= threshold + HIGH_ABOVE:
        return "high"
    return "medium" if typicality >= threshold + MEDIUM_ABOVE else "low"


def narrative_quality(narratives: pd.DataFrame, assignments: pd.DataFrame,
                      thresholds: dict[int, float], *, default_threshold: float) -> dict[str, dict]:
    """Per narrative id (as text): ``threshold`` (its acceptance threshold; the assignment floor
    for discovered ones), ``share`` of all paragraphs, ``median_typicality``, ``confidence``
    (counts of high / medium / low assignments) and ``catch_all`` (True when it holds more than
    :data:`CATCH_ALL_SHARE` of the paragraphs with a median typicality within
    :data:`CATCH_ALL_MARGIN` of its threshold)."""
    n = max(len(assignments), 1)
    out: dict[str, dict] = {}
    for row in narratives.itertuples():
        nid = int(row.narrative_id)
        if nid == -1:
            continue
        members = assignments.loc[assignments["narrative_id"] == nid, "probability"].astype(float)
        threshold = float(thresholds.get(nid, default_threshold))
        share = len(members) / n
        median = float(np.median(members)) if len(members) else float("nan")
        words = [confidence(p, threshold) for p in members]
        out[str(nid)] = {
            "threshold": round(threshold, 4), "share": round(share, 4),
            "median_typicality": None if np.isnan(median) else round(median, 4),
            "confidence": {w: words.count(w) for w in ("high", "medium", "low")},
            "catch_all": bool(share > CATCH_ALL_SHARE and median < threshold + CATCH_ALL_MARGIN),
        }
    return out


def with_nearest_named(narratives: pd.DataFrame, centroid_ids: Sequence[int],
                       centroids: np.ndarray) -> pd.DataFrame:
    """``narratives`` with, for each discovered narrative, the closest named one by centroid
    cosine similarity (``nearest_named``, ``nearest_named_similarity``).

    Discovered narratives are never merged into named ones; this only tells the analyst which
    codebook entry a discovered narrative sits next to (a candidate for a new seed or entry).
    """
    named = narratives[narratives["kind"] == "named"]
    row_of = {int(t): i for i, t in enumerate(centroid_ids)}
    nearest, similarity = [], []
    for r in narratives.itertuples():
        if r.kind != "discovered" or named.empty or int(r.narrative_id) not in row_of:
            nearest.append(None)
            similarity.append(np.nan)
            continue
        c = centroids[row_of[int(r.narrative_id)]]
        sims = [(float(c @ centroids[row_of[int(n.narrative_id)]]), n.label)
                for n in named.itertuples() if int(n.narrative_id) in row_of]
        best = max(sims) if sims else (np.nan, None)
        nearest.append(best[1])
        similarity.append(best[0])
    return narratives.assign(nearest_named=nearest, nearest_named_similarity=similarity)

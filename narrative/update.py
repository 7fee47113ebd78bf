"""Incremental updates: when to assign new paragraphs with a saved model and when to refit.

A daily re-run on a growing corpus should not refit from scratch: the new paragraphs are embedded
(only those, thanks to the embedding cache) and assigned to the saved model's narratives. A refit is
proposed, not forced, when the new material fits the model poorly or the corpus has grown a lot;
``narrative build --refit`` takes it, and narrative ids then stay stable through
:mod:`narrative.lineage`. Pure functions; the pipeline does the I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping


@dataclass(frozen=True)
class RefitAdvice:
    propose: bool
    reason: str


def refit_advice(
    *,
    n_model: int,
    n_new: int,
    new_unassigned_share: float,
    model_unassigned_share: float,
    margin: float,
    growth: float,
) -> RefitAdvice:
    """Propose a refit when new paragraphs are unassigned far more often than the fitted ones, or
    when the corpus grew by more than ``growth`` times the paragraphs the model was fitted on."""
    if n_new <= 0:
        return RefitAdvice(False, "no new paragraphs")
    excess = new_unassigned_share - model_unassigned_share
    if excess > margin:
        return RefitAdvice(True, (
            f"{new_unassigned_share:.0%} of the {n_new} new paragraphs fit no narrative, against "
            f"{model_unassigned_share:.0%} when the model was fitted (margin {margin:.0%})"
        ))
    if n_model > 0 and n_new / n_model > growth:
        return RefitAdvice(True, (
            f"the corpus grew by {n_new} paragraphs, {n_new / n_model:.0%} of the {n_model} the "
            f"model was fitted on (threshold {growth:.0%})"
        ))
    return RefitAdvice(False, (
        f"{new_unassigned_share:.0%} of {n_new} new paragraphs unassigned "
        f"(fitted: {model_unassigned_share:.0%}); growth {n_new / max(n_model, 1):.0%}"
    ))


def compatible_run(
    runs: Iterable[Mapping], *, model_settings_json: str, codebook_hash: str, not_model: Iterable[str],
    implicit: Mapping[str, Any] | None = None,
) -> str | None:
    """The newest run (``runs`` newest first) fitted with the same model settings and codebook.

    ``runs`` rows hold ``run_id``, ``settings`` (JSON text or dict) and ``codebook_hash``. A stored
    setting at its ``implicit`` value (``config.IMPLICIT_MODEL_SETTINGS``) counts as absent, as
    ``Settings.model_json`` leaves it out: runs stored before the setting existed still match.
    """
    from .config import without_implicit

    wanted = json.loads(model_settings_json)
    skip = set(not_model)
    for run in runs:
        settings = run["settings"]
        settings = json.loads(settings) if isinstance(settings, str) else dict(settings)
        model_part = {k: v for k, v in without_implicit(settings, implicit or {}).items()
                      if k not in skip}
        if run["codebook_hash"] == codebook_hash and model_part == wanted:
            return run["run_id"]
    return None


def map_ids(ids: Iterable[int], id_map: Mapping[int, int] | None) -> list[int]:
    """Raw model topic ids to the run's stable narrative ids (identity without a map)."""
    if not id_map:
        return [int(i) for i in ids]
    return [int(id_map.get(int(i), int(i))) for i in ids]

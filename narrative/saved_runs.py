"""What a store holds about its fitted runs: typed stats, the saved model, the narratives table,
the run a new build can update from, and a run's narratives written back as codebook entries.

Read-only helpers shared by the fit path (:mod:`narrative.runs`), drift, the report and the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from .schema import RunStats
from .store import Store

__all__ = [
    "compatible_run", "load_run_model", "model_dir", "model_run_id", "narrative_table",
    "run_stats", "suggested_codebook", "typical_texts",
]


def run_stats(store: Store, run_id: str) -> RunStats:
    """A stored run's stats, typed (older stores included)."""
    return RunStats.from_dict(store.run(run_id)["stats"], run_id=run_id)


def model_run_id(store: Store, run_id: str) -> str:
    """The run whose saved model a run uses: itself, or for an update the run it updated."""
    return run_stats(store, run_id).model_run or run_id


def model_dir(store: Store, run_id: str) -> Path:
    """Where a run's fitted model is saved: ``models/<run_id>/`` beside the store file."""
    return Path(store.path).parent / "models" / run_id


def load_run_model(store: Store, run_id: str):
    """A run's saved model and its map from the model's topic ids to the run's narrative ids."""
    from .model.persist import load_model

    model_run = model_run_id(store, run_id)
    return load_model(model_dir(store, model_run)), run_stats(store, model_run).id_map_ints()


def narrative_table(store: Store, run_id: str) -> pd.DataFrame:
    """The run's narratives with their kind (named / discovered / off-topic / unassigned): the
    stored column, or for runs stored before it, the run's stats (or the codebook name)."""
    narratives = store.narratives(run_id)
    if narratives["kind"].notna().all():
        return narratives
    kinds = run_stats(store, run_id).kinds
    narratives["kind"] = [
        stored if isinstance(stored, str) else
        kinds.get(str(i), "named" if isinstance(cb, str) and cb else
                  ("unassigned" if i == -1 else "discovered"))
        for i, cb, stored in zip(narratives["narrative_id"], narratives["codebook_name"],
                                 narratives["kind"])
    ]
    return narratives



def compatible_run(
    runs: Iterable[Mapping], *, model_settings_json: str, codebook_hash: str,
    not_model: Iterable[str], implicit: Mapping[str, Any] | None = None,
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




def typical_texts(store: Store, run_id: str, per_narrative: int) -> dict[int, list[str]]:
    """Each narrative's most typical distinct paragraph texts (highest probability first)."""
    frame = store.assignments(run_id).merge(store.paragraphs()[["paragraph_id", "text"]])
    frame = frame.sort_values(["narrative_id", "probability", "paragraph_id"],
                              ascending=[True, False, True])
    return {int(k): g["text"].drop_duplicates().head(per_narrative).tolist()
            for k, g in frame.groupby("narrative_id")}


def suggested_codebook(store: Store, run_id: str, *, examples: int = 3,
                       base: Path | None = None) -> dict[str, Any]:
    """A run's discovered (and off-topic) narratives as codebook entries with their stable ids,
    appended to the codebook at ``base`` when given (entries it already has, by id, are kept)."""
    from .codebook import codebook_document, load_codebook, suggest_entries

    document = suggest_entries(narrative_table(store, run_id), typical_texts(store, run_id, examples),
                               max_examples=examples)
    if base is None:
        return document
    merged = codebook_document(load_codebook(base))
    have = {e.get("id") for e in merged["narratives"] if e.get("id") is not None}
    merged["narratives"] += [e for e in document["narratives"] if e["id"] not in have]
    return merged

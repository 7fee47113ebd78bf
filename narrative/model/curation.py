"""Curation as data: the codebook's edits applied to a run's narratives, without refitting.

An analyst curates in the codebook YAML (:mod:`narrative.codebook`): an entry with the ``id`` of
a run's narrative renames it (its ``name``), marks it off-topic (``kind: off-topic``) or promotes a
discovered narrative to a named one (``kind: named``); ``merge`` folds other narratives (names or
ids) into an entry's narrative; ``drop: true`` sends its paragraphs to unassigned; ``pin`` lists
paragraph ids forced into it; ``split_from`` carves a new narrative out of another one, taking the
members closer to the new entry's example sentences than to the parent's centroid.

:func:`curate` is pure: narratives and assignments in, narratives, assignments and one event per
edit out (the run's lineage records them). Ids are kept: a renamed or merged narrative keeps its
id, so the edits apply again after a refit, whose lineage carries the ids over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import CodebookError
from ..schema import UNASSIGNED_ID
from .neighbours import unit_rows

__all__ = ["Curated", "curate"]


@dataclass(frozen=True)
class Curated:
    narratives: pd.DataFrame
    assignments: pd.DataFrame
    events: list[dict]


def _resolver(narratives: pd.DataFrame, source: str) -> Callable[[str | int], int]:
    """Maps a reference (an id, or a narrative's name or label) to a narrative id."""
    by_name: dict[str, int] = {}
    for row in narratives.itertuples():
        for name in (row.codebook_name, row.label):
            if isinstance(name, str) and name:
                by_name.setdefault(name.lower(), int(row.narrative_id))

    def resolve(ref: str | int) -> int:
        text = str(ref).strip()
        if text.lstrip("-").isdigit():
            return int(text)  # an id: one no longer in the run is reported as missing
        if text.lower() in by_name:
            return by_name[text.lower()]
        raise CodebookError(f"{source}: no narrative {text!r} in this run (give its id, name or "
                            "label as `narrative codebook suggest` writes them)")

    return resolve


def curate(narratives: pd.DataFrame, assignments: pd.DataFrame, codebook, *,
           vectors: np.ndarray | None = None, encode: Callable | None = None,
           source: str | None = None) -> Curated:
    """Apply ``codebook``'s curation entries to a run (see the module docstring).

    ``narratives`` has narrative_id, label, codebook_name, kind (and any other columns, kept);
    ``assignments`` has paragraph_id, narrative_id (and probability, sub_id...). ``vectors``
    (rows aligned with ``assignments``) and ``encode`` are needed only by a split.
    """
    source = source or getattr(codebook, "source", "codebook")
    nar = narratives.copy().reset_index(drop=True)
    asg = assignments.copy().reset_index(drop=True)
    events: list[dict] = []
    if codebook is None or not codebook.curated:
        return Curated(nar, asg, events)
    resolve = _resolver(nar, source)
    row_of = lambda i: nar.index[nar["narrative_id"] == i][0]  # noqa: E731
    for spec in codebook.curated:
        where = f"{source}: narrative {spec.name!r}"
        if spec.split_from is not None:
            nar, asg, event = _split(nar, asg, spec, resolve(spec.split_from), vectors, encode,
                                     where)
            events.append(event)
            resolve = _resolver(nar, source)
            continue
        target = spec.id if spec.id is not None else resolve(spec.name)
        if target not in set(nar["narrative_id"].astype(int)):
            events.append({"event": "missing", "old_ids": [int(target)], "new_ids": [],
                           "label": spec.name})
            continue
        r = row_of(target)
        old_label = str(nar.at[r, "label"])
        if spec.drop:
            asg.loc[asg["narrative_id"] == target, "narrative_id"] = UNASSIGNED_ID
            nar = nar.drop(index=r).reset_index(drop=True)
            events.append({"event": "drop", "old_ids": [int(target)], "new_ids": [],
                           "label": old_label})
            continue
        if spec.id is not None and spec.name != old_label:
            nar.at[r, "label"] = spec.name
            if nar.at[r, "kind"] == "named":
                nar.at[r, "codebook_name"] = spec.name
            events.append({"event": "rename", "old_ids": [int(target)], "new_ids": [int(target)],
                           "old_label": old_label, "label": spec.name})
        if spec.id is not None and spec.kind != nar.at[r, "kind"]:
            events.append({"event": spec.kind if spec.kind != "named" else "promote",
                           "old_ids": [int(target)], "new_ids": [int(target)],
                           "old_kind": str(nar.at[r, "kind"]), "label": spec.name})
            nar.at[r, "kind"] = spec.kind
            nar.at[r, "codebook_name"] = spec.name if spec.kind == "named" else None
        merged = [resolve(ref) for ref in spec.merge]
        present = set(nar["narrative_id"].astype(int))
        for m in dict.fromkeys(m for m in merged if m not in present):
            events.append({"event": "missing", "old_ids": [int(m)], "new_ids": [],
                           "label": spec.name})
        merged = [m for m in dict.fromkeys(merged) if m != target and m in present]
        if merged:
            asg.loc[asg["narrative_id"].isin(merged), "narrative_id"] = target
            nar = nar[~nar["narrative_id"].isin(merged)].reset_index(drop=True)
            events.append({"event": "merge", "old_ids": sorted([int(target), *merged]),
                           "new_ids": [int(target)], "label": spec.name})
        if spec.pin:
            pinned = asg["paragraph_id"].isin(list(spec.pin))
            asg.loc[pinned, "narrative_id"] = target
            events.append({"event": "pin", "old_ids": [], "new_ids": [int(target)],
                           "label": spec.name, "paragraphs": int(pinned.sum()),
                           "not_found": len(set(spec.pin) - set(asg.loc[pinned, "paragraph_id"]))})
        resolve = _resolver(nar, source)
    sizes = asg["narrative_id"].value_counts()
    nar["size"] = nar["narrative_id"].map(sizes).fillna(0).astype(int)
    return Curated(nar, asg, events)


def _split(nar: pd.DataFrame, asg: pd.DataFrame, spec, parent: int, vectors, encode, where: str):
    """Carve ``spec``'s narrative out of ``parent``: members closer to its examples than to the
    parent's centroid move to it (id ``spec.id``, else one above every id)."""
    if vectors is None or encode is None:
        raise CodebookError(f"{where}: a split needs the paragraphs' vectors and the embedding model")
    members = np.flatnonzero(asg["narrative_id"].to_numpy() == parent)
    child = spec.id if spec.id is not None else int(nar["narrative_id"].max()) + 1
    if members.size:
        unit = unit_rows(np.asarray(vectors, dtype=np.float64)[members])
        centroid = unit_rows(unit.mean(axis=0, keepdims=True))[0]
        examples = unit_rows(np.asarray(encode(list(spec.examples)), dtype=np.float64))
        moved = members[(unit @ examples.T).max(axis=1) > unit @ centroid]
        asg.loc[asg.index[moved], "narrative_id"] = child
    parent_row = nar[nar["narrative_id"] == parent].iloc[0].to_dict()
    row = {**parent_row, "narrative_id": child, "label": spec.name, "kind": spec.kind,
           "codebook_name": spec.name if spec.kind == "named" else None,
           "top_terms": list(spec.seeds)}
    nar = pd.concat([nar, pd.DataFrame([row])], ignore_index=True)
    return nar, asg, {"event": "split", "old_ids": [int(parent)],
                      "new_ids": sorted([int(parent), int(child)]), "label": spec.name}


def curated_distributions(distributions: pd.DataFrame, before: pd.DataFrame, after: pd.DataFrame,
                          events: list[dict]) -> pd.DataFrame:
    """Soft mixtures (``paragraph_id, narrative_id, weight``) that agree with a curation: merged
    narratives' weights go to the narrative they joined, dropped ones' are removed (the rest
    rescaled), and a paragraph moved otherwise (pinned, split off, dropped) holds all its weight
    in its new narrative (none when unassigned). ``before`` and ``after`` are the assignments
    (``paragraph_id, narrative_id``) before and after :func:`curate`."""
    if not events or distributions.empty:
        return distributions
    merged = {o: e["new_ids"][0] for e in events if e["event"] == "merge"
              for o in e["old_ids"] if o != e["new_ids"][0]}
    dropped = {o for e in events if e["event"] == "drop" for o in e["old_ids"]}
    out = distributions.assign(narrative_id=distributions["narrative_id"].replace(merged))
    out = out[~out["narrative_id"].isin(list(dropped))]
    was = before.set_index("paragraph_id")["narrative_id"].replace(merged)
    now = after.set_index("paragraph_id")["narrative_id"]
    moved = now.index[(was.reindex(now.index) != now).to_numpy()]
    out = out[~out["paragraph_id"].isin(moved)]
    hard = now.loc[moved]
    hard = hard[hard != UNASSIGNED_ID]
    out = pd.concat([out, pd.DataFrame({"paragraph_id": hard.index, "narrative_id": hard.to_numpy(),
                                        "weight": 1.0})], ignore_index=True)
    out = out.groupby(["paragraph_id", "narrative_id"], as_index=False)["weight"].sum()
    out["weight"] = out["weight"] / out.groupby("paragraph_id")["weight"].transform("sum")
    return out.sort_values(["paragraph_id", "narrative_id"], ignore_index=True)

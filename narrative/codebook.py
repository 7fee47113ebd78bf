"""Codebooks: the named narratives an analyst cares about (YAML), validated on load.

A codebook is used by the model in three ways: each named narrative's description and example
sentences are what a paragraph must be close to for the narrative to accept it (with its
counter-examples and the codebook's ``background`` sentences as what it must be closer to than),
its ``requires`` terms gate acceptance on the paragraph's wording, and its seed terms guide the
clustering and labelling of the rest.

It is also where an analyst curates a run's narratives, as data (:mod:`narrative.model.curation`):
an entry with an ``id`` refers to a narrative of the run by its stable id, so editing the entry
renames it, ``merge`` folds other narratives into it, ``drop`` removes it, ``kind: off-topic`` sets
it apart from the narratives, ``pin`` forces paragraphs into it and ``split_from`` carves it out of
another narrative by its example sentences. ``narrative codebook suggest`` writes the discovered
narratives of a run there with their ids.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from narrative.errors import CodebookError  # noqa: F401 (defined in errors, raised here)

#: Values of an entry's ``kind``: ``named`` entries are matched by the model; ``discovered`` and
#: ``off-topic`` entries (with an ``id``) only curate the narratives a fit discovered.
ENTRY_KINDS = ("named", "discovered", "off-topic")
#: Default acceptance of a named narrative (see :class:`Acceptance`).
DEFAULT_THRESHOLD = 0.45
DEFAULT_BACKGROUND_MARGIN = 0.05
DEFAULT_COMPETITOR_MARGIN = 0.1

_ENTRY_FIELDS = {
    "name", "description", "seeds", "examples", "counter_examples", "requires", "threshold",
    "id", "kind", "merge", "drop", "pin", "split_from",
}
#: Fields that only curate a run's narratives: changing them needs no refit.
CURATION_FIELDS = frozenset({"id", "merge", "drop", "pin", "split_from"})


@dataclass(frozen=True)
class NarrativeSpec:
    """One codebook entry. ``examples`` and ``counter_examples`` are sentences written by the
    analyst (what the narrative says, and what it must not take); ``requires`` are terms of which
    a paragraph must contain at least one (``*`` ends a prefix: ``sanction*``); ``threshold`` is
    the similarity to the description or an example from which the narrative accepts a paragraph.
    """

    name: str
    description: str
    seeds: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    threshold: float | None = None
    id: int | None = None
    kind: str = "named"
    merge: tuple[str, ...] = ()  # names or ids (as text) of narratives folded into this one
    drop: bool = False
    pin: tuple[str, ...] = ()  # paragraph ids forced into this narrative
    split_from: str | None = None  # name or id (as text) of the narrative this one is carved from

    @property
    def prototypes(self) -> tuple[str, ...]:
        """The texts a paragraph is compared with: the description, then the examples."""
        return (self.description, *self.examples)

    def requires_pattern(self) -> re.Pattern | None:
        """A case-insensitive pattern matching any ``requires`` term on word boundaries."""
        if not self.requires:
            return None
        parts = [re.escape(t).replace(r"\*", r"\w*").replace(r"\ ", r"\s+") for t in self.requires]
        return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Acceptance:
    """How named narratives accept paragraphs (the codebook's ``acceptance`` section).

    A paragraph is accepted by a named narrative when (1) it contains one of the narrative's
    ``requires`` terms (if any), (2) its best cosine similarity to the narrative's description or
    examples reaches the narrative's ``threshold`` (else ``threshold`` here), (3) that similarity
    is not below its best similarity to the narrative's counter-examples and the codebook's
    background sentences by more than ``background_margin``, and
    (4) it is no more than ``competitor_margin`` below the paragraph's similarity to the best
    other named narrative. Every narrative that accepts a paragraph carries it (multi-label);
    the most similar one is its hard assignment.
    """

    threshold: float = DEFAULT_THRESHOLD
    background_margin: float = DEFAULT_BACKGROUND_MARGIN
    competitor_margin: float = DEFAULT_COMPETITOR_MARGIN


@dataclass(frozen=True)
class Codebook:
    narratives: tuple[NarrativeSpec, ...] = field(default_factory=tuple)
    source: str = "<memory>"
    background: tuple[str, ...] = ()
    acceptance: Acceptance = Acceptance()

    @property
    def names(self) -> list[str]:
        """Names of the named narratives (those the model matches), in codebook order."""
        return [n.name for n in self.named]

    @property
    def named(self) -> tuple[NarrativeSpec, ...]:
        return tuple(n for n in self.narratives if n.kind == "named" and not n.split_from)

    @property
    def curated(self) -> tuple[NarrativeSpec, ...]:
        """Entries that curate a run's narratives (an id, a merge, a drop, pins or a split)."""
        return tuple(n for n in self.narratives
                     if n.kind != "named" or n.id is not None or n.merge or n.drop or n.pin
                     or n.split_from)

    def fingerprint(self) -> str:
        """sha256 of the codebook's whole content (not its file name): part of every run id."""
        payload = json.dumps([[asdict(n) for n in self.narratives], list(self.background),
                              asdict(self.acceptance)], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def model_fingerprint(self) -> str:
        """sha256 of what the model reads (named entries without their curation fields, the
        background and the acceptance): runs whose codebooks differ only by curation share it,
        so a curated build reuses the fitted model instead of refitting."""
        # An entry with an id is renamed by curation: its name is no part of the model.
        named = [{k: v for k, v in asdict(n).items()
                  if k not in CURATION_FIELDS and not (k == "name" and n.id is not None)}
                 for n in self.named]
        if not self.background and self.acceptance == Acceptance() and all(
                not (n["counter_examples"] or n["requires"] or n["threshold"] is not None)
                for n in named):
            # A codebook of the older form (name, description, seeds, examples): its old hash,
            # so runs stored before curation existed still match.
            named = [{k: n[k] for k in ("name", "description", "seeds", "examples") if k in n}
                     for n in named]
            payload = json.dumps(named, sort_keys=True, ensure_ascii=False)
        else:
            payload = json.dumps([named, list(self.background), asdict(self.acceptance)],
                                 sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.narratives)


def _as_terms(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        raise CodebookError(f"{where}: must be a list of strings")
    return tuple(" ".join(str(v).split()) for v in value if str(v).strip())


def _as_number(value: object, where: str, low: float, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise CodebookError(f"{where}: must be a number from {low} to {high}; got {value!r}")
    return float(value)


def _as_id(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CodebookError(f"{where}: must be a narrative id (a whole number >= 0); got {value!r}")
    return value


def _entry(entry: object, i: int, source: str) -> NarrativeSpec:
    where = f"{source}: narrative #{i}"
    if not isinstance(entry, dict):
        raise CodebookError(f"{where}: expected a mapping with name, description, seeds")
    unknown = set(entry) - _ENTRY_FIELDS
    if unknown:
        raise CodebookError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CodebookError(f"{where}: field 'name' is missing or empty")
    name = " ".join(name.split())
    where = f"{source}: narrative {name!r}"
    if name.lower() == "unassigned":
        raise CodebookError(f"{where}: 'unassigned' is reserved for paragraphs no narrative claims")
    kind = entry.get("kind", "named")
    if kind not in ENTRY_KINDS:
        raise CodebookError(f"{where}: field 'kind' must be one of {', '.join(ENTRY_KINDS)}; "
                            f"got {kind!r}")
    narrative_id = _as_id(entry.get("id"), f"{where}: field 'id'")
    if kind != "named" and narrative_id is None:
        raise CodebookError(f"{where}: a {kind} entry needs the 'id' of the run's narrative it "
                            "curates (`narrative codebook suggest` writes it)")
    # A named entry is matched by its description; curating entries need none.
    matched = kind == "named" and entry.get("split_from") is None
    description = entry.get("description", None if matched else "")
    if not isinstance(description, str) or (matched and len(description.split()) < 3):
        raise CodebookError(f"{where}: field 'description' must be a sentence (3+ words)")
    drop = entry.get("drop", False)
    if not isinstance(drop, bool):
        raise CodebookError(f"{where}: field 'drop' must be true or false")
    split_from = entry.get("split_from")
    if split_from is not None and not isinstance(split_from, (str, int)):
        raise CodebookError(f"{where}: field 'split_from' must be a narrative name or id")
    spec = NarrativeSpec(
        name=name,
        description=" ".join(description.split()),
        seeds=_as_terms(entry.get("seeds"), f"{where}: field 'seeds'"),
        examples=_as_terms(entry.get("examples"), f"{where}: field 'examples'"),
        counter_examples=_as_terms(entry.get("counter_examples"),
                                   f"{where}: field 'counter_examples'"),
        requires=_as_terms(entry.get("requires"), f"{where}: field 'requires'"),
        threshold=_as_number(entry.get("threshold"), f"{where}: field 'threshold'", -1.0, 1.0),
        id=narrative_id, kind=kind,
        merge=_as_terms(entry.get("merge"), f"{where}: field 'merge'"),
        drop=drop,
        pin=_as_terms(entry.get("pin"), f"{where}: field 'pin'"),
        split_from=None if split_from is None else str(split_from),
    )
    if spec.split_from is not None and not spec.examples:
        raise CodebookError(f"{where}: a split needs 'examples' (the sentences that decide which "
                            "paragraphs move to the new narrative)")
    return spec


def _acceptance(value: object, source: str) -> Acceptance:
    if value is None:
        return Acceptance()
    where = f"{source}: acceptance"
    if not isinstance(value, dict):
        raise CodebookError(f"{where}: expected a mapping (threshold, background_margin, "
                            "competitor_margin)")
    unknown = set(value) - {"threshold", "background_margin", "competitor_margin"}
    if unknown:
        raise CodebookError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    default = Acceptance()
    return Acceptance(**{
        key: _as_number(value.get(key), f"{where}: field {key!r}", -1.0, 1.0)
        if value.get(key) is not None else getattr(default, key)
        for key in ("threshold", "background_margin", "competitor_margin")
    })


def parse_codebook(data: object, *, source: str = "<memory>") -> Codebook:
    """Validate a parsed YAML document and build a :class:`Codebook`."""
    if not isinstance(data, dict) or "narratives" not in data:
        raise CodebookError(f"{source}: expected a mapping with a 'narratives' list")
    unknown = set(data) - {"narratives", "background", "acceptance"}
    if unknown:
        raise CodebookError(f"{source}: unknown section(s) {', '.join(sorted(unknown))} "
                            "(known: narratives, background, acceptance)")
    entries = data["narratives"]
    if not isinstance(entries, list) or not entries:
        raise CodebookError(f"{source}: 'narratives' must be a non-empty list")
    specs = [_entry(entry, i, source) for i, entry in enumerate(entries, start=1)]
    seen: set[str] = set()
    ids: set[int] = set()
    for spec in specs:
        where = f"{source}: narrative {spec.name!r}"
        if spec.name.lower() in seen:
            raise CodebookError(f"{where}: duplicate name")
        seen.add(spec.name.lower())
        if spec.id is not None:
            if spec.id in ids:
                raise CodebookError(f"{where}: id {spec.id} is given to two entries")
            ids.add(spec.id)
    return Codebook(tuple(specs), source=source,
                    background=_as_terms(data.get("background"), f"{source}: background"),
                    acceptance=_acceptance(data.get("acceptance"), source))


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load a codebook YAML file, or the shipped default when ``path`` is None."""
    import yaml

    if path is None:
        text = resources.files("narrative").joinpath("data/codebook.yaml").read_text("utf-8")
        source = "default codebook"
    else:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CodebookError(f"{path}: cannot read codebook ({exc.strerror})") from exc
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise CodebookError(f"{source}:{line} invalid YAML ({getattr(exc, 'problem', exc)})") from exc
    return parse_codebook(data, source=source)


def codebook_document(codebook) -> dict:
    """A codebook as the YAML/JSON document :func:`narrative.codebook.parse_codebook` reads
    (fields at their default left out), so a saved model keeps every field it was fitted with."""
    entries = []
    for n in codebook.narratives:
        entry = {"name": n.name, "description": n.description, "seeds": list(n.seeds),
                 "examples": list(n.examples)}
        optional = {"counter_examples": list(n.counter_examples), "requires": list(n.requires),
                    "threshold": n.threshold, "id": n.id,
                    "kind": None if n.kind == "named" else n.kind, "merge": list(n.merge),
                    "drop": n.drop or None, "pin": list(n.pin), "split_from": n.split_from}
        entry.update({k: v for k, v in optional.items() if v not in (None, [])})
        entries.append(entry)
    doc: dict = {"narratives": entries}
    if codebook.background:
        doc["background"] = list(codebook.background)
    if codebook.acceptance != Acceptance():
        doc["acceptance"] = asdict(codebook.acceptance)
    return doc


def suggest_entries(narratives, examples: dict[int, list[str]], *, max_examples: int = 3) -> dict:
    """Codebook entries for the discovered and off-topic narratives of a run, largest first, as a
    YAML-ready dict.

    ``narratives`` has columns narrative_id, label, kind, top_terms, size; ``examples`` maps a
    narrative id to its most typical paragraphs. Each entry carries the narrative's stable ``id``
    and ``kind``, so that editing it curates that narrative (rename, merge, drop, mark off-topic)
    in the next build, or, with ``kind: named`` and a rewritten description, promotes it to a
    named narrative. The description is a placeholder built from the terms.
    """
    entries = []
    kept = narratives[narratives["kind"].isin(["discovered", "off-topic"])]
    for row in kept.sort_values(["size", "narrative_id"], ascending=[False, True]).itertuples():
        terms = list(row.top_terms)[:10]
        entries.append(
            {
                "name": str(row.label),
                "id": int(row.narrative_id),
                "kind": str(row.kind),
                "description": "Paragraphs about " + ", ".join(terms[:6]) + ". (rewrite as a sentence)",
                "seeds": terms,
                "examples": [" ".join(t.split()) for t in examples.get(int(row.narrative_id), [])][:max_examples],
            }
        )
    return {"narratives": entries}

"""Codebooks: the named narratives an analyst cares about (YAML), validated on load.

A codebook is used twice by the model: each narrative's description is a zero-shot topic, and its
seed terms guide clustering and labelling of the rest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from narrative.errors import CodebookError  # noqa: F401 (defined in errors, raised here)



@dataclass(frozen=True)
class NarrativeSpec:
    name: str
    description: str
    seeds: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Codebook:
    narratives: tuple[NarrativeSpec, ...] = field(default_factory=tuple)
    source: str = "<memory>"

    @property
    def names(self) -> list[str]:
        return [n.name for n in self.narratives]

    def fingerprint(self) -> str:
        """sha256 of the codebook's content (not its file name): recorded with every run."""
        payload = json.dumps([asdict(n) for n in self.narratives], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.narratives)


def _as_terms(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise CodebookError(f"{where}: must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def parse_codebook(data: object, *, source: str = "<memory>") -> Codebook:
    """Validate a parsed YAML document and build a :class:`Codebook`."""
    if not isinstance(data, dict) or "narratives" not in data:
        raise CodebookError(f"{source}: expected a mapping with a 'narratives' list")
    entries = data["narratives"]
    if not isinstance(entries, list) or not entries:
        raise CodebookError(f"{source}: 'narratives' must be a non-empty list")
    specs: list[NarrativeSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, start=1):
        where = f"{source}: narrative #{i}"
        if not isinstance(entry, dict):
            raise CodebookError(f"{where}: expected a mapping with name, description, seeds")
        unknown = set(entry) - {"name", "description", "seeds", "examples"}
        if unknown:
            raise CodebookError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise CodebookError(f"{where}: field 'name' is missing or empty")
        name = name.strip()
        where = f"{source}: narrative {name!r}"
        if name.lower() in seen:
            raise CodebookError(f"{where}: duplicate name")
        if name.lower() == "unassigned":
            raise CodebookError(f"{where}: 'unassigned' is reserved for paragraphs no narrative claims")
        seen.add(name.lower())
        description = entry.get("description")
        if not isinstance(description, str) or len(description.split()) < 3:
            raise CodebookError(f"{where}: field 'description' must be a sentence (3+ words)")
        specs.append(
            NarrativeSpec(
                name=name,
                description=" ".join(description.split()),
                seeds=_as_terms(entry.get("seeds"), f"{where}: field 'seeds'"),
                examples=_as_terms(entry.get("examples"), f"{where}: field 'examples'"),
            )
        )
    return Codebook(tuple(specs), source=source)


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


def suggest_entries(narratives, examples: dict[int, list[str]], *, max_examples: int = 3) -> dict:
    """Codebook entries proposed from discovered narratives, largest first, as a YAML-ready dict.

    ``narratives`` has columns narrative_id, label, kind, top_terms, size; ``examples`` maps a
    narrative id to its most typical paragraphs. The description is a placeholder built from the
    terms: an analyst should rewrite it as a sentence before using the entry.
    """
    entries = []
    discovered = narratives[narratives["kind"] == "discovered"].sort_values("size", ascending=False)
    for row in discovered.itertuples():
        terms = list(row.top_terms)[:10]
        entries.append(
            {
                "name": str(row.label),
                "description": "Paragraphs about " + ", ".join(terms[:6]) + ". (rewrite as a sentence)",
                "seeds": terms,
                "examples": [" ".join(t.split()) for t in examples.get(int(row.narrative_id), [])][:max_examples],
            }
        )
    return {"narratives": entries}

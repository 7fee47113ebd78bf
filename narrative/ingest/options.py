"""How to read the input, as the user says it (the CLI's flags, a library caller's arguments).

:class:`ReadOptions` is the spec; the readers resolve it into the rules and column map they apply
(:class:`narrative.ingest.assemble.IngestOptions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ReadOptions"]


@dataclass(frozen=True)
class ReadOptions:
    """How to read the input: boilerplate rules, table columns, date order, links."""

    boilerplate: str | Path | bool = True
    """True: the shipped rules; a path: a YAML rules file (extends the defaults); False: keep all."""
    columns: dict[str, str] = field(default_factory=dict)
    """Explicit table columns by field (text, date, outlet, title, author, url, id, lang)."""
    day_first: bool | None = None
    """Force day/month order for dates like 03/04/2025 (None: the documented rule)."""
    follow_links: bool = False
    """Follow links (files and folders) that point outside the sources given; by default they
    are skipped with a warning naming them."""

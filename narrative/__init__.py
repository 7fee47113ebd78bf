"""narrative: narratives in news coverage, their weight by outlet and date, and their drift.

Importing this package loads no heavy library and changes no global state; the names below are
resolved on first use. ``narrative.ingest`` is the subpackage of readers; the one call that reads
files into a store is :func:`ingest_articles`.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

_EXPORTS = {
    "Settings": "narrative.config",
    "load_settings": "narrative.config",
    "Codebook": "narrative.codebook",
    "load_codebook": "narrative.codebook",
    "codebook_document": "narrative.codebook",
    "NarrativeError": "narrative.errors",
    "Store": "narrative.store",
    "NarrativeModel": "narrative.model",
    "ingest_sources": "narrative.ingest",
    "segment_articles": "narrative.segment",
    "load_embedder": "narrative.embed",
    "labelled_paragraphs": "narrative.drift",
    "narrative_shares": "narrative.drift",
    "outlet_shares": "narrative.drift",
    "change_points": "narrative.drift",
    "generate_demo_corpus": "narrative.sample",
    "write_demo_corpus": "narrative.sample",
    "fit_run": "narrative.runs",
    "narrative_table": "narrative.runs",
    "suggested_codebook": "narrative.saved_runs",
    "ingest_articles": "narrative.pipeline",
    "compute_drift": "narrative.pipeline",
    "write_report": "narrative.pipeline",
    "build": "narrative.pipeline",
    "demo": "narrative.pipeline",
    "paragraphs": "narrative.query",
    "export_paragraphs": "narrative.export",
    "export_tables": "narrative.export",
    "write_explorer": "narrative.explore",
}
_RENAMED = {"ingest": "ingest_articles"}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        hint = f"; it is now {_RENAMED[name]!r}" if name in _RENAMED else ""
        raise AttributeError(f"module 'narrative' has no attribute {name!r}{hint}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

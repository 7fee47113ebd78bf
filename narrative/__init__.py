"""narrative: narratives in news coverage, their weight by outlet and date, and their drift.

Importing this package loads no heavy library and changes no global state; the names below are
resolved on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Settings": "narrative.config",
    "load_settings": "narrative.config",
    "Codebook": "narrative.codebook",
    "load_codebook": "narrative.codebook",
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
    "compute_drift": "narrative.pipeline",
    "write_report": "narrative.pipeline",
    "build": "narrative.pipeline",
    "demo": "narrative.pipeline",
}

__all__ = sorted(_EXPORTS) + ["__version__", "ingest"]

# ``narrative.ingest`` is both a subpackage and the pipeline's ingest function. Importing the
# subpackage (which any stage may do) sets the package attribute to the module, so the subpackage
# is imported here first, once, and the attribute is then bound to the function for good.
from . import ingest as _ingest_package  # noqa: E402,F401


def ingest(sources, store, **kwargs):
    """Read, clean, segment and dedup ``sources`` into ``store``: see :func:`narrative.pipeline.ingest`."""
    from .pipeline import ingest as run_ingest

    return run_ingest(sources, store, **kwargs)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'narrative' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

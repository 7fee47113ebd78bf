"""Persistent caching of umap-learn's numba-compiled functions across processes.

pynndescent caches its compiled code on disk (``cache=True``), but most of umap-learn's functions
are compiled anew in every process, which costs more than the whole work on a small corpus
(docs/performance.md). Numba dispatchers can switch on the same on-disk cache after definition
(``Dispatcher.enable_caching``), which is what this module does for umap's modules, once per process.

The cache lives where numba puts it: ``__pycache__`` beside umap's sources when writable, else the
user cache directory; ``NUMBA_CACHE_DIR`` moves it. Entries are keyed by the source files' stamps and
the CPU, so upgrading umap-learn or moving to another machine recompiles instead of reusing stale code.
Set ``NARRATIVE_NUMBA_CACHE=0`` to turn it off.
"""

from __future__ import annotations

import importlib
import logging
import os

log = logging.getLogger("narrative")

_UMAP_MODULES = ("umap.umap_", "umap.layouts", "umap.utils", "umap.distances", "umap.spectral",
                 "umap.sparse")
_enabled = False


def enable_umap_cache() -> int:
    """Turn on numba's on-disk cache for umap's compiled functions; returns how many were switched.

    Idempotent; a no-op when ``NARRATIVE_NUMBA_CACHE=0`` or when numba's internals differ from what
    this expects (then umap simply compiles as usual).
    """
    global _enabled
    if _enabled or os.environ.get("NARRATIVE_NUMBA_CACHE", "1") == "0":
        return 0
    _enabled = True
    try:
        from numba.core.caching import NullCache
        from numba.core.registry import CPUDispatcher
    except ImportError:  # pragma: no cover - numba layout changed
        return 0
    switched = 0
    for name in _UMAP_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for obj in vars(module).values():
            if isinstance(obj, CPUDispatcher) and isinstance(getattr(obj, "_cache", None), NullCache):
                try:
                    obj.enable_caching()
                    switched += 1
                except Exception as exc:  # pragma: no cover - e.g. a function numba cannot cache
                    log.debug("numba cache not enabled for %s: %s", obj, exc)
    return switched

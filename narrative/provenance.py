"""What a run records about itself: library versions and the fingerprint of its input."""

from __future__ import annotations

import platform

import pandas as pd

from .schema import content_hash

__all__ = ["library_versions", "input_fingerprint"]

#: The libraries whose versions a run records (a result depends on them).
RECORDED_LIBRARIES = ("narrative", "bertopic", "umap-learn", "hdbscan", "sentence-transformers",
                      "torch", "scikit-learn", "duckdb", "numpy", "pandas")


def library_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Python's version and each recorded library's (``"not installed"`` when absent)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in RECORDED_LIBRARIES + extra:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def input_fingerprint(paragraphs: pd.DataFrame) -> str:
    """Hash of the paragraph ids (content hashes) a run was fitted on, order-independent."""
    return content_hash(*sorted(paragraphs["paragraph_id"]))

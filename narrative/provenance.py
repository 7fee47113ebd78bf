"""What a run records about itself: library versions, the fingerprint of its input, and the
command and files that produced it (so that a reader can cite and repeat it)."""

from __future__ import annotations

import hashlib
import platform
import shlex
from pathlib import Path
from typing import Sequence

import pandas as pd

from .schema import content_hash

__all__ = ["build_provenance", "command_line", "file_sha256", "input_fingerprint", "library_versions"]

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


def command_line(argv: Sequence[str]) -> str:
    """``argv`` as a shell would take it, led by ``narrative`` (what a reader types to repeat it)."""
    return shlex.join(["narrative", *map(str, argv)])


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_provenance(*, command: str | None, manifest: str | Path | None,
                     codebook: str | Path | None, config: str | Path | None = None) -> dict:
    """What a build records beside its settings: the command line (None for a library call) and
    the name and SHA-256 of each input file that is not an article (manifest, codebook, config);
    a file not given is left out."""
    files = {role: {"name": Path(path).name, "sha256": file_sha256(path)}
             for role, path in (("manifest", manifest), ("codebook", codebook), ("config", config))
             if path is not None}
    return {"command": command, "files": files}

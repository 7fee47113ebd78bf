"""Ingestion: files and folders of articles -> :class:`~narrative.schema.Article` records.

``ingest_sources`` is the stage's entry point; ``read_manifest`` and ``clean_text`` are public
because the CLI and notebooks use them on their own.
"""

from __future__ import annotations

from narrative.ingest.clean import clean_text
from narrative.ingest.manifest import ManifestError, read_manifest
from narrative.ingest.readers import IngestResult, ingest_sources

__all__ = ["IngestResult", "ManifestError", "clean_text", "ingest_sources", "read_manifest"]

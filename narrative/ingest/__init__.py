"""Ingestion: files and folders of articles -> :class:`~narrative.schema.Article` records.

``ingest_sources`` is the stage's entry point (``iter_records`` streams the same records);
``ingest_into_store`` streams them into a store in batches (bounded memory, same result);
``read_manifest``, ``load_rules`` and ``clean_text`` are public because the CLI and notebooks use
them on their own.
"""

from __future__ import annotations

from narrative.ingest.assemble import ColumnMap, IngestOptions
from narrative.ingest.boilerplate import BoilerplateError, load_rules, remove_boilerplate
from narrative.ingest.clean import clean_text
from narrative.ingest.manifest import ManifestError, read_manifest
from narrative.ingest.readers import IngestResult, ingest_sources, iter_records
from narrative.ingest.stream import StreamSummary, ingest_into_store

__all__ = ["BoilerplateError", "ColumnMap", "IngestOptions", "IngestResult", "ManifestError",
           "StreamSummary", "clean_text", "ingest_into_store", "ingest_sources", "iter_records",
           "load_rules", "read_manifest", "remove_boilerplate"]

"""The store's tables: DDL (applied in order on every writable open, so older stores gain new
tables and columns) and the column lists the store reads and writes."""

SCHEMA_VERSION = 1

DDL = [
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS articles (
        article_id VARCHAR PRIMARY KEY, source_id VARCHAR, outlet VARCHAR, date DATE,
        author VARCHAR, title VARCHAR, url VARCHAR, source VARCHAR, lang VARCHAR,
        text VARCHAR NOT NULL, meta JSON, duplicate_of VARCHAR, ingested_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS removed (
        article_id VARCHAR, start INTEGER, "end" INTEGER, text VARCHAR, rule VARCHAR,
        PRIMARY KEY (article_id, start))""",
    """CREATE TABLE IF NOT EXISTS rejects (
        source VARCHAR, position VARCHAR, excerpt VARCHAR, reason VARCHAR, ingested_at TIMESTAMP,
        PRIMARY KEY (source, position))""",
    """CREATE TABLE IF NOT EXISTS paragraphs (
        paragraph_id VARCHAR PRIMARY KEY, article_id VARCHAR NOT NULL, position INTEGER,
        start INTEGER, "end" INTEGER, text VARCHAR, text_hash VARCHAR, n_tokens INTEGER,
        duplicate_of VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS embeddings (
        text_hash VARCHAR, model_id VARCHAR, vector FLOAT[], PRIMARY KEY (text_hash, model_id))""",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, settings JSON, codebook_hash VARCHAR,
        versions JSON, seed INTEGER, input_fingerprint VARCHAR, stats JSON)""",
    """CREATE TABLE IF NOT EXISTS narratives (
        run_id VARCHAR, narrative_id INTEGER, label VARCHAR, codebook_name VARCHAR,
        top_terms JSON, size INTEGER, PRIMARY KEY (run_id, narrative_id))""",
    # named / discovered / off-topic / unassigned; NULL in runs stored before the column, whose
    # kinds are in the run's stats (narrative.saved_runs.narrative_table reads either).
    """ALTER TABLE narratives ADD COLUMN IF NOT EXISTS kind VARCHAR""",
    """CREATE TABLE IF NOT EXISTS assignments (
        run_id VARCHAR, paragraph_id VARCHAR, narrative_id INTEGER, probability DOUBLE,
        PRIMARY KEY (run_id, paragraph_id))""",
    # Stores written before sub-narratives gain the column here (-1: no sub-narrative).
    """ALTER TABLE assignments ADD COLUMN IF NOT EXISTS sub_id INTEGER DEFAULT -1""",
    """CREATE TABLE IF NOT EXISTS subnarratives (
        run_id VARCHAR, narrative_id INTEGER, sub_id INTEGER, label VARCHAR, top_terms JSON,
        size INTEGER, PRIMARY KEY (run_id, narrative_id, sub_id))""",
    # Each assigned paragraph's soft narrative mixture, sparse (weights >= MIN_STORED_WEIGHT,
    # rescaled to sum to one: narrative.model.assign.sparse_distribution). Logically keyed by (run_id,
    # paragraph_id, narrative_id); no index, as rows are only written whole by save_run and an
    # index over several rows per paragraph would cost more on insert than it checks.
    """CREATE TABLE IF NOT EXISTS distributions (
        run_id VARCHAR, paragraph_id VARCHAR, narrative_id INTEGER, weight DOUBLE)""",
    # Copy-detection sketches (narrative.dedup.Sketches) of stored articles and of their
    # paragraphs, written in the transaction that writes the article, so an ingest adding a few
    # articles feeds the stored ones to its copy indexes without re-reading and re-sketching
    # them. All rows were made under the parameters in meta 'sketch_params'; signature: one byte
    # per permutation, bands: little-endian uint32 per LSH band, both NULL when n_shingles is 0
    # (too short for near matching). Stores from before these tables get them empty here.
    """CREATE TABLE IF NOT EXISTS article_sketches (
        article_id VARCHAR PRIMARY KEY, exact_key UBIGINT NOT NULL, n_shingles INTEGER NOT NULL,
        signature BLOB, bands BLOB)""",
    """CREATE TABLE IF NOT EXISTS paragraph_sketches (
        paragraph_id VARCHAR PRIMARY KEY, article_id VARCHAR NOT NULL, position INTEGER NOT NULL,
        exact_key UBIGINT NOT NULL, n_shingles INTEGER NOT NULL, signature BLOB, bands BLOB)""",
    # Input records already assembled into a stored article (narrative.ingest.assemble): the
    # key hashes the raw record with the ingest options and code, so a re-run that reads the
    # same record again takes its article id from here instead of cleaning, reading metadata
    # and cutting boilerplate again. Written after the articles; a key always names a stored one.
    """CREATE TABLE IF NOT EXISTS record_keys (
        record_key VARCHAR PRIMARY KEY, article_id VARCHAR NOT NULL)""",
]

#: Tables holding one run's rows, all deleted and rewritten together by ``Store.save_run``.
RUN_TABLES = ("assignments", "narratives", "subnarratives", "distributions", "runs")
DISTRIBUTION_COLUMNS = ["paragraph_id", "narrative_id", "weight"]
#: Columns of the two sketch tables, as :meth:`Store.add_sketches` takes them.
SKETCH_COLUMNS = ["exact_key", "n_shingles", "signature", "bands"]
ARTICLE_SKETCH_COLUMNS = ["article_id", *SKETCH_COLUMNS]
PARAGRAPH_SKETCH_COLUMNS = ["paragraph_id", "article_id", "position", *SKETCH_COLUMNS]

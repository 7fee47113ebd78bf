"""The DuckDB store: one file holding every stage's tables, keyed by content hashes.

Writes are transactions, so a crash leaves the store as it was before the write. DuckDB allows one
writing process per file; a second one gets :class:`StoreLockedError` with a clear message. A file
that DuckDB cannot read (truncated, bit-flipped) or write (a full disk) is a :class:`StoreError`
naming the file and what to do, whichever query met the damage (see :meth:`Store.__exit__`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..frames import isin
from ..schema import Article, Paragraph, Reject
from ..errors import StoreError, StoreLockedError  # noqa: F401 (defined in errors, raised here)

from .tables import (  # noqa: F401 (the store's public constants)
    ARTICLE_SKETCH_COLUMNS, DDL, DISTRIBUTION_COLUMNS, PARAGRAPH_SKETCH_COLUMNS, RUN_TABLES,
    SCHEMA_VERSION, SKETCH_COLUMNS,
)


#: Words of DuckDB's messages for a file it cannot read back: cut short or altered on disk.
_DAMAGE_WORDS = ("corrupt", "checksum", "could not read enough bytes", "not a valid duckdb")


def _store_failure(path: str, exc: BaseException | None) -> StoreError | None:
    """``exc`` as a :class:`StoreError` when it is DuckDB failing to read or write the file itself
    (damage, a full disk), else None: a DuckDB error of any other kind is a bug and keeps its
    traceback."""
    import duckdb

    if exc is None or isinstance(exc, StoreError) or not isinstance(exc, duckdb.Error):
        return None
    message = " ".join(str(exc).split())
    if any(word in message.lower() for word in _DAMAGE_WORDS):
        return StoreError(
            f"{path}: the store file is damaged ({message}); restore it from a backup, or move it "
            "away and run `narrative build` again to rebuild it from the sources"
        )
    if isinstance(exc, duckdb.IOException):
        return StoreError(f"{path}: cannot read or write the store ({message}); check the disk "
                          "(free space, permissions) and run again")
    return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


@dataclass
class RunRecord:
    run_id: str
    settings: dict
    codebook_hash: str
    versions: dict
    seed: int
    input_fingerprint: str
    stats: dict


class Store:
    """A DuckDB file (or ``":memory:"``) with the tables of DESIGN.md. Use as a context manager."""

    def __init__(self, path: str | Path = "narrative.duckdb", *, read_only: bool = False):
        import duckdb

        self.path = str(path)
        self._depth = 0  # nesting of transaction() blocks
        if self.path != ":memory:":
            if read_only and not Path(self.path).exists():
                raise StoreError(f"{self.path}: no such store; run `narrative build` or `ingest` first")
            if not read_only:
                from ..io import prepare_output_dir

                prepare_output_dir(Path(self.path).parent)
        try:
            self.con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
                raise StoreLockedError(
                    f"{self.path} is in use by another narrative process; wait for it to finish "
                    "or use another --store"
                ) from exc
            failure = _store_failure(self.path, exc)
            raise failure or StoreError(f"{self.path}: cannot open store ({exc})") from exc
        if not read_only:
            try:
                self._migrate()
            except BaseException as exc:
                self.con.close()
                failure = _store_failure(self.path, exc)
                if failure is None:
                    raise
                raise failure from exc

    # -- lifecycle -----------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self.transaction():
            for ddl in DDL:
                self.con.execute(ddl).fetchall()
            row = self.one("SELECT value FROM meta WHERE key = 'schema_version'")
            if row is None:
                self.con.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
                ).fetchall()
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer narrative (schema {row[0]}); upgrade narrative"
                )

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        """Close the store; a DuckDB error that means the file cannot be read or written (damaged,
        a full disk) leaves the ``with`` block as a :class:`StoreError` naming the file."""
        self.close()
        failure = _store_failure(self.path, exc)
        if failure is not None:
            raise failure from exc

    def one(self, sql: str, params: list | None = None) -> tuple | None:
        """First row of a query (the result is consumed fully, as DuckDB requires)."""
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0] if rows else None

    def transaction(self) -> "_Transaction":
        """``with store.transaction():`` commits the writes inside at the end, or none of them.

        Blocks nest: an inner block joins the outer transaction, so several ``add_*`` calls wrapped
        in one block (a whole ingest) are committed together or not at all.
        """
        return _Transaction(self)

    # -- ingest ------------------------------------------------------------------------------
    def add_articles(self, articles: Sequence[Article]) -> int:
        """Insert articles not yet stored; returns how many were new."""
        if not articles:
            return 0
        now = _now()
        frame = pd.DataFrame(
            {
                "article_id": [a.article_id for a in articles],
                "source_id": [a.source_id for a in articles],
                "outlet": [a.outlet for a in articles],
                "date": pd.to_datetime([a.date for a in articles]).date
                if any(a.date for a in articles)
                else [None] * len(articles),
                "author": [a.author for a in articles],
                "title": [a.title for a in articles],
                "url": [a.url for a in articles],
                "source": [a.source for a in articles],
                "lang": [a.lang for a in articles],
                "text": [a.text for a in articles],
                "meta": [json.dumps(a.meta, sort_keys=True, default=str) for a in articles],
                "duplicate_of": [a.duplicate_of for a in articles],
                "ingested_at": [now] * len(articles),
            }
        ).drop_duplicates("article_id")
        return self._insert_new("articles", frame, ["article_id"])

    def add_rejects(self, rejects: Sequence[Reject]) -> int:
        if not rejects:
            return 0
        frame = pd.DataFrame(
            {
                "source": [r.source for r in rejects],
                "position": [r.position for r in rejects],
                "excerpt": [r.excerpt[:500] for r in rejects],
                "reason": [r.reason for r in rejects],
                "ingested_at": [_now()] * len(rejects),
            }
        ).drop_duplicates(["source", "position"])
        return self._insert_new("rejects", frame, ["source", "position"])

    def add_removed(self, rows: Sequence[dict]) -> int:
        """Insert boilerplate cuts (``article_id, start, end, text, rule``) not yet stored."""
        if not rows:
            return 0
        frame = pd.DataFrame(
            {
                "article_id": [r["article_id"] for r in rows],
                "start": [int(r["start"]) for r in rows],
                "end": [int(r["end"]) for r in rows],
                "text": [r["text"] for r in rows],
                "rule": [r["rule"] for r in rows],
            }
        ).drop_duplicates(["article_id", "start"])
        return self._insert_new("removed", frame, ["article_id", "start"])

    def add_paragraphs(self, paragraphs: Sequence[Paragraph]) -> int:
        if not paragraphs:
            return 0
        frame = pd.DataFrame(
            {
                "paragraph_id": [p.paragraph_id for p in paragraphs],
                "article_id": [p.article_id for p in paragraphs],
                "position": [p.position for p in paragraphs],
                "start": [p.start for p in paragraphs],
                "end": [p.end for p in paragraphs],
                "text": [p.text for p in paragraphs],
                "text_hash": [p.text_hash for p in paragraphs],
                "n_tokens": [p.n_tokens for p in paragraphs],
                "duplicate_of": [p.duplicate_of for p in paragraphs],
            }
        ).drop_duplicates("paragraph_id")
        return self._insert_new("paragraphs", frame, ["paragraph_id"])

    def _insert_new(self, table: str, frame: pd.DataFrame, key: list[str]) -> int:
        """Insert the rows of ``frame`` whose key is not in ``table``, in one transaction."""
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        on = " AND ".join(f't."{k}" = f."{k}"' for k in key)
        with self.transaction():
            self.con.register("_incoming", frame)
            try:
                before = self.count(table)
                self.con.execute(
                    f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _incoming f "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})"
                ).fetchall()
                return self.count(table) - before
            finally:
                self.con.unregister("_incoming")

    # -- copy-detection sketches ---------------------------------------------------------------
    def sketch_params(self) -> dict | None:
        """The parameters the stored sketches were made under (None: never recorded)."""
        row = self.one("SELECT value FROM meta WHERE key = 'sketch_params'")
        return None if row is None else json.loads(row[0])

    def reset_sketches(self, params: dict) -> None:
        """Delete every stored sketch and record ``params`` as those of the sketches to come:
        sketches made under other parameters are made again, never misread."""
        with self.transaction():
            for table in ("article_sketches", "paragraph_sketches"):
                self.con.execute(f"DELETE FROM {table}").fetchall()
            self.con.execute("INSERT OR REPLACE INTO meta VALUES ('sketch_params', ?)",
                             [json.dumps(params, sort_keys=True)]).fetchall()

    def add_sketches(self, articles: pd.DataFrame, paragraphs: pd.DataFrame) -> int:
        """Insert article sketches (:data:`ARTICLE_SKETCH_COLUMNS`) and paragraph sketches
        (:data:`PARAGRAPH_SKETCH_COLUMNS`) not yet stored, in one transaction; returns how
        many articles were new. Write them in the transaction that writes the articles and
        paragraphs: a stored article sketch stands for the article's paragraph sketches too."""
        with self.transaction():
            new = 0
            if len(articles):
                new = self._insert_new("article_sketches", articles[ARTICLE_SKETCH_COLUMNS]
                                       .drop_duplicates("article_id"), ["article_id"])
            if len(paragraphs):
                self._insert_new("paragraph_sketches", paragraphs[PARAGRAPH_SKETCH_COLUMNS]
                                 .drop_duplicates("paragraph_id"), ["paragraph_id"])
            return new

    def sketched_articles(self, article_ids: Sequence[str]) -> np.ndarray:
        """For each id (bool, in order): the article is stored with its sketch, and so with its
        paragraphs and their sketches."""
        ids = pd.DataFrame({"article_id": pd.Series(list(article_ids), dtype=object),
                            "pos": np.arange(len(article_ids), dtype=np.int64)})
        found = np.zeros(len(ids), dtype=bool)
        if ids.empty:
            return found
        self.con.register("_ids", ids)
        try:
            rows = self.con.execute(
                "SELECT i.pos FROM _ids i JOIN article_sketches s USING (article_id) "
                "JOIN articles a USING (article_id)").fetchnumpy()["pos"]
        finally:
            self.con.unregister("_ids")
        found[np.asarray(rows, dtype=np.int64)] = True
        return found

    # -- input records already assembled ------------------------------------------------------
    def known_records(self) -> dict[str, tuple[str, dt.date | None]]:
        """``record_key -> (article_id, date)`` of the input records whose article is stored
        with its copy-detection sketches (so an ingest never needs its text again)."""
        rows = self.con.execute(
            "SELECT k.record_key, k.article_id, a.date FROM record_keys k "
            "JOIN articles a USING (article_id) JOIN article_sketches s USING (article_id)"
        ).fetchall()
        return {key: (article_id, date) for key, article_id, date in rows}

    def add_record_keys(self, keys: Sequence[str], article_ids: Sequence[str]) -> int:
        """Record that the input record ``keys[i]`` gave the article ``article_ids[i]``; pairs
        whose article is not stored, or whose key is, are skipped. Returns how many were new."""
        frame = pd.DataFrame({"record_key": pd.Series(list(keys), dtype=object),
                              "article_id": pd.Series(list(article_ids), dtype=object)})
        frame = frame.drop_duplicates("record_key")
        if frame.empty:
            return 0
        with self.transaction():
            self.con.register("_keys", frame)
            try:
                before = self.count("record_keys")
                self.con.execute(
                    "INSERT INTO record_keys SELECT f.record_key, f.article_id FROM _keys f "
                    "JOIN articles a USING (article_id) WHERE NOT EXISTS "
                    "(SELECT 1 FROM record_keys k WHERE k.record_key = f.record_key)").fetchall()
                return self.count("record_keys") - before
            finally:
                self.con.unregister("_keys")

    def article_sketches(self, article_ids: Iterable[str]) -> pd.DataFrame:
        """Stored sketches of these articles (one row per stored id, in no particular order)."""
        return self._sketches("article_sketches", ARTICLE_SKETCH_COLUMNS, article_ids, "")

    def paragraph_sketches(self, article_ids: Iterable[str]) -> pd.DataFrame:
        """Stored sketches of these articles' paragraphs, by article id, then position."""
        return self._sketches("paragraph_sketches", PARAGRAPH_SKETCH_COLUMNS, article_ids,
                              " ORDER BY s.article_id, s.position")

    def _sketches(self, table: str, columns: list[str], article_ids: Iterable[str],
                  order: str) -> pd.DataFrame:
        ids = pd.DataFrame({"article_id": sorted(set(article_ids))}, dtype=object)
        cols = ", ".join(f"s.{c}" for c in columns)
        if ids.empty:  # typed empty columns (an empty object column has no type to join on)
            return self.con.execute(f"SELECT {cols} FROM {table} s WHERE false").df()
        self.con.register("_ids", ids)
        try:
            return self.con.execute(
                f"SELECT {cols} FROM {table} s JOIN _ids USING (article_id){order}").df()
        finally:
            self.con.unregister("_ids")

    # -- reads -------------------------------------------------------------------------------
    def count(self, table: str) -> int:
        return int(self.one(f"SELECT count(*) FROM {table}")[0])

    def articles(self) -> pd.DataFrame:
        return self.con.execute("SELECT * FROM articles ORDER BY article_id").df()

    def article_identities(self, article_ids: Sequence[str]) -> pd.DataFrame:
        """``article_id, source, source_id, title, url, author`` of the stored articles among
        ``article_ids`` (what names a record: see ``ingest.assemble.stored_collision``)."""
        return self.con.execute(
            "SELECT article_id, source, source_id, title, url, author FROM articles "
            "WHERE article_id IN (SELECT unnest(?::VARCHAR[]))", [list(article_ids)]).df()

    def stored_counts(self, article_ids: Iterable[str]) -> dict[str, int]:
        """What the store holds of these articles: ``articles`` (distinct ids stored), and, with
        an id counted as often as it is given, ``article_copies``, ``paragraphs`` and
        ``paragraph_copies`` (the counts an ingest of these records reports)."""
        ids = pd.DataFrame({"article_id": list(article_ids)}, dtype=object)
        self.con.register("_ids", ids)
        try:
            row = self.one(
                "SELECT (SELECT count(DISTINCT article_id) FROM articles a JOIN _ids "
                " USING (article_id)), "
                "(SELECT count(*) FROM articles a JOIN _ids USING (article_id) "
                " WHERE a.duplicate_of IS NOT NULL), "
                "(SELECT count(*) FROM paragraphs p JOIN _ids USING (article_id)), "
                "(SELECT count(*) FROM paragraphs p JOIN _ids USING (article_id) "
                " WHERE p.duplicate_of IS NOT NULL)"
            )
        finally:
            self.con.unregister("_ids")
        return dict(zip(("articles", "article_copies", "paragraphs", "paragraph_copies"),
                        map(int, row)))

    def paragraphs(self, article_ids: Iterable[str] | None = None) -> pd.DataFrame:
        frame = self.con.execute(
            "SELECT * FROM paragraphs ORDER BY article_id, position"
        ).df()
        if article_ids is not None:
            frame = frame[isin(frame["article_id"], set(article_ids))].reset_index(drop=True)
        return frame

    def rejects(self) -> pd.DataFrame:
        return self.con.execute("SELECT * FROM rejects ORDER BY source, position").df()

    # -- embeddings ----------------------------------------------------------------------------
    def cached_hashes(self, text_hashes: Iterable[str], model_id: str) -> set[str]:
        wanted = pd.DataFrame({"text_hash": sorted(set(text_hashes))})
        self.con.register("_wanted", wanted)
        try:
            rows = self.con.execute(
                "SELECT e.text_hash FROM embeddings e JOIN _wanted w USING (text_hash) "
                "WHERE e.model_id = ?",
                [model_id],
            ).fetchall()
        finally:
            self.con.unregister("_wanted")
        return {r[0] for r in rows}

    def put_embeddings(self, text_hashes: Sequence[str], vectors: np.ndarray, model_id: str) -> int:
        if len(text_hashes) != len(vectors):
            raise ValueError(f"{len(text_hashes)} hashes for {len(vectors)} vectors")
        if not len(text_hashes):
            return 0
        frame = pd.DataFrame(
            {
                "text_hash": list(text_hashes),
                "model_id": model_id,
                "vector": list(np.asarray(vectors, dtype=np.float32)),
            }
        ).drop_duplicates("text_hash")
        return self._insert_new("embeddings", frame, ["text_hash", "model_id"])

    def get_embeddings(self, text_hashes: Sequence[str], model_id: str) -> np.ndarray:
        """Vectors in the order of ``text_hashes``; raises if any is missing."""
        wanted = pd.DataFrame({"text_hash": list(dict.fromkeys(text_hashes))})
        self.con.register("_wanted", wanted)
        try:
            found = self.con.execute(
                "SELECT e.text_hash, e.vector FROM embeddings e JOIN _wanted w USING (text_hash) "
                "WHERE e.model_id = ?",
                [model_id],
            ).df()
        finally:
            self.con.unregister("_wanted")
        index = dict(zip(found["text_hash"], found["vector"]))
        missing = [h for h in wanted["text_hash"] if h not in index]
        if missing:
            raise StoreError(f"{len(missing)} texts have no {model_id} embedding; run the embed stage")
        if not len(text_hashes):
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([np.asarray(index[h], dtype=np.float32) for h in text_hashes])

    # -- runs ----------------------------------------------------------------------------------
    def save_run(
        self, run: RunRecord, narratives: pd.DataFrame, assignments: pd.DataFrame,
        subnarratives: pd.DataFrame | None = None, distributions: pd.DataFrame | None = None,
    ) -> None:
        """Write a run, its narratives, assignments (with ``sub_id`` when given), sub-narratives
        and soft distributions (``paragraph_id, narrative_id, weight``) in one transaction (all or
        nothing). Saving a run again replaces every row it had."""
        if "sub_id" not in assignments:
            assignments = assignments.assign(sub_id=-1)
        with self.transaction():
            for table in RUN_TABLES:
                self.con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run.run_id]).fetchall()
            self.con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run.run_id, _now(), json.dumps(run.settings, sort_keys=True),
                    run.codebook_hash, json.dumps(run.versions, sort_keys=True), run.seed,
                    run.input_fingerprint, json.dumps(run.stats, sort_keys=True, default=str),
                ],
            ).fetchall()
            nar = narratives.assign(
                run_id=run.run_id,
                top_terms=[json.dumps(list(t), ensure_ascii=False) for t in narratives["top_terms"]],
                kind=narratives["kind"] if "kind" in narratives else None,
            )[["run_id", "narrative_id", "label", "codebook_name", "top_terms", "size", "kind"]]
            asg = assignments.assign(run_id=run.run_id, sub_id=assignments["sub_id"].astype(int))[
                ["run_id", "paragraph_id", "narrative_id", "probability", "sub_id"]
            ]
            if subnarratives is not None and len(subnarratives):
                sub = subnarratives.assign(
                    run_id=run.run_id,
                    top_terms=[json.dumps(list(t), ensure_ascii=False) for t in subnarratives["top_terms"]],
                )[["run_id", "narrative_id", "sub_id", "label", "top_terms", "size"]]
                self.con.register("_sub", sub)
                try:
                    self.con.execute("INSERT INTO subnarratives SELECT * FROM _sub").fetchall()
                finally:
                    self.con.unregister("_sub")
            self.con.register("_nar", nar)
            self.con.register("_asg", asg)
            try:
                self.con.execute("INSERT INTO narratives SELECT * FROM _nar").fetchall()
                self.con.execute("INSERT INTO assignments SELECT * FROM _asg").fetchall()
            finally:
                self.con.unregister("_nar")
                self.con.unregister("_asg")
            if distributions is not None and len(distributions):
                self._insert_distributions(run.run_id, distributions)

    def _insert_distributions(self, run_id: str, rows: pd.DataFrame) -> None:
        dist = pd.DataFrame({
            "run_id": run_id,
            "paragraph_id": rows["paragraph_id"].astype(str).to_numpy(),
            "narrative_id": rows["narrative_id"].astype(int).to_numpy(),
            "weight": rows["weight"].astype(float).to_numpy(),
        })
        self.con.register("_dist", dist)
        try:
            self.con.execute("INSERT INTO distributions SELECT * FROM _dist").fetchall()
        finally:
            self.con.unregister("_dist")

    def latest_run_id(self) -> str | None:
        row = self.one("SELECT run_id FROM runs ORDER BY created_at DESC, run_id LIMIT 1")
        return None if row is None else row[0]

    def run(self, run_id: str | None = None) -> dict:
        run_id = run_id or self.latest_run_id()
        if run_id is None:
            raise StoreError(f"{self.path}: no run yet; run `narrative build` first")
        row = self.con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).df()
        if row.empty:
            raise StoreError(f"{self.path}: unknown run {run_id!r}")
        rec = row.iloc[0].to_dict()
        for key in ("settings", "versions", "stats"):
            rec[key] = json.loads(rec[key]) if rec[key] else {}
        return rec

    def _has_column(self, table: str, column: str) -> bool:
        """Whether ``table`` has ``column`` (a store opened read-only is not migrated)."""
        return self.one("SELECT count(*) FROM information_schema.columns "
                        "WHERE table_name = ? AND column_name = ?", [table, column])[0] > 0

    def narratives(self, run_id: str) -> pd.DataFrame:
        """A run's narratives; ``kind`` is None in runs stored before kinds had a column."""
        frame = self.con.execute(
            "SELECT narrative_id, label, codebook_name, top_terms, size, "
            f"{'kind' if self._has_column('narratives', 'kind') else 'NULL AS kind'} FROM narratives "
            "WHERE run_id = ? ORDER BY narrative_id",
            [run_id],
        ).df()
        frame["top_terms"] = [json.loads(t) for t in frame["top_terms"]]
        return frame

    def subnarratives(self, run_id: str) -> pd.DataFrame:
        """A run's sub-narratives: finer clusters inside its narratives (may be empty)."""
        import duckdb

        try:
            frame = self.con.execute(
                "SELECT narrative_id, sub_id, label, top_terms, size FROM subnarratives "
                "WHERE run_id = ? ORDER BY narrative_id, sub_id", [run_id],
            ).df()
        except duckdb.CatalogException:  # a store from before sub-narratives, opened read-only
            return pd.DataFrame(columns=["narrative_id", "sub_id", "label", "top_terms", "size"])
        frame["top_terms"] = [json.loads(t) for t in frame["top_terms"]]
        return frame

    def sub_assignments(self, run_id: str) -> pd.DataFrame:
        """Each paragraph's narrative and sub-narrative (``sub_id`` -1: none) in a run."""
        import duckdb

        try:
            return self.con.execute(
                "SELECT paragraph_id, narrative_id, sub_id FROM assignments WHERE run_id = ? "
                "ORDER BY paragraph_id", [run_id],
            ).df()
        except duckdb.BinderException:  # a store from before sub-narratives, opened read-only
            return self.assignments(run_id)[["paragraph_id", "narrative_id"]].assign(sub_id=-1)

    def distributions(self, run_id: str) -> pd.DataFrame:
        """A run's stored soft mixtures (``paragraph_id, narrative_id, weight``), assigned
        paragraphs only; empty for a run saved before they were stored."""
        import duckdb

        try:
            return self.con.execute(
                "SELECT paragraph_id, narrative_id, weight FROM distributions WHERE run_id = ? "
                "ORDER BY paragraph_id, narrative_id", [run_id],
            ).df()
        except duckdb.CatalogException:  # a store from before distributions, opened read-only
            return pd.DataFrame(columns=DISTRIBUTION_COLUMNS)

    def assignments(self, run_id: str) -> pd.DataFrame:
        return self.con.execute(
            "SELECT paragraph_id, narrative_id, probability FROM assignments WHERE run_id = ? "
            "ORDER BY paragraph_id",
            [run_id],
        ).df()


class _Transaction:
    """BEGIN on entering the outermost block; COMMIT (or ROLLBACK on an exception) on leaving it."""

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self):
        if self.store._depth == 0:
            self.store.con.execute("BEGIN TRANSACTION").fetchall()
        self.store._depth += 1
        return self.store.con

    def __exit__(self, exc_type, exc, tb):
        self.store._depth -= 1
        if self.store._depth == 0:
            self.store.con.execute("COMMIT" if exc_type is None else "ROLLBACK").fetchall()
        return False

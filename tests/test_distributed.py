"""The Dask path: the same result in-process and on a LocalCluster, whatever the partitioning."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from narrative.codebook import load_codebook
from narrative.config import Settings
from narrative.distributed import (
    DaskRunner, EmbedderSpec, build_distributed, loaded_embedders, partition_files,
    resolve_scheduler,
)
from narrative.pipeline import ingest_articles as ingest
from narrative.runs import fit_sample
from narrative.store import Store

N_PARTS = 6
#: Republished articles: (index of the original, outlet that copies it). Originals sit in the
#: first part files, copies in the last, so each copy's original is in another partition.
COPIES = ((0, "Harbour Echo"), (1, "Harbour Echo"), (2, "Valley Courier"))


def write_dataset(folder) -> list:
    """A Parquet dataset of demo articles plus syndicated copies, in ``N_PARTS`` part files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from narrative.sample import generate_demo_corpus

    corpus = generate_demo_corpus(3, n_weeks=3, articles_per_outlet_week=1)
    rows = [
        {"id": a["id"], "outlet": a["outlet"], "date": a["date"].isoformat(), "title": a["title"],
         "url": a["url"], "author": a["author"], "text": a["text"]}
        for a in corpus.articles
    ]
    rows += [dict(rows[i], id=f"copy-{i}", outlet=outlet, url=None) for i, outlet in COPIES]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, part in enumerate(np.array_split(np.arange(len(rows)), N_PARTS)):
        path = folder / f"part-{k}.parquet"
        pq.write_table(pa.Table.from_pylist([rows[i] for i in part]), path)
        paths.append(path)
    return paths


def test_partition_files_keeps_order_and_bounds():
    files = [f"f{i}" for i in range(7)]
    parts = partition_files(files, 3)
    assert [f for part in parts for f in part] == files
    assert [len(p) for p in parts] == [3, 2, 2]
    assert partition_files(files[:2], 5) == [["f0"], ["f1"]]
    with pytest.raises(ValueError, match="n_partitions must be >= 1"):
        partition_files(files, 0)


def test_fit_sample_depends_on_the_size_and_the_seed_only():
    picked = fit_sample(100, 10, seed=5)
    assert len(picked) == 10 and list(picked) == sorted(picked)
    assert list(fit_sample(100, 10, seed=5)) == list(picked)
    assert list(fit_sample(100, 10, seed=6)) != list(picked)
    assert fit_sample(100, 500, seed=5) is None  # all rows: no sample


def test_resolve_scheduler_reads_the_flag_then_dask_settings(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert resolve_scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.6:8786")
    assert resolve_scheduler(None) == "tcp://10.0.0.6:8786"
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    import dask

    with dask.config.set({"scheduler-address": "tcp://10.0.0.7:8786"}):
        assert resolve_scheduler(None) == "tcp://10.0.0.7:8786"


def test_unreachable_scheduler_is_one_clear_error():
    import dask
    import distributed  # noqa: F401 - registers its config defaults before the override below:
    # dask.config.set on a section that does not exist yet removes the whole section on exit.

    from narrative.distributed import SchedulerUnreachable
    from narrative.distributed.scheduler import connect

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}), pytest.raises(
        SchedulerUnreachable, match="no Dask scheduler answered at tcp://127.0.0.1:9"
    ):
        connect("tcp://127.0.0.1:9")


RUN_TABLES = ("narratives", "assignments", "subnarratives", "distributions")


def _run(dataset, tmp_path, name, **kw):
    """A Dask-path build of ``dataset`` into its own store: the run and every stored table."""
    settings = Settings(n_bootstrap=20, fit_sample_max=60)
    with Store(tmp_path / f"{name}.duckdb") as store:
        result = build_distributed([dataset], store, settings=settings, codebook=load_codebook(),
                                   embed_chunk=16, **kw)
        run_id = result.fit.run_id
        tables = {t: store.con.execute(f"SELECT * EXCLUDE (run_id) FROM {t} WHERE run_id = ? "
                                       "ORDER BY ALL", [run_id]).df() for t in RUN_TABLES}
        tables["articles"] = store.articles().drop(columns="ingested_at")
        tables["stats"] = json.loads(store.one("SELECT stats FROM runs WHERE run_id = ?", [run_id])[0])
        tables["embeddings"] = store.con.execute(
            "SELECT text_hash, vector FROM embeddings ORDER BY text_hash").df()
    return result, tables


@pytest.mark.slow
def test_local_cluster_stores_what_the_in_process_run_stores(tmp_path):
    """The Dask path is the one fit path with a cluster runner: the run id, the vectors, the
    narratives, assignments, sub-narratives and mixtures it stores are the in-process ones,
    whatever the partitioning."""
    from distributed import Client, LocalCluster

    dataset = tmp_path / "dataset"
    write_dataset(dataset)
    local, expected = _run(dataset, tmp_path, "local", n_partitions=1)

    # The input exercises what the path must get right: copies across partitions, a sampled fit.
    articles = expected["articles"]
    copies = articles[articles["duplicate_of"].notna()]
    source_of = dict(zip(articles["article_id"], articles["source"]))
    assert len(copies) >= len(COPIES)
    assert all(source_of[original] != source
               for original, source in zip(copies["duplicate_of"], copies["source"]))
    assert expected["stats"]["n_fit_sample"] == 60 < expected["stats"]["n_distinct_texts"]
    assert (local.fit.assignments["narrative_id"] != -1).mean() > 0.5

    # Ingest tables equal the in-process pipeline's ingest (dedup across the whole corpus).
    with Store(":memory:") as reference:
        ingest([dataset], reference, settings=Settings(n_bootstrap=20))
        pd.testing.assert_frame_equal(articles, reference.articles().drop(columns="ingested_at"))

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        run, tables = _run(dataset, tmp_path, "cluster", client=client, n_partitions=3)
        loads = client.run(loaded_embedders)
        assert DaskRunner(client, spec=EmbedderSpec.from_settings(Settings())).n_threads == 2
    assert run.n_partitions == 3 and run.fit.run_id == local.fit.run_id
    assert run.fit.n_embedded == local.fit.n_embedded == len(tables["embeddings"])
    assert all(len(ids) <= 1 for ids in loads.values())  # one model load per worker ...
    assert sum(len(ids) for ids in loads.values()) >= 1  # ... and the workers embedded
    for name, frame in expected.items():
        if name == "stats":
            assert tables[name] == frame
        elif name == "embeddings":
            assert np.array_equal(np.stack(tables[name]["vector"]), np.stack(frame["vector"]))
        else:
            pd.testing.assert_frame_equal(tables[name], frame, obj=name)

    # Another partitioning ingests the same articles (the fit is the same function of them).
    with Store(":memory:") as store:
        six = build_distributed([dataset], store, settings=Settings(n_bootstrap=20,
                                fit_sample_max=60), codebook=load_codebook(), n_partitions=6,
                                embed_chunk=16)
        assert six.n_partitions == 6 and six.fit.run_id == local.fit.run_id


def test_in_process_path_needs_input(tmp_path):
    from narrative.pipeline import InputError

    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    with Store(":memory:") as store, pytest.raises(InputError, match="no readable article"):
        build_distributed([tmp_path / "empty.jsonl"], store)


@pytest.mark.parametrize("outliers", ["reduce", "keep"])
def test_the_dask_runner_stores_the_in_process_run(tmp_path, monkeypatch, outliers):
    """Stand-in embedder, in-process Dask runner: the run the distributed build stores (id,
    assignments, sub-narratives, mixtures, stats) is ``fit_run``'s, the outlier strategy included,
    also when the fit samples and the runner assigns the rest in chunks."""
    from narrative.runs import fit_run

    from . import planted

    texts, vectors, far = planted.planted(0)
    embedder = planted.PlantedEmbedder(texts, vectors)
    for where in ("run", "tasks"):  # the driver's model and the workers'
        monkeypatch.setattr(f"narrative.distributed.{where}.cached_embedder", lambda spec: embedder)
    for sample in (None, len(texts) // 2):
        settings = planted.settings(outliers=outliers)
        if sample:
            settings = settings.replace(fit_sample_max=sample)
        results = {}
        for name in ("dask", "local"):
            with Store(tmp_path / f"{name}-{sample}.duckdb") as store:
                planted.add_articles(store, texts)
                if name == "dask":
                    run = build_distributed([], store, settings=settings, embed_chunk=7).fit
                else:
                    run = fit_run(store, settings=settings, embedder=embedder)
                results[name] = run.run_id, {
                    t: store.con.execute(f"SELECT * EXCLUDE (run_id) FROM {t} WHERE run_id = ? "
                                         "ORDER BY ALL", [run.run_id]).df()
                    for t in ("assignments", "subnarratives", "distributions", "narratives")
                }, store.one("SELECT stats FROM runs WHERE run_id = ?", [run.run_id])
        (dask_id, dask, dask_stats), (local_id, local, local_stats) = results["dask"], results["local"]
        assert dask_id == local_id and dask_stats == local_stats
        for table in dask:
            pd.testing.assert_frame_equal(dask[table], local[table], obj=table)
        assignments = dask["assignments"]
        if sample is None:
            assert (assignments["narrative_id"] == -1).sum() == (far.sum() if outliers == "keep" else 0)
        assert set(dask["distributions"]["paragraph_id"]) == set(
            assignments.loc[assignments["narrative_id"] != -1, "paragraph_id"])


def test_a_record_colliding_across_partitions_is_a_reject_as_in_process(tmp_path):
    """Two records of one article (same outlet, date, text) with other urls, in two partitions:
    the later one is a reject with its values, as the in-process ingest makes it; the Dask
    driver sees what no partition's own check can."""
    import json

    from narrative.pipeline import ingest_articles

    body = ("The ministers met on Tuesday to discuss the grain corridor and the sanctions package "
            "that has stalled for several weeks.\n\nA second round of talks follows in spring.")
    for k, url in enumerate(("https://planet.example/a", "https://planet.example/b")):
        (tmp_path / f"part-{k}.jsonl").write_text(json.dumps(
            {"id": "p1", "outlet": "Daily Planet", "date": "2022-06-01", "url": url,
             "text": body}) + "\n", encoding="utf-8")
    files = sorted(tmp_path.glob("part-*.jsonl"))
    counts = {}
    for name in ("dask", "local"):
        with Store(tmp_path / f"{name}.duckdb") as store:
            if name == "dask":
                from narrative.distributed.run import DaskRunner, _ingest
                from narrative.ingest.options import ReadOptions

                summary, n_parts = _ingest(files, store, DaskRunner(spec=EmbedderSpec.from_settings(
                    Settings())), settings=Settings(), manifest=None, options=ReadOptions(),
                    n_partitions=2)
                assert n_parts == 2
            else:
                summary = ingest_articles(files, store)
            reasons = [r[0] for r in store.con.execute("SELECT reason FROM rejects").fetchall()]
            counts[name] = (summary.n_ingested, store.count("articles"), len(reasons))
            assert len(reasons) == 1 and "another url" in reasons[0]
    assert counts["dask"] == counts["local"] == (1, 1, 1)

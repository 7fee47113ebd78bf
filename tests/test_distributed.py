"""The Dask path: the same result in-process and on a LocalCluster, whatever the partitioning."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from narrative.codebook import load_codebook
from narrative.config import Settings
from narrative.distributed import (
    build_distributed, fit_sample, loaded_embedders, partition_files, resolve_scheduler,
)
from narrative.distributed.run import _Runner
from narrative.pipeline import ingest
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


def test_fit_sample_depends_on_the_set_of_texts_and_the_seed_only():
    hashes = [f"{i:04x}" for i in range(100)]
    shuffled = list(np.random.default_rng(1).permutation(hashes))
    picked = [hashes[i] for i in fit_sample(hashes, 10, seed=5)]
    assert len(picked) == 10 and picked == sorted(picked)
    assert [shuffled[i] for i in fit_sample(shuffled, 10, seed=5)] == picked
    assert [hashes[i] for i in fit_sample(hashes, 10, seed=6)] != picked
    assert [shuffled[i] for i in fit_sample(shuffled, 500, seed=5)] == hashes  # all, hash order


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


def _run(dataset, tmp_path, name, **kw):
    settings = Settings(n_bootstrap=20)
    with Store(tmp_path / f"{name}.duckdb") as store:
        result = build_distributed(
            [dataset], store, settings=settings, codebook=load_codebook(), fit_sample_size=60,
            embed_chunk=16, **kw,
        )
        articles = store.articles()
    return result, articles


@pytest.mark.slow
def test_local_cluster_equals_in_process_whatever_the_partitions(tmp_path):
    from distributed import Client, LocalCluster

    dataset = tmp_path / "dataset"
    write_dataset(dataset)
    local, articles = _run(dataset, tmp_path, "local", n_partitions=1)

    # The input exercises what the path must get right: copies across partitions, a sampled fit.
    copies = articles[articles["duplicate_of"].notna()]
    source_of = dict(zip(articles["article_id"], articles["source"]))
    assert len(copies) >= len(COPIES)
    assert all(source_of[original] != source
               for original, source in zip(copies["duplicate_of"], copies["source"]))
    assert local.n_distinct < local.n_paragraphs and local.n_embedded == local.n_distinct
    assert local.n_fit == 60 < local.n_distinct
    assert (local.assignments["narrative_id"] != -1).mean() > 0.5
    assert set(local.shares["outlet"]) >= {"Harbour Echo", "all"}

    # Ingest tables equal the in-process pipeline's ingest (dedup across the whole corpus).
    with Store(":memory:") as reference:
        ingest([dataset], reference, settings=Settings(n_bootstrap=20))
        expected = reference.articles()
    pd.testing.assert_frame_equal(
        articles.drop(columns="ingested_at"), expected.drop(columns="ingested_at")
    )

    # The fit (a minute of CPU) runs once, in-process; the cluster runs reuse the fitted model and
    # show they would have fitted it on the same sample of the same vectors.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        runs = {n: _run(dataset, tmp_path, f"cluster{n}", client=client, n_partitions=n,
                        model=local.model)[0]
                for n in (3, 6)}
        loads = client.run(loaded_embedders)
        assert _Runner(client).n_threads == 2  # default partitions: two per worker thread
    n_chunks = -(-local.n_distinct // 16)
    assert n_chunks > 2 * len(loads)  # several embedding tasks per worker ...
    assert all(len(ids) <= 1 for ids in loads.values())  # ... and one model load per worker
    assert sum(len(ids) for ids in loads.values()) >= 1
    assert runs[3].run_id == runs[6].run_id
    for n, run in runs.items():
        assert run.n_partitions == n and run.n_embedded == local.n_embedded
        assert run.fit_hashes == local.fit_hashes
        pd.testing.assert_frame_equal(run.assignments, local.assignments)
        pd.testing.assert_frame_equal(run.narratives[["narrative_id", "label", "size"]],
                                      local.narratives[["narrative_id", "label", "size"]])
        pd.testing.assert_frame_equal(run.shares, local.shares)


def test_in_process_path_needs_input(tmp_path):
    from narrative.pipeline import InputError

    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    with Store(":memory:") as store, pytest.raises(InputError, match="no readable article"):
        build_distributed([tmp_path / "empty.jsonl"], store)


@pytest.mark.parametrize("outliers", ["reduce", "keep"])
def test_the_dask_path_stores_mixtures_and_assigns_like_the_in_process_fit(tmp_path, monkeypatch,
                                                                          outliers):
    """In-process runner, stand-in embedder: the distributed run writes the same assignments as
    ``fit_run`` (the outlier strategy included) and a mixture for each assigned paragraph."""
    from narrative.embed import embed_paragraphs
    from narrative.pipeline import fit_run

    from . import planted

    texts, vectors, far = planted.planted(0)
    embedder = planted.PlantedEmbedder(texts, vectors)
    monkeypatch.setattr("narrative.distributed.run.cached_embedder", lambda spec: embedder)
    settings = planted.settings(outliers=outliers)
    results = {}
    for name in ("dask", "local"):
        with Store(tmp_path / f"{name}.duckdb") as store:
            planted.add_articles(store, texts)
            if name == "dask":
                embed_paragraphs(store, store.paragraphs().drop_duplicates("text_hash"), embedder)
                run = build_distributed([], store, settings=settings)
                assert run.n_fit == len(texts)
            else:
                run = fit_run(store, settings=settings, embedder=embedder)
            rows = store.distributions(run.run_id)
            results[name] = run.assignments.sort_values("paragraph_id", ignore_index=True), rows
    (dask, rows), (local, local_rows) = results["dask"], results["local"]
    pd.testing.assert_frame_equal(dask[["paragraph_id", "narrative_id"]],
                                  local[["paragraph_id", "narrative_id"]])
    assert (dask["narrative_id"] == -1).sum() == (far.sum() if outliers == "keep" else 0)
    assert set(rows["paragraph_id"]) == set(dask.loc[dask["narrative_id"] != -1, "paragraph_id"])
    assert np.allclose(rows.groupby("paragraph_id")["weight"].sum(), 1.0)
    pd.testing.assert_frame_equal(rows, local_rows, check_exact=False, atol=1e-6)


def test_run_ids_of_the_default_outlier_strategy_are_those_from_before_the_setting():
    from narrative.distributed.run import _settings_key

    before = {k: v for k, v in Settings().to_dict().items() if k != "outliers"}
    assert _settings_key(Settings()) == json.dumps(before, sort_keys=True)
    assert json.loads(_settings_key(Settings(outliers="keep")))["outliers"] == "keep"

"""Resource limits: huge records ingest (or are rejected) in bounded memory, never crash.

Each case runs the streaming ingest in a subprocess whose address space is capped with
``resource.setrlimit(RLIMIT_AS)`` at what the process already maps after a warm-up ingest, plus
a budget; going over the cap raises MemoryError there and fails the test.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs /proc and RLIMIT_AS")

RUNNER = textwrap.dedent("""
    import json, resource, sys, tracemalloc
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    source, warmup, store_path, budget_mb, batch, trace = sys.argv[1:7]

    def mapped_bytes():
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

    def ingest(path, target):
        with Store(target) as store:
            store.con.execute("SET memory_limit = '128MB'").fetchall()
            store.con.execute("SET threads = 1").fetchall()
            summary = ingest_into_store([path], store, batch_articles=int(batch))
            return summary, store.count("rejects")

    ingest(warmup, ":memory:")  # loads every lazy import and allocator arena first
    cap = mapped_bytes() + int(budget_mb) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace == "trace":
        tracemalloc.start()  # Python and numpy allocations (not DuckDB's own buffers)
    summary, stored_rejects = ingest(source, store_path)
    traced_peak = tracemalloc.get_traced_memory()[1] if trace == "trace" else None
    print(json.dumps({
        "n_read": summary.n_read, "n_ingested": summary.n_ingested,
        "n_rejected": summary.n_rejected, "reasons": summary.reasons(),
        "n_paragraphs": summary.n_paragraphs, "stored_rejects": stored_rejects,
        "warnings": summary.warnings[:5], "traced_peak_mb": traced_peak and traced_peak / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024,
    }))
""")

WORDS = ("grain gas rail port steel loan arms power talks envoy minister week aides said border "
         "army city plan vote court bank price tax deal fleet truck river bridge school farm "
         "winter summer harvest storm flood market shares union strike").split()


def _prose(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n_words)) + "."


def run_capped(tmp_path: Path, source: Path, *, budget_mb: int, batch: int = 500,
               trace: bool = False, temp_dir: Path | None = None) -> dict:
    warmup = tmp_path / "warmup.jsonl"
    rng = random.Random(1)
    warmup.write_text("\n".join(json.dumps({"text": _prose(rng, 80), "date": "2024-01-02"})
                                for _ in range(3)) + "\n", encoding="utf-8")
    store = tmp_path / f"store{len(list(tmp_path.glob('store*.duckdb')))}.duckdb"
    env = {**os.environ, "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1"}
    if temp_dir is not None:
        env["TMPDIR"] = str(temp_dir)
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(source), str(warmup), str(store),
         str(budget_mb), str(batch), "trace" if trace else "-"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_50mb_article_is_rejected_with_a_reason_in_bounded_memory(tmp_path: Path) -> None:
    rng = random.Random(0)
    feed = tmp_path / "feed.jsonl"
    huge = " ".join([_prose(rng, 1000)] * 9_000)  # about 52 MB
    assert len(huge) > 50_000_000
    with feed.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"text": _prose(rng, 120), "date": "2024-05-01"}) + "\n")
        out.write(json.dumps({"text": huge, "date": "2024-05-02"}) + "\n")
        out.write(json.dumps({"text": _prose(rng, 120), "date": "2024-05-03"}) + "\n")
    (tmp_path / "dump.txt").write_text(huge, encoding="utf-8")
    del huge
    for source in (feed, tmp_path / "dump.txt"):
        result = run_capped(tmp_path, source, budget_mb=400)
        assert result["n_ingested"] + result["n_rejected"] == result["n_read"]
        assert result["stored_rejects"] == result["n_rejected"] == 1
        (reason,) = result["reasons"]
        assert reason.startswith("article too long") and "one record per article" in reason
    assert result["n_read"] == 1


@pytest.mark.slow  # about 2-3 minutes: 100,000 records through the whole ingest
def test_100k_line_csv_ingests_in_bounded_memory(tmp_path: Path) -> None:
    rng = random.Random(0)
    table = tmp_path / "export.csv"
    with table.open("w", encoding="utf-8") as out:
        out.write("id,date,outlet,text\n")
        for i in range(100_000):
            out.write(f"r{i},2024-{1 + i % 12:02d}-{1 + i % 28:02d},Outlet {i % 9},"
                      f"\"{_prose(rng, 18)}\"\n")
    result = run_capped(tmp_path, table, budget_mb=500, batch=5000)
    assert result["n_read"] == 100_000
    assert result["n_ingested"] + result["n_rejected"] == 100_000
    assert result["n_ingested"] > 99_000
    print(f"100k-row CSV: peak RSS {result['peak_rss_mb']:.0f} MiB, "
          f"growth {result['rss_growth_mb']:.0f} MiB")


def test_absurd_paragraph_is_cut_out_and_never_reaches_the_paragraphs(tmp_path: Path) -> None:
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    rng = random.Random(0)
    feed = tmp_path / "feed.jsonl"
    prose = _prose(rng, 60)
    records = [{"id": "mixed", "text": prose + "\n\n" + "x" * 1_000_000 + "\n\n" + prose},
               {"id": "only", "text": "Q" * 1_000_000}]
    feed.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    with Store(":memory:") as store:
        summary = ingest_into_store([feed], store, boilerplate=False)
        longest = store.one('SELECT max("end" - start) FROM paragraphs')[0]
        cut = store.one("SELECT rule, length(text) FROM removed")
    assert (summary.n_ingested, summary.n_rejected) == (1, 1)
    (reason,) = summary.reasons()
    assert reason.startswith("no prose: only runs of over 1,000 characters without a space")
    assert longest < 1000  # the million-character run is in no paragraph
    assert cut[0] == "overlong-token" and cut[1] >= 1_000_000  # but it is kept, auditable
    assert any("without a space" in w for w in summary.warnings)


@pytest.mark.slow  # two subprocess ingests under tracemalloc: about a minute
def test_ingest_memory_grows_far_slower_than_the_input(tmp_path: Path) -> None:
    """Doubling the input adds well under half its size to the peak Python+numpy memory.

    What grows is the copy index (no text: hashes, 8-bit MinHash signatures and band keys, a few
    hundred bytes per distinct paragraph); a batch of articles is the only text held. DuckDB's
    own buffers are outside this measure (its memory_limit caps them).
    """
    peaks = {}
    for n in (250, 500):
        rng = random.Random(n)
        feed = tmp_path / f"feed{n}.jsonl"
        with feed.open("w", encoding="utf-8") as out:
            for i in range(n):
                text = "\n\n".join(_prose(rng, 120) for _ in range(8))  # about 6 KB
                out.write(json.dumps({"id": f"a{i}", "text": text,
                                      "date": f"2023-{1 + i % 12:02d}-01"}) + "\n")
        result = run_capped(tmp_path, feed, budget_mb=600, batch=50, trace=True)
        assert result["n_ingested"] == n
        peaks[n] = (feed.stat().st_size / 2**20, result["traced_peak_mb"])
    (small_in, small_peak), (big_in, big_peak) = peaks.values()
    print(f"input {small_in:.1f} -> {big_in:.1f} MiB: traced peak {small_peak:.1f} -> "
          f"{big_peak:.1f} MiB")
    assert big_peak - small_peak < 0.5 * (big_in - small_in)


def gzip_bomb(path: Path, head: bytes, unit: bytes, n_units: int, tail: bytes = b"") -> Path:
    """A gzip file that inflates to ``head + unit * n_units + tail``: one member per piece
    (gzip readers join members), each unit compressed once, so a 200 MB bomb takes a moment."""
    member = gzip.compress(unit, 6)
    with path.open("wb") as out:
        out.write(gzip.compress(head))
        for _ in range(n_units):
            out.write(member)
        out.write(gzip.compress(tail))
    return path


@pytest.mark.parametrize("name", ["doc.txt.gz", "line.jsonl.gz", "blank.jsonl.gz", "rows.csv.gz",
                                  "blank.csv.gz"])
def test_decompression_bombs_are_rejected_in_bounded_memory(tmp_path: Path, name: str) -> None:
    megabyte = b"word " * (2**20 // 5)
    head, unit, tail = {
        "doc.txt.gz": (b"", megabyte, b""),                      # one 200 MB article
        "line.jsonl.gz": (b'{"text": "', megabyte, b'"}\n'),    # one 200 MB record
        "blank.jsonl.gz": (b"", b"\n" * 2**20, b""),            # 200 MB of blank lines
        "rows.csv.gz": (b"id,text\n", (b"1," + b"word " * 40 + b"\n") * 5000, b""),  # rows
        "blank.csv.gz": (b"id,text\n1,", megabyte, b"\n"),     # one 200 MB cell
    }[name]
    bomb = gzip_bomb(tmp_path / name, head, unit, 200, tail)
    assert bomb.stat().st_size < 2 * 2**20
    temp = tmp_path / "temp"
    temp.mkdir()
    result = run_capped(tmp_path, bomb, budget_mb=150, temp_dir=temp)
    assert result["n_ingested"] + result["n_rejected"] == result["n_read"]
    reasons = " | ".join(result["reasons"])
    assert "decompression bomb" in reasons or "article too long" in reasons, reasons
    assert result["n_ingested"] < 20_000  # the rows before the guard stopped the file
    assert list(temp.iterdir()) == []


KILLED = textwrap.dedent("""
    import sys
    from narrative.ingest.stream import ingest_into_store
    from narrative.store import Store

    with Store(sys.argv[2]) as store:
        print("ingesting", flush=True)
        ingest_into_store([sys.argv[1]], store, batch_articles=100)
""")


def test_a_killed_ingest_leaves_no_spool_behind(tmp_path: Path) -> None:
    import signal
    import time

    rng = random.Random(0)
    feed = tmp_path / "feed.jsonl"
    with feed.open("w", encoding="utf-8") as out:
        for i in range(20_000):
            out.write(json.dumps({"id": f"a{i}", "text": _prose(rng, 150),
                                  "date": f"2023-{1 + i % 12:02d}-01"}) + "\n")
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(feed), str(tmp_path / "s.duckdb")],
                             stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    assert child.stdout.readline().strip() == "ingesting"
    time.sleep(3)  # well into reading: articles are being spooled
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL  # it was killed, not finished
    assert list(temp.iterdir()) == []

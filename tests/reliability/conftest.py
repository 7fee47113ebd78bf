"""Shared pieces of the reliability battery: a small synthetic corpus, a harness that runs
``python -m narrative`` in a subprocess with sockets blocked (and, on request, SIGKILLs it at a named
stage), a digest of the store's tables, and one clean build that several tests compare against.

Every subprocess pays the imports and the model load (~15 s on two cores), so the battery runs as
few of them as it can: the clean build doubles as the no-network build, and the crash test kills
one output folder at each stage in turn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: Sentences per theme; an article draws its paragraphs from two themes, so clusters exist.
THEMES = {
    "sanctions": [
        "Ministers agreed another round of sanctions on oil exports and tightened the price cap.",
        "Tankers of the shadow fleet kept carrying crude to buyers despite the new restrictions.",
        "Banks were cut from the payment network and reserves abroad stayed frozen for months.",
        "Analysts said the embargo cost the treasury billions in lost revenue this quarter.",
    ],
    "talks": [
        "Mediators proposed a framework for ceasefire talks at a summit held in a neutral city.",
        "Delegations exchanged draft terms for a truce and agreed to meet again next month.",
        "Diplomats said the peace plan would need guarantees from both sides before signing.",
        "The envoys discussed prisoner exchanges as a first step toward wider negotiations.",
    ],
    "energy": [
        "Gas prices rose again as storage sites across the continent filled more slowly than planned.",
        "Utilities asked households to cut heating use while new terminals for liquefied gas opened.",
        "Grid operators warned of blackouts after strikes hit power stations and substations.",
        "Governments capped electricity bills and promised subsidies to energy intensive industry.",
    ],
}

# Hostile strings: every record carries them in its text fields (so whatever the report picks as
# evidence shows them), and names that would escape a folder sit in the outlet and id fields.
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
JS_URL = "javascript:alert(3)"
TEMPLATE = "{{7*7}} {% for x in range(3) %}loop{% endfor %}"
LINE_SEP = "\u2028"
PDF_MARKUP = '<b>bold</b> <font color="red">red</font> <para> & &amp; &bogus;'
SENTINEL_NAME = "PWNED-by-title"


def code_title(sentinel: Path) -> str:
    """A title that is valid Python once pasted after a string: it touches ``sentinel``."""
    return f'"); import os; os.system("touch {sentinel}") #' + f"'; __import__('os').system('touch {sentinel}') #"


#: Names meant to escape an output folder or upset a file system.
PATH_NAMES = ["../../x", "/etc/passwd", "CON", "n" * 300, "nul\x00byte", "..\\..\\win"]
OUTLETS = ["Morning Ledger", f"Evil {SCRIPT} {IMG} Outlet", *PATH_NAMES[:5]]


def article_text(index: int) -> str:
    """Two or three paragraphs of 20-35 words each, deterministic in ``index``."""
    names = list(THEMES)
    first, second = names[index % 3], names[(index + 1 + index // 3) % 3]
    paragraphs = []
    for j, theme in enumerate((first, second)):
        sentences = THEMES[theme]
        a, b = sentences[(index + j) % 4], sentences[(index + j + 1) % 4]
        paragraphs.append(f"{a} {b} Report number {index} part {j} followed the story closely.")
    return "\n\n".join(paragraphs)


def corpus_records(sentinel: Path, n: int = 14, *, start: dt.date = dt.date(2025, 3, 3)) -> list[dict]:
    """``n`` articles over seven outlets and four weeks (28 distinct paragraphs at n=14: no UMAP).

    Outlet names, ids, titles, authors, URLs and text carry the hostile strings above; the titles
    hold Python that would create ``sentinel`` if any tool ever executed them.
    """
    payload = f"{SCRIPT} {IMG} {TEMPLATE}{LINE_SEP}{PDF_MARKUP}"
    records = []
    for i in range(n):
        first, *rest = article_text(i).split("\n\n")
        records.append({
            "id": PATH_NAMES[i] if i < len(PATH_NAMES) else f"art-{i:03d}",
            "outlet": OUTLETS[i % len(OUTLETS)],
            "date": (start + dt.timedelta(days=7 * (i % 4) + i % 3)).isoformat(),
            "title": f"Story {i} {code_title(sentinel)} {payload}",
            "author": f"Reporter {i % 2} {payload}",
            "url": JS_URL if i % 3 == 1 else f'https://example.org/{i}?q="><script>alert(4)</script>',
            "text": "\n\n".join([f"{first} Quoted: {payload}", *rest]),
        })
    return records


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# -- the subprocess harness ---------------------------------------------------------------------

#: Python source that refuses every socket connect, DNS lookup and UDP send, logging each attempt
#: to $RELIABILITY_LOG.
NETWORK_GUARD = r'''
import os, socket
LOG = os.environ["RELIABILITY_LOG"]
def note(line):
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
def refuse(kind):
    def blocked(*args, **kwargs):
        note(f"network {kind} {args!r}"[:300])
        raise OSError(f"network blocked by the reliability harness ({kind})")
    return blocked
socket.socket.connect = refuse("connect")
socket.socket.connect_ex = refuse("connect_ex")
socket.socket.sendto = refuse("sendto")
socket.getaddrinfo = refuse("getaddrinfo")
socket.gethostbyname = refuse("gethostbyname")
socket.create_connection = refuse("create_connection")
'''

#: Runs ``python -m narrative ARGS`` behind the network guard; logs how many texts each call to the
#: embedder encodes and how many vectors each run stores; and, when $RELIABILITY_KILL_AT names a
#: stage, sends itself SIGKILL there (no cleanup, no ``finally``).
HARNESS = NETWORK_GUARD + r'''
import signal, sys, runpy

def die(stage):
    note(f"killed at {stage}")
    os.kill(os.getpid(), signal.SIGKILL)

KILL_AT = os.environ.get("RELIABILITY_KILL_AT", "")
from narrative.embed.sentence import SentenceEmbedder
real_encode = SentenceEmbedder.encode
def encode(self, texts, **kw):
    note(f"encoded {len(texts)}")
    out = real_encode(self, texts, **kw)
    if KILL_AT == "embed":
        die("embed")
    return out
SentenceEmbedder.encode = encode
from narrative.store import Store
real_put = Store.put_embeddings
def put_embeddings(self, text_hashes, vectors, model_id):
    note(f"stored {len(text_hashes)}")
    return real_put(self, text_hashes, vectors, model_id)
Store.put_embeddings = put_embeddings
if KILL_AT == "ingest":  # articles are stored, paragraphs not yet
    from narrative.store import Store
    Store.add_paragraphs = lambda self, paragraphs: die("ingest")
if KILL_AT == "fit":
    from narrative.model import NarrativeModel
    NarrativeModel.fit = lambda self, texts, embeddings: die("fit")
if KILL_AT == "save_model":  # the run is in the store; the model's folder is half written
    import narrative.model.persist as persist
    real_write = persist._write_file
    def write_file(path, data):
        if path.name == persist.TENSORS:
            die("save_model")
        return real_write(path, data)
    persist._write_file = write_file
if KILL_AT == "report":  # report.pdf is written to its temp name, not yet renamed into place
    real_replace = os.replace
    def replace(src, dst, *a, **kw):
        if os.path.basename(os.fspath(dst)) == "report.pdf":
            die("report")
        return real_replace(src, dst, *a, **kw)
    os.replace = replace
note(f"start {os.getpid()}")
sys.argv = ["narrative", *sys.argv[1:]]
runpy.run_module("narrative", run_name="__main__", alter_sys=True)
'''


@dataclass
class Run:
    """One finished subprocess: exit status, output and what the harness logged."""

    returncode: int
    stdout: str
    stderr: str
    log: list[str]

    @property
    def encoded(self) -> int:
        """Texts this run sent to the embedding model."""
        return sum(int(line.split()[1]) for line in self.log if line.startswith("encoded "))

    @property
    def stored(self) -> int:
        """Embeddings this run added to the store."""
        return sum(int(line.split()[1]) for line in self.log if line.startswith("stored "))

    @property
    def killed_at(self) -> str | None:
        return next((line.split()[-1] for line in self.log if line.startswith("killed at ")), None)

    @property
    def network(self) -> list[str]:
        return [line for line in self.log if line.startswith("network ")]


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without offline switches or NARRATIVE_* settings."""
    drop = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("NARRATIVE_")}
    env.update(MPLBACKEND="Agg", PYTHONHASHSEED="0", OMP_NUM_THREADS="2", **extra)
    return env


def run_narrative(args: list[str], log: Path, *, kill_at: str = "", cwd: Path | None = None,
                  timeout: float = 300) -> Run:
    """Run ``python -m narrative ARGS`` under the harness and wait for it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("", encoding="utf-8")
    env = clean_env(RELIABILITY_LOG=str(log), RELIABILITY_KILL_AT=kill_at)
    proc = subprocess.run(
        [sys.executable, "-c", HARNESS, *map(str, args)], cwd=cwd or REPO, env=env,
        capture_output=True, text=True, timeout=timeout,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, log.read_text(encoding="utf-8").splitlines())


def build_args(corpus: Path, out: Path, *extra: str) -> list[str]:
    return ["build", str(corpus), "--out", str(out), "--seed", "7", *extra]


def hand_made_model():
    """A NarrativeModel with fitted attributes set by hand: enough to save and load, no fit needed."""
    import numpy as np
    import pandas as pd

    from narrative.codebook import load_codebook
    from narrative.model import NarrativeModel

    model = NarrativeModel(load_codebook(), random_state=1)
    model.centroids_ = np.eye(3, 8, dtype=np.float32)
    model.centroid_ids_ = np.array([0, 1, 2])
    model.narratives_ = pd.DataFrame({"narrative_id": [-1, 0, 1, 2], "label": ["unassigned", "a", "b", "c"]})
    return model


def dead_pid() -> int:
    """The id of a process that has exited (a child we waited for)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


# -- store and output digests -------------------------------------------------------------------

#: Columns that record when something happened, not what: left out of content digests.
VOLATILE = {"ingested_at", "created_at"}


def store_digest(path: Path) -> dict[str, tuple[int, str]]:
    """Per table: (row count, sha256 of its rows sorted, volatile columns left out)."""
    from narrative.store import Store

    out = {}
    with Store(path, read_only=True) as store:
        tables = [r[0] for r in store.con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        for table in sorted(tables):
            frame = store.con.execute(f'SELECT * FROM "{table}"').df()
            frame = frame[[c for c in frame.columns if c not in VOLATILE]]
            if table == "runs" and "stats" in frame:  # how the run was invoked, not its result
                frame["stats"] = [json.dumps({k: v for k, v in json.loads(s).items()
                                              if k != "provenance"}, sort_keys=True)
                                  for s in frame["stats"]]
            rows = sorted(json.dumps([_plain(v) for v in row], default=str) for row in frame.itertuples(index=False))
            out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def leftovers(folder: Path) -> list[str]:
    """Temporary or zero-byte files anywhere under ``folder`` (relative paths)."""
    bad = []
    for path in sorted(folder.rglob("*")):
        name = path.name
        if name.endswith((".tmp", ".old")) or name.startswith(".") or ".tmp" in name:
            bad.append(str(path.relative_to(folder)))
        elif path.is_file() and path.stat().st_size == 0:
            bad.append(str(path.relative_to(folder)) + " (0 bytes)")
    return bad


# -- one clean build, shared ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory) -> Path:
    """The shared corpus; its titles would create ``<its folder>/PWNED-by-title`` if executed."""
    folder = tmp_path_factory.mktemp("corpus")
    return write_jsonl(folder / "articles.jsonl", corpus_records(folder / SENTINEL_NAME))


@dataclass
class CleanBuild:
    out: Path
    run: Run
    sandbox: Path
    new_paths: list[Path]
    """Every path the build created under the sandbox."""


@pytest.fixture(scope="session")
def clean_build(tmp_path_factory, corpus_file) -> CleanBuild:
    """An uninterrupted ``narrative build`` of the corpus, sockets blocked, offline switches unset.

    It runs from a folder three levels deep in an empty sandbox, so a relative name like ``../../x``
    resolved against the working or the output folder would land in the sandbox, where
    ``new_paths`` shows it.
    """
    sandbox = tmp_path_factory.mktemp("sandbox")
    work = sandbox / "a" / "b" / "c"
    work.mkdir(parents=True)
    out = work / "out"
    before = set(sandbox.rglob("*"))
    run = run_narrative(build_args(corpus_file, out), sandbox.parent / f"{sandbox.name}.log", cwd=work)
    assert run.returncode == 0, run.stderr[-3000:]
    new_paths = sorted(set(sandbox.rglob("*")) - before)
    return CleanBuild(out, run, sandbox, new_paths)


@dataclass
class SecondBuilds:
    out: Path
    runs: list[Run]
    before: dict[str, tuple[int, str]]
    """The store digest before the two builds started."""


@pytest.fixture(scope="session")
def second_builds(tmp_path_factory, clean_build, corpus_file) -> SecondBuilds:
    """The clean build's folder built again from the same input by two processes started at once.

    Serves two cases: concurrency (one waits or refuses; the store stays whole) and idempotence
    (whatever ran again embedded nothing and changed nothing).
    """
    root = tmp_path_factory.mktemp("again")
    out = root / "out"
    shutil.copytree(clean_build.out, out)
    before = store_digest(out / "narrative.duckdb")
    procs, logs = [], []
    for name in ("first", "second"):
        log = root / f"{name}.log"
        log.write_text("", encoding="utf-8")
        logs.append(log)
        procs.append(subprocess.Popen(
            [sys.executable, "-c", HARNESS, *build_args(corpus_file, out)], cwd=REPO,
            env=clean_env(RELIABILITY_LOG=str(log)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        ))
        time.sleep(0.2)
    runs = []
    for proc, log in zip(procs, logs):
        stdout, stderr = proc.communicate(timeout=600)
        runs.append(Run(proc.returncode, stdout, stderr, log.read_text(encoding="utf-8").splitlines()))
    return SecondBuilds(out, runs, before)

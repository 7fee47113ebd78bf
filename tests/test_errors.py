"""User errors end as one line, ``narrative: error: ...`` naming the path, exit status 1 and no
traceback, and before any long work; genuine bugs keep their traceback (issue 24, case 8).

Commands run in-process through typer's runner on a tiny real store (tests/tiny_run.py). A
read-only file system and a full disk are simulated at the level of the ``os`` calls that meet
them (``mkdir``/``open`` raising EROFS, ``fsync`` raising ENOSPC): these tests run as root, which
file modes do not stop.
"""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narrative.cli import app

from . import tiny_run

runner = CliRunner()


def one_line_error(result, *names: object) -> str:
    """The single stderr line of a failed command, checked: exit status 1, starts with
    ``narrative: error:``, names every one of ``names``, and no traceback anywhere."""
    assert "Traceback" not in result.output + result.stderr, result.stderr
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("narrative: error: "), lines[0]
    for name in names:
        assert str(name) in lines[0], (name, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A store with a run (two outlets, four weeks); tests copy it before damaging it."""
    folder = tmp_path_factory.mktemp("tiny")
    return tiny_run.build_store(folder, tiny_run.records(["Wire", "Gazette"]))


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "in" / "a.txt"
    path.parent.mkdir()
    path.write_text(tiny_run.article_text(0), encoding="utf-8")
    return path


def _commands(store: Path, corpus: Path, out: Path) -> dict[str, list[str]]:
    """Every command that writes under ``--out``, writing to ``out``."""
    return {
        "build": ["build", str(corpus), "--out", str(out), "-q"],
        "report": ["report", "--store", str(store), "--out", str(out), "--format", "html"],
        "drift": ["drift", "--store", str(store), "--out", str(out)],
        "codebook suggest": ["codebook", "suggest", "--store", str(store), "--out",
                             str(out / "suggested.yaml")],
    }


COMMANDS = ["build", "report", "drift", "codebook suggest"]


# -- output paths --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_out_that_is_an_existing_file_is_one_line(command, tiny, corpus, tmp_path):
    in_the_way = tmp_path / "taken"
    in_the_way.write_text("a file, not a folder\n")
    result = runner.invoke(app, _commands(tiny, corpus, in_the_way)[command])
    one_line_error(result, in_the_way)
    assert in_the_way.read_text() == "a file, not a folder\n"


@pytest.fixture
def read_only(tmp_path, monkeypatch) -> Path:
    """A folder (holding ``existing/``) whose file system refuses every write, as a read-only
    mount does: ``mkdir`` and ``open`` for writing raise EROFS under it."""
    root = tmp_path / "ro"
    (root / "existing").mkdir(parents=True)
    real_mkdir, real_open = os.mkdir, os.open
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def refuse(path):
        return OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))

    def under(path) -> bool:
        return Path(os.path.abspath(os.fsdecode(path))).is_relative_to(root)

    def mkdir(path, mode=0o777, *, dir_fd=None):
        if under(path):
            raise refuse(path)
        return real_mkdir(path, mode, dir_fd=dir_fd)

    def open_(path, flags, mode=0o777, *, dir_fd=None):
        if flags & writing and under(path):
            raise refuse(path)
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", open_)
    return root


@pytest.mark.parametrize("folder", ["existing", "new/deeper"])
@pytest.mark.parametrize("command", COMMANDS)
def test_out_on_a_read_only_file_system_is_one_line(command, folder, tiny, corpus, read_only):
    out = read_only / folder
    result = runner.invoke(app, _commands(tiny, corpus, out)[command])
    line = one_line_error(result, read_only)
    assert "Read-only file system" in line


@pytest.mark.parametrize("command", ["report", "drift", "codebook suggest"])
def test_a_full_disk_while_writing_outputs_is_one_line(command, tiny, corpus, tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "out"
    line = one_line_error(runner.invoke(app, _commands(tiny, corpus, out)[command]), out)
    assert "No space left on device" in line and "free some disk space" in line


def test_a_full_disk_while_saving_a_model_names_its_folder(tmp_path, monkeypatch):
    from narrative.errors import OutputError
    from narrative.model.persist import save_model

    from .reliability.conftest import hand_made_model

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="No space left on device") as error:
        save_model(hand_made_model(), tmp_path / "models" / "run")
    assert str(tmp_path / "models" / "run") in str(error.value)
    assert list((tmp_path / "models").iterdir()) == [], "no temporary folder is left behind"


def test_codebook_suggest_out_naming_a_folder_is_one_line(tiny, tmp_path):
    folder = tmp_path / "suggestions"
    folder.mkdir()
    result = runner.invoke(app, ["codebook", "suggest", "--store", str(tiny), "--out", str(folder)])
    assert "give a file name" in one_line_error(result, folder)
    assert list(folder.iterdir()) == []


# -- damaged stores ------------------------------------------------------------------------------


def _bit_flipped(source: Path, target: Path) -> Path:
    """``source`` with one byte flipped in the middle of every 256 KiB block after the headers:
    whatever block DuckDB reads first fails its checksum."""
    data = bytearray(source.read_bytes())
    for offset in range(12288 + 131072, len(data), 262144):
        data[offset] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


def _truncated(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) * 2 // 3])
    return target


@pytest.mark.parametrize("damage", [_bit_flipped, _truncated], ids=["bit-flipped", "truncated"])
@pytest.mark.parametrize("command", ["report", "drift", "ingest"])
def test_a_damaged_store_is_one_line_naming_it(command, damage, tiny, corpus, tmp_path):
    store = damage(tiny, tmp_path / "damaged.duckdb")
    args = {
        "report": ["report", "--store", str(store), "--out", str(tmp_path / "o"), "--format", "html"],
        "drift": ["drift", "--store", str(store), "--out", str(tmp_path / "o")],
        "ingest": ["ingest", str(corpus), "--store", str(store)],
    }[command]
    line = one_line_error(runner.invoke(app, args), store)
    assert "damaged" in line and "narrative build" in line


# -- settings and flags --------------------------------------------------------------------------


@pytest.mark.parametrize("text, problem", [
    ("seed: [1\n", "line 2"),
    ("seed: !!python/object/apply:os.system ['true']\n", "python/object/apply:os.system"),
    ("seed: 1\n  n_bootstrap: 3\n", "line 2"),
])
def test_a_yaml_syntax_or_tag_error_in_the_config_is_one_line(text, problem, tiny, tmp_path):
    config = tmp_path / "settings.yaml"
    config.write_text(text)
    result = runner.invoke(app, ["drift", "--store", str(tiny), "--out", str(tmp_path / "o"),
                                 "--config", str(config)])
    assert problem in one_line_error(result, config, "not valid YAML")


def test_a_toml_syntax_error_in_the_config_is_one_line(tiny, tmp_path):
    config = tmp_path / "settings.toml"
    config.write_text("seed = = 3\n")
    result = runner.invoke(app, ["drift", "--store", str(tiny), "--out", str(tmp_path / "o"),
                                 "--config", str(config)])
    one_line_error(result, config, "not valid TOML", "line 1")


@pytest.mark.parametrize("name, text, setting", [
    ("huge.toml", "seed = 1e400\n", "seed"),
    ("nan.yaml", "zeroshot_min_similarity: .nan\n", "zeroshot_min_similarity"),
    ("inf.yaml", "n_bootstrap: .inf\n", "n_bootstrap"),
    ("neg.yaml", "assign_min_similarity: -.inf\n", "assign_min_similarity"),
    ("float-seed.yaml", "seed: 2.5\n", "seed"),
    ("choice.yaml", "period: fortnight\n", "period"),
])
def test_a_setting_out_of_range_is_one_line_naming_it_its_value_and_the_file(name, text, setting,
                                                                            tiny, tmp_path):
    config = tmp_path / name
    config.write_text(text)
    out = tmp_path / "o"
    result = runner.invoke(app, ["drift", "--store", str(tiny), "--out", str(out),
                                 "--config", str(config)])
    line = one_line_error(result, config, f"{setting} must be")
    assert not out.exists(), "nothing is written"
    assert "got" in line


def test_seed_minus_one_fails_before_any_work(corpus, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(corpus), "--out", str(out), "--seed", "-1", "-q"])
    one_line_error(result, "seed must be a whole number from 0 to 2147483647", "got -1", "--seed")
    assert not (out / "narrative.duckdb").exists(), "nothing was ingested"


def test_seed_minus_one_from_the_environment_names_the_variable(tiny, tmp_path):
    result = runner.invoke(app, ["report", "--store", str(tiny), "--out", str(tmp_path / "o")],
                           env={"NARRATIVE_SEED": "-1"})
    one_line_error(result, "NARRATIVE_SEED", "got -1")


@pytest.mark.parametrize("formats", [",", "", " , ", "docx", "html,docx"])
@pytest.mark.parametrize("command", ["report", "build"])
def test_a_format_list_without_a_known_format_is_one_line(command, formats, tiny, corpus, tmp_path):
    out = tmp_path / "o"
    args = (["report", "--store", str(tiny)] if command == "report" else ["build", str(corpus), "-q"])
    result = runner.invoke(app, [*args, "--out", str(out), "--format", formats])
    one_line_error(result, "valid formats: html, pdf")
    assert not out.exists(), "no partial output"


@pytest.mark.parametrize("args, flag", [
    (["demo", "--weeks", "0"], "--weeks"),
    (["demo", "--per-week", "-2"], "--per-week"),
    (["evaluate", "c.jsonl", "--json", "s.json", "--unit", "sentence"], "--unit"),
])
def test_other_flags_out_of_range_are_one_line(args, flag, tmp_path):
    result = runner.invoke(app, [*args, *(["--out", str(tmp_path / "o")] if args[0] == "demo" else [])])
    one_line_error(result, flag)


def test_a_pickled_bin_in_the_embedding_model_folder_is_one_line_before_any_work(corpus, tmp_path):
    sentinel = tmp_path / "pwned"
    folder = tmp_path / "evil-model"
    folder.mkdir()
    (folder / "modules.json").write_text('[{"idx": 0, "name": "0", "path": "", '
                                         '"type": "sentence_transformers.models.Transformer"}]')
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(_Payload(sentinel)))
    config = tmp_path / "settings.yaml"
    config.write_text(f"embedding_model: {folder}\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(corpus), "--out", str(out), "--config", str(config),
                                 "-q"])
    line = one_line_error(result, folder, "pytorch_model.bin")
    assert "refusing" in line
    assert not sentinel.exists()
    assert not (out / "narrative.duckdb").exists(), "refused before the ingest"


class _Payload:
    """Unpickling this creates ``sentinel``: proof that a loader ran a pickle."""

    def __init__(self, sentinel: Path):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


# -- bugs keep their traceback -----------------------------------------------------------------


@pytest.mark.parametrize("error", [RuntimeError("a bug"), ValueError("another bug"),
                                   OSError(errno.EIO, "I/O error in a bug")])
def test_an_unexpected_error_inside_a_command_keeps_its_traceback(error, tiny, tmp_path, monkeypatch):
    import narrative.drift

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(narrative.drift, "compute_drift", broken)
    result = runner.invoke(app, ["drift", "--store", str(tiny), "--out", str(tmp_path / "o")])
    assert result.exception is error, "the exception escapes the command as it was raised"
    assert "narrative: error" not in result.stderr


def test_a_bug_shows_a_traceback_from_the_command_line(tiny, tmp_path):
    """The same through a real process: Python prints the traceback and exits 1."""
    import subprocess
    import sys

    code = ("import narrative.drift as p, sys\n"
            "def broken(*a, **k): raise RuntimeError('a bug')\n"
            "p.compute_drift = broken\n"
            "from narrative.cli import app\n"
            "sys.argv = ['narrative', *sys.argv[1:]]\n"
            "app()\n")
    proc = subprocess.run([sys.executable, "-c", code, "drift", "--store", str(tiny), "--out",
                           str(tmp_path / "o")], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert "RuntimeError: a bug" in proc.stderr
    assert "narrative: error" not in proc.stderr

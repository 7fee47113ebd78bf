"""Links in an input folder: followed only inside the sources given (or with follow_links), the
same for files and folders, each link skipped named in a warning, and link loops walked once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from narrative.ingest import ingest_sources
from narrative.ingest.readers import collect_files

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt",
                                reason="needs symbolic links")

TEXT = ("The ministers met on Tuesday to discuss the grain corridor and the sanctions package "
        "that has stalled for several weeks now. {}")


def write(path: Path, tag: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEXT.format(tag), encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """inputs/ with a real file, links to a file and a folder outside it, links inside it,
    and a link back to its own root (a loop)."""
    outside = tmp_path / "outside"
    write(outside / "secret.txt", "outside file")
    write(outside / "folder" / "deep.txt", "outside folder")
    inputs = tmp_path / "inputs"
    write(inputs / "real.txt", "real")
    write(inputs / "sub" / "inner.txt", "inner")
    (inputs / "secret-link.txt").symlink_to(outside / "secret.txt")
    (inputs / "folder-link").symlink_to(outside / "folder", target_is_directory=True)
    (inputs / "inner-link.txt").symlink_to(inputs / "sub" / "inner.txt")
    (inputs / "sub-link").symlink_to(inputs / "sub", target_is_directory=True)
    (inputs / "sub" / "loop").symlink_to(inputs, target_is_directory=True)
    return tmp_path


def names(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_links_pointing_outside_the_sources_are_skipped_and_named(tree: Path) -> None:
    warnings: list[str] = []
    files = collect_files([tree / "inputs"], warnings=warnings)
    assert names(files, tree / "inputs") == ["real.txt", "sub/inner.txt"]
    skipped = [w for w in warnings if "outside the sources" in w]
    assert len(skipped) == 2
    assert any("secret-link.txt" in w and "follow-links" in w for w in skipped)
    assert any("folder-link" in w for w in skipped)
    result = ingest_sources([tree / "inputs"])
    assert not any("outside" in a.text for a in result.articles)
    assert len(result.articles) == 2


def test_links_inside_the_sources_are_followed_once_and_loops_end(tree: Path) -> None:
    warnings: list[str] = []
    files = collect_files([tree / "inputs"], warnings=warnings)
    inputs = (tree / "inputs").resolve()
    assert sorted(p.resolve() for p in files) == [inputs / "real.txt", inputs / "sub" / "inner.txt"]
    assert any("sub/loop" in w and "is read already" in w for w in warnings)
    assert any("sub-link" in w and "is read already" in w for w in warnings)


def test_a_link_into_another_source_is_followed(tree: Path) -> None:
    warnings: list[str] = []
    files = collect_files([tree / "inputs", tree / "outside" / "secret.txt"], warnings=warnings)
    assert (tree / "inputs" / "secret-link.txt") in files
    assert not any("secret-link.txt" in w and "outside the sources" in w for w in warnings)


def test_follow_links_reads_everything_once(tree: Path) -> None:
    warnings: list[str] = []
    files = collect_files([tree / "inputs"], warnings=warnings, follow_links=True)
    assert names(files, tree / "inputs") == [
        "folder-link/deep.txt", "real.txt", "secret-link.txt", "sub/inner.txt"]
    assert not any("outside the sources" in w for w in warnings)
    result = ingest_sources([tree / "inputs"], follow_links=True)
    assert sum("outside" in a.text for a in result.articles) == 2


def test_a_source_given_as_a_link_is_read(tree: Path) -> None:
    (tree / "given.txt").symlink_to(tree / "outside" / "secret.txt")
    (article,) = ingest_sources([tree / "given.txt"]).articles
    assert "outside file" in article.text


def test_the_cli_flag_follows_a_link_outside_the_sources(tmp_path):
    """`--follow-links` reaches the readers: without it the outside file is skipped with a
    warning naming the link; with it the article is ingested."""
    from typer.testing import CliRunner

    from narrative.cli import app
    from narrative.store import Store

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "far.txt").write_text("A paragraph about sanctions on oil exports and the price "
                                      "cap that several governments agreed this week.",
                                      encoding="utf-8")
    sources = tmp_path / "in"
    sources.mkdir()
    (sources / "near.txt").write_text("A paragraph about security guarantees for Ukraine that "
                                      "ministers discussed at the summit on Tuesday.",
                                      encoding="utf-8")
    (sources / "link.txt").symlink_to(outside / "far.txt")
    counts = {}
    for flag in ([], ["--follow-links"]):
        store = tmp_path / f"s{len(flag)}.duckdb"
        result = CliRunner().invoke(app, ["ingest", str(sources), "--store", str(store), *flag])
        assert result.exit_code == 0, result.output
        with Store(store, read_only=True) as st:
            counts[bool(flag)] = st.count("articles")
        if not flag:
            assert "link.txt" in result.output
    assert counts == {False: 1, True: 2}

"""Outlet names, ids and titles like ``../../x``, ``/etc/passwd``, ``CON``, 300 characters or a NUL
never make a file outside the output folder.

The shared build (conftest.py) reads a corpus whose outlets and ids are such names, from a working
folder three levels deep in an empty sandbox; anything it wrote outside ``out/`` would show up there.
"""

from __future__ import annotations

import re

import pytest

from narrative.io import atomic_write_bytes, safe_filename

from .conftest import PATH_NAMES

WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]{1,120}\Z")


@pytest.mark.slow
def test_build_writes_nothing_outside_its_output_folder(clean_build):
    out = clean_build.out
    outside = [p for p in clean_build.new_paths if p != out and out not in p.parents]
    assert outside == [], f"the build wrote outside {out}: {outside}"
    assert clean_build.new_paths, "the build wrote its output"


@pytest.mark.slow
def test_build_output_names_are_plain_and_portable(clean_build):
    for path in clean_build.new_paths:
        if path == clean_build.out:
            continue
        name = path.name
        assert PLAIN_NAME.match(name), f"{path.relative_to(clean_build.out)}: not a plain file name"
        assert name.split(".")[0].lower() not in WINDOWS_DEVICES, f"{name}: a Windows device name"


@pytest.mark.parametrize("name", PATH_NAMES + ["", ".", "..", "COM1.png", "a/b\\c", "x\u202e.gnp", "é" * 300])
def test_safe_filename_keeps_hostile_names_inside_the_folder(tmp_path, name):
    stem = safe_filename(name)
    assert PLAIN_NAME.match(stem) and len(stem) <= 80, stem
    assert stem.lower() not in WINDOWS_DEVICES and "\x00" not in stem
    folder = tmp_path / "out"
    written = atomic_write_bytes(folder / f"{stem}.png", b"png")
    assert written.resolve().parent == folder.resolve()
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["out", f"{stem}.png"])


def test_different_hostile_names_never_share_a_file(tmp_path):
    names = PATH_NAMES + ["../../X", "con", "CON ", "n" * 301, "nul\x00bytE"]
    stems = [safe_filename(n) for n in names]
    assert len(set(stems)) == len(names), dict(zip(names, stems))


def test_figure_named_by_hostile_text_lands_in_its_folder(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from narrative.figures import save_figure

    folder = tmp_path / "nest" / "figures"
    for name in PATH_NAMES:
        paths = save_figure(Figure(figsize=(1, 1)), folder, name)
        for path in paths.values():
            assert path.resolve().parent == folder.resolve(), path
    escaped = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent != folder]
    assert escaped == []

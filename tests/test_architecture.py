"""The shape of the package (docs/architecture.md): layers, no cycles, small modules and functions.

The import contracts live in pyproject.toml ([tool.importlinter]); import-linter checks them here
so that CI fails on an import that crosses a layer, even a lazy one inside a function.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "narrative"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _oversized() -> set[str]:
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        source = path.read_text(encoding="utf-8")
        if source.count("\n") > MAX_MODULE_LINES:
            found.add(rel)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    found.add(f"{rel}::{node.name}")
    return found


def test_the_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    out = subprocess.run([lint, "pyproject.toml"], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_no_module_or_function_grows_past_the_limits():
    found = _oversized()
    assert not found, (
        f"over {MAX_MODULE_LINES} lines per module or {MAX_FUNCTION_LINES} per function: "
        f"{sorted(found)}")


def test_the_limits_test_sees_a_long_function(tmp_path, monkeypatch):
    long = tmp_path / "narrative" / "long.py"
    long.parent.mkdir()
    long.write_text("def f():\n" + "    x = 1\n" * MAX_FUNCTION_LINES, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", long.parent)
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    assert _oversized() == {"narrative/long.py::f"}

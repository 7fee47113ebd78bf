"""Running the shipped notebooks in tests, as ``notebooks/render.py`` runs them.

Shared by tests/test_notebooks.py and the hostile-content battery: the notebooks' names and data
cell, the kernel (``kernel_dir``, a fixture) and the executor of the render script, and readers of
a notebook's cells and outputs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
EXPECTED = ["0.01-explore-corpus", "1.01-fit-narratives", "2.01-drift-by-outlet", "3.01-build-report"]
#: The first line of the one cell a reader edits to point a notebook at their own data.
DATA_CELL_MARK = "# ▶ Point this at your own data"


def _load_render():
    """notebooks/render.py as a module (the notebooks folder is not a package)."""
    name = "narrative_notebooks_render"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, NOTEBOOKS / "render.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


render = _load_render()


def source(cell) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else text


def execute(path: Path, cwd: Path, kernel_dir: Path):
    """Run the notebook at ``path`` afresh in ``cwd`` (its saved outputs are replaced)."""
    import nbformat

    return render.execute(nbformat.read(path, as_version=4), cwd, kernel_dir)


def text_outputs(nb) -> str:
    """Every printed or displayed text of ``nb`` (stream text and ``text/plain``), joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory) -> Path:
    """A kernelspec that starts this interpreter, so notebooks import the narrative under test."""
    return render.write_kernel_spec(tmp_path_factory.mktemp("kernels"))

"""The notebooks: named by phase, paired with jupytext, stripped of outputs, and they all run.

The execution tests run every notebook end to end (nbclient, a kernel on this interpreter) in one
temporary working directory shared by the module, in phase order, as a reader would: notebook 0
writes the demo corpus and store under ``out/notebook-demo``, notebook 1 fits the run once and
notebooks 2 and 3 reuse it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
EXPECTED = ["0.01-explore-corpus", "1.01-fit-narratives", "2.01-drift-by-outlet", "3.01-build-report"]
DATA_CELL_MARK = "# ▶ Point this at your own data"
NAME = re.compile(r"\d\.\d\d-[a-z0-9]+(?:-[a-z0-9]+)*\Z")
CELL_TIMEOUT_S = 900


def _names() -> list[str]:
    return sorted({p.stem for p in NOTEBOOKS.glob("*.ipynb")} | {p.stem for p in NOTEBOOKS.glob("*.py")})


def _source(cell) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def test_the_phase_notebooks_exist_and_are_named_by_phase():
    names = _names()
    assert set(EXPECTED) <= set(names), f"missing notebooks: {sorted(set(EXPECTED) - set(names))}"
    for name in names:
        assert NAME.match(name), f"{name}: notebooks are named PHASE.NN-what-it-does"
        assert (NOTEBOOKS / f"{name}.ipynb").is_file(), f"{name}.py has no paired .ipynb"
        assert (NOTEBOOKS / f"{name}.py").is_file(), f"{name}.ipynb has no paired .py"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_stripped_and_matches_its_py(name):
    import jupytext
    import nbformat

    ipynb = NOTEBOOKS / f"{name}.ipynb"
    raw = json.loads(ipynb.read_text(encoding="utf-8"))
    for i, cell in enumerate(raw["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{ipynb.name} cell {i} has outputs: strip them"
            assert cell.get("execution_count") is None, f"{ipynb.name} cell {i} has an execution count"
    assert "ipynb,py:percent" in raw["metadata"]["jupytext"]["formats"]

    nb = nbformat.read(ipynb, as_version=4)
    nbformat.validate(nb)
    paired = jupytext.read(NOTEBOOKS / f"{name}.py")
    assert [(c.cell_type, _source(c)) for c in nb.cells] == [
        (c.cell_type, _source(c)) for c in paired.cells
    ], f"{name}.ipynb and {name}.py differ: run `jupytext --sync notebooks/{name}.py`"

    data_cells = [c for c in nb.cells if c.cell_type == "code" and _source(c).startswith(DATA_CELL_MARK)]
    assert len(data_cells) == 1, f"{name}: exactly one cell starts with {DATA_CELL_MARK!r}"
    assert "import narrative as nv" in "".join(_source(c) for c in nb.cells)


# -- execution -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebooks")


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory) -> Path:
    """A kernelspec that starts this interpreter, so notebooks import the narrative under test."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / "narrative-test"
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "narrative tests",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    return root


def _execute(path: Path, cwd: Path, kernel_dir: Path):
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    specs = KernelSpecManager(kernel_dirs=[str(kernel_dir)], ensure_native_kernel=False)
    km = KernelManager(kernel_name="narrative-test", kernel_spec_manager=specs)
    client = NotebookClient(
        nb, km=km, timeout=CELL_TIMEOUT_S, allow_errors=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


def _text_outputs(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_end_to_end(name, workdir, kernel_dir):
    nb = _execute(NOTEBOOKS / f"{name}.ipynb", workdir, kernel_dir)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = _text_outputs(nb)
    demo = workdir / "out" / "notebook-demo"
    assert (demo / "demo_corpus.jsonl").is_file() and (demo / "narrative.duckdb").is_file()
    if name.startswith("0."):
        assert re.search(r"\d+ records read, \d+ articles, \d+ paragraphs", text)
    elif name.startswith("1."):
        assert re.search(r"run [0-9a-f]+: (reused|fitted)", text)
        assert "Sanctions leverage" in text  # a named narrative of the shipped codebook
    elif name.startswith("2."):
        images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        assert len(images) >= 3, "the share and heatmap figures are shown"
    elif name.startswith("3."):
        report = workdir / "out" / "reports" / "notebook-demo"
        assert (report / "report.html").stat().st_size > 10_000
        assert (report / "report.pdf").read_bytes().startswith(b"%PDF")
        index = (workdir / "out" / "reports" / "index.html").read_text(encoding="utf-8")
        assert 'href="notebook-demo/report.html"' in index
        assert "(reused" in text, "the report notebook reuses the run of the earlier notebooks"


@pytest.mark.slow
def test_notebooks_rerun_on_an_existing_store(workdir, kernel_dir):
    """Run again, as a reader does: the saved run is reused (no fit) and every cell still works."""
    if not (workdir / "out" / "notebook-demo" / "narrative.duckdb").is_file():
        pytest.skip("runs after test_notebook_runs_end_to_end, which builds the store")
    for name in EXPECTED[1:3]:
        nb = _execute(NOTEBOOKS / f"{name}.ipynb", workdir, kernel_dir)
        text = _text_outputs(nb)
        assert re.search(r"run [0-9a-f]+", text)
        if name.startswith("1."):
            assert re.search(r"run [0-9a-f]+: reused", text)
            assert "named" in text and "Sanctions leverage" in text

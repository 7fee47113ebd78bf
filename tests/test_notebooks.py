"""The notebooks: named by phase, paired with jupytext, committed with fresh outputs, public API only.

A reader browsing the repository sees each notebook's outputs without running it: the ``.ipynb``
files are saved executed by ``notebooks/render.py``, which records the hash of the ``.py`` cells
it ran. The fast tests check that every ``.ipynb`` holds the cells of its ``.py`` and was rendered
from them, and that its outputs are clean (no error, no absolute path of the machine that rendered
it, no oversized image). The slow tests run every notebook afresh end to end (nbclient, a kernel on
this interpreter) in one temporary working directory shared by the module, in phase order, as a
reader would: notebook 0 writes the demo corpus and store under ``out/notebook-demo``, notebook 1
fits the run once and notebooks 2 and 3 reuse it.
"""

from __future__ import annotations

import ast
import base64
import importlib
import json
import re
from pathlib import Path

import pytest

from .notebook_runner import DATA_CELL_MARK, EXPECTED, NOTEBOOKS, execute, render, source, text_outputs
from .notebook_runner import kernel_dir  # noqa: F401  (a fixture: the kernel that runs this interpreter)

NAME = re.compile(r"\d\.\d\d-[a-z0-9]+(?:-[a-z0-9]+)*\Z")
RENDER = "PYTHONPATH=$PWD .venv/bin/python notebooks/render.py"
#: The largest image a rendered notebook may hold (bytes of PNG).
MAX_IMAGE_BYTES = 300_000
#: The largest a rendered notebook may be: outputs are for reading, not data dumps.
MAX_NOTEBOOK_BYTES = 1_500_000
#: Absolute paths of a machine (POSIX roots where checkouts, homes and temporary folders live, or
#: a Windows drive), not preceded by a word character (so ``and/or`` and URLs' paths pass).
ABSOLUTE_PATH = re.compile(
    r"(?<![\w.~/-])/(?:home|tmp|work|root|Users|var|opt|usr|private|mnt|srv|builds|runner)/|\b[A-Z]:\\{1,2}(?=\w)"
)
#: The modules notebooks may import from: the package and its documented public modules.
PUBLIC_MODULES = {"narrative", "narrative.figures", "narrative.sample", "narrative.sample.scoring",
                  "narrative.explore.views"}


def _names() -> list[str]:
    stems = {p.stem for p in NOTEBOOKS.glob("*.ipynb")} | {p.stem for p in NOTEBOOKS.glob("*.py")}
    return sorted(stems - {"render"})


def _paired(name: str):
    import jupytext

    return jupytext.read(NOTEBOOKS / f"{name}.py")


def test_the_phase_notebooks_exist_and_are_named_by_phase():
    names = _names()
    assert set(EXPECTED) <= set(names), f"missing notebooks: {sorted(set(EXPECTED) - set(names))}"
    assert render.notebook_names() == sorted(EXPECTED), "render.py renders every notebook"
    for name in names:
        assert NAME.match(name), f"{name}: notebooks are named PHASE.NN-what-it-does"
        assert (NOTEBOOKS / f"{name}.ipynb").is_file(), f"{name}.py has no paired .ipynb"
        assert (NOTEBOOKS / f"{name}.py").is_file(), f"{name}.ipynb has no paired .py"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_matches_its_py_and_was_rendered_from_it(name):
    import nbformat

    ipynb = NOTEBOOKS / f"{name}.ipynb"
    raw = json.loads(ipynb.read_text(encoding="utf-8"))
    assert "ipynb,py:percent" in raw["metadata"]["jupytext"]["formats"]
    nb = nbformat.read(ipynb, as_version=4)
    nbformat.validate(nb)
    assert render.source_cells(nb) == render.source_cells(_paired(name)), (
        f"{name}.ipynb and {name}.py differ: edit the .py, then run `{RENDER}`"
    )
    recorded = nb.metadata.get(render.METADATA_KEY, {}).get("source_sha256")
    assert recorded == render.source_hash(NOTEBOOKS / f"{name}.py"), (
        f"{name}.ipynb was not rendered from the current {name}.py: run `{RENDER}`"
    )
    counts = [c.get("execution_count") for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{name}.ipynb: not every cell ran, in order, once"

    data_cells = [c for c in nb.cells if c.cell_type == "code" and source(c).startswith(DATA_CELL_MARK)]
    assert len(data_cells) == 1, f"{name}: exactly one cell starts with {DATA_CELL_MARK!r}"
    assert "import narrative as nv" in "".join(source(c) for c in nb.cells)


def _outputs(nb):
    return [(i, out) for i, cell in enumerate(nb.cells) for out in cell.get("outputs", [])]


@pytest.mark.parametrize("name", EXPECTED)
def test_rendered_outputs_are_clean_and_small(name):
    import nbformat

    path = NOTEBOOKS / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    outputs = _outputs(nb)
    assert outputs, f"{name}.ipynb has no outputs: run `{RENDER}`"
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES, f"{name}.ipynb is {path.stat().st_size:,} bytes"
    for i, out in outputs:
        assert out["output_type"] != "error", f"{name}.ipynb cell {i}: {out.get('ename')}: {out.get('evalue')}"
        assert not (out["output_type"] == "stream" and "Traceback" in out.get("text", "")), f"cell {i}"
        shown = {k: v for k, v in out.get("data", {}).items() if not k.startswith("image/")}
        text = json.dumps([shown, out.get("text", "")], ensure_ascii=False)
        found = ABSOLUTE_PATH.search(text)
        assert found is None, f"{name}.ipynb cell {i} shows an absolute path: ...{text[found.start():][:100]}"
        for kind, data in out.get("data", {}).items():
            if kind.startswith("image/") and not kind.endswith("svg+xml"):
                size = len(base64.b64decode(data))
                assert size <= MAX_IMAGE_BYTES, f"{name}.ipynb cell {i}: a {size:,}-byte image"


def _check_shows_curation_round(text: str) -> None:
    """Notebook 1.01's outputs replay a curation round: applied as an update (nothing embedded),
    each edit in the run's lineage."""
    assert re.search(r"run [0-9a-f]+: update of run [0-9a-f]+, 0 paragraphs embedded", text), "no refit"
    for event in ("rename", "merge", "drop"):
        assert re.search(rf"\b{event}\b", text), f"the lineage records no {event}"
    assert "EU aid to Ukraine and its critics" in text, "the renamed narrative is shown"


def _check_shows_planted_changes(text: str) -> None:
    """Notebook 2.01's outputs score the changes found against the demo's planted ones, and say
    why each planted move was missed."""
    found = re.search(r"(\d+) of (\d+) planted moves found;", text)
    assert found and int(found.group(1)) >= 1, "the demo's planted changes are matched"
    single = re.search(r"in single outlets: (\d+) of (\d+) planted moves found", text)
    assert single and 2 * int(single.group(1)) >= int(single.group(2)), "most single-outlet steps are found"
    missed = int(found.group(2)) - int(found.group(1))
    assert len(re.findall(r"^  missed: ", text, flags=re.M)) == missed, "each miss is commented"


def test_rendered_notebooks_show_the_curation_round_and_the_planted_changes():
    import nbformat

    _check_shows_curation_round(text_outputs(nbformat.read(NOTEBOOKS / f"{EXPECTED[1]}.ipynb", as_version=4)))
    _check_shows_planted_changes(text_outputs(nbformat.read(NOTEBOOKS / f"{EXPECTED[2]}.ipynb", as_version=4)))


def test_the_absolute_path_check_sees_this_machine_and_spares_prose():
    for shown in ("/tmp/pytest-of-x/notebooks0/out", "'/home/analyst/project/narrative'", "C:\\Users\\me",
                  json.dumps("C:\\Users\\me")):
        assert ABSOLUTE_PATH.search(shown), shown
    for prose in ("out/notebook-demo/narrative.duckdb", "and/or", "https://news.example/var/1",
                  "1/tmp", "12/06/2025"):
        assert not ABSOLUTE_PATH.search(prose), prose


# -- public API only ----------------------------------------------------------------------------


def _api_problems(code: str) -> list[str]:
    """What ``code`` uses of narrative beyond its public API: imports of a module outside
    :data:`PUBLIC_MODULES` (``narrative.pipeline``, ``narrative.drift`` ...), of a name not in a
    module's ``__all__`` or private, and ``nv.<name>`` for a name ``narrative`` does not export."""
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    problems, aliases = [], {}
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != "narrative":
                    continue
                if alias.name not in PUBLIC_MODULES:
                    problems.append(f"import {alias.name}")
                aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "narrative":
            if node.module not in PUBLIC_MODULES:
                problems.append(f"from {node.module} import ...")
                continue
            public = set(importlib.import_module(node.module).__all__)
            problems += [f"from {node.module} import {a.name}" for a in node.names
                         if a.name.startswith("_") or a.name not in public]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            module = aliases[node.value.id]
            if node.attr not in importlib.import_module(module).__all__ and f"{module}.{node.attr}" not in PUBLIC_MODULES:
                problems.append(f"{node.value.id}.{node.attr}")
    return problems


def test_the_public_api_check_catches_private_names_and_internals():
    assert _api_problems("import narrative as nv\nnv.build\nfrom narrative.figures import plot_emerging") == []
    assert _api_problems("from narrative.report.index import write_index") == ["from narrative.report.index import ..."]
    assert _api_problems("if x:\n    from narrative.pipeline import build") == ["from narrative.pipeline import ..."]
    assert _api_problems("from narrative.figures import _PAD_IN") == ["from narrative.figures import _PAD_IN"]
    assert _api_problems("import narrative as nv\nnv.pipeline.build()") == ["nv.pipeline"]
    assert _api_problems("import narrative.runs") == ["import narrative.runs"]


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_uses_only_the_public_api(name):
    code = "\n".join(source(c) for c in _paired(name).cells if c.cell_type == "code")
    assert _api_problems(code) == [], f"{name}.py reaches past the public API"


# -- execution -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebooks")


def _images(nb, kind: str = "image/png") -> list:
    return [out for _, out in _outputs(nb) if kind in out.get("data", {})]


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_end_to_end(name, workdir, kernel_dir):  # noqa: F811
    nb = execute(NOTEBOOKS / f"{name}.ipynb", workdir, kernel_dir)
    errors = [out for _, out in _outputs(nb) if out.get("output_type") == "error"]
    assert not errors
    text = text_outputs(nb)
    demo = workdir / "out" / "notebook-demo"
    assert (demo / "demo_corpus.jsonl").is_file() and (demo / "narrative.duckdb").is_file()
    if name.startswith("0."):
        assert re.search(r"\d+ records read, \d+ articles, \d+ paragraphs", text)
    elif name.startswith("1."):
        assert re.search(r"run [0-9a-f]+: (reused|fitted)", text)
        assert "Sanctions leverage" in text  # a named narrative of the shipped codebook
        assert len(_images(nb)) >= 1, "the narrative sizes are shown"
        _check_shows_curation_round(text)
    elif name.startswith("2."):
        assert len(_images(nb)) >= 3, "the share and heatmap figures are shown"
        assert len(_images(nb, "application/vnd.plotly.v1+json")) >= 3, "the interactive views are shown"
        _check_shows_planted_changes(text)
    elif name.startswith("3."):
        report = workdir / "out" / "reports" / "notebook-demo"
        assert (report / "report.html").stat().st_size > 10_000
        assert (report / "report.pdf").read_bytes().startswith(b"%PDF")
        assert (report / "explorer.html").is_file(), "explorer.html is written beside report.html"
        index = (workdir / "out" / "reports" / "index.html").read_text(encoding="utf-8")
        assert 'href="notebook-demo/report.html"' in index
        assert "(reused" in text, "the report notebook reuses the run of the earlier notebooks"
        assert "explorer: out/reports/notebook-demo/explorer.html" in text, "paths are shown relative"


@pytest.mark.slow
def test_notebooks_rerun_on_an_existing_store(workdir, kernel_dir):  # noqa: F811
    """Run again, as a reader does: the saved run is reused (no fit) and every cell still works."""
    if not (workdir / "out" / "notebook-demo" / "narrative.duckdb").is_file():
        pytest.skip("runs after test_notebook_runs_end_to_end, which builds the store")
    for name in EXPECTED[1:3]:
        nb = execute(NOTEBOOKS / f"{name}.ipynb", workdir, kernel_dir)
        text = text_outputs(nb)
        assert re.search(r"run [0-9a-f]+", text)
        if name.startswith("1."):
            assert re.search(r"run [0-9a-f]+: reused", text)
            assert "named" in text and "Sanctions leverage" in text

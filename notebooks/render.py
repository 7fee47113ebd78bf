"""Render the notebooks: run each one afresh and save it with its outputs, for readers who only browse.

    PYTHONPATH=$PWD .venv/bin/python notebooks/render.py            # every notebook, in phase order
    PYTHONPATH=$PWD .venv/bin/python notebooks/render.py 2.01-drift-by-outlet

A notebook's source is its paired ``.py`` (jupytext, percent format). The notebooks run one after
another in one new temporary folder, as a reader runs them (0.01 writes the demo corpus and the
store under ``out/``, 1.01 fits the run once, 2.01 and 3.01 reuse it), in a kernel started from this
interpreter with this checkout first on its path. Each ``.ipynb`` is then written with its outputs
and, in its metadata, the hash of the cells it ran (``metadata.narrative.source_sha256``):
``tests/test_notebooks.py`` fails when a ``.py`` changes and its notebook is not rendered again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
KERNEL_NAME = "narrative-notebooks"
#: The longest one cell may run (notebook 1.01 embeds and fits the demo corpus).
CELL_TIMEOUT_S = 1800
#: Where the hash of the source cells is recorded in a rendered notebook's metadata.
METADATA_KEY = "narrative"
#: The kernel's environment: plotly figures go out as plotly's own JSON (JupyterLab, VS Code and
#: Colab draw it; no 4 MB plotly.js in the file); nothing is salted by the process; and tqdm's
#: warning that ipywidgets is missing (printed with the renderer's site-packages path when a
#: library imports ``tqdm.auto``; no notebook shows a progress bar) stays out of the outputs.
KERNEL_ENV = {"PLOTLY_RENDERER": "plotly_mimetype", "PYTHONHASHSEED": "0",
              "PYTHONWARNINGS": "ignore:IProgress not found"}


def notebook_names() -> list[str]:
    """The notebooks, in phase order: the stems of ``notebooks/N.NN-*.py``."""
    return sorted(p.stem for p in NOTEBOOKS.glob("[0-9].[0-9][0-9]-*.py"))


def source_cells(nb) -> list[tuple[str, str]]:
    """Each cell's type and source text: what the ``.py`` and the ``.ipynb`` must agree on."""
    return [(c.cell_type, c.source if isinstance(c.source, str) else "".join(c.source)) for c in nb.cells]


def cells_hash(nb) -> str:
    """SHA-256 of a notebook's cells (type and text; the jupytext header left out, so a newer
    jupytext that rewrites the header does not call for a new render)."""
    return hashlib.sha256(json.dumps(source_cells(nb), ensure_ascii=False).encode("utf-8")).hexdigest()


def source_hash(py: Path) -> str:
    """:func:`cells_hash` of a notebook's cells as read from its ``.py``."""
    import jupytext

    return cells_hash(jupytext.read(py))


def write_kernel_spec(folder: Path) -> Path:
    """A kernelspec in ``folder`` that starts this interpreter with this checkout first on its
    path; returns ``folder`` (the ``kernel_dirs`` entry for :func:`execute`)."""
    spec = Path(folder) / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "narrative notebooks",
        "language": "python",
        "env": {**KERNEL_ENV, "PYTHONPATH": path},
    }), encoding="utf-8")
    return Path(folder)


def execute(nb, cwd: Path, kernel_dir: Path, *, timeout: int = CELL_TIMEOUT_S):
    """Run every cell of ``nb`` in order with ``cwd`` as the working folder; stops at the first
    error (nbclient's ``CellExecutionError``). Returns ``nb`` with its outputs."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    specs = KernelSpecManager(kernel_dirs=[str(kernel_dir)], ensure_native_kernel=False)
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
    client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=False, record_timing=False,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def stable_ids(nb) -> None:
    """Cell ids from each cell's position and text, so that rendering unchanged notebooks again
    changes no id (jupytext draws random ones)."""
    for i, (kind, text) in enumerate(source_cells(nb)):
        nb.cells[i].id = hashlib.sha256(f"{i}\0{kind}\0{text}".encode("utf-8")).hexdigest()[:8]


def render(name: str, workdir: Path, kernel_dir: Path) -> Path:
    """Run notebook ``name`` from its ``.py`` in ``workdir`` and write its ``.ipynb`` with outputs."""
    import jupytext

    py, ipynb = NOTEBOOKS / f"{name}.py", NOTEBOOKS / f"{name}.ipynb"
    nb = jupytext.read(py)
    ran = cells_hash(nb)  # of the cells run, even if the .py is edited while they run
    execute(nb, workdir, kernel_dir)
    stable_ids(nb)
    nb.metadata[METADATA_KEY] = {"source_sha256": ran}
    jupytext.write(nb, ipynb, fmt="ipynb")
    return ipynb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="notebooks to render (e.g. 2.01-drift-by-outlet); default: all, in order")
    args = parser.parse_args(argv)
    known = notebook_names()
    unknown = sorted(set(args.names) - set(known))
    if unknown:
        parser.error(f"no notebook {', '.join(unknown)}; notebooks: {', '.join(known)}")
    with tempfile.TemporaryDirectory(prefix="narrative-notebooks-") as tmp:
        kernel_dir = write_kernel_spec(Path(tmp) / "kernels")
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        for name in args.names or known:
            print(f"rendering {name} ...", flush=True)
            written = render(name, workdir, kernel_dir)
            print(f"  wrote {written.relative_to(REPO)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

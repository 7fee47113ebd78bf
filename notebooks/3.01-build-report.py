# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3.01 — Build the report
#
# `nv.build` is the whole job in one call (what `narrative build` runs): ingest, fit, drift,
# figures, the drift tables as CSV, `report.html`, `report.pdf` and `explorer.html`. With the
# store of notebooks 0–2 nothing is embedded or fitted again. The report folder goes under
# `REPORTS_DIR`; `index=True` also writes `REPORTS_DIR/index.html`, a page listing every report
# in that folder.

# %%
import os
from pathlib import Path

import narrative as nv

# %%
# ▶ Point this at your own data
SOURCES: list[str | Path] = []  # files or folders of articles (.txt, .md, .jsonl, ...); empty: the demo corpus
MANIFEST: str | Path | None = None  # optional CSV file,outlet,date,author,title,url
CODEBOOK: str | Path | None = None  # a codebook YAML; None: the shipped one
WORK_DIR = Path("out/notebook-demo")  # the store (narrative.duckdb), shared by notebooks 0-3
REPORTS_DIR = Path("out/reports")  # the report goes to REPORTS_DIR / REPORT_NAME
REPORT_NAME = "notebook-demo"
TITLE = "Demo corpus"
SEED = 0

# %%
settings = nv.Settings(seed=SEED)
demo = None
if not SOURCES:  # the demo corpus: 12 weeks, 8 articles per outlet and week (fewer hide its planted changes)
    demo = nv.generate_demo_corpus(SEED, n_weeks=12, articles_per_outlet_week=8)
    corpus_path, truth_path = nv.write_demo_corpus(demo, WORK_DIR)
    SOURCES = [corpus_path]

result = nv.build(
    SOURCES,
    REPORTS_DIR / REPORT_NAME,
    store_path=WORK_DIR / "narrative.duckdb",
    manifest=MANIFEST,
    codebook_path=CODEBOOK,
    settings=settings,
    formats=("html", "pdf"),
    title=TITLE,
    echo=print,
    index=True,
)

# %% [markdown]
# ## What was written
# Paths are relative to the folder this notebook runs in.

# %%
for name in ("html", "pdf", "explorer", "index"):
    print(f"{name:>8}: {os.path.relpath(result.paths[name])}")

# %% [markdown]
# `report.html` is one self-contained file (figures inline, no script, no external request);
# `report.pdf` holds the same. `explorer.html`, beside it, is the interactive view of notebook
# 2.01 for a reader without Python: hover for intervals, click a point, a cell, a week or an outlet
# to list the paragraphs behind it, with their links. Both open offline. The rest of the folder:

# %%
sorted(path.name + ("/" if path.is_dir() else "") for path in (REPORTS_DIR / REPORT_NAME).iterdir())

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
# figures, `report.html` and `report.pdf`. With the store of notebooks 0–2 nothing is embedded or
# fitted again. The report folder goes under `REPORTS_DIR`, whose `index.html` lists every report
# in it.

# %%
from pathlib import Path

import narrative as nv
from narrative.report.index import write_index

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
if not SOURCES:  # the demo corpus: 12 weeks, one article per outlet and week (seconds to embed)
    demo = nv.generate_demo_corpus(SEED, n_weeks=12, articles_per_outlet_week=1)
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
)
index = write_index(REPORTS_DIR)
{name: str(path) for name, path in result.paths.items()} | {"index": str(index)}

# %% [markdown]
# Open `report.html` in a browser: it is one self-contained file (figures inline, no script, no
# external request). Wall time per stage:

# %%
result.timings

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
# # 1.01 — Fit the narratives
#
# Embed every paragraph (all-MiniLM-L6-v2, shipped with the package: no download), match them to
# the codebook's named narratives and cluster the rest into discovered ones. The run is saved in
# the store under an id that hashes the input, the settings and the codebook: running this again
# on unchanged input reuses the saved run instead of fitting again.

# %%
from pathlib import Path

import narrative as nv

# %%
# ▶ Point this at your own data
SOURCES: list[str | Path] = []  # files or folders of articles (.txt, .md, .jsonl, ...); empty: the demo corpus
MANIFEST: str | Path | None = None  # optional CSV file,outlet,date,author,title,url
CODEBOOK: str | Path | None = None  # a codebook YAML; None: the shipped one
WORK_DIR = Path("out/notebook-demo")  # the store (narrative.duckdb), shared by notebooks 0-3
SEED = 0

# %%
settings = nv.Settings(seed=SEED)
if not SOURCES:  # the demo corpus: 12 weeks, one article per outlet and week (seconds to embed)
    demo = nv.generate_demo_corpus(SEED, n_weeks=12, articles_per_outlet_week=1)
    corpus_path, truth_path = nv.write_demo_corpus(demo, WORK_DIR)
    SOURCES = [corpus_path]
codebook = nv.load_codebook(CODEBOOK)
[n.name for n in codebook.narratives]

# %%
with nv.Store(WORK_DIR / "narrative.duckdb") as store:
    nv.ingest_articles(SOURCES, store, manifest=MANIFEST, settings=settings)
    fit = nv.fit_run(store, settings=settings, codebook=codebook)
    narratives = nv.narrative_table(store, fit.run_id)  # with each narrative's kind
    paragraphs = store.paragraphs()
print(f"run {fit.run_id}:", "reused" if fit.reused else f"fitted, {fit.n_embedded} paragraphs embedded")

# %% [markdown]
# ## The narratives
# *named*: from the codebook; *discovered*: clusters of paragraphs no codebook entry matched, labelled
# by their top terms; *unassigned*: paragraphs in no narrative.

# %%
narratives[["narrative_id", "label", "kind", "size", "top_terms"]]

# %% [markdown]
# ## A few paragraphs per narrative, most confident first

# %%
examples = (
    fit.assignments.merge(paragraphs[["paragraph_id", "text"]], on="paragraph_id")
    .merge(narratives[["narrative_id", "label"]], on="narrative_id")
    .sort_values("probability", ascending=False)
    .groupby("label")
    .head(2)
    .sort_values(["label", "probability"], ascending=[True, False])
)
examples[["label", "probability", "text"]]

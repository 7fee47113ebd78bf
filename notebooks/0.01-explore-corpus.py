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
# # 0.01 — Explore the corpus
#
# What is in the input before any model runs: articles per outlet and week, paragraph lengths,
# syndicated copies and rejected records. Reading the articles into the store takes seconds (no
# embedding, no model). By default this works on the demo corpus, a small fictional one generated
# here; to use your own articles, edit the cell marked ▶ below.

# %%
from pathlib import Path

import pandas as pd

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
demo = None
if not SOURCES:  # the demo corpus: 12 weeks, 8 articles per outlet and week (fewer hide its planted changes)
    demo = nv.generate_demo_corpus(SEED, n_weeks=12, articles_per_outlet_week=8)
    corpus_path, truth_path = nv.write_demo_corpus(demo, WORK_DIR)
    SOURCES = [corpus_path]
SOURCES

# %% [markdown]
# ## Read the articles into the store
# Ids are content hashes, so reading the same files again adds nothing.

# %%
with nv.Store(WORK_DIR / "narrative.duckdb") as store:
    summary = nv.ingest_articles(SOURCES, store, manifest=MANIFEST, settings=settings)
    articles = store.articles()
    paragraphs = store.paragraphs()
    rejects = store.rejects()
print(f"{summary.n_read} records read, {summary.n_ingested} articles, {summary.n_paragraphs} paragraphs")
print("rejected:", summary.reasons() or "none")
for warning in summary.warnings[:10]:
    print("warning:", warning)

# %% [markdown]
# ## Articles per outlet and week
# Weeks start on Monday, as in every drift table. A thin column (an outlet with a few articles a
# week) gives wide intervals later on.

# %%
week = pd.to_datetime(articles["date"]).dt.to_period("W-SUN").dt.start_time.dt.date
articles.assign(week=week).pivot_table(
    index="week", columns="outlet", values="article_id", aggfunc="count", fill_value=0
)

# %% [markdown]
# ## Paragraphs: length and copies
# `duplicate_of` marks a paragraph or article that repeats one seen before (syndicated copies);
# shares count each text once per article.

# %%
words = paragraphs["text"].str.split().str.len()
print(f"{len(paragraphs)} paragraphs, {paragraphs['text_hash'].nunique()} distinct texts")
print(f"{articles['duplicate_of'].notna().sum()} articles are copies of another")
words.describe().round(1).to_frame("words per paragraph")

# %% [markdown]
# The first paragraphs, with the outlet and title of their article:

# %%
paragraphs.merge(articles[["article_id", "outlet", "title"]], on="article_id")[
    ["outlet", "title", "text"]
].head(5)

# %% [markdown]
# ## Rejected records
# Nothing read is dropped silently: a record that could not be used is kept here with its reason
# and position (none in the demo corpus).

# %%
rejects.head(10)

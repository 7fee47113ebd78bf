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
# # 2.01 — Drift by outlet
#
# Each narrative's share of each outlet's paragraphs, week by week, with 95% bootstrap intervals
# over articles, and the change points found in those series. Reuses the run fitted by notebook
# 1.01 (or fits it, if this notebook runs first).

# %%
from pathlib import Path

from IPython.display import Image

import narrative as nv
from narrative.figures import figure_to_png_bytes, plot_outlet_heatmap, plot_share_over_time

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

with nv.Store(WORK_DIR / "narrative.duckdb") as store:
    nv.ingest_articles(SOURCES, store, manifest=MANIFEST, settings=settings)
    fit = nv.fit_run(store, settings=settings, codebook=nv.load_codebook(CODEBOOK))
    drift = nv.compute_drift(store, fit.run_id, settings=settings)
print(f"run {fit.run_id}; narratives in report order:", drift.narrative_order)

# %% [markdown]
# ## Shares by period and outlet
# One row per (period, outlet, narrative); `outlet == "all"` rows pool every outlet; cells with
# fewer than `settings.min_articles` articles are flagged `insufficient`.

# %%
drift.shares.head(10)

# %%
def show(fig, dpi=100):
    """Show a figure inline (the plots build figures without pyplot)."""
    return Image(figure_to_png_bytes(fig, dpi=dpi))


show(plot_share_over_time(drift.shares, outlet="all", narratives=drift.narrative_order))

# %% [markdown]
# One outlet: the one with the most articles (change `OUTLET` to look at another).

# %%
outlets = drift.shares.query("outlet != 'all'").groupby("outlet")["n_articles"].sum()
OUTLET = outlets.idxmax()
show(plot_share_over_time(drift.shares, outlet=OUTLET, narratives=drift.narrative_order))

# %%
show(plot_outlet_heatmap(drift.outlet_shares, narratives=drift.narrative_order))

# %% [markdown]
# ## Change points
# `magnitude` is the change in share (0.05 = 5 share points) from the mean before to the mean after.

# %%
drift.changepoints.sort_values("magnitude", key=abs, ascending=False).head(15)

# %% [markdown]
# With the demo corpus, compare with the changes planted in it (its module docstring describes them).

# %%
if "truth_path" in globals():
    from narrative.sample import planted_changepoints

    display(planted_changepoints(n_weeks=12))

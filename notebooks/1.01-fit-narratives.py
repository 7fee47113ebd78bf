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
# on unchanged input reuses the saved run instead of fitting again (the first fit of the demo
# corpus takes a few minutes on two cores).

# %%
from pathlib import Path

import pandas as pd
from IPython.display import Image, display
from matplotlib.figure import Figure

import narrative as nv
from narrative.figures import figure_to_png_bytes, narrative_colors, plot_narrative_sizes, style_context

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
codebook = nv.load_codebook(CODEBOOK)
codebook.names

# %%
with nv.Store(WORK_DIR / "narrative.duckdb") as store:
    nv.ingest_articles(SOURCES, store, manifest=MANIFEST, settings=settings)
    fit = nv.fit_run(store, settings=settings, codebook=codebook)
    narratives = nv.narrative_table(store, fit.run_id)  # with each narrative's kind
print(f"run {fit.run_id}:", "reused" if fit.reused else f"fitted, {fit.n_embedded} paragraphs embedded")

# %% [markdown]
# ## The narratives
# *named*: from the codebook; *discovered*: clusters of paragraphs no codebook entry matched, labelled
# by their top terms; *unassigned*: paragraphs in no narrative. Each narrative keeps its colour in
# every figure, the report and the explorer.

# %%
narratives[["narrative_id", "label", "kind", "size", "top_terms"]]

# %%
sizes = narratives.rename(columns={"label": "narrative"})[["narrative", "size", "kind"]]
with style_context():  # wider than the report's figures, so that the legend clears the title
    figure = Figure(figsize=(8.5, 1.4 + 0.3 * len(sizes)))
    plot_narrative_sizes(sizes, colors=narrative_colors(sizes["narrative"], codebook), ax=figure.add_subplot())
Image(figure_to_png_bytes(figure, dpi=100))

# %% [markdown]
# ## The most typical paragraphs of each narrative
# `nv.paragraphs` lists a run's paragraphs with their text and source, most typical of their
# narrative first (`probability`: the paragraph's membership score).

# %%
with nv.Store(WORK_DIR / "narrative.duckdb") as store:
    examples = pd.concat(
        [nv.paragraphs(store, fit.run_id, narrative=name, limit=2) for name in narratives["label"]],
        ignore_index=True,
    )
with pd.option_context("display.max_colwidth", 160):
    display(examples[["narrative", "outlet", "date", "probability", "text"]])

# %% [markdown]
# ## Curating the codebook: a round of rename, merge and drop
# The codebook YAML is the one place where an analyst curates. `nv.suggested_codebook` (the
# library side of `narrative codebook suggest`) writes the run's discovered and off-topic
# narratives as codebook entries, each with its stable `id`. Editing an entry curates that
# narrative in the next build: a new `name` renames it, `merge: [ID]` folds another narrative
# into it (a named entry takes `merge` too), `drop: true` sends its paragraphs to unassigned.
#
# The round below is one a reader of the tables above might make on the demo: the discovered
# narrative on a reassurance force and the coalition of the willing is part of the security
# guarantees debate (merge it into *Security guarantees*), the one on the Ukraine Facility and
# EU governments gets a name a reader would use (rename), and the weather cluster is dropped. The
# ids are those of the demo's run: on your own data, take them from the table above.

# %%
MERGE_INTO, RENAME, DROP = {}, {}, []  # your own data: fill in ids from the table above
if demo is not None:
    MERGE_INTO = {"Security guarantees": [6]}  # named narrative -> ids of narratives folded into it
    RENAME = {11: "EU aid to Ukraine and its critics"}  # id -> new name
    DROP = [14]  # ids whose paragraphs go to unassigned

with nv.Store(WORK_DIR / "narrative.duckdb") as store:
    suggested = nv.suggested_codebook(store, fit.run_id, examples=2)["narratives"]
pd.DataFrame(suggested, columns=["id", "name", "kind", "description"])

# %% [markdown]
# The edits, written into a copy of the codebook: the named entries with the merge added, then
# the suggested entries, renamed or marked `drop`; the entry of a narrative merged into another
# is deleted (its paragraphs now belong to the other).

# %%
import yaml

document = nv.codebook_document(codebook)  # the codebook as its YAML document
merged = {i for ids in MERGE_INTO.values() for i in ids}
for entry in document["narratives"]:
    if entry["name"] in MERGE_INTO:
        entry["merge"] = MERGE_INTO[entry["name"]]
for entry in suggested:
    if entry["id"] in RENAME:
        entry["name"] = RENAME[entry["id"]]
    if entry["id"] in DROP:
        entry["drop"] = True
document["narratives"] += [entry for entry in suggested if entry["id"] not in merged]
CURATED = WORK_DIR / "curated-codebook.yaml"
CURATED.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")

edited = [{k: e[k] for k in ("name", "id", "kind", "merge", "drop") if k in e} for e in document["narratives"]
          if e.get("merge") or e.get("drop") or e.get("id") in RENAME]
print(f"# {CURATED} (the edited entries)")
print(yaml.safe_dump({"narratives": edited}, sort_keys=False, allow_unicode=True))

# %% [markdown]
# Fitting with the curated codebook applies the edits to the saved run without refitting (the
# model reads the named entries' descriptions and examples, which did not change): a new run, in
# `update` mode, nothing embedded, every other narrative keeping its id. Each edit is recorded in
# the run's lineage.

# %%
curated = nv.load_codebook(CURATED)
with nv.Store(WORK_DIR / "narrative.duckdb") as store:
    applied = nv.fit_run(store, settings=settings, codebook=curated)
    lineage = pd.DataFrame(store.run(applied.run_id)["stats"].get("lineage", []))  # none: nothing edited
of_run = f" of run {fit.run_id}" if applied.mode == "update" else ""  # "reused" when run again
print(f"run {applied.run_id}: {applied.mode}{of_run}, {applied.n_embedded} paragraphs embedded")
lineage

# %% [markdown]
# The narratives before and after the round, by id: 6 is folded into *Security guarantees* (1),
# 11 keeps its id under its new name, and 14's paragraphs are unassigned (-1).

# %%
columns = ["narrative_id", "label", "kind", "size"]
before_after = fit.narratives[columns].merge(
    applied.narratives[columns], on="narrative_id", how="outer", suffixes=(" before", " after")
)
before_after["size after"] = before_after["size after"].fillna(0).astype(int)
before_after.set_index("narrative_id")

# %% [markdown]
# Notebooks 2.01 and 3.01 use the shipped codebook (`CODEBOOK`), so they reuse the first run;
# point `CODEBOOK` at the curated file to follow the curated narratives instead. The run id hashes
# the codebook: the curated run sits beside the first one in the store, and a later build with
# the same curated codebook reuses it.

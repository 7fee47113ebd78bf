"""The report's methods: compact facts of the run, then tables a researcher checks and cites.

Methods lead with what repeats the run (command line, input files and their SHA-256, seed,
model, versions) and the settings that differ from the defaults; the codebook and the full list
of settings follow in the appendix, as tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..config import Settings
from .model import Section, Table
from .text import count, pct

__all__ = [
    "all_settings_section",
    "codebook_section",
    "model_section",
    "outliers_sentence",
    "run_facts",
    "settings_section",
]


def _value(name: str, value: object) -> str:
    """A setting's value as the table shows it (None is "auto" where it means chosen by the run)."""
    if value is None:
        return "auto" if name == "min_cluster_size" else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def _defaults() -> dict[str, Any]:
    return Settings().to_dict()


def changed_settings(settings: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(name, value, default) of each stored setting that differs from :class:`Settings`'s
    default, by name."""
    defaults = _defaults()
    return [(k, _value(k, v), _value(k, defaults.get(k)) if k in defaults else "\u2013")
            for k, v in sorted(settings.items()) if k not in defaults or defaults[k] != v]


def _files(provenance: Mapping[str, Any]) -> str:
    files = provenance.get("files") or {}
    if not files:
        return "none besides the articles"
    return "; ".join(f"{role} {f.get('name')} (SHA-256 {f.get('sha256')})"
                     for role, f in files.items() if isinstance(f, Mapping))


def run_facts(run_id: str, run: Mapping[str, Any], stats: Any, timings: Mapping[str, float],
              *, reused: tuple[int, int]) -> dict[str, object]:
    """The facts that identify and repeat a run, each on one line."""
    settings = run.get("settings") or {}
    provenance = stats.provenance or {}
    not_recorded = "not recorded (a run stored before commands were recorded, or a library call)"
    n_codebook = len(stats.codebook)
    model = str(settings.get("embedding_model", "?"))
    if settings.get("precision", "fp32") != "fp32":
        model += f" ({settings['precision']})"
    changed = len(changed_settings(settings))
    facts: dict[str, object] = {
        "Run": run_id,
        "Command": provenance.get("command") or not_recorded,
        "Input files": _files(provenance) if provenance else not_recorded,
        "Input fingerprint": run.get("input_fingerprint"),
        "Codebook": (f"{count(n_codebook, 'narrative')}, hash {run.get('codebook_hash')} "
                     "(listed in the appendix)" if n_codebook else
                     f"hash {run.get('codebook_hash')}"),
        "Seed": run.get("seed"),
        "Embedding model": model,
        "Settings": ((f"{changed} differ from the defaults (table below)" if changed > 1 else
                      "1 differs from the defaults (table below)" if changed else
                      "all at their defaults")
                     + f"; all {len(settings)} are listed in the appendix"),
        "Versions": " \u00b7 ".join(f"{k} {v}" for k, v in (run.get("versions") or {}).items()),
    }
    if timings:
        facts["Stage wall times"] = " \u00b7 ".join(f"{k} {v:.1f} s" for k, v in timings.items())
    facts["Reused from the last report"] = (f"{reused[0]} of {reused[1]} figures and scores "
                                            "(inputs unchanged)")
    return facts


def settings_section(settings: Mapping[str, Any]) -> tuple[Section, list[Table]]:
    """The settings of the run that differ from the defaults, as a table."""
    rows = changed_settings(settings)
    title = "Settings that differ from the defaults"
    if not rows:
        return Section("settings", title, ["Every setting is at its default."]), []
    table = Table(key="settings-changed", title="Changed settings", columns=["setting", "value", "default"],
                  rows=[list(r) for r in rows])
    return Section("settings", title, [], [], [table.key]), [table]


def all_settings_section(settings: Mapping[str, Any]) -> tuple[Section, list[Table]]:
    """Every setting of the run, its default and whether it differs."""
    defaults = _defaults()
    rows = [[k, _value(k, v), _value(k, defaults.get(k)) if k in defaults else "\u2013",
             "yes" if k not in defaults or defaults[k] != v else ""]
            for k, v in sorted(settings.items())]
    table = Table(key="settings-all", title="Every setting with its default", rows=rows,
                  columns=["setting", "value", "default", "differs"])
    text = ["Every setting of the run by its name in a config file (narrative.config.Settings)."]
    return Section("all-settings", "All settings", text, [], [table.key]), [table]


def codebook_section(codebook: list[Mapping[str, Any]]) -> tuple[Section, list[Table]]:
    """The codebook's narratives, descriptions and seed terms as one table."""
    title = "Codebook"
    if not codebook:
        return Section("codebook", title, ["The run recorded no codebook."]), []
    table = Table(key="codebook", title="The codebook's narratives",
                  columns=["narrative", "description", "seed terms"],
                  rows=[[str(c.get("name")), c.get("description") or None,
                         ", ".join(map(str, c.get("seeds") or [])) or None] for c in codebook])
    return Section("codebook", title, [], [], [table.key]), [table]


def outliers_sentence(settings: Mapping[str, Any], n_unassigned: int, n_paragraphs: int) -> str:
    """How the paragraphs the clustering left as outliers were handled, and how many stayed."""
    threshold = settings.get("assign_min_similarity")
    if settings.get("outliers", "reduce") == "keep":
        how = ("Outliers kept: a paragraph the clustering (HDBSCAN) leaves as an outlier stays "
               "unassigned unless it matches a codebook narrative")
    else:
        how = ("Outliers reduced: a paragraph the clustering (HDBSCAN) leaves as an outlier joins "
               f"its nearest narrative when their cosine similarity is at least {threshold}")
    left = (f"; {count(n_unassigned, 'paragraph')} ({pct(n_unassigned / n_paragraphs)}) "
            f"{'stays' if n_unassigned == 1 else 'stay'} unassigned" if n_unassigned else
            "; no paragraph is left unassigned")
    return how + left + " (setting outliers)."


def model_section(stats: Any, settings: Mapping[str, Any], narratives: pd.DataFrame,
                  n_paragraphs: int) -> tuple[Section, list[Table]]:
    """How the model was fitted: texts, cluster size, narratives found, outliers."""
    chosen = ("chosen from the corpus size" if settings.get("min_cluster_size") is None
              else "as set")
    kinds = narratives["kind"].value_counts()
    unassigned = int(narratives.loc[narratives["kind"] == "unassigned", "size"].sum())
    text = [
        f"Mode {stats.mode}: fitted on {count(stats.n_fit_sample or stats.n_distinct_texts, 'distinct paragraph text')} "
        f"of {count(stats.n_model_paragraphs or n_paragraphs, 'paragraph')}; HDBSCAN minimum "
        f"cluster size {stats.min_cluster_size} ({chosen}); "
        f"{count(int(kinds.get('named', 0)), 'named narrative')}, "
        f"{count(int(kinds.get('discovered', 0)), 'discovered narrative')} and "
        f"{count(stats.n_subnarratives, 'sub-narrative')}.",
        outliers_sentence(settings, unassigned, max(n_paragraphs, 1)),
    ]
    return Section("model", "Model", text), []

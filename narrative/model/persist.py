"""Save and load a fitted NarrativeModel without pickle: safetensors + JSON + a sha256 manifest.

What is saved is what assignment needs (the narrative centroids, the codebook description vectors
and, for ``outliers="keep"``, each narrative's radius) and what reports need (the narratives table,
parameters, codebook). A model saved before radii existed has no ``outliers`` parameter and loads
as ``"reduce"``, the rule it was fitted with. Loading verifies every file's hash before parsing it,
refuses any directory holding a file that could execute code when loaded (pickle, joblib, torch
``.bin``/``.pt``), and never imports BERTopic or touches the network.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..codebook import codebook_document
from ..errors import ConfigError, ModelFileError
from ..io import (CODE_SUFFIXES, from_the_os, fsync_dir, output_error, remove_stale_temporaries,
                 temp_prefix)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CONFIG = "model.json"
TENSORS = "centroids.safetensors"
ALLOWED = {MANIFEST, CONFIG, TENSORS}
#: Suffixes of formats that can run code on load; a model directory holding one is refused.
UNSAFE_SUFFIXES = CODE_SUFFIXES



def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def save_model(model, path: str | Path) -> Path:
    """Write ``model`` (fitted) to the directory ``path``, atomically (temp dir + rename).

    The files are written and fsynced in a hidden ``.<name>.<pid>.<random>.tmp`` folder beside
    ``path``, which is then renamed into place; temporaries left by a killed process are removed.
    """
    from safetensors.numpy import save as save_tensors

    model._check_fitted()
    path = Path(path)
    narratives = model.narratives_.copy()
    config = {
        "format_version": FORMAT_VERSION,
        "params": model.get_params(),
        "codebook": None
        if model.codebook is None
        else codebook_document(model.codebook)["narratives"],
        "embedding_model": getattr(model.embedder, "model_id", None),
        **({} if model.codebook is None else {
            f"codebook_{k}": v for k, v in codebook_document(model.codebook).items()
            if k != "narratives"}),
        "narratives": json.loads(narratives.to_json(orient="records", force_ascii=False)),
    }
    arrays = {
        "centroids": np.ascontiguousarray(model.centroids_, dtype=np.float32),
        "centroid_ids": np.ascontiguousarray(model.centroid_ids_, dtype=np.int64),
    }
    anchors = getattr(model, "anchors_", None)
    if anchors is not None and len(anchors):  # codebook description vectors: part of the rule
        arrays["anchors"] = np.ascontiguousarray(anchors, dtype=np.float32)
        arrays["anchor_ids"] = np.ascontiguousarray(model.anchor_ids_, dtype=np.int64)
    rule = getattr(model, "acceptance_", None)
    if rule is not None:  # the named narratives' acceptance: part of the rule
        config["acceptance"] = {"patterns": list(rule.patterns),
                                "background_margin": rule.background_margin,
                                "competitor_margin": rule.competitor_margin}
        for name in _RULE_ARRAYS:
            value = getattr(rule, name)
            arrays[f"acceptance_{name}"] = np.ascontiguousarray(
                value, dtype=np.float32 if value.dtype.kind == "f" else np.int64)
    radii = getattr(model, "radii_", None)
    if radii is not None:  # outliers="keep": how far out each narrative takes new paragraphs
        arrays["radii"] = np.ascontiguousarray(radii, dtype=np.float32)
    subtable = getattr(model, "subnarratives_", None)
    if subtable is not None and len(subtable):
        config["subnarratives"] = json.loads(subtable.to_json(orient="records", force_ascii=False))
        arrays["subcentroids"] = np.ascontiguousarray(model.subcentroids_, dtype=np.float32)
        arrays["subcentroid_keys"] = np.ascontiguousarray(model.subcentroid_keys_, dtype=np.int64)
    tensors = save_tensors(arrays)
    try:
        return _write_model(path, config, tensors)
    except OSError as exc:  # a full or read-only disk: one line naming the folder
        if not from_the_os(exc):
            raise
        raise output_error(path, exc) from exc


#: The arrays of :class:`narrative.model.acceptance.AcceptanceRule`, saved as ``acceptance_<name>``.
_RULE_ARRAYS = ("ids", "thresholds", "prototypes", "prototype_owner", "negatives", "negative_owner")


def _load_rule(tensors: dict, config: dict, path: Path):
    """The saved acceptance rule, checked, or None for a model saved before it existed."""
    from .acceptance import AcceptanceRule

    saved = config.get("acceptance")
    arrays = {name: tensors.get(f"acceptance_{name}") for name in _RULE_ARRAYS}
    if saved is None and all(a is None for a in arrays.values()):
        return None
    k = None if arrays["ids"] is None else len(arrays["ids"])
    if (not isinstance(saved, dict) or any(a is None for a in arrays.values())
            or len(arrays["thresholds"]) != k or len(saved.get("patterns") or []) != k
            or len(arrays["prototype_owner"]) != len(arrays["prototypes"])
            or len(arrays["negative_owner"]) != len(arrays["negatives"])):
        raise ModelFileError(f"{path}: the named narratives' acceptance rule is incomplete")
    return AcceptanceRule(
        ids=arrays["ids"].astype(int), thresholds=arrays["thresholds"].astype(np.float32),
        patterns=tuple(saved["patterns"]),
        prototypes=arrays["prototypes"].astype(np.float32),
        prototype_owner=arrays["prototype_owner"].astype(int),
        negatives=arrays["negatives"].astype(np.float32).reshape(len(arrays["negative_owner"]), -1),
        negative_owner=arrays["negative_owner"].astype(int),
        background_margin=float(saved["background_margin"]),
        competitor_margin=float(saved["competitor_margin"]),
    )


def _write_model(path: Path, config: dict, tensors: bytes) -> Path:
    """Write the three files into a temporary folder beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)  # folders left by a save that was killed midway
    old = path.with_name(f".{path.name}.old")
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent))
    try:
        _write_file(tmp / CONFIG, json.dumps(config, indent=1, sort_keys=True, ensure_ascii=False).encode())
        _write_file(tmp / TENSORS, tensors)
        manifest = {"format_version": FORMAT_VERSION,
                    "files": {name: _sha256(tmp / name) for name in (CONFIG, TENSORS)}}
        _write_file(tmp / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
        fsync_dir(tmp)
        if path.exists():
            # Two renames: a kill between them leaves no model at ``path`` and the old one at
            # ``.<name>.old``, which the loader never reads and the next save removes.
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
            tmp.rename(path)
        else:
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(path.parent)
    shutil.rmtree(old, ignore_errors=True)
    return path


def _check_directory(path: Path) -> dict:
    if not path.is_dir():
        raise ModelFileError(f"{path}: no such model directory")
    names = {p.name for p in path.iterdir()}
    unsafe = sorted(n for n in names if Path(n).suffix.lower() in UNSAFE_SUFFIXES)
    if unsafe:
        raise ModelFileError(
            f"{path}: refusing to load a model directory holding {', '.join(unsafe)} "
            "(pickle-like files can run code); narrative models are safetensors + JSON only"
        )
    unexpected = sorted(names - ALLOWED)
    if unexpected:
        raise ModelFileError(f"{path}: unexpected file(s) {', '.join(unexpected)} in a model directory")
    if MANIFEST not in names:
        raise ModelFileError(f"{path}: {MANIFEST} is missing; not a narrative model directory")
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path / MANIFEST}: unreadable ({exc})") from exc
    if not isinstance(manifest, dict):
        raise ModelFileError(f"{path / MANIFEST}: expected a JSON object")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format {manifest.get('format_version')!r} is not {FORMAT_VERSION}")
    files = manifest.get("files") or {}
    for name in (CONFIG, TENSORS):
        if name not in files:
            raise ModelFileError(f"{path / MANIFEST}: no hash for {name}")
        if not (path / name).is_file():
            raise ModelFileError(f"{path / name}: missing")
        if _sha256(path / name) != files[name]:
            raise ModelFileError(f"{path / name}: sha256 does not match the manifest (truncated or tampered)")
    return manifest


def _read_config(path: Path) -> dict:
    """The model's JSON config, checked for the keys the loader needs and their types: a manifest
    that matches proves only that the files belong together, not that they make sense."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ModelFileError(f"{path}: not a readable JSON model config ({exc})") from exc
    if (
        not isinstance(config, dict)
        or not isinstance(config.get("params"), dict)
        or not isinstance(config.get("narratives"), list)
    ):
        raise ModelFileError(f"{path}: expected a JSON object with 'params' and 'narratives'")
    config["params"] = _checked_params(config["params"], path)
    for key in ("narratives", "subnarratives"):
        _check_rows(config.get(key, []), key, path)
    for key in ("codebook", "subnarratives"):
        if not isinstance(config.get(key, []), (list, type(None))):
            raise ModelFileError(f"{path}: '{key}' must be a list; got {type(config[key]).__name__}")
    if not isinstance(config.get("embedding_model"), (str, type(None))):
        raise ModelFileError(f"{path}: 'embedding_model' must be a text or null")
    return config


#: The :class:`~narrative.config.Settings` field each model parameter comes from, where the names
#: differ; ``refine_iter`` is no setting: a whole number >= 0.
_SETTING_OF_PARAM = {"random_state": "seed", "refine_iter": None}


def _checked_params(params: dict, path: Path) -> dict:
    """The saved model parameters, each checked like the setting it comes from (names this
    version does not know are left to the constructor, which refuses them)."""
    from ..config import Settings, check_setting

    settings = {f.name for f in dataclasses.fields(Settings)}
    checked = dict(params)
    for name, value in params.items():
        setting = _SETTING_OF_PARAM.get(name, name)
        try:
            if name == "random_state" and value is None:
                continue
            if setting in settings:
                checked[name] = check_setting(setting, value)
            elif name in _SETTING_OF_PARAM and (
                    isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ConfigError(f"{name} must be a whole number >= 0; got {value!r}")
        except ConfigError as exc:
            raise ModelFileError(f"{path}: parameter {exc}") from exc
    return checked


#: The type of each column of the saved narratives and sub-narratives tables the loader uses.
_ROW_TYPES = {"narrative_id": int, "sub_id": int, "label": str, "size": int}


def _check_rows(rows: object, key: str, path: Path) -> None:
    """Every row of a saved table is an object whose known columns have their type."""
    if not isinstance(rows, list):
        return  # reported by the caller
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ModelFileError(f"{path}: {key}[{i}] must be an object; got {type(row).__name__}")
        for column, kind in _ROW_TYPES.items():
            value = row.get(column)
            if column in row and value is not None and (
                    isinstance(value, bool) or not isinstance(value, kind)):
                raise ModelFileError(f"{path}: {key}[{i}].{column} must be "
                                     f"{'a whole number' if kind is int else 'a text'}; got {value!r}")
        if key == "narratives" and not {"narrative_id", "label"} <= row.keys():
            raise ModelFileError(f"{path}: {key}[{i}] needs 'narrative_id' and 'label'")


def _radii(radii: np.ndarray | None, outliers: object, k: int, path: Path) -> np.ndarray | None:
    """The saved narrative radii, checked against the model's outlier strategy and centroids."""
    if outliers == "reduce":
        if radii is not None:
            raise ModelFileError(f"{path / TENSORS}: radii saved for a model with outliers='reduce'")
        return None
    if radii is None or radii.shape != (k,):
        raise ModelFileError(f"{path / TENSORS}: expected {k} radii (one per centroid) for a model "
                             "with outliers='keep'")
    return radii.astype(np.float32)


def load_model(path: str | Path, *, embedder=None):
    """Load a model saved by :func:`save_model`; every check passes before anything is built."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as load_tensors

    from ..codebook import parse_codebook
    from . import NarrativeModel

    path = Path(path)
    _check_directory(path)
    config = _read_config(path / CONFIG)
    try:
        tensors = load_tensors((path / TENSORS).read_bytes())
    except (SafetensorError, ValueError) as exc:
        raise ModelFileError(f"{path / TENSORS}: not a valid safetensors file ({exc})") from exc
    centroids, ids = tensors.get("centroids"), tensors.get("centroid_ids")
    if centroids is None or ids is None or centroids.ndim != 2 or len(ids) != len(centroids):
        raise ModelFileError(f"{path / TENSORS}: expected centroids (k × dim) and k centroid_ids")
    codebook = None
    if config.get("codebook"):
        document = {"narratives": config["codebook"]}
        for key in ("background", "acceptance"):
            if config.get(f"codebook_{key}") is not None:
                document[key] = config[f"codebook_{key}"]
        codebook = parse_codebook(document, source=str(path / CONFIG))
    try:
        model = NarrativeModel(codebook, embedder=embedder, **config["params"])
    except TypeError as exc:  # a parameter this version does not know
        raise ModelFileError(f"{path / CONFIG}: parameters do not fit this narrative ({exc})") from exc
    model.centroids_ = centroids.astype(np.float32)
    model.centroid_ids_ = ids.astype(int)
    model.radii_ = _radii(tensors.get("radii"), model.outliers, len(ids), path)
    model.acceptance_ = _load_rule(tensors, config, path / CONFIG)
    model.narratives_ = pd.DataFrame(config["narratives"])
    anchors, anchor_ids = tensors.get("anchors"), tensors.get("anchor_ids")
    if anchors is not None or anchor_ids is not None:
        if (anchors is None or anchor_ids is None or anchors.ndim != 2
                or len(anchor_ids) != len(anchors) or anchors.shape[1] != centroids.shape[1]):
            raise ModelFileError(f"{path / TENSORS}: expected anchors (k × dim) and k anchor_ids")
        model.anchors_ = anchors.astype(np.float32)
        model.anchor_ids_ = anchor_ids.astype(int)
    subcentroids, subkeys = tensors.get("subcentroids"), tensors.get("subcentroid_keys")
    if subcentroids is not None or subkeys is not None:
        if (subcentroids is None or subkeys is None or subcentroids.ndim != 2
                or subkeys.shape != (len(subcentroids), 2)
                or subcentroids.shape[1] != centroids.shape[1]):
            raise ModelFileError(f"{path / TENSORS}: expected subcentroids (m × dim) and m × 2 "
                                 "subcentroid_keys")
        model.subcentroids_ = subcentroids.astype(np.float32)
        model.subcentroid_keys_ = subkeys.astype(int)
        model.subnarratives_ = pd.DataFrame(config.get("subnarratives", []))
    return model

"""Model folders that could run code, or are cut short or tampered with, are refused before use.

tests/test_persist.py plants a pickle as model.pkl / .pickle / pytorch_model.bin / .joblib / .npy and
in place of model.json; this battery covers every other name the loaders might open: the remaining
pickle-like suffixes, the names of the real files (with the manifest rewritten to match, as an
attacker who controls the folder would), and the embedding model's folder. A saved model is made
by hand (centroids and a narratives table), so no fit is needed.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from narrative.model.persist import ModelFileError, load_model, save_model

from .conftest import REPO, hand_made_model


class Payload:
    """Unpickling this creates ``sentinel``: proof that a loader ran a pickle."""

    def __init__(self, sentinel: Path):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


def _evil_pickle(sentinel: Path) -> bytes:
    return pickle.dumps(Payload(sentinel))


@pytest.fixture
def saved(tmp_path) -> Path:
    path = save_model(hand_made_model(), tmp_path / "models" / "run")
    assert load_model(path).centroids_.shape == (3, 8)  # the untouched folder loads
    return path


def _rehash(folder: Path) -> None:
    """Rewrite the manifest so its hashes match the files now in the folder."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("name", [
    "weights.pt", "weights.pth", "model.ckpt", "arrays.npz", "model.dill", "model.sav",
    "model.cloudpickle", "MODEL.PKL", "Weights.Bin", "centroids.safetensors.pkl",
])
def test_pickle_under_any_pickle_like_name_is_refused_and_never_run(saved, tmp_path, name):
    sentinel = tmp_path / "pwned"
    (saved / name).write_bytes(_evil_pickle(sentinel))
    with pytest.raises(ModelFileError, match="refusing"):
        load_model(saved)
    assert not sentinel.exists()


@pytest.mark.parametrize("name", ["centroids.safetensors", "model.json", "manifest.json"])
@pytest.mark.parametrize("rehash", [False, True], ids=["stale-manifest", "matching-manifest"])
def test_pickle_in_place_of_a_real_file_is_refused_and_never_run(saved, tmp_path, name, rehash):
    sentinel = tmp_path / "pwned"
    (saved / name).write_bytes(_evil_pickle(sentinel))
    if rehash and name != "manifest.json":
        _rehash(saved)
    with pytest.raises(ModelFileError) as error:
        load_model(saved)
    assert str(saved) in str(error.value), "the message names the folder"
    assert not sentinel.exists()


@pytest.mark.parametrize("extra", [".hidden.pkl", "sub/model.pkl", "notes.txt"])
def test_anything_beside_the_three_files_is_refused(saved, tmp_path, extra):
    sentinel = tmp_path / "pwned"
    target = saved / extra
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(_evil_pickle(sentinel))
    with pytest.raises(ModelFileError):
        load_model(saved)
    assert not sentinel.exists()


@pytest.mark.parametrize("cut", [0, 7, 64, -1])
def test_truncated_safetensors_fails_clearly_even_with_a_matching_manifest(saved, cut):
    tensors = saved / "centroids.safetensors"
    data = tensors.read_bytes()
    tensors.write_bytes(data[:cut] if cut >= 0 else data[: len(data) - 5])
    with pytest.raises(ModelFileError, match="sha256 does not match"):
        load_model(saved)
    _rehash(saved)
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_model(saved)


def test_safetensors_with_the_wrong_tensors_fails_clearly(saved):
    from safetensors.numpy import save

    (saved / "centroids.safetensors").write_bytes(
        save({"centroids": np.zeros((3, 8), np.float32), "centroid_ids": np.arange(2, dtype=np.int64)})
    )
    _rehash(saved)
    with pytest.raises(ModelFileError, match="expected centroids"):
        load_model(saved)


def test_safetensors_header_claiming_more_data_than_the_file_holds_fails_clearly(saved):
    tensors = saved / "centroids.safetensors"
    data = tensors.read_bytes()
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_len])
    header["centroids"]["data_offsets"][1] += 4096  # points past the end of the file
    raw = json.dumps(header).encode()
    tensors.write_bytes(len(raw).to_bytes(8, "little") + raw + data[8 + header_len :])
    _rehash(saved)
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_model(saved)


def test_model_config_with_unknown_parameters_fails_clearly(saved):
    config = json.loads((saved / "model.json").read_text())
    config["params"]["__class__"] = "os.system"
    (saved / "model.json").write_text(json.dumps(config))
    _rehash(saved)
    with pytest.raises(ModelFileError, match="parameters"):
        load_model(saved)


@pytest.mark.slow
def test_embedding_model_folder_with_a_pickled_bin_never_runs_it(tmp_path):
    """A local sentence-transformers folder whose weights are a pickle: refused, never executed."""
    from narrative.embed.sentence import SentenceEmbedder, packaged_model_path

    folder = tmp_path / "evil-model"
    shutil.copytree(packaged_model_path(), folder,
                    ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "*.onnx", "onnx", "openvino"))
    sentinel = tmp_path / "pwned"
    (folder / "pytorch_model.bin").write_bytes(_evil_pickle(sentinel))
    with pytest.raises(Exception) as error:
        SentenceEmbedder(str(folder))
    assert not sentinel.exists(), "loading the embedding model ran a pickle"
    assert "weights_only" in str(error.value) or "pickle" in str(error.value).lower() or "Unpickl" in type(error.value).__name__, (
        f"unclear error: {type(error.value).__name__}: {error.value}"
    )


@pytest.mark.parametrize("where, value, named", [
    (("params", "assign_min_similarity"), "high", "assign_min_similarity must be"),
    (("params", "random_state"), -5, "seed must be"),
    (("params", "umap_neighbors"), 1.5, "umap_neighbors must be"),
    (("params", "zeroshot_min_similarity"), float("nan"), "zeroshot_min_similarity must be"),
    (("params", "guided"), "yes", "guided must be"),
    (("params", "refine_iter"), "2", "refine_iter must be"),
    (("params", "outliers"), "drop", "outliers must be one of"),
    (("narratives",), [1, 2, 3], "narratives[0] must be an object"),
    (("narratives",), [{"narrative_id": "0", "label": "a"}], "narratives[0].narrative_id"),
    (("narratives",), [{"narrative_id": 0, "label": 7}], "narratives[0].label"),
    (("narratives",), [{"narrative_id": 0}], "needs 'narrative_id' and 'label'"),
    (("subnarratives",), {"a": 1}, "'subnarratives' must be a list"),
    (("embedding_model",), 5, "'embedding_model' must be"),
])
def test_model_config_with_bad_types_fails_clearly_even_with_a_matching_manifest(saved, where, value,
                                                                                  named):
    """A model.json edited by hand (or by an attacker) and re-hashed: each value is checked like
    the setting it comes from, before the model is built (issue 24, case 8)."""
    config = json.loads((saved / "model.json").read_text())
    target = config
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    (saved / "model.json").write_text(json.dumps(config))
    _rehash(saved)
    with pytest.raises(ModelFileError) as error:
        load_model(saved)
    assert str(saved / "model.json") in str(error.value)
    assert named in str(error.value)


def test_embedding_model_folder_with_a_pickled_bin_is_refused_before_any_library_opens_it(tmp_path):
    """Fast twin of the test above: refused by name, torch and sentence-transformers untouched."""
    import subprocess
    import sys

    folder = tmp_path / "evil-model"
    (folder / "2_Dense").mkdir(parents=True)
    (folder / "modules.json").write_text("[]")
    sentinel = tmp_path / "pwned"
    (folder / "2_Dense" / "pytorch_model.bin").write_bytes(_evil_pickle(sentinel))
    code = ("import sys\nfrom narrative.embed.sentence import SentenceEmbedder\n"
            "from narrative.errors import ModelFileError\n"
            "try:\n    SentenceEmbedder(sys.argv[1])\n"
            "except ModelFileError as exc:\n    print(exc)\n"
            "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True,
                         check=True, timeout=120, cwd=REPO).stdout.splitlines()
    assert out[0].startswith(f"{folder}: refusing to load an embedding model folder holding "
                             "2_Dense/pytorch_model.bin")
    assert out[1] == "False False", "nothing was imported to read it"
    assert not sentinel.exists()

"""A BERT sentence encoder in plain torch: the forward pass of sentence-transformers, without its imports.

Importing sentence-transformers pulls in transformers, scikit-learn and much of torch's compiler
stack: on 2 cores that takes longer than embedding a day's new articles.
For a checkpoint that is a BERT encoder followed by mean pooling (and normalisation), such as the
packaged all-MiniLM-L6-v2, this module runs the same computation with torch, ``tokenizers`` and
``safetensors`` alone: the tokenizer from the checkpoint's ``tokenizer.json``
with sentence-transformers' truncation (``max_seq_length``) and padding, the embedding sum, the
encoder layers (scaled dot-product attention, exact GELU, post-layer-norm) and the masked mean.

``tests/test_embed_bert.py`` holds its vectors to sentence-transformers' own. Any checkpoint this
module does not recognise (:func:`supports` is False) goes through sentence-transformers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"


def _read_json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def supports(path: Path) -> bool:
    """True if ``path`` is a sentence-transformers folder this encoder computes exactly: modules
    Transformer → mean Pooling (→ Normalize), a plain BERT (absolute positions, GELU), and
    ``model.safetensors`` + ``tokenizer.json`` beside them."""
    modules = _read_json(path / "modules.json")
    if not isinstance(modules, list) or not modules:
        return False
    types = [m.get("type") for m in modules]
    if types not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]):
        return False
    if modules[0].get("path") not in ("", "."):
        return False
    pooling = _read_json(path / modules[1].get("path", "") / "config.json") or {}
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if modes != {"pooling_mode_mean_tokens"}:
        return False
    config = _read_json(path / "config.json") or {}
    return (
        config.get("model_type") == "bert"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and config.get("hidden_act") == "gelu"
        and (path / "model.safetensors").is_file()
        and (path / "tokenizer.json").is_file()
    )


class BertEncoder:
    """Unit-length sentence vectors of a BERT checkpoint (see the module docstring)."""

    def __init__(self, path: Path):
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        config = _read_json(path / "config.json") or {}
        st_config = _read_json(path / "sentence_bert_config.json") or {}
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.lower_case = bool(st_config.get("do_lower_case", False))
        max_length = int(st_config.get("max_seq_length") or config["max_position_embeddings"])
        max_length = min(max_length, int(config["max_position_embeddings"]))

        weights = load_file(str(path / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
        self.w = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
        self._bf16: dict | None = None  # the dense layers' weights, cast once for bf16 autocast
        self.dim = self.hidden
        self._torch = torch

        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # sentence-transformers' settings, not those saved in tokenizer.json (which may pad or cut
        # to another length): cut at max_seq_length; batches are padded to their longest text
        # (encode_ids), so texts can be tokenized once and batched by their token counts.
        self.tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
        self.tokenizer.no_padding()
        self.pad_id = int(config.get("pad_token_id", 0))

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids, cut at the model's maximum length, unpadded."""
        cleaned = [str(t).strip() for t in texts]  # as sentence-transformers' Transformer does
        if self.lower_case:
            cleaned = [t.lower() for t in cleaned]
        return [e.ids for e in self.tokenizer.encode_batch(cleaned)]

    def encode_ids(self, ids: Sequence[Sequence[int]]):
        """float32 numpy array, one unit-length row per token-id list, in input order (one
        batch, padded to its longest list)."""
        torch = self._torch
        length = max(len(row) for row in ids)
        tokens = np.full((len(ids), length), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(ids), length), dtype=np.int64)
        for i, row in enumerate(ids):
            tokens[i, : len(row)] = row
            mask[i, : len(row)] = 1
        with torch.inference_mode():
            vectors = self._forward(torch.from_numpy(tokens), torch.from_numpy(mask))
        return vectors.float().numpy()

    def encode(self, texts: Sequence[str]):
        """float32 numpy array, one unit-length row per text, in input order (one batch)."""
        return self.encode_ids(self.token_ids(texts))

    def _dense_weights(self) -> dict:
        """The weights to multiply by: under bf16 autocast, the dense layers' weights cast to bf16
        once (autocast casts them the same way, but again in every call); layer norms and
        embeddings stay float32, as autocast computes them. The vectors are bit-identical."""
        torch = self._torch
        if not (torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16):
            return self.w
        if self._bf16 is None:
            dense = (".query.", ".key.", ".value.", ".dense.")
            self._bf16 = {k: v.to(torch.bfloat16) if k.startswith("encoder.") and any(d in k for d in dense)
                          else v for k, v in self.w.items()}
        return self._bf16

    def _forward(self, ids, mask):
        import torch.nn.functional as F

        w, h, heads = self._dense_weights(), self.hidden, self.heads
        batch, length = ids.shape
        head_dim = h // heads

        def linear(x, name):
            return F.linear(x, w[f"{name}.weight"], w[f"{name}.bias"])

        def norm(x, name):
            return F.layer_norm(x, (h,), w[f"{name}.weight"], w[f"{name}.bias"], self.eps)

        def split(x):
            return x.view(batch, length, heads, head_dim).transpose(1, 2)

        x = F.embedding(ids, w["embeddings.word_embeddings.weight"])
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = x + w["embeddings.position_embeddings.weight"][:length]
        x = norm(x, "embeddings.LayerNorm")
        # Attend to real tokens only; batches of equal token counts (the usual case) have no
        # padding, and attention runs faster without a mask.
        keep = None if bool(mask.all()) else mask.bool()[:, None, None, :]
        for i in range(self.layers):
            layer = f"encoder.layer.{i}"
            q = split(linear(x, f"{layer}.attention.self.query"))
            k = split(linear(x, f"{layer}.attention.self.key"))
            v = split(linear(x, f"{layer}.attention.self.value"))
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
            context = context.transpose(1, 2).reshape(batch, length, h)
            x = norm(linear(context, f"{layer}.attention.output.dense") + x,
                     f"{layer}.attention.output.LayerNorm")
            inner = F.gelu(linear(x, f"{layer}.intermediate.dense"))
            x = norm(linear(inner, f"{layer}.output.dense") + x, f"{layer}.output.LayerNorm")
        weight = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * weight).sum(dim=1) / weight.sum(dim=1).clamp(min=1e-9)
        return F.normalize(pooled.float(), p=2, dim=1)

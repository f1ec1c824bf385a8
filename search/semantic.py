"""Meaning on top of BM25F: the shared encoder, vector packing and score fusion.

This module imports nothing beyond the standard library, so the rest of the package (and the
forum) can ask `available()` and fuse scores without the optional extra; only `shared_encoder`
imports `search.embedding` (numpy, tokenizers, safetensors, threadpoolctl), and only when the
extra is installed.

Fusion: BM25F proposes candidates; each candidate also gets the cosine similarity of its
vector to the query's. Both score lists are standardised per query (z-scores: minus their
mean, over their standard deviation; a list whose scores are all equal standardises to zeros)
and combined as ``(1 - w) * z(bm25) + w * z(cosine)``. The weights below were chosen on the
SemEval-2016 dev split only (docs/search.md, "Meaning").
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
import os
import sys
import threading
from array import array
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from search.document import Document
from search.query import ParsedQuery

if TYPE_CHECKING:  # pragma: no cover
    from search.embedding import Encoder

__all__ = [
    "EXTRA_MODULES",
    "FULL_WEIGHTS",
    "TITLE_WEIGHTS",
    "FusionWeights",
    "available",
    "Texts",
    "cosine",
    "cosines",
    "document_texts",
    "query_text",
    "reads_as_sentence",
    "SENTENCE_MIN_WORDS",
    "vector_fingerprint",
    "fuse",
    "model_location",
    "pack",
    "shared_encoder",
    "SentenceEncoder",
    "standardise",
    "unpack",
]

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

EXTRA_MODULES = ("numpy", "tokenizers", "safetensors", "threadpoolctl")
ENV_MODEL = "FORUM_EMBEDDING_MODEL"
ENV_THREADS = "FORUM_EMBEDDING_THREADS"


@dataclass(frozen=True)
class FusionWeights:
    """How much meaning counts: `weight` of the cosine against BM25F, and within the cosine the
    `answer_share` of the answers' vector against the title-and-body vector."""

    weight: float
    answer_share: float


# Chosen on the SemEval-2016 dev split only (grid 0.4..0.8 x 0..0.5; docs/search.md, "Meaning"):
# a bare title (similar as you type) and a title with its body (related questions).
TITLE_WEIGHTS = FusionWeights(weight=0.8, answer_share=0.0)
FULL_WEIGHTS = FusionWeights(weight=0.7, answer_share=0.35)


#: A search-box query of this many words (or ending in "?") reads as a sentence, not keywords.
SENTENCE_MIN_WORDS = 4


def reads_as_sentence(parsed: ParsedQuery) -> bool:
    """Whether a search-box query is a sentence ("why does my hub drop off every night?") that
    meaning may re-rank, rather than keywords or operators a searcher means literally: no
    phrase, no ``OR``, no ``-word``, and at least `SENTENCE_MIN_WORDS` words or a question mark.
    Filters (``tag:``, ``is:``) do not count either way."""
    if parsed.excluded or any(len(clause) > 1 or clause[0].phrase for clause in parsed.clauses):
        return False
    words = [w for w in parsed.raw.split() if ":" not in w]
    return len(words) >= SENTENCE_MIN_WORDS or (bool(words) and parsed.raw.rstrip().endswith("?"))


def available() -> bool:
    """True when the `semantic` extra's libraries are importable (nothing is imported)."""
    for name in EXTRA_MODULES:
        if name in sys.modules:
            if sys.modules[name] is None:  # blocked on purpose (tests do this)
                return False
            continue
        try:
            if importlib.util.find_spec(name) is None:
                return False
        except (ImportError, ValueError):
            return False
    return True


def model_location(configured: str | None = None) -> Path | None:
    """Where the model is: `configured`, else `FORUM_EMBEDDING_MODEL`, else the packaged copy.

    Returns None when none is set and the packaged model is not installed (or the extra is not).
    """
    chosen = configured or os.environ.get(ENV_MODEL)
    if chosen:
        return Path(chosen)
    if not available():
        return None
    from search.embedding import packaged_model_path

    return packaged_model_path()


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class SentenceEncoder(Protocol):
    """What the forum asks of an encoder: `search.embedding.Encoder` in this process, or
    `search.encoding_service.RemoteEncoder` asking the one process per host that holds the model.

    `encode` gives one unit-length float32 row per text; each row has ``tolist()`` and
    ``astype("<f4").tobytes()`` (a numpy row in-process, a `search.encoding_service.Vector` from
    the service). `manifest.name` goes into the vectors' fingerprints. Both raise
    `search.errors.SearchError` subclasses when they cannot encode.
    """

    @property
    def manifest(self) -> _Named: ...

    def encode(self, texts: Sequence[str]) -> Any: ...


_lock = threading.Lock()
_encoders: dict[tuple[Path, int], Encoder] = {}


def shared_encoder(configured: str | None = None, threads: int | None = None) -> Encoder | None:
    """The process's one encoder for the configured model, loaded (and verified) on first use.

    Returns None when the extra is not installed or there is no model: search then works on
    BM25F alone. `threads` defaults to `FORUM_EMBEDDING_THREADS`, else 1.

    Raises:
        search.embedding.EmbeddingError: a model is configured but cannot be loaded (missing
            files, no manifest, a checksum mismatch); callers log it and go on without meaning.
    """
    if not available():
        return None
    location = model_location(configured)
    if location is None:
        return None
    count = threads or int(os.environ.get(ENV_THREADS, "1") or 1)
    with _lock:
        encoder = _encoders.get((location, count))
        if encoder is None:
            from search.embedding import load_encoder

            encoder = load_encoder(location, threads=count)
            log.info("embedding model %s loaded from %s (%s, %s)", encoder.manifest.name, location,
                     encoder.manifest.licence, encoder.manifest.sha256.get("model.safetensors", "")[:12])
            _encoders[(location, count)] = encoder
        return encoder


def pack(vector: Sequence[float]) -> bytes:
    """A vector as little-endian float32 bytes (what the index and the database store)."""
    packed = array("f", (float(x) for x in vector))
    if sys.byteorder != "little":  # pragma: no cover
        packed.byteswap()
    return packed.tobytes()


def unpack(blob: bytes) -> array[float]:
    """The float32 vector `pack` wrote."""
    values = array("f")
    values.frombytes(blob)
    if sys.byteorder != "little":  # pragma: no cover
        values.byteswap()
    return values


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0 when either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


def cosines(query: Sequence[float], vectors: Sequence[Sequence[float]]) -> list[float]:
    """`cosine` of `query` to each of `vectors`, in plain Python but fast: about 25 µs a
    384-wide vector (a third of `cosine`'s), for processes without numpy (a web worker whose
    encoding service holds the model). The dot product comes from C-implemented norms and
    distances (``a.b = (|a|² + |b|² - |a-b|²) / 2``), in float64: within 1e-8 of numpy's float32
    product, plenty to rank by."""
    nq = math.hypot(*query)
    found = []
    for vector in vectors:
        nv = math.hypot(*vector)
        if not (nq and nv):
            found.append(0.0)
            continue
        gap = math.dist(query, vector)
        found.append((nq * nq + nv * nv - gap * gap) / (2.0 * nq * nv))
    return found


def standardise(scores: Sequence[float]) -> list[float]:
    """z-scores: (score - mean) / population standard deviation; all zeros when they are all equal."""
    if not scores:
        return []
    mean = sum(scores) / len(scores)
    spread = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
    if spread < 1e-12:
        return [0.0] * len(scores)
    return [(s - mean) / spread for s in scores]


def fuse(lexical: Mapping[K, float], full: Mapping[K, float], answers: Mapping[K, float],
         weights: FusionWeights) -> dict[K, float]:
    """Fused scores for every key of `lexical` (its BM25F scores).

    `full` and `answers` hold each candidate's cosine to the query (title-and-body vector,
    answers vector). Meaning is ``(1 - a) * z(full) + a * z(answers)``; the result is
    ``(1 - w) * z(lexical) + w * z(meaning)``. A key missing from a cosine map (no vector yet)
    takes the lowest cosine of the others there, so what it lacks neither lifts nor drops it.

    Raises:
        ValueError: a weight is outside 0..1.
    """
    if not (0.0 <= weights.weight <= 1.0 and 0.0 <= weights.answer_share <= 1.0):
        raise ValueError("fusion weights must be between 0 and 1")
    keys = list(lexical)

    def column(scores: Mapping[K, float]) -> list[float]:
        known = [scores[k] for k in keys if k in scores]
        floor = min(known) if known else 0.0
        return standardise([scores.get(k, floor) for k in keys])

    share = weights.answer_share
    meaning = standardise([(1.0 - share) * f + share * a for f, a in zip(column(full), column(answers))])
    w = weights.weight
    return {k: (1.0 - w) * lex + w * sem for k, lex, sem in zip(keys, standardise([lexical[k] for k in keys]), meaning)}


ANSWER_CHARS = 2000  # the model reads 256 tokens at most; this is comfortably more


@dataclass(frozen=True)
class Texts:
    """What is encoded for one document: its title, its title with its body, its answers."""

    title: str
    full: str
    answers: str


def document_texts(doc: Document) -> Texts:
    """The texts whose vectors a document keeps; `answers` is the accepted answer, else all
    answers (cut to `ANSWER_CHARS`), "" when there is none (no answers vector is stored)."""
    answers = (doc.accepted or doc.answers).strip()[:ANSWER_CHARS]
    title = doc.title.strip()
    return Texts(title=title, full=f"{title}\n{doc.body.strip()}".strip(), answers=answers)


def vector_fingerprint(doc: Document, model: str) -> str:
    """What a document's vectors were computed from: the model's name and the encoded texts
    (not votes or counts, which change no vector), hashed; `search.vectors.stale` compares it."""
    texts = document_texts(doc)
    digest = hashlib.sha256("\x1f".join((model, texts.title, texts.full, texts.answers)).encode("utf-8"))
    return digest.hexdigest()[:32]


def query_text(title: str, body: str = "") -> str:
    """The text encoded for a query: the title, with the body when there is one (as `document_texts` does)."""
    return f"{title.strip()}\n{body.strip()}".strip()

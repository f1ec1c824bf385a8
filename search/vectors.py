"""Where each document's vectors are kept, beside its search document, and re-ranking with them.

A `VectorRow` holds a document's vectors (title; title and body; answers: the accepted answer,
else all answers) as float32 bytes, with the `search.semantic.vector_fingerprint` of the model
and texts they were computed from, so a check can tell a stale row from a current one (`stale`)
and a vote (which changes no text) costs no encoding. Two stores:

* `SqliteVectorStore`: the Whoosh backend's side store, one SQLite file beside the index
  (``vectors.sqlite3`` in the index directory; in memory for an in-memory index);
* `PgVectorStore`: table ``search_vectors`` of the PostgreSQL backend's database (bytea columns;
  no vector index: this database has no pgvector, and re-ranking reads only the candidates'
  rows by key).

`rerank` orders BM25F's candidates by the fused score (`search.semantic.fuse`). Standard
library and SQLAlchemy only: no numpy, so this module is importable without the extra.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from search import semantic
from search.document import Document
from search.errors import SearchError
from search.results import Hit

__all__ = ["VECTOR_TABLE", "PgVectorStore", "SqliteVectorStore", "VectorRow", "VectorStore", "rerank", "stale", "vectors_for"]

SIDE_STORE_FILE = "vectors.sqlite3"
VECTOR_TABLE = "search_vectors"  # not an ORM model: migrations/env.py leaves it out of comparisons


@dataclass(frozen=True)
class VectorRow:
    """One document's vectors (packed float32) and the fingerprint of the text they encode."""

    key: str
    fingerprint: str
    title: bytes
    full: bytes
    answers: bytes | None = None


class VectorStore(Protocol):
    """Vectors by document key. Methods raise `SearchError` when the store cannot be used."""

    def put(self, rows: Iterable[VectorRow]) -> None:
        """Add or replace rows by key."""
        ...

    def get(self, keys: Iterable[str]) -> dict[str, VectorRow]:
        """The rows of those keys that exist."""
        ...

    def delete(self, keys: Iterable[str]) -> None:
        """Remove rows by key; unknown keys are ignored."""
        ...

    def clear(self) -> None:
        """Remove every row (before a rebuild)."""
        ...

    def fingerprints(self) -> dict[str, str]:
        """``{key: fingerprint}`` of every row."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def vectors_for(docs: Sequence[Document], encoder: semantic.SentenceEncoder) -> list[VectorRow]:
    """Encode `docs` (in the encoder's batches): the work the job queue does after a commit."""
    texts = [semantic.document_texts(d) for d in docs]
    titles = encoder.encode([t.title for t in texts])
    full = encoder.encode([t.full for t in texts])
    answered = [i for i, t in enumerate(texts) if t.answers]
    answers = dict(zip(answered, encoder.encode([texts[i].answers for i in answered])))
    model = encoder.manifest.name
    return [
        VectorRow(key=d.key, fingerprint=semantic.vector_fingerprint(d, model), title=titles[i].astype("<f4").tobytes(),
                  full=full[i].astype("<f4").tobytes(),
                  answers=answers[i].astype("<f4").tobytes() if i in answers else None)
        for i, d in enumerate(docs)
    ]


def stale(index: Mapping[str, str], vectors: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Compare fingerprints: (keys whose vectors are missing or older than the index's
    document, keys with vectors but no document), each sorted."""
    missing = sorted(k for k, fp in index.items() if vectors.get(k) != fp)
    orphans = sorted(set(vectors) - set(index))
    return missing, orphans


def rerank(hits: Sequence[Hit], query: Sequence[float], store: VectorStore,
           weights: semantic.FusionWeights) -> list[Hit]:
    """BM25F's `hits` in fused order, each with its fused score. Candidates without vectors
    take the lowest cosine of the others (`fuse`); with none at all the order is BM25F's.

    Raises:
        SearchError: the store cannot be read.
    """
    if len(hits) < 2:
        return list(hits)
    rows = store.get(h.key for h in hits)
    if not rows:
        return list(hits)
    full = _cosines(query, {k: r.full for k, r in rows.items()})
    answers = _cosines(query, {k: r.answers for k, r in rows.items() if r.answers})
    fused = semantic.fuse({h.key: h.score for h in hits}, full, answers, weights)
    ranked = sorted(hits, key=lambda h: -fused[h.key])  # stable: ties keep BM25F's order
    return [dataclasses.replace(h, score=fused[h.key]) for h in ranked]


def _cosines(query: Sequence[float], blobs: Mapping[str, bytes]) -> dict[str, float]:
    """Cosine of `query` to each packed vector: one numpy product when this process has loaded
    numpy anyway (the in-process model did; about 0.1 ms for 30 vectors), plain Python
    otherwise (`semantic.cosines`, about 1 ms): a web worker that leaves encoding to the encoding service
    (search.encoding_service) saves the 21 MiB numpy would add to it."""
    if not blobs:
        return {}
    np = sys.modules.get("numpy")
    if np is None:
        return dict(zip(blobs, semantic.cosines(query, [semantic.unpack(b) for b in blobs.values()])))
    matrix = np.frombuffer(b"".join(blobs.values()), dtype="<f4").reshape(len(blobs), -1)
    vector = np.asarray(query, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(vector))
    scores = (matrix @ vector) / np.where(norms > 0, norms, 1.0)
    return {k: float(x) for k, x in zip(blobs, scores)}


class SqliteVectorStore:
    """The Whoosh backend's side store: one SQLite file (WAL, so several processes may read
    while one writes), or memory when `path` is None. Thread-safe (one lock per store)."""

    def __init__(self, path: Path | None) -> None:
        """Open (creating) the store.

        Raises:
            SearchError: the file cannot be opened or created.
        """
        try:
            self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False, timeout=10.0)
            if path:
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, "
                             "title BLOB NOT NULL, full BLOB NOT NULL, answers BLOB)")
            self._db.commit()
        except sqlite3.Error as error:
            raise SearchError(f"cannot open the vector store {path}: {error}") from error
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, index_dir: str | Path | None) -> SqliteVectorStore:
        """The side store of the Whoosh index in `index_dir` (None: in memory)."""
        return cls(Path(index_dir) / SIDE_STORE_FILE if index_dir else None)

    def put(self, rows: Iterable[VectorRow]) -> None:
        """Add or replace rows by key (one transaction)."""
        values = [(r.key, r.fingerprint, r.title, r.full, r.answers) for r in rows]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)", values)

    def get(self, keys: Iterable[str]) -> dict[str, VectorRow]:
        """The rows of those keys that exist."""
        wanted = list(dict.fromkeys(keys))
        out: dict[str, VectorRow] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._db.execute(f"SELECT key, fingerprint, title, full, answers FROM vectors "
                                            f"WHERE key IN ({marks})", chunk):
                    out[row[0]] = VectorRow(*row)
        return out

    def delete(self, keys: Iterable[str]) -> None:
        """Remove rows by key."""
        with self._lock, self._db:
            self._db.executemany("DELETE FROM vectors WHERE key = ?", [(k,) for k in keys])

    def clear(self) -> None:
        """Remove every row."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM vectors")

    def fingerprints(self) -> dict[str, str]:
        """``{key: fingerprint}`` of every row."""
        with self._lock:
            return dict(self._db.execute("SELECT key, fingerprint FROM vectors"))

    def close(self) -> None:
        """Close the file."""
        self._db.close()


PG_DDL = ("CREATE TABLE IF NOT EXISTS search_vectors (key text PRIMARY KEY, fingerprint text NOT NULL, "
          "title bytea NOT NULL, \"full\" bytea NOT NULL, answers bytea)")


class PgVectorStore:
    """Table ``search_vectors`` in the PostgreSQL backend's database (created if missing)."""

    def __init__(self, engine: Engine, *, owns_engine: bool = False) -> None:
        """Wrap `engine`, creating the table if missing.

        Raises:
            SearchError: not PostgreSQL, or the table cannot be created.
        """
        if engine.dialect.name != "postgresql":
            raise SearchError("the PostgreSQL vector store needs a PostgreSQL database")
        self._engine = engine
        self._owns_engine = owns_engine
        try:
            with engine.begin() as conn:
                conn.execute(text(PG_DDL))
        except DBAPIError as error:
            raise SearchError(f"cannot create search_vectors: {error}") from error

    @classmethod
    def open(cls, url: str) -> PgVectorStore:
        """A store on the database at `url` (tools, tests).

        Raises:
            SearchError: see `__init__`.
        """
        url = url.replace("postgresql://", "postgresql+psycopg://", 1).replace("postgres://", "postgresql+psycopg://", 1)
        return cls(create_engine(url), owns_engine=True)

    def put(self, rows: Iterable[VectorRow]) -> None:
        """Add or replace rows by key (one transaction)."""
        values = [dataclasses.asdict(r) for r in rows]
        if not values:
            return
        with self._engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO search_vectors (key, fingerprint, title, \"full\", answers) "
                "VALUES (:key, :fingerprint, :title, :full, :answers) ON CONFLICT (key) DO UPDATE SET "
                "fingerprint = excluded.fingerprint, title = excluded.title, \"full\" = excluded.\"full\", "
                "answers = excluded.answers"), values)

    def get(self, keys: Iterable[str]) -> dict[str, VectorRow]:
        """The rows of those keys that exist (one statement)."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        with self._engine.connect() as conn:
            rows = conn.execute(text("SELECT key, fingerprint, title, \"full\", answers FROM search_vectors "
                                     "WHERE key = ANY(:keys)"), {"keys": wanted}).all()
        return {r[0]: VectorRow(r[0], r[1], bytes(r[2]), bytes(r[3]), bytes(r[4]) if r[4] is not None else None)
                for r in rows}

    def delete(self, keys: Iterable[str]) -> None:
        """Remove rows by key."""
        gone = list(keys)
        if gone:
            with self._engine.begin() as conn:
                conn.execute(text("DELETE FROM search_vectors WHERE key = ANY(:keys)"), {"keys": gone})

    def clear(self) -> None:
        """Remove every row."""
        with self._engine.begin() as conn:
            conn.execute(text("DELETE FROM search_vectors"))

    def fingerprints(self) -> dict[str, str]:
        """``{key: fingerprint}`` of every row."""
        with self._engine.connect() as conn:
            return {str(k): str(fp) for k, fp in conn.execute(text("SELECT key, fingerprint FROM search_vectors"))}

    def close(self) -> None:
        """Dispose of the engine if this store created it."""
        if self._owns_engine:
            self._engine.dispose()

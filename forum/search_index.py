"""The search index of one app: opened lazily, one handle per process, and read safely.

Sits below both its users: ``services/search.py`` reads through `reading`, and
``search_sync.py`` (which keeps the index in step with the database) writes through
`get_index`. A service never imports ``search_sync``.

``SEARCH_BACKEND`` picks the index: "whoosh" (files in ``SEARCH_INDEX_DIR``, the default) or
"postgres" (`search.postgres.PgSearchIndex`: tables in the app's PostgreSQL database, so web
hosts share no disk). Both satisfy `search.protocol.SearchBackend`.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import Connection

from search import encoding_service, semantic
from search.encoding_service import RemoteEncoder
from search.errors import SearchError
from search.index import SearchIndex
from search.postgres import SEARCH_TABLES, PgSearchIndex
from search.protocol import SearchBackend
from search.semantic import SentenceEncoder
from search.vectors import VECTOR_TABLE, PgVectorStore, SqliteVectorStore, VectorStore

from .extensions import db
from .services.errors import ServiceError

log = logging.getLogger(__name__)
#: Query vectors each app remembers (`query_vector`): 384 float32 each (1.5 KiB), 1.5 MiB in all,
#: plus their texts (a typed title; on the ask page a title and at most 2,000 characters of body).
QUERY_VECTORS = 1_024


class IndexHandle:
    """The index of one app, opened lazily (one per process)."""

    def __init__(self, app: Flask) -> None:
        """Read the app's search settings.

        Raises:
            ValueError: an unknown SEARCH_BACKEND, "postgres" over a database that is not PostgreSQL,
                or an EMBEDDING_SERVICE that is neither ``unix:PATH`` nor ``HOST:PORT``.
        """
        self.path: str | None = app.config["SEARCH_INDEX_DIR"] or None
        if self.path == ":memory:":
            self.path = None
        self.backend: str = app.config.get("SEARCH_BACKEND") or "whoosh"
        if self.backend not in BACKENDS:
            raise ValueError(f"SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        # Fail at start-up, not on the first search: the postgres backend needs the app's database to be one.
        if self.in_database and not str(app.config.get("SQLALCHEMY_DATABASE_URI") or "").startswith("postgres"):
            raise ValueError("SEARCH_BACKEND=postgres needs a PostgreSQL database (FORUM_DATABASE_URL=postgresql://...)")
        self.cache_budget = int(app.config["SEARCH_CACHE_MIB"]) * 1024 * 1024
        self._index: SearchBackend | None = None
        self._lock = threading.Lock()
        # The encoding service (search.encoding_service): when set, this process never loads the
        # model, so it needs none of the extra's libraries either.
        self.service: str | None = app.config.get("EMBEDDING_SERVICE") or None
        self.service_timeout = float(app.config.get("EMBEDDING_SERVICE_TIMEOUT") or encoding_service.DEFAULT_TIMEOUT)
        self.service_key = service_key(app)
        self.semantic = bool(app.config.get("SEMANTIC_SEARCH")) and (self.service is not None or semantic.available())
        self.embedding_model: str | None = app.config.get("EMBEDDING_MODEL") or None
        self.embedding_threads = int(app.config.get("EMBEDDING_THREADS") or 1)
        self._vectors: VectorStore | None = None
        self._encoder_failed = False
        self._remote: dict[bool, RemoteEncoder] = {}
        self._query_vectors: OrderedDict[str, Any] = OrderedDict()  # text -> its row, least recent first
        self._query_lock = threading.Lock()
        if self.service is not None:
            self._client(bulk=False)  # a malformed address fails at start-up, not on the first search

    @property
    def in_database(self) -> bool:
        """True when the index is tables of the app's database (written in the writer's transaction)."""
        return self.backend == "postgres"

    @property
    def index(self) -> SearchBackend:
        """The index, opened on first use (needs an app context for the postgres backend).

        Raises:
            SearchError: the Whoosh files cannot be opened, or the database is not PostgreSQL.
        """
        if self._index is None:
            with self._lock:
                if self._index is None:
                    if self.in_database:
                        self._index = PgSearchIndex(db.engine, reader=_session_connection)
                    else:
                        self._index = SearchIndex.open(self.path, cache_budget=self.cache_budget)
        return self._index

    def encoder(self, bulk: bool = False) -> SentenceEncoder | None:
        """The process's encoder when meaning is on and a model loads; None otherwise (a model
        that fails to load or to verify is logged once and meaning stays off in this process).

        With EMBEDDING_SERVICE set, a client of the encoding service and never the model: its
        `encode` raises `EncoderUnavailable` (a SearchError) when the service fails, which the
        callers treat as "no meaning this time". `bulk` asks for the background writers' client
        (a longer timeout: batches of posts); in-process it is the same encoder.
        """
        if not self.semantic or self._encoder_failed:
            return None
        if self.service is not None:
            return self._client(bulk)
        try:
            return semantic.shared_encoder(self.embedding_model, self.embedding_threads)
        except SearchError:
            self._encoder_failed = True
            log.exception("embedding model not loaded: related questions and similar titles use BM25F alone")
            return None

    def query_vector(self, encoder: SentenceEncoder, text: str) -> list[float]:
        """``text``'s vector from ``encoder`` (this handle's own), remembered for the next asker.

        A text's vector never changes for one model, and on a bad day many people type the
        same title into the ask form ("hub offline"), each pause asking for similar questions:
        the model ran once per request (50 ms of CPU on a slow day). The QUERY_VECTORS most
        recently asked are kept; a failed encode is not.

        Raises what ``encoder.encode`` raises (`EncoderUnavailable` when the encoding service fails).
        """
        with self._query_lock:
            row = self._query_vectors.get(text)
            if row is not None:
                self._query_vectors.move_to_end(text)
        if row is None:
            row = encoder.encode([text])[0]
            with self._query_lock:
                self._query_vectors[text] = row
                while len(self._query_vectors) > QUERY_VECTORS:
                    self._query_vectors.popitem(last=False)
        vector: list[float] = row.tolist()
        return vector

    def _client(self, bulk: bool) -> RemoteEncoder:
        client = self._remote.get(bulk)
        if client is None:
            assert self.service is not None
            with self._lock:
                client = self._remote.get(bulk)
                if client is None:
                    timeout = encoding_service.BULK_TIMEOUT if bulk else self.service_timeout
                    client = RemoteEncoder(self.service, self.service_key, timeout=timeout)
                    self._remote[bulk] = client
        return client

    @property
    def vectors(self) -> VectorStore:
        """The vector store beside the index: a SQLite file in the Whoosh index directory (memory
        for an in-memory index), or table search_vectors with the postgres backend.

        Raises:
            SearchError: the store cannot be opened.
        """
        if self._vectors is None:
            with self._lock:
                if self._vectors is None:
                    self._vectors = (PgVectorStore(db.engine) if self.in_database
                                     else SqliteVectorStore.beside(self.path))
        return self._vectors

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        if self._vectors is not None:
            self._vectors.close()
            self._vectors = None


BACKENDS = ("whoosh", "postgres")


@contextmanager
def _session_connection() -> Iterator[Connection]:
    """Reads of the postgres backend run on the request's own connection, so a request never
    holds two pooled connections; outside an app context, on a pooled one."""
    if has_app_context():
        yield db.session.connection()
    else:  # pragma: no cover - the handle is only used inside app contexts
        with db.engine.connect() as conn:
            yield conn


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's hook: leave the postgres search backend's tables (not ORM models) out of comparisons."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return not (reflected and compare_to is None and (table in SEARCH_TABLES or table == VECTOR_TABLE))


def get_handle(app: Flask | None = None) -> IndexHandle:
    return (app or current_app).extensions["search"]


class SearchUnavailable(ServiceError):
    """The index cannot be read (outdated schema, unreadable files): 503 until rebuilt."""

    status = 503


def service_key(app: Flask) -> str:
    """The encoding service's key: EMBEDDING_SERVICE_KEY, else derived from SECRET_KEY (which
    every host shares already), so the service and its clients agree without another secret."""
    return str(app.config.get("EMBEDDING_SERVICE_KEY") or
               encoding_service.service_key(str(app.config.get("SECRET_KEY") or "")))


def meaning(bulk: bool = False) -> tuple[SentenceEncoder, VectorStore] | None:
    """The encoder and vector store when meaning is on in this app (and the model loaded), else
    None. `bulk`: for background writers (see `IndexHandle.encoder`)."""
    handle = get_handle()
    encoder = handle.encoder(bulk)
    return (encoder, handle.vectors) if encoder is not None else None


def query_vector(encoder: SentenceEncoder, text: str) -> list[float]:
    """`IndexHandle.query_vector` of this app. Raises what ``encoder.encode`` raises."""
    return get_handle().query_vector(encoder, text)


def get_index() -> SearchBackend:
    """This app's index, opened on first use. Raises SearchError when its files cannot be opened."""
    return get_handle().index


@contextmanager
def reading() -> Iterator[SearchBackend]:
    """The index for a read; a SearchError becomes SearchUnavailable (a friendly 503)."""
    try:
        yield get_index()
    except SearchError as exc:
        log.error("search unavailable: %s", exc)
        raise SearchUnavailable("Search is temporarily unavailable. Browse by tag meanwhile; "
                                "the team has been told.") from exc


def init_app(app: Flask) -> None:
    app.extensions["search"] = IndexHandle(app)

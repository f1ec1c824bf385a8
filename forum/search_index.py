"""The search index of one app: opened lazily, one handle per process, and read safely.

Sits below both its users: ``services/search.py`` reads through `reading`, and
``search_sync.py`` (which keeps the index in step with the database) writes through
`get_index`. A service never imports ``search_sync``.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app

from search.errors import SearchError
from search.index import SearchIndex

from .services.errors import ServiceError

log = logging.getLogger(__name__)


class IndexHandle:
    """The index of one app, opened lazily (one per process)."""

    def __init__(self, app: Flask) -> None:
        self.path: str | None = app.config["SEARCH_INDEX_DIR"] or None
        if self.path == ":memory:":
            self.path = None
        self.cache_budget = int(app.config["SEARCH_CACHE_MIB"]) * 1024 * 1024
        self._index: SearchIndex | None = None
        self._lock = threading.Lock()

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = SearchIndex.open(self.path, cache_budget=self.cache_budget)
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None


def get_handle(app: Flask | None = None) -> IndexHandle:
    return (app or current_app).extensions["search"]


class SearchUnavailable(ServiceError):
    """The index cannot be read (outdated schema, unreadable files): 503 until rebuilt."""

    status = 503


def get_index() -> SearchIndex:
    """This app's index, opened on first use. Raises SearchError when its files cannot be opened."""
    return get_handle().index


@contextmanager
def reading() -> Iterator[SearchIndex]:
    """The index for a read; a SearchError becomes SearchUnavailable (a friendly 503)."""
    try:
        yield get_index()
    except SearchError as exc:
        log.error("search unavailable: %s", exc)
        raise SearchUnavailable("Search is temporarily unavailable. Browse by tag meanwhile; "
                                "the team has been told.") from exc


def init_app(app: Flask) -> None:
    app.extensions["search"] = IndexHandle(app)

"""`SearchBackend`: what the forum asks of a search index, whichever engine holds it.

Two classes satisfy it: `search.index.SearchIndex` (Whoosh files on one host's disk, the
embedded default) and `search.postgres.PgSearchIndex` (tables in the forum's PostgreSQL
database, so several web hosts share one index and no disk). Both take the same query
language (`search.query`), the same filters, paging bounds and sorts, and return the same
`SearchResults` with the same escaped snippets; the contract tests in ``tests/search`` run
against both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

from search.document import Document
from search.results import Hit, SearchResults

__all__ = ["SearchBackend"]


@runtime_checkable
class SearchBackend(Protocol):
    """A search index of `Document`s.

    Every method may raise `search.errors.SearchError` when the index cannot be read or
    written (missing tables, unreadable files); writes may raise `IndexBusy` when another
    writer held the index past the write timeout.
    """

    kinds: frozenset[str]

    @property
    def schema_is_current(self) -> bool:
        """False when the index must be rebuilt (built by an older schema, or not created)."""
        ...

    def search(
        self,
        query: str,
        *,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 20,
        kinds: Sequence[str] | None = None,
        tags: Sequence[str] = (),
        solved: bool | None = None,
    ) -> SearchResults:
        """One page of hits for a query in the forum query language; never raises for its text."""
        ...

    def similar(
        self,
        title: str,
        *,
        limit: int = 5,
        exclude: Iterable[str] = (),
        body: str = "",
        only: Iterable[str] | None = None,
    ) -> list[Hit]:
        """Up to `limit` posts most like `title` (+ `body`), never those in `exclude`."""
        ...

    def fingerprints(self) -> dict[str, str]:
        """``{key: Document.fingerprint()}`` of every indexed document."""
        ...

    def __len__(self) -> int:
        """The number of indexed documents."""
        ...

    def upsert(self, docs: Iterable[Document]) -> None:
        """Add or replace documents by key."""
        ...

    def delete(self, keys: Iterable[str]) -> None:
        """Remove documents by key; unknown keys are ignored."""
        ...

    def rebuild(self, docs: Iterable[Document], progress: Callable[[int], None] | None = None) -> int:
        """Replace the whole index with `docs`; return how many were indexed."""
        ...

    def close(self) -> None:
        """Release what the index holds (searchers, connections)."""
        ...

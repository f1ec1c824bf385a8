"""Result value objects returned by `SearchIndex`; plain data, safe to cache or pickle."""

from __future__ import annotations

from dataclasses import dataclass

from search.document import make_key
from search.query import ParsedQuery

__all__ = ["Hit", "SearchResults"]


@dataclass(frozen=True)
class Hit:
    """One matching post.

    `title_html` and `snippet_html` are safe HTML: the post's text escaped, with only
    ``<mark>`` elements added around matched words.  `score` is the BM25F relevance
    (0.0 when results are sorted by date or votes).  Callers must still check that
    the post exists and is visible to the user before showing it.
    """

    kind: str
    id: int
    score: float
    title_html: str
    snippet_html: str

    @property
    def key(self) -> str:
        """The index key, e.g. ``"question:12"``."""
        return make_key(self.kind, self.id)


@dataclass(frozen=True)
class SearchResults:
    """One page of search results.

    Attributes:
        hits: this page's hits, best first.
        total: number of matching posts (all pages).
        page: the page returned (the requested one, clamped to 1..pages).
        per_page: hits per page (clamped to 1..`MAX_PER_PAGE`).
        pages: number of pages, at most `MAX_PAGE`.
        tag_counts: (tag, count) over the whole result set, most frequent first.
        suggestion: a corrected query string ("did you mean"), or None.
        parsed: the parsed query, so the UI can show the active filters.
        relaxed: True when no post contained every word and the hits are posts
            containing only some of them (shown as "partial matches").
    """

    hits: list[Hit]
    total: int
    page: int
    per_page: int
    pages: int
    tag_counts: list[tuple[str, int]]
    suggestion: str | None
    parsed: ParsedQuery
    relaxed: bool = False

    @property
    def keys(self) -> list[str]:
        """The keys of `hits`, in rank order (for loading rows from the database)."""
        return [hit.key for hit in self.hits]
